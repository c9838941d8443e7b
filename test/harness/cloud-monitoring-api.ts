import { generateKeyPairSync, verify, type KeyObject } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { startVendorApi, type ApiAnswer, type VendorApi } from './vendor-api.js';

/** A service account made for a test: its key file (as Google issues one) and public key. */
export interface TestServiceAccount {
  keyFile: string;
  email: string;
  keyId: string;
  publicKey: KeyObject;
}

/** Makes a service account key file with a fresh RSA key, for a project. */
export function testServiceAccount(projectId: string, name = 'weir-reader'): TestServiceAccount {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const email = `${name}@${projectId}.iam.gserviceaccount.com`;
  const keyId = `${name}-key-1`;
  const keyFile = JSON.stringify({
    type: 'service_account',
    project_id: projectId,
    private_key_id: keyId,
    private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    client_email: email,
    token_uri: 'https://oauth2.googleapis.com/token',
  });
  return { keyFile, email, keyId, publicKey };
}

/**
 * Checks a self-signed service account token the way Google documents it ("service account
 * authorization without OAuth": an RS256 JWT whose `kid` is the key id, `iss` and `sub` the
 * account's email, `aud` the API's URL, at most an hour long), against the account's public
 * key and the server's clock. Returns what is wrong, or undefined.
 */
export function jwtProblem(
  headers: IncomingHttpHeaders,
  account: TestServiceAccount,
  nowSeconds: number,
): string | undefined {
  const m = /^Bearer ([\w-]+)\.([\w-]+)\.([\w-]+)$/.exec(String(headers.authorization ?? ''));
  if (!m) return 'no bearer JWT';
  const [, h, c, s] = m;
  const head = JSON.parse(Buffer.from(h!, 'base64url').toString()) as Record<string, unknown>;
  const claims = JSON.parse(Buffer.from(c!, 'base64url').toString()) as Record<string, unknown>;
  if (head.alg !== 'RS256' || head.kid !== account.keyId) return 'wrong alg or kid';
  if (!verify('sha256', Buffer.from(`${h}.${c}`), account.publicKey, Buffer.from(s!, 'base64url')))
    return 'signature does not verify';
  if (claims.iss !== account.email || claims.sub !== account.email) return 'wrong iss or sub';
  if (claims.aud !== 'https://monitoring.googleapis.com/') return `wrong aud ${String(claims.aud)}`;
  const iat = Number(claims.iat);
  const exp = Number(claims.exp);
  if (!(exp > iat && exp - iat <= 3600)) return 'lifetime over an hour';
  if (nowSeconds < iat - 300 || nowSeconds > exp) return 'expired or not yet valid';
  return undefined;
}

/** One query the stand-in received. */
export interface MqlCall {
  project: string;
  query: string;
}

/**
 * A local server speaking Cloud Monitoring's documented `timeSeries:query` (MQL) REST
 * method (the contract, not the service): it checks the self-signed token against the
 * account's public key and the clock `now`, and lets `answer` reply to each authorised call.
 * An empty query is refused as INVALID_ARGUMENT, as the API does.
 */
export async function startCloudMonitoringApi(
  account: TestServiceAccount,
  now: () => number,
  answer: (call: MqlCall) => ApiAnswer,
): Promise<VendorApi & { calls: MqlCall[]; refused: string[] }> {
  const calls: MqlCall[] = [];
  const refused: string[] = [];
  const api = await startVendorApi((path, _params, headers, body, request) => {
    const problem = jwtProblem(headers, account, Math.floor(now() / 1000));
    if (problem) {
      refused.push(problem);
      return {
        status: 401,
        body: { error: { code: 401, message: problem, status: 'UNAUTHENTICATED' } },
      };
    }
    const m = /^\/v3\/projects\/([^/]+)\/timeSeries:query$/.exec(path);
    if (request.method !== 'POST' || !m)
      return { status: 404, body: { error: { code: 404, status: 'NOT_FOUND' } } };
    const query = String((body as { query?: unknown } | undefined)?.query ?? '');
    const call = { project: decodeURIComponent(m[1]!), query };
    calls.push(call);
    if (query.trim() === '')
      return {
        status: 400,
        body: { error: { code: 400, message: 'Query is empty.', status: 'INVALID_ARGUMENT' } },
      };
    return answer(call);
  });
  return { ...api, calls, refused };
}

/** An MQL answer: one series per list of (newest first) values, doubles or int64 strings. */
export function mqlAnswer(...series: (number | string)[][]): ApiAnswer {
  return {
    body: {
      timeSeriesDescriptor: {
        labelDescriptors: [{ key: 'resource.container_name' }],
        pointDescriptors: [{ key: 'value', valueType: 'DOUBLE', metricKind: 'GAUGE' }],
      },
      timeSeriesData: series.map((values, i) => ({
        labelValues: [{ stringValue: `c${i}` }],
        pointData: values.map((v) => ({
          values: [typeof v === 'string' ? { int64Value: v } : { doubleValue: v }],
          timeInterval: { endTime: '2026-12-04T10:00:00Z' },
        })),
      })),
    },
  };
}
