/**
 * Small HTTP clients for tests: `get()` over a fresh connection (undici's fetch would
 * pool connections and hide per-connection behaviour), and `rawRequest()` that writes
 * exact bytes and returns exactly what came back before the server closed.
 */
import net from 'node:net';
import http from 'node:http';

export interface SimpleResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export function request(port: number, pathName: string, opts: { method?: string; body?: string | Buffer; headers?: Record<string, string>; timeoutMs?: number; host?: string } = {}): Promise<SimpleResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: opts.host ?? '127.0.0.1', port, path: pathName, method: opts.method ?? 'GET',
      headers: { connection: 'close', ...opts.headers }, agent: false,
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.setTimeout(opts.timeoutMs ?? 10_000, () => req.destroy(new Error(`request ${pathName} timed out`)));
    req.on('error', reject);
    if (opts.body !== undefined) req.end(opts.body);
    else req.end();
  });
}

export const get = (port: number, pathName: string, timeoutMs?: number): Promise<SimpleResponse> => request(port, pathName, { timeoutMs });

/** Write `bytes`, collect everything until the server closes (or timeoutMs, then reject). */
export function rawRequest(target: number | string, bytes: Buffer | string, timeoutMs = 10_000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = typeof target === 'number' ? net.connect(target, '127.0.0.1') : net.connect(target);
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`raw request timed out; got so far: ${JSON.stringify(Buffer.concat(chunks).toString())}`));
    }, timeoutMs);
    sock.on('connect', () => sock.write(bytes));
    sock.on('data', (c) => chunks.push(c));
    sock.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ECONNRESET') return; // the close below reports what arrived
      clearTimeout(timer);
      reject(e);
    });
    sock.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
