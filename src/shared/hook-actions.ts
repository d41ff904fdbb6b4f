/**
 * Hook actions (spec hooks.md §1, §4): the `action:args` syntax, the table of built-in
 * actions, a registry for more, and the chain runner used by every phase.
 *
 * An action resolves to true (success) or false (failure, after logging its own error
 * line). In a fatal phase the first failure stops the chain and `runHookChain` throws
 * UWSGI_ERR_HOOK; the caller decides how the instance goes down (hooks.md §3).
 *
 * Thread notes: `putenv` changes only the calling thread's `process.env` copy in a
 * worker or mule thread; `cd`/`chdir` fail in worker and mule threads (Node forbids
 * process.chdir there); `exit` ends only the calling thread when run in a worker or mule.
 */
import { spawn } from 'node:child_process';
import { mkdir, writeFile, appendFile, unlink } from 'node:fs/promises';
import { isMainThread } from 'node:worker_threads';
import { UwsgiError, echo } from './errors.js';
import { log } from './log-writer.js';
import { hookPhase, type HookPhaseName } from './hook-phases.js';

export type HookFunction = (...args: never[]) => unknown;

export interface HookContext {
  readonly phase: HookPhaseName;
  /** Look up a function by name for call/callret/callint (uWSGI's symbols): e.g. the app module's exports. */
  readonly resolveFunction: (name: string) => HookFunction | undefined;
  /** Shell for exec/safeexec (uWSGI --binsh); default /bin/sh. */
  readonly shell?: string;
}

export type HookAction = (args: string, ctx: HookContext) => Promise<boolean>;

export interface ParsedHook {
  readonly action: string;
  readonly args: string;
  /** `!action`: the log line hides the command. */
  readonly private: boolean;
  readonly raw: string;
}

/** Split `action:args` at the first ':'. Throws UWSGI_ERR_HOOK for a value with no ':' or an unknown action. */
export function parseHook(value: string, option: string): ParsedHook {
  const colon = value.indexOf(':');
  if (colon < 0) {
    throw new UwsgiError('UWSGI_ERR_HOOK', `--${option} ${echo(value)}: invalid hook syntax, must be hook:args`);
  }
  let action = value.slice(0, colon);
  const isPrivate = action.startsWith('!');
  if (isPrivate) action = action.slice(1);
  if (!actions().has(action)) {
    throw new UwsgiError('UWSGI_ERR_HOOK', `--${option} ${echo(value)}: hook action not found: ${echo(action)} (known: ${[...actions().keys()].sort().join(', ')})`);
  }
  return { action, args: value.slice(colon + 1), private: isPrivate, raw: value };
}

function splitFirstSpace(args: string): [string, string | undefined] {
  const i = args.indexOf(' ');
  return i < 0 ? [args, undefined] : [args.slice(0, i), args.slice(i + 1)];
}

function fail(text: string): false {
  log.line(`[UWSGI_ERR_HOOK] ${text}`);
  return false;
}

function runShell(cmd: string, shell: string): Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }> {
  return new Promise((resolve) => {
    const child = spawn(shell, ['-c', cmd], { stdio: ['ignore', 'inherit', 'inherit'] });
    child.once('error', (error) => resolve({ code: null, signal: null, error }));
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

async function exec(args: string, ctx: HookContext, safe: boolean): Promise<boolean> {
  const r = await runShell(args, ctx.shell ?? '/bin/sh');
  if (r.error) return fail(`command ${echo(args)} could not start: ${r.error.message}`);
  // uWSGI: a command killed by a signal counts as status 0.
  if (r.code !== null && r.code !== 0) {
    if (safe) {
      log.line(`command "${args}" exited with non-zero code: ${r.code}`);
      return true;
    }
    return fail(`command "${args}" exited with non-zero code: ${r.code}`);
  }
  return true;
}

async function call(args: string, ctx: HookContext, mode: 'call' | 'callret' | 'callint' | 'callintret'): Promise<boolean> {
  const [name, arg] = splitFirstSpace(args);
  const fn = ctx.resolveFunction(name);
  const shown = arg === undefined ? `"${name}"` : `"${name}(${arg})"`;
  if (typeof fn !== 'function') return fail(`unable to call function ${shown}`);
  let argv: unknown[] = [];
  if (arg !== undefined) {
    if (mode === 'callint' || mode === 'callintret') {
      const n = Number.parseInt(arg, 10);
      if (!Number.isFinite(n)) return fail(`${mode}:${args}: ${echo(arg)} is not an integer`);
      argv = [n];
    } else argv = [arg];
  }
  let ret: unknown;
  try {
    ret = await (fn as (...a: unknown[]) => unknown)(...argv);
  } catch (e) {
    return fail(`function ${shown} threw: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  }
  if ((mode === 'callret' || mode === 'callintret') && ret !== 0 && ret !== undefined && ret !== true) {
    return fail(`function ${shown} returned ${echo(ret)} (non-zero = failure)`);
  }
  return true;
}

async function fsAction(what: string, args: string, op: () => Promise<unknown>): Promise<boolean> {
  try {
    await op();
    return true;
  } catch (e) {
    return fail(`${what}:${args}: ${(e as Error).message}`);
  }
}

function twoFields(what: string, args: string): [string, string] | undefined {
  const [path, text] = splitFirstSpace(args);
  if (text === undefined) {
    fail(`${what}:${args}: needs "<path> <text>"`);
    return undefined;
  }
  return [path, text];
}

const BUILTIN: ReadonlyArray<readonly [string, HookAction]> = [
  ['exec', (a, c) => exec(a, c, false)],
  ['safeexec', (a, c) => exec(a, c, true)],
  ['call', (a, c) => call(a, c, 'call')],
  ['callret', (a, c) => call(a, c, 'callret')],
  ['callint', (a, c) => call(a, c, 'callint')],
  ['callintret', (a, c) => call(a, c, 'callintret')],
  ['print', async (a) => { log.line(a); return true; }],
  ['log', async (a) => { log.line(a); return true; }],
  ['mkdir', (a) => fsAction('mkdir', a, () => mkdir(a))],
  ['create', (a) => fsAction('create', a, () => writeFile(a, ''))],
  ['creat', (a) => fsAction('creat', a, () => writeFile(a, ''))],
  ['unlink', (a) => fsAction('unlink', a, () => unlink(a))],
  ['write', async (a) => { const f = twoFields('write', a); return !!f && fsAction('write', a, () => writeFile(f[0], f[1])); }],
  ['writen', async (a) => { const f = twoFields('writen', a); return !!f && fsAction('writen', a, () => writeFile(f[0], f[1] + '\n')); }],
  ['append', async (a) => { const f = twoFields('append', a); return !!f && fsAction('append', a, () => appendFile(f[0], f[1])); }],
  ['appendn', async (a) => { const [p, t] = splitFirstSpace(a); return fsAction('appendn', a, () => appendFile(p, (t ?? '') + '\n')); }],
  ['putenv', async (a) => {
    const eq = a.indexOf('=');
    if (eq <= 0) return fail(`putenv:${a}: needs NAME=VALUE`);
    process.env[a.slice(0, eq)] = a.slice(eq + 1);
    return true;
  }],
  ['cd', async (a) => chdir(a)],
  ['chdir', async (a) => chdir(a)],
  ['exit', async (a) => {
    log.flushSync();
    // uWSGI quirk: the code is used only when its text has at least 2 characters.
    process.exit(a.length >= 2 ? Number.parseInt(a, 10) || 0 : 0);
  }],
];

function chdir(dir: string): boolean {
  if (!isMainThread) return fail(`cd:${dir}: cannot change directory from a worker or mule thread (Node forbids process.chdir there)`);
  try {
    process.chdir(dir);
    return true;
  } catch (e) {
    return fail(`cd:${dir}: ${(e as Error).message}`);
  }
}

const KEY = Symbol.for('uwsgi-ts.hook-actions');
type Holder = { [KEY]?: Map<string, HookAction> };

function actions(): Map<string, HookAction> {
  const g = globalThis as Holder;
  return (g[KEY] ??= new Map(BUILTIN));
}

/** Add or replace a hook action by name (uWSGI's uwsgi_register_hook), in this thread. */
export function registerHookAction(name: string, action: HookAction): void {
  if (!/^[A-Za-z_][\w-]*$/.test(name)) throw new UwsgiError('UWSGI_ERR_HOOK', `registerHookAction(): bad action name ${echo(name)}`);
  if (typeof action !== 'function') throw new UwsgiError('UWSGI_ERR_HOOK', `registerHookAction(${echo(name)}): not a function: ${echo(action)}`);
  actions().set(name, action);
}

export function hookActionNames(): string[] {
  return [...actions().keys()].sort();
}

/**
 * Run one phase's chain in order. Logs `running "<hook>" (<label>)...` before each
 * action. A failure in a fatal phase logs `FATAL hook failed, destroying instance` and
 * throws UWSGI_ERR_HOOK (the chain stops); in a non-fatal phase it is only logged.
 */
export async function runHookChain(values: readonly string[], ctx: HookContext): Promise<void> {
  const phase = hookPhase(ctx.phase);
  const option = `hook-${phase.name}`;
  const parsed = values.map((v) => parseHook(v, option));
  for (const h of parsed) {
    log.line(h.private ? `running --- PRIVATE HOOK --- (${phase.label})...` : `running "${h.action}:${h.args}" (${phase.label})...`);
    // The action may write to the same terminal (exec's child, print): its output must
    // follow its own "running" line, so the line is written out first.
    await log.drain();
    const ok = await actions().get(h.action)!(h.args, ctx);
    if (!ok && phase.fatal) {
      log.line('FATAL hook failed, destroying instance');
      throw new UwsgiError('UWSGI_ERR_HOOK', `--${option} ${echo(h.private ? `!${h.action}:***` : h.raw)} failed`);
    }
  }
}
