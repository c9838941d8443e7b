import type * as k8s from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import {
  daemonSetRolledOut,
  daemonSetUnsupported,
  isParked,
  parkingNodeSelector,
  parkingPatch,
  primaryDaemonSet,
  releasedTemplate,
} from '../../../src/workloads/daemonsets.js';
import {
  primaryDeployment,
  revisionAnnotation,
  revisionOf,
} from '../../../src/workloads/workloads.js';
import { canaryWith, owner } from '../routers/fixtures.js';

const canary = canaryWith({});
const label = { key: 'app', value: 'podinfo' };
const parkedKey = parkingNodeSelector.key;

function target(nodeSelector?: Record<string, string>): k8s.V1DaemonSet {
  return {
    metadata: { name: 'podinfo', namespace: 'shop', labels: { team: 'a', app: 'podinfo' } },
    spec: {
      selector: { matchLabels: { app: 'podinfo' } },
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 as never } },
      minReadySeconds: 5,
      revisionHistoryLimit: 3,
      template: {
        metadata: { labels: { app: 'podinfo', tier: 'node' }, annotations: { a: 'b' } },
        spec: {
          ...(nodeSelector ? { nodeSelector } : {}),
          containers: [{ name: 'app', image: 'podinfo:1' }],
        },
      },
    },
  };
}

function withStatus(status: Partial<k8s.V1DaemonSetStatus>, generation = 2): k8s.V1DaemonSet {
  return {
    ...target(),
    metadata: { name: 'podinfo', generation },
    status: {
      currentNumberScheduled: 0,
      numberMisscheduled: 0,
      numberReady: 0,
      desiredNumberScheduled: 0,
      ...status,
    },
  };
}

describe('parking a DaemonSet', () => {
  it('is a node selector key no node has, patched alone and removed with null', () => {
    expect(parkingPatch(true)).toEqual({
      spec: { template: { spec: { nodeSelector: { [parkedKey]: 'true' } } } },
    });
    // Un-parking also removes the key Flagger parks with (a DaemonSet migrated from Flagger).
    expect(parkingPatch(false)).toEqual({
      spec: {
        template: {
          spec: { nodeSelector: { [parkedKey]: null, 'flagger.app/scale-to-zero': null } },
        },
      },
    });
    expect(isParked(target({ [parkedKey]: 'true' }))).toBe(true);
    expect(isParked(target({ 'kubernetes.io/os': 'linux' }))).toBe(false);
    expect(isParked(target())).toBe(false);
    expect(isParked(undefined)).toBe(false);
  });

  it('reads a DaemonSet Flagger left parked as parked, and never releases Flagger’s key', () => {
    const flaggerParked = target({
      'kubernetes.io/os': 'linux',
      'flagger.app/scale-to-zero': 'true',
    });
    expect(isParked(flaggerParked)).toBe(true);
    expect(releasedTemplate(flaggerParked.spec!.template)).toEqual(
      target({ 'kubernetes.io/os': 'linux' }).spec!.template,
    );
    expect(
      primaryDaemonSet(canary, { target: flaggerParked, label }).spec?.template.spec?.nodeSelector,
    ).toEqual({ 'kubernetes.io/os': 'linux' });
  });

  it('is never a new revision: the released template drops the key, and the selector when it held only that', () => {
    const plain = target().spec!.template;
    const parked = target({ [parkedKey]: 'true' }).spec!.template;
    expect(releasedTemplate(parked)).toEqual(plain);
    expect(revisionOf(releasedTemplate(parked))).toBe(revisionOf(plain));
    const own = target({ 'kubernetes.io/os': 'linux' }).spec!.template;
    const ownParked = target({ 'kubernetes.io/os': 'linux', [parkedKey]: 'true' }).spec!.template;
    expect(releasedTemplate(ownParked)).toEqual(own);
    // Unparked templates come back as they are.
    expect(releasedTemplate(own)).toBe(own);
    expect(releasedTemplate(undefined)).toBeUndefined();
  });
});

describe('primaryDaemonSet', () => {
  it('copies the released template with the selector label rewritten, and the rollout settings', () => {
    const parkedTarget = target({ 'kubernetes.io/os': 'linux', [parkedKey]: 'true' });
    const primary = primaryDaemonSet(canary, { target: parkedTarget, label });
    expect(primary).toEqual({
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: {
        name: 'podinfo-primary',
        namespace: 'shop',
        labels: { team: 'a', app: 'podinfo-primary', 'weir.dev/canary': 'podinfo' },
        annotations: {
          [revisionAnnotation]: revisionOf(target({ 'kubernetes.io/os': 'linux' }).spec!.template),
        },
        ownerReferences: [owner],
      },
      spec: {
        selector: { matchLabels: { app: 'podinfo-primary' } },
        updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } },
        minReadySeconds: 5,
        revisionHistoryLimit: 3,
        template: {
          metadata: { annotations: { a: 'b' }, labels: { app: 'podinfo-primary', tier: 'node' } },
          spec: {
            nodeSelector: { 'kubernetes.io/os': 'linux' },
            containers: [{ name: 'app', image: 'podinfo:1' }],
          },
        },
      },
    });
  });

  it('points the template at the -primary copies of tracked configs', () => {
    const t = target();
    t.spec!.template.spec!.volumes = [{ name: 'cfg', configMap: { name: 'settings' } }];
    const primary = primaryDaemonSet(canary, {
      target: t,
      label,
      configs: { configMaps: [{ metadata: { name: 'settings' }, data: { a: '1' } }], secrets: [] },
    });
    expect(primary.spec?.template.spec?.volumes).toEqual([
      { name: 'cfg', configMap: { name: 'settings-primary' } },
    ]);
  });

  it('refuses OnDelete: the primary would never take a promoted template', () => {
    const t = target();
    expect(daemonSetUnsupported(t)).toBeUndefined();
    t.spec!.updateStrategy = { type: 'OnDelete' };
    expect(daemonSetUnsupported(t)).toBe(
      'DaemonSet podinfo has updateStrategy OnDelete: the primary would never take a promoted template; use RollingUpdate',
    );
  });
});

describe('primaryDeployment (shares the primary parts with DaemonSets)', () => {
  it('is the Deployment it always was', () => {
    const d: k8s.V1Deployment = {
      metadata: { name: 'podinfo', labels: { team: 'a' } },
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: 'podinfo' } },
        strategy: { type: 'Recreate' },
        minReadySeconds: 2,
        template: target().spec!.template,
      },
    };
    expect(primaryDeployment(canary, { target: d, existing: undefined, label })).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {
        name: 'podinfo-primary',
        namespace: 'shop',
        labels: { team: 'a', app: 'podinfo-primary', 'weir.dev/canary': 'podinfo' },
        annotations: { [revisionAnnotation]: revisionOf(d.spec!.template) },
        ownerReferences: [owner],
      },
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: 'podinfo-primary' } },
        strategy: { type: 'Recreate' },
        minReadySeconds: 2,
        template: {
          metadata: { annotations: { a: 'b' }, labels: { app: 'podinfo-primary', tier: 'node' } },
          spec: { containers: [{ name: 'app', image: 'podinfo:1' }] },
        },
      },
    });
  });
});

describe('daemonSetRolledOut', () => {
  const rolled = {
    observedGeneration: 2,
    desiredNumberScheduled: 3,
    updatedNumberScheduled: 3,
    numberAvailable: 3,
    numberReady: 3,
  };
  it.each([
    ['every node runs the current template, available', rolled, true],
    ['the controller has not seen the latest spec', { ...rolled, observedGeneration: 1 }, false],
    ['a node still runs the old template', { ...rolled, updatedNumberScheduled: 2 }, false],
    ['an updated pod is not available yet', { ...rolled, numberAvailable: 2 }, false],
    [
      'scheduled on no node (parked, or no node matches)',
      { ...rolled, desiredNumberScheduled: 0, updatedNumberScheduled: 0, numberAvailable: 0 },
      false,
    ],
  ])('%s: %s', (_what, status, expected) => {
    expect(daemonSetRolledOut(withStatus(status))).toBe(expected);
  });
  it('is false without a DaemonSet or a status', () => {
    expect(daemonSetRolledOut(undefined)).toBe(false);
    expect(daemonSetRolledOut(target())).toBe(false);
  });
});
