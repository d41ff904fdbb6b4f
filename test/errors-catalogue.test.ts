// One error catalogue: every code in src/shared/errors.ts is documented in docs/errors.md,
// every documented code exists, every code the source raises is in the catalogue, and
// the exported type is the catalogue's key set (fastify-style, both ways).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { ERROR_CATALOGUE, UwsgiError, isUwsgiError, echo, type UwsgiErrorCode } from '../src/shared/errors.js';
import { ROOT } from './helpers/cli.js';

const CODE = /\bUWSGI_ERR_[A-Z0-9]+(?:_[A-Z0-9]+)*\b/g;
const catalogue = new Set(Object.keys(ERROR_CATALOGUE));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

test('docs/errors.md lists exactly the catalogue', () => {
  const doc = readFileSync(path.join(ROOT, 'docs', 'errors.md'), 'utf8');
  const documented = new Set([...doc.matchAll(/^\| `(UWSGI_ERR_[A-Z0-9_]+)` \|/gm)].map((m) => m[1]));
  for (const c of catalogue) assert.ok(documented.has(c), `${c} is missing from docs/errors.md`);
  for (const c of documented) assert.ok(catalogue.has(c), `docs/errors.md lists ${c}, which is not in the catalogue`);
});

test('every code used in src/ is in the catalogue', () => {
  for (const file of sourceFiles(path.join(ROOT, 'src'))) {
    for (const m of readFileSync(file, 'utf8').matchAll(CODE)) {
      assert.ok(catalogue.has(m[0]), `${path.relative(ROOT, file)} uses ${m[0]}, which is not in the catalogue`);
    }
  }
});

test('the exported type is the catalogue key set', () => {
  const codes: UwsgiErrorCode[] = Object.keys(ERROR_CATALOGUE) as UwsgiErrorCode[];
  const e = new UwsgiError(codes[0], 'x');
  assert.ok(isUwsgiError(e));
  assert.not.ok(isUwsgiError(Object.assign(new Error('x'), { code: 'ENOENT' })));
  // the compiled declaration names the type from the catalogue
  const dts = readFileSync(path.join(ROOT, 'dist', 'shared', 'errors.d.ts'), 'utf8');
  assert.match(dts, /export type UwsgiErrorCode = keyof typeof ERROR_CATALOGUE;/);
});

test('echo() quotes and bounds user values', () => {
  assert.is(echo('abc'), '"abc"');
  assert.is(echo(5), '"5"');
  assert.ok(echo('x'.repeat(1000)).length < 220);
  assert.is(echo(new Uint8Array(3)), '"<3 bytes>"');
});

test.run();
