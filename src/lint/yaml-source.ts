import {
  constructFromEvents,
  EVENT_ID,
  getScalarValue,
  parseEvents,
  YAMLException,
  type Event,
} from 'js-yaml';

/** A 1-based line and column in a source file. */
export interface Position {
  line: number;
  column: number;
}

/** One YAML document of a file, with where each field of it starts. */
export interface SourceDocument {
  file: string;
  /** 0-based index of the document in the file. */
  index: number;
  value: unknown;
  /** Position of the key (or sequence item) for each path, e.g. `spec.analysis.stepWeights[1]`. */
  positions: Map<string, Position>;
  /** Position of the document's first node. */
  start: Position;
}

/** A file that could not be read as YAML: where and why. */
export interface SourceError {
  file: string;
  position: Position;
  message: string;
}

/**
 * Joins a field path the way Kubernetes prints it: `.field` for a field of an
 * object, `[key]` for a key of a map, `[2]` for a list index.
 */
export function joinPath(parent: string, key: string | number, mapKey = false): string {
  if (typeof key === 'number' || mapKey) return `${parent}[${key}]`;
  return parent === '' ? key : `${parent}.${key}`;
}

/**
 * The form positions are recorded under: every key as `.key`, since the YAML
 * alone cannot tell a map key from a field. `a[x-y][2]` and `a.x-y[2]` both give `a.x-y[2]`.
 */
export function canonicalPath(path: string): string {
  return path.replace(/\[([^\]]*[^\d\]][^\]]*)\]/g, '.$1');
}

function lineIndex(text: string): (offset: number) => Position {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  return (offset) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - starts[lo]! + 1 };
  };
}

type Frame =
  | { kind: 'map'; path: string; key: string | undefined }
  | { kind: 'seq'; path: string; index: number };

/**
 * Parses every document of a YAML file and records where each field starts, so
 * errors can point at `file:line:column`. Duplicate keys and syntax errors are
 * returned as a {@link SourceError} (nothing of the file is used then).
 */
export function parseYamlFile(file: string, text: string): SourceDocument[] | SourceError {
  const at = lineIndex(text);
  let events: Event[];
  let values: unknown[];
  try {
    events = parseEvents(text, { filename: file, maxDepth: 64 });
    // maxAliases 0: aliases are a classic way to blow up a document ("billion laughs").
    values = constructFromEvents(events, { source: text, filename: file, maxAliases: 0 });
  } catch (err) {
    if (err instanceof YAMLException) {
      const position = err.mark
        ? { line: err.mark.line + 1, column: err.mark.column + 1 }
        : { line: 1, column: 1 };
      return { file, position, message: `YAML: ${err.reason}` };
    }
    throw err;
  }

  const docs: SourceDocument[] = [];
  let stack: Frame[] = [];
  let positions = new Map<string, Position>();
  let start: Position = { line: 1, column: 1 };
  let depth = 0;

  // Where the next node goes: under the pending key of a map, or as the next item of a sequence.
  const place = (offset: number): string | undefined => {
    const top = stack.at(-1);
    if (!top) return '';
    if (top.kind === 'seq') {
      const path = joinPath(top.path, top.index);
      top.index += 1;
      positions.set(path, at(offset));
      return path;
    }
    const path = top.key === undefined ? undefined : joinPath(top.path, top.key);
    top.key = undefined;
    return path;
  };

  for (const ev of events) {
    switch (ev.type) {
      case EVENT_ID.DOCUMENT:
        depth += 1;
        stack = [];
        positions = new Map();
        break;
      case EVENT_ID.MAPPING:
      case EVENT_ID.SEQUENCE: {
        if (stack.length === 0) start = at(ev.start);
        const path = place(ev.start) ?? '';
        stack.push(
          ev.type === EVENT_ID.MAPPING
            ? { kind: 'map', path, key: undefined }
            : { kind: 'seq', path, index: 0 },
        );
        break;
      }
      case EVENT_ID.SCALAR: {
        const top = stack.at(-1);
        if (stack.length === 0) start = at(ev.valueStart);
        if (top?.kind === 'map' && top.key === undefined) {
          top.key = getScalarValue(text, ev);
          positions.set(joinPath(top.path, top.key), at(ev.valueStart));
        } else {
          place(ev.valueStart);
        }
        break;
      }
      case EVENT_ID.ALIAS:
        place(ev.anchorStart);
        break;
      case EVENT_ID.POP:
        if (stack.length > 0) {
          stack.pop();
        } else if (depth > 0) {
          docs.push({ file, index: docs.length, value: values[docs.length], positions, start });
          depth -= 1;
        }
        break;
    }
  }
  // Empty documents (`---` with nothing after it) carry no object.
  return docs.filter((d) => d.value !== null && d.value !== undefined);
}
