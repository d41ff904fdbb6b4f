/**
 * The master's scoped resources (listening sockets, thread pools, timers, signal
 * handlers), managed by an effect `Scope`: each resource is acquired with its release
 * action, and closing the scope releases them in reverse order, also when startup
 * fails half-way. Control plane only: nothing here runs per request.
 */
import { Effect, Exit, Scope } from 'effect';
import { UwsgiError } from '../shared/errors.js';

export class ResourceScope {
  private constructor(private readonly scope: Scope.Closeable) {}
  private closed = false;

  static async open(): Promise<ResourceScope> {
    return new ResourceScope(await Effect.runPromise(Scope.make('sequential')));
  }

  /** Acquire a resource; `release` runs when the scope closes (reverse acquisition order). */
  acquire<A>(name: string, acquire: () => Promise<A> | A, release: (a: A) => Promise<void> | void): Promise<A> {
    if (this.closed) return Promise.reject(new UwsgiError('UWSGI_ERR_STOPPED', `cannot acquire ${name}: the runtime is stopping`));
    return (async () => {
      const a = await acquire();
      await Effect.runPromise(Scope.addFinalizer(this.scope, Effect.promise(async () => {
        try {
          await release(a);
        } catch (e) {
          process.stderr.write(`uwsgi-ts: releasing ${name} failed: ${(e as Error).message}\n`);
        }
      })));
      return a;
    })();
  }

  /** Register a finalizer with no acquisition step. */
  onClose(name: string, release: () => Promise<void> | void): Promise<void> {
    return this.acquire(name, () => undefined, release);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Effect.runPromise(Scope.close(this.scope, Exit.void));
  }
}
