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

/** A proxy whose every call rejects with UWSGI_ERR_CONTROL_TIMEOUT after `timeoutMs`. */
export function connectControl<T extends object>(port: MessagePort, who: string, timeoutMs: number): { remote: Remote<T>; close(): void } {
  const proxy = Comlink.wrap<T>(nodeEndpoint(port));
  const remote = new Proxy({} as Remote<T>, {
    get(_t, name: string) {
      return (...args: unknown[]) => {
        const fn = (proxy as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[name];
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new UwsgiError('UWSGI_ERR_CONTROL_TIMEOUT',
            `control call ${name}() to ${who} did not answer within ${timeoutMs} ms`)), timeoutMs);
        });
        return Promise.race([fn(...args), timeout]).finally(() => clearTimeout(timer));
      };
    },
  });
  return {
    remote,
    close() {
      (proxy as unknown as { [Comlink.releaseProxy](): void })[Comlink.releaseProxy]();
      port.close();
    },
  };
}
