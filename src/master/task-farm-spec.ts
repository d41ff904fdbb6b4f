/**
 * Parse `--task-farm` values (uWSGI keyval style, like `--sharedarea pages=N`):
 *
 *   name=NAME,file=FILE[,threads=N][,queue=N]     keyval form (any `=` selects it)
 *   NAME:FILE                                     short form (threads and queue defaults)
 *
 * Every check happens here, in the master, before any thread starts: a bad value is a
 * UWSGI_ERR_TASK_FARM naming the option and echoing the value (exit 1).
 */
import path from 'node:path';
import { statSync } from 'node:fs';
import { UwsgiError, echo } from '../shared/errors.js';

export interface TaskFarmSpec {
  /** The option value as written. */
  readonly value: string;
  readonly name: string;
  /** Absolute path of the task module. */
  readonly file: string;
  /** Task threads (piscina minThreads = maxThreads). */
  readonly threads: number;
  /** Most tasks waiting for a free thread; more are refused with UWSGI_ERR_TASK_FARM_FULL. */
  readonly queue: number;
}

export const TASK_FARM_DEFAULT_THREADS = 2;
export const TASK_FARM_DEFAULT_QUEUE = 1000;
const MAX_THREADS = 256;
const MAX_QUEUE = 1_000_000;
const KEYS = ['name', 'file', 'threads', 'queue'] as const;
type Key = (typeof KEYS)[number];
const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;
const MODULE_EXT = /\.(?:m?js|cjs|m?ts|cts)$/;

function bad(value: string, why: string): UwsgiError {
  return new UwsgiError('UWSGI_ERR_TASK_FARM', `--task-farm ${echo(value)}: ${why}`);
}

function whole(value: string, key: Key, text: string, min: number, max: number): number {
  if (!/^[0-9]+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw bad(value, `${key}=${echo(text)} must be a whole number from ${min} to ${max}`);
  }
  return Number(text);
}

function splitKeyval(value: string): Map<Key, string> {
  const out = new Map<Key, string>();
  for (const part of value.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw bad(value, `${echo(part)} is not key=value (keys: ${KEYS.join(', ')})`);
    const key = part.slice(0, eq).trim();
    if (!(KEYS as readonly string[]).includes(key)) throw bad(value, `unknown key ${echo(key)} (keys: ${KEYS.join(', ')})`);
    if (out.has(key as Key)) throw bad(value, `key ${echo(key)} given twice`);
    out.set(key as Key, part.slice(eq + 1).trim());
  }
  return out;
}

/** Parse one `--task-farm` value; `cwd` resolves a relative file. */
export function parseTaskFarm(value: string, cwd: string): TaskFarmSpec {
  let kv: Map<Key, string>;
  if (value.includes('=')) kv = splitKeyval(value);
  else {
    const colon = value.indexOf(':');
    if (colon <= 0 || colon === value.length - 1) {
      throw bad(value, 'give name=NAME,file=FILE[,threads=N][,queue=N] or NAME:FILE');
    }
    kv = new Map<Key, string>([['name', value.slice(0, colon)], ['file', value.slice(colon + 1)]]);
  }
  const name = kv.get('name');
  if (name === undefined || name === '') throw bad(value, 'no name= given');
  if (!NAME.test(name)) throw bad(value, `name ${echo(name)} must be 1-64 characters of letters, digits, "_", "." or "-"`);
  const fileText = kv.get('file');
  if (fileText === undefined || fileText === '') throw bad(value, 'no file= given (the task module)');
  if (!MODULE_EXT.test(fileText)) throw bad(value, `file ${echo(fileText)} is not a .js/.mjs/.cjs/.ts/.mts/.cts module`);
  const file = path.resolve(cwd, fileText);
  const st = statSync(file, { throwIfNoEntry: false });
  if (!st || !st.isFile()) throw bad(value, `no such file ${echo(file)}`);
  const threadsText = kv.get('threads');
  const queueText = kv.get('queue');
  return {
    value,
    name,
    file,
    threads: threadsText === undefined ? TASK_FARM_DEFAULT_THREADS : whole(value, 'threads', threadsText, 1, MAX_THREADS),
    queue: queueText === undefined ? TASK_FARM_DEFAULT_QUEUE : whole(value, 'queue', queueText, 0, MAX_QUEUE),
  };
}

/** Parse every `--task-farm` value; two farms with one name are an error. */
export function parseTaskFarms(values: readonly string[], cwd: string): TaskFarmSpec[] {
  const specs: TaskFarmSpec[] = [];
  for (const v of values) {
    const spec = parseTaskFarm(v, cwd);
    const twin = specs.find((s) => s.name === spec.name);
    if (twin) throw bad(v, `a task farm named ${echo(spec.name)} is already defined (by --task-farm ${echo(twin.value)})`);
    specs.push(spec);
  }
  return specs;
}
