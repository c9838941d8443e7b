/**
 * `npm run bench:dashboard [-- --canaries 2000 --pages 20]`: the dashboard server's
 * memory and API watches with many Canaries and pages open (issue #19).
 *
 * A real API server holds N Canaries, each with its Deployment, a status and one ended
 * CanaryRun of eight transitions. `weir dashboard` runs as it ships (the bundle), as its own process, as
 * the image runs it; P pages open its event stream (half the list, half one Canary each). Then
 * 100 Canaries change. Prints the dashboard's RSS, its open API watches (from the API
 * server's audit log), and how fast and how much each kind of page received.
 */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { dashboardUserAgent } from '../src/dashboard/server.js';
import { startCluster, type Cluster } from '../test/harness/cluster.js';
import { selectRuntime } from '../test/harness/runtime.js';
import { repoRoot } from '../test/harness/tools.js';
import { waitFor } from '../test/harness/wait.js';
import {
  clientsFor,
  createCanary,
  createDeployment,
  installWeirCrds,
} from '../test/harness/weir.js';
import { forEachLimit, withRetry } from './scale/pool.js';

const { values } = parseArgs({
  options: {
    canaries: { type: 'string', default: '2000' },
    pages: { type: 'string', default: '20' },
  },
});
const canaries = Number(values.canaries);
const pages = Number(values.pages);
const namespaces = Array.from({ length: 10 }, (_, i) => `team-${i}`);
const changed = Math.min(100, canaries);

const auditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: Metadata
    verbs: [watch, list]
  - level: None
`;

interface AuditEvent {
  auditID: string;
  stage: string;
  verb: string;
  userAgent?: string;
  requestURI: string;
}

const log = (msg: string) => process.stderr.write(`bench:dashboard: ${msg}\n`);
const mib = (kib: number) => `${(kib / 1024).toFixed(0)} MiB`;
const statusKib = (pid: number, field: string) =>
  Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);

let cluster: Cluster | undefined;
let dashboard: ReturnType<typeof spawn> | undefined;
const streams: { destroy(): void }[] = [];
async function cleanUp() {
  streams.forEach((s) => s.destroy());
  if (dashboard && dashboard.exitCode === null) dashboard.kill('SIGTERM');
  await cluster?.stop();
}
process.on('SIGINT', () => void cleanUp().then(() => process.exit(130)));

/** One page's stream: bytes and messages received, with when each arrived. */
function openStream(url: string) {
  const page = { bytes: 0, messages: [] as { at: number; type: string; key?: string }[] };
  let buffered = '';
  const req = request(url, (res) => {
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      page.bytes += Buffer.byteLength(chunk);
      buffered += chunk;
      const frames = buffered.split('\n\n');
      buffered = frames.pop()!;
      for (const f of frames) {
        if (!f.startsWith('data: ')) continue;
        const m = JSON.parse(f.slice(6)) as {
          type: string;
          row?: { namespace: string; name: string; canaryWeight: number };
        };
        page.messages.push({
          at: Date.now(),
          type: m.type,
          ...(m.row ? { key: `${m.row.namespace}/${m.row.name}:${m.row.canaryWeight}` } : {}),
        });
      }
    });
  });
  req.on('error', () => undefined);
  req.end();
  streams.push(req);
  return page;
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
};

try {
  log(`starting an API server; creating ${canaries} Canaries with Deployments, statuses and runs`);
  cluster = await startCluster({
    nodes: 1,
    runtime: selectRuntime(process.env.WEIR_HARNESS_RUNTIME ?? 'process'),
    auditPolicy,
    extraArgs: { 'kube-apiserver': ['--audit-log-mode=blocking'] },
  });
  await installWeirCrds(cluster);
  const { objects, apps, kubeConfig } = clientsFor(cluster);
  const custom = kubeConfig.makeApiClient(k8s.CustomObjectsApi);
  for (const ns of namespaces)
    await objects.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  const all = Array.from({ length: canaries }, (_, i) => ({
    namespace: namespaces[i % namespaces.length]!,
    name: `app-${i}`,
  }));
  const merge = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
  const setStatus = (plural: string, namespace: string, name: string, status: object) =>
    withRetry(() =>
      custom.patchNamespacedCustomObjectStatus(
        { group: 'weir.dev', version: 'v1alpha1', namespace, plural, name, body: { status } },
        merge,
      ),
    );
  const t0 = Date.now();
  const start = new Date(Date.now() - 3_600_000);
  await forEachLimit(all, 20, async ({ namespace, name }) => {
    await withRetry(() => createDeployment(apps, namespace, name, 2));
    await withRetry(() =>
      createCanary(objects, namespace, name, {
        service: { port: 80 },
        analysis: { interval: '1m', threshold: 3, maxWeight: 50, stepWeight: 10 },
      }),
    );
    const run = `${name}-1`;
    await withRetry(() =>
      objects.create({
        apiVersion: 'weir.dev/v1alpha1',
        kind: 'CanaryRun',
        metadata: { name: run, namespace, labels: { 'weir.dev/canary': name } },
        spec: {
          canary: name,
          revision: 'a1b2c3d4e5',
          startTime: start.toISOString(),
          images: { from: [`example.test/${name}:1`], to: [`example.test/${name}:2`] },
        },
      }),
    );
    const at = (s: number) => new Date(start.getTime() + s * 1000).toISOString();
    const steps = [10, 20, 30, 40, 50].map((weight, i) => ({
      seq: i + 2,
      time: at(60 * (i + 1)),
      from: 'Progressing',
      to: 'Progressing',
      event: 'checks',
      reason: 'StepAdvanced',
      message: `Advance canary weight to ${weight}`,
      weight,
      failedChecks: 0,
      metrics: [
        { name: 'request-success-rate', value: 99.9, min: 99, passed: true },
        { name: 'request-duration', value: 180, max: 500, passed: true },
      ],
    }));
    await setStatus('canaryruns', namespace, run, {
      result: 'Promoted',
      endTime: at(420),
      transitions: [
        {
          seq: 1,
          time: at(0),
          from: 'Succeeded',
          to: 'Progressing',
          event: 'new-revision',
          reason: 'NewRevision',
          message: 'New revision a1b2c3d4e5 detected',
          weight: 0,
          failedChecks: 0,
        },
        ...steps,
        {
          seq: 7,
          time: at(360),
          from: 'Progressing',
          to: 'Promoting',
          event: 'checks',
          reason: 'Promoting',
          message: 'Analysis passed',
          weight: 50,
          failedChecks: 0,
        },
        {
          seq: 8,
          time: at(420),
          from: 'Finalising',
          to: 'Succeeded',
          event: 'finalised',
          reason: 'Succeeded',
          message: 'Revision a1b2c3d4e5 promoted',
          weight: 0,
          failedChecks: 0,
        },
      ],
    });
    await setStatus('canaries', namespace, name, {
      phase: 'Succeeded',
      canaryWeight: 0,
      failedChecks: 0,
      lastAppliedSpec: 'a1b2c3d4e5',
      lastPromotedSpec: 'a1b2c3d4e5',
      lastTransitionTime: at(420),
      currentRun: run,
    });
  });
  log(`created in ${((Date.now() - t0) / 1000).toFixed(0)} s; starting weir dashboard`);

  // Built as it ships (npm run build's bundles and prebuilt assets; tsx and esbuild would
  // add their own memory), into a scratch directory.
  const dist = path.join(repoRoot, '.tmp', 'bench-dashboard-dist');
  execFileSync(process.execPath, ['--import', 'tsx', 'hack/build.ts', '--out', dist], {
    cwd: repoRoot,
  });
  const child = spawn(
    process.execPath,
    [path.join(dist, 'weir.mjs'), 'dashboard', '--kubeconfig', cluster.kubeconfigPath],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  dashboard = child;
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', () => undefined);
  const started = Date.now();
  const url = await waitFor(async () => /Weir dashboard: (\S+)/.exec(out)?.[1], {
    timeoutMs: 180_000,
    what: 'weir dashboard to print its URL',
  });
  const readyS = (Date.now() - started) / 1000;
  const rowsBody = await (await fetch(`${url}api/canaries`)).text();
  const rowCount = (JSON.parse(rowsBody) as unknown[]).length;
  if (rowCount !== canaries)
    throw new Error(`the dashboard lists ${rowCount} Canaries, not ${canaries}`);
  const detailBody = await (
    await fetch(`${url}api/canaries/${all[0]!.namespace}/${all[0]!.name}`)
  ).text();

  const auditPath = cluster.auditLogPath!;
  const openWatches = () => {
    const events = readFileSync(auditPath, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as AuditEvent)
      .filter((e) => e.verb === 'watch' && e.userAgent === dashboardUserAgent);
    const ended = new Set(
      events.filter((e) => e.stage === 'ResponseComplete').map((e) => e.auditID),
    );
    return events.filter((e) => e.stage === 'ResponseStarted' && !ended.has(e.auditID)).length;
  };
  const settle = () => new Promise((r) => setTimeout(r, 2_000));

  const first = openStream(`${url}api/stream`);
  const snapshotAt = Date.now();
  await waitFor(
    async () => (first.messages.some((m) => m.type === 'snapshot') ? true : undefined),
    {
      timeoutMs: 60_000,
      what: 'the first snapshot',
    },
  );
  const firstSnapshotMs = first.messages[0]!.at - snapshotAt;
  await settle();
  const watchesOne = openWatches();

  const list = [first];
  const follow: ReturnType<typeof openStream>[] = [];
  for (let i = 1; i < pages; i++) {
    if (i % 2 === 0) list.push(openStream(`${url}api/stream`));
    else {
      const c = all[all.length - i]!; // not among the Canaries that change
      follow.push(openStream(`${url}api/stream?canary=${c.namespace}/${c.name}`));
    }
  }
  await waitFor(
    async () =>
      [...list, ...follow].every((p) => p.messages.some((m) => m.type === 'snapshot'))
        ? true
        : undefined,
    { timeoutMs: 60_000, what: 'every page to get its snapshot' },
  );
  await settle();
  const watchesAll = openWatches();
  const rssIdle = statusKib(child.pid!, 'VmRSS');
  const bytesBefore = [...list, ...follow].map((p) => p.bytes);

  // 100 Canaries start a release: weight 10, Progressing.
  const targets = all.slice(0, changed);
  const changedAt = Date.now();
  await forEachLimit(targets, 20, ({ namespace, name }) =>
    setStatus('canaries', namespace, name, { phase: 'Progressing', canaryWeight: 10 }).then(
      () => undefined,
    ),
  );
  const wanted = new Set(targets.map((c) => `${c.namespace}/${c.name}:10`));
  const seenAll = async (p: ReturnType<typeof openStream>) =>
    p.messages.filter((m) => m.key && wanted.has(m.key)).length >= wanted.size;
  await waitFor(
    async () => ((await Promise.all(list.map(seenAll))).every(Boolean) ? true : undefined),
    {
      timeoutMs: 60_000,
      what: 'every list page to see the 100 changes',
    },
  );
  const lastSeen = list.map((p) =>
    Math.max(...p.messages.filter((m) => m.key && wanted.has(m.key)).map((m) => m.at)),
  );
  await settle();
  const rssPeak = statusKib(child.pid!, 'VmHWM');
  const rssAfter = statusKib(child.pid!, 'VmRSS');
  const got = [...list, ...follow].map((p, i) => p.bytes - bytesBefore[i]!);
  const listBytes = got.slice(0, list.length);
  const followBytes = got.slice(list.length);

  const rows: [string, string][] = [
    ['Canaries (each with a Deployment and an 8-transition CanaryRun)', String(canaries)],
    ['pages open (list / following one Canary)', `${pages} (${list.length} / ${follow.length})`],
    ['weir dashboard start to URL printed (caches filled)', `${readyS.toFixed(1)} s`],
    ['RSS with the pages open, idle', mib(rssIdle)],
    ['RSS after 100 changes; peak (VmHWM)', `${mib(rssAfter)}; ${mib(rssPeak)}`],
    ['API watches open: 1 page / all pages', `${watchesOne} / ${watchesAll}`],
    ['GET /api/canaries (all rows)', `${(Buffer.byteLength(rowsBody) / 1024).toFixed(0)} KiB`],
    [
      'GET /api/canaries/<ns>/<name> (one detail)',
      `${(Buffer.byteLength(detailBody) / 1024).toFixed(1)} KiB`,
    ],
    ['first page: stream opened to snapshot received', `${firstSnapshotMs} ms`],
    [
      '100 changes: last one seen by every list page, p50 / max',
      `${quantile(lastSeen, 0.5) - changedAt} / ${Math.max(...lastSeen) - changedAt} ms`,
    ],
    [
      'bytes per list page for the 100 changes',
      `${(quantile(listBytes, 0.5) / 1024).toFixed(1)} KiB`,
    ],
    ['bytes per page following an unchanged Canary', `${quantile(followBytes, 0.5)} B`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  console.log(`\n| ${'measure'.padEnd(width)} | value |\n| ${'-'.repeat(width)} | --- |`);
  for (const [k, v] of rows) console.log(`| ${k.padEnd(width)} | ${v} |`);
} catch (err) {
  console.error(`bench:dashboard: failed: ${(err as Error).stack ?? String(err)}`);
  process.exitCode = 1;
} finally {
  await cleanUp();
}
