/**
 * Measures `weir lint` on a folder of 1,000 manifests (Canaries, MetricTemplates
 * and Deployments, one per file), as the CLI runs in CI: a fresh process each
 * time. Prints figures; asserts nothing. Usage: npm run bench:lint [-- --files N --runs R]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot } from '../test/harness/tools.js';

const { values } = parseArgs({
  options: { files: { type: 'string', default: '1000' }, runs: { type: 'string', default: '5' } },
});
const files = Number(values.files);
const runs = Number(values.runs);
const dir = mkdtempSync(path.join(tmpdir(), 'weir-lint-bench-'));

for (let i = 0; i < files; i++) {
  const name = `app-${i}`;
  const kind = i % 3;
  const text =
    kind === 0
      ? `apiVersion: weir.dev/v1alpha1
kind: Canary
metadata: { name: ${name}, namespace: team-${i % 20} }
spec:
  provider: gatewayapi
  targetRef: { apiVersion: apps/v1, kind: Deployment, name: ${name} }
  service: { port: 80, gatewayRefs: [{ name: public }] }
  analysis:
    interval: 30s
    threshold: 3
    stepWeights: [5, 10, 20, 40]
    metrics:
      - { name: request-success-rate, thresholdRange: { min: 99 } }
      - { name: errors, templateRef: { name: errors }, thresholdRange: { max: 1 } }
    webhooks:
      - { name: smoke, type: pre-rollout, url: "http://smoke.team-${i % 20}/run", timeout: 30s }
`
      : kind === 1
        ? `apiVersion: weir.dev/v1alpha1
kind: MetricTemplate
metadata: { name: errors-${i}, namespace: team-${i % 20} }
spec:
  provider: { type: prometheus, address: "http://prometheus:9090" }
  query: sum(rate(http_requests_total{code=~"5.."}[{{ interval }}]))
`
        : `apiVersion: apps/v1
kind: Deployment
metadata: { name: ${name}, namespace: team-${i % 20} }
spec:
  selector: { matchLabels: { app: ${name} } }
  template:
    metadata: { labels: { app: ${name} } }
    spec: { containers: [{ name: app, image: "example.test/app:1" }] }
`;
  writeFileSync(path.join(dir, `${name}.yaml`), text);
}

const cli = path.join(repoRoot, 'src/cli/weir.ts');
// Through tsx, as `npm run weir` runs it: this includes TypeScript transpilation, so the
// compiled CLI in dist/ is faster still.
const times: number[] = [];
for (let r = 0; r < runs; r++) {
  const t0 = process.hrtime.bigint();
  try {
    execFileSync(process.execPath, ['--import', 'tsx', cli, 'lint', '--format', 'json', dir], {
      stdio: 'pipe',
      cwd: repoRoot,
    });
  } catch (err) {
    // Exit 1 means findings; the benchmark input should have none.
    throw new Error(
      `weir lint reported errors on the benchmark input: ${String((err as { stdout?: Buffer }).stdout).slice(0, 500)}`,
      { cause: err },
    );
  }
  times.push(Number(process.hrtime.bigint() - t0) / 1e6);
}
rmSync(dir, { recursive: true, force: true });
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)]!;
console.log(
  `weir lint, ${files} manifests in one folder, ${runs} runs, ${cpus().length} cores, Node ${process.version}`,
);
console.log(`| files | runs | min ms | median ms | max ms |`);
console.log(`| ---: | ---: | ---: | ---: | ---: |`);
console.log(
  `| ${files} | ${runs} | ${times[0]!.toFixed(0)} | ${median.toFixed(0)} | ${times.at(-1)!.toFixed(0)} |`,
);
