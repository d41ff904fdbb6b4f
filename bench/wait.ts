/**
 * Millisecond-wait precision: error = actual − requested, for 1, 5 and 20 ms waits.
 *
 *   npx tsx bench/wait.ts [--rounds N] [--per-round N]
 *
 * Each cell gets ROUNDS × max(per-round, 200 ms / wait) samples (1 ms: 1,000;
 * 5 and 20 ms: 200 by default). p99 is over all samples of a cell; the last
 * column is the median (min–max) of the per-round p99s, to show run-to-run drift.
 *
 * Peers, interleaved in one run (round after round, each wait length, each peer):
 *   native sync   waits.waitMilliseconds (timerfd + read), in a worker thread
 *   native async  waits.waitMillisecondsAsync (timerfd watched by uv_poll), main thread
 *   Atomics.wait  the pure-JS sync fallback, in a worker thread
 *   setTimeout    plain setTimeout(fn, ms), main thread
 * Only one peer runs at a time. Reference (benchmarking.md, 2-core VM, Node 20):
 * 1 ms p99 error — setTimeout 0.76 ms · Atomics.wait 0.37 ms · timerfd 0.17 ms.
 * Goal: native p99 error at 1 ms ≤ 0.25 ms and ≤ half of setTimeout's.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { nativeKind, nativeUnavailableReason, waits } from '../src/shared/native.js';

type Peer = 'native sync' | 'native async' | 'Atomics.wait' | 'setTimeout';
const PEERS: readonly Peer[] = ['native sync', 'native async', 'Atomics.wait', 'setTimeout'];
const LENGTHS = [1, 5, 20] as const;

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  return Number.isInteger(v) && v > 0 ? v : fallback;
}
const ROUNDS = flag('--rounds', 5);
const PER_ROUND = flag('--per-round', 40);
/** Samples per round for one wait length: at least PER_ROUND, and about 200 ms of waiting (1 ms → 200). */
const perRound = (ms: number): number => Math.max(PER_ROUND, Math.round(200 / ms));

// ---- the worker thread: blocking waits ----

const tsxCjsApi = createRequire(import.meta.url).resolve('tsx/cjs/api');
const nativeTs = fileURLToPath(new URL('../src/shared/native.ts', import.meta.url));
const fallbackTs = fileURLToPath(new URL('../src/shared/native-fallback.ts', import.meta.url));
const workerSource = `
require(${JSON.stringify(tsxCjsApi)}).register();
const { waits } = require(${JSON.stringify(nativeTs)});
const { waitMillisecondsAtomics } = require(${JSON.stringify(fallbackTs)});
const { parentPort } = require('node:worker_threads');
parentPort.on('message', ({ peer, ms, n }) => {
  const wait = peer === 'native sync' ? waits.waitMilliseconds : waitMillisecondsAtomics;
  const errors = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    wait(ms);
    errors[i] = performance.now() - t0 - ms;
  }
  parentPort.postMessage(errors);
});
`;

function inWorker(w: Worker, peer: Peer, ms: number, n: number): Promise<Float64Array> {
  return new Promise((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
    w.postMessage({ peer, ms, n });
  });
}

// ---- main-thread peers ----

async function nativeAsync(ms: number, n: number): Promise<Float64Array> {
  const errors = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await waits.waitMillisecondsAsync(ms);
    errors[i] = performance.now() - t0 - ms;
  }
  return errors;
}

async function plainTimeout(ms: number, n: number): Promise<Float64Array> {
  const errors = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await new Promise<void>((r) => setTimeout(r, ms));
    errors[i] = performance.now() - t0 - ms;
  }
  return errors;
}

// ---- statistics ----

interface Stats {
  n: number;
  mean: number;
  p50: number;
  p99: number;
  min: number;
  max: number;
}

function stats(samples: number[]): Stats {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number): number => s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
  return {
    n: s.length,
    mean: s.reduce((a, b) => a + b, 0) / s.length,
    p50: at(0.5),
    p99: at(0.99),
    min: s[0],
    max: s[s.length - 1],
  };
}

const f3 = (x: number): string => x.toFixed(3).padStart(8);

async function main(): Promise<void> {
  if (nativeKind !== 'native') {
    console.log(`native addon not in use (${nativeUnavailableReason()}): native rows measure the fallback`);
  }
  const worker = new Worker(workerSource, { eval: true });
  const samples = new Map<string, number[]>();
  const roundP99 = new Map<string, number[]>();
  const key = (peer: Peer, ms: number): string => `${peer}@${ms}`;
  const started = performance.now();
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const ms of LENGTHS) {
        for (const peer of PEERS) {
          const n = perRound(ms);
          let errors: Float64Array;
          if (peer === 'native sync' || peer === 'Atomics.wait') errors = await inWorker(worker, peer, ms, n);
          else if (peer === 'native async') errors = await nativeAsync(ms, n);
          else errors = await plainTimeout(ms, n);
          const list = samples.get(key(peer, ms)) ?? [];
          list.push(...errors);
          samples.set(key(peer, ms), list);
          const rp = roundP99.get(key(peer, ms)) ?? [];
          rp.push(stats([...errors]).p99);
          roundP99.set(key(peer, ms), rp);
        }
      }
      process.stderr.write(`round ${round + 1}/${ROUNDS} done\n`);
    }
  } finally {
    await worker.terminate();
  }

  console.log(
    `\nwait error = actual − requested, in ms (${ROUNDS} interleaved rounds; samples per cell: ` +
      `${LENGTHS.map((ms) => `${ms} ms ${ROUNDS * perRound(ms)}`).join(', ')}; ` +
      `${process.version}, ${((performance.now() - started) / 1000).toFixed(1)} s)\n`,
  );
  console.log(
    `${'peer'.padEnd(14)}${'wait'.padStart(6)}${'mean'.padStart(9)}${'p50'.padStart(9)}${'p99'.padStart(9)}` +
      `${'min'.padStart(9)}${'max'.padStart(9)}   p99 per round: median (min–max)`,
  );
  const table = new Map<string, Stats>();
  for (const ms of LENGTHS) {
    for (const peer of PEERS) {
      const st = stats(samples.get(key(peer, ms)) ?? []);
      table.set(key(peer, ms), st);
      const rounds = stats(roundP99.get(key(peer, ms)) ?? []);
      console.log(
        `${peer.padEnd(14)}${`${ms} ms`.padStart(6)} ${f3(st.mean)} ${f3(st.p50)} ${f3(st.p99)} ${f3(st.min)} ${f3(st.max)}` +
          `   ${rounds.p50.toFixed(3)} (${rounds.min.toFixed(3)}–${rounds.max.toFixed(3)})`,
      );
    }
  }
  const p99 = (peer: Peer): number => table.get(key(peer, 1))?.p99 ?? Number.NaN;
  const timeoutP99 = p99('setTimeout');
  console.log('\nat 1 ms, p99 error ratio to setTimeout:');
  for (const peer of ['native sync', 'native async', 'Atomics.wait'] as const) {
    console.log(`  ${peer.padEnd(13)} ${(p99(peer) / timeoutP99).toFixed(2)}  (${p99(peer).toFixed(3)} / ${timeoutP99.toFixed(3)} ms)`);
  }
  for (const peer of ['native sync', 'native async'] as const) {
    const ok = p99(peer) <= 0.25 && p99(peer) <= timeoutP99 / 2;
    console.log(`goal (${peer}: p99 ≤ 0.25 ms and ≤ half of setTimeout's): ${ok ? 'met' : 'NOT met'}`);
  }
}

await main();
