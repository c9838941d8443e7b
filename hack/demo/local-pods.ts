import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { repoRoot } from '../../test/harness/tools.js';

/** A Deployment whose pod runs here as a local process on a fixed port. */
export interface LocalRole {
  deployment: string;
  port: number;
}

interface Running {
  key: string;
  pod: string;
  child: ChildProcess;
  exited: Promise<void>;
}

/**
 * Stands in for the kubelet: KWOK pods have no containers, so for each watched
 * Deployment this runs the demo app as a local process with the environment of
 * the Deployment's pod template and the name of its newest pod, restarting it
 * when the template or the pod changes and stopping it at zero replicas.
 */
export class LocalPods {
  private readonly apps: k8s.AppsV1Api;
  private readonly core: k8s.CoreV1Api;
  private readonly running = new Map<string, Running>();
  private timer: NodeJS.Timeout | undefined;
  /** The sync in progress, if any: stop() waits for it so that it starts nothing afterwards. */
  private syncing: Promise<void> | undefined;
  private stopped = false;
  /** Every process this started, running or not. */
  readonly pids: number[] = [];

  constructor(
    private readonly options: {
      kubeConfig: k8s.KubeConfig;
      namespace: string;
      roles: LocalRole[];
      logDir: string;
      onChange?: (deployment: string, pod: string | undefined, env: Record<string, string>) => void;
    },
  ) {
    this.apps = options.kubeConfig.makeApiClient(k8s.AppsV1Api);
    this.core = options.kubeConfig.makeApiClient(k8s.CoreV1Api);
  }

  start(): void {
    this.timer = setInterval(() => void this.sync(), 500);
    void this.sync();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.syncing;
    await Promise.all([...this.running.keys()].map((d) => this.kill(d)));
  }

  private async sync(): Promise<void> {
    if (this.syncing || this.stopped) return;
    this.syncing = (async () => {
      try {
        for (const role of this.options.roles) await this.syncRole(role);
      } catch {
        // The API server may be briefly unavailable; the next tick tries again.
      }
    })();
    await this.syncing;
    this.syncing = undefined;
  }

  private async syncRole(role: LocalRole): Promise<void> {
    const { namespace } = this.options;
    const d = await this.apps
      .readNamespacedDeployment({ name: role.deployment, namespace })
      .catch(() => undefined);
    const selector = d?.spec?.selector.matchLabels;
    if (!d || (d.spec?.replicas ?? 1) === 0 || !selector) return this.kill(role.deployment);
    const pods = await this.core.listNamespacedPod({
      namespace,
      labelSelector: Object.entries(selector)
        .map(([k, v]) => `${k}=${v}`)
        .join(','),
    });
    const newest = pods.items
      .filter((p) => !p.metadata?.deletionTimestamp)
      .sort((a, b) =>
        String(b.metadata?.creationTimestamp).localeCompare(String(a.metadata?.creationTimestamp)),
      )[0];
    if (!newest) return;
    const container = d.spec?.template.spec?.containers[0];
    const env = Object.fromEntries(
      (container?.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value!]),
    );
    const pod = newest.metadata!.name!;
    const key = JSON.stringify([pod, env]);
    if (this.running.get(role.deployment)?.key === key) return;
    await this.kill(role.deployment);
    if (this.stopped) return;
    const log = createWriteStream(path.join(this.options.logDir, `${role.deployment}.log`), {
      flags: 'a',
    });
    const child = spawn(process.execPath, [path.join(repoRoot, 'examples/demo-app/server.mjs')], {
      env: {
        ...env,
        PATH: process.env.PATH ?? '',
        PORT: String(role.port),
        HOST: '127.0.0.1',
        POD_NAME: pod,
        POD_NAMESPACE: namespace,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    if (child.pid !== undefined) this.pids.push(child.pid);
    // A process that failed to spawn emits 'error' and may never emit 'exit'.
    const exited = new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.once('error', () => resolve());
    });
    this.running.set(role.deployment, { key, pod, child, exited });
    this.options.onChange?.(role.deployment, pod, env);
  }

  private async kill(deployment: string): Promise<void> {
    const r = this.running.get(deployment);
    if (!r) return;
    this.running.delete(deployment);
    if (r.child.exitCode === null) r.child.kill('SIGTERM');
    await r.exited;
    this.options.onChange?.(deployment, undefined, {});
  }
}
