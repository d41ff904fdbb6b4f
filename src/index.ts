/**
 * uwsgi-ts as a library: `start()` runs the same runtime as the CLI from a program,
 * and the thread APIs (sharedareas, mules) work in any thread of it.
 *
 * ```ts
 * import { start } from 'uwsgi-ts';
 * const rt = await start({ module: './app.ts', 'http-socket': ['127.0.0.1:0'], workers: 2 });
 * console.log(rt.addresses[0].port);
 * await rt.stop();
 * ```
 */
// Workers and mules import this module too (for sharedarea, the mule API, runInFarm), so the
// master's modules (effect, supervision) load lazily, only when start() is called.
import type { ResolvedOptions } from './shared/options-table.js';
import type { Runtime } from './master/master.js';

export type { Runtime, RuntimeState, BoundAddress } from './master/master.js';
export type { WorkerThreadInfo } from './master/worker-pool.js';
export type { ResolvedOptions, OptionName } from './shared/options-table.js';
export { UwsgiError, ERROR_CATALOGUE, type UwsgiErrorCode } from './shared/errors.js';
import { UwsgiError, echo } from './shared/errors.js';
export { sharedarea } from './shared/sharedarea.js';
export {
  muleMsg, farmMsg, muleGetMsg, muleGetMsgSync, farmGetMsg, farmGetMsgSync, muleMessages, muleId, inFarm,
  muleStopSignal, setMuleMsgHook, muleQueueStats, muleDone, muleBusy, MULE_STOP, MULE_TIMEOUT,
  type MuleStop, type MuleTimeout, type MuleMsgOptions, type MuleGetMsgOptions, type MuleMsgHook,
} from './shared/mule-api.js';
export {
  runInFarm, runInFarmWith, taskFarmStats, type RunInFarmOptions, type TaskFarmStats,
} from './shared/task-farm-api.js';
export { registerHookAction } from './shared/hook-actions.js';
export { workerId } from './shared/thread-identity.js';
export { waits, nativeKind, nativeUnavailableReason, type NativeWaits, type NativeKind } from './shared/native.js';

/** Options for start(): any option of the table by its uWSGI name; lists take arrays. */
export type StartOptions = {
  [K in keyof ResolvedOptions]?: ResolvedOptions[K] extends readonly string[] ? readonly string[] | string : ResolvedOptions[K];
} & {
  /** Install SIGTERM/SIGINT/SIGHUP/SIGQUIT handlers as the CLI does (default false). */
  signals?: boolean;
  /** Working directory that relative paths resolve against (default process.cwd()). */
  cwd?: string;
};

/** One option value as the command line would spell it; anything but a string, number or boolean is refused (not stringified). */
function argValue(key: string, value: unknown): string {
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'string' || typeof value === 'number') return String(value);
  throw new UwsgiError('UWSGI_ERR_OPTION_VALUE', `invalid value for option --${key}: ${echo(value)} (expected a string, number or boolean, or an array of them)`);
}

function toArgv(options: StartOptions): string[] {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new UwsgiError('UWSGI_ERR_OPTION_VALUE', `start() takes an options object, got ${options == null ? String(options) : echo(options)}`);
  }
  const argv: string[] = [];
  for (const [key, value] of Object.entries(options)) {
    if (key === 'signals' || key === 'cwd' || value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) argv.push(`--${key}=${argValue(key, v)}`);
    else argv.push(`--${key}=${argValue(key, value)}`);
  }
  return argv;
}

/** Start a master with its workers (and mules) in this process; resolves once every worker accepts. */
export async function start(options: StartOptions): Promise<Runtime> {
  const [{ resolveOptions }, { startRuntime }, { installSignals }] = await Promise.all([
    import('./shared/options.js'), import('./master/master.js'), import('./master/signals.js'),
  ]);
  const argv = toArgv(options);
  const cwd = options.cwd ?? process.cwd();
  const { options: resolved, list } = resolveOptions(argv, {}, cwd);
  const runtime = await startRuntime(resolved, cwd, list);
  if (options.signals) {
    const uninstall = installSignals(runtime, { dieOnTerm: resolved['die-on-term'] });
    void runtime.stopped.then(uninstall);
  }
  return runtime;
}
