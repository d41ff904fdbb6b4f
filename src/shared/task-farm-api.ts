/**
 * runInFarm(): run an exported function of a task farm's module (`--task-farm`) in one of
 * its task threads, from any thread of a uwsgi-ts instance, and get its result.
 *
 * - master / embedding program: straight to the master's piscina pool;
 * - worker or mule: a request on this thread's task port (a MessagePort the master gave
 *   it at spawn); requests carry an id, the master answers each one on the same port.
 *
 * Arguments and results are structured-cloned. Errors are UwsgiErrors: UWSGI_ERR_TASK_FARM
 * (unknown farm or function), UWSGI_ERR_TASK_FARM_FULL, UWSGI_ERR_TASK_FAILED (the task
 * threw: its error is `cause`), UWSGI_ERR_TASK_TIMEOUT / _ABORTED (runInFarmWith options),
 * UWSGI_ERR_STOPPED.
 *
 * Per-thread state lives on `globalThis[Symbol.for('uwsgi-ts.task-farm-api')]`, so the
 * runtime's copy and an app's copy of this module share the port and its pending calls.
 */
import type { MessagePort } from 'node:worker_threads';
import { UwsgiError, echo } from './errors.js';
import { log } from './log-writer.js';
import { threadIdentity } from './thread-identity.js';
import { isTaskResponse, taskError, type TaskCancelReason, type TaskFarmStats, type TaskRequest } from './task-farm-protocol.js';

export type { TaskFarmStats } from './task-farm-protocol.js';

export interface RunInFarmOptions {
  /** Reject with UWSGI_ERR_TASK_TIMEOUT after this many ms (default: no limit). A queued task is removed; a running one's task thread is replaced. */
  readonly timeoutMs?: number;
  /** Reject with UWSGI_ERR_TASK_ABORTED when aborted; same effect on the task as a timeout. */
  readonly signal?: AbortSignal;
}

/** The master's side, when runInFarm is called in the master thread itself. */
export interface LocalTaskFarms {
  run(farm: string, fn: string, args: readonly unknown[], signal?: AbortSignal): Promise<unknown>;
  stats(): TaskFarmStats[];
}

interface Pending {
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
}

interface TaskFarmApiState {
  port: MessagePort | undefined;
  local: LocalTaskFarms | undefined;
  readonly pending: Map<number, Pending>;
  nextId: number;
}

const KEY = Symbol.for('uwsgi-ts.task-farm-api');
type Holder = { [KEY]?: TaskFarmApiState };
const ST: TaskFarmApiState = ((globalThis as Holder)[KEY] ??= { port: undefined, local: undefined, pending: new Map(), nextId: 1 });

function onResponse(m: unknown): void {
  if (!isTaskResponse(m)) {
    log.line(`[UWSGI_ERR_TASK_FARM] malformed task farm answer from the master ignored: ${echo(m)}`);
    return;
  }
  const p = ST.pending.get(m.id);
  if (!p) return; // cancelled by its caller (timeout, signal): the late answer is dropped
  settled(m.id);
  if (m.t === 'ok') p.resolve(m.value);
  else p.reject(taskError(m.code, m.message, m.cause));
}

function settled(id: number): void {
  ST.pending.delete(id);
  // The port keeps the thread alive only while it waits for answers (a script mule may end).
  if (ST.pending.size === 0) ST.port?.unref();
}

/** Runtime wiring (workers, mules): this thread's task port, or undefined without task farms. */
export function attachTaskFarms(port: MessagePort | undefined): void {
  ST.port = port;
  if (!port) return;
  port.on('message', onResponse);
  port.unref();
}

/** Runtime wiring (master): serve this thread's calls from the pools; `undefined` detaches (only `current`, if given). */
export function attachLocalTaskFarms(local: LocalTaskFarms | undefined, current?: LocalTaskFarms): void {
  if (local === undefined && current !== undefined && ST.local !== current) return;
  ST.local = local;
}

/** `runInFarm("farm", "fn")` for messages (built only when an error needs it). */
const callText = (farm: unknown, fn: unknown): string => `runInFarm(${echo(farm)}, ${echo(fn)})`;

function send(req: TaskRequest, what: () => string): Promise<unknown> {
  const port = ST.port!;
  return new Promise((resolve, reject) => {
    try {
      port.postMessage(req);
    } catch (e) {
      reject(new UwsgiError('UWSGI_ERR_TASK_FAILED', `${what()}: the arguments cannot be sent to a task thread (structured clone): ${(e as Error).message}`, { cause: e }));
      return;
    }
    ST.pending.set(req.id, { resolve, reject });
    if (ST.pending.size === 1) port.ref();
  });
}

function cancelRemote(id: number, reason: TaskCancelReason): void {
  if (!ST.pending.has(id)) return;
  settled(id);
  const req: TaskRequest = { t: 'cancel', id, reason };
  ST.port?.postMessage(req);
}

/** Race `start` against the options' timeout and signal; `cancel` tells the runner. */
function guarded(what: string, options: RunInFarmOptions, start: (signal: AbortSignal) => Promise<unknown>, cancel: (reason: TaskCancelReason) => void): Promise<unknown> {
  const { timeoutMs, signal } = options;
  return new Promise((resolve, reject) => {
    const ac = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const finish = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    const stop = (reason: TaskCancelReason, err: UwsgiError): void => {
      finish();
      ac.abort(err);
      cancel(reason);
      reject(err);
    };
    const onAbort = (): void => stop('abort', new UwsgiError('UWSGI_ERR_TASK_ABORTED', `${what}: aborted by its signal (${reasonText(signal?.reason)})`));
    if (timeoutMs !== undefined) {
      timer = setTimeout(() => stop('timeout', new UwsgiError('UWSGI_ERR_TASK_TIMEOUT', `${what}: no result within timeoutMs ${timeoutMs}`)), timeoutMs);
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    start(ac.signal).then((v) => { finish(); resolve(v); }, (e: Error) => { finish(); reject(e); });
  });
}

function reasonText(reason: unknown): string {
  return reason instanceof Error ? reason.message : echo(reason);
}

/** The longest JS timer. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

function checkCall(farm: unknown, fn: unknown, args: unknown, options: RunInFarmOptions | undefined): void {
  if (typeof farm === 'string' && farm !== '' && typeof fn === 'string' && fn !== '' && Array.isArray(args) && options === undefined) return; // the common call
  const what = callText(farm, fn);
  if (typeof farm !== 'string' || farm === '') throw new UwsgiError('UWSGI_ERR_TASK_FARM', `${what}: the farm name must be a non-empty string, got ${echo(farm)}`);
  if (typeof fn !== 'string' || fn === '') throw new UwsgiError('UWSGI_ERR_TASK_FARM', `${what}: the function name must be a non-empty string, got ${echo(fn)}`);
  if (!Array.isArray(args)) throw new UwsgiError('UWSGI_ERR_TASK_FARM', `${what}: args must be an array, got ${echo(args)}`);
  const t = options?.timeoutMs;
  // At most 2^31-1 ms: a longer setTimeout fires at once (Node clamps it to 1 ms), which would time every task out.
  if (t !== undefined && !(typeof t === 'number' && Number.isFinite(t) && t > 0 && t <= MAX_TIMEOUT_MS)) {
    throw new UwsgiError('UWSGI_ERR_TASK_FARM', `${what}: timeoutMs must be a positive number of milliseconds up to ${MAX_TIMEOUT_MS} (24.8 days), got ${echo(t)}`);
  }
  const s = options?.signal;
  if (s !== undefined && !(s instanceof AbortSignal)) throw new UwsgiError('UWSGI_ERR_TASK_FARM', `${what}: signal must be an AbortSignal, got ${echo(s)}`);
}

/**
 * Run `fn(...args)` of task farm `farm` with options (timeout, signal); resolves with its
 * (awaited) result. See runInFarm.
 */
export function runInFarmWith<R = unknown>(farm: string, fn: string, args: readonly unknown[], options?: RunInFarmOptions): Promise<R> {
  try {
    checkCall(farm, fn, args, options);
  } catch (e) {
    return Promise.reject(e);
  }
  const o = options ?? {};
  const what = (): string => callText(farm, fn);
  if (o.signal?.aborted) return Promise.reject(new UwsgiError('UWSGI_ERR_TASK_ABORTED', `${what()}: its signal was already aborted (${reasonText(o.signal.reason)})`));
  const cancellable = o.timeoutMs !== undefined || o.signal !== undefined;
  const local = ST.local;
  if (local) {
    if (!cancellable) return local.run(farm, fn, args) as Promise<R>;
    return guarded(what(), o, (signal) => local.run(farm, fn, args, signal), () => { /* the signal told the pool */ }) as Promise<R>;
  }
  if (ST.port) {
    const id = ST.nextId++;
    const req: TaskRequest = { t: 'run', id, farm, fn, args, c: cancellable };
    if (!cancellable) return send(req, what) as Promise<R>;
    return guarded(what(), o, () => send(req, what), (reason) => cancelRemote(id, reason)) as Promise<R>;
  }
  const role = threadIdentity().role;
  return Promise.reject(new UwsgiError('UWSGI_ERR_TASK_FARM', role === 'task'
    ? `${what()}: task threads cannot start tasks themselves (call the function directly)`
    : `${what()}: no task farm is configured in this ${role === 'embedded' ? 'process' : role} (start the instance with --task-farm name=NAME,file=FILE)`));
}

/**
 * Run `fn(...args)`, an exported function of task farm `farm`'s module, in one of its task
 * threads; resolves with its (awaited) result. Any thread may call it.
 *
 * ```ts
 * const thumb = await runInFarm<Uint8Array>('images', 'resize', bytes, 128);
 * ```
 */
export function runInFarm<R = unknown>(farm: string, fn: string, ...args: unknown[]): Promise<R> {
  return runInFarmWith<R>(farm, fn, args);
}

/** Per task farm: threads, queue, completed, failed, refused, utilization (for the stats layer). [] without task farms. */
export function taskFarmStats(): Promise<TaskFarmStats[]> {
  if (ST.local) return Promise.resolve(ST.local.stats());
  if (!ST.port) return Promise.resolve([]);
  const id = ST.nextId++;
  return send({ t: 'stats', id }, () => 'taskFarmStats()') as Promise<TaskFarmStats[]>;
}
