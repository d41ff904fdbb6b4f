/**
 * HTTP hello world under wrk: uwsgi-ts against node:cluster, a single-thread server and
 * real uWSGI, all in one run, interleaved.
 *
 *   npm run bench:http -- [--duration S] [--rounds N] [--connections N]
 *                         [--only name,name] [--scenarios keepalive,close]
 *                         [--wrk-threads N] [--json FILE]
 *
 * Contenders (--only takes these names, or a prefix such as "uwsgi-ts" or "cluster"):
 *   uwsgi-ts-dup        node dist/cli.js --workers 2 --accept-mode dup (native dup() per thread)
 *   uwsgi-ts-dup-nodehttp  the same with --http-engine node (Node's http.Server instead of the own engine)
 *   uwsgi-ts-reuseport  --accept-mode reuseport (only on Node >= 22.12)
 *   uwsgi-ts-proxy      --accept-mode proxy (master accepts, bytes forwarded over MessagePorts)
 *   cluster-default     node:cluster, 2 workers, default (round-robin hand-over) scheduling
 *   cluster-none        node:cluster, 2 workers, NODE_CLUSTER_SCHED_POLICY=none
 *   single              one http.Server on one thread
 *   net-floor           not an HTTP server: node:cluster ×2 (SCHED_POLICY=none) of raw `net` servers
 *                       answering each request head with a prebuilt response; the ceiling for
 *                       any Node HTTP server on this machine (bench/fixtures/net-floor.mjs)
 *   uwsgi               real uWSGI + python3 hello world (--wsgi-file, generated in a temp dir)
 *                       keep-alive: --http11-socket --processes 2 --threads 32
 *                       close:      --http-socket --processes 2
 * Node contenders serve bench/fixtures/hello.mjs; uwsgi-ts runs with --disable-logging.
 *
 * Scenarios: keep-alive (wrk -t2 -cN, default 64) and Connection: close (same, with
 * -H 'Connection: close'). Each (round, scenario, contender) starts a fresh server, waits
 * until it answers, runs the keep-alive starvation probe (keep-alive only: N connections
 * looping requests for 1 s, counts connections with >= 1 answer), warms up 1 s with wrk,
 * then times `--duration` seconds, reading the server's CPU from /proc (the whole process
 * tree for cluster and uWSGI; per thread for uwsgi-ts) before and after the timed run.
 * Order: round 1: keep-alive A B C …, close A B C …; round 2: the same; ….
 * Report: median (min–max) over rounds, and ratios of medians with the per-round ratio range.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { runWrk, type WrkResult } from './lib/wrk.js';
import { launchPeer, freePort, installCleanup, killChildren, type Peer, type PeerSpec } from './lib/peers.js';
import { keepAliveProbe, type ProbeResult } from './lib/http-client.js';
import { treeCpu, threadCpu, cpuDelta, systemCpu, selfCpu } from './lib/proc.js';
import { srcNewerThan } from './lib/dist-check.js';
import { median, minMax, fmtRate, fmtMs, fmtSpread, table, markdownTable } from './lib/stats.js';

// ---- options ----

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  if (i >= 0) return process.argv[i + 1];
  const eq = process.argv.find((a) => a.startsWith(`${name}=`));
  return eq?.slice(name.length + 1);
}
function intFlag(name: string, fallback: number, min: number, max: number): number {
  const raw = argValue(name);
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (!Number.isFinite(v) || v < min || v > max) {
    console.error(`${name} ${raw}: expected a number in [${min}, ${max}]`);
    process.exit(2);
  }
  return v;
}
if (process.argv.includes('--help') || process.argv.includes('-h')) {
  const src = fileURLToPath(import.meta.url);
  console.log(`usage: tsx ${path.relative(process.cwd(), src)} [--duration S] [--rounds N] [--connections N] [--only name,name] [--scenarios keepalive,close] [--wrk-threads N] [--json FILE]`);
  process.exit(0);
}
const DURATION = intFlag('--duration', 5, 1, 120);
const ROUNDS = intFlag('--rounds', 3, 1, 20);
const CONNECTIONS = intFlag('--connections', 64, 1, 1000);
const WRK_THREADS = Math.min(intFlag('--wrk-threads', 2, 1, 16), CONNECTIONS);
const WARMUP_S = 1;
const PROBE_MS = 1000;
const JSON_OUT = argValue('--json');

type Scenario = 'keepalive' | 'close';
const SCENARIO_LABEL: Record<Scenario, string> = { keepalive: 'keep-alive', close: 'Connection: close' };
const scenarios = (argValue('--scenarios') ?? 'keepalive,close').split(',').map((s) => s.trim()).filter(Boolean) as Scenario[];
for (const s of scenarios) {
  if (s !== 'keepalive' && s !== 'close') {
    console.error(`--scenarios: unknown scenario ${JSON.stringify(s)} (keepalive, close)`);
    process.exit(2);
  }
}

// ---- contenders ----

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const cli = path.join(root, 'dist', 'cli.js');
const fixtures = path.join(here, 'fixtures');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'uwsgi-ts-bench-http-'));
const wsgiFile = path.join(tmp, 'hello.py');
writeFileSync(wsgiFile, [
  '# WSGI hello world for bench/http.ts. Content-Length lets --http11-socket keep the connection alive.',
  'def application(environ, start_response):',
  "    start_response('200 OK', [('Content-Type', 'text/plain'), ('Content-Length', '11')])",
  "    return [b'Hello World']",
  '',
].join('\n'));

function reusePortSupported(v = process.versions.node): boolean {
  const [maj, min] = v.split('.').map(Number);
  return maj > 23 || (maj === 23 && min >= 1) || (maj === 22 && min >= 12);
}

interface Contender {
  readonly name: string;
  readonly what: string;
  /** One process with threads (per-thread CPU is reported), or a process tree. */
  readonly threaded: boolean;
  /** Worker count, to split per-thread CPU into main / workers / other. */
  readonly workers: number;
  spec(scenario: Scenario, port: number): PeerSpec;
  /** Check the startup output (e.g. the accept mode the CLI chose). */
  verify?(output: string): void;
}

function uwsgiTs(mode: 'dup' | 'reuseport' | 'proxy', engine: 'uwsgi-ts' | 'node' = 'uwsgi-ts'): Contender {
  const name = `uwsgi-ts-${mode}${engine === 'node' ? '-nodehttp' : ''}`;
  return {
    name,
    what: `uwsgi-ts --workers 2 --accept-mode ${mode} --disable-logging${engine === 'node' ? ' --http-engine node' : ''}`,
    threaded: true,
    workers: 2,
    spec: (_s, port) => ({
      name,
      command: process.execPath,
      args: [cli, '--http-socket', `127.0.0.1:${port}`, '--workers', '2', '--module', path.join(fixtures, 'hello.mjs'),
        '--disable-logging', '--accept-mode', mode, '--http-engine', engine],
      port,
      readyLine: /uwsgi-ts is ready/,
      stopGraceMs: 3000,
    }),
    verify(output) {
      const m = /\(accept mode (\w+)\)/.exec(output);
      if (!m || m[1] !== mode) throw new Error(`${name}: startup log says accept mode ${m?.[1] ?? '?'}`);
    },
  };
}

function cluster(policy: 'default' | 'none'): Contender {
  return {
    name: `cluster-${policy}`,
    what: `node:cluster ×2, ${policy === 'none' ? 'NODE_CLUSTER_SCHED_POLICY=none' : 'default scheduling (primary hands connections over)'}`,
    threaded: false,
    workers: 2,
    spec: (_s, port) => ({
      name: `cluster-${policy}`,
      command: process.execPath,
      args: [path.join(fixtures, 'cluster.mjs'), String(port), '2'],
      env: { NODE_CLUSTER_SCHED_POLICY: policy === 'none' ? 'none' : undefined },
      port,
      readyLine: /^READY cluster/m,
    }),
    verify(output) {
      const want = policy === 'none' ? 'none' : 'rr';
      if (!output.includes(`policy=${want}`)) throw new Error(`cluster-${policy}: primary reports ${/policy=\w+/.exec(output)?.[0] ?? 'no policy'}`);
    },
  };
}

const ALL: Contender[] = [
  uwsgiTs('dup'),
  uwsgiTs('dup', 'node'),
  ...(reusePortSupported() ? [uwsgiTs('reuseport')] : []),
  uwsgiTs('proxy'),
  cluster('default'),
  cluster('none'),
  {
    name: 'single',
    what: 'one http.Server, one thread',
    threaded: true,
    workers: 1,
    spec: (_s, port) => ({
      name: 'single',
      command: process.execPath,
      args: [path.join(fixtures, 'single.mjs'), String(port)],
      port,
      readyLine: /^READY single/m,
    }),
  },
  {
    name: 'net-floor',
    what: 'not HTTP: node:cluster ×2 (SCHED_POLICY=none) of raw net servers writing a prebuilt response per request head',
    threaded: false,
    workers: 2,
    spec: (_s, port) => ({
      name: 'net-floor',
      command: process.execPath,
      args: [path.join(fixtures, 'net-floor.mjs'), String(port), '2'],
      port,
      readyLine: /^READY net-floor/m,
    }),
  },
  {
    name: 'uwsgi',
    what: 'uWSGI + python3: keep-alive --http11-socket --processes 2 --threads 32; close --http-socket --processes 2',
    threaded: false,
    workers: 2,
    spec: (scenario, port) => ({
      name: 'uwsgi',
      command: 'uwsgi',
      args: [
        '--plugin', 'python3',
        ...(scenario === 'keepalive'
          ? ['--http11-socket', `127.0.0.1:${port}`, '--processes', '2', '--threads', '32']
          : ['--http-socket', `127.0.0.1:${port}`, '--processes', '2']),
        '--wsgi-file', wsgiFile, '--disable-logging', '--die-on-term',
      ],
      port,
      readyLine: /spawned uWSGI worker 2/,
    }),
  },
];

const onlyArg = argValue('--only');
let contenders = ALL;
if (onlyArg) {
  const wanted = onlyArg.split(',').map((s) => s.trim()).filter(Boolean);
  for (const w of wanted) {
    if (!ALL.some((c) => c.name === w || c.name.startsWith(w))) {
      const skipped = w === 'uwsgi-ts-reuseport' ? ` (needs Node >= 22.12; this is ${process.versions.node})` : '';
      console.error(`--only: no contender ${JSON.stringify(w)}${skipped}; known: ${ALL.map((c) => c.name).join(', ')}`);
      process.exit(2);
    }
  }
  // An exact name selects that contender only; anything else is a prefix ("uwsgi-ts", "cluster").
  contenders = ALL.filter((c) => wanted.some((w) => c.name === w || (!ALL.some((x) => x.name === w) && c.name.startsWith(w))));
}

// ---- one measured run ----

interface ThreadSplit { main: number; workers: number[]; other: number }

interface RunRecord {
  round: number;
  scenario: Scenario;
  contender: string;
  probe?: ProbeResult;
  wrk?: Omit<WrkResult, 'raw'>;
  cpuS?: number;
  /** wrk's CPU during the timed run. */
  clientCpuS?: number;
  /** CPU used on the machine by anything else (other users' jobs) during the timed run, and steal time. */
  otherCpuS?: number;
  stealS?: number;
  threads?: ThreadSplit;
  error?: string;
}

function splitThreads(pid: number, before: Map<number, { comm: string; cpu: number }>, after: Map<number, { comm: string; cpu: number }>, workers: number): ThreadSplit {
  let main = 0;
  const others: number[] = [];
  for (const [tid, a] of after) {
    const d = a.cpu - (before.get(tid)?.cpu ?? 0);
    if (tid === pid) main = d;
    else others.push(d);
  }
  others.sort((x, y) => y - x);
  const top = others.slice(0, workers);
  const other = others.slice(workers).reduce((s, x) => s + x, 0);
  return { main, workers: top, other };
}

async function measure(c: Contender, scenario: Scenario, round: number): Promise<RunRecord> {
  const rec: RunRecord = { round, scenario, contender: c.name };
  let peer: Peer | undefined;
  try {
    const port = await freePort();
    peer = await launchPeer(c.spec(scenario, port));
    c.verify?.(peer.output());
    const url = `http://127.0.0.1:${port}/`;
    const headers = scenario === 'close' ? ['Connection: close'] : [];
    if (scenario === 'keepalive') rec.probe = await keepAliveProbe(port, CONNECTIONS, PROBE_MS);
    await runWrk({ url, threads: WRK_THREADS, connections: CONNECTIONS, durationS: WARMUP_S, headers });
    const treeBefore = treeCpu(peer.pid);
    const thrBefore = c.threaded ? threadCpu(peer.pid) : undefined;
    const sys0 = systemCpu();
    const self0 = selfCpu();
    const r = await runWrk({ url, threads: WRK_THREADS, connections: CONNECTIONS, durationS: DURATION, headers });
    const sys1 = systemCpu();
    const self1 = selfCpu();
    const treeAfter = treeCpu(peer.pid);
    if (thrBefore) rec.threads = splitThreads(peer.pid, thrBefore, threadCpu(peer.pid), c.workers);
    rec.cpuS = cpuDelta(treeBefore, treeAfter);
    rec.clientCpuS = self1.reapedChildren - self0.reapedChildren;
    // Foreign load: process time (user+nice+system) on the machine beyond the server, wrk and
    // this script. irq/softirq are left out: loopback TCP work done while a core idles lands
    // there and belongs to the benchmark. Per-process tick accounting can also absorb softirq
    // ticks, so this errs low: it flags clear foreign load (other people's jobs), not all of it.
    const procBusy = (sys1.busy - sys1.irq) - (sys0.busy - sys0.irq);
    rec.otherCpuS = Math.max(0, procBusy - rec.cpuS - rec.clientCpuS - (self1.self - self0.self));
    rec.stealS = sys1.steal - sys0.steal;
    const { raw: _raw, ...rest } = r;
    rec.wrk = rest;
  } catch (e) {
    rec.error = (e as Error).message;
  } finally {
    await peer?.stop();
  }
  return rec;
}

/** Other processes (or the hypervisor) took more than 15% of one core during the timed run. */
const NOISE_LIMIT = 0.15;
function noisy(r: RunRecord): boolean {
  const secs = r.wrk && Number.isFinite(r.wrk.seconds) ? r.wrk.seconds : DURATION;
  return ((r.otherCpuS ?? 0) + (r.stealS ?? 0)) / secs > NOISE_LIMIT;
}

function describeRun(r: RunRecord): string {
  const head = `[round ${r.round} ${SCENARIO_LABEL[r.scenario].padEnd(17)}] ${r.contender.padEnd(18)}`;
  if (r.error) return `${head} ERROR ${r.error}`;
  const w = r.wrk!;
  const parts: string[] = [];
  if (r.probe) {
    const p = r.probe;
    parts.push(`probe ${p.answered}/${p.connections} answered (${p.minPerConn}–${p.maxPerConn} per conn${p.closedByServer ? `, ${p.closedByServer} closed by server` : ''})`);
  }
  parts.push(`${fmtRate(w.rps).padStart(6)} req/s`, `p99 ${fmtMs(w.p99Ms)}`);
  const secs = Number.isFinite(w.seconds) ? w.seconds : DURATION;
  parts.push(`cpu ${r.cpuS!.toFixed(2)} s (${Math.round((r.cpuS! / secs) * 100)}%)`);
  parts.push(`wrk ${r.clientCpuS!.toFixed(2)} s`);
  if (noisy(r)) parts.push(`NOISY: other load ${r.otherCpuS!.toFixed(2)} s, steal ${r.stealS!.toFixed(2)} s`);
  if (r.threads) {
    const t = r.threads;
    parts.push(`threads: main ${t.main.toFixed(2)} · ${t.workers.map((x) => x.toFixed(2)).join(' / ')} · other ${t.other.toFixed(2)}`);
  }
  const e = w.errors;
  const errs = e.connect + e.read + e.write + e.timeout;
  if (errs || w.non2xx) parts.push(`errors c${e.connect} r${e.read} w${e.write} t${e.timeout} non2xx ${w.non2xx}`);
  return `${head} ${parts.join('  ')}`;
}

// ---- report ----

const records: RunRecord[] = [];
const ok = (s: Scenario, name: string): RunRecord[] => records.filter((r) => r.scenario === s && r.contender === name && !r.error);
const rpsOf = (s: Scenario, name: string): number[] => ok(s, name).map((r) => r.wrk!.rps);

function summaryRows(s: Scenario): string[][] {
  const rows: string[][] = [['contender', 'req/s median (min–max)', 'p99 median (min–max)', 'server CPU', 'req per CPU-s', 'probe answered', 'errors', 'noisy runs']];
  for (const c of contenders) {
    const rs = ok(s, c.name);
    const failed = records.filter((r) => r.scenario === s && r.contender === c.name && r.error).length;
    if (rs.length === 0) {
      rows.push([c.name, failed ? `failed ×${failed}` : '—', '—', '—', '—', '—', '—', '—']);
      continue;
    }
    const cpuPct = rs.map((r) => (r.cpuS! / (Number.isFinite(r.wrk!.seconds) ? r.wrk!.seconds : DURATION)) * 100);
    const perCpu = rs.map((r) => r.wrk!.requests / r.cpuS!);
    const probes = rs.filter((r) => r.probe).map((r) => r.probe!);
    const probeCell = probes.length ? `${Math.min(...probes.map((p) => p.answered))}/${probes[0].connections} (worst)` : 'n/a';
    const errs = rs.reduce((sum, r) => {
      const e = r.wrk!.errors;
      return sum + e.connect + e.read + e.write + e.timeout + r.wrk!.non2xx;
    }, 0);
    rows.push([
      c.name,
      fmtSpread(rs.map((r) => r.wrk!.rps), fmtRate),
      fmtSpread(rs.map((r) => r.wrk!.p99Ms), fmtMs),
      `${Math.round(median(cpuPct))}%`,
      fmtRate(median(perCpu)),
      probeCell,
      `${errs}${failed ? ` (+${failed} failed runs)` : ''}`,
      String(rs.filter(noisy).length),
    ]);
  }
  return rows;
}

interface Ratio { label: string; s: Scenario; a: string; b: string; goal?: number }

const RATIOS: Ratio[] = [];
for (const mode of ['dup', 'reuseport', 'proxy']) {
  const a = `uwsgi-ts-${mode}`;
  const g = (x: number): number | undefined => (mode === 'dup' ? x : undefined);
  RATIOS.push(
    { label: `keep-alive ${a} / cluster-default`, s: 'keepalive', a, b: 'cluster-default', goal: g(1.05) },
    { label: `keep-alive ${a} / uwsgi`, s: 'keepalive', a, b: 'uwsgi', goal: g(1.5) },
    { label: `close ${a} / cluster-default`, s: 'close', a, b: 'cluster-default', goal: g(2.0) },
    { label: `close ${a} / cluster-none`, s: 'close', a, b: 'cluster-none', goal: g(1.0) },
    { label: `close ${a} / uwsgi`, s: 'close', a, b: 'uwsgi' },
  );
}
RATIOS.push(
  { label: 'keep-alive cluster-default / single', s: 'keepalive', a: 'cluster-default', b: 'single' },
  { label: 'keep-alive uwsgi-ts-dup / single', s: 'keepalive', a: 'uwsgi-ts-dup', b: 'single' },
  { label: 'keep-alive engine: uwsgi-ts-dup / uwsgi-ts-dup-nodehttp', s: 'keepalive', a: 'uwsgi-ts-dup', b: 'uwsgi-ts-dup-nodehttp' },
  { label: 'close engine: uwsgi-ts-dup / uwsgi-ts-dup-nodehttp', s: 'close', a: 'uwsgi-ts-dup', b: 'uwsgi-ts-dup-nodehttp' },
  { label: 'close uwsgi-ts-dup / single', s: 'close', a: 'uwsgi-ts-dup', b: 'single' },
  // the ceiling: what a Node process that does no HTTP at all reaches against the same peers
  { label: 'keep-alive net-floor / uwsgi (ceiling for Node)', s: 'keepalive', a: 'net-floor', b: 'uwsgi' },
  { label: 'keep-alive uwsgi-ts-dup / net-floor', s: 'keepalive', a: 'uwsgi-ts-dup', b: 'net-floor' },
  { label: 'close net-floor / uwsgi (ceiling for Node)', s: 'close', a: 'net-floor', b: 'uwsgi' },
);

function ratioRows(): string[][] {
  const rows: string[][] = [['ratio', 'of medians', 'per round (min–max)', 'goal', 'verdict']];
  for (const r of RATIOS) {
    const a = rpsOf(r.s, r.a);
    const b = rpsOf(r.s, r.b);
    if (a.length === 0 || b.length === 0) continue;
    const ratio = median(a) / median(b);
    const paired: number[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const x = ok(r.s, r.a).find((q) => q.round === round);
      const y = ok(r.s, r.b).find((q) => q.round === round);
      if (x && y) paired.push(x.wrk!.rps / y.wrk!.rps);
    }
    const [lo, hi] = minMax(paired);
    rows.push([
      r.label,
      `${ratio.toFixed(2)}×`,
      paired.length > 1 ? `${lo.toFixed(2)}–${hi.toFixed(2)}×` : '—',
      r.goal !== undefined ? `≥ ${r.goal.toFixed(2)}×` : '(report)',
      r.goal !== undefined ? (ratio >= r.goal ? 'MET' : 'MISSED') : '',
    ]);
  }
  return rows;
}

/** First line a tool prints for its version (wrk -v exits 1 after printing it). */
function toolVersion(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 5000 });
  if (r.error) return `unavailable (${r.error.message})`;
  return `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n')[0];
}

// ---- main ----

async function main(): Promise<void> {
  installCleanup();
  if (contenders.some((c) => c.name.startsWith('uwsgi-ts')) && !existsSync(cli)) {
    console.error(`${path.relative(process.cwd(), cli)} is missing: run \`npm run build\` first`);
    process.exit(2);
  }
  const stale = srcNewerThan(root, cli);
  const cpus = os.cpus();
  console.log(`bench/http.ts — ${new Date().toISOString()}`);
  console.log(`machine: ${cpus.length} × ${cpus[0]?.model ?? '?'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()}`);
  console.log(`node ${process.versions.node} · ${toolVersion('wrk', ['-v']).replace(/ Copyright.*/, '')} · uWSGI ${toolVersion('uwsgi', ['--version'])}`);
  console.log(`wrk -t${WRK_THREADS} -c${CONNECTIONS} -d${DURATION}s --latency (warm-up ${WARMUP_S} s; keep-alive probe ${PROBE_MS} ms over ${CONNECTIONS} connections) · ${ROUNDS} rounds · scenarios ${scenarios.join(', ')}`);
  if (!reusePortSupported()) console.log(`uwsgi-ts-reuseport skipped: Node ${process.versions.node} < 22.12`);
  if (stale) console.log(`WARNING: ${stale} is newer than dist/cli.js: uwsgi-ts runs the last build (npm run build)`);
  console.log('contenders:');
  for (const c of contenders) console.log(`  ${c.name.padEnd(18)} ${c.what}`);
  const runs = ROUNDS * scenarios.length * contenders.length;
  const perRun = DURATION + WARMUP_S + 1.5;
  console.log(`${runs} runs, about ${Math.round((runs * perRun + runs * 0.5) / 60)} min\n`);

  const t0 = Date.now();
  for (let round = 1; round <= ROUNDS; round++) {
    for (const s of scenarios) {
      for (const c of contenders) {
        const rec = await measure(c, s, round);
        records.push(rec);
        console.log(describeRun(rec));
      }
    }
  }
  const elapsed = (Date.now() - t0) / 1000;

  console.log(`\n==== results: median (min–max) over ${ROUNDS} rounds, ${DURATION} s each, ${CONNECTIONS} connections; ${elapsed.toFixed(0)} s total ====`);
  for (const s of scenarios) {
    console.log(`\n${SCENARIO_LABEL[s]}\n${table(summaryRows(s))}`);
  }
  const ratios = ratioRows();
  if (ratios.length > 1) console.log(`\nratios (req/s)\n${table(ratios)}`);
  const noisyRuns = records.filter((r) => !r.error && noisy(r)).length;
  if (noisyRuns) console.log(`\n${noisyRuns} of ${records.length} runs were NOISY: other processes or steal took > ${NOISE_LIMIT * 100}% of a core during the timed run; compare ratios with care, or rerun on a quiet machine.`);
  console.log('\nserver CPU: user+system seconds of the server during the timed run (process tree for cluster/uWSGI), as % of one core; req per CPU-s = requests / server CPU-seconds.');

  if (JSON_OUT) {
    writeFileSync(JSON_OUT, JSON.stringify({
      date: new Date().toISOString(), node: process.versions.node, cpus: cpus.length, cpuModel: cpus[0]?.model,
      duration: DURATION, rounds: ROUNDS, connections: CONNECTIONS, wrkThreads: WRK_THREADS, records,
      markdown: {
        ...Object.fromEntries(scenarios.map((s) => [s, markdownTable(summaryRows(s))])),
        ratios: markdownTable(ratios),
      },
    }, null, 2));
    console.log(`raw results written to ${JSON_OUT}`);
  }
}

main()
  .catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  })
  .finally(() => {
    killChildren();
    rmSync(tmp, { recursive: true, force: true });
  });
