import { createHash, createHmac } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { startVendorApi, type ApiAnswer, type VendorApi } from './vendor-api.js';

/** The keys the stand-in accepts, and the region and service it signs for. */
export interface AwsKeys {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  region: string;
}

const sha256 = (data: string) => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string) =>
  createHmac('sha256', key).update(data).digest();

/**
 * Checks an AWS Signature Version 4 `Authorization` header the way AWS documents it
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html), written
 * here without the `aws4` library Weir signs with, so the two must agree: the canonical
 * request over the signed headers and the body's hash, the credential scope
 * `<date>/<region>/monitoring/aws4_request`, the key derived from the secret. Returns what
 * is wrong, or undefined.
 */
export function sigV4Problem(
  req: { method: string; url: string; raw: string; headers: IncomingHttpHeaders },
  keys: AwsKeys,
  service = 'monitoring',
): string | undefined {
  const auth = String(req.headers.authorization ?? '');
  const m =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/.exec(
      auth,
    );
  if (!m) return `malformed Authorization: ${auth.slice(0, 80)}`;
  const [, keyId, date, region, svc, signedHeaders, signature] = m;
  if (keyId !== keys.accessKeyId) return `unknown access key ${keyId}`;
  if (region !== keys.region) return `signed for region ${region}, not ${keys.region}`;
  if (svc !== service) return `signed for service ${svc}, not ${service}`;
  const amzDate = String(req.headers['x-amz-date'] ?? '');
  if (!amzDate.startsWith(date!)) return `X-Amz-Date ${amzDate} is not of the scope's day ${date}`;
  const names = signedHeaders!.split(';');
  for (const required of ['host', 'x-amz-date', 'x-amz-target'])
    if (!names.includes(required)) return `${required} is not signed`;
  if (keys.sessionToken !== undefined) {
    if (req.headers['x-amz-security-token'] !== keys.sessionToken) return 'wrong session token';
    if (!names.includes('x-amz-security-token')) return 'the session token is not signed';
  }
  const u = new URL(req.url, 'http://x');
  const query = [...u.searchParams]
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .sort()
    .join('&');
  const canonicalHeaders = names
    .map(
      (n) =>
        `${n}:${String(req.headers[n] ?? '')
          .trim()
          .replace(/\s+/g, ' ')}\n`,
    )
    .join('');
  const canonical = [
    req.method,
    u.pathname,
    query,
    canonicalHeaders,
    signedHeaders,
    sha256(req.raw),
  ].join('\n');
  const scope = `${date}/${region}/${svc}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
  let key: Buffer = hmac(`AWS4${keys.secretAccessKey}`, date!);
  for (const part of [region!, svc!, 'aws4_request']) key = hmac(key, part);
  const expected = createHmac('sha256', key).update(toSign).digest('hex');
  return expected === signature ? undefined : 'signature does not match';
}

/** One GetMetricData request the stand-in received. */
export interface CloudWatchCall {
  target: string;
  body: {
    MetricDataQueries?: { Id?: string; Label?: string; ReturnData?: boolean }[];
    StartTime?: number;
    EndTime?: number;
    ScanBy?: string;
  };
}

/**
 * A local server speaking CloudWatch's documented JSON protocol for GetMetricData (the
 * contract, not the service): it checks the SigV4 signature, the target and the
 * `amz-1.0` encoding, and lets `answer` reply to each signed call. An unsigned or wrongly
 * signed call gets CloudWatch's 403 `SignatureDoesNotMatch`/`InvalidClientTokenId`.
 */
export async function startCloudWatchApi(
  keys: AwsKeys,
  answer: (call: CloudWatchCall) => ApiAnswer,
): Promise<VendorApi & { calls: CloudWatchCall[]; refused: string[] }> {
  const calls: CloudWatchCall[] = [];
  const refused: string[] = [];
  const api = await startVendorApi((_path, _params, headers, body, request) => {
    const problem = sigV4Problem({ ...request, headers }, keys);
    if (problem) {
      refused.push(problem);
      return {
        status: 403,
        body: { __type: 'com.amazon.coral.service#SignatureDoesNotMatch', message: problem },
      };
    }
    const target = String(headers['x-amz-target'] ?? '');
    if (request.method !== 'POST' || headers['content-encoding'] !== 'amz-1.0')
      return { status: 400, body: { __type: 'InvalidAction', message: 'not a JSON request' } };
    if (target !== 'GraniteServiceVersion20100801.GetMetricData')
      return { status: 400, body: { __type: 'UnknownOperationException' } };
    const call = { target, body: (body ?? {}) as CloudWatchCall['body'] };
    calls.push(call);
    if (!call.body.MetricDataQueries?.length)
      return {
        status: 400,
        body: {
          __type: 'com.amazonaws.cloudwatch#InvalidParameterValue',
          message: 'The parameter MetricDataQueries must contain at least 1 item.',
        },
      };
    return answer(call);
  });
  return { ...api, calls, refused };
}
