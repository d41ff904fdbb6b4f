/**
 * Sharedarea hot path: the uwsgi-ts API vs raw Atomics / Uint8Array.set on the same
 * SharedArrayBuffer vs real uWSGI's python `uwsgi.sharedarea_*` calls, interleaved over
 * ROUNDS rounds; medians with min–max, and the ratios API/raw and API/uWSGI.
 *
 *   npm run bench:sharedarea               (builds, then ROUNDS=5 OPS=5000000 by default)
 *
 * The API is the built product's (dist/, compiled ESM, as an app imports it): see
 * bench/lib/dist-check.ts for why not src/ through tsx.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import type * as SharedareaModule from '../src/shared/sharedarea.js';
import { srcNewerThan } from './lib/dist-check.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BUILT = path.join(ROOT, 'dist', 'shared', 'sharedarea.js');
const stale = srcNewerThan(ROOT, BUILT);
if (stale) console.log(`WARNING: ${stale} is newer than dist/: the bench runs the last build (npm run build)`);
const { attachSharedareas, createSharedareas, parseSharedareaSpec, sharedarea: sa } = (await import(BUILT)) as typeof SharedareaModule;

const ROUNDS = Math.max(3, Number(process.env.ROUNDS ?? 5));
const OPS = Math.max(100_000, Number(process.env.OPS ?? 5_000_000));
const PY_OPS = 1_000_000;

attachSharedareas(createSharedareas([parseSharedareaSpec('1')]));
const view = sa.memoryview(0);
const sab = view.buffer as SharedArrayBuffer;
const b64 = new BigInt64Array(sab);
const u8 = new Uint8Array(sab);
const src = new Uint8Array(64).fill(0x5a);
let sink: bigint = 0n;

type Case = { name: string; run: (n: number) => void };

const cases: Case[] = [
  { name: 'api inc64', run: (n) => { for (let i = 0; i < n; i++) sa.inc64(0, 0); } },
  { name: 'raw Atomics.add', run: (n) => { for (let i = 0; i < n; i++) Atomics.add(b64, 0, 1n); } },
  { name: 'api read64', run: (n) => { let s = 0n; for (let i = 0; i < n; i++) s = sa.read64(0, 8); sink ^= s; } },
  { name: 'raw Atomics.load', run: (n) => { let s = 0n; for (let i = 0; i < n; i++) s = Atomics.load(b64, 1); sink ^= s; } },
  { name: 'api write 64 B', run: (n) => { for (let i = 0; i < n; i++) sa.write(0, 64, src); } },
  { name: 'raw Uint8Array.set', run: (n) => { for (let i = 0; i < n; i++) u8.set(src, 64); } },
];

function opsPerSec(c: Case): number {
  const t0 = process.hrtime.bigint();
  c.run(OPS);
  const dt = Number(process.hrtime.bigint() - t0) / 1e9;
  return OPS / dt;
}

const PY = `import uwsgi, time, json
N = ${PY_OPS}
data = b'x' * 64
def inc():
    f = uwsgi.sharedarea_inc64
    for _ in range(N): f(0, 0)
def rd():
    f = uwsgi.sharedarea_read64
    for _ in range(N): f(0, 8)
def wr():
    f = uwsgi.sharedarea_write
    for _ in range(N): f(0, 64, data)
def inc_attr():
    for _ in range(N): uwsgi.sharedarea_inc64(0, 0)
def rd_attr():
    for _ in range(N): uwsgi.sharedarea_read64(0, 8)
def wr_attr():
    for _ in range(N): uwsgi.sharedarea_write(0, 64, data)
def bench(fn):
    t = time.perf_counter(); fn(); return N / (time.perf_counter() - t)
print("SA_RESULT " + json.dumps({"inc64": bench(inc), "read64": bench(rd), "write": bench(wr),
  "inc64_attr": bench(inc_attr), "read64_attr": bench(rd_attr), "write_attr": bench(wr_attr)}), flush=True)
`;

type PyResult = { inc64: number; read64: number; write: number; inc64_attr: number; read64_attr: number; write_attr: number };

function runUwsgi(dir: string): PyResult | string {
  const script = join(dir, 'sa_bench.py');
  writeFileSync(script, PY);
  const r = spawnSync('uwsgi', ['--plugin', 'python3', '--sharedarea', '1', '--pyrun', script, '--disable-logging', '--die-on-term'], {
    encoding: 'utf8', timeout: 120_000,
  });
  if (r.error) return `uwsgi did not run: ${r.error.message}`;
  const line = `${r.stdout}\n${r.stderr}`.split('\n').find((l) => l.startsWith('SA_RESULT '));
  if (line === undefined) return `uwsgi printed no SA_RESULT line (exit ${r.status}): ${r.stderr.slice(-400)}`;
  return JSON.parse(line.slice('SA_RESULT '.length)) as PyResult;
}

function stats(xs: number[]): { med: number; min: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  return { med: s[Math.floor(s.length / 2)], min: s[0], max: s[s.length - 1] };
}
const M = (x: number): string => `${(x / 1e6).toFixed(1)}M`;

// warm-up (JIT) on a fraction of the op count
for (const c of cases) c.run(Math.floor(OPS / 10));

const samples = new Map<string, number[]>();
const add = (k: string, v: number): void => { samples.set(k, [...(samples.get(k) ?? []), v]); };
const dir = mkdtempSync(join(tmpdir(), 'uwsgi-ts-sa-bench-'));
let uwsgiNote: string | null = null;
try {
  for (let round = 0; round < ROUNDS; round++) {
    for (const c of cases) add(c.name, opsPerSec(c));
    const py = runUwsgi(dir);
    if (typeof py === 'string') uwsgiNote = py;
    else {
      add('uWSGI py inc64', py.inc64);
      add('uWSGI py read64', py.read64);
      add('uWSGI py write 64 B', py.write);
      add('uWSGI py.attr inc64', py.inc64_attr);
      add('uWSGI py.attr read64', py.read64_attr);
      add('uWSGI py.attr write 64 B', py.write_attr);
    }
    process.stdout.write(`round ${round + 1}/${ROUNDS} done\n`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

console.log(`\nsharedarea hot path, ${OPS} ops per JS sample, ${PY_OPS} per uWSGI sample, ${ROUNDS} rounds (node ${process.version})`);
console.log('case                        median ops/s   (min–max)');
for (const [k, v] of samples) {
  const s = stats(v);
  console.log(`${k.padEnd(27)} ${M(s.med).padStart(8)}       (${M(s.min)}–${M(s.max)})`);
}
const med = (k: string): number => stats(samples.get(k) ?? [NaN]).med;
const pairs: Array<[string, string, string]> = [
  ['inc64', 'api inc64', 'raw Atomics.add'],
  ['read64', 'api read64', 'raw Atomics.load'],
  ['write 64 B', 'api write 64 B', 'raw Uint8Array.set'],
];
const ratio = (a: string, b: string): string => (samples.has(a) && samples.has(b) ? (med(a) / med(b)).toFixed(2) + '×' : 'n/a');
console.log('\nratios of medians       API/raw   API/uWSGI(local f)   API/uWSGI(uwsgi.attr)');
for (const [label, api, raw] of pairs) {
  console.log(`${label.padEnd(22)} ${ratio(api, raw).padStart(7)}   ${ratio(api, `uWSGI py ${label}`).padStart(18)}   ${ratio(api, `uWSGI py.attr ${label}`).padStart(21)}`);
}
console.log('uWSGI(local f): python loop calling a local alias f = uwsgi.sharedarea_*; uWSGI(uwsgi.attr): calling uwsgi.sharedarea_*(...) directly');
if (uwsgiNote !== null) console.log(`\nuWSGI: ${uwsgiNote}`);
if (sink === 42n) console.log('');
