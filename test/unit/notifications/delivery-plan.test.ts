import type { V1Secret } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { AlertProvider, Canary } from '../../../src/api/types.js';
import { DeliveryPlanner } from '../../../src/notifications/delivery-plan.js';
import { NotifierRegistry } from '../../../src/notifications/notifier.js';
import { slackNotifier } from '../../../src/notifications/slack-notifier.js';
import { context, rolledBackEntry } from './fixtures.js';

/**
 * Which AlertProviders and Secrets a Canary's alerts may use (ADR 0012): a
 * provider of another namespace only when it lists the Canary's namespace, and
 * credentials only from a Secret labelled for Weir.
 */
const provider = (namespace: string, allowedNamespaces?: string[]): AlertProvider => ({
  apiVersion: 'weir.dev/v1alpha1',
  kind: 'AlertProvider',
  metadata: { name: 'slack', namespace },
  spec: {
    type: 'slack',
    secretRef: { name: 'slack-url' },
    ...(allowedNamespaces ? { allowedNamespaces } : {}),
  },
});
const labelled = { labels: { 'weir.dev/credentials': 'true' } };
const webhook = (over: Partial<V1Secret> = {}): V1Secret => ({
  metadata: labelled,
  stringData: { address: 'https://hooks.slack.example/services/T0/B0/x' },
  ...over,
});

const canary = (alerts?: object[]): Canary =>
  ({
    apiVersion: 'weir.dev/v1alpha1',
    kind: 'Canary',
    metadata: { name: 'podinfo', namespace: 'shop' },
    spec: {
      targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'podinfo' },
      service: { port: 80 },
      analysis: { threshold: 2, ...(alerts ? { alerts } : {}) },
    },
  }) as unknown as Canary;
const team = (namespace?: string) => [
  { name: 'team', providerRef: { name: 'slack', ...(namespace ? { namespace } : {}) } },
];

function plan(
  c: Canary,
  providers: AlertProvider[],
  secret: V1Secret | undefined,
  options: {
    crossNamespaceRefs?: boolean;
    defaultProvider?: { namespace: string; name: string };
  } = {},
) {
  const planner = new DeliveryPlanner({
    notifiers: new NotifierRegistry().register(slackNotifier),
    alertProviders: (ns, name) =>
      providers.find((p) => p.metadata.namespace === ns && p.metadata.name === name),
    secrets: () => secret,
    crossNamespaceRefs: options.crossNamespaceRefs ?? true,
    ...(options.defaultProvider ? { defaultProvider: options.defaultProvider } : {}),
  });
  const p = planner.plan(c, rolledBackEntry, {
    name: 'podinfo-7',
    images: context.images,
    startTime: context.startTime,
  });
  return { sent: p.deliveries.map((d) => d.key), problems: p.problems };
}

describe('DeliveryPlanner: cross-namespace AlertProviders need the provider’s consent', () => {
  it.each([
    [undefined, false],
    [['checkout'], false],
    [['shop'], true],
    [['*'], true],
  ])('allowedNamespaces %j: sent %s', (allowed, sent) => {
    const result = plan(canary(team('monitoring')), [provider('monitoring', allowed)], webhook());
    expect(result).toEqual(
      sent
        ? { sent: ['alert/team'], problems: [] }
        : {
            sent: [],
            problems: [
              'alert/team: AlertProvider monitoring/slack does not list namespace shop in spec.allowedNamespaces',
            ],
          },
    );
  });

  it('an AlertProvider of the Canary’s own namespace needs no list', () => {
    expect(plan(canary(team()), [provider('shop')], webhook())).toEqual({
      sent: ['alert/team'],
      problems: [],
    });
  });

  it('--no-cross-namespace-refs is a hard off, whatever the provider lists', () => {
    expect(
      plan(canary(team('monitoring')), [provider('monitoring', ['*'])], webhook(), {
        crossNamespaceRefs: false,
      }),
    ).toEqual({
      sent: [],
      problems: [
        'alert/team: AlertProvider monitoring/slack is in another namespace, and this controller forbids cross-namespace references',
      ],
    });
  });

  it('the controller-wide --alert-provider needs no list: the operator chose it', () => {
    expect(
      plan(canary(), [provider('weir-system')], webhook(), {
        defaultProvider: { namespace: 'weir-system', name: 'slack' },
      }),
    ).toEqual({ sent: ['alert/default'], problems: [] });
  });
});

describe('DeliveryPlanner: webhook addresses only from Secrets labelled for Weir', () => {
  it('refuses an unlabelled Secret', () => {
    expect(plan(canary(team()), [provider('shop')], webhook({ metadata: {} }))).toEqual({
      sent: [],
      problems: [
        'alert/team: AlertProvider shop/slack: Secret shop/slack-url is not labelled weir.dev/credentials: "true"; label it to let MetricTemplates and AlertProviders of its namespace use it as credentials',
      ],
    });
  });

  it('refuses a service account token, labelled or not', () => {
    expect(
      plan(
        canary(team()),
        [provider('shop')],
        webhook({ type: 'kubernetes.io/service-account-token' }),
      ).problems,
    ).toEqual([
      'alert/team: AlertProvider shop/slack: Secret shop/slack-url is a service account token, which Weir never sends as credentials',
    ]);
  });

  it('holds the controller-wide provider’s Secret to the same rule', () => {
    expect(
      plan(canary(), [provider('weir-system')], webhook({ metadata: {} }), {
        defaultProvider: { namespace: 'weir-system', name: 'slack' },
      }).problems,
    ).toEqual([
      'alert/default: AlertProvider weir-system/slack: Secret weir-system/slack-url is not labelled weir.dev/credentials: "true"; label it to let MetricTemplates and AlertProviders of its namespace use it as credentials',
    ]);
  });
});
