/**
 * Respawn throttling for crash loops (uWSGI's forkbomb delay, made gradual): a thread
 * that dies young is respawned after a delay that doubles with each consecutive young
 * death, capped; a thread that lived past `healthyAfterMs` resets the count.
 */
export interface BackoffPolicy {
  readonly baseMs: number;
  readonly maxMs: number;
  readonly healthyAfterMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 100, maxMs: 10_000, healthyAfterMs: 5_000 };

export class Backoff {
  private failures = 0;
  constructor(private readonly policy: BackoffPolicy = DEFAULT_BACKOFF) {}

  /** Record a death after `livedMs`; returns the delay before the next spawn. */
  death(livedMs: number): number {
    if (livedMs >= this.policy.healthyAfterMs) {
      this.failures = 0;
      return 0;
    }
    this.failures++;
    return Math.min(this.policy.maxMs, this.policy.baseMs * 2 ** (this.failures - 1));
  }

  get consecutiveFailures(): number {
    return this.failures;
  }
}

/** One Backoff per thread id (worker or mule ids are stable across respawns). */
export class BackoffById {
  private readonly byId = new Map<number, Backoff>();
  constructor(private readonly policy: BackoffPolicy = DEFAULT_BACKOFF) {}

  /** Record a death of thread `id` after `livedMs`; the delay and the run of quick deaths so far. */
  death(id: number, livedMs: number): { delay: number; failures: number } {
    let b = this.byId.get(id);
    if (!b) this.byId.set(id, (b = new Backoff(this.policy)));
    const delay = b.death(livedMs);
    return { delay, failures: b.consecutiveFailures };
  }
}

/** The log's words for a run of young deaths: `1 quick death in a row`, `3 quick deaths in a row`. */
export function quickDeathsText(failures: number): string {
  return `${failures} quick death${failures === 1 ? '' : 's'} in a row`;
}
