/**
 * The closed list of uWSGI hook phases (spec hooks.md §2), as data. A phase is where a
 * `--hook-<phase>` chain runs; later issues wire each phase to its point in the
 * runtime. Only `as-mule` is wired today (src/mule/mule-main.ts).
 *
 * The table is validated when this module loads (unique names and labels, option name
 * derived from the phase name), so a bad row fails at import time.
 */

export type HookRunsIn = 'master' | 'worker' | 'worker1' | 'mule' | 'gateway' | 'emperor' | 'vassal';
export type HookRerun = 'every-start' | 'first-start-only' | 'once-per-master-start' | 'not-applicable';

export interface HookPhase {
  /** Phase name as in the option `--hook-<name>`. */
  readonly name: string;
  /** The label uWSGI logs: `running "<action>" (<label>)...`. */
  readonly label: string;
  readonly runsIn: HookRunsIn;
  /** When it runs, in words (from the spec). */
  readonly when: string;
  /** A failing action stops the chain and brings the instance down (hooks.md §3). */
  readonly fatal: boolean;
  readonly rerun: HookRerun;
  /** Wired in uwsgi-ts today. */
  readonly implemented: boolean;
}

export const HOOK_PHASES = [
  { name: 'asap', label: 'asap', runsIn: 'master', when: 'right after the configuration is parsed and expanded, before anything else', fatal: true, rerun: 'every-start', implemented: false },
  { name: 'pre-jail', label: 'pre-jail', runsIn: 'master', when: 'before jailing and namespaces (an ordered startup point in uwsgi-ts)', fatal: true, rerun: 'first-start-only', implemented: false },
  { name: 'in-jail', label: 'in-jail', runsIn: 'master', when: 'start of the main startup after jail setup', fatal: true, rerun: 'every-start', implemented: false },
  { name: 'post-jail', label: 'post-jail', runsIn: 'master', when: 'only when jailed and root, before privilege drop (never fires in uwsgi-ts)', fatal: true, rerun: 'every-start', implemented: false },
  { name: 'as-root', label: 'as root', runsIn: 'master', when: 'only when started as uid 0, just before privileges are dropped', fatal: true, rerun: 'every-start', implemented: false },
  { name: 'as-user', label: 'as user', runsIn: 'master', when: 'only when started as uid 0, right after privileges are dropped', fatal: true, rerun: 'every-start', implemented: false },
  { name: 'pre-app', label: 'pre app', runsIn: 'master', when: 'before applications are loaded (every worker at every spawn with --lazy-apps)', fatal: true, rerun: 'every-start', implemented: false },
  { name: 'post-app', label: 'post app', runsIn: 'master', when: 'after applications are loaded (every worker at every spawn with --lazy-apps)', fatal: true, rerun: 'every-start', implemented: false },
  { name: 'post-fork', label: 'post-fork', runsIn: 'worker', when: 'every worker, every spawn, before lazy app loading', fatal: true, rerun: 'every-start', implemented: false },
  { name: 'accepting', label: 'accepting', runsIn: 'worker', when: 'every worker, every spawn, just before the request loop', fatal: true, rerun: 'every-start', implemented: false },
  { name: 'accepting-once', label: 'accepting-once', runsIn: 'worker', when: 'as accepting, only on the first spawn of that worker slot since the master started', fatal: true, rerun: 'once-per-master-start', implemented: false },
  { name: 'accepting1', label: 'accepting1', runsIn: 'worker1', when: 'worker 1 only, every spawn, just before the request loop', fatal: true, rerun: 'every-start', implemented: false },
  { name: 'accepting1-once', label: 'accepting1-once', runsIn: 'worker1', when: 'first spawn of worker 1 since the master started', fatal: true, rerun: 'once-per-master-start', implemented: false },
  { name: 'master-start', label: 'master-start', runsIn: 'master', when: 'after the master loop setup (mules, gateways, daemons spawned), before the first master cycle', fatal: true, rerun: 'every-start', implemented: false },
  { name: 'as-mule', label: 'as-mule', runsIn: 'mule', when: 'every mule, every spawn, after mule setup, before its program or message loop', fatal: true, rerun: 'every-start', implemented: true },
  { name: 'as-gateway', label: 'as-gateway', runsIn: 'gateway', when: 'every gateway, every spawn, after gateway setup', fatal: true, rerun: 'every-start', implemented: false },
  { name: 'as-user-atexit', label: 'atexit', runsIn: 'master', when: 'at master exit and before re-exec on reload', fatal: false, rerun: 'not-applicable', implemented: false },
  { name: 'touch', label: 'touch', runsIn: 'master', when: 'value "<file> <action>:<args>": when the file is touched', fatal: false, rerun: 'not-applicable', implemented: false },
  { name: 'emperor-start', label: 'emperor-start', runsIn: 'emperor', when: 'when the Emperor loop starts', fatal: true, rerun: 'not-applicable', implemented: false },
  { name: 'emperor-stop', label: 'emperor-stop', runsIn: 'vassal', when: 'on Emperor byte 0 (stop) or 2 (graceful stop)', fatal: false, rerun: 'not-applicable', implemented: false },
  { name: 'emperor-reload', label: 'emperor-reload', runsIn: 'vassal', when: 'on Emperor byte 1 (reload)', fatal: false, rerun: 'not-applicable', implemented: false },
  { name: 'emperor-lost', label: 'emperor-lost', runsIn: 'vassal', when: 'when the Emperor channel fails or reaches EOF', fatal: false, rerun: 'not-applicable', implemented: false },
  { name: 'as-vassal', label: 'as-vassal', runsIn: 'emperor', when: "in the Emperor's child, before the vassal is started", fatal: true, rerun: 'not-applicable', implemented: false },
  { name: 'as-emperor', label: 'as-emperor', runsIn: 'emperor', when: 'after a vassal has been spawned', fatal: false, rerun: 'not-applicable', implemented: false },
] as const satisfies readonly HookPhase[];

export type HookPhaseName = (typeof HOOK_PHASES)[number]['name'];

/** `--hook-<name>` for a phase. */
export function hookOption(phase: HookPhaseName): `hook-${HookPhaseName}` {
  return `hook-${phase}`;
}

const BY_NAME = new Map<string, HookPhase>();

function validate(table: readonly HookPhase[]): void {
  const labels = new Set<string>();
  for (const p of table) {
    if (!/^[a-z][a-z0-9-]*$/.test(p.name)) throw new Error(`hook-phases: bad phase name ${JSON.stringify(p.name)}`);
    if (BY_NAME.has(p.name)) throw new Error(`hook-phases: duplicate phase ${JSON.stringify(p.name)}`);
    if (labels.has(p.label)) throw new Error(`hook-phases: duplicate label ${JSON.stringify(p.label)}`);
    if (p.fatal && p.rerun === 'not-applicable' && p.runsIn !== 'emperor') {
      throw new Error(`hook-phases: ${p.name}: a fatal phase must say when it runs again`);
    }
    BY_NAME.set(p.name, p);
    labels.add(p.label);
  }
}
validate(HOOK_PHASES);

export function hookPhase(name: HookPhaseName): HookPhase {
  return BY_NAME.get(name)!;
}

export function isHookPhaseName(name: string): name is HookPhaseName {
  return BY_NAME.has(name);
}
