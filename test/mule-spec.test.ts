// The --mule value grammar (src/master/mule-spec.ts): every form, and every refusal names
// the option and echoes the value.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseMuleSpec, resolveMuleSpec } from '../src/master/mule-spec.js';
import { isUwsgiError } from '../src/shared/errors.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'mule-spec-'));
writeFileSync(path.join(dir, 'job.mjs'), 'export default function () {}\nexport function run() {}\n');
writeFileSync(path.join(dir, 'app.ts'), 'export function jobs() {}\n');
writeFileSync(path.join(dir, 'notes.txt'), 'hello\n');
mkdirSync(path.join(dir, 'pkg.mjs'));

function refused(fn: () => unknown, code: string, ...parts: string[]): void {
  try {
    fn();
  } catch (e) {
    assert.ok(isUwsgiError(e), String(e));
    assert.is(e.code, code);
    for (const p of parts) assert.ok(e.message.includes(p), `${JSON.stringify(e.message)} should include ${JSON.stringify(p)}`);
    return;
  }
  assert.unreachable('should have thrown');
}

test('grammar: every accepted form', () => {
  assert.equal(parseMuleSpec(''), { kind: 'loop' });
  assert.equal(parseMuleSpec('  '), { kind: 'loop' });
  assert.equal(parseMuleSpec('jobs()'), { kind: 'call', file: undefined, exportName: 'jobs' });
  assert.equal(parseMuleSpec('a/job.mjs:run()'), { kind: 'call', file: 'a/job.mjs', exportName: 'run' });
  assert.equal(parseMuleSpec('a/job.ts:run'), { kind: 'call', file: 'a/job.ts', exportName: 'run' });
  assert.equal(parseMuleSpec('job.mjs:default'), { kind: 'call', file: 'job.mjs', exportName: 'default' });
  assert.equal(parseMuleSpec('job.mjs:default()'), { kind: 'call', file: 'job.mjs', exportName: 'default' });
  for (const f of ['j.js', 'j.mjs', 'j.cjs', 'j.ts', 'j.mts', 'j.cts']) assert.equal(parseMuleSpec(f), { kind: 'script', file: f });
});

test('grammar: refusals name --mule and echo the value', () => {
  refused(() => parseMuleSpec('jobs.py'), 'UWSGI_ERR_MULE_SPEC', '--mule "jobs.py"', 'not a mule program');
  refused(() => parseMuleSpec('bad name()'), 'UWSGI_ERR_MULE_SPEC', '--mule "bad name()"', 'not a function name');
  refused(() => parseMuleSpec('notes.txt:fn()'), 'UWSGI_ERR_MULE_SPEC', '--mule "notes.txt:fn()"', 'not a JavaScript or TypeScript module');
  refused(() => parseMuleSpec('notes.txt:fn'), 'UWSGI_ERR_MULE_SPEC', '--mule "notes.txt:fn"', 'not a JavaScript or TypeScript module');
  refused(() => parseMuleSpec('job.mjs:1x'), 'UWSGI_ERR_MULE_SPEC', '--mule "job.mjs:1x"');
});

test('resolve: files must exist and be regular files', () => {
  assert.equal(resolveMuleSpec('job.mjs:default', undefined, dir), { kind: 'call', file: path.join(dir, 'job.mjs'), exportName: 'default' });
  assert.equal(resolveMuleSpec('jobs()', 'app.ts', dir), { kind: 'call', file: path.join(dir, 'app.ts'), exportName: 'jobs' });
  assert.equal(resolveMuleSpec('job.mjs', undefined, dir), { kind: 'script', file: path.join(dir, 'job.mjs') });
  refused(() => resolveMuleSpec('pkg.mjs', undefined, dir), 'UWSGI_ERR_MULE_SPEC', '--mule "pkg.mjs"', 'is a directory');
  refused(() => resolveMuleSpec('pkg.mjs:run()', undefined, dir), 'UWSGI_ERR_MULE_SPEC', 'is a directory');
  refused(() => resolveMuleSpec('missing.mjs:run()', undefined, dir), 'UWSGI_ERR_MULE_SPEC', '--mule "missing.mjs:run()"', 'no such file');
  refused(() => resolveMuleSpec('jobs()', undefined, dir), 'UWSGI_ERR_MULE_SPEC', 'no --module was given');
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
