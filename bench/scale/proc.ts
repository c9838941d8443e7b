import { readdir, readFile } from 'node:fs/promises';

/** Kernel clock ticks per second for /proc/<pid>/stat times (USER_HZ, 100 on Linux). */
const ticksPerSecond = 100;

/** Resident memory of a process in MiB (VmRSS), or undefined if it is gone. */
export async function rssMiB(pid: number): Promise<number | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
    return kb ? Number(kb) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Parses utime+stime (seconds) and the parent pid out of a /proc/<pid>/stat line. */
export function parseStat(stat: string): { cpuSeconds: number; ppid: number } {
  // The command name may hold spaces and parentheses: fields start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): ppid is field 4, utime 14, stime 15.
  return {
    ppid: Number(fields[1]),
    cpuSeconds: (Number(fields[11]) + Number(fields[12])) / ticksPerSecond,
  };
}

/** CPU seconds (user + system) a process has used, or undefined if it is gone. */
export async function cpuSeconds(pid: number): Promise<number | undefined> {
  try {
    return parseStat(await readFile(`/proc/${pid}/stat`, 'utf8')).cpuSeconds;
  } catch {
    return undefined;
  }
}

/** The pid and every live descendant of it (children of children included). */
export async function processTree(pid: number): Promise<number[]> {
  const parents = new Map<number, number[]>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const { ppid } = parseStat(await readFile(`/proc/${entry}/stat`, 'utf8'));
      const list = parents.get(ppid) ?? [];
      list.push(Number(entry));
      parents.set(ppid, list);
    } catch {
      // Exited while we looked.
    }
  }
  const out = [pid];
  for (let i = 0; i < out.length; i++) out.push(...(parents.get(out[i]!) ?? []));
  return out;
}

/** A memory sample of the controller: its own RSS and that of its whole process tree. */
export interface MemorySample {
  at: number;
  rssMiB: number;
  treeRssMiB: number;
}

/**
 * Samples a process's memory every `everyMs` until stopped. The tree figure
 * counts helpers the process started (e.g. tsx's esbuild service).
 */
export function sampleMemory(
  pid: number,
  everyMs: number,
): {
  samples: MemorySample[];
  stop(): void;
} {
  const samples: MemorySample[] = [];
  let busy = false;
  const take = async () => {
    if (busy) return;
    busy = true;
    try {
      const own = await rssMiB(pid);
      if (own === undefined) return;
      let tree = 0;
      for (const p of await processTree(pid)) tree += (await rssMiB(p)) ?? 0;
      samples.push({ at: Date.now(), rssMiB: own, treeRssMiB: tree });
    } finally {
      busy = false;
    }
  };
  void take();
  const timer = setInterval(() => void take(), everyMs);
  return {
    samples,
    stop: () => clearInterval(timer),
  };
}

/** CPU seconds of several named processes at one moment. */
export async function cpuOf(pids: Record<string, number>): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const [name, pid] of Object.entries(pids)) {
    const s = await cpuSeconds(pid);
    if (s !== undefined) out[name] = s;
  }
  return out;
}

/** CPU seconds of a process and its live descendants. */
export async function treeCpuSeconds(pid: number): Promise<number> {
  let total = 0;
  for (const p of await processTree(pid)) total += (await cpuSeconds(p)) ?? 0;
  return total;
}
