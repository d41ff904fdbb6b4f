/**
 * Run wrk and parse its report (`--latency` for the percentiles).
 * The child is always killed: on its own bounded timeout, or by killChildren() on exit.
 */
import { spawn } from 'node:child_process';
import { track } from './peers.js';

export interface WrkOptions {
  readonly url: string;
  readonly threads: number;
  readonly connections: number;
  readonly durationS: number;
  readonly headers?: readonly string[];
  /** wrk's own per-request timeout (s). */
  readonly timeoutS?: number;
}

export interface WrkResult {
  readonly rps: number;
  readonly requests: number;
  readonly seconds: number;
  readonly latencyAvgMs: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly errors: { connect: number; read: number; write: number; timeout: number };
  readonly non2xx: number;
  readonly raw: string;
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "1.23ms" → 1.23; "850.00us" → 0.85. */
export function parseDurationMs(s: string): number {
  const m = /^([\d.]+)(us|ms|s|m|h)$/.exec(s.trim());
  return m ? Number(m[1]) * UNIT_MS[m[2]] : NaN;
}

export function parseWrk(raw: string): WrkResult {
  const num = (re: RegExp): number => {
    const m = re.exec(raw);
    return m ? Number(m[1]) : NaN;
  };
  const dur = (re: RegExp): number => {
    const m = re.exec(raw);
    return m ? parseDurationMs(m[1]) : NaN;
  };
  const reqs = /(\d+) requests in ([\d.]+)(us|ms|s|m)/.exec(raw);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(raw);
  return {
    rps: num(/Requests\/sec:\s+([\d.]+)/),
    requests: reqs ? Number(reqs[1]) : NaN,
    seconds: reqs ? parseDurationMs(reqs[2] + reqs[3]) / 1000 : NaN,
    latencyAvgMs: dur(/^\s*Latency\s+(\S+)/m),
    p50Ms: dur(/^\s*50%\s+(\S+)/m),
    p90Ms: dur(/^\s*90%\s+(\S+)/m),
    p99Ms: dur(/^\s*99%\s+(\S+)/m),
    errors: sock
      ? { connect: Number(sock[1]), read: Number(sock[2]), write: Number(sock[3]), timeout: Number(sock[4]) }
      : { connect: 0, read: 0, write: 0, timeout: 0 },
    non2xx: num(/Non-2xx or 3xx responses:\s+(\d+)/) || 0,
    raw,
  };
}

export function runWrk(o: WrkOptions): Promise<WrkResult> {
  const args = ['-t', String(o.threads), '-c', String(o.connections), '-d', `${o.durationS}s`, '--latency'];
  if (o.timeoutS) args.push('--timeout', `${o.timeoutS}s`);
  for (const h of o.headers ?? []) args.push('-H', h);
  args.push(o.url);
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const untrack = track(child, 'wrk');
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    // Bounded: wrk stops itself after durationS; kill it if it has not after +15 s.
    const timer = setTimeout(() => child.kill('SIGKILL'), (o.durationS + 15) * 1000);
    child.on('error', (e) => {
      clearTimeout(timer);
      untrack();
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      untrack();
      if (code !== 0) {
        reject(new Error(`wrk ${args.join(' ')} exited ${signal ?? code}: ${err.trim() || out.trim()}`));
        return;
      }
      const r = parseWrk(out);
      if (!Number.isFinite(r.rps)) reject(new Error(`cannot parse wrk output:\n${out}`));
      else resolve(r);
    });
  });
}
