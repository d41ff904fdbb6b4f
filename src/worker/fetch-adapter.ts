/**
 * Runs a `fetch(Request) => Response` handler (Hono, or any WinterCG-style app) as a
 * Node `(req, res)` listener. The request body streams from the socket; the response
 * body streams back, with headers and the first chunk leaving together.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { UwsgiError, echo } from '../shared/errors.js';
import { log } from '../shared/log-writer.js';
import { workerId } from '../shared/thread-identity.js';

export type FetchHandler = (request: Request) => Response | Promise<Response>;

function requestFromNode(req: IncomingMessage): Request {
  const host = req.headers.host ?? 'localhost';
  const scheme = (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http';
  const url = `${scheme}://${host}${req.url ?? '/'}`;
  const headers = new Headers();
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) headers.append(raw[i], raw[i + 1]);
  const method = req.method ?? 'GET';
  const init: RequestInit & { duplex?: 'half' } = { method, headers };
  if (method !== 'GET' && method !== 'HEAD') {
    init.body = Readable.toWeb(req) as unknown as ReadableStream<Uint8Array>;
    init.duplex = 'half';
  }
  return new Request(url, init);
}

/** A status whose response has no body (RFC 9110): no Content-Length is added to it. */
const bodyless = (status: number): boolean => status < 200 || status === 204 || status === 304;

function asBuffer(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

async function sendResponse(response: Response, res: ServerResponse): Promise<void> {
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, key) => {
    if (key !== 'set-cookie') headers[key] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length) headers['set-cookie'] = cookies;
  const status = response.status;
  const statusText = response.statusText || undefined;
  if (!response.body) {
    res.writeHead(status, statusText, headers);
    res.end();
    return;
  }
  const reader = response.body.getReader();
  const first = await reader.read();
  const next = first.done ? first : await reader.read();
  if (next.done) {
    // the whole body is known before the head is written (a string, JSON, a buffer): it
    // goes out with a Content-Length, not chunked, head and body in one write, as Node's
    // own res.end(body) sends it
    const body = first.done ? null : asBuffer(first.value);
    if (headers['content-length'] === undefined && headers['transfer-encoding'] === undefined && !bodyless(status)) {
      headers['content-length'] = String(body === null ? 0 : body.length);
    }
    res.writeHead(status, statusText, headers);
    res.end(body);
    return;
  }
  res.writeHead(status, statusText, headers);
  await streamBody(reader, first.value, next, res);
}

/**
 * A streamed body: each part as it comes, with backpressure. If the client goes away (the
 * response closes unfinished), the stream is cancelled at once, even while a read is
 * pending: the app's `cancel(reason)` runs with a UWSGI_ERR_CLIENT_GONE error, its
 * producer stops, and nothing waits for a 'drain' that will never come.
 */
async function streamBody(reader: ReadableStreamDefaultReader<Uint8Array>, first: Uint8Array, next: ReadResult, res: ServerResponse): Promise<void> {
  const flow: StreamFlow = { reader, res, gone: false, sent: 0, wake: null };
  const onClose = clientGone.bind(undefined, flow);
  res.once('close', onClose);
  try {
    if (res.destroyed) {
      clientGone(flow);
      return;
    }
    flow.sent += first.byteLength;
    res.write(first);
    let more = next;
    while (!more.done && !flow.gone) {
      flow.sent += more.value.byteLength;
      if (!res.write(more.value) && !flow.gone) {
        await new Promise<void>((r) => {
          flow.wake = r;
          res.once('drain', r);
        });
        flow.wake = null;
        if (flow.gone) return;
      }
      more = await reader.read();
    }
    if (!flow.gone) res.end();
  } finally {
    res.off('close', onClose);
  }
}

type ReadResult = Awaited<ReturnType<ReadableStreamDefaultReader<Uint8Array>['read']>>;

interface StreamFlow {
  readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly res: ServerResponse;
  gone: boolean;
  /** body bytes handed to the response so far */
  sent: number;
  /** resolves a wait for 'drain' */
  wake: (() => void) | null;
}

function clientGone(flow: StreamFlow): void {
  const res = flow.res;
  if (flow.gone || res.writableFinished) return;
  flow.gone = true;
  const req = res.req;
  const what = `${req.method} ${req.url}`;
  const reason = new UwsgiError('UWSGI_ERR_CLIENT_GONE', `${what}: the client closed the connection after ${flow.sent} bytes of a streamed response body`);
  log.line(`[${reason.code}] worker ${workerId()}: ${reason.message}: the body stream is cancelled`);
  flow.reader.cancel(reason).catch((e: unknown) => {
    log.line(`[UWSGI_ERR_APP_ERROR] worker ${workerId()}: ${what}: the response body stream's cancel() threw: ${e instanceof Error ? (e.stack ?? e.message) : echo(e)}`);
  });
  const wake = flow.wake;
  flow.wake = null;
  if (wake !== null) {
    res.off('drain', wake);
    wake();
  }
}

export function fetchToNodeHandler(fetchHandler: FetchHandler): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async (req, res) => {
    let request: Request;
    try {
      request = requestFromNode(req);
    } catch (e) {
      // the client's Host (or target) cannot make a URL: its fault, not the app's
      throw new UwsgiError('UWSGI_ERR_HTTP_PARSE', `cannot build the fetch Request from Host ${echo(req.headers.host)} and target ${echo(req.url)}: ${(e as Error).message}`);
    }
    const response = await fetchHandler(request);
    if (!(response instanceof Response)) {
      throw new UwsgiError('UWSGI_ERR_APP_ERROR', `fetch handler returned ${typeof response}, not a Response, for ${req.method} ${req.url}`);
    }
    await sendResponse(response, res);
  };
}
