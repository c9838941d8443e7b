/**
 * `npm run bench:heap -- FILE.heapsnapshot [--top 20]`: what a V8 heap snapshot holds,
 * by kind of object (self sizes summed by node type and constructor), and its largest
 * strings with where they start (a module's source text shows up as one string).
 * Used for the snapshots `bench:scale --heap-snapshot` writes (docs/benchmarks.md).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
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
  ].join('\n'),
);
