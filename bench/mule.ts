/**
 * Mule message benchmark (`npx tsx bench/mule.ts [rounds]`), three peers interleaved per
 * round (spec benchmarking.md):
 *   A. uwsgi-ts: two threads with the real mule API (mule 1 pings mule 2, which echoes
 *      back with muleMsg(m, 1)) over the SharedArrayBuffer queues;
 *   B. raw postMessage between two threads (MessageChannel), same pattern;
 *   C. real uWSGI 2.0: two python mules, `uwsgi.mule_msg` / `uwsgi.mule_get_msg`.
 * Each peer runs: lockstep round trips (64-byte message, there and back, one at a time)
 * → p50/p99 µs; then pipelined: 1,000 messages in flight, round trips per second.
 * Prints the median (min–max) of each figure over the rounds, then the ratios, and the
 * load average before, during and after (the figures move by 10× with the machine's load:
 * compare ratios within one run only).
 */
import { Worker } from 'node:worker_threads';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir, loadavg, cpus } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createMuleQueues } from '../src/shared/mule-queues.js';
import { srcNewerThan } from './lib/dist-check.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PEER = path.join(ROOT, 'bench', 'fixtures', 'mule-peer.mjs');
const ROUNDS = Number(process.argv[2] ?? 3);
/**
 * Lockstep round trips per round, of which the first WARMUP are discarded for every peer:
 * the Node peers' hot functions are compiled by V8 (TurboFan, on a background thread) in the
 * first few thousand round trips, and a JIT or warm-up tail is not the steady-state latency
 * the goal compares (measured: over the first 5,000 round trips the p99 moves by 3×).
 */
const LOCKSTEP = 25_000;
const WARMUP = 5_000;
/** Round trips timed with 1,000 in flight: long enough (≥ 0.1 s for every peer) that JIT warm-up and one scheduler hiccup do not set the figure. */
const PIPELINED = 200_000;
const IN_FLIGHT = 1000;

/** warmP99: the p99 of the discarded warm-up round trips, printed per round so the warm-up cost stays visible. */
interface Result { p50: number; p99: number; warmP99: number; perSecond: number; note?: string }

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

function summarize(lat: number[], perSecond: number, note?: string): Result {
  const s = lat.slice(WARMUP).sort((a, b) => a - b);
  const warm = lat.slice(0, WARMUP).sort((a, b) => a - b);
  return { p50: percentile(s, 0.5), p99: percentile(s, 0.99), warmP99: percentile(warm, 0.99), perSecond, note };
}

function once<T>(w: Worker, what: string, timeoutMs = 120_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what}: timed out`)), timeoutMs);
    w.once('message', (m: T & { error?: string }) => { clearTimeout(t); if (m.error) reject(new Error(m.error)); else resolve(m); });
    w.once('error', (e) => { clearTimeout(t); reject(e); });
  });
}

async function uwsgiTs(): Promise<Result> {
  const init = createMuleQueues({ count: 2, msgSize: 65536, maxMessages: 1024, farms: [] });
  // The built product (dist/, ESM), as a deployment runs it: see bench/lib/dist-check.ts.
  const boot = (role: string): Worker => new Worker(PEER, { workerData: { role, init, lockstep: LOCKSTEP, pipelined: PIPELINED, inFlight: IN_FLIGHT } });
  const echo = boot('echo');
  const pinger = boot('pinger');
  const r = await once<{ lat: number[]; perSecond: number }>(pinger, 'uwsgi-ts pinger');
  await Promise.all([echo.terminate(), pinger.terminate()]);
  return summarize(r.lat, r.perSecond);
}

const RAW_ECHO = `
const { parentPort } = require('node:worker_threads');
parentPort.once('message', ({ port }) => { port.on('message', (m) => port.postMessage(m)); });`;
const RAW_PINGER = `
const { parentPort, workerData } = require('node:worker_threads');
parentPort.once('message', async ({ port }) => {
  let wake = null;
  let onMsg = () => {};
  port.on('message', (m) => onMsg(m));
  const payload = new Uint8Array(64).fill(1);
  const lat = [];
  for (let i = 0; i < workerData.count; i++) {
    const t0 = process.hrtime.bigint();
    await new Promise((r) => { onMsg = r; port.postMessage(payload); });
    lat.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  const total = workerData.pipelined;
  let sent = 0, received = 0;
  const t0 = process.hrtime.bigint();
  await new Promise((done) => {
    onMsg = () => {
      received++;
      if (sent < total) { port.postMessage(payload); sent++; }
      if (received === total) done();
    };
    while (sent < ${IN_FLIGHT}) { port.postMessage(payload); sent++; }
  });
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  parentPort.postMessage({ lat, perSecond: total / secs });
});`;

async function rawPostMessage(): Promise<Result> {
  const { MessageChannel } = await import('node:worker_threads');
  const ch = new MessageChannel();
  const echo = new Worker(RAW_ECHO, { eval: true });
  const pinger = new Worker(RAW_PINGER, { eval: true, workerData: { count: LOCKSTEP, pipelined: PIPELINED } });
  echo.postMessage({ port: ch.port1 }, [ch.port1]);
  pinger.postMessage({ port: ch.port2 }, [ch.port2]);
  const r = await once<{ lat: number[]; perSecond: number }>(pinger, 'raw pinger');
  await Promise.all([echo.terminate(), pinger.terminate()]);
  return summarize(r.lat, r.perSecond);
}

const PY_PINGER = (out: string): string => `
import uwsgi, time, json
payload = b'x' * 64
lat = []
for i in range(${LOCKSTEP}):
    t0 = time.perf_counter_ns()
    uwsgi.mule_msg(payload, 2)
    uwsgi.mule_get_msg()
    lat.append((time.perf_counter_ns() - t0) / 1000.0)
total = ${PIPELINED}
sent = 0
received = 0
depth = 0
t0 = time.perf_counter_ns()
while sent < ${IN_FLIGHT}:
    if not uwsgi.mule_msg(payload, 2):
        break
    sent += 1
depth = sent
while received < total:
    uwsgi.mule_get_msg()
    received += 1
    if sent < total:
        while not uwsgi.mule_msg(payload, 2):
            uwsgi.mule_get_msg()
            received += 1
        sent += 1
secs = (time.perf_counter_ns() - t0) / 1e9
with open(${JSON.stringify(out)} + '.tmp', 'w') as f:
    json.dump({'lat': lat, 'perSecond': received / secs, 'depth': depth}, f)
import os
os.rename(${JSON.stringify(out)} + '.tmp', ${JSON.stringify(out)})
while True:
    time.sleep(1)
`;

const PY_ECHO = `
import uwsgi, time
while True:
    m = uwsgi.mule_get_msg()
    while not uwsgi.mule_msg(m, 1):
        time.sleep(0.0001)
`;

function haveUwsgi(): boolean {
  return spawnSync('uwsgi', ['--version'], { encoding: 'utf8' }).status === 0;
}

async function realUwsgi(): Promise<Result> {
  const dir = mkdtempSync(path.join(tmpdir(), 'uwsgi-mule-bench-'));
  const out = path.join(dir, 'result.json');
  writeFileSync(path.join(dir, 'a.py'), PY_PINGER(out));
  writeFileSync(path.join(dir, 'b.py'), PY_ECHO);
  const child = spawn('uwsgi', ['--plugin', 'python3', '--master', '--mule=a.py', '--mule=b.py', '--die-on-term', '--disable-logging',
    '--http-socket', '127.0.0.1:0'], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => { err = (err + d.toString()).slice(-4000); });
  try {
    for (let i = 0; i < 1200 && !existsSync(out); i++) {
      if (child.exitCode !== null) throw new Error(`uwsgi exited (${child.exitCode}):\n${err}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    if (!existsSync(out)) throw new Error(`uwsgi bench produced no result in 120 s:\n${err}`);
    const r = JSON.parse(readFileSync(out, 'utf8')) as { lat: number[]; perSecond: number; depth: number };
    return summarize(r.lat, r.perSecond, r.depth < IN_FLIGHT ? `only ${r.depth} in flight fit in uWSGI's socket buffer` : undefined);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => { if (child.exitCode !== null) r(null); else child.once('exit', r); setTimeout(() => { child.kill('SIGKILL'); r(null); }, 5000); });
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (xs: number[], digits = 1): string => `${median(xs).toFixed(digits)} (${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)})`;

async function main(): Promise<void> {
  const stale = srcNewerThan(ROOT, path.join(ROOT, 'dist', 'shared', 'mule-api.js'));
  if (!existsSync(path.join(ROOT, 'dist', 'shared', 'mule-api.js'))) throw new Error('dist/ is missing: run npm run build first');
  if (stale) console.log(`WARNING: ${stale} is newer than dist/: the uwsgi-ts peer runs the last build (npm run build)`);
  const peers: Array<[string, () => Promise<Result>]> = [['uwsgi-ts mule queues', uwsgiTs], ['raw postMessage', rawPostMessage]];
  if (haveUwsgi()) peers.push(['real uWSGI mule_msg', realUwsgi]);
  else console.log('(uwsgi not found: real uWSGI peer skipped)');
  const results = new Map<string, Result[]>(peers.map(([n]) => [n, []]));
  const load = (): string => loadavg().map((x) => x.toFixed(2)).join(' ');
  const loadBefore = load();
  console.log(`${cpus().length} cores, load average ${loadBefore}`);
  for (let round = 1; round <= ROUNDS; round++) {
    console.log(`round ${round}: load average ${load()}`);
    for (const [name, run] of peers) {
      const r = await run();
      results.get(name)!.push(r);
      console.log(`round ${round} ${name}: p50 ${r.p50.toFixed(1)} µs, p99 ${r.p99.toFixed(1)} µs (warm-up p99 ${r.warmP99.toFixed(1)}), ${Math.round(r.perSecond)} round trips/s (1,000 in flight)${r.note ? ` [${r.note}]` : ''}`);
    }
  }
  console.log(`\nload average (1, 5, 15 min) before ${loadBefore}, after ${load()} on ${cpus().length} cores`);
  console.log(`lockstep ${LOCKSTEP} round trips (first ${WARMUP} discarded), pipelined ${PIPELINED} with ${IN_FLIGHT} in flight; median (min–max) of ${ROUNDS} rounds`);
  console.log('peer                      p50 µs               p99 µs                 round trips/s pipelined');
  for (const [name] of peers) {
    const rs = results.get(name)!;
    console.log(`${name.padEnd(26)}${fmt(rs.map((r) => r.p50)).padEnd(21)}${fmt(rs.map((r) => r.p99)).padEnd(23)}${fmt(rs.map((r) => r.perSecond), 0)}`);
  }
  const med = (name: string, k: keyof Result): number => median(results.get(name)!.map((r) => r[k] as number));
  const ts = 'uwsgi-ts mule queues';
  console.log(`\nratios (medians of this run):`);
  console.log(`  p50 uwsgi-ts / postMessage = ${(med(ts, 'p50') / med('raw postMessage', 'p50')).toFixed(2)} (goal ≤ 1.15)`);
  if (results.has('real uWSGI mule_msg')) {
    const u = 'real uWSGI mule_msg';
    console.log(`  p99 uwsgi-ts / uWSGI       = ${(med(ts, 'p99') / med(u, 'p99')).toFixed(2)} (goal ≤ 1.00)`);
    console.log(`  pipelined uwsgi-ts / uWSGI = ${(med(ts, 'perSecond') / med(u, 'perSecond')).toFixed(2)} (goal ≥ 3.00)`);
  }
  console.log(`  pipelined uwsgi-ts / postMessage = ${(med(ts, 'perSecond') / med('raw postMessage', 'perSecond')).toFixed(2)}`);
}

main().catch((e: unknown) => { console.error(e); process.exitCode = 1; });
