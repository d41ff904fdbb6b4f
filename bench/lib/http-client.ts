/**
 * A minimal raw HTTP/1.1 client for the benches: a readiness GET, and the keep-alive
 * starvation probe (benchmarking.md: wrk times only the requests that were answered,
 * so check that every connection gets answers).
 */
import net from 'node:net';

const REQUEST = Buffer.from('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', 'latin1');
const HEAD_END = Buffer.from('\r\n\r\n', 'latin1');
const CHUNK_END = Buffer.from('0\r\n\r\n', 'latin1');

/**
 * Consume complete responses from the front of buf. Returns [responses, rest, statuses].
 * Handles Content-Length and chunked bodies (hello-world sized); a response with neither
 * is delimited by close and is counted once its head is complete.
 */
export function takeResponses(buf: Buffer): { count: number; rest: Buffer; statuses: number[]; closeDelimited: boolean } {
  let count = 0;
  const statuses: number[] = [];
  let closeDelimited = false;
  for (let guard = 0; guard < 10_000; guard++) {
    const he = buf.indexOf(HEAD_END);
    if (he < 0) break;
    const head = buf.subarray(0, he).toString('latin1');
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
    const cl = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    let end: number;
    if (cl) {
      end = he + 4 + Number(cl[1]);
      if (buf.length < end) break;
    } else if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
      const ce = buf.indexOf(CHUNK_END, he + 4);
      if (ce < 0) break;
      end = ce + CHUNK_END.length;
    } else {
      count++;
      statuses.push(status);
      closeDelimited = true;
      buf = Buffer.alloc(0);
      break;
    }
    count++;
    statuses.push(status);
    buf = buf.subarray(end);
  }
  return { count, rest: buf, statuses, closeDelimited };
}

/** One GET / with `Connection: close`; resolves with the status of the first response. */
export function rawGet(port: number, timeoutMs: number): Promise<{ status: number }> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    let buf: Buffer = Buffer.alloc(0);
    const timer = setTimeout(() => { sock.destroy(); reject(new Error('timeout')); }, timeoutMs);
    sock.on('connect', () => sock.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n'));
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const r = takeResponses(buf);
      if (r.count > 0) {
        clearTimeout(timer);
        sock.destroy();
        resolve({ status: r.statuses[0] });
      }
    });
    sock.on('error', (e) => { clearTimeout(timer); reject(e); });
    sock.on('close', () => { clearTimeout(timer); reject(new Error('closed before a response')); });
  });
}

export interface ProbeResult {
  readonly connections: number;
  /** Connections that got at least one answer. */
  readonly answered: number;
  readonly responses: number;
  /** Fewest / most answers on one connection. */
  readonly minPerConn: number;
  readonly maxPerConn: number;
  /** Connections the server closed during the probe. */
  readonly closedByServer: number;
}

/**
 * Open `connections` keep-alive connections at once, and on each loop GET / for
 * `durationMs` (send the next request when the previous answer is complete). Bounded:
 * everything is destroyed at durationMs + 2 s at the latest.
 */
export function keepAliveProbe(port: number, connections: number, durationMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const counts = new Array<number>(connections).fill(0);
    const socks: net.Socket[] = [];
    let closedByServer = 0;
    let stopping = false;
    const start = Date.now();
    const stop = (): void => {
      if (stopping) return;
      stopping = true;
      clearTimeout(hard);
      clearTimeout(soft);
      for (const s of socks) s.destroy();
      const answered = counts.filter((c) => c > 0).length;
      resolve({
        connections,
        answered,
        responses: counts.reduce((a, b) => a + b, 0),
        minPerConn: Math.min(...counts),
        maxPerConn: Math.max(...counts),
        closedByServer,
      });
    };
    // Soft stop at durationMs (requests in flight then are not waited for); hard bound for safety.
    const soft = setTimeout(stop, durationMs);
    const hard = setTimeout(stop, durationMs + 2000);
    for (let i = 0; i < connections; i++) {
      const sock = net.connect({ host: '127.0.0.1', port });
      sock.setNoDelay(true);
      socks.push(sock);
      let buf: Buffer = Buffer.alloc(0);
      sock.on('connect', () => sock.write(REQUEST));
      sock.on('data', (d: Buffer) => {
        buf = buf.length ? Buffer.concat([buf, d]) : d;
        const r = takeResponses(buf);
        buf = r.rest;
        if (r.count > 0) {
          counts[i] += r.count;
          if (!stopping && !r.closeDelimited && Date.now() - start < durationMs) sock.write(REQUEST);
        }
      });
      sock.on('error', () => { /* counted through close */ });
      sock.on('close', () => { if (!stopping) closedByServer++; });
    }
  });
}
