import {
  CelScalar,
  celFunc,
  celMethod,
  isCelError,
  listType,
  parse,
  plan,
  celEnv,
} from '@bufbuild/cel';

/**
 * Evaluates the CRDs' CEL rules the way the API server does. The standard CEL
 * library comes from @bufbuild/cel (RE2 regular expressions, like cel-go); the
 * two Kubernetes library functions our rules use are added here with their
 * Kubernetes semantics: `list.isSorted()` and `isURL(string)`.
 */
const kubernetesFuncs = [
  celMethod('isSorted', listType(CelScalar.DYN), [], CelScalar.BOOL, function () {
    const items = [...this] as (bigint | number | string)[];
    return items.every((x, i) => i === 0 || items[i - 1]! <= x);
  }),
  // Kubernetes' isURL accepts an absolute URI or an absolute path (Go's url.Parse).
  celFunc('isURL', [CelScalar.STRING], CelScalar.BOOL, (s) => {
    if (s.startsWith('/')) return true;
    try {
      return new URL(s).protocol.length > 1;
    } catch {
      return false;
    }
  }),
];

const env = celEnv({ funcs: kubernetesFuncs });
const compiled = new Map<string, ReturnType<typeof plan>>();

/** Outcome of one rule: passed, failed, or could not be evaluated (with why). */
export type RuleOutcome = { ok: true } | { ok: false; error?: string };

/** Evaluates `rule` with `self` bound; values must already be CEL-typed (integers as bigint). */
export function evaluateRule(rule: string, self: unknown): RuleOutcome {
  let program = compiled.get(rule);
  if (!program) {
    program = plan(env, parse(rule));
    compiled.set(rule, program);
  }
  const result = (program as (ctx: Record<string, unknown>) => unknown)({ self });
  if (isCelError(result)) return { ok: false, error: result.message };
  return result === true ? { ok: true } : { ok: false };
}
