/**
 * argv + environment + config files → resolved options (spec: /work/shared/spec/options.md §2).
 *
 * Order (§2.1): `UWSGI_<NAME>` environment variables, then the command line left to
 * right (config-loading options insert their file's options at their position,
 * recursively), then bare config-file arguments; then `$()`, `@()` and `%()` expansion
 * passes over every non-immediate value; then every option is applied in list order
 * (lists accumulate, scalars: last occurrence wins).
 */
import { UwsgiError, echo, isUwsgiError } from './errors.js';
import { parseAddress } from './address.js';
import { parseSharedareaSpec } from './sharedarea-spec.js';
import {
  OPTIONS,
  findOption,
  findShortOption,
  isFlagKind,
  suggestOption,
  type OptionSpec,
  type ResolvedOptions,
} from './options-table.js';
import {
  createConfigContext,
  evalPlaceholder,
  expandReferences,
  formatFromExtension,
  loadConfigFile,
  readAtSource,
  referencedNames,
  splitConfigSpec,
  type ConfigContext,
  type ConfigFormat,
} from './config-files.js';
import { packageVersion } from './help.js';
import { UWSGI_OPTION_NAMES, UWSGI_SHORT_OPTIONS } from './uwsgi-option-names.js';
import { resolve as resolvePath } from 'node:path';

export interface ResolveResult {
  /** Every option with its final value (defaults where not given). */
  options: ResolvedOptions;
  /** The ordered option list after expansion, canonical names (placeholders keep their key). */
  list: Array<[string, string]>;
  /** Placeholder-only keys (set-placeholder, referenced unknown keys, unknown env vars) → first value. */
  placeholders: Map<string, string>;
  /** Absolute paths of the config files loaded, in load order ('-' for stdin). */
  sources: string[];
  /** Non-fatal problems (missing INI/YAML sections), one line each. */
  warnings: string[];
  /**
   * What uWSGI logs while reading its configuration, in order: `[uWSGI] getting INI
   * configuration from <file>` for each file loaded, and the warnings.
   */
  log: string[];
}

type Origin =
  | { readonly kind: 'cli' }
  | { readonly kind: 'env'; readonly variable: string }
  | { readonly kind: 'file'; readonly path: string; readonly line?: number }
  | { readonly kind: 'set'; readonly via: Origin };

interface Entry {
  /** The key as written (alias, canonical name or placeholder name). */
  readonly key: string;
  value: string | undefined;
  readonly spec: OptionSpec | undefined;
  readonly origin: Origin;
  /** Executed during parsing; never expanded. */
  readonly immediate: boolean;
  /** Defined through --set-placeholder: never an unknown-option error. */
  readonly explicitPlaceholder: boolean;
}

/** Environment variables uWSGI never reads as options (§2.1). */
const ENV_SKIP = new Set([
  'UWSGI_RELOADS',
  'UWSGI_VASSALS_DIR',
  'UWSGI_EMPEROR_FD',
  'UWSGI_BROODLORD_NUM',
  'UWSGI_EMPEROR_FD_CONFIG',
  'UWSGI_EMPEROR_PROXY',
  'UWSGI_JAIL_PID',
  'UWSGI_ORIGINAL_PROC_NAME',
]);

const MAX_INCLUDE_DEPTH = 64;
const MAX_C_INT = 2147483647;

function where(origin: Origin): string {
  switch (origin.kind) {
    case 'cli':
      return '';
    case 'env':
      return ` from environment variable ${origin.variable}`;
    case 'file':
      return ` in ${fileAndLine(origin)}`;
    case 'set':
      return ` from --set${where(origin.via)}`;
  }
}

function fileAndLine(origin: { readonly path: string; readonly line?: number }): string {
  const name = origin.path === '-' ? 'standard input' : origin.path;
  return origin.line ? `${name} line ${origin.line}` : name;
}

function missingValue(name: string, origin: Origin): UwsgiError {
  return new UwsgiError('UWSGI_ERR_OPTION_MISSING_VALUE', `option --${name} requires an argument${where(origin)}`);
}

function badValue(name: string, origin: Origin, value: string, expected: string): UwsgiError {
  // `listen = %(backlog)`: an immediate option's value is never expanded (as in uWSGI)
  const immediate = findOption(name)?.immediate && /[$%@]\(/.test(value)
    ? `; --${name} is read at once, so $(), @() and %() in its value are not expanded`
    : '';
  return new UwsgiError('UWSGI_ERR_OPTION_VALUE', `invalid value for option --${name}${where(origin)}: ${echo(value)} (expected ${expected})${immediate}`);
}

const NOT_IMPLEMENTED = 'a uWSGI option that uwsgi-ts does not implement (docs/options.md lists the supported ones)';

function unknownOnCommandLine(written: string): UwsgiError {
  const name = written.replace(/^-+/, '');
  if (written.startsWith('--') && UWSGI_OPTION_NAMES.has(name)) {
    return new UwsgiError('UWSGI_ERR_UNKNOWN_OPTION', `unknown option ${written}: ${NOT_IMPLEMENTED}`);
  }
  const negated = written.startsWith('--no-') ? findOption(name.slice(3)) : undefined;
  if (negated && isFlagKind(negated.kind)) {
    return new UwsgiError('UWSGI_ERR_UNKNOWN_OPTION', `unknown option ${written}: there are no --no-* options; to switch --${negated.name} off write --${negated.name}=false`);
  }
  const uwsgiLong = written.startsWith('--') ? undefined : UWSGI_SHORT_OPTIONS[name];
  if (uwsgiLong !== undefined && findOption(uwsgiLong)) {
    return new UwsgiError('UWSGI_ERR_UNKNOWN_OPTION', `unknown option ${written}: in uWSGI it is --${uwsgiLong}; uwsgi-ts has no short letter for it, write --${uwsgiLong}`);
  }
  if (uwsgiLong !== undefined) {
    return new UwsgiError('UWSGI_ERR_UNKNOWN_OPTION', `unknown option ${written} (uWSGI's --${uwsgiLong}): ${NOT_IMPLEMENTED}`);
  }
  const hint = written.startsWith('--') ? suggestOption(name) : undefined;
  return new UwsgiError('UWSGI_ERR_UNKNOWN_OPTION', `unknown option ${written}${hint ? ` (did you mean --${hint}?)` : ''}`);
}

/** `false`, `off`, `no` (any case) and `0` are false; anything else (including empty) is true (§2.8). */
export function parseBoolean(value: string | undefined): boolean {
  if (value === undefined) return true;
  const v = value.trim().toLowerCase();
  return !(v === 'false' || v === 'off' || v === 'no' || v === '0');
}

function parseWhole(spec: OptionSpec, value: string, origin: Origin): number {
  const min = spec.min ?? 0;
  const limit = spec.kind === 'int' ? MAX_C_INT : Number.MAX_SAFE_INTEGER;
  const max = spec.max !== undefined && !spec.cap ? Math.min(spec.max, limit) : limit;
  const expected = spec.max !== undefined && !spec.cap ? `a whole number between ${min} and ${max}` : `a whole number ≥ ${min}`;
  const t = value.trim();
  if (!/^[+-]?\d+$/.test(t)) throw badValue(spec.name, origin, value, expected + (spec.kind === 'mb' ? ' of megabytes' : ''));
  const n = Number(t);
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    // above the range: say so, not just "≥ min"; for timer options, why
    const why = n > max && spec.arg === 'SECONDS' && spec.max !== undefined ? '; a longer timer would fire at once: JS timers are limited to 2^31−1 ms, 24.8 days' : '';
    throw badValue(spec.name, origin, value, n > max ? `a whole number between ${min} and ${max}${why}` : expected);
  }
  if (spec.cap && spec.max !== undefined && n > spec.max) return spec.max;
  if (spec.kind === 'mb') {
    const bytes = n * 1048576;
    if (!Number.isSafeInteger(bytes)) throw badValue(spec.name, origin, value, 'a smaller number of megabytes');
    return bytes;
  }
  return n;
}

type Mutable = Record<string, boolean | number | string | undefined | string[]>;

function defaults(): Mutable {
  const o: Mutable = {};
  for (const row of OPTIONS) {
    const d = row.default;
    o[row.name] = Array.isArray(d) ? [] : (d as boolean | number | string | undefined);
  }
  return o;
}

/**
 * Syntax checks of list values made while options are applied, so that a bad value read
 * from a file names the file and line (the master parses the values again when it uses them).
 */
const VALUE_CHECKS: Readonly<Record<string, (value: string) => void>> = {
  socket: (v) => void parseAddress(v, 'socket'),
  'http-socket': (v) => void parseAddress(v, 'http-socket'),
  sharedarea: (v) => void parseSharedareaSpec(v, '--sharedarea'),
};

function checkValue(spec: OptionSpec, value: string, origin: Origin): void {
  const check = VALUE_CHECKS[spec.name];
  // command-line values: the master's own check gives the same message (there is no place to name)
  if (check === undefined || origin.kind === 'cli') return;
  try {
    check(value);
  } catch (e) {
    if (isUwsgiError(e)) throw new UwsgiError(e.code, `${e.message}${where(origin)}`, { cause: e });
    throw e;
  }
}

function applyEntry(o: Mutable, spec: OptionSpec, raw: string | undefined, origin: Origin): void {
  const name = spec.name;
  switch (spec.kind) {
    case 'flag':
    case 'negflag':
      o[name] = parseBoolean(raw);
      break;
    case 'int':
    case 'u64':
    case 'mb':
      if (raw === undefined || raw.trim() === '') throw missingValue(name, origin);
      o[name] = parseWhole(spec, raw, origin);
      break;
    case 'str': {
      if (raw === undefined || raw === '') {
        if (!spec.optionalValue) throw missingValue(name, origin);
        o[name] = '';
        break;
      }
      if (spec.choices && !spec.choices.includes(raw)) throw badValue(name, origin, raw, `one of ${spec.choices.join(', ')}`);
      o[name] = raw;
      break;
    }
    case 'list':
    case 'addrs': {
      if ((raw === undefined || raw === '') && !spec.optionalValue) throw missingValue(name, origin);
      if (spec.kind === 'addrs' && raw !== undefined && raw.trim() === '') throw missingValue(name, origin);
      if (raw !== undefined) checkValue(spec, raw, origin);
      (o[name] as string[]).push(raw ?? '');
      break;
    }
  }
  if (spec.impliesMaster) o.master = true;
}

/** The format of a file named by --include / --config / --inherit, by its extension. */
function formatOf(value: string, optionName: string, origin: Origin): ConfigFormat {
  const file = splitConfigSpec(value).file;
  const format = file === '' ? 'ini' : formatFromExtension(file);
  if (format === undefined) {
    throw new UwsgiError(
      'UWSGI_ERR_CONFIG_FILE',
      `unable to load configuration from ${echo(value)} (option --${optionName}${where(origin)}): the extension must be .ini, .yaml, .yml, .json or .js`,
    );
  }
  return format;
}

const MAX_INHERITED_FILES = 64;

/** Mutable state of one resolution. */
class Resolver {
  readonly entries: Entry[] = [];
  readonly sources: string[] = [];
  readonly warnings: string[] = [];
  readonly log: string[] = [];
  readonly loading: string[] = [];
  strict = false;
  /** Names some `%(…)` refers to (gathered from raw values, before expansion). */
  readonly referenced = new Set<string>();
  /** Bare arguments (by index) that directly follow a flag or optional-value option written without `=`, with that option as written (`--mule`, `-M`). */
  readonly afterValueless = new Map<number, string>();
  readonly ctx: ConfigContext;

  constructor(
    readonly env: NodeJS.ProcessEnv,
    readonly cwd: string,
  ) {
    this.ctx = createConfigContext(cwd, packageVersion());
  }

  /** Record one option occurrence; immediate options run now. */
  add(key: string, value: string | undefined, origin: Origin): void {
    const spec = findOption(key);
    const immediate = spec?.immediate ?? false;
    this.entries.push({ key, value, spec, origin, immediate, explicitPlaceholder: false });
    if (spec && immediate) this.runImmediate(spec, value, origin);
  }

  private runImmediate(spec: OptionSpec, value: string | undefined, origin: Origin): void {
    switch (spec.name) {
      case 'ini':
      case 'yaml':
      case 'json':
      case 'include':
      case 'config': {
        if (value === undefined || value === '') throw missingValue(spec.name, origin);
        const format = spec.name === 'include' || spec.name === 'config' ? formatOf(value, spec.name, origin) : (spec.name as ConfigFormat);
        this.loadFile(value, format, spec.name, origin);
        break;
      }
      case 'set':
      case 'set-placeholder': {
        if (value === undefined || value === '') throw missingValue(spec.name, origin);
        const eq = value.indexOf('=');
        if (eq <= 0) throw badValue(spec.name, origin, value, 'KEY=VALUE');
        const key = value.slice(0, eq);
        const v = value.slice(eq + 1);
        if (spec.name === 'set') {
          this.add(key, v, { kind: 'set', via: origin });
        } else {
          if (findOption(key)) {
            throw badValue(spec.name, origin, value, `a placeholder name: you cannot use ${key} as a placeholder, it is already available as an option`);
          }
          this.entries.push({ key, value: v, spec: undefined, origin, immediate: false, explicitPlaceholder: true });
        }
        break;
      }
      case 'strict':
        this.strict = parseBoolean(value);
        break;
      default:
        break; // help, listen: applied with the others, but never expanded
    }
  }

  private loadFile(given: string, format: ConfigFormat, optionName: string, origin: Origin): void {
    const split = splitConfigSpec(given);
    const file = split.file === '' && format === 'ini' ? (this.ctx.lastIniFile ?? '') : split.file;
    const id = `${file === '-' ? '-' : resolvePath(this.cwd, file)}:${split.section ?? ''}`;
    if (this.loading.includes(id) || this.loading.length >= MAX_INCLUDE_DEPTH) {
      const chain = [...this.loading, id].map((s) => s.replace(/:$/, '')).join(' → ');
      throw new UwsgiError('UWSGI_ERR_CONFIG_FILE', `config files include each other in a loop (option --${optionName} ${echo(given)}${where(origin)}): ${chain}`);
    }
    this.log.push(`[uWSGI] getting ${format.toUpperCase()} configuration from ${file}`);
    let loaded;
    try {
      loaded = loadConfigFile(this.ctx, given, format);
    } catch (e) {
      if (!isUwsgiError(e)) throw e;
      // a file named inside another file: say where it was named
      let message = origin.kind !== 'cli' ? `${e.message} (option --${optionName}${where(origin)})` : e.message;
      // `ini = $(DIR)/x.ini`: config-loading options are immediate, so their values are never expanded
      if (/[$%@]\(/.test(given) && e.message.startsWith('cannot open')) {
        message += `; --${optionName} is read at once, so $(), @() and %() in its value are not expanded (magic variables such as %d are)`;
      }
      if (message === e.message) throw e;
      throw new UwsgiError(e.code, message, { cause: e });
    }
    this.sources.push(loaded.path);
    this.warnings.push(...loaded.warnings);
    this.log.push(...loaded.warnings);
    this.loading.push(id);
    try {
      loaded.entries.forEach(([k, v], i) => this.add(k, v, { kind: 'file', path: loaded.path, line: loaded.lines?.[i] }));
    } finally {
      this.loading.pop();
    }
  }

  readEnvironment(): void {
    for (const [variable, value] of Object.entries(this.env)) {
      if (value === undefined || !variable.startsWith('UWSGI_') || variable.startsWith('UWSGI_TS_') || ENV_SKIP.has(variable)) continue;
      const key = variable.slice(6).toLowerCase().replace(/_/g, '-');
      if (key === '') continue;
      if (!findOption(key) && UWSGI_OPTION_NAMES.has(key)) {
        // kept as a placeholder like any unknown variable, but not silently: uWSGI would apply it
        const w = `*** WARNING: environment variable ${variable} sets --${key}, ${NOT_IMPLEMENTED}: ignored ***`;
        this.warnings.push(w);
        this.log.push(w);
      }
      this.add(key, value, { kind: 'env', variable });
    }
  }

  readCommandLine(argv: readonly string[]): string[] {
    const bare: string[] = [];
    let onlyBare = false;
    /** The option just given with no value (`--mule` alone): a bare argument right after it was probably meant as its value. */
    let valueless: string | undefined;
    const takeNext = (i: number, name: string): string => {
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith('--') && next.length > 2)) throw missingValue(name, { kind: 'cli' });
      return next;
    };
    for (let i = 0; i < argv.length; i++) {
      const arg = argv[i];
      const previous = valueless;
      valueless = undefined;
      if (onlyBare || arg === '-' || !arg.startsWith('-')) {
        bare.push(arg);
        // `--master true`, `--mule job.mjs`: a flag or an optional-value option takes its value
        // only with `=`, so this word is bare; remember what it followed for the error below.
        if (previous !== undefined && !onlyBare) this.afterValueless.set(bare.length - 1, previous);
        continue;
      }
      if (arg === '--') {
        onlyBare = true;
        continue;
      }
      if (arg.startsWith('--')) {
        const body = arg.slice(2);
        const eq = body.indexOf('=');
        const name = eq < 0 ? body : body.slice(0, eq);
        const inline = eq < 0 ? undefined : body.slice(eq + 1);
        const spec = findOption(name);
        if (!spec) throw unknownOnCommandLine(`--${name}`);
        let value = inline;
        if (inline === undefined && !isFlagKind(spec.kind) && !spec.optionalValue) {
          value = takeNext(i, spec.name);
          i++;
        }
        if (inline === undefined && (spec.optionalValue || isFlagKind(spec.kind))) valueless = `--${name}`;
        this.add(name, value, { kind: 'cli' });
        continue;
      }
      // short options, possibly clustered: -M -p4 -p 4 -Mp4
      for (let k = 1; k < arg.length; k++) {
        const letter = arg[k];
        const spec = findShortOption(letter);
        if (!spec) throw unknownOnCommandLine(`-${letter}`);
        if (isFlagKind(spec.kind)) {
          this.add(spec.name, undefined, { kind: 'cli' });
          if (k === arg.length - 1) valueless = `-${letter} (--${spec.name})`;
          continue;
        }
        let rest = arg.slice(k + 1);
        if (rest.startsWith('=')) rest = rest.slice(1);
        if (rest !== '') {
          this.add(spec.name, rest, { kind: 'cli' });
        } else if (spec.optionalValue) {
          valueless = `-${letter}`;
          this.add(spec.name, undefined, { kind: 'cli' });
        } else {
          this.add(spec.name, takeNext(i, spec.name), { kind: 'cli' });
          i++;
        }
        break;
      }
    }
    return bare;
  }

  /**
   * Bare arguments must be config files by extension (§2.1 step 4). uwsgi-ts decision:
   * a bare `.js`/`.mjs`/`.cjs`/`.ts` argument is an error pointing at --module (uWSGI
   * would read `.js` as JSON; `--json file.js` still does).
   */
  loadBareArguments(bare: readonly string[]): void {
    for (const [index, arg] of bare.entries()) {
      if (arg.startsWith('[')) continue;
      const file = splitConfigSpec(arg).file;
      const valueless = this.afterValueless.get(index);
      const format = formatFromExtension(file);
      if (valueless !== undefined && (format === undefined || /\.(m|c)?[jt]s$/i.test(file))) {
        // `-M (--master)` is a short flag: its value can only be given through the long name
        const long = / \((--[^)]+)\)$/.exec(valueless);
        const meant = long ? `${long[1]}=${arg}` : valueless.startsWith('--') ? `${valueless}=${arg}` : `${valueless}${arg}`;
        throw new UwsgiError(
          'UWSGI_ERR_CONFIG_FILE',
          `unable to load configuration from ${echo(arg)}: ${valueless} takes a value only with "=" (did you mean ${meant}?), ` +
            'so this word is a bare argument, and bare arguments must be config files (.ini, .yaml, .yml, .json)',
        );
      }
      if (/\.(m|c)?[jt]s$/i.test(file)) {
        throw new UwsgiError(
          'UWSGI_ERR_CONFIG_FILE',
          `unable to load configuration from ${echo(arg)}: a bare script is not a config file; serve it with --module ${arg}` +
            (/\.js$/i.test(file) ? ` (or read it as JSON config with --json ${arg})` : ''),
        );
      }
      if (format === undefined) {
        throw new UwsgiError(
          'UWSGI_ERR_CONFIG_FILE',
          `unable to load configuration from ${echo(arg)}: bare arguments must be config files (.ini, .yaml, .yml, .json)`,
        );
      }
      this.loadFile(arg, format, format, { kind: 'cli' });
    }
  }

  /**
   * `inherit` (spec §1): after expansion, each inherited file is loaded and its options are
   * appended, never expanded (magic %-variables apply while the file is read). An inherited
   * file may itself inherit; the number of inherited files is bounded.
   */
  loadInherited(): void {
    let loads = 0;
    const from = this.entries.length;
    for (let i = 0; i < this.entries.length; i++) {
      const e = this.entries[i];
      if (e.spec?.name !== 'inherit') continue;
      if (e.value === undefined || e.value === '') throw missingValue('inherit', e.origin);
      if (++loads > MAX_INHERITED_FILES) {
        throw new UwsgiError('UWSGI_ERR_CONFIG_FILE', `more than ${MAX_INHERITED_FILES} inherited config files (option --inherit ${echo(e.value)}${where(e.origin)}): do they inherit each other in a loop?`);
      }
      this.loadFile(e.value, formatOf(e.value, 'inherit', e.origin), 'inherit', e.origin);
    }
    if (this.entries.length > from) this.checkUnknown(from);
  }

  /** Unknown keys from files and --set: placeholders if referenced by some %(…), else errors; --strict rejects them all. */
  checkUnknown(from = 0): void {
    const referenced = this.referenced;
    for (const e of this.entries.slice(from)) if (e.value !== undefined) for (const n of referencedNames(e.value)) referenced.add(n);
    for (const e of this.entries.slice(from)) {
      if (e.spec || e.explicitPlaceholder || e.origin.kind === 'env' || e.origin.kind === 'cli') continue;
      const hint = UWSGI_OPTION_NAMES.has(e.key) ? undefined : suggestOption(e.key);
      const suggestion = hint ? ` (did you mean "${hint}"?)` : UWSGI_OPTION_NAMES.has(e.key) ? `: ${NOT_IMPLEMENTED}` : '';
      const from = e.origin.kind === 'set' ? `--set${where(e.origin.via)}` : fileAndLine(e.origin);
      if (e.key.trim() === '') {
        throw new UwsgiError('UWSGI_ERR_UNKNOWN_OPTION', `missing option name in ${from}: ${echo(`${e.key}=${e.value ?? ''}`)} has nothing before "="`);
      }
      if (this.strict) {
        throw new UwsgiError(
          'UWSGI_ERR_UNKNOWN_OPTION',
          `unknown option ${echo(e.key)} in ${from}${suggestion} (--strict: declare placeholders with set-placeholder)`,
        );
      }
      if (!referenced.has(e.key)) {
        throw new UwsgiError('UWSGI_ERR_UNKNOWN_OPTION', `unknown option ${echo(e.key)} in ${from}${suggestion}`);
      }
    }
  }

  private lookup(name: string): string | undefined {
    const spec = findOption(name);
    for (const e of this.entries) {
      if (spec ? e.spec === spec : e.key === name && e.spec === undefined) {
        if (e.value !== undefined) return e.value;
        return e.spec && isFlagKind(e.spec.kind) ? '1' : '';
      }
    }
    return undefined;
  }

  /** §2.6: `$()` over every option, then `@()`, then `%()`; immediate options are never expanded. */
  expand(): void {
    const pending = this.entries.filter((e) => !e.immediate && e.value !== undefined);
    for (const e of pending) e.value = expandReferences(e.value!, '$', (k) => this.env[k]);
    for (const e of pending) {
      e.value = expandReferences(e.value!, '@', (k) => {
        try {
          return readAtSource(this.ctx, k, e.spec?.name ?? e.key);
        } catch (err) {
          if (isUwsgiError(err) && e.origin.kind !== 'cli') throw new UwsgiError(err.code, `${err.message} (${where(e.origin).trim()})`, { cause: err });
          throw err;
        }
      });
    }
    for (const e of pending) e.value = expandReferences(e.value!, '%', (k) => evalPlaceholder(k, (n) => this.lookup(n)));
  }

  result(): ResolveResult {
    const o = defaults();
    const list: Array<[string, string]> = [];
    const placeholders = new Map<string, string>();
    for (const e of this.entries) {
      if (e.spec) {
        applyEntry(o, e.spec, e.value, e.origin);
        list.push([e.spec.name, e.value ?? (isFlagKind(e.spec.kind) ? 'true' : '')]);
      } else {
        if (!placeholders.has(e.key)) placeholders.set(e.key, e.value ?? '');
        if (e.origin.kind !== 'env') list.push([e.key, e.value ?? '']);
      }
    }
    return { options: o as ResolvedOptions, list, placeholders, sources: this.sources, warnings: this.warnings, log: this.log };
  }
}

const SHORT_CIRCUIT = new Map([
  ['--help', 'help'],
  ['-h', 'help'],
  ['--usage', 'help'],
  ['--version', 'version'],
]);

/**
 * Resolve the configuration of one instance.
 *
 * @param argv the user's arguments (process.argv.slice(2))
 * @param env  the environment (UWSGI_<NAME> variables become options; UWSGI_TS_* are skipped)
 * @param cwd  directory relative config paths and `@()` sources resolve against (`%v`)
 *
 * `--help`/`-h`/`--usage`/`--version` anywhere before `--` short-circuit: nothing else is
 * read and the defaults are returned with `help`/`version` set.
 */
export function resolveOptions(argv: string[], env: NodeJS.ProcessEnv, cwd: string): ResolveResult {
  const r = new Resolver(env, cwd);
  for (const arg of argv) {
    if (arg === '--') break;
    const which = SHORT_CIRCUIT.get(arg);
    if (which !== undefined) {
      r.add(which, undefined, { kind: 'cli' });
      return r.result();
    }
  }
  r.readEnvironment();
  const bare = r.readCommandLine(argv);
  r.loadBareArguments(bare);
  r.checkUnknown();
  r.expand();
  r.loadInherited();
  return r.result();
}

/** The final option list as uWSGI's `--show-config` INI block. */
export function formatShowConfig(list: ReadonlyArray<readonly [string, string]>): string {
  const lines = [';uWSGI instance configuration', '[uwsgi]'];
  for (const [k, v] of list) lines.push(`${k} = ${v}`);
  lines.push(';end of configuration');
  return lines.join('\n') + '\n';
}
