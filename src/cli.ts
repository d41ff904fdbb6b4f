#!/usr/bin/env node
/**
 * The `uwsgi-ts` command: resolve options (command line, config files, environment),
 * start the master, and map Unix signals onto it (SIGTERM/SIGINT graceful shutdown,
 * SIGHUP graceful reload, SIGQUIT brutal shutdown).
 */
import { resolveOptions, formatShowConfig } from './shared/options.js';
import { renderHelp, renderVersion } from './shared/help.js';
import { isUwsgiError } from './shared/errors.js';
import { log } from './shared/log-writer.js';
import { startRuntime } from './master/master.js';
import { installSignals } from './master/signals.js';

async function main(argv: string[]): Promise<number> {
  const resolved = resolveOptions(argv, process.env, process.cwd());
  for (const w of resolved.warnings) log.line(w);
  const o = resolved.options;
  if (o.help) {
    process.stdout.write(renderHelp());
    return 0;
  }
  if (o.version) {
    process.stdout.write(renderVersion());
    return 0;
  }
  if (o['show-config']) process.stdout.write(formatShowConfig(resolved.list));
  const runtime = await startRuntime(o, process.cwd(), resolved.list);
  installSignals(runtime, { dieOnTerm: o['die-on-term'] });
  await runtime.stopped;
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    log.flushSync();
    process.exitCode = code;
  },
  (e: unknown) => {
    log.flushSync();
    if (isUwsgiError(e)) process.stderr.write(`uwsgi-ts: [${e.code}] ${e.message}\n`);
    else process.stderr.write(`uwsgi-ts: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
