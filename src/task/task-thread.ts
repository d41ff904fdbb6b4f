/**
 * The handler of every task thread: piscina loads this module (its `filename`, export
 * `runTask`) in each thread of a task farm; each task names an exported function of the
 * farm's task module, which this thread loads once, on its first task — `.ts` through
 * tsx's CommonJS hook like our own threads (shared/module-import.ts), since piscina's
 * own loader cannot load TypeScript inside a worker thread on Node 20.
 *
 * Errors travel back as data (a TaskOutcome), not as thrown Errors: a structured clone
 * keeps the name only of built-in error types and drops `code`, so the caller would lose
 * both. A result that cannot be cloned makes piscina replace this thread and fail the task.
 */
import { workerData } from 'node:worker_threads';
import { echo, isUwsgiError } from '../shared/errors.js';
import { importModule } from '../shared/module-import.js';
import { setThreadIdentity } from '../shared/thread-identity.js';
import type { TaskCall, TaskErrorInfo, TaskOutcome, TaskThreadData } from '../shared/task-farm-protocol.js';

const data = workerData as TaskThreadData;
setThreadIdentity({ role: 'task', id: 0 });

let loading: Promise<Record<string, unknown>> | undefined;

function exportedFunctions(mod: Record<string, unknown>): string[] {
  return Object.keys(mod).filter((k) => typeof mod[k] === 'function');
}

function errorInfo(e: unknown): TaskErrorInfo {
  if (e instanceof Error) return { name: e.name, message: e.message, stack: e.stack };
  return { name: typeof e, message: typeof e === 'string' ? e : echo(e) };
}

type Loaded = { readonly mod: Record<string, unknown> } | { readonly failed: TaskOutcome };

async function load(): Promise<Loaded> {
  loading ??= importModule(data.file, 'task-farm');
  try {
    return { mod: await loading };
  } catch (e) {
    // Not cached as a failure for ever: the next task tries again (e.g. a file being rewritten).
    loading = undefined;
    const detail = isUwsgiError(e) ? e.message : errorInfo(e).message;
    return { failed: { ok: false, code: 'UWSGI_ERR_TASK_FARM', message: `task farm ${echo(data.farm)}: module ${echo(data.file)} failed to load: ${detail}`, cause: errorInfo(e) } };
  }
}

/** piscina's handler (the pool is created with `name: 'runTask'`). */
export async function runTask(call: TaskCall): Promise<TaskOutcome> {
  const loaded = await load();
  if ('failed' in loaded) return loaded.failed;
  const mod = loaded.mod;
  if (call.kind === 'probe') return { ok: true, value: exportedFunctions(mod) };
  const fn = mod[call.fn];
  if (typeof fn !== 'function') {
    return {
      ok: false, code: 'UWSGI_ERR_TASK_FARM',
      message: `runInFarm(${echo(call.farm)}, ${echo(call.fn)}): ${echo(data.file)} has no exported function ${echo(call.fn)}` +
        (fn === undefined ? '' : ` (it is ${typeof fn})`) + ` (exported functions: ${exportedFunctions(mod).join(', ') || 'none'})`,
    };
  }
  try {
    const value: unknown = await (fn as (...a: readonly unknown[]) => unknown)(...call.args);
    return { ok: true, value };
  } catch (e) {
    const info = errorInfo(e);
    return { ok: false, code: 'UWSGI_ERR_TASK_FAILED', message: `runInFarm(${echo(call.farm)}, ${echo(call.fn)}): the task threw ${info.name}: ${info.message}`, cause: info };
  }
}
