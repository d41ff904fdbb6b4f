/**
 * What a mule runs: resolving its program (loading the modules, checking the export)
 * and running it — a script, a function, or the message loop of a script-less mule.
 */
import path from 'node:path';
import { UwsgiError, echo } from '../shared/errors.js';
import { log } from '../shared/log-writer.js';
import { importModule } from '../shared/module-import.js';
import { MULE_STOP, MULE_TIMEOUT, muleDone, muleGetMsg, muleMsgHook, type MuleMsgHook } from '../shared/mule-api.js';
import type { MuleInit } from './mule-init.js';

/** Exit code of a mule whose program returned (uWSGI's UWSGI_END_CODE): the master respawns it. */
export const MULE_END_CODE = 30;

export interface ResolvedProgram {
  /** The app module's exports, when loaded. */
  readonly app: Record<string, unknown> | undefined;
  readonly fn?: (...args: never[]) => unknown;
}

/**
 * Like uWSGI's preforked mules, a mule sees the app module: its exports serve symcall,
 * `call:` hooks and the muleMsgHook of script-less mules. (Script mules load it only
 * when there are as-mule hooks.)
 */
export async function loadApp(init: MuleInit): Promise<Record<string, unknown> | undefined> {
  if (!init.appFile || (init.program.kind === 'script' && init.hooks.length === 0)) return undefined;
  return importModule(init.appFile, 'module');
}

export async function resolveProgram(init: MuleInit, app: Record<string, unknown> | undefined): Promise<ResolvedProgram> {
  const p = init.program;
  if (p.kind !== 'call') return { app };
  const mod = init.appFile && path.resolve(p.file) === path.resolve(init.appFile) && app ? app : await importModule(p.file, 'mule');
  const fn = mod[p.exportName];
  if (typeof fn === 'function' && /^class\b/.test(Function.prototype.toString.call(fn))) {
    throw new UwsgiError('UWSGI_ERR_MULE_SPEC',
      `--mule ${echo(init.value)}: export ${echo(p.exportName)} of ${echo(p.file)} is a class, not a function (a mule calls it without new)`);
  }
  if (typeof fn !== 'function') {
    const names = Object.keys(mod).filter((k) => typeof mod[k] === 'function');
    throw new UwsgiError('UWSGI_ERR_MULE_SPEC',
      `--mule ${echo(init.value)}: ${echo(p.file)} has no exported function ${echo(p.exportName)}` +
      (mod[p.exportName] === undefined ? '' : ` (it is ${typeof mod[p.exportName]})`) +
      ` (exported functions: ${names.join(', ') || 'none'})`);
  }
  return { app, fn: fn as (...args: never[]) => unknown };
}

/** Run the program; resolves with the exit code to end the thread with, or undefined to let the event loop decide. */
export async function runProgram(init: MuleInit, program: ResolvedProgram): Promise<number | undefined> {
  const p = init.program;
  switch (p.kind) {
    case 'call':
      await (program.fn as () => unknown)();
      log.line(`mule ${init.id}: ${init.value} returned, ending the mule`);
      return MULE_END_CODE;
    case 'script':
      await importModule(p.file, 'mule');
      return undefined;
    case 'loop':
      await messageLoop(init.id, program.app);
      return 0;
  }
}

/** uWSGI's signal-only loop, minus signals: every message goes to the mule message hook, or is logged. */
async function messageLoop(id: number, app: Record<string, unknown> | undefined): Promise<void> {
  const exported = app?.muleMsgHook;
  for (;;) {
    const m = await muleGetMsg();
    if (m === MULE_STOP) return;
    if (m === MULE_TIMEOUT) continue;
    const hook: MuleMsgHook | undefined = muleMsgHook() ?? (typeof exported === 'function' ? exported as MuleMsgHook : undefined);
    if (!hook) {
      const len = m instanceof Uint8Array ? m.length : typeof m === 'string' ? Buffer.byteLength(m) : -1;
      log.line(len >= 0 ? `*** mule ${id} received a ${len} bytes message ***` : `*** mule ${id} received a message (${typeof m}) ***`);
      continue;
    }
    try {
      await hook(m);
    } catch (e) {
      log.line(`[UWSGI_ERR_WORKER_CRASH] error managing message on mule ${id}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    }
    muleDone();
  }
}
