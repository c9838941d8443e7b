import * as k8s from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { createInformer, type ResilientInformer } from '../../src/kube/informer.js';
import type { WeightChange } from './stats.js';

/** A phase a Canary was seen in, from the moment (epoch ms) the bench saw it. */
export interface PhaseChange {
  at: number;
  phase: string;
}

/** What the bench saw of one canary: its phases and its route's canary weight, in order. */
export interface CanaryTimeline {
  phases: PhaseChange[];
  weights: WeightChange[];
}

interface Route {
  metadata?: { name?: string; namespace?: string };
  spec?: { rules?: { matches?: unknown[]; backendRefs?: { name?: string; weight?: number }[] }[] };
}

/**
 * The canary's weight in an HTTPRoute: the `<apex>-canary` backend of the rule
 * without matches (the weighted split), else of the last rule. Undefined when the
 * route has no such backend yet.
 */
export function canaryWeightOf(route: Route, apex: string): number | undefined {
  const rules = route.spec?.rules ?? [];
  const weighted = rules.find((r) => !r.matches || r.matches.length === 0) ?? rules.at(-1);
  const ref = weighted?.backendRefs?.find((b) => b.name === `${apex}-canary`);
  return ref ? (ref.weight ?? 1) : undefined;
}

/**
 * Watches every Canary and HTTPRoute from the bench process and timestamps each
 * change of phase and of canary weight on the bench's clock, as they arrive.
 */
export class Observer {
  readonly timelines = new Map<string, CanaryTimeline>();
  private readonly informers: ResilientInformer<k8s.KubernetesObject>[];
  private readonly listeners = new Set<(key: string, change: PhaseChange) => void>();

  constructor(kubeConfig: k8s.KubeConfig, api: { group: string; version: string }, logger: Logger) {
    const custom = kubeConfig.makeApiClient(k8s.CustomObjectsApi);
    const list = (group: string, version: string, plural: string) => () =>
      custom.listClusterCustomObject({ group, version, plural }) as Promise<
        k8s.KubernetesListObject<never>
      >;
    const canaries = createInformer<k8s.KubernetesObject & { status?: { phase?: string } }>({
      kubeConfig,
      logger,
      path: `/apis/${api.group}/${api.version}/canaries`,
      list: list(api.group, api.version, 'canaries'),
    });
    const routes = createInformer<k8s.KubernetesObject & Route>({
      kubeConfig,
      logger,
      path: '/apis/gateway.networking.k8s.io/v1/httproutes',
      list: list('gateway.networking.k8s.io', 'v1', 'httproutes'),
    });
    canaries.onChange((c) => {
      const phase = c.status?.phase;
      if (!phase) return;
      const key = `${c.metadata?.namespace}/${c.metadata?.name}`;
      const t = this.timeline(key);
      if (t.phases.at(-1)?.phase === phase) return;
      const change = { at: Date.now(), phase };
      t.phases.push(change);
      for (const l of this.listeners) l(key, change);
    });
    routes.onChange((r) => {
      const name = r.metadata?.name ?? '';
      const weight = canaryWeightOf(r, name);
      if (weight === undefined) return;
      const t = this.timeline(`${r.metadata?.namespace}/${name}`);
      if (t.weights.at(-1)?.weight === weight) return;
      t.weights.push({ at: Date.now(), weight });
    });
    this.informers = [canaries, routes] as unknown as ResilientInformer<k8s.KubernetesObject>[];
  }

  /** Calls `listener` on every phase change from now on; returns a function that stops it. */
  onPhase(listener: (key: string, change: PhaseChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The latest phase of a canary, if it has one. */
  phaseOf(key: string): string | undefined {
    return this.timelines.get(key)?.phases.at(-1)?.phase;
  }

  async start(): Promise<void> {
    await Promise.all(this.informers.map((i) => i.start()));
  }

  async stop(): Promise<void> {
    await Promise.allSettled(this.informers.map((i) => i.stop()));
  }

  private timeline(key: string): CanaryTimeline {
    let t = this.timelines.get(key);
    if (!t) this.timelines.set(key, (t = { phases: [], weights: [] }));
    return t;
  }
}
