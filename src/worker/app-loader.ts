/**
 * Loads the application module named by `--module FILE[:EXPORT]` and turns its export
 * into one Node request listener.
 *
 * Accepted exports, in this order:
 * - a Node `(req, res)` handler (an Express app is one);
 * - a Fastify instance (`routing` + `ready`): awaited ready, then its router;
 * - an object with `fetch(request) => Response` (Hono, or `export default { fetch }`);
 * - a function taking a `Request` (arity 1) is treated as a fetch handler.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { UwsgiError, echo } from '../shared/errors.js';
import { fetchToNodeHandler, type FetchHandler } from './fetch-adapter.js';
import { importModule, splitModuleSpec } from '../shared/module-import.js';

export type NodeHandler = (req: IncomingMessage, res: ServerResponse) => unknown;
export type AppKind = 'node' | 'fastify' | 'fetch';

export interface LoadedApp {
  readonly handler: NodeHandler;
  readonly kind: AppKind;
  readonly file: string;
  readonly exportName: string;
}

function pickExport(mod: Record<string, unknown>, exportName: string): unknown {
  let value = mod[exportName];
  // tsx's CJS output of `export default x` nests as { default: { default: x } } in some interop paths.
  if (exportName === 'default' && value && typeof value === 'object' && 'default' in value &&
      !('fetch' in value) && !('routing' in value)) {
    value = (value as { default: unknown }).default;
  }
  return value;
}

interface FastifyLike { routing(req: IncomingMessage, res: ServerResponse): void; ready(): Promise<unknown> }
function isFastify(v: unknown): v is FastifyLike {
  return !!v && (typeof v === 'object' || typeof v === 'function') &&
    typeof (v as FastifyLike).routing === 'function' && typeof (v as FastifyLike).ready === 'function';
}
function isFetchApp(v: unknown): v is { fetch: FetchHandler } {
  return !!v && (typeof v === 'object' || typeof v === 'function') && typeof (v as { fetch?: unknown }).fetch === 'function';
}

export async function loadApp(spec: string, cwd: string): Promise<LoadedApp> {
  const { file: rel, exportName } = splitModuleSpec(spec);
  const file = path.resolve(cwd, rel);
  const mod = await importModule(file);
  const value = pickExport(mod, exportName);
  if (value === undefined) {
    const names = Object.keys(mod).filter((k) => k !== '__esModule');
    throw new UwsgiError('UWSGI_ERR_NO_APP',
      `--module ${echo(spec)}: export ${echo(exportName)} not found (exports: ${names.join(', ') || 'none'})`);
  }
  if (isFastify(value)) {
    await value.ready();
    const app = value;
    return { handler: (req, res) => app.routing(req, res), kind: 'fastify', file, exportName };
  }
  // Hono apps are functions? No: objects with fetch. Check fetch before plain functions
  // because some fetch-style apps are callable too.
  if (isFetchApp(value)) {
    const app = value;
    return { handler: fetchToNodeHandler((r) => app.fetch(r)), kind: 'fetch', file, exportName };
  }
  if (typeof value === 'function') {
    const fn = value as (...args: unknown[]) => unknown;
    if (fn.length === 1) {
      return { handler: fetchToNodeHandler(fn as FetchHandler), kind: 'fetch', file, exportName };
    }
    return { handler: fn as NodeHandler, kind: 'node', file, exportName };
  }
  throw new UwsgiError('UWSGI_ERR_NO_APP',
    `--module ${echo(spec)}: export ${echo(exportName)} is a ${typeof value}, not a (req, res) handler, a Fastify instance or an object with fetch()`);
}
