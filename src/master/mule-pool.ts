/**
 * Mules: background threads supervised by the master. (Being built: see docs/background-jobs.md.)
 */
import type { ResolvedOptions } from '../shared/options-table.js';
import { UwsgiError } from '../shared/errors.js';

export class MulePool {
  /** Structured-clone-safe data every worker gets at spawn to reach the mules (queues). */
  readonly init: unknown = null;
  readonly count = 0;

  static create(o: ResolvedOptions, _cwd: string, _areas: readonly unknown[]): MulePool {
    if (o.mules > 0 || o.mule.length > 0 || o.farm.length > 0) {
      throw new UwsgiError('UWSGI_ERR_MULE_SPEC', 'mules are not available in this build yet');
    }
    return new MulePool();
  }

  async start(): Promise<void> {}
  async reload(): Promise<void> {}
  async stop(_graceful: boolean): Promise<void> {}
}
