/**
 * Weir's main job on an embedded default: the whole release story on a laptop.
 * A local control plane, a data plane (Traefik as the Gateway API implementation, the
 * pods as processes on their pod IPs, Prometheus), a Slack-compatible receiver and the
 * Weir controller; then a Git server and Flux, which applies each commit pushed to it:
 * v1 bootstraps, v2 is promoted step by step, v3 (30 % errors) is rolled back, all under
 * steady load through the gateway. Prints progress, the split the gateway made, the Slack
 * messages and each release's timeline, then stops everything (or keeps it running with
 * --keep until Ctrl-C).
 *
 * Usage: hack/demo.sh [--keep] [--exit-after SECONDS]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { app, namespace, setUpStory, type Story } from './demo/story.js';
import { toolPath } from '../test/harness/tools.js';

const { values } = parseArgs({
  options: { keep: { type: 'boolean' }, 'exit-after': { type: 'string' } },
});
const exitAfterMs = values['exit-after'] ? Number(values['exit-after']) * 1000 : undefined;
const say = (msg: string) => console.log(`weir-demo: ${msg}`);
let story: Story | undefined;
let stopping: Promise<void> | undefined;

async function stopAll(reason: string): Promise<void> {
  stopping ??= (async () => {
    say(`${reason}: stopping everything ...`);
    await story?.stop();
    say('stopped; nothing left running');
  })();
  return stopping;
}
// If the terminal or a pipe reading our output goes away first (Ctrl-C hits the
// whole pipeline), writes fail with EPIPE; clean-up must still run to the end.
process.stdout.on('error', () => undefined);
process.stderr.on('error', () => undefined);
process.on('SIGINT', () => void stopAll('Ctrl-C').then(() => process.exit(0)));
process.on('SIGTERM', () => void stopAll('SIGTERM').then(() => process.exit(0)));
if (exitAfterMs !== undefined)
  setTimeout(() => void stopAll('--exit-after elapsed').then(() => process.exit(0)), exitAfterMs);

const indent = (text: string, prefix: string) =>
  text
    .trimEnd()
    .split('\n')
    .map((l) => `${prefix}${l}`)
    .join('\n');

const started = Date.now();
try {
  story = await setUpStory({
    say,
    slack: (m) =>
      console.log(
        `\n  ┌─ Slack #shop-releases ─────────────────────────────\n${indent(m.text, '  │ ')}\n  └────────────────────────────────────────────────────\n`,
      ),
    block: (text) => console.log(`\n${text}`),
  });
  const setUpSeconds = ((Date.now() - started) / 1000).toFixed(0);
  console.log(`
Everything runs locally (set up in ${setUpSeconds} s):

  export KUBECONFIG=${story.cluster.kubeconfigPath}
  ${toolPath('kubectl')} get canaries -n shop -w
  Dashboard        ${story.dashboardUrl ?? 'did not start (see above)'}   (live while the demo runs)
  Kubernetes API   ${story.cluster.server}
  Gateway          ${story.gatewayUrl}   (try: curl ${story.gatewayUrl}/)
  Prometheus       ${story.prometheus.url}   (try: weir_canary_weight, traefik_service_requests_total)
  Weir /metrics    ${story.metricsUrl}
  Controller log   ${story.controllerLog}

The data plane is real: in a network namespace holding the pod network, each pod runs as a
process of the demo app on its pod IP (a pod runner plays the kubelet: readiness probe, preStop,
SIGTERM), and Traefik, a real Gateway API implementation (hack/tools/traefik), programs the
Gateway and the HTTPRoute Weir writes. Steady load goes through the Gateway; Prometheus scrapes
Traefik, the pods and the controller. Only the nodes are simulated (KWOK).`);
  say('ready');
  const storyStarted = Date.now();
  const { v2, v3 } = await story.play();
  const minutes = ((Date.now() - storyStarted) / 60_000).toFixed(1);
  console.log(`
The story took ${minutes} min: 1.0.1 ${v2 === 'Succeeded' ? 'was promoted' : `ended ${v2}`}, 1.0.2 ${v3 === 'Failed' ? 'was rolled back' : `ended ${v3}`}.
Above: the Slack messages as the team got them, and each release's timeline (weir history).
${story.dashboardUrl ? `The dashboard shows both releases: ${story.dashboardUrl}canaries/${namespace}/${app}\n` : ''}Next: run Weir on your own cluster with Helm (README, "Running Weir on your cluster").`);
  if (values.keep) {
    say(
      `--keep: everything stays up for exploration${story.dashboardUrl ? `, the dashboard too (${story.dashboardUrl})` : ''}; press Ctrl-C to stop`,
    );
  } else {
    await stopAll('story finished');
    process.exit(v2 === 'Succeeded' && v3 === 'Failed' ? 0 : 1);
  }
} catch (err) {
  console.error(`weir-demo: failed: ${(err as Error).message}`);
  if (story) {
    const lines = readFileSync(story.controllerLog, 'utf8').trimEnd().split('\n').slice(-40);
    console.error(`weir-demo: the controller's last log lines:\n${lines.join('\n')}`);
  }
  await stopAll('failure');
  process.exit(1);
}
