#!/usr/bin/env node
// The README's test command (`npm test`): typecheck, build, build the native addon if
// needed, then run every test file in its own process (each with a time bound), and
// finally the files marked `@fallback-too` again with the native addon disabled
// (UWSGI_TS_NATIVE=0), so both paths are tested. The last line is `N passed, N failed`.
import { spawnSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const node = process.execPath;
const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const FILE_TIMEOUT_MS = Number(process.env.UWSGI_TS_TEST_TIMEOUT_MS ?? 240_000);
const only = process.argv.slice(2);

function step(name, args, opts = {}) {
  process.stdout.write(`# ${name}\n`);
  const r = spawnSync(node, args, { cwd: root, stdio: 'inherit', ...opts });
  if (r.status !== 0) {
    process.stdout.write(`# ${name} failed (exit ${r.status})\n0 passed, 1 failed\n`);
    process.exit(1);
  }
}

step('typecheck', [tsc, '-p', 'tsconfig.json', '--noEmit']);
step('build', [tsc, '-p', 'tsconfig.build.json']);
step('native addon', ['scripts/build-native.mjs']);

const files = readdirSync(path.join(root, 'test'))
  .filter((f) => f.endsWith('.test.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();
const runs = files.map((f) => ({ file: f, env: {} }));
for (const f of files) {
  if (readFileSync(path.join(root, 'test', f), 'utf8').includes('@fallback-too')) runs.push({ file: f, env: { UWSGI_TS_NATIVE: '0' } });
}

function runFile({ file, env }) {
  return new Promise((resolve) => {
    const label = file + (env.UWSGI_TS_NATIVE === '0' ? ' [fallback]' : '');
    process.stdout.write(`# ${label}\n`);
    const child = spawn(node, ['--import', 'tsx', path.join('test', file)], {
      cwd: root, env: { ...process.env, ...env, FORCE_COLOR: '0' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => { out += d; process.stdout.write(d); });
    child.stderr.on('data', (d) => { process.stderr.write(d); });
    const timer = setTimeout(() => {
      process.stdout.write(`# ${label}: timed out after ${FILE_TIMEOUT_MS} ms\n`);
      child.kill('SIGKILL');
    }, FILE_TIMEOUT_MS);
    child.on('exit', (code) => {
      clearTimeout(timer);
      const clean = out.replace(/\x1b\[[0-9;]*m/g, '');
      const total = Number(/Total:\s+(\d+)/.exec(clean)?.[1] ?? NaN);
      const passed = Number(/Passed:\s+(\d+)/.exec(clean)?.[1] ?? NaN);
      const skipped = Number(/Skipped:\s+(\d+)/.exec(clean)?.[1] ?? 0);
      if (Number.isNaN(total) || Number.isNaN(passed)) {
        resolve({ label, passed: 0, failed: 1 });
        return;
      }
      let failed = total - passed - skipped;
      if (code !== 0 && failed === 0) failed = 1;
      resolve({ label, passed, failed });
    });
  });
}

let passed = 0;
let failed = 0;
const bad = [];
for (const r of runs) {
  const res = await runFile(r);
  passed += res.passed;
  failed += res.failed;
  if (res.failed) bad.push(res.label);
}
if (bad.length) process.stdout.write(`# failing files: ${bad.join(', ')}\n`);
process.stdout.write(`${passed} passed, ${failed} failed\n`);
process.exit(failed ? 1 : 0);
