import aws4 from 'aws4';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  CloudWatchProvider,
  cloudWatchAddress,
} from '../../../src/analysis/cloudwatch-provider.js';
import { sharedBy } from '../../../src/analysis/provider-transport.js';
import {
  sigV4Problem,
  startCloudWatchApi,
  type AwsKeys,
  type CloudWatchCall,
} from '../../harness/cloudwatch-api.js';
import type { ApiAnswer } from '../../harness/vendor-api.js';

/**
 * The CloudWatch provider against a local server that speaks CloudWatch's documented
 * GetMetricData JSON protocol and checks AWS Signature Version 4 with its own code: the
 * contract, not the service.
 */
const keys: AwsKeys = {
  accessKeyId: 'AKIDWEIRTEST',
  secretAccessKey: 'weir/secret+key',
  region: 'eu-west-1',
};
let reply: (call: CloudWatchCall) => ApiAnswer = () => ({ body: { MetricDataResults: [] } });
let api: Awaited<ReturnType<typeof startCloudWatchApi>>;
beforeAll(async () => {
  api = await startCloudWatchApi(keys, (call) => reply(call));
});
afterAll(() => api.stop());
beforeEach(() => {
  api.calls.length = 0;
  api.refused.length = 0;
});

let clock = Date.parse('2026-12-04T10:00:00Z');
const provider = (k: Partial<AwsKeys> = {}) => {
  const { accessKeyId, secretAccessKey, sessionToken, region } = { ...keys, ...k };
  return new CloudWatchProvider(
    {
      type: 'cloudwatch',
      address: api.url,
      headers: {},
      insecureSkipVerify: false,
      timeoutMs: 2_000,
      settings: {
        region,
        accessKeyId,
        secretAccessKey,
        ...(sessionToken ? { sessionToken } : {}),
      },
    },
    sharedBy({}),
    () => clock,
  );
};
const query = JSON.stringify([
  { Id: 'e1', Expression: 'm1 / m2 * 100', Label: 'ErrorRate' },
  {
    Id: 'm1',
    MetricStat: { Metric: { MetricName: 'Errors' }, Period: 60, Stat: 'Sum' },
    ReturnData: false,
  },
  {
    Id: 'm2',
    MetricStat: { Metric: { MetricName: 'Requests' }, Period: 60, Stat: 'Sum' },
    ReturnData: false,
  },
]);
const result = (id: string, values: number[], status = 'Complete') => ({
  Id: id,
  Label: id,
  StatusCode: status,
  Timestamps: values.map((_, i) => Math.floor(clock / 1000) - 60 * (i + 1)),
  Values: values,
});

describe('AWS Signature Version 4', () => {
  // AWS's documented example (IAM ListUsers, 2015-08-30T12:36:00Z, the example keys).
  const example = {
    host: 'iam.amazonaws.com',
    path: '/?Action=ListUsers&Version=2010-05-08',
    method: 'GET',
    service: 'iam',
    region: 'us-east-1',
    headers: {
      'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8',
      'X-Amz-Date': '20150830T123600Z',
    },
  };
  const exampleKeys = {
    accessKeyId: 'AKIDEXAMPLE',
    secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  };
  const documented = '5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7';

  it('aws4 (what Weir signs with) gives the signature AWS documents', () => {
    const req = structuredClone(example);
    aws4.sign(req, exampleKeys);
    expect((req.headers as Record<string, string>).Authorization).toMatch(
      new RegExp(`SignedHeaders=content-type;host;x-amz-date, Signature=${documented}$`),
    );
  });

  it('the stand-in’s own check accepts exactly that signature and nothing else', () => {
    const headers = {
      host: example.host,
      'content-type': example.headers['Content-Type'],
      'x-amz-date': example.headers['X-Amz-Date'],
      'x-amz-target': 'x',
      authorization: `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=${documented}`,
    };
    const req = { method: 'GET', url: example.path, raw: '', headers };
    const k = { ...exampleKeys, region: 'us-east-1' };
    // x-amz-target is required for CloudWatch, not signed in IAM's example: check the rest.
    expect(sigV4Problem(req, k, 'iam')).toBe('x-amz-target is not signed');
    const signedTarget = { ...req, headers: { ...headers } };
    signedTarget.headers.authorization = headers.authorization.replace(
      'content-type;host;x-amz-date',
      'content-type;host;x-amz-date;x-amz-target',
    );
    expect(sigV4Problem(signedTarget, k, 'iam')).toBe('signature does not match');
    expect(sigV4Problem(req, { ...k, region: 'eu-west-1' }, 'iam')).toMatch(/region us-east-1/);
  });
});

describe('CloudWatchProvider', () => {
  it('signs GetMetricData for the region and reads the newest datapoint of ten intervals', async () => {
    reply = () => ({ body: { MetricDataResults: [result('e1', [1.5, 0.5, 0.25])], Messages: [] } });
    const m = await provider().measure(query, undefined, { seconds: 60 });
    expect(api.refused).toEqual([]);
    expect(m).toEqual({ kind: 'value', value: 1.5 });
    const end = Math.floor(clock / 1000);
    expect(api.calls[0]!.body).toMatchObject({
      StartTime: end - 600,
      EndTime: end,
      ScanBy: 'TimestampDescending',
    });
    expect(api.calls[0]!.body.MetricDataQueries!.map((q) => q.Id)).toEqual(['e1', 'm1', 'm2']);
  });

  it('signs the session token of temporary credentials', async () => {
    const temporary = { ...keys, sessionToken: 'FwoGZXIvYXdzEXAMPLE' };
    const strict = await startCloudWatchApi(temporary, () => ({
      body: { MetricDataResults: [result('e1', [2])] },
    }));
    try {
      const p = new CloudWatchProvider(
        {
          type: 'cloudwatch',
          address: strict.url,
          headers: {},
          insecureSkipVerify: false,
          timeoutMs: 2_000,
          settings: { ...temporary },
        },
        sharedBy({}),
        () => clock,
      );
      expect(await p.measure(query)).toEqual({ kind: 'value', value: 2 });
      expect(strict.refused).toEqual([]);
    } finally {
      await strict.stop();
    }
  });

  it('gives every datapoint of every returned result to the judge', async () => {
    reply = () => ({
      body: { MetricDataResults: [result('a', [1, 2]), result('b', [3])] },
    });
    const s = await provider().samples(query, { seconds: 120, stepSeconds: 5 });
    expect(s).toEqual({ kind: 'samples', values: [1, 2, 3] });
    expect(api.calls[0]!.body.EndTime! - api.calls[0]!.body.StartTime!).toBe(120);
  });

  it('refuses several results for one check, naming them; no datapoints is no data', async () => {
    reply = () => ({ body: { MetricDataResults: [result('e1', [1]), result('m1', [2])] } });
    expect(await provider().measure(query)).toEqual({
      kind: 'error',
      reason:
        'the query returned 2 results (e1, m1); a check needs one: set "ReturnData": false on the others',
    });
    reply = () => ({ body: { MetricDataResults: [result('e1', [])] } });
    expect(await provider().measure(query, undefined, { seconds: 30 })).toEqual({
      kind: 'no-data',
      reason: 'no datapoints in the last 300s',
    });
  });

  it('says what CloudWatch could not compute, and what it refused', async () => {
    reply = () => ({
      body: {
        MetricDataResults: [
          {
            ...result('e1', [], 'InternalError'),
            Messages: [{ Code: 'x', Value: 'division by zero' }],
          },
        ],
      },
    });
    expect(await provider().measure(query)).toEqual({
      kind: 'error',
      reason: 'CloudWatch could not compute e1 (InternalError): division by zero',
    });
    reply = () => ({
      status: 400,
      body: {
        __type: 'com.amazonaws.cloudwatch#InvalidParameterValue',
        message: 'Expression m3 references an unknown id',
      },
    });
    expect(await provider().measure(query)).toEqual({
      kind: 'error',
      reason:
        'CloudWatch answered HTTP 400: InvalidParameterValue: Expression m3 references an unknown id',
    });
  });

  it('refuses a query that is not a JSON array of MetricDataQuery without sending it', async () => {
    const m = await provider().measure('sum(errors)');
    expect(m).toMatchObject({ kind: 'error' });
    expect((m as { reason: string }).reason).toMatch(
      /^the query is not JSON \(a CloudWatch query is a JSON array of MetricDataQuery\)/,
    );
    expect(await provider().measure('{"Id":"e1"}')).toEqual({
      kind: 'error',
      reason: 'a CloudWatch query is a JSON array of 1 to 500 MetricDataQuery objects',
    });
    expect(api.calls).toEqual([]);
  });

  it('waits after throttling without sending, then asks again', async () => {
    const p = provider();
    reply = () => ({
      status: 400,
      body: { __type: 'Throttling', message: 'Rate exceeded' },
    });
    expect(await p.measure(query)).toEqual({
      kind: 'error',
      reason: "CloudWatch's rate limit was reached (HTTP 400 Throttling): no query for 10s",
    });
    reply = () => ({ body: { MetricDataResults: [result('e1', [4])] } });
    clock += 5_000;
    expect(await p.measure(query)).toEqual({
      kind: 'error',
      reason: "CloudWatch's rate limit: no query until it resets in 5s",
    });
    expect(api.calls).toHaveLength(1);
    clock += 5_000;
    expect(await p.measure(query)).toEqual({ kind: 'value', value: 4 });
  });

  it('is refused with a wrong secret or region, and the probe says so', async () => {
    expect(await provider({ secretAccessKey: 'wrong' }).measure(query)).toEqual({
      kind: 'error',
      reason: 'CloudWatch refused the query (HTTP 403): not authorised',
    });
    expect(api.refused).toEqual(['signature does not match']);
    expect(await provider({ region: 'us-east-1' }).probe()).toBe(
      'CloudWatch refused the query (HTTP 403): not authorised',
    );
    // Flagger's probe: an empty GetMetricData, refused as invalid once signed correctly.
    expect(await provider().probe()).toBeUndefined();
    expect(api.calls.at(-1)!.body.MetricDataQueries).toEqual([]);
  });

  it('queries the region’s endpoint by default', () => {
    expect(cloudWatchAddress('us-east-1')).toBe('https://monitoring.us-east-1.amazonaws.com');
    expect(cloudWatchAddress('cn-north-1')).toBe('https://monitoring.cn-north-1.amazonaws.com.cn');
  });
});
