import { parseArgs } from 'node:util';
import { parseDuration } from './stats.js';

/** Everything the scale benchmark can be told on its command line. */
export interface ScaleOptions {
  /** Canary counts, run one after another, each on a fresh cluster. */
  sizes: number[];
  /** Namespaces the canaries are spread over. */
  namespaces: number;
  /** Soak duration in ms: release continuously for this long (one size only). */
  soakMs?: number;
  /** The controller's command, split into argv, with {placeholders} still in. */
  controllerCmd?: string[];
  /** Extra arguments for the default (Weir) controller command. */
  controllerArgs: string[];
  /** Flags for node itself when it runs the default command, e.g. --max-old-space-size=192. */
  nodeOptions: string[];
  /** Run the default controller as it ships (npm run build's bundle, in .tmp/bench-dist), not through tsx. */
  compiled: boolean;
  /** Name of the controller in the report. */
  controllerName: string;
  apiGroup: string;
  apiVersion: string;
  /** CRD files for the controller's kinds; Weir's crds/ when unset and the group is weir.dev. */
  crds: string[];
  /** spec.provider of every Canary. */
  provider: string;
  intervalSeconds: number;
  stepWeight: number;
  maxWeight: number;
  /** Directory for V8 CPU profiles of the default controller (node --cpu-prof). */
  cpuProfDir?: string;
  /** Directory for a heap snapshot of the default controller, taken when the releases end. */
  heapSnapshotDir?: string;
  /** Results JSON path; a timestamped file under .tmp/bench/ when unset. */
  out?: string;
  /** Record the controller's requests in the API server's audit log. */
  audit: boolean;
  /** Client rate limit given to kube-controller-manager and kube-scheduler. */
  kubeApiQps: number;
  kubeApiBurst: number;
  /** Overrides of the computed bounds, in ms. */
  bootstrapTimeoutMs?: number;
  releaseTimeoutMs?: number;
}

/** Usage text for --help. */
export const usage = `Usage: npm run bench:scale -- [options]

  --canaries N[,N...]      sizes, each on a fresh cluster (default 100)
  --namespaces N           namespaces to spread them over (default 10)
  --soak DURATION          release continuously for DURATION (e.g. 30m); one size only
  --controller-cmd "CMD"   controller to measure, run without a shell; placeholders:
                           {kubeconfig} {prometheus} {metricsPort} {probePort}
                           (default: node --import tsx src/main.ts with Weir's flags)
  --controller-args "ARGS" extra flags for the default command, e.g. "--concurrency 16"
  --node-options="FLAGS"   flags for node running the default command, e.g. "--max-old-space-size=192"
  --compiled               default command runs Weir as it ships (npm run build's bundle, with the
                           Node flags of the Dockerfile's ENTRYPOINT), not via tsx
  --controller-name NAME   name in the report (default weir (tsx|bundle), or the command's first word)
  --api-group G            Canary API group (default weir.dev; Flagger: flagger.app)
  --api-version V          Canary API version (default v1alpha1; Flagger: v1beta1)
  --crds FILE              CRDs of the controller's kinds (repeatable; default Weir's crds/)
  --provider P             spec.provider of every Canary (default gatewayapi:v1)
  --interval S             analysis interval in seconds (default 10)
  --step-weight W          (default 10)     --max-weight W   (default 50)
  --cpu-prof DIR           default command runs under node --cpu-prof; a summary is printed
  --heap-snapshot DIR      default command writes a heap snapshot once the releases end
  --out FILE               results JSON (default .tmp/bench/scale-<time>.json)
  --no-audit               do not enable the API server's audit log (default: off in soak mode)
  --kube-api-qps N         client QPS of kube-controller-manager and kube-scheduler (default 1000)
  --kube-api-burst N       their burst (default 2000)
  --bootstrap-timeout D    bound on bootstrap (default 120s + 0.2s per canary)
  --release-timeout D      bound on the releases (default 180s + 0.3s per canary)
`;

/**
 * Splits a command line into argv the way a POSIX shell would for plain words,
 * single quotes, double quotes and backslash escapes (no expansion of any kind).
 */
export function splitCommand(line: string): string[] {
  const out: string[] = [];
  let word: string | undefined;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < line.length) word += line[++i]!;
      else word += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      word ??= '';
    } else if (c === '\\' && i + 1 < line.length) {
      word = (word ?? '') + line[++i]!;
    } else if (/\s/.test(c)) {
      if (word !== undefined) out.push(word);
      word = undefined;
    } else {
      word = (word ?? '') + c;
    }
  }
  if (quote) throw new Error(`Unterminated ${quote} quote in command: ${line}`);
  if (word !== undefined) out.push(word);
  return out;
}

/** Replaces `{name}` placeholders in every argument; an unknown placeholder is an error. */
export function fillPlaceholders(argv: string[], values: Record<string, string>): string[] {
  return argv.map((a) =>
    a.replace(/\{([a-zA-Z]+)\}/g, (_, name: string) => {
      const v = values[name];
      if (v === undefined)
        throw new Error(
          `Unknown placeholder {${name}} in the controller command; known: ${Object.keys(values)
            .map((k) => `{${k}}`)
            .join(' ')}`,
        );
      return v;
    }),
  );
}

function positiveInt(text: string, flag: string, min = 1): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min)
    throw new Error(`${flag}: expected a whole number ≥ ${min}, got "${text}"`);
  return n;
}

/** Parses the benchmark's flags. Returns undefined for --help; throws naming a bad flag. */
export function parseScaleOptions(argv: string[]): ScaleOptions | undefined {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      canaries: { type: 'string', default: '100' },
      namespaces: { type: 'string', default: '10' },
      soak: { type: 'string' },
      'controller-cmd': { type: 'string' },
      'controller-args': { type: 'string', default: '' },
      'node-options': { type: 'string', default: '' },
      compiled: { type: 'boolean', default: false },
      'controller-name': { type: 'string' },
      'api-group': { type: 'string', default: 'weir.dev' },
      'api-version': { type: 'string', default: 'v1alpha1' },
      crds: { type: 'string', multiple: true, default: [] },
      provider: { type: 'string', default: 'gatewayapi:v1' },
      interval: { type: 'string', default: '10' },
      'step-weight': { type: 'string', default: '10' },
      'max-weight': { type: 'string', default: '50' },
      'cpu-prof': { type: 'string' },
      'heap-snapshot': { type: 'string' },
      out: { type: 'string' },
      'no-audit': { type: 'boolean' },
      'kube-api-qps': { type: 'string', default: '1000' },
      'kube-api-burst': { type: 'string', default: '2000' },
      'bootstrap-timeout': { type: 'string' },
      'release-timeout': { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) return undefined;
  const sizes = values.canaries.split(',').map((s) => positiveInt(s.trim(), '--canaries'));
  const soakMs = values.soak !== undefined ? parseDuration(values.soak) : undefined;
  if (soakMs !== undefined && sizes.length !== 1)
    throw new Error('--soak runs one size: give --canaries a single number');
  const controllerCmd =
    values['controller-cmd'] !== undefined ? splitCommand(values['controller-cmd']) : undefined;
  if (controllerCmd && controllerCmd.length === 0) throw new Error('--controller-cmd is empty');
  if (
    controllerCmd &&
    (values['cpu-prof'] || values['heap-snapshot'] || values.compiled || values['node-options'])
  )
    throw new Error(
      '--cpu-prof, --heap-snapshot, --compiled and --node-options apply to the default (Node) command only',
    );
  const apiGroup = values['api-group'];
  if (apiGroup !== 'weir.dev' && values.crds.length === 0)
    throw new Error(`--api-group ${apiGroup}: give the controller's CRDs with --crds FILE`);
  const stepWeight = positiveInt(values['step-weight'], '--step-weight');
  const maxWeight = positiveInt(values['max-weight'], '--max-weight');
  if (maxWeight > 100 || stepWeight > maxWeight)
    throw new Error('--step-weight and --max-weight: expected step ≤ max ≤ 100');
  return {
    sizes,
    namespaces: positiveInt(values.namespaces, '--namespaces'),
    ...(soakMs !== undefined ? { soakMs } : {}),
    ...(controllerCmd ? { controllerCmd } : {}),
    controllerArgs: splitCommand(values['controller-args']),
    nodeOptions: splitCommand(values['node-options']),
    compiled: values.compiled,
    controllerName:
      values['controller-name'] ??
      (controllerCmd
        ? controllerCmd[0]!.split('/').at(-1)!
        : values.compiled
          ? 'weir (bundle)'
          : 'weir (tsx)'),
    apiGroup,
    apiVersion: values['api-version'],
    crds: values.crds,
    provider: values.provider,
    intervalSeconds: positiveInt(values.interval, '--interval'),
    stepWeight,
    maxWeight,
    ...(values['cpu-prof'] ? { cpuProfDir: values['cpu-prof'] } : {}),
    ...(values['heap-snapshot'] ? { heapSnapshotDir: values['heap-snapshot'] } : {}),
    ...(values.out ? { out: values.out } : {}),
    audit: !values['no-audit'] && soakMs === undefined,
    kubeApiQps: positiveInt(values['kube-api-qps'], '--kube-api-qps'),
    kubeApiBurst: positiveInt(values['kube-api-burst'], '--kube-api-burst'),
    ...(values['bootstrap-timeout']
      ? { bootstrapTimeoutMs: parseDuration(values['bootstrap-timeout']) }
      : {}),
    ...(values['release-timeout']
      ? { releaseTimeoutMs: parseDuration(values['release-timeout']) }
      : {}),
  };
}

/**
 * Bounds for one size: generous, linear in N, overridable. A size that hits
 * every bound (and the 60 s wait for Prometheus data) takes 7 min + 0.55 s per
 * canary (2,000: 25.5 min), plus about a minute to start and stop the cluster.
 */
export function boundsFor(
  n: number,
  options: Pick<ScaleOptions, 'bootstrapTimeoutMs' | 'releaseTimeoutMs'>,
): { setupMs: number; bootstrapMs: number; releaseMs: number } {
  return {
    // Creating the Deployments and waiting for their pods (the bench, kcm, scheduler, KWOK).
    setupMs: 60_000 + 50 * n,
    bootstrapMs: options.bootstrapTimeoutMs ?? 120_000 + 200 * n,
    releaseMs: options.releaseTimeoutMs ?? 180_000 + 300 * n,
  };
}
