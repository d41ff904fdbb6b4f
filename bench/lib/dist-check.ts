/**
 * The benches run the built product (dist/, compiled ESM, as users run it), not src/
 * through tsx: tsx's CJS transform turns every cross-module call into a getter call,
 * which costs the hot paths ~10% and is not what ships.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

/** The newest src/*.ts newer than `builtFile`, or undefined when the build is current (or absent). */
export function srcNewerThan(root: string, builtFile: string): string | undefined {
  if (!existsSync(builtFile)) return undefined;
  const distTime = statSync(builtFile).mtimeMs;
  let newest = 0;
  let newestFile = '';
  const walk = (dir: string, depth: number): void => {
    if (depth > 6) return;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p, depth + 1);
      else if (e.name.endsWith('.ts')) {
        const m = statSync(p).mtimeMs;
        if (m > newest) { newest = m; newestFile = p; }
      }
    }
  };
  walk(path.join(root, 'src'), 0);
  return newest > distTime ? path.relative(root, newestFile) : undefined;
}
