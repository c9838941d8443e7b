import type * as k8s from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { SecretReader } from '../../../src/kube/secret-reader.js';

/** A metadata cache and an API server's Secrets, with the GETs counted. */
function world() {
  const stored = new Map<string, k8s.V1Secret>();
  const reads: string[] = [];
  let gate: Promise<void> = Promise.resolve();
  const put = (name: string, rv: string, value: string) =>
    stored.set(`ns/${name}`, {
      metadata: { name, namespace: 'ns', resourceVersion: rv },
      data: { token: Buffer.from(value).toString('base64') },
    });
  const reader = new SecretReader({
    metadata: (ns, name) => stored.get(`${ns}/${name}`)?.metadata,
    read: async (ns, name) => {
      reads.push(`${ns}/${name}`);
      await gate;
      return stored.get(`${ns}/${name}`);
    },
  });
  return {
    reader,
    reads,
    put,
    remove: (name: string) => stored.delete(`ns/${name}`),
    hold: () => {
      let release!: () => void;
      gate = new Promise((r) => (release = r));
      return release;
    },
  };
}

const tokenOf = (s: k8s.V1Secret | undefined) =>
  s?.data?.token && Buffer.from(s.data.token, 'base64').toString();

describe('SecretReader', () => {
  it('holds no Secret until one is loaded, then answers from its copy', async () => {
    const w = world();
    w.put('a', '1', 'one');
    expect(w.reader.get('ns', 'a')).toBeUndefined();
    await w.reader.load('ns', 'a');
    expect(tokenOf(w.reader.get('ns', 'a'))).toBe('one');
    await w.reader.load('ns', 'a');
    expect(w.reads).toEqual(['ns/a']);
    expect(w.reader.size).toBe(1);
  });

  it('reads again only when the resourceVersion moved', async () => {
    const w = world();
    w.put('a', '1', 'one');
    await w.reader.load('ns', 'a');
    w.put('a', '2', 'two');
    // Until the next load, the older copy answers (an informer is no fresher).
    expect(tokenOf(w.reader.get('ns', 'a'))).toBe('one');
    await w.reader.load('ns', 'a');
    expect(tokenOf(w.reader.get('ns', 'a'))).toBe('two');
    expect(w.reads).toEqual(['ns/a', 'ns/a']);
  });

  it('sends no GET for a Secret the metadata watch does not know, and forgets a deleted one', async () => {
    const w = world();
    await w.reader.load('ns', 'missing');
    expect(w.reads).toEqual([]);
    w.put('a', '1', 'one');
    await w.reader.load('ns', 'a');
    w.remove('a');
    expect(w.reader.get('ns', 'a')).toBeUndefined();
    expect(w.reader.size).toBe(0);
  });

  it('shares one GET between concurrent loads of a Secret', async () => {
    const w = world();
    w.put('a', '1', 'one');
    w.put('b', '1', 'bee');
    const release = w.hold();
    const loads = [w.reader.loadAll('ns', ['a', 'b', 'a']), w.reader.load('ns', 'a')];
    release();
    await Promise.all(loads);
    expect(w.reads.sort()).toEqual(['ns/a', 'ns/b']);
  });

  it('keeps the copy it had when a GET fails, and reports the failure', async () => {
    const stored: k8s.V1Secret = { metadata: { name: 'a', resourceVersion: '1' }, data: {} };
    let fail = false;
    const reader = new SecretReader({
      metadata: () => stored.metadata,
      read: async () => {
        if (fail) throw new Error('connect ECONNREFUSED');
        return structuredClone(stored);
      },
    });
    await reader.load('ns', 'a');
    stored.metadata = { name: 'a', resourceVersion: '2' };
    fail = true;
    await expect(reader.load('ns', 'a')).rejects.toThrow('ECONNREFUSED');
    expect(reader.get('ns', 'a')).toBeDefined();
  });
});
