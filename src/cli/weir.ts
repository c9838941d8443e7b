#!/usr/bin/env node
/**
 * The `weir` command for people: lint and convert manifests, follow and steer
 * releases (get, history, promote, abort, retry, approve), and the dashboard. Exit codes: 0 fine, 1 findings or
 * failure, 2 usage error.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { sanitize } from '../util/text.js';
import { UsageError } from './usage-error.js';

const usage = `Usage: weir <command> [options]

Commands:
  lint <file|folder>...   Check Weir manifests: schema, cross-field rules, references.
        --format text|json  Output for people (default) or tools.
  convert <file>...       Rewrite Flagger Canary/MetricTemplate/AlertProvider manifests
                          to weir.dev/v1alpha1 on stdout; notes go to stderr.
  get [canary]            The Canaries of a namespace, or one Canary in detail: phase, weight,
                          step, failed checks, images, metric values, gates, last transitions.
        -w, --watch         Redraw on every change (plain lines when not a terminal).
  history <canary>        Every recorded transition of the Canary's releases.
  promote <canary>        Promote the release in progress now, skipping the rest of the analysis.
  abort <canary>          Roll the release in progress back now.
  retry <canary>          Release the revision that failed again.
  approve <canary>        Approve the confirm gates of the release in progress (weir.dev/approve).
  dashboard               A live web dashboard on 127.0.0.1, with the actions your RBAC allows.
        --address ADDR, --port PORT, --allowed-host HOST..., --read-only;
        -n NS... watches only those namespaces (all by default).

Cluster options (get, history, promote, abort, retry, approve, dashboard), as kubectl reads them:
  -n, --namespace NS      --kubeconfig PATH      --context NAME

Run 'weir <command> --help' for a command's options.
`;

async function lint(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { format: { type: 'string', default: 'text' }, help: { type: 'boolean' } },
  });
  if (values.help) {
    process.stdout.write('Usage: weir lint [--format text|json] <file|folder>...\n');
    return 0;
  }
  if (positionals.length === 0) throw new UsageError('weir lint needs at least one file or folder');
  if (values.format !== 'text' && values.format !== 'json') {
    throw new UsageError(`--format: expected text or json, got "${values.format}"`);
  }
  // Each command loads what it needs: Ajv, CEL and YAML positions only here and in
  // convert, the Kubernetes client only in the cluster commands (ADR 0023).
  const { formatText, lintPaths } = await import('../lint/lint.js');
  const result = await lintPaths(positionals);
  process.stdout.write(
    values.format === 'json' ? JSON.stringify(result, null, 2) + '\n' : formatText(result),
  );
  return result.errors > 0 ? 1 : 0;
}

async function convert(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { help: { type: 'boolean' } },
  });
  if (values.help) {
    process.stdout.write('Usage: weir convert <file>...   (writes the converted YAML to stdout)\n');
    return 0;
  }
  if (positionals.length === 0) throw new UsageError('weir convert needs at least one file');
  const { convertFlagger } = await import('../convert/flagger.js');
  const parts: string[] = [];
  let notes = 0;
  for (const file of positionals) {
    const result = convertFlagger(await readFile(file, 'utf8'));
    parts.push(result.yaml);
    for (const n of result.notes) {
      process.stderr.write(`${file}: ${n.object}: ${n.path}: ${n.message}\n`);
      notes += 1;
    }
  }
  process.stdout.write(parts.join('---\n'));
  if (notes > 0)
    process.stderr.write(`${notes} note(s): review them before committing the result.\n`);
  return 0;
}

async function cluster(
  command: 'history' | 'promote' | 'abort' | 'retry' | 'approve',
  args: string[],
): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      ...clusterOptions,
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    process.stdout.write(
      `Usage: weir ${command} <canary> [-n namespace] [--kubeconfig path] [--context name]\n`,
    );
    return 0;
  }
  if (positionals.length !== 1)
    throw new UsageError(`weir ${command} needs exactly one Canary name`);
  const { history, requestAction, resolveTarget } = await import('./kube-commands.js');
  const target = resolveTarget(clusterValues(values));
  const name = positionals[0]!;
  const out =
    command === 'history'
      ? await history(target, name)
      : await requestAction(target, name, command);
  process.stdout.write(out.endsWith('\n') ? out : `${out}\n`);
  return 0;
}

async function get(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      ...clusterOptions,
      watch: { type: 'boolean', short: 'w' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    process.stdout.write(
      'Usage: weir get [canary] [-n namespace] [-w|--watch] [--kubeconfig path] [--context name]\n',
    );
    return 0;
  }
  if (positionals.length > 1) throw new UsageError('weir get takes at most one Canary name');
  const { getView, listCanaries, resolveTarget } = await import('./kube-commands.js');
  const { renderCanary, renderList } = await import('./get-view.js');
  const target = resolveTarget(clusterValues(values));
  const name = positionals[0];
  const frame = async () =>
    name
      ? renderCanary(await getView(target, name))
      : renderList(await listCanaries(target), Date.now());
  if (!values.watch) {
    process.stdout.write(`${(await frame()).join('\n')}\n`);
    return 0;
  }
  const { watchFrames } = await import('./watch.js');
  await watchFrames(frame, { out: process.stdout, tty: Boolean(process.stdout.isTTY) });
  return 0;
}

/** The kubectl-like options of the cluster commands. */
const clusterOptions = {
  namespace: { type: 'string', short: 'n' },
  kubeconfig: { type: 'string' },
  context: { type: 'string' },
} as const;

/** The cluster options that were given, for resolveTarget. */
function clusterValues(values: { namespace?: string; kubeconfig?: string; context?: string }) {
  return {
    ...(values.kubeconfig ? { kubeconfig: values.kubeconfig } : {}),
    ...(values.context ? { context: values.context } : {}),
    ...(values.namespace ? { namespace: values.namespace } : {}),
  };
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'lint':
        return await lint(rest);
      case 'convert':
        return await convert(rest);
      case 'get':
        return await get(rest);
      case 'history':
      case 'promote':
      case 'abort':
      case 'retry':
      case 'approve':
        return await cluster(command, rest);
      case 'dashboard':
        return await (await import('./dashboard-command.js')).dashboard(rest);
      case undefined:
      case '--help':
      case '-h':
      case 'help':
        process.stdout.write(usage);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (err) {
    if (
      err instanceof UsageError ||
      (err as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')
    ) {
      process.stderr.write(`weir: ${(err as Error).message}\n\n${usage}`);
      return 2;
    }
    // API errors can quote objects a Canary author wrote: no control character reaches the terminal.
    process.stderr.write(`weir: ${sanitize((err as Error).message)}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
