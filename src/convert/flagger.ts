import * as yaml from 'js-yaml';
import { credentialsLabel } from '../api/credentials.js';
import { templateVariableMaxLength, templateVariablePattern } from '../api/limits.js';
import { metricProviderTypes } from '../api/metric-template-schema.js';

/** What `convertFlagger` did to one document, or could not do. */
export interface ConversionNote {
  document: number;
  object: string;
  path: string;
  message: string;
}

/** Result of converting a multi-document YAML text. */
export interface ConversionResult {
  yaml: string;
  converted: number;
  notes: ConversionNote[];
}

const flaggerKinds = new Set(['Canary', 'MetricTemplate', 'AlertProvider']);

// Flagger manifests are arbitrary user YAML rewritten path by path; a type per shape would add nothing.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = Record<string, any>;

/** Removes `at.path`.`key` from a Flagger manifest, noting why. */
function drop(
  obj: Obj | undefined,
  at: { path: string; key: string },
  why: string,
  note: (path: string, msg: string) => void,
) {
  const { path, key } = at;
  if (obj && obj[key] !== undefined) {
    delete obj[key];
    note(`${path}.${key}`, `removed: ${why}`);
  }
}

function parseSeconds(d: string): number | undefined {
  const m = /^(\d+)(ms|s|m|h)$/.exec(d);
  if (!m) return undefined;
  const n = Number(m[1]);
  return { ms: n / 1000, s: n, m: n * 60, h: n * 3600 }[m[2] as 'ms' | 's' | 'm' | 'h'];
}

function convertCanary(spec: Obj, note: (path: string, msg: string) => void): void {
  // spec.routeRef (APISIX) carries over as it is: the apisix provider reads it.
  for (const [key, why] of [['upstreamRef', 'Gloo upstreams are not supported by Weir']] as const)
    drop(spec, { path: 'spec', key }, why, note);
  // Flagger's older tutorials (nginx, skipper) name the Ingress by an API version Kubernetes
  // no longer serves (1.22 removed it); the object is the same networking.k8s.io/v1 Ingress.
  const ingressVersion = spec.ingressRef?.apiVersion;
  if (ingressVersion === 'networking.k8s.io/v1beta1' || ingressVersion === 'extensions/v1beta1') {
    spec.ingressRef.apiVersion = 'networking.k8s.io/v1';
    note(
      'spec.ingressRef.apiVersion',
      `was ${String(ingressVersion)}, which Kubernetes 1.22 and later do not serve: set to networking.k8s.io/v1, the same Ingress`,
    );
  }
  const knative =
    spec.targetRef?.kind === 'Service' && spec.targetRef.apiVersion === 'serving.knative.dev/v1';
  if (knative) {
    note(
      'spec.targetRef',
      'a Knative Service: the controller must run with --knative (Helm: routers.knative=true); Weir keeps the primary Revision in the weir.dev/primary-revision annotation and reads Flagger’s flagger.app/primary-revision until then',
    );
  } else if (
    spec.targetRef &&
    !['Deployment', 'DaemonSet', 'StatefulSet'].includes(spec.targetRef.kind)
  ) {
    note(
      'spec.targetRef.kind',
      `Weir releases Deployments, DaemonSets, StatefulSets and Knative Services only; ${String(spec.targetRef.apiVersion)} ${String(spec.targetRef.kind)} cannot be carried over`,
    );
  }
  if (spec.targetRef?.kind === 'DaemonSet' && spec.autoscalerRef) {
    delete spec.autoscalerRef;
    note('spec.autoscalerRef', 'removed: a DaemonSet runs one pod per node and has no autoscaler');
  }
  const analysis: Obj | undefined = spec.analysis ?? spec.canaryAnalysis;
  if (spec.canaryAnalysis) {
    spec.analysis = spec.canaryAnalysis;
    delete spec.canaryAnalysis;
    note('spec.canaryAnalysis', 'renamed to spec.analysis (the v1alpha3 name)');
  }
  if (analysis?.interval !== undefined) {
    const s = parseSeconds(String(analysis.interval));
    if (s !== undefined && s < 10) {
      note(
        'spec.analysis.interval',
        `was ${String(analysis.interval)}; Flagger runs it as 10s, Weir requires at least 10s: set to 10s`,
      );
      analysis.interval = '10s';
    }
  }
  for (const [i, w] of (analysis?.webhooks ?? []).entries()) {
    if (w.type === '') {
      delete w.type;
      note(`spec.analysis.webhooks[${i}].type`, 'empty type removed (means rollout in both)');
    }
  }
  for (const [i, a] of (analysis?.alerts ?? []).entries()) {
    if (a.severity === '') delete a.severity;
    if (a.providerRef?.namespace)
      note(
        `spec.analysis.alerts[${i}].providerRef.namespace`,
        `the AlertProvider ${String(a.providerRef.namespace)}/${String(a.providerRef.name)} must list this Canary's namespace (or *) in spec.allowedNamespaces, unless both are in the same namespace`,
      );
  }
  const safeVariable = new RegExp(templateVariablePattern);
  for (const [i, m] of (analysis?.metrics ?? []).entries()) {
    const at = `spec.analysis.metrics[${i}]`;
    if (m.query)
      note(
        `${at}.query`,
        'inline queries run only on a Weir controller started with --allow-inline-queries: move the query into a MetricTemplate',
      );
    if (m.templateRef?.namespace)
      note(
        `${at}.templateRef.namespace`,
        `the MetricTemplate ${String(m.templateRef.namespace)}/${String(m.templateRef.name)} must list this Canary's namespace (or *) in spec.allowedNamespaces, unless both are in the same namespace`,
      );
    for (const [k, v] of Object.entries((m.templateVariables ?? {}) as Obj))
      if (typeof v !== 'string' || v.length > templateVariableMaxLength || !safeVariable.test(v))
        note(
          `${at}.templateVariables.${k}`,
          'Weir rejects this value: template variables hold only letters, digits and _ . : / -; move regular expressions and the like into the template',
        );
  }
}

function noteCredentials(spec: Obj, note: (path: string, msg: string) => void, path: string) {
  if (spec?.secretRef?.name)
    note(
      `${path}.secretRef`,
      `label the Secret ${String(spec.secretRef.name)} ${credentialsLabel}=true: Weir uses only labelled Secrets as credentials`,
    );
}

/** Providers Flagger can run on the pod's cloud identity, and the Secret keys Weir needs instead. */
const ambientCredentials: Record<string, string> = {
  cloudwatch:
    'aws_access_key_id and aws_secret_access_key (and aws_session_token for temporary keys)',
  stackdriver: 'serviceAccountKey (the key file) and project',
};

function convertMetricTemplate(spec: Obj, note: (path: string, msg: string) => void): void {
  const type = spec.provider?.type;
  if (type && !(metricProviderTypes as readonly string[]).includes(String(type)))
    note(
      'spec.provider.type',
      `Weir has no metric provider "${String(type)}" (it has ${metricProviderTypes.join(', ')}): this template will be rejected`,
    );
  if (type !== 'cloudwatch')
    drop(spec.provider, { path: 'spec.provider', key: 'region' }, 'only used by CloudWatch', note);
  const keys = ambientCredentials[String(type)];
  if (keys && !spec.provider?.secretRef)
    note(
      'spec.provider.secretRef',
      `Flagger used the pod's own cloud identity here; Weir needs a secretRef to a labelled Secret with ${keys}`,
    );
  noteCredentials(spec.provider, note, 'spec.provider');
}

function convertAlertProvider(spec: Obj, note: (path: string, msg: string) => void): void {
  if (spec.address !== undefined) {
    delete spec.address;
    note(
      'spec.address',
      'removed: Weir reads webhook addresses only from the Secret in spec.secretRef (key "address"); move the URL there',
    );
  }
  if (typeof spec.proxy === 'string' && /^[a-z]+:\/\/[^/?#]*@/i.test(spec.proxy)) {
    delete spec.proxy;
    note(
      'spec.proxy',
      'removed: it carries credentials, which Weir reads only from Secrets; put the proxy URL in the Secret of spec.secretRef under the key "proxy"',
    );
  }
  if (!spec.secretRef)
    note(
      'spec.secretRef',
      `required in Weir: add a Secret with the webhook URL under the key "address", labelled ${credentialsLabel}=true`,
    );
  noteCredentials(spec, note, 'spec');
}

/**
 * Rewrites Flagger (flagger.app/v1beta1) Canary, MetricTemplate and AlertProvider
 * documents to weir.dev/v1alpha1, leaving every other document untouched, and
 * says what could not be carried over.
 */
export function convertFlagger(text: string): ConversionResult {
  const docs = yaml.loadAll(text) as unknown[];
  const notes: ConversionNote[] = [];
  let converted = 0;
  const out = docs.map((doc, index) => {
    const d = doc as Obj | null;
    if (
      !d ||
      typeof d !== 'object' ||
      !String(d.apiVersion ?? '').startsWith('flagger.app/') ||
      !flaggerKinds.has(d.kind)
    ) {
      return doc;
    }
    const object = `${String(d.kind)}/${String(d.metadata?.name ?? '?')}`;
    const note = (path: string, message: string) =>
      notes.push({ document: index, object, path, message });
    d.apiVersion = 'weir.dev/v1alpha1';
    d.spec ??= {};
    if (d.kind === 'Canary') convertCanary(d.spec, note);
    if (d.kind === 'MetricTemplate') convertMetricTemplate(d.spec, note);
    if (d.kind === 'AlertProvider') convertAlertProvider(d.spec, note);
    if (d.status !== undefined) delete d.status;
    converted += 1;
    return d;
  });
  return {
    yaml: out
      .filter((d) => d !== null && d !== undefined)
      .map((d) => yaml.dump(d, { lineWidth: 120, noRefs: true }))
      .join('---\n'),
    converted,
    notes,
  };
}
