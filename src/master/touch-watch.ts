/**
 * `--touch-reload` / `--touch-mules-reload`: every master cycle (`--check-interval`), look
 * at each file's mtime; when it grows, or the file appears or disappears, run the action.
 * uWSGI's semantics (options.md); one stat() per file per cycle, off the request path.
 */
import { statSync } from 'node:fs';
import { log } from '../shared/log-writer.js';

function mtime(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return -1; // absent: appearing later counts as a touch
  }
}

export function watchTouches(paths: readonly string[], intervalMs: number, what: string, action: () => void): () => void {
  if (paths.length === 0) return () => {};
  const last = new Map(paths.map((p) => [p, mtime(p)] as const));
  const timer = setInterval(() => {
    for (const p of paths) {
      const now = mtime(p);
      const before = last.get(p)!;
      if (now !== before && (now > before || now === -1 || before === -1)) {
        last.set(p, now);
        log.line(`*** ${p} has been touched... ${what} ***`);
        action();
        return;
      }
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
