/**
 * Parse one `--sharedarea` (`-A`) value into a SharedareaSpec (spec sharedarea.md §2).
 *
 * Forms: plain `N` (pages), or keyval `pages=N,size=BYTES,file=PATH` (any `=` selects
 * keyval). Sizes are validated strictly (uWSGI's atoi/strtoul would turn `10M` into 10 and
 * `abc` into 0); `fd=`, `ptr=` and `offset=` are rejected because they map external memory.
 */
import { UwsgiError, echo } from './errors.js';

/** uwsgi-ts uses a fixed page size (spec §1). */
export const SHAREDAREA_PAGE_SIZE = 4096;
/** Largest area uwsgi-ts creates (2 GiB): positions must stay valid 32-bit offsets. */
export const SHAREDAREA_MAX_BYTES = 2 ** 31;

export interface AnonymousSharedareaSpec {
  readonly kind: 'anonymous';
  /** the option value as given */
  readonly arg: string;
  readonly optionName: string;
  readonly pages: number;
  /** always pages × 4096 (uWSGI rounds `size=` up to whole pages) */
  readonly size: number;
  /** keys that were ignored (unknown keys, as uWSGI ignores them); the caller may log them */
  readonly warnings: readonly string[];
}

export interface FileSharedareaSpec {
  readonly kind: 'file';
  readonly arg: string;
  readonly optionName: string;
  readonly file: string;
  /** `size=` in bytes (not rounded), or null: use the file's current size */
  readonly size: number | null;
  readonly warnings: readonly string[];
}

export type SharedareaSpec = AnonymousSharedareaSpec | FileSharedareaSpec;

const UNSUPPORTED_KEYS: Readonly<Record<string, string>> = {
  fd: 'maps an already open file descriptor',
  ptr: 'names a raw memory address (ignored by uWSGI 2.0 itself)',
  offset: 'sets an mmap offset into a file or fd',
};

function needSize(optionName: string, arg: string, why: string): UwsgiError {
  return new UwsgiError(
    'UWSGI_ERR_OPTION_VALUE',
    `${optionName}: you need to set a size for a sharedarea !!! [${arg}] (${why}; value ${echo(arg)})`,
  );
}

function parsePages(optionName: string, arg: string, what: string, text: string): number {
  if (!/^[0-9]+$/.test(text)) {
    throw needSize(optionName, arg, `${what} ${echo(text)} is not a decimal page count`);
  }
  const pages = Number(text);
  if (pages === 0) throw needSize(optionName, arg, `${what} is 0 pages`);
  if (pages * SHAREDAREA_PAGE_SIZE > SHAREDAREA_MAX_BYTES) {
    throw new UwsgiError(
      'UWSGI_ERR_OPTION_VALUE',
      `${optionName}: ${what} ${echo(text)} pages exceeds the uwsgi-ts limit of ${SHAREDAREA_MAX_BYTES / SHAREDAREA_PAGE_SIZE} pages (2 GiB) in ${echo(arg)}`,
    );
  }
  return pages;
}

function parseSize(optionName: string, arg: string, text: string): number {
  let n: number;
  if (/^0[xX][0-9a-fA-F]+$/.test(text)) n = parseInt(text.slice(2), 16);
  else if (/^[0-9]+$/.test(text)) n = Number(text);
  else {
    throw new UwsgiError(
      'UWSGI_ERR_OPTION_VALUE',
      `${optionName}: size=${echo(text)} is not a byte count (decimal or 0x hex, no unit suffix) in ${echo(arg)}`,
    );
  }
  if (n > SHAREDAREA_MAX_BYTES) {
    throw new UwsgiError(
      'UWSGI_ERR_OPTION_VALUE',
      `${optionName}: size=${echo(text)} exceeds the uwsgi-ts limit of ${SHAREDAREA_MAX_BYTES} bytes (2 GiB) in ${echo(arg)}`,
    );
  }
  return n;
}

/** Split `a=1,b=2` on unescaped commas; `\` escapes the next character (uWSGI kvlist). */
function splitItems(value: string): string[] {
  const items: string[] = [];
  let cur = '';
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    if (ch === '\\' && i + 1 < value.length) {
      cur += value[i + 1];
      i++;
    } else if (ch === ',') {
      items.push(cur);
      cur = '';
    } else {
      cur += ch;
    }
  }
  items.push(cur);
  return items;
}

export function parseSharedareaSpec(value: string, optionName = '--sharedarea'): SharedareaSpec {
  if (typeof value !== 'string') {
    throw new UwsgiError('UWSGI_ERR_OPTION_VALUE', `${optionName}: expected a string value, got ${echo(value)}`);
  }
  const arg = value;
  if (!value.includes('=')) {
    const pages = parsePages(optionName, arg, 'page count', value.trim());
    return { kind: 'anonymous', arg, optionName, pages, size: pages * SHAREDAREA_PAGE_SIZE, warnings: [] };
  }

  let pagesText: string | undefined;
  let sizeText: string | undefined;
  let file: string | undefined;
  const warnings: string[] = [];
  for (const item of splitItems(value)) {
    const eq = item.indexOf('=');
    if (eq < 0) {
      warnings.push(`${optionName}: ignored item ${echo(item)} without '=' in ${echo(arg)}`);
      continue;
    }
    const key = item.slice(0, eq);
    const v = item.slice(eq + 1);
    if (key in UNSUPPORTED_KEYS) {
      throw new UwsgiError(
        'UWSGI_ERR_OPTION_VALUE',
        `${optionName}: ${key}= is not supported by uwsgi-ts (it ${UNSUPPORTED_KEYS[key]}; threads share SharedArrayBuffers, not mappings) in ${echo(arg)}; use pages=, size= or file=PATH`,
      );
    }
    if (key === 'pages') pagesText = v;
    else if (key === 'size') sizeText = v;
    else if (key === 'file') file = v;
    else warnings.push(`${optionName}: ignored unknown key ${echo(key)} in ${echo(arg)}`);
  }

  const size = sizeText === undefined ? null : parseSize(optionName, arg, sizeText);

  if (file !== undefined) {
    if (file === '') {
      throw new UwsgiError('UWSGI_ERR_OPTION_VALUE', `${optionName}: file= needs a path in ${echo(arg)}`);
    }
    if (pagesText !== undefined) {
      throw new UwsgiError(
        'UWSGI_ERR_OPTION_VALUE',
        `${optionName}: pages=${echo(pagesText)} cannot be combined with file= (a file-backed area is sized by size= or by the file) in ${echo(arg)}`,
      );
    }
    if (size === 0) throw needSize(optionName, arg, 'size=0');
    return { kind: 'file', arg, optionName, file, size, warnings };
  }

  // Resolution order of spec §2.2: pages from size (rounded up), then pages= overrides.
  let pages = size === null ? 0 : Math.ceil(size / SHAREDAREA_PAGE_SIZE);
  if (pagesText !== undefined) pages = parsePages(optionName, arg, 'pages=', pagesText);
  if (pages === 0) throw needSize(optionName, arg, size === null ? 'no pages= or size=' : 'size=0');
  return { kind: 'anonymous', arg, optionName, pages, size: pages * SHAREDAREA_PAGE_SIZE, warnings };
}
