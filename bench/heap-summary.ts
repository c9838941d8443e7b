/**
 * `npm run bench:heap -- FILE.heapsnapshot [--top 20]`: what a V8 heap snapshot holds,
 * by kind of object (self sizes summed by node type and constructor), its largest
 * strings with where they start (a module's source text shows up as one string), and
 * what retains the most: the dominator tree (a node's retained size is what a GC would
 * free without it), down to objects of at least 1 % of the heap.
 * Used for the snapshots `bench:scale --heap-snapshot` writes (docs/benchmarks.md).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface Snapshot {
  snapshot: {
    meta: {
      node_fields: string[];
      node_types: [string[], ...unknown[]];
      edge_fields: string[];
      edge_types: [string[], ...unknown[]];
    };
  };
  nodes: number[];
  edges: number[];
  strings: string[];
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: 'string', default: '20' } },
});
if (positionals.length !== 1) {
  process.stderr.write('Usage: npm run bench:heap -- FILE.heapsnapshot [--top N]\n');
  process.exit(2);
}
const top = Number(values.top);
const snap = JSON.parse(readFileSync(positionals[0]!, 'utf8')) as Snapshot;
const fields = snap.snapshot.meta.node_fields;
const types = snap.snapshot.meta.node_types[0];
const width = fields.length;
const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f));

const byKind = new Map<string, { bytes: number; count: number }>();
const strings: { bytes: number; start: string }[] = [];
let total = 0;
for (let i = 0; i < snap.nodes.length; i += width) {
  const type = types[snap.nodes[i + typeAt!]!]!;
  const bytes = snap.nodes[i + sizeAt!]!;
  const name = snap.strings[snap.nodes[i + nameAt!]!]!;
  total += bytes;
  let kind: string;
  if (type.endsWith('string')) {
    kind = bytes >= 64 * 1024 ? 'strings of 64 KiB or more' : 'strings under 64 KiB';
    if (bytes >= 64 * 1024) strings.push({ bytes, start: name.slice(0, 70) });
  } else if (type === 'code') kind = `code: ${name.replace(/^system \/ /, '').split(/[ (]/)[0]}`;
  else kind = `${type}: ${name.replace(/^system \/ /, '').slice(0, 50)}`;
  const entry = byKind.get(kind) ?? { bytes: 0, count: 0 };
  entry.bytes += bytes;
  entry.count += 1;
  byKind.set(kind, entry);
}

const mib = (n: number) => (n / 2 ** 20).toFixed(2);
const oneLine = (s: string) => s.replace(/\s+/g, ' ').replace(/\|/g, '\\|');
const rows = [...byKind].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, top);
process.stdout.write(
  [
    `${positionals[0]}: ${mib(total)} MiB in the heap (live objects after the snapshot's full GC)`,
    '',
    '| kind | MiB | objects |',
    '| --- | ---: | ---: |',
    ...rows.map(([k, v]) => `| ${oneLine(k)} | ${mib(v.bytes)} | ${v.count} |`),
    '',
    '| largest strings | MiB | starts with |',
    '| --- | ---: | --- |',
    ...strings
      .sort((a, b) => b.bytes - a.bytes)
      .slice(0, 8)
      .map((s, n) => `| ${n + 1} | ${mib(s.bytes)} | \`${oneLine(s.start)}\` |`),
    '',
    '| retained by (dominator tree, ≥ 1 % of the heap) | retained MiB |',
    '| --- | ---: |',
    ...retainers(snap, total / 100).map(
      (r) => `| ${'· '.repeat(r.depth)}${oneLine(r.name)} | ${mib(r.retained)} |`,
    ),
    '',
  ].join('\n'),
);

/**
 * Retained sizes from the dominator tree (Cooper, Harvey and Kennedy's iterative
 * algorithm over the strong edges; weak edges do not keep anything alive), listed as a
 * tree from the snapshot's root down to nodes retaining at least `minBytes`.
 */
function retainers(
  snapshot: Snapshot,
  minBytes: number,
): { depth: number; name: string; retained: number }[] {
  const meta = snapshot.snapshot.meta;
  const nodeWidth = meta.node_fields.length;
  const edgeWidth = meta.edge_fields.length;
  const count = snapshot.nodes.length / nodeWidth;
  const edgeCountAt = meta.node_fields.indexOf('edge_count');
  const [edgeTypeAt, edgeToAt] = ['type', 'to_node'].map((f) => meta.edge_fields.indexOf(f));
  const weak = meta.edge_types[0].indexOf('weak');
  const firstEdge = new Uint32Array(count + 1);
  for (let n = 0; n < count; n++)
    firstEdge[n + 1] = firstEdge[n]! + snapshot.nodes[n * nodeWidth + edgeCountAt]!;
  const children = (n: number, visit: (child: number) => void) => {
    for (let e = firstEdge[n]!; e < firstEdge[n + 1]!; e++) {
      const at = e * edgeWidth;
      if (snapshot.edges[at + edgeTypeAt!] === weak) continue;
      visit(snapshot.edges[at + edgeToAt!]! / nodeWidth);
    }
  };
  // Postorder numbers by an iterative depth-first search from the root (node 0).
  const post = new Int32Array(count).fill(-1);
  const order: number[] = [];
  const seen = new Uint8Array(count);
  const stack: number[] = [0];
  const cursor = new Uint32Array(count);
  seen[0] = 1;
  for (let n = 0; n < count; n++) cursor[n] = firstEdge[n]!;
  while (stack.length) {
    const n = stack[stack.length - 1]!;
    let pushed = false;
    while (cursor[n]! < firstEdge[n + 1]!) {
      const at = cursor[n]! * edgeWidth;
      cursor[n]! += 1;
      if (snapshot.edges[at + edgeTypeAt!] === weak) continue;
      const child = snapshot.edges[at + edgeToAt!]! / nodeWidth;
      if (seen[child]) continue;
      seen[child] = 1;
      stack.push(child);
      pushed = true;
      break;
    }
    if (!pushed) {
      stack.pop();
      post[n] = order.length;
      order.push(n);
    }
  }
  const preds: number[][] = Array.from({ length: count }, () => []);
  for (const n of order) children(n, (c) => void (post[c]! >= 0 && preds[c]!.push(n)));
  const idom = new Int32Array(count).fill(-1);
  idom[0] = 0;
  const intersect = (a: number, b: number) => {
    while (a !== b) {
      while (post[a]! < post[b]!) a = idom[a]!;
      while (post[b]! < post[a]!) b = idom[b]!;
    }
    return a;
  };
  for (let changed = true; changed;) {
    changed = false;
    for (let i = order.length - 2; i >= 0; i--) {
      const n = order[i]!;
      let dom = -1;
      for (const p of preds[n]!) if (idom[p]! >= 0) dom = dom < 0 ? p : intersect(p, dom);
      if (dom >= 0 && idom[n] !== dom) {
        idom[n] = dom;
        changed = true;
      }
    }
  }
  const retained = new Float64Array(count);
  for (const n of order) {
    retained[n]! += snapshot.nodes[n * nodeWidth + sizeAt!]!;
    if (n !== 0 && idom[n]! >= 0) retained[idom[n]!]! += retained[n]!;
  }
  const kids: number[][] = Array.from({ length: count }, () => []);
  for (const n of order) if (n !== 0 && idom[n]! >= 0) kids[idom[n]!]!.push(n);
  const label = (n: number) => {
    const type = types[snapshot.nodes[n * nodeWidth + typeAt!]!]!;
    const name = snapshot.strings[snapshot.nodes[n * nodeWidth + nameAt!]!]!;
    return `${type}: ${name.slice(0, 70)}`;
  };
  const out: { depth: number; name: string; retained: number }[] = [];
  // Arrays, hidden objects and code under an object are its internals: listed once, not
  // followed (a linked list of WeakCells would otherwise print one line per cell).
  const internal = (n: number) =>
    ['array', 'hidden', 'code'].includes(types[snapshot.nodes[n * nodeWidth + typeAt!]!]!);
  const walk = (n: number, depth: number) => {
    for (const k of kids[n]!.filter((c) => retained[c]! >= minBytes).sort(
      (a, b) => retained[b]! - retained[a]!,
    )) {
      out.push({ depth, name: label(k), retained: retained[k]! });
      if (depth < 4 && !internal(k)) walk(k, depth + 1);
    }
  };
  walk(0, 0);
  return out;
}
