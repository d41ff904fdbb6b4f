/**
 * The `--mule` value grammar (uwsgi-ts mapping of uWSGI's plugin "patches", mules.md §3),
 * closed: every value is one of these forms, anything else is refused.
 *
 * | value            | form                                               |
 * |------------------|----------------------------------------------------|
 * | (empty)          | `loop`: the message loop of a script-less mule      |
 * | `fn()`           | `call` of export `fn` of the app module (--module)  |
 * | `FILE:fn()`      | `call` of export `fn` of FILE                       |
 * | `FILE:fn`        | `call` of export `fn` of FILE (`FILE:default` too)  |
 * | `FILE`           | `script`: FILE is imported in the mule              |
 *
 * FILE must end in .js/.mjs/.cjs/.ts/.mts/.cts. `parseMuleSpec` is the pure grammar;
 * `resolveMuleSpec` adds the file checks the master makes before any thread starts
 * (exists, is a regular file, scripts parse). Whether the export exists and is a plain
 * function is checked where the module is loaded, in the first mule (the master never
 * runs app code).
 */
import path from 'node:path';
import { statSync } from 'node:fs';
import { UwsgiError, echo } from '../shared/errors.js';
import { splitModuleSpec } from '../shared/module-import.js';
import type { MuleProgram } from '../mule/mule-init.js';
import { checkMuleScript } from './script-check.js';

/** Extensions a mule program file may have. */
export const MULE_SCRIPT_EXT = /\.(?:m?js|cjs|m?ts|cts)$/;
const IDENT = /^[A-Za-z_$][\w$]*$/;

/** The syntactic form of one `--mule` value (no file-system access). */
export type MuleSpec =
  | { readonly kind: 'loop' }
  /** `fn()`: a function of the app module; `file` undefined. `FILE:fn()` / `FILE:fn`: of FILE. */
  | { readonly kind: 'call'; readonly file: string | undefined; readonly exportName: string }
  | { readonly kind: 'script'; readonly file: string };

function specError(value: string, why: string): UwsgiError {
  return new UwsgiError('UWSGI_ERR_MULE_SPEC', `--mule ${echo(value)}: ${why}`);
}

const NOT_A_PROGRAM = 'not a mule program (give a .js/.mjs/.cjs/.ts/.mts/.cts file, FILE:export, FILE:fn(), or fn() for a function of --module)';

function checkFileName(value: string, file: string): void {
  if (!MULE_SCRIPT_EXT.test(file)) {
    throw specError(value, `${echo(file)} is not a JavaScript or TypeScript module (.js/.mjs/.cjs/.ts/.mts/.cts); ${NOT_A_PROGRAM}`);
  }
}

/** Parse one `--mule` value into its form; throws UWSGI_ERR_MULE_SPEC naming the value. */
export function parseMuleSpec(value: string): MuleSpec {
  const v = value.trim();
  if (v === '') return { kind: 'loop' };
  if (v.endsWith('()')) {
    const inner = v.slice(0, -2);
    const colon = inner.lastIndexOf(':');
    const file = colon > 0 ? inner.slice(0, colon) : undefined;
    const name = colon > 0 ? inner.slice(colon + 1) : inner;
    if (!IDENT.test(name)) throw specError(value, `${echo(name)} is not a function name (give fn() or FILE:fn())`);
    if (file !== undefined) checkFileName(value, file);
    return { kind: 'call', file, exportName: name };
  }
  if (MULE_SCRIPT_EXT.test(v)) return { kind: 'script', file: v };
  const m = /^(.+):([A-Za-z_$][\w$]*)$/.exec(v);
  if (m) {
    checkFileName(value, m[1]);
    return { kind: 'call', file: m[1], exportName: m[2] };
  }
  throw specError(value, NOT_A_PROGRAM);
}

/** The absolute path of an existing regular file, or UWSGI_ERR_MULE_SPEC. */
function existingFile(value: string, file: string, cwd: string): string {
  const abs = path.resolve(cwd, file);
  const st = statSync(abs, { throwIfNoEntry: false });
  if (!st) throw specError(value, `no such file ${echo(abs)}`);
  if (!st.isFile()) throw specError(value, `${echo(abs)} is ${st.isDirectory() ? 'a directory' : 'not a regular file'}, not a module file`);
  return abs;
}

/** Parse and check one `--mule` value: files exist and are regular files, scripts parse. */
export function resolveMuleSpec(value: string, appModule: string | undefined, cwd: string): MuleProgram {
  const spec = parseMuleSpec(value);
  switch (spec.kind) {
    case 'loop':
      return spec;
    case 'script': {
      const file = existingFile(value, spec.file, cwd);
      checkMuleScript(value, file);
      return { kind: 'script', file };
    }
    case 'call': {
      if (spec.file !== undefined) return { kind: 'call', file: existingFile(value, spec.file, cwd), exportName: spec.exportName };
      if (!appModule) {
        throw specError(value, `a bare function name is looked up in the app module, but no --module was given (or write FILE:${spec.exportName}())`);
      }
      return { kind: 'call', file: existingFile(value, splitModuleSpec(appModule).file, cwd), exportName: spec.exportName };
    }
  }
}
