/**
 * Configuration files: reading INI / YAML / JSON into ordered (key, value) pairs, the
 * `%x` magic variables applied to raw file text, and the `$()` / `@()` / `%()`
 * expansion helpers (spec: /work/shared/spec/options.md §2.3–§2.7).
 *
 * This module knows nothing about which option names exist; options.ts decides what a
 * key means.
 */
import { lstatSync, readFileSync } from 'node:fs';
import { availableParallelism, cpus, hostname, userInfo } from 'node:os';
import { basename, dirname, extname, resolve } from 'node:path';
import { LineCounter, isAlias, isMap, isScalar, isSeq, parseDocument, type Node as YamlNode } from 'yaml';
import { UwsgiError, echo } from './errors.js';

export type ConfigFormat = 'ini' | 'yaml' | 'json';

/** A config file reference split into file and optional section (`a.ini:other`). */
export interface ConfigSpec {
  /** The argument as given. */
  readonly given: string;
  /** The file part (may be '' for `:section`, meaning "the last INI file"). */
  readonly file: string;
  /** The requested section / object, or undefined for the default `uwsgi`. */
  readonly section: string | undefined;
}

export interface LoadedConfig {
  /** Absolute path read ('-' for stdin). */
  readonly path: string;
  /** Options in file order; a key may repeat. */
  readonly entries: Array<[string, string]>;
  /** 1-based line of each entry in the file (parallel to entries), when the format tells it (INI, YAML). */
  readonly lines?: number[];
  /** Non-fatal problems (missing INI/YAML section), one line each. */
  readonly warnings: string[];
}

/** State shared by every file loaded during one resolution: magic variables and the last INI file. */
export interface ConfigContext {
  readonly cwd: string;
  /** 256-slot magic table, keyed by the character after `%`. */
  readonly magic: Map<string, string>;
  firstRoundDone: boolean;
  lastIniFile: string | undefined;
}

const DEFAULT_SECTION = 'uwsgi';

/** Split `file[:section]` at the last `:` (for `scheme://` sources: the last `:` after the last `/`). */
export function splitConfigSpec(given: string): ConfigSpec {
  let searchFrom = 0;
  if (given.includes('://')) searchFrom = given.lastIndexOf('/') + 1;
  const colon = given.lastIndexOf(':');
  if (colon < searchFrom || colon < 0) return { given, file: given, section: undefined };
  const section = given.slice(colon + 1);
  return { given, file: given.slice(0, colon), section: section === '' ? undefined : section };
}

/** Config format by file extension (`.ini`, `.yaml`, `.yml`, `.json`, `.js`), or undefined. */
export function formatFromExtension(file: string): ConfigFormat | undefined {
  const ext = extname(file).toLowerCase();
  if (ext === '.ini') return 'ini';
  if (ext === '.yaml' || ext === '.yml') return 'yaml';
  if (ext === '.json' || ext === '.js') return 'json';
  return undefined;
}

/** djb33x hash as uWSGI computes it (signed chars), as 8 upper-case hex digits in little-endian byte order. */
export function djb33xHex(text: string): string {
  let hash = 5381;
  for (const byte of Buffer.from(text, 'utf8')) {
    const c = byte >= 128 ? byte - 256 : byte;
    hash = (Math.imul(hash, 33) ^ c) >>> 0;
  }
  const b = Buffer.alloc(4);
  b.writeUInt32LE(hash);
  return b.toString('hex').toUpperCase();
}

/** Create the context for one resolution: fills the process-wide magic variables. */
export function createConfigContext(cwd: string, version: string): ConfigContext {
  const magic = new Map<string, string>();
  const nowMs = Date.now();
  magic.set('%', '%');
  magic.set('(', '%(');
  magic.set('[', '\x1b');
  magic.set('v', cwd);
  magic.set('b', process.execPath);
  magic.set('h', safe(() => hostname(), ''));
  magic.set('t', String(Math.floor(nowMs / 1000)));
  magic.set('T', String(nowMs * 1000));
  magic.set('V', version);
  magic.set('k', String(safe(() => availableParallelism(), cpus().length)));
  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
  const gid = typeof process.getgid === 'function' ? process.getgid() : undefined;
  const user = safe(() => userInfo().username, '');
  magic.set('u', uid === undefined ? '' : String(uid));
  magic.set('U', user !== '' ? user : uid === undefined ? '' : String(uid));
  magic.set('g', gid === undefined ? '' : String(gid));
  magic.set('G', groupName(gid));
  return { cwd, magic, firstRoundDone: false, lastIniFile: undefined };
}

function safe<T>(f: () => T, fallback: T): T {
  try {
    return f();
  } catch {
    return fallback;
  }
}

function groupName(gid: number | undefined): string {
  if (gid === undefined) return '';
  const text = safe(() => readFileSync('/etc/group', 'utf8'), '');
  for (const line of text.split('\n')) {
    const parts = line.split(':');
    if (parts.length >= 3 && parts[2] === String(gid)) return parts[0];
  }
  return String(gid);
}

/** Update the per-file magic variables for `spec` (uWSGI's config_magic_table_fill). */
export function fillFileMagic(ctx: ConfigContext, spec: ConfigSpec, absPath: string | undefined): void {
  const m = ctx.magic;
  m.set('o', spec.file);
  if (absPath !== undefined) {
    const s = basename(absPath);
    const dir = dirname(absPath);
    const d = dir.endsWith('/') ? dir : dir + '/';
    const ext = s.lastIndexOf('.');
    m.set('p', absPath);
    m.set('s', s);
    m.set('d', d);
    m.set('e', ext >= 0 ? s.slice(ext + 1) : '');
    m.set('n', ext >= 0 ? s.slice(0, ext) : s);
    m.set('c', basename(dir));
    const parts = dir.split('/').filter((p) => p !== '');
    for (let i = 0; i <= 9; i++) m.set(String(i), parts[i] ?? '');
    m.set('j', djb33xHex(absPath));
    m.set('i', safe(() => String(lstatSync(absPath).ino), ''));
  }
  m.set('x', spec.section ?? '');
  if (!ctx.firstRoundDone) {
    for (const c of ['o', 'd', 's', 'p', 'c', 'e', 'n', 'x', 'i', 'j']) m.set(c.toUpperCase(), m.get(c) ?? '');
    ctx.firstRoundDone = true;
  }
}

/** Substitute `%x` magic variables in raw text; unknown `%x` vanish, `%%` → `%`, `%(` stays. */
export function applyMagic(text: string, magic: ReadonlyMap<string, string>): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '%' && i + 1 < text.length) {
      out += magic.get(text[i + 1]) ?? '';
      i++;
    } else {
      out += ch;
    }
  }
  return out;
}

function osErrorText(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as NodeJS.ErrnoException).code;
    const msg = e.message.replace(/,\s*(open|read|lstat|stat)\s+'.*'$/, '');
    return code && !msg.startsWith(code) ? `${code}: ${msg}` : msg;
  }
  return String(e);
}

/** A config file's text and the 1-based lines that hold bytes that are not UTF-8 (replaced by U+FFFD in text). */
export interface ConfigText {
  readonly path: string;
  readonly text: string;
  readonly badLines: readonly number[];
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Decode `bytes` as UTF-8; when some bytes are not UTF-8, also say on which lines. */
export function decodeConfigBytes(bytes: Uint8Array): { text: string; badLines: number[] } {
  try {
    return { text: strictUtf8.decode(bytes), badLines: [] };
  } catch {
    // invalid UTF-8: find the lines that hold it (a line is bytes up to a 0x0a, which UTF-8 never uses inside a character)
    const badLines: number[] = [];
    let start = 0;
    let line = 1;
    for (let i = 0; i <= bytes.length; i++) {
      if (i === bytes.length || bytes[i] === 0x0a) {
        try {
          strictUtf8.decode(bytes.subarray(start, i));
        } catch {
          badLines.push(line);
        }
        start = i + 1;
        line++;
      }
    }
    return { text: Buffer.from(bytes).toString('utf8'), badLines };
  }
}

/** The error for bytes that are not UTF-8 on `line` of `path`. */
export function notUtf8(what: string, path: string, line: number, text: string): UwsgiError {
  const shown = text.split('\n')[line - 1] ?? '';
  return new UwsgiError(
    'UWSGI_ERR_CONFIG_FILE',
    `${what} ${path} line ${line} is not valid UTF-8 (save the file as UTF-8): ${echo(shown.replace(/\r$/, ''))}`,
  );
}

/** Read a file (relative paths resolve against ctx.cwd; '-' is stdin). Errors are UWSGI_ERR_CONFIG_FILE. */
export function readConfigText(ctx: ConfigContext, file: string, what: string): ConfigText {
  if (file.includes('://')) {
    throw new UwsgiError('UWSGI_ERR_CONFIG_FILE', `cannot load ${what} ${echo(file)}: scheme:// config sources are not supported by uwsgi-ts`);
  }
  if (file === '-') {
    try {
      return { path: '-', ...decodeConfigBytes(readFileSync(0)) };
    } catch (e) {
      throw new UwsgiError('UWSGI_ERR_CONFIG_FILE', `cannot read ${what} from stdin: ${osErrorText(e)}`, { cause: e });
    }
  }
  if (file === '') {
    throw new UwsgiError('UWSGI_ERR_CONFIG_FILE', `cannot load ${what}: empty file name`);
  }
  const path = resolve(ctx.cwd, file);
  try {
    return { path, ...decodeConfigBytes(readFileSync(path)) };
  } catch (e) {
    throw new UwsgiError('UWSGI_ERR_CONFIG_FILE', `cannot open ${what} ${path}: ${osErrorText(e)}`, { cause: e });
  }
}

/** Load one config file in the given format. `given` is the argument as written (`a.ini:section`). */
export function loadConfigFile(ctx: ConfigContext, given: string, format: ConfigFormat): LoadedConfig {
  let spec = splitConfigSpec(given);
  if (spec.file === '' && format === 'ini') {
    if (ctx.lastIniFile === undefined) {
      throw new UwsgiError('UWSGI_ERR_CONFIG_FILE', `cannot load ${echo(given)}: ":section" needs an INI file loaded before it`);
    }
    spec = { given, file: ctx.lastIniFile, section: spec.section };
  }
  const { path, text, badLines } = readConfigText(ctx, spec.file, `${format} config file`);
  fillFileMagic(ctx, spec, path === '-' ? undefined : path);
  // uwsgi-ts decision: a leading UTF-8 byte order mark (editors on Windows write one) is
  // not part of the text; uWSGI would read it as part of the first line, so `[uwsgi]`
  // went unseen (INI) or the file did not parse (JSON).
  const unmarked = text.startsWith('\ufeff') ? text.slice(1) : text;
  // YAML directives (`%YAML 1.1`, `%TAG …`) are not magic variables: `%Y` would vanish and
  // leave `AML 1.1` before the `---`, a document of its own
  const raw = format === 'yaml'
    ? unmarked.split('\n').map((l) => (/^%(YAML|TAG)[ \t]/.test(l) ? l : applyMagic(l, ctx.magic))).join('\n')
    : applyMagic(unmarked, ctx.magic);
  const section = spec.section ?? DEFAULT_SECTION;
  switch (format) {
    case 'ini': {
      ctx.lastIniFile = spec.file;
      const ini = parseIni(raw, section, path);
      // bytes that are not UTF-8 only matter on lines that are read (not comments, not other sections)
      const bad = ini.lines.find((l) => badLines.includes(l));
      if (bad !== undefined) throw notUtf8('INI file', path, bad, text);
      const joined = linesEndingInMagic(unmarked).map(
        (l) => `*** WARNING: ${path} line ${l} ends with a single %: it removes the line break, joining line ${l + 1} onto it (as in uWSGI); write %% for a literal % ***`,
      );
      return { path, ...ini, warnings: [...joined, ...ini.warnings] };
    }
    case 'yaml':
      if (badLines.length > 0) throw notUtf8('YAML file', path, badLines[0], text);
      return { path, ...withMagicHint('YAML', () => parseYaml(raw, section, path), () => parseDocument(unmarked).errors.length === 0) };
    case 'json':
      if (badLines.length > 0) throw notUtf8('JSON file', path, badLines[0], text);
      return { path, ...withMagicHint('JSON', () => parseJson(raw, section, path), () => parsesAsJson(unmarked)) };
  }
}

/**
 * Run a parse; when it fails with a syntax error but the text parses before the magic
 * variables were replaced (`"100%"` lost `%"`, as it would in uWSGI), say so.
 */
function withMagicHint<T>(format: 'YAML' | 'JSON', parse: () => T, parsesWithoutMagic: () => boolean): T {
  try {
    return parse();
  } catch (e) {
    if (e instanceof UwsgiError && e.message.startsWith(`error parsing ${format}`) && parsesWithoutMagic()) {
      throw new UwsgiError(
        'UWSGI_ERR_CONFIG_FILE',
        `${e.message} (the file is valid ${format} before %-magic variables are replaced: a % followed by a character that is not a magic variable removes both; write %% for a literal %)`,
        { cause: e },
      );
    }
    throw e;
  }
}

/** 1-based lines whose line break a `%` removes (`a = 100%` then a newline), scanning as applyMagic does. */
export function linesEndingInMagic(text: string): number[] {
  const found: number[] = [];
  let line = 1;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '%' && i + 1 < text.length) {
      const next = text[i + 1];
      if (next === '\n') {
        found.push(line);
        line++;
      }
      i++;
    } else if (ch === '\n') {
      line++;
    }
  }
  return found;
}

function parsesAsJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false; // only a hint for an error already being reported
  }
}

/** INI text → entries of `section` (spec §2.3). */
export function parseIni(text: string, section: string, path: string): { entries: Array<[string, string]>; lines: number[]; warnings: string[] } {
  const entries: Array<[string, string]> = [];
  const lines: number[] = [];
  let current = '';
  let found = false;
  let lineNo = 0;
  for (const rawLine of text.split('\n')) {
    lineNo++;
    const line = rawLine.replace(/^[ \t\r]+|[ \t\r]+$/g, '');
    if (line === '' || line[0] === ';' || line[0] === '#') continue;
    if (line[0] === '[') {
      current = (line.endsWith(']') ? line.slice(1, -1) : line.slice(1)).trim();
      if (current === section) found = true;
      continue;
    }
    if (current !== section) continue;
    lines.push(lineNo);
    const eq = line.indexOf('=');
    if (eq < 0) entries.push([line, '']);
    else entries.push([line.slice(0, eq).replace(/[ \t\r]+$/, ''), line.slice(eq + 1).replace(/^[ \t\r]+/, '')]);
  }
  let near = '';
  if (!found) {
    // `[uwsgi] ; main`: as in uWSGI the header is the whole line, so this is not section uwsgi; say why
    const all = text.split('\n');
    const at = all.findIndex((l) => l.trim().startsWith(`[${section}]`));
    if (at >= 0) near = ` (line ${at + 1} ${echo(all[at].trim())} is not its header: nothing may follow "]" on a header line)`;
  }
  const warnings = found ? [] : [`*** WARNING: Can't find section "${section}" in INI configuration file ${path}${near} ***`];
  return { entries, lines, warnings };
}

function yamlScalarText(node: YamlNode | null, key: string, path: string, line: number): string {
  if (node === null) return '';
  if (!isScalar(node)) {
    const what = isMap(node) ? 'a nested mapping' : isSeq(node) ? 'a nested list' : 'an unsupported value';
    throw new UwsgiError(
      'UWSGI_ERR_CONFIG_FILE',
      `unsupported value for key ${echo(key)} in YAML file ${path}${line ? ` line ${line}` : ''}: ${what} (expected a scalar or a list of scalars)`,
    );
  }
  const v = node.value;
  if (v === null || v === undefined) return '';
  if (typeof v === 'boolean') return v ? '1' : '0';
  if (typeof v === 'number' || typeof v === 'bigint') {
    return node.type === 'PLAIN' && typeof node.source === 'string' ? node.source : String(v);
  }
  if (typeof v === 'string') return v;
  return String(v);
}

/**
 * YAML text → entries of the top-level mapping `section` (spec §2.4, with sequences as
 * repeated options). A key written twice is two options, as in uWSGI's line-based YAML
 * reader (`socket: a` then `socket: b` binds both); a repeated top-level section: the first
 * one is read, as uWSGI stops at the end of the first.
 */
export function parseYaml(text: string, section: string, path: string): { entries: Array<[string, string]>; lines?: number[]; warnings: string[] } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { uniqueKeys: false, lineCounter });
  if (doc.errors.length > 0) {
    const err = doc.errors[0];
    const at = err.linePos?.[0];
    // the yaml library's message ends with " at line N, column M:" and a code excerpt: keep the words, say where once
    const words = err.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
    const why = err.code === 'MULTIPLE_DOCS' ? 'a second YAML document starts here (a config file holds one document)' : words;
    const place = at ? ` line ${at.line}` : '';
    throw new UwsgiError('UWSGI_ERR_CONFIG_FILE', `error parsing YAML file ${path}${place}: ${why}${at && err.code !== 'MULTIPLE_DOCS' ? ` (column ${at.col})` : ''}`, { cause: err });
  }
  const root = doc.contents;
  const missing = { entries: [], warnings: [`*** WARNING: Can't find section "${section}" in YAML configuration file ${path} ***`] };
  if (root === null || !isMap(root)) return missing;
  const block = root.get(section, true);
  if (block === undefined) return missing;
  if (block === null || (isScalar(block) && block.value === null)) return { entries: [], warnings: [] };
  if (!isMap(block)) {
    throw new UwsgiError('UWSGI_ERR_CONFIG_SECTION', `section ${echo(section)} in YAML file ${path} must be a mapping of options`);
  }
  // `&anchor` / `*alias`: an alias stands for the node it names
  const deref = (n: YamlNode | null): YamlNode | null => (n !== null && isAlias(n) ? ((n.resolve(doc) as YamlNode | undefined) ?? null) : n);
  const entries: Array<[string, string]> = [];
  const lines: number[] = [];
  for (const pair of block.items) {
    const keyNode = pair.key as YamlNode | null;
    const key = keyNode !== null && isScalar(keyNode) && keyNode.value !== null ? String(keyNode.value) : '';
    const line = keyNode?.range ? lineCounter.linePos(keyNode.range[0]).line : 0;
    if (key === '') throw new UwsgiError('UWSGI_ERR_CONFIG_FILE', `empty or complex key in YAML file ${path}${line ? ` line ${line}` : ''}`);
    const value = deref(pair.value as YamlNode | null);
    const lineOfNode = (n: YamlNode | null, fallback: number): number => (n?.range ? lineCounter.linePos(n.range[0]).line : fallback);
    if (value !== null && isSeq(value)) {
      for (const item of value.items) {
        const itemNode = deref(item as YamlNode | null);
        const itemLine = lineOfNode(item as YamlNode | null, line);
        entries.push([key, yamlScalarText(itemNode, key, path, itemLine)]);
        lines.push(itemLine);
      }
    } else {
      entries.push([key, yamlScalarText(value, key, path, line)]);
      lines.push(line);
    }
  }
  return { entries, lines, warnings: [] };
}

function jsonScalarText(v: unknown, key: string, path: string): string {
  if (typeof v === 'string') return v;
  if (v === true) return '1';
  if (v === false || v === null) return '0';
  if (typeof v === 'number') return String(v);
  throw new UwsgiError('UWSGI_ERR_CONFIG_FILE', `unsupported value for key ${echo(key)} in JSON file ${path}: ${echo(v)}`);
}

/**
 * Offset of the first syntax error in `text` (which JSON.parse rejected): V8's message gives
 * a position only for some errors ("Unexpected token 'x', "…" is not valid JSON" and
 * "Unexpected end of JSON input" have none), so scan the text with a small JSON grammar.
 */
export function jsonErrorOffset(text: string): number {
  let i = 0;
  const n = text.length;
  const ws = (): void => {
    while (i < n && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  const fail = (): never => {
    throw i;
  };
  const str = (): void => {
    i++; // opening quote
    for (; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return;
      }
      if (c < 0x20) fail();
      if (c === 0x5c) {
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) fail();
          i += 5;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i++;
        else {
          i++;
          fail();
        }
      }
    }
    fail();
  };
  const value = (depth: number): void => {
    ws();
    if (depth > 10_000) fail();
    const c = text[i];
    if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']';
      i++;
      ws();
      if (text[i] === close) {
        i++;
        return;
      }
      for (;;) {
        if (c === '{') {
          ws();
          if (text[i] !== '"') fail();
          str();
          ws();
          if (text[i] !== ':') fail();
          i++;
        }
        value(depth + 1);
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === close) {
          i++;
          return;
        }
        fail();
      }
    }
    if (c === '"') return str();
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (m && m[0] !== '' && m[0] !== '-') {
      i += m[0].length;
      return;
    }
    for (const word of ['true', 'false', 'null']) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return;
      }
    }
    fail();
  };
  try {
    value(0);
    ws();
    if (i < n) fail();
  } catch (at) {
    if (typeof at === 'number') return Math.min(at, n);
    throw at;
  }
  return n; // not reached for text JSON.parse rejected
}

/** 1-based line of `offset` in `text`. */
function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let k = 0; k < offset && k < text.length; k++) if (text[k] === '\n') line++;
  return line;
}

/**
 * Lines of the members of the top-level object `section` in `text` (JSON that JSON.parse
 * accepted): key → the 1-based line of the key and of each element when the value is an
 * array. A key written twice keeps its last occurrence, as JSON.parse does.
 */
export function jsonMemberLines(text: string, section: string): Map<string, { line: number; items: number[] }> {
  const found = new Map<string, { line: number; items: number[] }>();
  let i = 0;
  let line = 1;
  const ws = (): void => {
    for (; i < text.length; i++) {
      const c = text[i];
      if (c === '\n') line++;
      else if (c !== ' ' && c !== '\t' && c !== '\r') return;
    }
  };
  const str = (): string => {
    const from = i;
    for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++;
    i++;
    return JSON.parse(text.slice(from, i)) as string;
  };
  // skip any value (strings cannot hold raw newlines in valid JSON; count the others);
  // containers are tracked on an explicit stack, so deep nesting cannot overflow the call stack
  const skip = (): void => {
    const open: string[] = [];
    do {
      ws();
      const c = text[i];
      if (c === '"') str();
      else if (c === '{' || c === '[') {
        open.push(c);
        i++;
      } else if (c !== '}' && c !== ']') {
        while (i < text.length && !/[\s,\]}]/.test(text[i])) i++;
      }
      // close finished containers, step over commas and object keys
      for (;;) {
        ws();
        if (open.length > 0 && (text[i] === '}' || text[i] === ']')) {
          open.pop();
          i++;
          if (open.length === 0) return;
          continue;
        }
        if (open.length > 0 && text[i] === ',') i++;
        ws();
        if (open[open.length - 1] === '{' && text[i] === '"') {
          str();
          ws();
          i++; // ':'
        }
        break;
      }
    } while (open.length > 0 && i < text.length);
  };
  const members = (visit: (key: string) => boolean): void => {
    ws();
    if (text[i] !== '{') return;
    i++;
    for (;;) {
      ws();
      if (i >= text.length || text[i] === '}') return;
      const key = str();
      ws();
      i++; // ':'
      if (!visit(key)) skip();
      ws();
      if (text[i] === ',') i++;
    }
  };
  members((top) => {
    if (top !== section) return false;
    ws();
    if (text[i] !== '{') return false;
    members((key) => {
      const at = line;
      ws();
      if (text[i] !== '[') {
        found.set(key, { line: at, items: [] });
        return false;
      }
      const items: number[] = [];
      i++;
      for (;;) {
        ws();
        if (text[i] === ']') {
          i++;
          break;
        }
        items.push(line);
        skip();
        ws();
        if (text[i] === ',') i++;
      }
      found.set(key, { line: at, items });
      return true;
    });
    return true;
  });
  return found;
}

/** JSON text → entries of the top-level object `section` (spec §2.4), with the line of each. */
export function parseJson(text: string, section: string, path: string): { entries: Array<[string, string]>; lines: number[]; warnings: string[] } {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    // V8's message may quote the text, raw newlines included: keep the error on one line.
    const msg = (e instanceof Error ? e.message : String(e)).replace(/\r?\n/g, '\\n');
    const line = lineOf(text, jsonErrorOffset(text));
    throw new UwsgiError('UWSGI_ERR_CONFIG_FILE', `error parsing JSON data in ${path}: line ${line}: ${msg}`, { cause: e });
  }
  const block = data !== null && typeof data === 'object' && !Array.isArray(data) ? (data as Record<string, unknown>)[section] : undefined;
  if (block === null || typeof block !== 'object' || Array.isArray(block)) {
    throw new UwsgiError('UWSGI_ERR_CONFIG_SECTION', `you must define a object named ${section} in your JSON data (${path})`);
  }
  const where = jsonMemberLines(text, section);
  const entries: Array<[string, string]> = [];
  const lines: number[] = [];
  for (const [key, v] of Object.entries(block as Record<string, unknown>)) {
    const at = where.get(key);
    const file = at ? `${path} line ${at.line}` : path;
    if (Array.isArray(v)) {
      v.forEach((item, k) => {
        const itemLine = at?.items[k] ?? at?.line ?? 0;
        entries.push([key, jsonScalarText(item, key, itemLine ? `${path} line ${itemLine}` : path)]);
        lines.push(itemLine);
      });
    } else {
      entries.push([key, jsonScalarText(v, key, file)]);
      lines.push(at?.line ?? 0);
    }
  }
  return { entries, lines, warnings: [] };
}

/**
 * Replace every `<symbol>(key)` in `value` with `hook(key)` (uWSGI's
 * uwsgi_apply_config_pass): parentheses inside the key are balanced by depth; a new
 * `symbol` inside a key restarts the scan there (so `%(x %(z))` only replaces the inner
 * form); `hook` returning undefined, and an empty key, leave the text as is; replaced
 * text is never scanned again.
 */
export function expandReferences(value: string, symbol: string, hook: (key: string) => string | undefined): string {
  let out = '';
  let copied = 0;
  let state = 0; // 0 idle, 1 saw symbol, 2 inside key
  let start = 0;
  let keyStart = 0;
  let depth = 0;
  for (let j = 0; j < value.length; j++) {
    const c = value[j];
    if (c === symbol) {
      state = 1;
      start = j;
    } else if (state === 1 && c === '(') {
      state = 2;
      depth = 0;
      keyStart = j + 1;
    } else if (state === 2) {
      if (c === '(') depth++;
      else if (c === ')') {
        if (depth > 0) {
          depth--;
          continue;
        }
        const key = value.slice(keyStart, j);
        state = 0;
        if (key === '') continue;
        const replacement = hook(key);
        if (replacement === undefined) continue;
        out += value.slice(copied, start) + replacement;
        copied = j + 1;
      }
    } else {
      state = 0;
    }
  }
  return out + value.slice(copied);
}

/** Every name a `%(…)` in `value` may look up (innermost forms, each space-separated word). */
export function referencedNames(value: string): string[] {
  const names: string[] = [];
  for (const m of value.matchAll(/%\(([^()]*)\)/g)) {
    for (const word of m[1].split(' ')) if (word !== '') names.push(word);
  }
  return names;
}

function strtoll(s: string): bigint {
  const m = /^\s*([+-]?\d+)/.exec(s);
  return m ? BigInt.asIntN(64, BigInt(m[1])) : 0n;
}

/**
 * Evaluate the content of `%(…)` (uWSGI's uwsgi_manage_placeholder): without a space it
 * is a plain lookup; with spaces it is a left-to-right pipeline (§2.7). Returns
 * undefined when a plain lookup finds nothing (the reference then stays literal).
 */
export function evalPlaceholder(key: string, lookup: (name: string) => string | undefined): string | undefined {
  if (!key.includes(' ')) return lookup(key);
  type Op = 'concat' | '+' | '-' | '*' | '/';
  let op: Op = 'concat';
  let current: string | undefined;
  for (const tok of key.split(' ')) {
    if (tok === '') continue;
    if (tok === '+' || tok === '-' || tok === '*' || tok === '/') {
      op = tok;
      continue;
    }
    if (tok === '++' || tok === '--') {
      if (current !== undefined) current = String(BigInt.asIntN(64, strtoll(current) + (tok === '++' ? 1n : -1n)));
      op = 'concat';
      continue;
    }
    const value = /^\d+$/.test(tok) ? tok : (lookup(tok) ?? '');
    if (op === 'concat') {
      current = (current ?? '') + value;
    } else {
      const a = current === undefined ? 0n : strtoll(current);
      const b = strtoll(value);
      let r: bigint;
      if (op === '+') r = a + b;
      else if (op === '-') r = a - b;
      else if (op === '*') r = a * b;
      else r = b === 0n ? 0n : a / b;
      current = String(BigInt.asIntN(64, r));
    }
    op = 'concat';
  }
  return current;
}

/** Content of an `@(source)` reference: the file, with one trailing `\n` or `\r` removed. */
export function readAtSource(ctx: ConfigContext, source: string, optionName: string): string {
  const { path, text, badLines } = readConfigText(ctx, source, `@(${source}) in option --${optionName}:`);
  if (badLines.length > 0) throw notUtf8(`@(${source}) in option --${optionName}: file`, path, badLines[0], text);
  return text.endsWith('\n') || text.endsWith('\r') ? text.slice(0, -1) : text;
}
