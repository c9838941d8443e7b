import { renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import type { NetnsProcess, NetworkNamespace } from './netns.js';
import { repoRoot } from './tools.js';

/** A command that stands in for an image: argv, run with the container's environment. */
export type ImageCommand = string[];

/** The images the runner knows, by repository name (tag ignored). */
export const defaultImages: Record<string, ImageCommand> = {
  'weir-demo-app': [process.execPath, path.join(repoRoot, 'examples/demo-app/server.mjs')],
};

/** What happened to a pod, for logs and tests. */
export interface PodEvent {
  pod: string;
  namespace: string;
  what: 'started' | 'ready' | 'terminating' | 'exited' | 'deleted' | 'unknown-image';
  detail?: string;
  /** The pod's process (on `started`). */
  pid?: number;
}

interface Managed {
  key: string;
  /** host:port and labels for Prometheus, when the pod asks to be scraped. */
  scrape?: { target: string; labels: Record<string, string> };
  ip: string;
  port: number;
  probePath: string;
  process?: NetnsProcess;
  ready: boolean;
  terminating: boolean;
}

/**
 * Plays the kubelet for the pods of a KWOK cluster started with `podRunner: true`
 * (their KWOK stages leave a pod with an HTTP readiness probe Running but not
 * Ready, and let the runner delete it): for each such pod it runs the image's
 * command inside the network namespace, bound to the pod IP and container port,
 * marks the pod Ready once its readiness probe answers 2xx, and on deletion runs
 * the preStop sleep, sends SIGTERM, waits up to the grace period and deletes the
 * pod, as a kubelet does. So a proxy sees exactly the endpoints a real cluster
 * would show it, and an app is never sent traffic before it listens.
 */
export class PodRunner {
  private readonly core: k8s.CoreV1Api;
  private readonly informer: k8s.Informer<k8s.V1Pod>;
  private readonly pods = new Map<string, Managed>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;

  constructor(
    private readonly options: {
      kubeConfig: k8s.KubeConfig;
      ns: NetworkNamespace;
      logDir: string;
      images?: Record<string, ImageCommand>;
      onEvent?: (e: PodEvent) => void;
      /**
       * A Prometheus file_sd file kept listing the running pods annotated
       * prometheus.io/scrape: "true" (port from prometheus.io/port), labelled with
       * namespace and pod, as Prometheus's Kubernetes discovery would find them.
       */
      targetsFile?: string;
    },
  ) {
    this.core = options.kubeConfig.makeApiClient(k8s.CoreV1Api);
    this.informer = k8s.makeInformer(options.kubeConfig, '/api/v1/pods', () =>
      this.core.listPodForAllNamespaces(),
    );
    const changed = (pod: k8s.V1Pod) => void this.sync(pod);
    this.informer.on('add', changed);
    this.informer.on('update', changed);
    this.informer.on('delete', (pod) => void this.gone(pod));
    this.informer.on('error', () => {
      if (!this.stopped) this.later(() => void this.informer.start(), 1_000);
    });
  }

  async start(): Promise<void> {
    this.writeTargets();
    await this.informer.start();
  }

  /** Stops watching and every pod process (SIGTERM, then SIGKILL after 5 s). */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.informer.stop();
    for (const t of this.timers) clearTimeout(t);
    await Promise.all([...this.pods.values()].map((m) => m.process?.stop(5_000)));
    this.pods.clear();
  }

  private writeTargets(): void {
    const file = this.options.targetsFile;
    if (!file) return;
    const targets = [...this.pods.values()].flatMap((m) =>
      m.scrape ? [{ targets: [m.scrape.target], labels: m.scrape.labels }] : [],
    );
    // Renamed into place: Prometheus never reads a half-written file.
    writeFileSync(`${file}.tmp`, JSON.stringify(targets));
    renameSync(`${file}.tmp`, file);
  }

  private later(fn: () => void, ms: number): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.stopped) fn();
    }, ms);
    this.timers.add(t);
  }

  private event(pod: k8s.V1Pod, what: PodEvent['what'], detail?: string, pid?: number): void {
    this.options.onEvent?.({
      pod: pod.metadata!.name!,
      namespace: pod.metadata!.namespace!,
      what,
      ...(detail ? { detail } : {}),
      ...(pid ? { pid } : {}),
    });
  }

  private async sync(pod: k8s.V1Pod): Promise<void> {
    if (this.stopped) return;
    const container = pod.spec?.containers[0];
    const probe = container?.readinessProbe?.httpGet;
    const ip = pod.status?.podIP;
    if (!container || !probe || !ip || pod.status?.phase !== 'Running') return;
    const key = `${pod.metadata!.namespace}/${pod.metadata!.name}`;
    let m = this.pods.get(key);
    if (pod.metadata?.deletionTimestamp) {
      if (m && !m.terminating) await this.terminate(pod, m);
      else if (!m) await this.remove(pod);
      return;
    }
    if (m) return;
    const port = containerPort(container);
    const probePort =
      typeof probe.port === 'number'
        ? probe.port
        : (container.ports?.find((p) => p.name === probe.port)?.containerPort ?? port);
    m = {
      key,
      ip,
      port: probePort,
      probePath: probe.path ?? '/',
      ready: false,
      terminating: false,
    };
    const annotations = pod.metadata?.annotations ?? {};
    if (annotations['prometheus.io/scrape'] === 'true')
      m.scrape = {
        target: `${ip}:${annotations['prometheus.io/port'] ?? port}`,
        labels: { namespace: pod.metadata!.namespace!, pod: pod.metadata!.name! },
      };
    this.pods.set(key, m);
    this.writeTargets();
    const image =
      (container.image ?? '')
        .replace(/:[^/]*$/, '')
        .split('/')
        .at(-1) ?? '';
    const command = (this.options.images ?? defaultImages)[image];
    if (!command) {
      this.event(pod, 'unknown-image', container.image);
      return;
    }
    const env: Record<string, string> = {};
    for (const e of container.env ?? []) {
      if (e.value !== undefined) env[e.name] = e.value;
      const field = e.valueFrom?.fieldRef?.fieldPath;
      if (field === 'metadata.name') env[e.name] = pod.metadata!.name!;
      if (field === 'metadata.namespace') env[e.name] = pod.metadata!.namespace!;
      if (field === 'status.podIP') env[e.name] = ip;
    }
    m.process = await this.options.ns.spawn(command[0]!, command.slice(1), {
      env: { ...env, HOST: ip, PORT: String(port) },
      logFile: path.join(
        this.options.logDir,
        `${pod.metadata!.namespace}_${pod.metadata!.name}.log`,
      ),
    });
    this.event(pod, 'started', `${ip}:${port}`, m.process.pid);
    const managed = m;
    void managed.process!.exited.then((e) => {
      this.event(pod, 'exited', e.error ?? `code ${e.code} signal ${e.signal}`);
      if (!managed.terminating && this.pods.get(key) === managed) void this.notReady(pod, managed);
    });
    this.probe(pod, managed);
  }

  /** Probes every 100 ms until the app answers 2xx, then reports the pod Ready. */
  private probe(pod: k8s.V1Pod, m: Managed): void {
    this.later(async () => {
      if (m.terminating || this.pods.get(m.key) !== m) return;
      const status = await this.options.ns
        .httpGet(`http://${m.ip}:${m.port}${m.probePath}`, 1_000)
        .catch(() => 0);
      if (status < 200 || status >= 400) return this.probe(pod, m);
      try {
        await this.setReady(pod, true);
        m.ready = true;
        this.event(pod, 'ready');
      } catch {
        this.probe(pod, m);
      }
    }, 100);
  }

  private async notReady(pod: k8s.V1Pod, m: Managed): Promise<void> {
    m.ready = false;
    await this.setReady(pod, false).catch(() => undefined);
  }

  private async setReady(pod: k8s.V1Pod, ready: boolean): Promise<void> {
    const now = new Date().toISOString();
    const status = ready ? 'True' : 'False';
    await this.core.patchNamespacedPodStatus(
      {
        name: pod.metadata!.name!,
        namespace: pod.metadata!.namespace!,
        body: {
          status: {
            conditions: ['ContainersReady', 'Ready'].map((type) => ({
              type,
              status,
              lastTransitionTime: now,
            })),
            containerStatuses: (pod.status?.containerStatuses ?? []).map((c) => ({
              name: c.name,
              image: c.image,
              imageID: c.imageID ?? '',
              ready,
              restartCount: c.restartCount,
              state: c.state,
            })),
          },
        },
      },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch),
    );
  }

  /**
   * A kubelet's pod termination: preStop (sleep action), SIGTERM, SIGKILL at the end
   * of the grace period, then the pod is deleted for good.
   */
  private async terminate(pod: k8s.V1Pod, m: Managed): Promise<void> {
    m.terminating = true;
    this.event(pod, 'terminating');
    const deadline = Date.parse(String(pod.metadata!.deletionTimestamp));
    const sleep = pod.spec?.containers[0]?.lifecycle?.preStop?.sleep?.seconds ?? 0;
    const budget = () => Math.max(0, deadline - Date.now());
    if (m.process) {
      await new Promise((r) => this.later(() => r(undefined), Math.min(sleep * 1000, budget())));
      await m.process.stop(budget());
    }
    await this.remove(pod);
  }

  private async remove(pod: k8s.V1Pod): Promise<void> {
    await this.core
      .deleteNamespacedPod({
        name: pod.metadata!.name!,
        namespace: pod.metadata!.namespace!,
        gracePeriodSeconds: 0,
      })
      .catch(() => undefined);
  }

  private async gone(pod: k8s.V1Pod): Promise<void> {
    const key = `${pod.metadata!.namespace}/${pod.metadata!.name}`;
    const m = this.pods.get(key);
    if (!m) return;
    this.pods.delete(key);
    this.writeTargets();
    m.terminating = true;
    await m.process?.stop(1_000);
    this.event(pod, 'deleted');
  }
}

function containerPort(c: k8s.V1Container): number {
  return c.ports?.[0]?.containerPort ?? 8080;
}
