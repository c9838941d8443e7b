import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  mqlAnswer,
  startCloudMonitoringApi,
  testServiceAccount,
  type MqlCall,
} from '../harness/cloud-monitoring-api.js';
import {
  startCloudWatchApi,
  type AwsKeys,
  type CloudWatchCall,
} from '../harness/cloudwatch-api.js';
import type { ApiAnswer } from '../harness/vendor-api.js';
import { startMetricsBed, type MetricsBed } from '../harness/metrics-bed.js';
import { currentRun } from '../harness/weir.js';

const namespace = 'cloud-metrics';
const aws: AwsKeys = {
  accessKeyId: 'AKIDWEIRCLUSTER',
  secretAccessKey: 'cluster/secret',
  sessionToken: 'session-token',
  region: 'eu-central-1',
};

/** The error rate each service reports, and how many first calls CloudWatch throttles. */
const services: Record<string, { value: number; throttled?: number }> = {
  good: { value: 0.2 },
  bad: { value: 4 },
  throttled: { value: 0.2, throttled: 1 },
  'mql-good': { value: 0.2 },
  'mql-bad': { value: 4 },
};

const google = testServiceAccount('weir-release');

/** Cloud Monitoring's answer for the container named in the MQL filter: one series, newest first. */
function cloudMonitoringAnswer(call: MqlCall): ApiAnswer {
  const service = /container_name == '([a-z-]+)'/.exec(call.query)?.[1] ?? '';
  const s = services[service];
  return s ? mqlAnswer([s.value, s.value * 10]) : mqlAnswer();
}

/** CloudWatch's answer for the service named in the query's dimension: one result, newest first. */
function cloudWatchAnswer(call: CloudWatchCall): ApiAnswer {
  const text = JSON.stringify(call.body.MetricDataQueries);
  const service = /"Value":"([a-z-]+)"/.exec(text)?.[1] ?? '';
  const s = services[service];
  if (!s)
    return { body: { MetricDataResults: [{ Id: 'e1', StatusCode: 'Complete', Values: [] }] } };
  if (s.throttled) {
    s.throttled -= 1;
    return { status: 400, body: { __type: 'Throttling', message: 'Rate exceeded' } };
  }
  const end = call.body.EndTime!;
  return {
    body: {
      MetricDataResults: [
        {
          Id: 'e1',
          Label: 'ErrorRate',
          StatusCode: 'Complete',
          Timestamps: [end - 60, end - 120],
          Values: [s.value, s.value * 10],
        },
      ],
      Messages: [],
    },
  };
}

// Given the controller on a real control plane and local servers that speak the documented
// query APIs of the cloud monitoring services (the contract, not the service), when releases
// are judged by their MetricTemplates, then the credentials come from the labelled Secret, a
// healthy canary is promoted, a failing one rolled back on its value, and a throttled API holds
// the weight as inconclusive until it answers again.
describe('cloud metric providers (against their documented APIs, locally)', () => {
  let bed: MetricsBed;
  let cloudWatch: Awaited<ReturnType<typeof startCloudWatchApi>>;
  let cloudMonitoring: Awaited<ReturnType<typeof startCloudMonitoringApi>>;

  beforeAll(async () => {
    bed = await startMetricsBed(namespace);
    const { secret, template } = bed;
    cloudWatch = await startCloudWatchApi(aws, cloudWatchAnswer);
    // Tokens are checked against the controller's (manual) clock, as Google checks its own.
    cloudMonitoring = await startCloudMonitoringApi(
      google,
      () => bed.clock.now(),
      cloudMonitoringAnswer,
    );
    await secret('aws', {
      aws_access_key_id: aws.accessKeyId,
      aws_secret_access_key: aws.secretAccessKey,
      aws_session_token: aws.sessionToken!,
    });
    // Flagger's CloudWatch example: errors over requests, the helpers not returned.
    const metric = (name: string) => ({
      Id: name,
      MetricStat: {
        Metric: {
          Namespace: 'MyKubernetesApp',
          MetricName: name === 'm1' ? 'ErrorCount' : 'RequestCount',
          Dimensions: [{ Name: 'service', Value: '{{ target }}' }],
        },
        Period: 60,
        Stat: 'Sum',
      },
      ReturnData: false,
    });
    await template(
      'cloudwatch-errors',
      {
        type: 'cloudwatch',
        region: aws.region,
        address: cloudWatch.url,
        secretRef: { name: 'aws' },
      },
      JSON.stringify([
        { Id: 'e1', Expression: 'm1 / m2 * 100', Label: 'ErrorRate' },
        metric('m1'),
        metric('m2'),
      ]),
    );
    await secret('gcloud', { serviceAccountKey: google.keyFile, project: 'weir-release' });
    await template(
      'mql-errors',
      { type: 'stackdriver', address: cloudMonitoring.url, secretRef: { name: 'gcloud' } },
      [
        'fetch k8s_container',
        "| metric 'logging.googleapis.com/user/errors'",
        "| filter resource.namespace_name == '{{ namespace }}' && resource.container_name == '{{ target }}'",
        '| align rate(1m) | every 1m | group_by [], [value: sum(value)]',
        '| within {{ interval }}',
      ].join('\n'),
    );
    await bed.startController();
  }, 120_000);

  afterAll(async () => {
    await bed?.stop();
    await cloudWatch?.stop();
    await cloudMonitoring?.stop();
  });

  it('the API server refuses a cloudwatch template without a region, and a region elsewhere', async () => {
    await expect(
      bed.template('no-region', { type: 'cloudwatch', secretRef: { name: 'aws' } }, '[]'),
    ).rejects.toThrow(/a cloudwatch provider needs region/);
    await expect(
      bed.template('region-elsewhere', { type: 'prometheus', region: 'us-east-1' }, 'up'),
    ).rejects.toThrow(/region is for cloudwatch only/);
  });

  const cloudWatchMetric = { template: 'cloudwatch-errors', interval: '1m', max: 1 };

  it('CloudWatch: promotes under the bound, rolls back above it, every call signed', async () => {
    for (const name of ['good', 'bad']) await bed.release(name, cloudWatchMetric);
    // The newest datapoint (0.2), not the older one (2).
    await bed.expectJudged('good', 'bad', {
      metric: 'cloudwatch-errors',
      value: 0.2,
      badValue: 4,
      bound: 1,
    });
    expect(cloudWatch.refused).toEqual([]);
    const queries = cloudWatch.calls.filter((c) => c.body.MetricDataQueries?.length);
    expect(queries.length).toBeGreaterThan(0);
    for (const c of queries) {
      // Ten intervals of 1 m ending at the controller's clock.
      expect(c.body.EndTime! - c.body.StartTime!).toBe(600);
      expect(Math.abs(c.body.EndTime! * 1000 - bed.clock.now())).toBeLessThan(600_000);
    }
  });

  it('CloudWatch: holds the weight while throttled, as inconclusive, then goes on', async () => {
    await bed.release('throttled', cloudWatchMetric);
    await bed.until('throttled Succeeded', bed.phaseIs('throttled', 'Succeeded'));
    const run = await currentRun(bed.objects, namespace, 'throttled');
    expect(run.status?.result).toBe('Promoted');
    const held = run.status!.transitions!.filter((t) => t.reason === 'CheckInconclusive');
    expect(held.map((t) => t.weight)).toEqual([10]);
    expect(held[0]!.message).toMatch(
      /cloudwatch-errors: CloudWatch's rate limit was reached \(HTTP 400 Throttling\): no query for 10s/,
    );
    expect(run.status!.transitions!.some((t) => t.reason === 'CheckFailed')).toBe(false);
  });

  it('Cloud Monitoring (stackdriver): promotes under the bound, rolls back above it, every call authorised', async () => {
    const metric = { template: 'mql-errors', interval: '1m', max: 1 };
    for (const name of ['good', 'bad']) await bed.release(`mql-${name}`, metric);
    await bed.expectJudged('mql-good', 'mql-bad', {
      metric: 'mql-errors',
      value: 0.2,
      badValue: 4,
      bound: 1,
    });
    expect(cloudMonitoring.refused).toEqual([]);
    const asked = cloudMonitoring.calls.filter((c) => c.query.includes('mql-good'));
    expect(asked.length).toBeGreaterThan(0);
    expect(asked[0]).toMatchObject({ project: 'weir-release' });
    expect(asked[0]!.query).toMatch(/container_name == 'mql-good'[\s\S]*\| within 1m$/);
  });
});
