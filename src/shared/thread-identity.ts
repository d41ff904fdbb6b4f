/**
 * Which actor the current thread is (master, worker N, mule N, a task thread), for the APIs that
 * behave differently per actor (muleId(), sharedarea lock ownership, log prefixes).
 * Stored on globalThis so that two copies of this module (the package imported by an
 * app under another path) still agree.
 */
export type ThreadRole = 'master' | 'worker' | 'mule' | 'task' | 'embedded';
export interface ThreadIdentity { readonly role: ThreadRole; readonly id: number }

const KEY = Symbol.for('uwsgi-ts.thread-identity');
type Holder = { [KEY]?: ThreadIdentity };

export function setThreadIdentity(id: ThreadIdentity): void {
  (globalThis as Holder)[KEY] = id;
}

export function threadIdentity(): ThreadIdentity {
  return (globalThis as Holder)[KEY] ?? { role: 'embedded', id: 0 };
}

/** The worker id (1..N, stable across respawns) of the calling thread, 0 outside a worker. */
export function workerId(): number {
  const t = threadIdentity();
  return t.role === 'worker' ? t.id : 0;
}
