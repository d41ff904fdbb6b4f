/**
 * Which values a mule message can carry, and why one cannot. Messages that are not bytes
 * or strings travel as msgpackr (`useRecords: false`); this module names the first value
 * msgpackr cannot carry, for the error. It runs only after encoding failed (never per
 * message): the packer itself refuses functions (`writeFunction`), symbols and cycles.
 */
import { UwsgiError, echo } from './errors.js';

/** msgpackr's writeFunction hook: a function anywhere in a message is refused (msgpackr would send undefined). */
export function refuseFunction(fn?: unknown): never {
  throw new UwsgiError('UWSGI_ERR_MULE_MSG_TYPE', `a function (${typeof fn === 'function' && fn.name ? fn.name : 'anonymous'}) cannot be sent to a mule`);
}

const MAX_NODES = 100_000;
const INT64_MIN = -(2n ** 63n);
const UINT64_MAX = 2n ** 64n - 1n;

/** The first value under `root` that msgpackr cannot carry: its path and a description, or undefined. */
export function findUnencodable(root: unknown): { path: string; type: string } | undefined {
  const onPath = new Set<object>();
  let nodes = 0;
  const visit = (v: unknown, at: string): { path: string; type: string } | undefined => {
    if (++nodes > MAX_NODES) return undefined;
    switch (typeof v) {
      case 'function': return { path: at, type: `function${v.name ? ` ${v.name}` : ''}` };
      case 'symbol': return { path: at, type: `symbol ${String(v)}` };
      case 'bigint': return v < INT64_MIN || v > UINT64_MAX ? { path: at, type: 'bigint beyond 64 bits' } : undefined;
      case 'object': {
        if (v === null || ArrayBuffer.isView(v) || v instanceof Date || v instanceof RegExp) return undefined;
        if (onPath.has(v)) return { path: at, type: 'cyclic object (a reference back to an enclosing object)' };
        onPath.add(v);
        try {
          const entries: Iterable<[unknown, unknown]> = v instanceof Map ? v.entries() :
            v instanceof Set ? [...v].map((x, i) => [i, x] as [unknown, unknown]) : Object.entries(v);
          for (const [k, x] of entries) {
            const found = (v instanceof Map ? visit(k, `${at} key`) : undefined) ?? visit(x, `${at}${Array.isArray(v) ? `[${String(k)}]` : `.${String(k)}`}`);
            if (found) return found;
          }
        } finally {
          onPath.delete(v);
        }
        return undefined;
      }
      default:
        return undefined;
    }
  };
  return visit(root, 'message');
}

/** The coded error for a message msgpackr refused (`cause`: what it threw). */
export function unencodableMessage(message: unknown, what: string, cause: unknown): UwsgiError {
  const found = findUnencodable(message);
  const detail = found ?
    `${found.path === 'message' ? 'the message is' : `${found.path} is`} a ${found.type}` :
    `it cannot be encoded with msgpackr (${cause instanceof Error ? cause.message : String(cause)})`;
  return new UwsgiError('UWSGI_ERR_MULE_MSG_TYPE',
    `${what}: message ${echo(message)} cannot travel to a mule: ${detail} (send bytes, a string, or plain data: objects, arrays, numbers, 64-bit bigints, booleans, null, undefined, Date, typed arrays)`,
    { cause });
}
