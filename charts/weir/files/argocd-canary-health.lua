-- Argo CD health check for Weir's Canary (weir.dev/v1alpha1). Install it as the
-- resource customisation `resource.customizations.health.weir.dev_Canary` in
-- argocd-cm (docs/gitops.md). Argo CD runs it with Lua 5.1 and an `obj` global.
--
--   Progressing  Weir has not seen this generation yet, or a release is in flight
--   Suspended    spec.suspend is true, or the release waits at a gate
--   Degraded     the last release was rolled back, or Weir cannot act on the Canary
--   Healthy      the last release was promoted (or the Canary is initialised)
local hs = {}

local function condition(kind)
  if obj.status == nil or obj.status.conditions == nil then
    return nil
  end
  for _, c in ipairs(obj.status.conditions) do
    if c.type == kind then
      return c
    end
  end
  return nil
end

local function say(status, message)
  hs.status = status
  hs.message = message
  return hs
end

if obj.status == nil or obj.status.observedGeneration == nil then
  return say("Progressing", "Waiting for Weir to observe the Canary")
end
local generation = obj.metadata.generation or 0
if obj.status.observedGeneration < generation then
  return say("Progressing", "Waiting for Weir to observe generation " .. generation)
end

local stalled = condition("Stalled")
if stalled ~= nil and stalled.status == "True" then
  return say("Degraded", (stalled.reason or "Stalled") .. ": " .. (stalled.message or ""))
end
if obj.spec ~= nil and obj.spec.suspend == true then
  return say("Suspended", "The Canary is suspended (spec.suspend)")
end
local phase = obj.status.phase or ""
if phase == "Waiting" or phase == "WaitingPromotion" then
  return say("Suspended", phase .. ": the release waits at a gate (weir.dev/approve or its webhook)")
end
local reconciling = condition("Reconciling")
if reconciling ~= nil and reconciling.status == "True" then
  return say("Progressing", reconciling.message or phase)
end
local ready = condition("Ready")
if ready ~= nil and ready.status == "True" then
  return say("Healthy", ready.message or phase)
end
if ready ~= nil and ready.status == "False" then
  return say("Degraded", (ready.reason or phase) .. ": " .. (ready.message or ""))
end
return say("Progressing", "Waiting for Weir: phase " .. phase)
