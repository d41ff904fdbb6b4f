/**
 * The one closed table of uwsgi-ts options.
 *
 * Everything else (the parser, `--help`, docs/options.md, the ResolvedOptions type) is
 * derived from OPTION_TABLE. The table is validated when this module loads, so a bad
 * row (duplicate name or alias, a default of the wrong kind, a default outside
 * min/max/choices) fails at import time, not at run time.
 *
 * Names and defaults follow uWSGI 2.0.21 (see /work/shared/spec/options.md §1); rows
 * whose meaning differs in uwsgi-ts say so in their help text.
 */

/** How an option's value is read. */
export type OptionKind =
  | 'flag' // boolean; no value / empty / any value → true; false|off|no|0 → false
  | 'negflag' // boolean that switches something off (like --disable-logging); same parsing
  | 'int' // whole number (C int semantics, validated strictly in uwsgi-ts)
  | 'u64' // whole number ≥ 0 up to 2^53-1
  | 'mb' // megabytes; the resolved value is in bytes (× 1048576)
  | 'str' // single string; last occurrence wins
  | 'list' // repeatable; every occurrence kept in order
  | 'addrs'; // repeatable list of socket addresses (syntax checked elsewhere; empty rejected)

export const OPTION_GROUPS = [
  'core',
  'workers',
  'sockets',
  'logging',
  'sharedarea',
  'mules',
  'config',
  'uwsgi-ts',
] as const;
export type OptionGroup = (typeof OPTION_GROUPS)[number];

/** Section titles used by `--help` and docs/options.md. */
export const OPTION_GROUP_TITLES: Readonly<Record<OptionGroup, string>> = {
  core: 'Core and master',
  workers: 'Workers',
  sockets: 'Sockets and requests',
  logging: 'Logging',
  sharedarea: 'Shared areas',
  mules: 'Mules and farms',
  config: 'Configuration',
  'uwsgi-ts': 'uwsgi-ts only',
};

export const OPTION_KINDS: readonly OptionKind[] = ['flag', 'negflag', 'int', 'u64', 'mb', 'str', 'list', 'addrs'];

/** The widened shape of one table row. */
export interface OptionSpec {
  /** Canonical long name, kebab-case, as in uWSGI. */
  readonly name: string;
  /** Other long names accepted everywhere (command line, files, environment). */
  readonly aliases: readonly string[];
  /** Single-letter short option (`-p`), or undefined. */
  readonly short: string | undefined;
  readonly kind: OptionKind;
  /** Default value; numbers for int/u64, megabytes for mb, [] for list/addrs. */
  readonly default: boolean | number | string | undefined | readonly string[];
  /** One line of help. */
  readonly help: string;
  readonly group: OptionGroup;
  /** Executed while parsing (before `$()`/`@()`/`%()` expansion); its value is used raw. */
  readonly immediate: boolean;
  readonly min?: number;
  readonly max?: number;
  /** Values above `max` are silently lowered to `max` (uWSGI's buffer-size) instead of rejected. */
  readonly cap?: boolean;
  readonly choices?: readonly string[];
  /** Name of the argument in help and docs (`<SECONDS>`); a default is derived from the kind. */
  readonly arg?: string;
  /** The value may be omitted (`--mule` alone); on the command line a value must be attached with `=`. */
  readonly optionalValue?: boolean;
  /** Using the option turns `--master` on (uWSGI's UWSGI_OPT_MASTER). */
  readonly impliesMaster?: boolean;
}

/**
 * The largest SECONDS value of an option the master or a thread arms a timer with: a JS
 * timer longer than 2^31-1 ms fires at once (Node clamps it to 1 ms), so 2147483 s (24.8 days).
 */
export const MAX_TIMER_SECONDS = 2147483;

/** Most mules one instance runs (--mules plus every --mule): each is a thread with its own queue ring (1 MiB by default). */
export const MAX_MULES = 256;

export const OPTION_TABLE = [
  // ---------------------------------------------------------------- core
  { name: 'master', aliases: [], short: 'M', kind: 'flag', default: false, group: 'core', immediate: false,
    help: 'run the master thread that supervises workers and mules (also implied by the options marked "implies --master")' },
  { name: 'module', aliases: ['app'], short: undefined, kind: 'str', default: undefined, group: 'core', immediate: false,
    arg: 'FILE[:EXPORT]', help: 'application module to load in every worker, optionally naming the export to use as handler' },
  { name: 'need-app', aliases: [], short: undefined, kind: 'flag', default: false, group: 'core', immediate: false,
    help: 'exit with code 22 if no application could be loaded (uwsgi-ts never runs app-less: without --module it exits with an error anyway)' },
  { name: 'pidfile', aliases: [], short: undefined, kind: 'str', default: undefined, group: 'core', immediate: false,
    arg: 'PATH', help: 'write the master pid to this file at startup' },
  { name: 'vacuum', aliases: [], short: undefined, kind: 'flag', default: false, group: 'core', immediate: false,
    help: 'remove the pidfile, UNIX socket files and the stats UNIX socket at exit' },
  { name: 'die-on-term', aliases: [], short: undefined, kind: 'flag', default: false, group: 'core', immediate: false,
    help: 'SIGTERM shuts the instance down and SIGQUIT reloads brutally (swapped uWSGI defaults)' },
  { name: 'check-interval', aliases: [], short: undefined, kind: 'int', default: 1, min: 1, max: MAX_TIMER_SECONDS, group: 'core', immediate: false,
    impliesMaster: true, arg: 'SECONDS', help: 'master cycle: how often the master runs its periodic checks' },
  { name: 'reload-mercy', aliases: [], short: undefined, kind: 'int', default: 60, min: 0, max: MAX_TIMER_SECONDS, group: 'core', immediate: false,
    arg: 'SECONDS', help: 'uwsgi-ts: upper bound for a whole graceful reload or shutdown before stragglers are stopped (uWSGI default 0, which does not bound workers)' },
  { name: 'touch-reload', aliases: [], short: undefined, kind: 'list', default: [], group: 'core', immediate: false,
    impliesMaster: true, arg: 'PATH', help: 'gracefully reload when this file is touched, created or removed' },
  { name: 'master-fifo', aliases: [], short: undefined, kind: 'list', default: [], group: 'core', immediate: false,
    impliesMaster: true, arg: 'PATH', help: 'master FIFO for one-byte commands; repeat for slots 0..9' },
  { name: 'stats', aliases: ['stats-server'], short: undefined, kind: 'str', default: undefined, group: 'core', immediate: false,
    impliesMaster: true, arg: 'ADDR', help: 'stats server address (contains ":" → TCP, else UNIX socket); one JSON document per connection' },
  { name: 'stats-http', aliases: [], short: undefined, kind: 'flag', default: false, group: 'core', immediate: false,
    impliesMaster: true, help: 'answer stats connections with an HTTP/1.0 response wrapping the JSON' },
  { name: 'help', aliases: ['usage'], short: 'h', kind: 'flag', default: false, group: 'core', immediate: true,
    help: 'print this help and exit' },
  { name: 'version', aliases: [], short: undefined, kind: 'flag', default: false, group: 'core', immediate: false,
    help: 'print the uwsgi-ts version and exit' },

  // ---------------------------------------------------------------- workers
  { name: 'workers', aliases: ['processes'], short: 'p', kind: 'int', default: 1, min: 1, group: 'workers', immediate: false,
    arg: 'N', help: 'number of workers (uwsgi-ts: worker threads)' },
  { name: 'threads', aliases: [], short: undefined, kind: 'int', default: 1, min: 1, group: 'workers', immediate: false,
    arg: 'N', help: 'uwsgi-ts: concurrency hint, requests one worker may have in flight at once (uWSGI: threads per worker)' },
  { name: 'enable-threads', aliases: [], short: 'T', kind: 'flag', default: false, group: 'workers', immediate: false,
    help: 'allow application threads (accepted for compatibility; Node apps may always start worker_threads)' },
  { name: 'lazy-apps', aliases: [], short: undefined, kind: 'flag', default: false, group: 'workers', immediate: false,
    help: 'load the application in each worker after it starts instead of once before spawning' },
  { name: 'harakiri', aliases: [], short: 't', kind: 'int', default: 0, min: 0, max: MAX_TIMER_SECONDS, group: 'workers', immediate: false,
    arg: 'SECONDS', help: 'per-request time limit; a worker stuck longer is killed and respawned (0 = off)' },
  { name: 'harakiri-verbose', aliases: [], short: undefined, kind: 'flag', default: false, group: 'workers', immediate: false,
    help: 'log more detail about the worker when harakiri strikes' },
  { name: 'max-requests', aliases: [], short: 'R', kind: 'u64', default: 0, min: 0, group: 'workers', immediate: false,
    arg: 'N', help: 'recycle a worker after it served this many requests (0 = off)' },
  { name: 'min-worker-lifetime', aliases: [], short: undefined, kind: 'u64', default: 10, min: 0, group: 'workers', immediate: false,
    arg: 'SECONDS', help: 'minimum age before max-requests or reload-on-rss may recycle a worker' },
  { name: 'reload-on-rss', aliases: [], short: undefined, kind: 'mb', default: 0, min: 0, group: 'workers', immediate: false,
    arg: 'MB', help: 'recycle a worker after a request if the process RSS is at least this many megabytes (0 = off)' },
  { name: 'worker-reload-mercy', aliases: [], short: undefined, kind: 'int', default: 60, min: 0, max: MAX_TIMER_SECONDS, group: 'workers', immediate: false,
    arg: 'SECONDS', help: 'time a retiring worker gets to finish before it is terminated (0 = until the next master cycle, --check-interval, as uWSGI); also how long a new worker may take to load its app (0 = no limit)' },

  // ---------------------------------------------------------------- sockets
  { name: 'socket', aliases: ['uwsgi-socket'], short: 's', kind: 'addrs', default: [], group: 'sockets', immediate: false,
    arg: 'ADDR', help: 'bind a uwsgi-protocol socket: host:port, :port, [v6]:port or a UNIX path' },
  { name: 'http-socket', aliases: ['http'], short: undefined, kind: 'addrs', default: [], group: 'sockets', immediate: false,
    arg: 'ADDR', help: 'bind an HTTP socket served by the workers (uwsgi-ts: --http is an alias, there is no separate router)' },
  { name: 'listen', aliases: [], short: 'l', kind: 'int', default: 100, min: 1, group: 'sockets', immediate: true,
    arg: 'N', help: 'listen backlog of every socket' },
  { name: 'buffer-size', aliases: [], short: 'b', kind: 'int', default: 4096, min: 1, max: 65535, cap: true, group: 'sockets', immediate: false,
    arg: 'BYTES', help: 'maximum size of a request header block; values above 65535 are lowered to 65535' },
  { name: 'limit-post', aliases: [], short: undefined, kind: 'u64', default: 0, min: 0, group: 'sockets', immediate: false,
    arg: 'BYTES', help: 'reject requests whose body is larger than this (0 = off)' },
  { name: 'socket-timeout', aliases: [], short: 'z', kind: 'int', default: 4, min: 1, max: Math.floor(MAX_TIMER_SECONDS / 15), group: 'sockets', immediate: false,
    arg: 'SECONDS', help: 'internal socket timeout' },

  // ---------------------------------------------------------------- logging
  { name: 'disable-logging', aliases: [], short: 'L', kind: 'negflag', default: false, group: 'logging', immediate: false,
    help: 'do not write the per-request log line (server lines are still written); "false" re-enables' },
  { name: 'log-micros', aliases: [], short: undefined, kind: 'flag', default: false, group: 'logging', immediate: false,
    help: 'report request time in microseconds instead of milliseconds in the request line' },
  { name: 'log-format', aliases: ['logformat'], short: undefined, kind: 'str', default: undefined, group: 'logging', immediate: false,
    arg: 'FORMAT', help: 'custom request log line with %(var) items' },

  // ---------------------------------------------------------------- sharedarea
  { name: 'sharedarea', aliases: [], short: 'A', kind: 'list', default: [], group: 'sharedarea', immediate: false,
    arg: 'PAGES|KEY=VAL,...', help: 'create a shared memory area: a number of pages or a key=value list' },

  // ---------------------------------------------------------------- mules
  { name: 'mules', aliases: [], short: undefined, kind: 'int', default: 0, min: 0, max: MAX_MULES, group: 'mules', immediate: false,
    impliesMaster: true, arg: 'N', help: 'add N signal-only mules' },
  { name: 'mule', aliases: [], short: undefined, kind: 'list', default: [], optionalValue: true, group: 'mules', immediate: false,
    impliesMaster: true, arg: 'MODULE[:FUNC]', help: 'add one mule running the given module (no value = signal-only mule)' },
  { name: 'farm', aliases: [], short: undefined, kind: 'list', default: [], group: 'mules', immediate: false,
    impliesMaster: true, arg: 'NAME:ID[,ID...]', help: 'define a farm of mules' },
  { name: 'mule-msg-size', aliases: [], short: undefined, kind: 'int', default: 65536, min: 1, max: 64 * 1024 * 1024, group: 'mules', immediate: false,
    impliesMaster: true, arg: 'BYTES', help: 'largest message accepted by a mule or farm queue' },
  { name: 'mule-queue-size', aliases: [], short: undefined, kind: 'int', default: 1024, min: 1, group: 'mules', immediate: false,
    arg: 'N', help: 'uwsgi-ts: maximum number of queued messages per mule or farm queue' },
  { name: 'mule-harakiri', aliases: [], short: undefined, kind: 'int', default: 0, min: 0, max: MAX_TIMER_SECONDS, group: 'mules', immediate: false,
    arg: 'SECONDS', help: 'time limit for one signal handler or message in a mule (0 = off)' },
  { name: 'mule-reload-mercy', aliases: [], short: undefined, kind: 'int', default: 60, min: 0, max: MAX_TIMER_SECONDS, group: 'mules', immediate: false,
    arg: 'SECONDS', help: 'time a mule gets to stop on reload or shutdown before it is terminated (0 = until the next master cycle, --check-interval, as uWSGI)' },
  { name: 'touch-mules-reload', aliases: [], short: undefined, kind: 'list', default: [], group: 'mules', immediate: false,
    arg: 'PATH', help: 'reload every mule when this file is touched' },
  { name: 'hook-as-mule', aliases: [], short: undefined, kind: 'list', default: [], group: 'mules', immediate: false,
    arg: 'ACTION:ARGS', help: 'hook run in every mule when it starts' },
  { name: 'task-farm', aliases: [], short: undefined, kind: 'list', default: [], group: 'mules', immediate: false,
    impliesMaster: true, arg: 'name=NAME,file=FILE[,threads=N][,queue=N]',
    help: 'uwsgi-ts: a pool of task threads (piscina) running exported functions of FILE for runInFarm(); short form NAME:FILE; threads default 2, queue (tasks waiting for a thread) default 1000' },

  // ---------------------------------------------------------------- config
  { name: 'ini', aliases: [], short: undefined, kind: 'list', default: [], group: 'config', immediate: true,
    arg: 'FILE[:SECTION]', help: 'load options from an INI file (section default "uwsgi")' },
  { name: 'yaml', aliases: ['yml'], short: 'y', kind: 'list', default: [], group: 'config', immediate: true,
    arg: 'FILE[:SECTION]', help: 'load options from a YAML file (top-level mapping default "uwsgi")' },
  { name: 'json', aliases: ['js'], short: 'j', kind: 'list', default: [], group: 'config', immediate: true,
    arg: 'FILE[:OBJECT]', help: 'load options from a JSON file (top-level object default "uwsgi")' },
  { name: 'include', aliases: [], short: undefined, kind: 'list', default: [], group: 'config', immediate: true,
    arg: 'FILE[:SECTION]', help: 'load a config file in place, format chosen by extension (.ini, .yaml/.yml, .json/.js)' },
  { name: 'config', aliases: [], short: undefined, kind: 'list', default: [], group: 'config', immediate: true,
    arg: 'FILE[:SECTION]', help: 'same as --include' },
  { name: 'inherit', aliases: [], short: undefined, kind: 'list', default: [], group: 'config', immediate: false,
    arg: 'FILE[:SECTION]', help: 'load a config file (format by extension) after every $() @() %() expansion, its options appended after all others unexpanded (magic %-variables still apply), as in uWSGI 2.0: they win over earlier scalars' },
  { name: 'set', aliases: [], short: 'S', kind: 'list', default: [], group: 'config', immediate: true,
    arg: 'KEY=VALUE', help: 'add option KEY with VALUE (or a placeholder if KEY is referenced as %(KEY))' },
  { name: 'set-placeholder', aliases: ['set-ph'], short: undefined, kind: 'list', default: [], group: 'config', immediate: true,
    arg: 'KEY=VALUE', help: 'define a placeholder usable as %(KEY); KEY must not be an option name' },
  { name: 'strict', aliases: [], short: undefined, kind: 'flag', default: false, group: 'config', immediate: true,
    help: 'unknown keys in config files are errors even when used as placeholders' },
  { name: 'show-config', aliases: [], short: undefined, kind: 'flag', default: false, group: 'config', immediate: false,
    help: 'print the final option list as an INI block at startup' },

  // ---------------------------------------------------------------- uwsgi-ts only
  { name: 'http-engine', aliases: [], short: undefined, kind: 'str', default: 'uwsgi-ts', choices: ['uwsgi-ts', 'node'],
    group: 'uwsgi-ts', immediate: false,
    help: "who parses HTTP sockets: uwsgi-ts's own HTTP/1.1 engine, or Node's http module (same req/res objects either way)" },
  { name: 'accept-mode', aliases: [], short: undefined, kind: 'str', default: 'auto', choices: ['auto', 'dup', 'reuseport', 'proxy'],
    group: 'uwsgi-ts', immediate: false,
    help: 'how workers share listening sockets: native dup of the fd, per-thread SO_REUSEPORT, master proxying bytes, or auto' },
] as const satisfies readonly OptionSpec[];

type Row = (typeof OPTION_TABLE)[number];

/** Canonical option names. */
export type OptionName = Row['name'];

type RowNamed<N extends OptionName> = Extract<Row, { name: N }>;

/** The resolved value type of one row. */
export type ValueOfRow<R> = R extends { kind: 'flag' | 'negflag' }
  ? boolean
  : R extends { kind: 'int' | 'u64' | 'mb' }
    ? number
    : R extends { kind: 'list' | 'addrs' }
      ? string[]
      : R extends { choices: readonly (infer C)[] }
        ? C
        : R extends { default: string }
          ? string
          : string | undefined;

/** Every option, resolved: booleans, numbers (mb in bytes), strings, string lists. */
export type ResolvedOptions = { [K in OptionName]: ValueOfRow<RowNamed<K>> };

/** The table, widened for lookups. */
export const OPTIONS: readonly OptionSpec[] = OPTION_TABLE;

const KEBAB = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

function fail(row: OptionSpec, what: string): never {
  throw new Error(`options-table: row "${row.name}": ${what}`);
}

function validateRow(row: OptionSpec): void {
  if (!KEBAB.test(row.name)) fail(row, 'name is not kebab-case');
  for (const a of row.aliases) if (!KEBAB.test(a)) fail(row, `alias "${a}" is not kebab-case`);
  if (row.short !== undefined && !/^[A-Za-z]$/.test(row.short)) fail(row, 'short must be one letter');
  if (!OPTION_KINDS.includes(row.kind)) fail(row, `unknown kind ${String(row.kind)}`);
  if (!(OPTION_GROUPS as readonly string[]).includes(row.group)) fail(row, `unknown group ${row.group}`);
  if (row.help.length === 0 || /[\r\n]/.test(row.help)) fail(row, 'help must be one non-empty line');
  const d = row.default;
  switch (row.kind) {
    case 'flag':
    case 'negflag':
      if (typeof d !== 'boolean') fail(row, 'flag default must be boolean');
      break;
    case 'int':
    case 'u64':
    case 'mb':
      if (typeof d !== 'number' || !Number.isSafeInteger(d)) fail(row, 'numeric default must be a safe integer');
      if (row.min !== undefined && d < row.min) fail(row, 'default below min');
      if (row.max !== undefined && d > row.max) fail(row, 'default above max');
      break;
    case 'str':
      if (d !== undefined && typeof d !== 'string') fail(row, 'str default must be a string or undefined');
      if (row.choices && (typeof d !== 'string' || !row.choices.includes(d))) fail(row, 'default not among choices');
      break;
    case 'list':
    case 'addrs':
      if (!Array.isArray(d) || d.length !== 0) fail(row, 'list default must be []');
      break;
  }
  if (row.choices && row.kind !== 'str') fail(row, 'choices only for str');
  if ((row.min !== undefined || row.max !== undefined || row.cap) && !['int', 'u64', 'mb'].includes(row.kind)) {
    fail(row, 'min/max/cap only for numeric kinds');
  }
  if (row.cap && row.max === undefined) fail(row, 'cap needs max');
  if (row.optionalValue && (row.kind === 'flag' || row.kind === 'negflag')) fail(row, 'flags cannot have optionalValue');
}

function buildIndexes(): { byName: Map<string, OptionSpec>; byShort: Map<string, OptionSpec> } {
  const byName = new Map<string, OptionSpec>();
  const byShort = new Map<string, OptionSpec>();
  for (const row of OPTIONS) {
    validateRow(row);
    for (const n of [row.name, ...row.aliases]) {
      if (byName.has(n)) fail(row, `name "${n}" already used by "${byName.get(n)!.name}"`);
      byName.set(n, row);
    }
    if (row.short !== undefined) {
      if (byShort.has(row.short)) fail(row, `short -${row.short} already used by "${byShort.get(row.short)!.name}"`);
      byShort.set(row.short, row);
    }
  }
  return { byName, byShort };
}

const INDEXES = buildIndexes();

/** Look an option up by canonical name or alias. */
export function findOption(name: string): OptionSpec | undefined {
  return INDEXES.byName.get(name);
}

/** Look an option up by its short letter. */
export function findShortOption(letter: string): OptionSpec | undefined {
  return INDEXES.byShort.get(letter);
}

/** Every accepted long name (canonical names and aliases). */
export function allOptionNames(): string[] {
  return [...INDEXES.byName.keys()];
}

/** True for options that take no value. */
export function isFlagKind(kind: OptionKind): boolean {
  return kind === 'flag' || kind === 'negflag';
}

/** The argument placeholder shown in help and docs, or '' for flags. */
export function argName(row: OptionSpec): string {
  if (isFlagKind(row.kind)) return '';
  if (row.arg !== undefined) return row.arg;
  if (row.choices) return row.choices.join('|');
  switch (row.kind) {
    case 'int':
    case 'u64':
      return 'N';
    case 'mb':
      return 'MB';
    case 'addrs':
      return 'ADDR';
    default:
      return 'VALUE';
  }
}

/** The default as shown in help and docs. */
export function defaultText(row: OptionSpec): string {
  const d = row.default;
  if (row.kind === 'negflag') return d ? 'on' : 'off';
  if (typeof d === 'boolean') return d ? 'on' : 'off';
  if (d === undefined) return '—';
  if (Array.isArray(d)) return '—';
  return String(d);
}

function levenshtein(a: string, b: string): number {
  const prev = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length];
}

/** The closest known long name (canonical or alias) to a misspelled one, if reasonably close. */
export function suggestOption(name: string): string | undefined {
  let best: string | undefined;
  let bestDist = Infinity;
  for (const candidate of INDEXES.byName.keys()) {
    const d = levenshtein(name, candidate);
    if (d < bestDist) {
      bestDist = d;
      best = candidate;
    }
  }
  const limit = Math.max(1, Math.floor(name.length / 3));
  if (best !== undefined && bestDist <= limit) return best;
  // a prefix match ("--work" → "--workers") is also a good hint
  const prefixed = [...INDEXES.byName.keys()].filter((n) => n.startsWith(name) && name.length >= 3);
  return prefixed.length === 1 ? prefixed[0] : undefined;
}

/**
 * A reload mercy in ms. uWSGI kills a cursed worker or mule at the first master cycle past
 * its mercy (fifo.md §7), so a mercy of 0 still gives up to one cycle: here exactly one
 * --check-interval.
 */
export function reloadMercyMs(o: ResolvedOptions, option: 'worker-reload-mercy' | 'mule-reload-mercy'): number {
  return (o[option] || o['check-interval']) * 1000;
}
