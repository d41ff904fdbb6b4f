/**
 * What the master hands a worker at spawn, and the messages between them.
 *
 * Events (worker → master) travel on the worker's `parentPort` as plain objects of the
 * `WorkerEvent` union. Control calls (master → worker: stop, stats) are comlink calls on
 * a dedicated MessagePort (see master/control.ts and worker/control.ts); every call
 * carries a timeout on the master side.
 */
import type { SocketAddress } from './address.js';
import type { ScoreboardInit } from './scoreboard.js';
import type { MessagePort } from 'node:worker_threads';

export type ListenerProtocol = 'http' | 'uwsgi';
export type AcceptMode = 'dup' | 'reuseport' | 'proxy';

/** One listening socket as a worker sees it. */
export interface ListenerInit {
  readonly index: number;
  readonly protocol: ListenerProtocol;
  readonly address: SocketAddress;
  /** The bound address as text (with the real port when port 0 was asked). */
  readonly name: string;
  readonly mode: AcceptMode;
  /** dup mode: the master's listening fd, which the worker dup()s for itself. */
  readonly fd?: number;
  readonly backlog: number;
}

/** The subset of options a worker needs, already validated by the master. */
export interface WorkerSettings {
  readonly module: string;
  readonly cwd: string;
  readonly bufferSize: number;
  readonly limitPost: number;
  readonly socketTimeout: number;
  readonly maxRequests: number;
  readonly harakiri: number;
  readonly logging: boolean;
  readonly logMicros: boolean;
  readonly maxVars: number;
  /** --http-engine: who parses HTTP sockets */
  readonly httpEngine: 'uwsgi-ts' | 'node';
}

export interface WorkerInit {
  readonly role: 'worker';
  readonly id: number;
  readonly slot: number;
  readonly generation: number;
  readonly listeners: readonly ListenerInit[];
  readonly settings: WorkerSettings;
  readonly scoreboard: ScoreboardInit;
  readonly sharedareas: readonly unknown[];
  /** Mule queues (see shared/mule-queues.ts); null without mules. */
  readonly mules: unknown;
  /** Port for comlink control calls from the master. */
  readonly control: MessagePort;
  /** proxy mode: port on which the master forwards connections' bytes. */
  readonly proxy?: MessagePort;
  /** Task farms: this thread's port for runInFarm() requests (shared/task-farm-api.ts); absent without --task-farm. */
  readonly tasks?: MessagePort;
  /** The instance is paused (SIGTSTP): load the app and report accepting, but open no listener until resume(). */
  readonly paused?: boolean;
}

export type WorkerEvent =
  | { readonly type: 'accepting' }
  | { readonly type: 'app-loaded'; readonly kind: string; readonly ms: number }
  | { readonly type: 'retire'; readonly reason: 'max-requests' }
  | { readonly type: 'fatal'; readonly code: string; readonly message: string };

/** Control API a worker exposes to the master over comlink. */
export interface WorkerControl {
  /** Stop accepting, finish in-flight requests, close idle connections, resolve when done or after `mercyMs`. */
  stop(mercyMs: number): Promise<{ drained: boolean; inflight: number }>;
  stats(): Promise<{ requests: number; inflight: number; connections: number; heapUsed: number }>;
  /** Stop accepting (close this thread's listeners; connections wait in the kernel queue); in-flight requests go on. */
  pause(): Promise<void>;
  /** Accept again (reopen the listeners). */
  resume(): Promise<void>;
}

/** Proxy-mode frames (master ⇄ worker) for connections the master owns. */
export type ProxyFrame =
  | { readonly t: 'open'; readonly cid: number; readonly listener: number; readonly remoteAddress: string; readonly remotePort: number; readonly localAddress: string; readonly localPort: number }
  | { readonly t: 'data'; readonly cid: number; readonly data: Uint8Array }
  | { readonly t: 'end'; readonly cid: number }
  /** reset: the client reset the connection (the worker's socket then fails with ECONNRESET, as a real one would) */
  | { readonly t: 'close'; readonly cid: number; readonly reset?: boolean };
