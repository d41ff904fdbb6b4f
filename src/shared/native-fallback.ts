/**
 * Pure-JS stand-ins for the native waits, used when the addon is not built or is
 * disabled with UWSGI_TS_NATIVE=0 (see docs/native.md for the table of limits).
 *
 * Arguments are validated by src/shared/native.ts before these run.
 */
import { UwsgiError, echo } from './errors.js';

/** A private cell nobody notifies: Atomics.wait on it can only time out. */
const sleeper = new Int32Array(new SharedArrayBuffer(4));

/**
 * UWSGI_TS_WAIT_SPIN_US, read once per thread: the most a blocking waitMilliseconds may spin
 * before its deadline (µs, 0..100000, default 300; 0 = off), for the addon (passed to it) and
 * the fallback alike. A malformed value is not silently the default: `error` names it, and
 * every blocking wait throws it.
 */
export const waitSpin: { readonly capUs: number; readonly error: UwsgiError | null } = ((raw) => {
  if (raw === undefined || raw === '') return { capUs: 300, error: null };
  if (/^\d+$/.test(raw) && Number(raw) <= 100_000) return { capUs: Number(raw), error: null };
  return {
    capUs: 300,
    error: new UwsgiError('UWSGI_ERR_OPTION_VALUE', `UWSGI_TS_WAIT_SPIN_US ${echo(raw)}: must be a whole number of microseconds between 0 and 100000`),
  };
})(process.env.UWSGI_TS_WAIT_SPIN_US);

const SPIN_CAP_MS = waitSpin.capUs / 1000;
/** How late Atomics.wait woke this thread lately (ms): a high-water mark that decays by 1/16 per wait. */
let lateHigh = 0;

/**
 * Blocks the calling thread for at least `ms` milliseconds with Atomics.wait, waking a
 * margin early and spinning the rest on performance.now(), as the addon does with its
 * timerfd (see native/src/waits_sync.cc): the margin follows this thread's recent
 * lateness (+20%), capped by `waitSpin.capUs`. Never call it on the master's main
 * thread (it runs signals, the FIFO and supervision). Atomics.wait is interrupted by
 * worker.terminate().
 */
export function waitMillisecondsAtomics(ms: number): void {
  if (ms <= 0) return;
  const deadline = performance.now() + ms;
  const wakeAt = deadline - Math.min(SPIN_CAP_MS, lateHigh * 1.2);
  // Re-wait the remainder if the wait returned early.
  for (let left = wakeAt - performance.now(); left > 0; left = wakeAt - performance.now()) {
    Atomics.wait(sleeper, 0, 0, left);
  }
  if (SPIN_CAP_MS > 0) lateHigh = Math.max(performance.now() - wakeAt, lateHigh - lateHigh / 16);
  while (performance.now() < deadline) { /* spin the tail */ }
}

/**
 * Resolves after at least `ms` milliseconds using setTimeout (re-armed for the
 * remainder, since a timer may fire up to 1 ms early against the monotonic clock).
 * The pending timer keeps the event loop alive.
 */
export function waitMillisecondsTimer(ms: number): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const deadline = performance.now() + ms;
    const check = (): void => {
      const left = deadline - performance.now();
      if (left > 0) setTimeout(check, left);
      else resolve();
    };
    setTimeout(check, ms);
  });
}

/**
 * The error for read2/read2Async without the addon: pure JS cannot wait for an fd
 * to become readable without reading (consuming) from it.
 */
export function read2Unavailable(call: string, args: string, reason: string): UwsgiError {
  return new UwsgiError(
    'UWSGI_ERR_NATIVE',
    `native ${call}(${args}) needs the native addon, which is not available (${reason}): ` +
      'pure JS cannot wait for an fd to become readable without reading from it',
  );
}
