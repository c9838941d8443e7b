import * as yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { convertFlagger } from '../../../src/convert/flagger.js';
import type { Canary } from '../../../src/api/types.js';
import { validateDocument } from '../../../src/lint/validate.js';
import { providerProblem } from '../../../src/routers/capabilities.js';

const flagger = `apiVersion: flagger.app/v1beta1
kind: Canary
metadata: { name: podinfo, namespace: test }
spec:
  targetRef: { apiVersion: apps/v1, kind: Deployment, name: podinfo }
  service: { port: 9898 }
  analysis:
    interval: 5s
    threshold: 5
    maxWeight: 50
    stepWeight: 10
    webhooks:
      - name: load
        type: ""
        url: http://loadtester.test/
---
apiVersion: flagger.app/v1beta1
kind: AlertProvider
metadata: { name: slack, namespace: test }
spec:
  type: slack
  address: https://hooks.slack.com/services/T/B/X
  secretRef: { name: slack-url }
---
apiVersion: v1
kind: Service
metadata: { name: untouched }
`;

describe('convertFlagger: Rocket.Chat and Google Chat providers', () => {
  it.each(['rocket', 'gchat'])('carries a %s AlertProvider over as it is', (type) => {
    const r = convertFlagger(`apiVersion: flagger.app/v1beta1
kind: AlertProvider
metadata: { name: chat, namespace: test }
spec:
  type: ${type}
  secretRef: { name: chat-url }
`);
    const doc = yaml.load(r.yaml) as Record<string, any>;
    expect(doc.spec.type).toBe(type);
    expect(validateDocument(doc).filter((v) => v.severity === 'error')).toEqual([]);
    expect(r.notes.filter((n) => n.path === 'spec.type')).toEqual([]);
  });
});

describe('convertFlagger: vendor MetricTemplates', () => {
  it.each(['datadog', 'dynatrace', 'newrelic', 'influxdb'])(
    'carries a %s template over with no planned note, and the result validates',
    (type) => {
      const r = convertFlagger(`apiVersion: flagger.app/v1beta1
kind: MetricTemplate
metadata: { name: t, namespace: test }
spec:
  provider: { type: ${type}, address: 'https://api.example.test', secretRef: { name: creds } }
  query: avg:requests{*}
`);
      const doc = yaml.load(r.yaml) as Record<string, any>;
      expect(doc.spec.provider.type).toBe(type);
      expect(r.notes.filter((n) => n.path === 'spec.provider.type')).toEqual([]);
      expect(validateDocument(doc).filter((v) => v.severity === 'error')).toEqual([]);
    },
  );
});

describe('convertFlagger: cloud MetricTemplates', () => {
  // Flagger's CloudWatch example: no secretRef (the pod's IAM role), a region.
  const cloudwatch = `apiVersion: flagger.app/v1beta1
kind: MetricTemplate
metadata: { name: errors, namespace: test }
spec:
  provider: { type: cloudwatch, region: ap-northeast-1 }
  query: '[{"Id": "e1", "Expression": "m1 / m2"}]'
`;

  it('keeps a cloudwatch region and asks for the keys Flagger took from the pod', () => {
    const r = convertFlagger(cloudwatch);
    const doc = yaml.load(r.yaml) as Record<string, any>;
    expect(doc.spec.provider).toEqual({ type: 'cloudwatch', region: 'ap-northeast-1' });
    expect(r.notes.map((n) => `${n.path}: ${n.message}`)).toEqual([
      "spec.provider.secretRef: Flagger used the pod's own cloud identity here; Weir needs a secretRef to a labelled Secret with aws_access_key_id and aws_secret_access_key (and aws_session_token for temporary keys)",
    ]);
    doc.spec.provider.secretRef = { name: 'aws' };
    expect(validateDocument(doc).filter((v) => v.severity === 'error')).toEqual([]);
  });

  it('says which providers Weir has for one it has not (Splunk), and validation refuses the type', () => {
    const r = convertFlagger(`apiVersion: flagger.app/v1beta1
kind: MetricTemplate
metadata: { name: errors, namespace: test }
spec:
  provider: { type: splunk, address: 'https://splunk.example.test', secretRef: { name: splunk } }
  query: sf.org.numDatapointsReceived
`);
    expect(r.notes.map((n) => `${n.path}: ${n.message}`)).toContain(
      'spec.provider.type: Weir has no metric provider "splunk" (it has prometheus, datadog, dynatrace, newrelic, graphite, cloudwatch, stackdriver, influxdb): this template will be rejected',
    );
    const doc = yaml.load(r.yaml) as Record<string, any>;
    expect(
      validateDocument(doc)
        .filter((v) => v.severity === 'error')
        .map((v) => v.path),
    ).toContain('spec.provider.type');
  });

  it('carries a stackdriver template over, and the result validates', () => {
    const r = convertFlagger(`apiVersion: flagger.app/v1beta1
kind: MetricTemplate
metadata: { name: errors, namespace: test }
spec:
  provider: { type: stackdriver, secretRef: { name: gcloud-sa } }
  query: fetch k8s_container | within 1m
`);
    const doc = yaml.load(r.yaml) as Record<string, any>;
    expect(r.notes.filter((n) => n.path.startsWith('spec.provider.type'))).toEqual([]);
    expect(r.notes.map((n) => n.path)).toEqual(['spec.provider.secretRef']);
    expect(r.notes[0]!.message).toMatch(/^label the Secret gcloud-sa/);
    expect(validateDocument(doc).filter((v) => v.severity === 'error')).toEqual([]);
  });
});

describe('convertFlagger: AlertProvider proxies', () => {
  const provider = (proxy: string) =>
    convertFlagger(`apiVersion: flagger.app/v1beta1
kind: AlertProvider
metadata: { name: chat, namespace: test }
spec:
  type: slack
  proxy: ${proxy}
  secretRef: { name: chat-url }
`);

  it('carries a proxy over as it is, and the result validates', () => {
    const r = provider('http://proxy.infra:3128');
    const doc = yaml.load(r.yaml) as Record<string, any>;
    expect(doc.spec.proxy).toBe('http://proxy.infra:3128');
    expect(validateDocument(doc).filter((v) => v.severity === 'error')).toEqual([]);
    expect(r.notes.filter((n) => n.path === 'spec.proxy')).toEqual([]);
  });

  it('moves a proxy with credentials out of the spec, saying where it goes', () => {
    const r = provider('http://user:pa55@proxy.infra:3128');
    const doc = yaml.load(r.yaml) as Record<string, any>;
    expect(doc.spec.proxy).toBeUndefined();
    expect(r.yaml).not.toContain('pa55');
    expect(
      r.notes.filter((n) => n.path === 'spec.proxy').map((n) => `${n.path}: ${n.message}`),
    ).toEqual([
      'spec.proxy: removed: it carries credentials, which Weir reads only from Secrets; put the proxy URL in the Secret of spec.secretRef under the key "proxy"',
    ]);
  });
});

describe('convertFlagger', () => {
  const result = convertFlagger(flagger);
  const docs = yaml.loadAll(result.yaml) as Record<string, any>[];

  it('rewrites the Flagger kinds to weir.dev/v1alpha1 and leaves other documents alone', () => {
    expect(docs.map((d) => `${d.apiVersion} ${d.kind}`)).toEqual([
      'weir.dev/v1alpha1 Canary',
      'weir.dev/v1alpha1 AlertProvider',
      'v1 Service',
    ]);
    expect(result.converted).toBe(2);
  });

  it('produces documents that pass Weir validation', () => {
    expect(validateDocument(docs[0]).filter((v) => v.severity === 'error')).toEqual([]);
    expect(validateDocument(docs[1]).filter((v) => v.severity === 'error')).toEqual([]);
  });

  it('says what it changed or could not carry over', () => {
    expect(result.notes.map((n) => `${n.object} ${n.path}`)).toEqual([
      'Canary/podinfo spec.analysis.interval',
      'Canary/podinfo spec.analysis.webhooks[0].type',
      'AlertProvider/slack spec.address',
      'AlertProvider/slack spec.secretRef',
    ]);
    expect(result.notes[2]!.message).toMatch(/Secret/);
    expect(result.notes[3]!.message).toBe(
      'label the Secret slack-url weir.dev/credentials=true: Weir uses only labelled Secrets as credentials',
    );
    expect(docs[0]!.spec.analysis.interval).toBe('10s');
  });

  it('says what a multi-tenant Weir refuses that Flagger runs (ADR 0012)', () => {
    const { notes } = convertFlagger(`apiVersion: flagger.app/v1beta1
kind: Canary
metadata: { name: podinfo, namespace: test }
spec:
  targetRef: { apiVersion: apps/v1, kind: Deployment, name: podinfo }
  service: { port: 9898 }
  analysis:
    interval: 1m
    stepWeight: 10
    metrics:
      - name: not-found
        query: sum(rate(http_requests_total{status="404"}[1m]))
      - name: latency
        templateRef: { name: latency, namespace: istio-system }
        templateVariables: { route: "api-.*", window: 5m }
    alerts:
      - name: team
        providerRef: { name: slack, namespace: flagger }
`);
    expect(notes.map((n) => `${n.path}: ${n.message.split(':')[0]}`)).toEqual([
      "spec.analysis.alerts[0].providerRef.namespace: the AlertProvider flagger/slack must list this Canary's namespace (or *) in spec.allowedNamespaces, unless both are in the same namespace",
      'spec.analysis.metrics[0].query: inline queries run only on a Weir controller started with --allow-inline-queries',
      "spec.analysis.metrics[1].templateRef.namespace: the MetricTemplate istio-system/latency must list this Canary's namespace (or *) in spec.allowedNamespaces, unless both are in the same namespace",
      'spec.analysis.metrics[1].templateVariables.route: Weir rejects this value',
    ]);
  });
});

describe('convertFlagger: a Skipper Canary', () => {
  // Flagger's Skipper tutorial (docs/gitbook/tutorials/skipper-progressive-delivery.md).
  const skipperCanary = (ingressVersion: string) => `apiVersion: flagger.app/v1beta1
kind: Canary
metadata: { name: podinfo, namespace: test }
spec:
  provider: skipper
  targetRef: { apiVersion: apps/v1, kind: Deployment, name: podinfo }
  ingressRef: { apiVersion: ${ingressVersion}, kind: Ingress, name: podinfo }
  autoscalerRef: { apiVersion: autoscaling/v2, kind: HorizontalPodAutoscaler, name: podinfo }
  progressDeadlineSeconds: 60
  service: { port: 80, targetPort: 9898 }
  analysis:
    interval: 10s
    threshold: 10
    maxWeight: 50
    stepWeight: 5
    metrics:
      - { name: request-success-rate, interval: 1m, thresholdRange: { min: 99 } }
      - { name: request-duration, interval: 1m, thresholdRange: { max: 500 } }
    webhooks:
      - { name: gate, type: confirm-rollout, url: http://flagger-loadtester.test/gate/approve }
`;

  it('carries it over as it is; it validates and the skipper provider can route it', () => {
    const r = convertFlagger(skipperCanary('networking.k8s.io/v1'));
    const doc = yaml.load(r.yaml) as Record<string, any>;
    expect(doc.spec.provider).toBe('skipper');
    expect(doc.spec.ingressRef).toEqual({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      name: 'podinfo',
    });
    expect(r.notes).toEqual([]);
    expect(validateDocument(doc).filter((v) => v.severity === 'error')).toEqual([]);
    expect(providerProblem('skipper', doc as Canary)).toBeUndefined();
  });

  it.each(['networking.k8s.io/v1beta1', 'extensions/v1beta1'])(
    'moves an ingressRef of %s to networking.k8s.io/v1, saying so',
    (version) => {
      const r = convertFlagger(skipperCanary(version));
      const doc = yaml.load(r.yaml) as Record<string, any>;
      expect(doc.spec.ingressRef.apiVersion).toBe('networking.k8s.io/v1');
      expect(r.notes.map((n) => `${n.path}: ${n.message}`)).toEqual([
        `spec.ingressRef.apiVersion: was ${version}, which Kubernetes 1.22 and later do not serve: set to networking.k8s.io/v1, the same Ingress`,
      ]);
      expect(providerProblem('skipper', doc as Canary)).toBeUndefined();
    },
  );
});

describe('convertFlagger: APISIX and Kuma Canaries', () => {
  // Flagger's APISIX tutorial (docs/gitbook/tutorials/apisix-progressive-delivery.md).
  const apisixCanary = `apiVersion: flagger.app/v1beta1
kind: Canary
metadata: { name: podinfo, namespace: test }
spec:
  provider: apisix
  targetRef: { apiVersion: apps/v1, kind: Deployment, name: podinfo }
  routeRef: { apiVersion: apisix.apache.org/v2, kind: ApisixRoute, name: podinfo }
  progressDeadlineSeconds: 60
  service: { port: 80, targetPort: 9898 }
  analysis:
    interval: 10s
    threshold: 10
    maxWeight: 50
    stepWeight: 10
    metrics:
      - { name: request-success-rate, interval: 1m, thresholdRange: { min: 99 } }
      - { name: request-duration, interval: 30s, thresholdRange: { max: 500 } }
`;
  // Flagger's Kuma tutorial: the mesh in an annotation, Kuma's protocol annotations on the Services.
  const kumaCanary = `apiVersion: flagger.app/v1beta1
kind: Canary
metadata:
  name: podinfo
  namespace: test
  annotations: { kuma.io/mesh: default }
spec:
  provider: kuma
  targetRef: { apiVersion: apps/v1, kind: Deployment, name: podinfo }
  progressDeadlineSeconds: 60
  service:
    port: 9898
    targetPort: 9898
    apex: { annotations: { 9898.service.kuma.io/protocol: http } }
    canary: { annotations: { 9898.service.kuma.io/protocol: http } }
    primary: { annotations: { 9898.service.kuma.io/protocol: http } }
  analysis:
    interval: 30s
    threshold: 5
    maxWeight: 50
    stepWeight: 5
    metrics:
      - { name: request-success-rate, threshold: 99, interval: 1m }
      - { name: request-duration, threshold: 500, interval: 30s }
`;

  it.each([
    ['apisix', apisixCanary],
    ['kuma', kumaCanary],
  ])(
    'carries a %s Canary over as it is; it validates and the provider can route it',
    (provider, text) => {
      const r = convertFlagger(text);
      const doc = yaml.load(r.yaml) as Record<string, any>;
      const source = yaml.load(text) as Record<string, any>;
      expect(doc.spec).toEqual(source.spec);
      expect(doc.metadata).toEqual(source.metadata);
      expect(r.notes).toEqual([]);
      expect(validateDocument(doc).filter((v) => v.severity === 'error')).toEqual([]);
      expect(providerProblem(provider, doc as Canary)).toBeUndefined();
    },
  );
});

describe('convertFlagger: a DaemonSet Canary', () => {
  // Flagger's DaemonSet support (pkg/canary/daemonset_controller.go): blue/green with plain Services.
  const daemonSetCanary = (extra = '') => `apiVersion: flagger.app/v1beta1
kind: Canary
metadata: { name: node-agent, namespace: monitoring }
spec:
  provider: kubernetes
  targetRef: { apiVersion: apps/v1, kind: DaemonSet, name: node-agent }
${extra}  service: { port: 9100 }
  analysis:
    interval: 30s
    threshold: 2
    iterations: 5
    webhooks:
      - { name: smoke, type: rollout, url: http://flagger-loadtester.test/ }
`;

  it('carries it over as it is, with no note, and the result validates', () => {
    const r = convertFlagger(daemonSetCanary());
    const doc = yaml.load(r.yaml) as Record<string, any>;
    expect(doc.apiVersion).toBe('weir.dev/v1alpha1');
    expect(doc.spec.targetRef).toEqual({
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      name: 'node-agent',
    });
    expect(r.notes).toEqual([]);
    expect(validateDocument(doc).filter((v) => v.severity === 'error')).toEqual([]);
  });

  it('drops an autoscalerRef, which a DaemonSet cannot have, saying so', () => {
    const r = convertFlagger(
      daemonSetCanary(
        '  autoscalerRef: { apiVersion: autoscaling/v2, kind: HorizontalPodAutoscaler, name: node-agent }\n',
      ),
    );
    const doc = yaml.load(r.yaml) as Record<string, any>;
    expect(doc.spec.autoscalerRef).toBeUndefined();
    expect(r.notes.map((n) => `${n.path}: ${n.message}`)).toEqual([
      'spec.autoscalerRef: removed: a DaemonSet runs one pod per node and has no autoscaler',
    ]);
  });

  it('still refuses a kind Weir cannot release (Flagger’s Service targets), and validation names the field', () => {
    const r = convertFlagger(
      daemonSetCanary().replace(
        '{ apiVersion: apps/v1, kind: DaemonSet',
        '{ apiVersion: v1, kind: Service',
      ),
    );
    expect(r.notes.map((n) => `${n.path}: ${n.message}`)).toEqual([
      'spec.targetRef.kind: Weir releases Deployments, DaemonSets, StatefulSets and Knative Services only; v1 Service cannot be carried over',
    ]);
    const doc = yaml.load(r.yaml) as Record<string, any>;
    expect(
      validateDocument(doc)
        .filter((v) => v.severity === 'error')
        .map((v) => v.path),
    ).toContain('spec.targetRef.kind');
  });
});
