/**
 * Task farm round trips (`npm run bench:task-farm [rounds]`, builds first), three paths to
 * one piscina pool of one thread running `echo(i)`, interleaved per round:
 *   A. raw piscina `pool.run()` in this process (the floor);
 *   B. `runInFarm()` in the master thread (an embedding program: straight to the pool);
 *   C. `runInFarm()` in a worker thread: a request on its task port to the master, which
 *      runs the task and answers on the port (two extra postMessage hops).
 * Each path: lockstep calls → p50/p99 µs; then pipelined calls with 64 in flight → calls/s.
 * Prints the median (min–max) over the rounds and the ratios to raw piscina. Short on
 * purpose (a few seconds): read ratios within one run; absolute figures move with load.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadavg } from 'node:os';
import { Piscina } from 'piscina';
import { start, runInFarm } from 'uwsgi-ts';
import { measure, type MeasureResult } from './fixtures/task-measure.mjs';
import { srcNewerThan } from './lib/dist-check.js';
import { fmtSpread, median, table } from './lib/stats.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ECHO = path.join(ROOT, 'bench', 'fixtures', 'task-echo.mjs');
const APP = path.join(ROOT, 'bench', 'fixtures', 'task-bench-app.mjs');
const ROUNDS = Number(process.argv[2] ?? 3);
const OPTS = { lockstep: 3000, warmup: 500, pipelined: 20_000, inFlight: 64 };

async function main(): Promise<void> {
  const stale = srcNewerThan(ROOT, path.join(ROOT, 'dist', 'master', 'task-farms.js'));
  if (stale) throw new Error(`dist/ is older than ${stale}: run npm run build (npm run bench:task-farm does)`);
  const rt = await start({ module: APP, 'http-socket': ['127.0.0.1:0'], workers: 1, 'disable-logging': true, 'task-farm': [`name=echo,file=${ECHO},threads=1`] });
  const port = rt.addresses[0].port!;
  const q = new URLSearchParams(Object.entries(OPTS).map(([key, v]): [string, string] => [key, String(v)])).toString();
  // One raw pool for every round: destroying a pool right before a measurement makes the next
  // one pay for the thread's teardown (on this 2-core VM, 13 → 85 µs p50 for ~0.2 s).
  const raw = new Piscina({ filename: ECHO, name: 'echo', minThreads: 1, maxThreads: 1 });
  const load = [loadavg()[0]];
  const res: Record<'raw' | 'master' | 'worker', MeasureResult[]> = { raw: [], master: [], worker: [] };
  try {
    for (let r = 0; r < ROUNDS; r++) {
      res.raw.push(await measure((i) => raw.run(i), OPTS));
      res.master.push(await measure((i) => runInFarm('echo', 'echo', i), OPTS));
      const w = await fetch(`http://127.0.0.1:${port}/measure?${q}`);
      res.worker.push(await w.json() as MeasureResult);
      load.push(loadavg()[0]);
    }
  } finally {
    await Promise.all([rt.stop(), raw.destroy()]);
  }
  const us = (x: number): string => x.toFixed(1);
  const k = (x: number): string => `${(x / 1000).toFixed(1)}k`;
  const rawP50 = median(res.raw.map((x) => x.p50));
  const rawRate = median(res.raw.map((x) => x.perSecond));
  const rows: string[][] = [['path', 'p50 µs', 'p99 µs', 'calls/s (64 in flight)', 'p50 / raw', 'calls/s / raw']];
  for (const [name, xs] of [['raw piscina run()', res.raw], ['runInFarm, master', res.master], ['runInFarm, worker', res.worker]] as const) {
    rows.push([name, fmtSpread(xs.map((x) => x.p50), us), fmtSpread(xs.map((x) => x.p99), us), fmtSpread(xs.map((x) => x.perSecond), k),
      `${(median(xs.map((x) => x.p50)) / rawP50).toFixed(2)}x`, `${(median(xs.map((x) => x.perSecond)) / rawRate).toFixed(2)}x`]);
  }
  process.stdout.write(`task farm round trips, ${ROUNDS} rounds of ${OPTS.lockstep} lockstep + ${OPTS.pipelined} pipelined calls (node ${process.version}, load ${load.map((l) => l.toFixed(1)).join(' → ')})\n`);
  process.stdout.write(table(rows) + '\n');
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
