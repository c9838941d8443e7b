import { createPrivateKey, sign, type KeyObject } from 'node:crypto';
import type { Measurement, SampleWindow, Samples } from '../contracts/measurement.js';
import { bounded, oneLine } from '../util/text.js';
import type { ProviderConfig } from './metric-provider.js';
import { reasonLimit, type ProviderRequest, type Shared } from './provider-transport.js';
import { VendorProvider, vendorFactory, type Answered } from './vendor-provider.js';

/** Where a stackdriver template without `provider.address` queries (Cloud Monitoring API). */
export const stackdriverDefaultAddress = 'https://monitoring.googleapis.com';
/** The Secret keys of a stackdriver template, as Flagger names them. */
export const stackdriverSecretKeys = {
  serviceAccountKey: 'serviceAccountKey',
  /** Optional in Weir: the key's own `project_id` otherwise. */
  project: 'project',
} as const;

/** The audience of a self-signed service-account token for the Cloud Monitoring API. */
const audience = 'https://monitoring.googleapis.com/';
/** A token lives an hour at most; Weir signs a new one after 50 minutes. */
const tokenSeconds = 3600;
const renewAfterMs = 50 * 60_000;
/** Pause after a 429 that names no Retry-After. */
const defaultRetrySeconds = 30;
/** A Google Cloud project id, or a project number. */
const projectPattern = /^([a-z][a-z0-9-]{4,28}[a-z0-9]|[0-9]{1,20})$/;

/** What a service account key file must hold for Weir to sign with it. */
export interface ServiceAccountKey {
  clientEmail: string;
  privateKeyId: string;
  privateKey: KeyObject;
  projectId?: string;
}

/**
 * Reads a service account key file (the JSON Google Cloud issues), or says what is wrong
 * with it: never the key's content, which is a secret.
 */
export function parseServiceAccountKey(text: string): ServiceAccountKey | { error: string } {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return { error: 'serviceAccountKey is not JSON (a service account key file is)' };
  }
  if (typeof json !== 'object' || json === null || json.type !== 'service_account')
    return { error: 'serviceAccountKey is not a service account key file (type service_account)' };
  const { client_email: email, private_key: pem, private_key_id: id, project_id: project } = json;
  if (typeof email !== 'string' || typeof pem !== 'string' || typeof id !== 'string')
    return { error: 'serviceAccountKey lacks client_email, private_key or private_key_id' };
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch {
    return { error: 'the private_key of serviceAccountKey is not a PEM private key' };
  }
  if (privateKey.asymmetricKeyType !== 'rsa')
    return { error: 'the private_key of serviceAccountKey is not an RSA key' };
  return {
    clientEmail: email,
    privateKeyId: id,
    privateKey,
    ...(typeof project === 'string' ? { projectId: project } : {}),
  };
}

/** Why a project id cannot be used, or undefined. */
export function projectProblem(project: string): string | undefined {
  return projectPattern.test(project)
    ? undefined
    : `project ${JSON.stringify(project.slice(0, 40))} is not a Google Cloud project id or number`;
}

interface TimeSeriesData {
  pointData?: unknown;
}

/**
 * Google Cloud Monitoring's Monitoring Query Language (`POST /v3/projects/<project>/timeSeries:query`,
 * documented at https://cloud.google.com/monitoring/api/ref_v3/rest/v3/projects.timeSeries/query),
 * Flagger's `stackdriver` provider: the template's query is MQL, the project and the service
 * account key come from the Secret (`project`, `serviceAccountKey`, as in Flagger).
 *
 * - Authorisation is a token the service account signs itself (RS256 JWT, audience the
 *   Monitoring API: Google's "service account authorization without OAuth"), so no token
 *   endpoint is asked and nothing but the Monitoring API is reached. It is renewed after
 *   50 minutes. Workload Identity (the metadata server) is not used: the controller's egress
 *   policy denies metadata addresses.
 * - MQL places the window in the query (`| within {{ interval }}`).
 * - A check needs one time series; its value is the newest point's first value (double or
 *   int64; Flagger reads int64 as 0). Several series are an error, none is no data.
 * - For the judge, the first value of every point of every series.
 * - HTTP 429 (RESOURCE_EXHAUSTED) pauses the provider for its Retry-After (30 s without one).
 * - The probe runs an empty query, which the API refuses as invalid (HTTP 400) once the
 *   token and the project are accepted (Flagger's check).
 */
export class StackdriverProvider extends VendorProvider {
  readonly type = 'stackdriver';
  private readonly key: ServiceAccountKey | { error: string };
  private readonly project: string;
  private token?: { value: string; signedAt: number };

  constructor(config: ProviderConfig, common: Shared, now: () => number) {
    super(config, common, now, 'Cloud Monitoring');
    this.key = parseServiceAccountKey(config.settings?.serviceAccountKey ?? '');
    this.project =
      config.settings?.project ?? ('error' in this.key ? '' : (this.key.projectId ?? ''));
  }

  protected get probeRequest(): ProviderRequest {
    return this.request('');
  }

  async measure(query: string, signal?: AbortSignal): Promise<Measurement> {
    const series = await this.series(query, signal);
    if ('kind' in series) return series;
    if (series.length === 0)
      return { kind: 'no-data', reason: 'the query returned no time series' };
    if (series.length > 1)
      return {
        kind: 'error',
        reason: `the query returned ${series.length} time series; a check needs one: group_by [] or filter it`,
      };
    const values = valuesOf(series[0]!);
    if (values.length === 0) return { kind: 'no-data', reason: 'the time series has no points' };
    // MQL answers the newest point first.
    return { kind: 'value', value: values[0]! };
  }

  async samples(query: string, _window: SampleWindow, signal?: AbortSignal): Promise<Samples> {
    const series = await this.series(query, signal);
    if ('kind' in series) return series;
    const values = series.flatMap(valuesOf);
    if (values.length === 0) return { kind: 'no-data', reason: 'the query returned no points' };
    return { kind: 'samples', values };
  }

  override async probe(signal?: AbortSignal, timeoutMs?: number): Promise<string | undefined> {
    const unusable = this.unusable();
    return unusable ?? super.probe(signal, timeoutMs);
  }

  protected probeAnswered(answer: Answered): boolean {
    return answer.status === 200 || answer.status === 400;
  }

  protected resetSeconds(answer: Answered): number {
    const after = Number(answer.headers['retry-after']);
    return Number.isFinite(after) && after > 0 ? after : defaultRetrySeconds;
  }

  /** The time series of one query, or why there are none. */
  private async series(
    query: string,
    signal: AbortSignal | undefined,
  ): Promise<TimeSeriesData[] | { kind: 'error'; reason: string }> {
    const unusable = this.unusable();
    if (unusable) return { kind: 'error', reason: unusable };
    const answer = await this.query(this.request(query), signal);
    if ('kind' in answer) return answer;
    const data = answer.body.timeSeriesData;
    if (data !== undefined && !Array.isArray(data))
      return { kind: 'error', reason: 'Cloud Monitoring answered without a timeSeriesData list' };
    const errors = answer.body.partialErrors;
    if ((data ?? []).length === 0 && Array.isArray(errors) && errors.length > 0)
      return {
        kind: 'error',
        reason: bounded(`Cloud Monitoring: ${statusMessages(errors)}`, reasonLimit),
      };
    return (data ?? []) as TimeSeriesData[];
  }

  /** Why this provider cannot ask at all (a bad key or project), or undefined. */
  private unusable(): string | undefined {
    if ('error' in this.key) return this.key.error;
    if (!this.project) return 'no project: set the Secret key project (or project_id in the key)';
    return projectProblem(this.project);
  }

  private request(query: string): ProviderRequest {
    return {
      method: 'POST',
      path: `v3/projects/${encodeURIComponent(this.project)}/timeSeries:query`,
      json: { query },
      headers: { Authorization: `Bearer ${this.bearer()}`, 'Content-Type': 'application/json' },
    };
  }

  /** The self-signed token, renewed after 50 minutes. */
  private bearer(): string {
    const key = this.key as ServiceAccountKey;
    const now = this.now();
    if (this.token && now - this.token.signedAt < renewAfterMs && now >= this.token.signedAt)
      return this.token.value;
    const iat = Math.floor(now / 1000);
    const part = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const unsigned = `${part({ alg: 'RS256', typ: 'JWT', kid: key.privateKeyId })}.${part({
      iss: key.clientEmail,
      sub: key.clientEmail,
      aud: audience,
      iat,
      exp: iat + tokenSeconds,
    })}`;
    const signature = sign('sha256', Buffer.from(unsigned), key.privateKey).toString('base64url');
    this.token = { value: `${unsigned}.${signature}`, signedAt: now };
    return this.token.value;
  }

  /** What an unsuccessful answer says: Google puts it in `error.status` and `error.message`. */
  protected failure(answer: Answered): string {
    const error = answer.body.error as { message?: unknown; status?: unknown } | undefined;
    const said = [error?.status, error?.message].filter((x) => typeof x === 'string').join(': ');
    const detail = bounded(oneLine(said), 200);
    return `Cloud Monitoring answered HTTP ${answer.status}${detail ? `: ${detail}` : ''}`;
  }
}

/** The first value of each point of a series, in the order given (newest first). */
function valuesOf(series: TimeSeriesData): number[] {
  const points = Array.isArray(series.pointData) ? (series.pointData as unknown[]) : [];
  const values: number[] = [];
  for (const point of points) {
    const first = (point as { values?: unknown[] } | null)?.values?.[0] as
      { doubleValue?: unknown; int64Value?: unknown } | undefined;
    const v =
      typeof first?.doubleValue === 'number'
        ? first.doubleValue
        : typeof first?.int64Value === 'string' || typeof first?.int64Value === 'number'
          ? Number(first.int64Value)
          : undefined;
    if (v !== undefined && !Number.isNaN(v)) values.push(v);
  }
  return values;
}

function statusMessages(errors: unknown[]): string {
  return oneLine(
    errors
      .map((e) => (e as { message?: unknown } | null)?.message)
      .filter((m): m is string => typeof m === 'string')
      .join('; '),
  );
}

/** The factory of a controller's Cloud Monitoring providers (one transport pool, one clock). */
export const stackdriverFactory = vendorFactory(
  (config, common, now) => new StackdriverProvider(config, common, now),
);
