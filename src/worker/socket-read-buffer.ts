/**
 * Reads of an accepted socket into one buffer per thread, as Node's own http server reads
 * (its parser consumes the socket's handle with one static buffer per thread), instead of a
 * fresh 64 KiB allocation per read (malloc, a shrinking realloc, an external backing
 * store for V8 to track and free, a Buffer object, and a trip through the Readable's
 * 'data' machinery).
 *
 * It uses the mechanism behind `net.Socket`'s public `onread` option: the socket's
 * `kBuffer`/`kBufferCb` fields (found by name on a probe socket) and its handle's
 * `useUserBuffer()`. `onread` can only be given to a socket one creates; accepted sockets
 * are created by `net.Server`, so the fields are set right after the accept, before the
 * first read. The bytes are valid only during the callback: whoever keeps any must copy
 * them.
 *
 * `socket.pause()` and `socket.resume()` stop and start the handle's reads (net.Socket does
 * that itself for a socket with a `kBuffer`), and the callback returning false stops them
 * too. The Readable is put in flowing mode so that the end of the stream still gives 'end'.
 *
 * Where the fields or the handle method are missing (another Node version, a socket with
 * no handle), `attachReadBuffer` returns false and the caller listens to 'data'.
 */
import { Socket } from 'node:net';

/** Bytes per read: what libuv is offered each time (Node's default suggestion is 64 KiB). */
export const READ_BUFFER_SIZE = 65536;

/** Called with each read's bytes in the thread's buffer; return false to stop reading. */
export type SharedReadCallback = (this: Socket, nread: number, buf: Buffer) => boolean;

interface ReadHandle {
  useUserBuffer?: (buf: Uint8Array) => void;
}
type HandleSocket = Socket & { _handle: ReadHandle | null } & Record<symbol, unknown>;

const fields = ((): { kBuffer: symbol; kBufferCb: symbol } | null => {
  const symbols = Object.getOwnPropertySymbols(new Socket());
  const kBuffer = symbols.find((s) => s.description === 'kBuffer');
  const kBufferCb = symbols.find((s) => s.description === 'kBufferCb');
  return kBuffer !== undefined && kBufferCb !== undefined ? { kBuffer, kBufferCb } : null;
})();

/** This thread's read buffer (module state is per thread: each worker has its own). */
let threadBuffer: Buffer | null = null;

/** Whether this Node version has what attachReadBuffer needs. */
export const sharedReadsAvailable = fields !== null;

/**
 * Make `socket` read into this thread's buffer and hand each read to `onRead`. False when
 * it cannot (the caller then listens to 'data').
 */
export function attachReadBuffer(socket: Socket, onRead: SharedReadCallback): boolean {
  const s = socket as HandleSocket;
  const handle = s._handle;
  if (fields === null || handle === null || typeof handle.useUserBuffer !== 'function') return false;
  threadBuffer ??= Buffer.allocUnsafe(READ_BUFFER_SIZE);
  s[fields.kBuffer] = threadBuffer;
  s[fields.kBufferCb] = onRead;
  handle.useUserBuffer(threadBuffer);
  s.resume();
  return true;
}
