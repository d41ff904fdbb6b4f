/**
 * Asynchronous, batched log output for one thread.
 *
 * Lines are appended to a pending buffer and written to fd 2 (or the configured fd)
 * with one `fs.write` per event-loop turn, so a request never waits on a synchronous
 * write. While a write is in flight, new lines accumulate for the next one. `flushSync`
 * exists for the very end of a thread's life (exit paths), where async writes would be lost.
 */
import { write, writeSync } from 'node:fs';

export class LogWriter {
  private pending = '';
  private writing = false;
  private scheduled = false;
  private readonly fd: number;
  private drained: Array<() => void> = [];

  constructor(fd = 2) {
    this.fd = fd;
  }

  line(text: string): void {
    this.pending += text.endsWith('\n') ? text : text + '\n';
    if (!this.scheduled && !this.writing) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
  }

  private readonly flush = (): void => {
    this.scheduled = false;
    if (this.writing) return;
    if (this.pending === '') { this.settle(); return; }
    const chunk = this.pending;
    this.pending = '';
    this.writing = true;
    write(this.fd, chunk, (err) => {
      this.writing = false;
      if (err) {
        // The log destination itself failed: there is nowhere else to report it but stderr's fd directly.
        try { writeSync(2, `uwsgi-ts: log write failed: ${err.message}\n`); } catch { /* fd 2 is gone: nothing left to tell */ }
      }
      if (this.pending !== '') this.flush();
      else this.settle();
    });
  };

  private settle(): void {
    if (this.drained.length === 0) return;
    const waiters = this.drained;
    this.drained = [];
    for (const resolve of waiters) resolve();
  }

  /**
   * Resolves once every line logged so far has been written. Used before a hook runs a
   * command that writes to the same terminal, so its `running ...` line comes first.
   */
  drain(): Promise<void> {
    if (this.pending === '' && !this.writing) return Promise.resolve();
    return new Promise((resolve) => { this.drained.push(resolve); });
  }

  /** Write everything pending now (used only on exit paths). */
  flushSync(): void {
    if (this.pending === '') return;
    const chunk = this.pending;
    this.pending = '';
    try { writeSync(this.fd, chunk); } catch { /* exiting with a broken log fd: nothing left to tell */ }
    if (!this.writing) this.settle();
  }
}

/** The thread's log writer (one per thread: module state is per-thread in worker_threads). */
export const log = new LogWriter(2);
