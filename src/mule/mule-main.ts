/**
 * Entry point of a mule thread: attach the sharedareas and the queues, run the
 * `as-mule` hooks, resolve the program, tell the master "ready", then run the program
 * (a script, a function, or the message loop).
 *
 * Stop protocol (reload, shutdown): the master sets this mule's STOP word (any pending
 * or future muleGetMsg resolves with MULE_STOP, taking no message) and posts
 * `{ type: 'stop' }`, which aborts `muleStopSignal()`. A mule that has not exited within
 * --mule-reload-mercy is terminated.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { UwsgiError, isUwsgiError, echo } from '../shared/errors.js';
import { log } from '../shared/log-writer.js';
import { runHookChain, type HookFunction } from '../shared/hook-actions.js';
import { initMuleStop } from '../shared/mule-api.js';
import { attachThreadResources } from '../shared/thread-wiring.js';
import type { MuleCommand, MuleEvent, MuleInit } from './mule-init.js';
import { loadApp, resolveProgram, runProgram } from './mule-program.js';

const init = workerData as MuleInit;
const port = parentPort!;
const post = (e: MuleEvent): void => port.postMessage(e);

attachThreadResources({ role: 'mule', id: init.id }, { sharedareas: init.sharedareas, mules: init.queues, tasks: init.tasks });
const stop = initMuleStop();
port.on('message', (m: MuleCommand) => {
  if (m && m.type === 'stop') stop.abort(new UwsgiError('UWSGI_ERR_STOPPED', `mule ${init.id}: stop requested by the master`));
});
// The port must not keep the mule alive: a script mule ends when its own event loop drains.
port.unref();

async function main(): Promise<void> {
  const exports = await loadApp(init);
  try {
    await runHookChain(init.hooks, {
      phase: 'as-mule',
      resolveFunction: (name) => (typeof exports?.[name] === 'function' ? exports[name] as HookFunction : undefined),
    });
  } catch (e) {
    const err = isUwsgiError(e) ? e : new UwsgiError('UWSGI_ERR_HOOK', String(e));
    post({ type: 'fatal', code: err.code, message: err.message, hook: true });
    log.flushSync();
    process.exit(1);
  }
  const program = await resolveProgram(init, exports);
  post({ type: 'ready' });
  const code = await runProgram(init, program);
  if (code !== undefined) {
    log.flushSync();
    process.exit(code);
  }
}

main().catch((e: unknown) => {
  const err = isUwsgiError(e) ? e : new UwsgiError('UWSGI_ERR_WORKER_CRASH', `mule ${init.id} (--mule ${echo(init.value)}): ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  post({ type: 'fatal', code: err.code, message: err.message, hook: false });
  log.flushSync();
  process.exit(1);
});
