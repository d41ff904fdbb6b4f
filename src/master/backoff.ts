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
