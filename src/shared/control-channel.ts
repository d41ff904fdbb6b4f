/**
 * Control calls between actors (master ⇄ worker, master ⇄ mule) over comlink.
 *
 * Every remote call gets a timeout: a stuck thread must never hang the master's
 * control plane. Proxies are pinned to one dedicated MessagePort per thread, created
 * at spawn and closed with the thread.
 */
import type { MessagePort } from 'node:worker_threads';
import * as Comlink from 'comlink/dist/esm/comlink.mjs';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { UwsgiError } from './errors.js';

type AnyFn = (...args: never[]) => unknown;
export type Remote<T> = { [K in keyof T]: T[K] extends AnyFn ? (...args: Parameters<T[K]>) => Promise<Awaited<ReturnType<T[K]>>> : never };

/** Serve `api` on `port` (the callee side). */
export function exposeControl<T extends object>(api: T, port: MessagePort): void {
  Comlink.expose(api, nodeEndpoint(port));
}

/**
 * A proxy whose every call rejects with UWSGI_ERR_CONTROL_TIMEOUT after `timeoutMs`, or
 * with UWSGI_ERR_WORKER_CRASH as soon as `close()` is called (the thread exited): a call
 * the thread can no longer answer must not wait out the timeout.
 */
export function connectControl<T extends object>(port: MessagePort, who: string, timeoutMs: number): { remote: Remote<T>; close(): void } {
  const proxy = Comlink.wrap<T>(nodeEndpoint(port));
  /** rejects each call still waiting for its answer */
  const pending = new Set<() => void>();
  let closed = false;
  const gone = (name: string) => new UwsgiError('UWSGI_ERR_WORKER_CRASH', `control call ${name}() to ${who} got no answer: the thread exited`);
  const remote = new Proxy({} as Remote<T>, {
    get(_t, name: string) {
      return (...args: unknown[]) => {
        if (closed) return Promise.reject(gone(name));
        const fn = (proxy as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[name];
        let timer: NodeJS.Timeout | undefined;
        let fail!: (e: Error) => void;
        const abort = new Promise<never>((_, reject) => {
          fail = reject;
          timer = setTimeout(() => reject(new UwsgiError('UWSGI_ERR_CONTROL_TIMEOUT',
            `control call ${name}() to ${who} did not answer within ${timeoutMs} ms`)), timeoutMs);
        });
        const onClose = () => fail(gone(name));
        pending.add(onClose);
        return Promise.race([fn(...args), abort]).finally(() => {
          clearTimeout(timer);
          pending.delete(onClose);
        });
      };
    },
  });
  return {
    remote,
    close() {
      closed = true;
      for (const onClose of pending) onClose();
      pending.clear();
      (proxy as unknown as { [Comlink.releaseProxy](): void })[Comlink.releaseProxy]();
      port.close();
    },
  };
}
