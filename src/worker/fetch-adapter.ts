/**
 * Runs a `fetch(Request) => Response` handler (Hono, or any WinterCG-style app) as a
 * Node `(req, res)` listener. The request body streams from the socket; the response
 * body streams back, with headers and the first chunk leaving together.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { UwsgiError, echo } from '../shared/errors.js';

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
  res.write(first.value);
  let more: { done: boolean; value?: Uint8Array } = next;
  while (!more.done) {
    if (!res.write(more.value!)) await new Promise<void>((r) => res.once('drain', r));
    more = await reader.read();
  }
  res.end();
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
