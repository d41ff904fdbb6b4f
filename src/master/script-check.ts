/**
 * Syntax check of `--mule FILE` scripts in the master, before any thread starts, without
 * running them: a script mule imports its module only after it reported ready (its code
 * is the program), so a syntax error would otherwise surface as a respawn loop after a
 * "successful" start. JavaScript files are checked by `node --check` (V8's own parser,
 * module type decided as import() decides it); TypeScript files by the esbuild transform
 * tsx itself runs when the mule loads them (same loader, CommonJS output, node target),
 * so a file that passes here is one tsx will compile.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { UwsgiError, echo } from '../shared/errors.js';
import { log } from '../shared/log-writer.js';

const TS_EXT = new Set(['.ts', '.mts', '.cts']);
const checked = new Map<string, string | undefined>();

interface Esbuild { transformSync(code: string, o: Record<string, unknown>): unknown }
let esbuild: Esbuild | undefined;

function loadEsbuild(): Esbuild {
  // tsx's own esbuild (resolved from tsx's location), the one that compiles the file in the mule.
  const fromHere = createRequire(import.meta.url);
  return esbuild ??= createRequire(fromHere.resolve('tsx/package.json'))('esbuild') as Esbuild;
}

/** The syntax error of `file`, or undefined when it parses. */
function syntaxError(file: string): string | undefined {
  if (TS_EXT.has(path.extname(file))) {
    try {
      loadEsbuild().transformSync(readFileSync(file, 'utf8'), {
        loader: 'ts', format: 'cjs', platform: 'node', target: `node${process.versions.node}`, sourcefile: file,
      });
      return undefined;
    } catch (e) {
      return e instanceof Error ? e.message : String(e);
    }
  }
  const r = spawnSync(process.execPath, ['--check', file], { encoding: 'utf8', timeout: 30_000 });
  if (r.error || r.status === null) {
    // Could not run the check (not a verdict on the file): the mule's own load reports any error.
    log.line(`--mule ${echo(file)}: syntax check skipped (node --check could not run: ${r.error?.message ?? `signal ${r.signal}`})`);
    return undefined;
  }
  if (r.status === 0) return undefined;
  return r.stderr.split('\n').filter((l) => l.trim() !== '' && !/^\s+at /.test(l) && !/^Node\.js v/.test(l)).join('\n');
}

/** Throws UWSGI_ERR_MULE_SPEC naming the --mule value when the script does not parse. */
export function checkMuleScript(value: string, file: string): void {
  if (!checked.has(file)) checked.set(file, syntaxError(file));
  const err = checked.get(file);
  if (err !== undefined) throw new UwsgiError('UWSGI_ERR_MULE_SPEC', `--mule ${echo(value)}: ${echo(file)} has a syntax error:\n${err}`);
}
