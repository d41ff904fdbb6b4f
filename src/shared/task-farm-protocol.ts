/**
 * Task farms: what travels between a calling thread and the master (over the per-thread
 * task port the master hands every worker and mule at spawn), and between the master and
 * a task thread (piscina's task payload and our result envelope). Types and guards only.
 *
 * Payloads are structured-cloned (postMessage), as piscina clones them: plain data,
 * typed arrays, Map/Set/Date, errors. Functions and class identity do not cross.
 */
import { ERROR_CATALOGUE, UwsgiError, type UwsgiErrorCode } from './errors.js';

/** Calling thread → master. `c`: the caller may cancel it (it has a timeout or a signal). */
export type TaskRequest =
  | { readonly t: 'run'; readonly id: number; readonly farm: string; readonly fn: string; readonly args: readonly unknown[]; readonly c: boolean }
  | { readonly t: 'cancel'; readonly id: number; readonly reason: TaskCancelReason }
  | { readonly t: 'stats'; readonly id: number };

export type TaskCancelReason = 'timeout' | 'abort';

/** What a task's error looked like in its thread (kept as `err.cause` on the caller's side). */
export interface TaskErrorInfo {
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
}

/** Master → calling thread. */
export type TaskResponse =
  | { readonly t: 'ok'; readonly id: number; readonly value: unknown }
  | { readonly t: 'err'; readonly id: number; readonly code: UwsgiErrorCode; readonly message: string; readonly cause?: TaskErrorInfo };

/** Master → task thread (piscina's task argument). `probe` loads the module and lists its exported functions. */
export type TaskCall =
  | { readonly kind: 'call'; readonly farm: string; readonly fn: string; readonly args: readonly unknown[] }
  | { readonly kind: 'probe'; readonly farm: string };

/** Task thread → master (piscina's result): the task's errors travel as data, so no code or name is lost in the clone. */
export type TaskOutcome =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly code: UwsgiErrorCode; readonly message: string; readonly cause?: TaskErrorInfo };

/** The piscina `workerData` of one farm's task threads. */
export interface TaskThreadData {
  readonly farm: string;
  /** Absolute path of the task module. */
  readonly file: string;
}

/** One farm, as `taskFarmStats()` reports it. */
export interface TaskFarmStats {
  readonly name: string;
  readonly file: string;
  /** Task threads alive now (piscina `threads.length`) and configured (`threads=`). */
  readonly threads: number;
  readonly maxThreads: number;
  /** Most tasks waiting for a thread (`queue=`). */
  readonly maxQueue: number;
  /** Tasks admitted and not settled yet (running + waiting). */
  readonly inFlight: number;
  /** Tasks waiting for a thread (piscina `queueSize`). */
  readonly queued: number;
  /** Tasks settled, successfully or not (piscina `completed`). */
  readonly completed: number;
  /** Tasks that threw (or whose thread died). */
  readonly failed: number;
  /** Calls refused because the farm was full (UWSGI_ERR_TASK_FARM_FULL). */
  readonly rejected: number;
  /** piscina's estimate of busy time over capacity since the pool started, 0..1. */
  readonly utilization: number;
}

export function isTaskResponse(m: unknown): m is TaskResponse {
  if (typeof m !== 'object' || m === null) return false;
  const r = m as { t?: unknown; id?: unknown; code?: unknown; message?: unknown };
  if (typeof r.id !== 'number') return false;
  if (r.t === 'ok') return true;
  return r.t === 'err' && typeof r.code === 'string' && r.code in ERROR_CATALOGUE && typeof r.message === 'string';
}

export function isTaskRequest(m: unknown): m is TaskRequest {
  if (typeof m !== 'object' || m === null) return false;
  const r = m as { t?: unknown; id?: unknown; farm?: unknown; fn?: unknown; args?: unknown; reason?: unknown };
  if (typeof r.id !== 'number') return false;
  switch (r.t) {
    case 'run': return typeof r.farm === 'string' && typeof r.fn === 'string' && Array.isArray(r.args);
    case 'cancel': return r.reason === 'timeout' || r.reason === 'abort';
    case 'stats': return true;
    default: return false;
  }
}

export function isTaskOutcome(m: unknown): m is TaskOutcome {
  if (typeof m !== 'object' || m === null) return false;
  const r = m as { ok?: unknown; code?: unknown; message?: unknown };
  if (r.ok === true) return true;
  return r.ok === false && typeof r.code === 'string' && r.code in ERROR_CATALOGUE && typeof r.message === 'string';
}

/** The error a caller sees for an error outcome or response; the task's own error becomes `cause`. */
export function taskError(code: UwsgiErrorCode, message: string, cause: TaskErrorInfo | undefined): UwsgiError {
  if (!cause) return new UwsgiError(code, message);
  const c = new Error(cause.message);
  c.name = cause.name;
  if (cause.stack !== undefined) c.stack = cause.stack;
  return new UwsgiError(code, message, { cause: c });
}
