import { describe, expect, it } from 'vitest';
import { observe, type Caches } from '../../../src/controller/observe.js';
import { RouterRegistry } from '../../../src/routers/registry.js';
import { canaryWith } from '../routers/fixtures.js';

/** Caches of a controller started without --statefulsets and --knative. */
const withoutOptionalWatches: Caches = {
  canary: () => undefined,
  deployment: () => undefined,
  daemonSet: () => undefined,
  configMap: () => undefined,
  secret: () => undefined,
};

const observed = (kind: string, apiVersion: string) => {
  const canary = canaryWith({});
  canary.spec.targetRef = { apiVersion, kind: kind as never, name: 'podinfo' };
  return observe(canary, {
    caches: withoutOptionalWatches,
    routers: new RouterRegistry(),
    defaultProvider: 'gatewayapi',
    invalidity: () => undefined,
  });
};

describe('observe, target kinds the controller does not watch', () => {
  it('blocks a StatefulSet Canary without --statefulsets, saying how to turn it on', () => {
    expect(observed('StatefulSet', 'apps/v1')).toEqual({
      reason: 'StatefulSetsDisabled',
      message: expect.stringMatching(
        /start it with --statefulsets \(Helm: targets.statefulSets=true\)/,
      ) as string,
    });
  });

  it('blocks a Knative Canary without --knative, saying how to turn it on', () => {
    expect(observed('Service', 'serving.knative.dev/v1')).toEqual({
      reason: 'KnativeDisabled',
      message: expect.stringMatching(
        /start it with --knative \(Helm: routers.knative=true\)/,
      ) as string,
    });
  });

  it('looks a Deployment up as before: not found is TargetNotFound', () => {
    expect(observed('Deployment', 'apps/v1')).toMatchObject({ reason: 'TargetNotFound' });
  });
});
