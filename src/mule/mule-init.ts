/**
 * What the master hands a mule thread at spawn, and the messages between them.
 * (Types only; the master imports them, the mule never imports the master.)
 */
import type { MessagePort } from 'node:worker_threads';
import type { MuleQueuesInit } from '../shared/mule-queues.js';

/** What a mule runs (parsed from its `--mule` value by the master). */
export type MuleProgram =
  /** `--mules N` or `--mule` with no value: the message loop (messages go to the app's muleMsgHook). */
  | { readonly kind: 'loop' }
  /** `--mule FILE.js|.mjs|.cjs|.ts`: the module runs in the mule; the mule ends when its event loop drains. */
  | { readonly kind: 'script'; readonly file: string }
  /** `--mule=fn()` (symcall, a function of the app module), `--mule=FILE:fn()` or `--mule=FILE:fn`: call it; the mule ends when it settles. */
  | { readonly kind: 'call'; readonly file: string; readonly exportName: string };

export interface MuleInit {
  readonly role: 'mule';
  readonly id: number;
  readonly generation: number;
  /** The `--mule` value as written ('' for signal-only mules), for log lines. */
  readonly value: string;
  readonly program: MuleProgram;
  /** Absolute path of the app module (--module), if any: its exports serve symcall, `call:` hooks and muleMsgHook. */
  readonly appFile: string | undefined;
  readonly cwd: string;
  readonly queues: MuleQueuesInit;
  readonly sharedareas: readonly unknown[];
  /** --hook-as-mule values, already validated by the master. */
  readonly hooks: readonly string[];
  /** Task farms: this thread's port for runInFarm() requests; absent without --task-farm. */
  readonly tasks?: MessagePort;
}

/** Mule → master, on parentPort. */
export type MuleEvent =
  /** Setup done (hooks ran, program resolved); the program or loop starts now. */
  | { readonly type: 'ready' }
  | { readonly type: 'fatal'; readonly code: string; readonly message: string; readonly hook: boolean };

/** Master → mule, on the thread's port. */
export type MuleCommand = { readonly type: 'stop' };
