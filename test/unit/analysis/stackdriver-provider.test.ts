import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sharedBy } from '../../../src/analysis/provider-transport.js';
import {
  StackdriverProvider,
  parseServiceAccountKey,
} from '../../../src/analysis/stackdriver-provider.js';
import {
  mqlAnswer,
  startCloudMonitoringApi,
  testServiceAccount,
  type MqlCall,
} from '../../harness/cloud-monitoring-api.js';
import type { ApiAnswer } from '../../harness/vendor-api.js';

/**
 * The stackdriver provider against a local server that speaks Cloud Monitoring's documented
 * `timeSeries:query` method and checks the self-signed service account token with the
 * account's public key: the contract, not the service.
 */
const account = testServiceAccount('weir-tests');
let clock = Date.parse('2026-12-04T10:00:00Z');
let reply: (call: MqlCall) => ApiAnswer = () => mqlAnswer();
let api: Awaited<ReturnType<typeof startCloudMonitoringApi>>;
beforeAll(async () => {
  api = await startCloudMonitoringApi(
    account,
    () => clock,
    (call) => reply(call),
  );
});
afterAll(() => api.stop());
beforeEach(() => {
  api.calls.length = 0;
  api.refused.length = 0;
});

const provider = (settings: Record<string, string> = {}) =>
  new StackdriverProvider(
    {
      type: 'stackdriver',
      address: api.url,
      headers: {},
      insecureSkipVerify: false,
      timeoutMs: 2_000,
      settings: { serviceAccountKey: account.keyFile, ...settings },
    },
    sharedBy({}),
    () => clock,
  );
const mql = "fetch k8s_container | metric 'x' | within 1m";

describe('StackdriverProvider', () => {
  it('signs its own token for the Monitoring API and reads the newest point of one series', async () => {
    reply = () => mqlAnswer([0.25, 0.5, 0.75]);
    expect(await provider().measure(mql)).toEqual({ kind: 'value', value: 0.25 });
    expect(api.refused).toEqual([]);
    // The project is the key's project_id unless the Secret names one.
    expect(api.calls).toEqual([{ project: 'weir-tests', query: mql }]);
    await provider({ project: '123456789' }).measure(mql);
    expect(api.calls[1]!.project).toBe('123456789');
  });

  it('reads int64 values (Flagger reads them as 0) and gives every point to the judge', async () => {
    reply = () => mqlAnswer(['42', '40']);
    expect(await provider().measure(mql)).toEqual({ kind: 'value', value: 42 });
    reply = () => mqlAnswer([1, 2], [3]);
    expect(await provider().samples(mql, { seconds: 60, stepSeconds: 5 })).toEqual({
      kind: 'samples',
      values: [1, 2, 3],
    });
  });

  it('refuses several series, and says no data for none or no points', async () => {
    reply = () => mqlAnswer([1], [2]);
    expect(await provider().measure(mql)).toEqual({
      kind: 'error',
      reason: 'the query returned 2 time series; a check needs one: group_by [] or filter it',
    });
    reply = () => mqlAnswer();
    expect(await provider().measure(mql)).toEqual({
      kind: 'no-data',
      reason: 'the query returned no time series',
    });
    reply = () => mqlAnswer([]);
    expect(await provider().measure(mql)).toEqual({
      kind: 'no-data',
      reason: 'the time series has no points',
    });
  });

  it('says what the API refused, in its words', async () => {
    reply = () => ({
      status: 400,
      body: {
        error: {
          code: 400,
          message: "Line 1, column 24: Unknown table operation 'metrc'.",
          status: 'INVALID_ARGUMENT',
        },
      },
    });
    expect(await provider().measure(mql)).toEqual({
      kind: 'error',
      reason:
        "Cloud Monitoring answered HTTP 400: INVALID_ARGUMENT: Line 1, column 24: Unknown table operation 'metrc'.",
    });
  });

  it('pauses for Retry-After after a 429, without sending', async () => {
    const p = provider();
    reply = () => ({
      status: 429,
      body: { error: { code: 429, status: 'RESOURCE_EXHAUSTED' } },
      headers: { 'Retry-After': '20' },
    });
    expect(await p.measure(mql)).toEqual({
      kind: 'error',
      reason: "Cloud Monitoring's rate limit was reached (HTTP 429): no query for 20s",
    });
    expect(await p.measure(mql)).toMatchObject({ kind: 'error' });
    expect(api.calls).toHaveLength(1);
  });

  it('renews its token before the hour is out, and the stand-in refuses an expired one', async () => {
    reply = () => mqlAnswer([1]);
    const p = provider();
    await p.measure(mql);
    clock += 55 * 60_000;
    expect(await p.measure(mql)).toEqual({ kind: 'value', value: 1 });
    expect(api.refused).toEqual([]);
    // Another account's key is refused: the signature does not verify.
    const other = testServiceAccount('weir-tests', 'intruder');
    const intruder = provider({
      serviceAccountKey: other.keyFile.replace(/intruder-key-1/, account.keyId),
    });
    expect(await intruder.probe()).toBe(
      'Cloud Monitoring refused the query (HTTP 401): authentication required; check the secretRef credentials',
    );
    expect(api.refused).toEqual(['signature does not verify']);
    // Flagger's probe: an empty query, refused as invalid once authorised.
    expect(await p.probe()).toBeUndefined();
  });

  it('says what is wrong with a key file without echoing it, and asks nothing', async () => {
    expect(parseServiceAccountKey('{"private_key": "secret"')).toEqual({
      error: 'serviceAccountKey is not JSON (a service account key file is)',
    });
    expect(parseServiceAccountKey('{"type": "authorized_user"}')).toEqual({
      error: 'serviceAccountKey is not a service account key file (type service_account)',
    });
    const broken = JSON.stringify({
      ...(JSON.parse(account.keyFile) as object),
      private_key: '-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n',
    });
    expect(parseServiceAccountKey(broken)).toEqual({
      error: 'the private_key of serviceAccountKey is not a PEM private key',
    });
    expect(await provider({ serviceAccountKey: broken }).measure(mql)).toEqual({
      kind: 'error',
      reason: 'the private_key of serviceAccountKey is not a PEM private key',
    });
    expect(await provider({ project: '../../v1/secrets' }).probe()).toBe(
      'project "../../v1/secrets" is not a Google Cloud project id or number',
    );
    expect(api.calls).toEqual([]);
  });
});
