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
  for (const line of resolved.log) log.line(line);
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
  // Until the runtime is up, a stop signal aborts the startup (what was acquired is
  // released: listeners vacuumed, pidfile removed) and SIGHUP is moot (the workers being
  // started load the current code): neither may take Node's default action, killing the process.
  const startup = new AbortController();
  const onEarlyStop = (sig: string) => () => {
    log.line(`${sig} received during startup: stopping`);
    startup.abort();
  };
  const early: Array<[NodeJS.Signals, () => void]> = [
    ['SIGTERM', onEarlyStop('SIGTERM')], ['SIGINT', onEarlyStop('SIGINT')], ['SIGQUIT', onEarlyStop('SIGQUIT')],
    ['SIGHUP', () => log.line('SIGHUP received during startup: ignored, the workers being started load the current code')],
    ['SIGTSTP', () => log.line('SIGTSTP received during startup: ignored, nothing to pause yet')],
  ];
  for (const [sig, fn] of early) process.on(sig, fn);
  const dropEarly = (): void => { for (const [sig, fn] of early) process.off(sig, fn); };
  let runtime;
  try {
    runtime = await startRuntime(o, process.cwd(), resolved.list, startup.signal);
  } catch (e) {
    dropEarly();
    if (!startup.signal.aborted) throw e;
    log.line('goodbye to uWSGI.');
    return 0;
  }
  // The runtime's handlers go in before the early ones come out: removing a signal's last
  // listener closes Node's handle for it, and a signal already caught but not yet
  // dispatched to a closed handle is dropped, so there must be no moment without one.
  installSignals(runtime, { dieOnTerm: o['die-on-term'] });
  dropEarly();
  // a stop signal that came after the workers were up but before the runtime returned
  if (startup.signal.aborted) void runtime.stop();
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
