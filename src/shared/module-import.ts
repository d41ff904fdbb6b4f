/**
 * Loading user modules (apps, mule scripts, symcall targets) in any thread.
 *
 * `.ts`, `.mts`, `.cts` files load through tsx's CommonJS hook, which works inside
 * worker threads on Node 20 (its ESM hooks do not reach worker threads there), so
 * TypeScript modules cannot use top-level await; `.js`, `.mjs`, `.cjs` load with the
 * native `import()`.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { UwsgiError, echo } from './errors.js';

export function splitModuleSpec(spec: string): { file: string; exportName: string } {
  // FILE[:EXPORT] — the export is a JS identifier after the last ':' (a Windows drive letter never applies here).
  const m = /^(.*):([A-Za-z_$][\w$]*)$/.exec(spec);
  if (m && m[1] !== '') return { file: m[1], exportName: m[2] };
  return { file: spec, exportName: 'default' };
}

const TS_EXT = new Set(['.ts', '.mts', '.cts', '.tsx']);
let tsxRegistered = false;

export async function importModule(file: string, option = 'module'): Promise<Record<string, unknown>> {
  if (!existsSync(file)) {
    throw new UwsgiError('UWSGI_ERR_APP_LOAD', `--${option} ${echo(file)}: no such file`);
  }
  const ext = path.extname(file);
  try {
    if (TS_EXT.has(ext)) {
      const require = createRequire(import.meta.url);
      if (!tsxRegistered) {
        (require('tsx/cjs/api') as { register(): unknown }).register();
        tsxRegistered = true;
      }
      const mod = require(file) as Record<string, unknown>;
      return mod;
    }
    return (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (e) {
    const msg = e instanceof Error ? (e.stack ?? e.message) : String(e);
    throw new UwsgiError('UWSGI_ERR_APP_LOAD', `--${option} ${echo(file)} failed to load: ${msg}`, { cause: e });
  }
}

