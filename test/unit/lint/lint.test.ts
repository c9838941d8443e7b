import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatText, lintPaths } from '../../../src/lint/lint.js';

function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'weir-lint-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  return dir;
}

const canary = (extra = '') => `apiVersion: weir.dev/v1alpha1
kind: Canary
metadata:
  name: web
  namespace: team
spec:
  targetRef: { apiVersion: apps/v1, kind: Deployment, name: web }
  service: { port: 80 }
  analysis:
    stepWeight: 10
    maxWeight: 50
    metrics:
      - name: errors
        templateRef: { name: errors }
        thresholdRange: { max: 1 }
${extra}`;

/** The MetricTemplate `team/errors` the Canary above names. */
const errorsTemplate = `apiVersion: weir.dev/v1alpha1
kind: MetricTemplate
metadata: { name: errors, namespace: team }
spec:
  provider: { type: prometheus, address: "http://prometheus:9090" }
  query: sum(rate(x[1m]))
`;

describe('lintPaths', () => {
  describe('what the provider cannot route', () => {
    const withProvider = (provider: string, extra = '') =>
      canary(extra).replace(
        '  service: { port: 80 }',
        `  provider: ${provider}\n  service: { port: 80 }`,
      );
    const providerErrors = async (text: string) =>
      (await lintPaths([folder({ 'c.yaml': text })])).findings
        .filter((f) => f.path === 'spec.provider')
        .map((f) => `${f.severity} ${f.line}:${f.column} ${f.message}`);

    it('is an error at spec.provider, with the message the controller would put in Ready', async () => {
      expect(await providerErrors(withProvider('kubernetes'))).toEqual([
        'error 8:3 the kubernetes provider cannot split traffic by weight: use iterations (blue/green), or a mesh or Gateway API provider for stepWeight',
      ]);
      expect(
        await providerErrors(
          withProvider(
            'linkerd',
            "    match: [{ headers: { x-canary: { exact: 'on' } } }]\n",
          ).replace('    stepWeight: 10\n    maxWeight: 50\n', '    iterations: 2\n'),
        ),
      ).toEqual([
        expect.stringContaining('error 8:3 the linkerd provider routes with an SMI TrafficSplit'),
      ]);
    });

    it('names the providers Weir has when the Canary names another', async () => {
      expect(await providerErrors(withProvider('appmesh'))).toEqual([
        'error 8:3 unknown provider "appmesh": Weir supports apisix, contour, gatewayapi, istio, knative, kubernetes, kuma, linkerd, nginx, skipper, smi, traefik',
      ]);
    });

    it('checks a skipper Canary as the controller would: it needs its Ingress', async () => {
      const skipper = withProvider('skipper');
      expect(await providerErrors(skipper)).toEqual([
        expect.stringContaining('error 8:3 the skipper provider needs spec.ingressRef'),
      ]);
      const withIngress = skipper.replace(
        '  service: { port: 80 }',
        '  ingressRef: { apiVersion: networking.k8s.io/v1, kind: Ingress, name: web }\n  service: { port: 80 }',
      );
      expect(await providerErrors(withIngress)).toEqual([]);
    });

    it('passes what the provider can route, and leaves a Canary without a provider to the controller', async () => {
      expect(await providerErrors(withProvider('gatewayapi:v1'))).toEqual([]);
      expect(await providerErrors(withProvider('istio'))).toEqual([]);
      expect(await providerErrors(canary())).toEqual([]);
    });

    it('keeps Flagger’s apisix routeRef and kuma meshName, and says what apisix needs without one', async () => {
      const apisix = withProvider('apisix').replace(
        '  service: { port: 80 }',
        '  routeRef: { apiVersion: apisix.apache.org/v2, kind: ApisixRoute, name: web-route }\n  service: { port: 80 }',
      );
      const all = async (text: string) =>
        (await lintPaths([folder({ 'c.yaml': text, 'm.yaml': errorsTemplate })])).findings
          .filter((f) => f.path !== 'spec.targetRef.name')
          .map((f) => `${f.severity} ${f.path} ${f.message}`);
      expect(await all(apisix)).toEqual([
        'warning spec.routeRef.name ApisixRoute team/web-route is not in the scanned files (it must exist in the cluster)',
      ]);
      expect(
        await all(
          withProvider('kuma').replace(
            'service: { port: 80 }',
            'service: { port: 80, meshName: shop }',
          ),
        ),
      ).toEqual([]);
      expect(await providerErrors(withProvider('apisix'))).toEqual([
        expect.stringContaining('error 8:3 the apisix provider needs spec.routeRef'),
      ]);
    });
  });

  it('points errors at file:line:column with the field path', async () => {
    const dir = folder({ 'c.yaml': canary('    stepWeights: [1]\n') });
    const result = await lintPaths([dir]);
    expect(result.errors).toBe(1);
    expect(result.findings.find((f) => f.severity === 'error')).toMatchObject({
      file: path.join(dir, 'c.yaml'),
      line: 16,
      column: 5,
      path: 'spec.analysis.stepWeights',
      message: 'set stepWeight or stepWeights, not both',
      object: 'Canary/web',
    });
  });

  it('warns about references outside the scanned files and resolves those inside', async () => {
    const result = await lintPaths([folder({ 'c.yaml': canary(), 'm.yaml': errorsTemplate })]);
    expect(result.errors).toBe(0);
    expect(result.findings.map((f) => `${f.severity} ${f.path} ${f.message}`)).toEqual([
      'warning spec.targetRef.name Deployment team/web is not in the scanned files (it must exist in the cluster)',
    ]);
  });

  it('checks a route the team owns (routeRef): missing is a warning, unsplittable an error in the route', async () => {
    const withRoute = canary().replace(
      '  service: { port: 80 }',
      '  provider: gatewayapi\n  service: { port: 80, routeRef: { name: web-public } }',
    );
    const route = (backends: string) => `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: web-public, namespace: team }
spec:
  rules:
    - backendRefs: [${backends}]
`;
    const findings = async (files: Record<string, string>) =>
      (
        await lintPaths([folder({ 'c.yaml': withRoute, 'm.yaml': errorsTemplate, ...files })])
      ).findings
        .filter((f) => f.path !== 'spec.targetRef.name')
        .map((f) => `${path.basename(f.file)}:${f.line} ${f.severity} ${f.path} ${f.message}`);
    expect(await findings({})).toEqual([
      'c.yaml:9 warning spec.service.routeRef.name HTTPRoute team/web-public is not in the scanned files (it must exist in the cluster)',
    ]);
    expect(
      await findings({
        'r.yaml': route(
          '{ name: web-primary, port: 80, weight: 100 }, { name: web-canary, port: 80, weight: 0 }',
        ),
      }),
    ).toEqual([]);
    expect(await findings({ 'r.yaml': route('{ name: web, port: 80 }') })).toEqual([
      'r.yaml:5 error spec.rules HTTPRoute team/web-public (spec.service.routeRef) has no rule whose backendRefs name both Services web-primary and web-canary: add both to the rule Weir should split, with weights 100 and 0',
    ]);
  });

  it('warns once where a released Deployment declares replicas, and not with an autoscaler', async () => {
    const deployment = (replicas: string) => `apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: team }
spec:
${replicas}  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec: { containers: [{ name: app, image: web:1 }] }
`;
    const dir = folder({
      'c.yaml': canary(),
      'd.yaml': deployment('  replicas: 3\n'),
      'm.yaml': errorsTemplate,
    });
    const result = await lintPaths([dir]);
    expect(result.findings.map((f) => `${path.basename(f.file)}:${f.line} ${f.path}`)).toEqual([
      'd.yaml:5 spec.replicas',
    ]);
    expect(result.findings[0]!.message).toMatch(/GitOps agent sets them back after each release/);
    const undeclared = await lintPaths([
      folder({ 'c.yaml': canary(), 'd.yaml': deployment(''), 'm.yaml': '' }),
    ]);
    expect(undeclared.findings.filter((f) => f.path === 'spec.replicas')).toEqual([]);
  });

  it('warns when a MetricTemplate or AlertProvider of another namespace does not allow the Canary’s', async () => {
    const shared = (allowed: string) => `apiVersion: weir.dev/v1alpha1
kind: MetricTemplate
metadata: { name: errors, namespace: monitoring }
spec:
  provider: { type: prometheus, address: "http://prometheus:9090" }
  query: sum(rate(x[1m]))
${allowed}---
apiVersion: weir.dev/v1alpha1
kind: AlertProvider
metadata: { name: slack, namespace: monitoring }
spec:
  type: slack
  secretRef: { name: slack-url }
${allowed}`;
    const crossCanary = canary(
      '    alerts:\n      - name: team\n        providerRef: { name: slack, namespace: monitoring }\n',
    ).replace(
      'templateRef: { name: errors }',
      'templateRef: { name: errors, namespace: monitoring }',
    );
    const warnings = async (allowed: string, c = crossCanary) =>
      (await lintPaths([folder({ 'c.yaml': c, 'shared.yaml': shared(allowed) })])).findings
        .filter((f) => !f.message.startsWith('Deployment'))
        .map((f) => `${f.severity} ${f.path} ${f.message}`);
    expect(await warnings('')).toEqual([
      'warning spec.analysis.metrics[0].templateRef.name MetricTemplate monitoring/errors does not list namespace team in spec.allowedNamespaces: the controller will refuse this reference',
      'warning spec.analysis.alerts[0].providerRef.name AlertProvider monitoring/slack does not list namespace team in spec.allowedNamespaces: the controller will refuse this reference',
    ]);
    expect(await warnings('  allowedNamespaces: [shop]\n')).toHaveLength(2);
    expect(await warnings('  allowedNamespaces: [shop, team]\n')).toEqual([]);
    expect(await warnings("  allowedNamespaces: ['*']\n")).toEqual([]);
    // A Canary without a namespace: where it lands decides, so nothing to say.
    expect(await warnings('', crossCanary.replace('  namespace: team\n', ''))).toEqual([]);
  });

  it('warns about what the controller refuses by default: inline queries, headers for --metrics-server', async () => {
    const inline = canary().replace(
      'templateRef: { name: errors }',
      'query: sum(rate(errors_total[1m]))',
    );
    const template = `apiVersion: weir.dev/v1alpha1
kind: MetricTemplate
metadata: { name: errors, namespace: team }
spec:
  provider: { type: prometheus, headers: { X-Scope-OrgID: team } }
  query: sum(rate(x[1m]))
`;
    const result = await lintPaths([folder({ 'c.yaml': inline, 'm.yaml': template })]);
    expect(result.errors).toBe(0);
    expect(
      result.findings
        .filter((f) => !f.message.startsWith('Deployment'))
        .map((f) => `${f.object} ${f.path} ${f.message.split(':')[0]}`),
    ).toEqual([
      'Canary/web spec.analysis.metrics[0].query inline queries run only on a controller started with --allow-inline-queries (off by default)',
      'MetricTemplate/errors spec.provider.headers without provider.address these headers would go to the controller’s shared --metrics-server, which it refuses unless started with --allow-metrics-server-headers',
    ]);
  });

  it('warns when a judge’s window cannot give one series minSamples values', async () => {
    const judged = (judge: string, interval = '') =>
      canary().replace(
        '        thresholdRange: { max: 1 }\n',
        `        thresholdRange: { max: 1 }\n${interval}        judge: ${judge}\n`,
      );
    const lint = async (text: string) =>
      (await lintPaths([folder({ 'c.yaml': text, 'm.yaml': errorsTemplate })])).findings.filter(
        (f) => f.path.endsWith('.judge'),
      );
    // 1m at 5s: 13 values a series, enough for the default 10.
    expect(await lint(judged('{}'))).toEqual([]);
    const short = await lint(judged('{ step: 10s }', '        interval: 30s\n'));
    expect(short.map((f) => [f.severity, f.path, f.message])).toEqual([
      [
        'warning',
        'spec.analysis.metrics[0].judge',
        'a window of 30s at 10s steps gives at most 4 values a series, fewer than minSamples 10: unless the query returns several series, every step is inconclusive; lengthen interval or shorten judge.step',
      ],
    ]);
    expect(await lint(judged('{ step: 10s, minSamples: 4 }', '        interval: 30s\n'))).toEqual(
      [],
    );
  });

  it('is an error when the target Deployment in the scanned files has no selector labels', async () => {
    const deploy = `apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: team }
spec:
  selector: {}
  template: { metadata: {}, spec: { containers: [] } }
`;
    const result = await lintPaths([folder({ 'c.yaml': canary(), 'd.yaml': deploy })]);
    expect(result.findings.filter((f) => f.severity === 'error').map((f) => f.message)).toEqual([
      expect.stringMatching(/Deployment web has no spec.selector.matchLabels/),
    ]);
  });

  it('looks a DaemonSet target up as a DaemonSet: found when scanned, an error without selector labels', async () => {
    const daemonSetCanary = canary().replace(
      'kind: Deployment, name: web',
      'kind: DaemonSet, name: web',
    );
    const daemonSet = (selector: string) => `apiVersion: apps/v1
kind: DaemonSet
metadata: { name: web, namespace: team }
spec:
  selector: ${selector}
  template: { metadata: { labels: { app: web } }, spec: { containers: [] } }
`;
    const targetFindings = async (selector: string) =>
      (
        await lintPaths([
          folder({
            'c.yaml': daemonSetCanary,
            'd.yaml': daemonSet(selector),
            't.yaml': errorsTemplate,
          }),
        ])
      ).findings
        .filter((f) => f.path === 'spec.targetRef.name')
        .map((f) => `${f.severity} ${f.message}`);
    expect(await targetFindings('{ matchLabels: { app: web } }')).toEqual([]);
    expect(await targetFindings('{}')).toEqual([
      'error DaemonSet web has no spec.selector.matchLabels; Weir needs a selector label to split primary and canary pods',
    ]);
  });

  describe('a StatefulSet target (ADR 0019)', () => {
    const statefulSetCanary = (spec = '', analysis = '    stepWeights: [20, 50]\n') =>
      canary()
        .replace('kind: Deployment, name: web', 'kind: StatefulSet, name: web')
        .replace('    stepWeight: 10\n    maxWeight: 50\n', analysis)
        .replace('  service: { port: 80 }', `${spec}  service: { port: 80 }`);
    const statefulSet = (updateStrategy = '') => `apiVersion: apps/v1
kind: StatefulSet
metadata: { name: web, namespace: team }
spec:
  replicas: 3
  serviceName: web
  selector: { matchLabels: { app: web } }
${updateStrategy}  template:
    metadata: { labels: { app: web } }
    spec: { containers: [{ name: app, image: web:1 }] }
`;
    const findings = async (c: string, sts?: string) =>
      (
        await lintPaths([
          folder({ 'c.yaml': c, 't.yaml': errorsTemplate, ...(sts ? { 's.yaml': sts } : {}) }),
        ])
      ).findings.map(
        (f) => `${path.basename(f.file)}:${f.line} ${f.severity} ${f.path} ${f.message}`,
      );

    it('is valid with stepWeights and no provider (kubernetes is its own), the StatefulSet found by its kind', async () => {
      expect(await findings(statefulSetCanary(), statefulSet())).toEqual([]);
      expect(await findings(statefulSetCanary('  provider: kubernetes\n'), statefulSet())).toEqual(
        [],
      );
      expect(await findings(statefulSetCanary())).toEqual([
        'c.yaml:7 warning spec.targetRef.name StatefulSet team/web is not in the scanned files (it must exist in the cluster)',
      ]);
    });

    it('is an error with another provider: set spec.provider to kubernetes', async () => {
      expect(await findings(statefulSetCanary('  provider: istio\n'), statefulSet())).toEqual([
        'c.yaml:8 error spec.provider a StatefulSet is released in place, a share of its pods at a time (ADR 0019), with no primary copy for the istio provider to route to: set spec.provider to kubernetes, or leave it out',
      ]);
    });

    it('is an error with iterations alone (blue/green): a step is a share of the pods', async () => {
      // No spec.provider in the file: the finding points at spec (line 6).
      expect(await findings(statefulSetCanary('', '    iterations: 3\n'), statefulSet())).toEqual([
        'c.yaml:6 error spec.provider a StatefulSet is released in place, a share of its pods at a time (ADR 0019): set analysis.stepWeight or stepWeights for the share of pods each step updates, instead of iterations',
      ]);
    });

    it('is an error where the scanned StatefulSet has updateStrategy OnDelete', async () => {
      expect(
        await findings(statefulSetCanary(), statefulSet('  updateStrategy: { type: OnDelete }\n')),
      ).toEqual([
        's.yaml:8 error spec.updateStrategy.type a Canary releases this StatefulSet by its update partition, which only holds pods back under RollingUpdate: use RollingUpdate',
      ]);
    });

    it('warns where the scanned StatefulSet declares a partition, which a GitOps agent would put back', async () => {
      const partition =
        '  updateStrategy:\n    type: RollingUpdate\n    rollingUpdate: { partition: 0 }\n';
      const found = await findings(statefulSetCanary(), statefulSet(partition));
      expect(found).toEqual([
        expect.stringMatching(
          /^s\.yaml:10 warning spec\.updateStrategy\.rollingUpdate\.partition a Canary releases this StatefulSet by its update partition: declared here, a GitOps agent puts it back after every step Weir takes; remove it$/,
        ),
      ]);
    });

    it('does not warn about the replicas a StatefulSet declares (Weir never scales it)', async () => {
      const found = await findings(statefulSetCanary(), statefulSet());
      expect(found.filter((f) => f.includes('spec.replicas'))).toEqual([]);
      // The same declaration on a Deployment target is warned about.
      const deployment = statefulSet()
        .replace('kind: StatefulSet', 'kind: Deployment')
        .replace('  serviceName: web\n', '');
      expect(
        (await findings(canary(), deployment)).filter((f) => f.includes('spec.replicas')),
      ).toEqual([
        expect.stringMatching(
          /^s\.yaml:5 warning spec\.replicas Canary team\/web releases this Deployment/,
        ),
      ]);
    });
  });

  it('ignores documents of other projects and reports YAML errors per file', async () => {
    const result = await lintPaths([
      folder({
        'svc.yaml': 'apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec: {whatever: 1}\n',
        'bad.yml': 'a: [\n',
      }),
    ]);
    expect(result.documents).toBe(1);
    expect(result.findings).toEqual([
      expect.objectContaining({ severity: 'error', message: expect.stringMatching(/^YAML: /) }),
    ]);
  });

  it('formats findings for people, one per line, with a summary', async () => {
    const dir = folder({ 'c.yaml': canary('    stepWeights: [1]\n') });
    const text = formatText(await lintPaths([dir]));
    expect(text).toContain(
      `${path.join(dir, 'c.yaml')}:16:5: error: spec.analysis.stepWeights: set stepWeight or stepWeights, not both (Canary/web)`,
    );
    expect(text).toMatch(/1 file\(s\), 1 document\(s\): 1 error\(s\), 2 warning\(s\)\n$/);
  });

  it('reports a path that does not exist instead of throwing', async () => {
    const result = await lintPaths(['/nonexistent/weir']);
    expect(result.findings[0]).toMatchObject({ severity: 'error', message: 'cannot read: ENOENT' });
  });
});
