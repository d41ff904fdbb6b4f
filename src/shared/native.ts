/**
 * The JS face of the native addon (native/, built by scripts/build-native.mjs).
 *
 * `waits` is always usable: the addon's timerfd/poll waits, or pure-JS stand-ins.
 * `sockets` is null without the addon: no pure-JS dup() exists.
 * Set UWSGI_TS_NATIVE=0 (read once, when this module loads) to force the fallback.
 * Every failure is a UwsgiError with code UWSGI_ERR_NATIVE. See docs/native.md.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UwsgiError, echo } from './errors.js';
import { read2Unavailable, waitMillisecondsAtomics, waitMillisecondsTimer, waitSpin } from './native-fallback.js';

export type NativeKind = 'native' | 'fallback';

export interface NativeWaits {
  /** Blocks the calling thread for at least `ms` (fractions allowed). Not on the master's main thread. */
  waitMilliseconds(ms: number): void;
  /** Resolves after at least `ms` without blocking the event loop; keeps the loop alive while pending. */
  waitMillisecondsAsync(ms: number): Promise<void>;
  /** Blocks until fdA or fdB is readable: returns that fd (fdA first when both are), or -1 on timeout. */
  read2(fdA: number, fdB: number, timeoutMs: number): number;
  /** Same as read2 without blocking the event loop. */
  read2Async(fdA: number, fdB: number, timeoutMs: number): Promise<number>;
}

export interface NativeSockets {
  /** dup() with FD_CLOEXEC set on the new fd. */
  dup(fd: number): number;
  close(fd: number): void;
  /** A non-blocking, close-on-exec listening TCP socket; port 0 picks a free port, returned in `port`. */
  listenTcp(host: string, port: number, backlog: number): { fd: number; port: number };
  /** A non-blocking, close-on-exec listening unix socket; '@name' is the abstract namespace. */
  listenUnix(path: string, backlog: number): number;
}

/** The addon's exports (native/src/addon.cc). */
interface Addon extends Omit<NativeWaits, 'waitMilliseconds'>, NativeSockets {
  /** spinCapUs: the spin tail's cap (see native/src/waits_sync.cc), from UWSGI_TS_WAIT_SPIN_US. */
  waitMilliseconds(ms: number, spinCapUs: number): void;
}

const ADDON_PATH = join('native', 'build', 'Release', 'uwsgi_native.node');
const ADDON_FUNCTIONS = [
  'dup', 'close', 'listenTcp', 'listenUnix',
  'waitMilliseconds', 'waitMillisecondsAsync', 'read2', 'read2Async',
] as const;
const MAX_MS = 2147483647;
const MAX_INT = 2147483647;

/** The nearest directory at or above this module that holds package.json (works from src/ and dist/). */
function packageRoot(): string {
  const start = dirname(fileURLToPath(import.meta.url));
  let dir = start;
  for (let depth = 0; depth < 32; depth++) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  throw new UwsgiError('UWSGI_ERR_NATIVE', `native addon: no package.json found above ${echo(start)}`);
}

function isAddon(mod: unknown): mod is Addon {
  if (typeof mod !== 'object' || mod === null) return false;
  const record = mod as Record<string, unknown>;
  return ADDON_FUNCTIONS.every((name) => typeof record[name] === 'function');
}

function firstLine(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  return text.split('\n', 1)[0] ?? text;
}

function loadAddon(): { addon: Addon | null; reason: string | null } {
  if (process.env.UWSGI_TS_NATIVE === '0') return { addon: null, reason: 'disabled by UWSGI_TS_NATIVE=0' };
  let path: string;
  try {
    path = join(packageRoot(), ADDON_PATH);
  } catch (e) {
    return { addon: null, reason: firstLine(e) };
  }
  if (!existsSync(path)) {
    return { addon: null, reason: `${path} does not exist (build it with: node scripts/build-native.mjs)` };
  }
  let mod: unknown;
  try {
    mod = createRequire(import.meta.url)(path);
  } catch (e) {
    return { addon: null, reason: `cannot load ${path}: ${firstLine(e)}` };
  }
  if (!isAddon(mod)) return { addon: null, reason: `${path} lacks some of: ${ADDON_FUNCTIONS.join(', ')}` };
  return { addon: mod, reason: null };
}

// ---- argument checks (UWSGI_ERR_NATIVE, naming the call and the argument) ----

/** echo() for any argument; shows NaN/Infinity as themselves rather than JSON's null. */
function shown(v: unknown): string {
  return typeof v === 'number' ? String(v) : echo(v);
}

function badArg(call: string, name: string, rule: string, value: unknown): UwsgiError {
  return new UwsgiError('UWSGI_ERR_NATIVE', `native ${call}: ${name} must be ${rule}, got ${shown(value)}`);
}

function checkMs(call: string, name: string, v: unknown): void {
  if (typeof v !== 'number' || !(v >= 0 && v <= MAX_MS)) {
    throw badArg(call, name, `a finite number of milliseconds in [0, ${MAX_MS}]`, v);
  }
}

function checkFd(call: string, name: string, v: unknown): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > MAX_INT) {
    throw badArg(call, name, 'an integer file descriptor >= 0', v);
  }
}

function checkInt(call: string, name: string, v: unknown, lo: number, hi: number): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) {
    throw badArg(call, name, `an integer in [${lo}, ${hi}]`, v);
  }
}

function checkString(call: string, name: string, v: unknown, nonEmpty: boolean): void {
  if (typeof v !== 'string' || (nonEmpty && v === '') || v.includes('\0')) {
    throw badArg(call, name, nonEmpty ? 'a non-empty string without NUL bytes' : 'a string without NUL bytes', v);
  }
}

/** Wraps an error thrown by the addon: the message names the call, echoes the arguments, keeps errno text. */
function nativeError(call: string, args: readonly unknown[], e: unknown): UwsgiError {
  const detail = firstLine(e).replace(`${call}: `, '');
  return new UwsgiError('UWSGI_ERR_NATIVE', `native ${call}(${args.map(shown).join(', ')}) failed: ${detail}`, {
    cause: e,
  });
}

/**
 * The errno name ("EADDRINUSE") behind a UWSGI_ERR_NATIVE error, or null when it
 * came from an argument check or is not a native error at all.
 */
export function nativeErrno(err: unknown): string | null {
  if (!(err instanceof UwsgiError) || err.code !== 'UWSGI_ERR_NATIVE') return null;
  const cause = err.cause as { code?: unknown } | undefined;
  return typeof cause?.code === 'string' ? cause.code : null;
}

// ---- the two implementations ----

function nativeWaits(a: Addon): NativeWaits {
  return {
    waitMilliseconds(ms) {
      checkMs('waitMilliseconds', 'ms', ms);
      if (waitSpin.error) throw waitSpin.error;
      try {
        a.waitMilliseconds(ms, waitSpin.capUs);
      } catch (e) {
        throw nativeError('waitMilliseconds', [ms], e);
      }
    },
    waitMillisecondsAsync(ms) {
      try {
        checkMs('waitMillisecondsAsync', 'ms', ms);
        return a.waitMillisecondsAsync(ms).catch((e: unknown) => {
          throw nativeError('waitMillisecondsAsync', [ms], e);
        });
      } catch (e) {
        return Promise.reject(e instanceof UwsgiError ? e : nativeError('waitMillisecondsAsync', [ms], e));
      }
    },
    read2(fdA, fdB, timeoutMs) {
      checkFd('read2', 'fdA', fdA);
      checkFd('read2', 'fdB', fdB);
      checkMs('read2', 'timeoutMs', timeoutMs);
      try {
        return a.read2(fdA, fdB, timeoutMs);
      } catch (e) {
        throw nativeError('read2', [fdA, fdB, timeoutMs], e);
      }
    },
    read2Async(fdA, fdB, timeoutMs) {
      try {
        checkFd('read2Async', 'fdA', fdA);
        checkFd('read2Async', 'fdB', fdB);
        checkMs('read2Async', 'timeoutMs', timeoutMs);
        return a.read2Async(fdA, fdB, timeoutMs).catch((e: unknown) => {
          throw nativeError('read2Async', [fdA, fdB, timeoutMs], e);
        });
      } catch (e) {
        return Promise.reject(e instanceof UwsgiError ? e : nativeError('read2Async', [fdA, fdB, timeoutMs], e));
      }
    },
  };
}

function fallbackWaits(reason: string): NativeWaits {
  return {
    waitMilliseconds(ms) {
      checkMs('waitMilliseconds', 'ms', ms);
      if (waitSpin.error) throw waitSpin.error;
      waitMillisecondsAtomics(ms);
    },
    waitMillisecondsAsync(ms) {
      try {
        checkMs('waitMillisecondsAsync', 'ms', ms);
      } catch (e) {
        return Promise.reject(e);
      }
      return waitMillisecondsTimer(ms);
    },
    read2(fdA, fdB, timeoutMs) {
      checkFd('read2', 'fdA', fdA);
      checkFd('read2', 'fdB', fdB);
      checkMs('read2', 'timeoutMs', timeoutMs);
      throw read2Unavailable('read2', [fdA, fdB, timeoutMs].map(shown).join(', '), reason);
    },
    read2Async(fdA, fdB, timeoutMs) {
      try {
        checkFd('read2Async', 'fdA', fdA);
        checkFd('read2Async', 'fdB', fdB);
        checkMs('read2Async', 'timeoutMs', timeoutMs);
        return Promise.reject(read2Unavailable('read2Async', [fdA, fdB, timeoutMs].map(shown).join(', '), reason));
      } catch (e) {
        return Promise.reject(e);
      }
    },
  };
}

function nativeSockets(a: Addon): NativeSockets {
  return {
    dup(fd) {
      checkFd('dup', 'fd', fd);
      try {
        return a.dup(fd);
      } catch (e) {
        throw nativeError('dup', [fd], e);
      }
    },
    close(fd) {
      checkFd('close', 'fd', fd);
      try {
        a.close(fd);
      } catch (e) {
        throw nativeError('close', [fd], e);
      }
    },
    listenTcp(host, port, backlog) {
      checkString('listenTcp', 'host', host, false);
      checkInt('listenTcp', 'port', port, 0, 65535);
      checkInt('listenTcp', 'backlog', backlog, 0, MAX_INT);
      try {
        return a.listenTcp(host, port, backlog);
      } catch (e) {
        throw nativeError('listenTcp', [host, port, backlog], e);
      }
    },
    listenUnix(path, backlog) {
      checkString('listenUnix', 'path', path, true);
      checkInt('listenUnix', 'backlog', backlog, 0, MAX_INT);
      try {
        return a.listenUnix(path, backlog);
      } catch (e) {
        throw nativeError('listenUnix', [path, backlog], e);
      }
    },
  };
}

const loaded = loadAddon();

/** Which implementation is active. */
export const nativeKind: NativeKind = loaded.addon ? 'native' : 'fallback';

/** Millisecond and fd-readability waits: native, or the pure-JS fallback. */
export const waits: NativeWaits = loaded.addon ? nativeWaits(loaded.addon) : fallbackWaits(loaded.reason ?? 'not loaded');

/** fd and listening-socket helpers; null without the addon. */
export const sockets: NativeSockets | null = loaded.addon ? nativeSockets(loaded.addon) : null;

/** Why the addon is not in use (null when it is). */
export function nativeUnavailableReason(): string | null {
  return loaded.reason;
}
