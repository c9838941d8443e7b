import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Canary } from '../api/types.js';
import { providerProblem } from '../routers/capabilities.js';
import { ownProviderOf } from '../routers/target-providers.js';
import { controllerDefaultWarnings } from './controller-defaults.js';
import { checkReferences } from './references.js';
import { isWeirDocument, validateDocument, type Violation } from './validate.js';
import { canonicalPath, parseYamlFile, type Position, type SourceDocument } from './yaml-source.js';

/** One finding, located in a file. */
export interface Finding extends Violation {
  file: string;
  line: number;
  column: number;
  /** Kind and name of the document, when known, e.g. `Canary/podinfo`. */
  object?: string;
}

/** What `lintPaths` found. */
export interface LintResult {
  files: number;
  documents: number;
  findings: Finding[];
  errors: number;
  warnings: number;
}

/** Files larger than this are reported, not read: no manifest needs 4 MiB. */
export const maxFileBytes = 4 * 1024 * 1024;

async function collectFiles(target: string, out: string[]): Promise<void> {
  const s = await stat(target);
  if (s.isDirectory()) {
    const entries = await readdir(target, { withFileTypes: true });
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      if (e.name.startsWith('.') || e.name === 'node_modules') continue;
      const p = path.join(target, e.name);
      if (e.isDirectory()) await collectFiles(p, out);
      else if (/\.ya?ml$/.test(e.name)) out.push(p);
    }
  } else {
    out.push(target);
  }
}

/** Finds the most specific recorded position for a path (falls back to its parents). */
function locate(doc: SourceDocument, fieldPath: string): Position {
  let p = canonicalPath(fieldPath);
  while (p) {
    const hit = doc.positions.get(p);
    if (hit) return hit;
    const cut = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['));
    p = cut > 0 ? p.slice(0, cut) : '';
  }
  return doc.start;
}

function objectName(doc: SourceDocument): string | undefined {
  const v = doc.value as { kind?: unknown; metadata?: { name?: unknown } };
  return typeof v?.kind === 'string' && typeof v.metadata?.name === 'string'
    ? `${v.kind}/${v.metadata.name}`
    : undefined;
}

/**
 * Lints YAML files and folders: every Weir document against the CRD schema and
 * CEL rules, and references between documents. Reads files only; never executes
 * or fetches anything.
 */
export async function lintPaths(targets: string[]): Promise<LintResult> {
  const files: string[] = [];
  const findings: Finding[] = [];
  for (const t of targets) {
    try {
      await collectFiles(t, files);
    } catch (err) {
      findings.push({
        file: t,
        line: 0,
        column: 0,
        path: '',
        severity: 'error',
        message: `cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      });
    }
  }
  const docs: SourceDocument[] = [];
  for (const file of files) {
    const size = (await stat(file)).size;
    if (size > maxFileBytes) {
      findings.push({
        file,
        line: 1,
        column: 1,
        path: '',
        severity: 'error',
        message: `file is ${size} bytes; manifests over ${maxFileBytes} bytes are not read`,
      });
      continue;
    }
    const parsed = parseYamlFile(file, await readFile(file, 'utf8'));
    if (!Array.isArray(parsed)) {
      findings.push({
        file,
        ...parsed.position,
        path: '',
        severity: 'error',
        message: parsed.message,
      });
      continue;
    }
    docs.push(...parsed);
  }
  for (const doc of docs) {
    if (!isWeirDocument(doc.value)) continue;
    const violations = validateDocument(doc.value);
    // What the provider cannot route, once the Canary is well-formed: the controller
    // would report the same as a Ready=False condition.
    const problem = violations.every((v) => v.severity !== 'error') && providerProblemOf(doc.value);
    if (problem) violations.push({ path: 'spec.provider', message: problem, severity: 'error' });
    if (violations.every((v) => v.severity !== 'error'))
      violations.push(...controllerDefaultWarnings(doc.value));
    for (const v of violations) {
      const object = objectName(doc);
      findings.push({
        file: doc.file,
        ...locate(doc, v.path),
        ...v,
        ...(object ? { object } : {}),
      });
    }
  }
  for (const { doc, violation } of checkReferences(docs)) {
    const object = objectName(doc);
    findings.push({
      file: doc.file,
      ...locate(doc, violation.path),
      ...violation,
      ...(object ? { object } : {}),
    });
  }
  findings.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column);
  return {
    files: files.length,
    documents: docs.length,
    findings,
    errors: findings.filter((f) => f.severity === 'error').length,
    warnings: findings.filter((f) => f.severity === 'warning').length,
  };
}

/**
 * Why the provider a Canary names cannot route it. A Canary without spec.provider
 * gets the controller's --provider, which a linter cannot know: it is not checked.
 */
function providerProblemOf(value: unknown): string | undefined {
  const canary = value as Canary;
  if (canary.kind !== 'Canary') return undefined;
  // A StatefulSet or a Knative Service has its own provider when it names none.
  const provider = canary.spec?.provider ?? ownProviderOf(canary);
  if (typeof provider !== 'string') return undefined;
  return providerProblem(provider, canary);
}

/** Human-readable report: `file:line:column: error: path: message`. */
export function formatText(result: LintResult): string {
  const lines = result.findings.map(
    (f) =>
      `${f.file}:${f.line}:${f.column}: ${f.severity}: ${f.path ? `${f.path}: ` : ''}${f.message}${f.object ? ` (${f.object})` : ''}`,
  );
  lines.push(
    `${result.files} file(s), ${result.documents} document(s): ${result.errors} error(s), ${result.warnings} warning(s)`,
  );
  return lines.join('\n') + '\n';
}
