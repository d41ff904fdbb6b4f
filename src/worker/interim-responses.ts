/**
 * 1xx interim responses (`res.writeContinue()`, `res.writeProcessing()`,
 * `res.writeEarlyHints()`): sent to HTTP/1.1 clients as Node sends them, dropped for an
 * HTTP/1.0 request. HTTP/1.0 has no 1xx status (a 1.0 client takes the first status line
 * as the response), and every uwsgi-socket request is one (the adapter synthesizes
 * HTTP/1.0): nginx's uwsgi module reads the first status line as the final one, so an
 * interim head would become the response and the real one part of its body.
 *
 * A dropped interim response still calls the app's callback (on the next tick, as a
 * written one would call it once written), so an app that sends its final response from
 * the callback of `writeEarlyHints(hints, cb)` works unchanged.
 *
 * The bytes of the interim responses that are sent are counted per response
 * (`interimBytes`): the request log's rsize counts the body only.
 */
import { ServerResponse, type IncomingMessage } from 'node:http';

const kInterim = Symbol('uwsgi-ts.interimBytes');

interface InterimResponse {
  req?: IncomingMessage;
  socket: { bytesWritten?: number } | null;
  [kInterim]?: number;
}

type InterimWriter = (this: InterimResponse, ...args: unknown[]) => unknown;

/** No 1xx for this request: HTTP/1.0 (which includes every uwsgi-socket request). */
function interimRefused(res: InterimResponse): boolean {
  const req = res.req;
  return req !== undefined && req.httpVersionMajor === 1 && req.httpVersionMinor === 0;
}

function callLater(cb: unknown): void {
  if (typeof cb === 'function') process.nextTick(cb as () => void);
}

/** Wrap one of Node's interim writers; `cbIndex` is where its callback argument is. */
function wrap(nodeWriter: InterimWriter, cbIndex: number): InterimWriter {
  return function interimWriter(this: InterimResponse, ...args: unknown[]): unknown {
    if (interimRefused(this)) {
      callLater(args[cbIndex]);
      return undefined;
    }
    const sock = this.socket;
    const before = typeof sock?.bytesWritten === 'number' ? sock.bytesWritten : -1;
    const ret = nodeWriter.apply(this, args);
    if (before >= 0 && typeof sock?.bytesWritten === 'number') this[kInterim] = (this[kInterim] ?? 0) + sock.bytesWritten - before;
    return ret;
  };
}

let installed = false;

/** Apply the rules above to every `ServerResponse` of this thread (idempotent). */
export function installInterimResponses(): void {
  if (installed) return;
  installed = true;
  const proto = ServerResponse.prototype as unknown as Record<'writeContinue' | 'writeProcessing' | 'writeEarlyHints', InterimWriter>;
  proto.writeContinue = wrap(proto.writeContinue, 0);
  proto.writeProcessing = wrap(proto.writeProcessing, 0);
  proto.writeEarlyHints = wrap(proto.writeEarlyHints, 1);
}

/** Bytes of the 1xx interim responses written before this response (0 if none). */
export function interimBytes(res: ServerResponse): number {
  return (res as unknown as InterimResponse)[kInterim] ?? 0;
}
