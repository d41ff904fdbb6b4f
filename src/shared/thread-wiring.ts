/**
 * What every worker and mule thread attaches before user code runs: its identity, the
 * sharedareas, the mule queues and its task-farm port (all handed over by the master in
 * workerData). One place, so a new shared resource reaches both kinds of thread.
 */
import type { MessagePort } from 'node:worker_threads';
import { attachSharedareas } from './sharedarea.js';
import { attachMuleQueues } from './mule-api.js';
import { attachTaskFarms } from './task-farm-api.js';
import { setThreadIdentity, type ThreadIdentity } from './thread-identity.js';

export interface SharedResources {
  readonly sharedareas: readonly unknown[];
  /** The master's mule queue set (shared/mule-queues.ts), null without mules. */
  readonly mules: unknown;
  readonly tasks: MessagePort | undefined;
}

export function attachThreadResources(who: ThreadIdentity, r: SharedResources): void {
  setThreadIdentity(who);
  attachSharedareas(r.sharedareas as Parameters<typeof attachSharedareas>[0]);
  attachMuleQueues(r.mules);
  attachTaskFarms(r.tasks);
}
