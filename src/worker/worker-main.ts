/**
 * Entry point of a worker thread: load the app, open the listeners the master bound,
 * announce "accepting", serve until the master stops us.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { UwsgiError, isUwsgiError } from '../shared/errors.js';
import { log } from '../shared/log-writer.js';
import { Scoreboard, WorkerStatus } from '../shared/scoreboard.js';
import type { WorkerControl, WorkerEvent, WorkerInit } from '../shared/messages.js';
import { exposeControl } from '../shared/control-channel.js';
import { attachThreadResources } from '../shared/thread-wiring.js';
import { loadApp } from './app-loader.js';
import { createRequestServer, closeIdleConnections, endKeepAlive, type ServeState } from './serve.js';
import { openListener, connectionSink, directHttpListener, type OpenListener } from './listen.js';
import { attachProxyPort } from './proxy-socket.js';

const init = workerData as WorkerInit;
const port = parentPort!;
const post = (e: WorkerEvent): void => port.postMessage(e);

attachThreadResources({ role: 'worker', id: init.id }, { sharedareas: init.sharedareas, mules: init.mules, tasks: init.tasks });
const scoreboard = new Scoreboard(init.scoreboard);

async function main(): Promise<void> {
  const t0 = Date.now();
  const app = await loadApp(init.settings.module, init.settings.cwd);
  post({ type: 'app-loaded', kind: app.kind, ms: Date.now() - t0 });

  const { server, uwsgiServer, state, logRefusedPacket } = createRequestServer(app.handler, {
    settings: init.settings,
    workerId: init.id,
    slot: init.slot,
    scoreboard,
    onMaxRequests: () => post({ type: 'retire', reason: 'max-requests' }),
  });
  // A request server that does not listen itself gets its connections emitted into it;
  // 'listening' then sets up Node's connection tracking (idle-connection closing, timeouts).
  const direct = directHttpListener(init.listeners);
  if (!direct) server.emit('listening');
  uwsgiServer.emit('listening');
  const servers = { http: server, uwsgi: uwsgiServer, logRefusedPacket };

  let listeners: OpenListener[] = [];
  const openAll = async (): Promise<void> => {
    for (const l of init.listeners) listeners.push(await openListener(servers, l, init.settings, init.id, l === direct));
  };
  // SIGTSTP (fifo.md §6): a paused worker accepts nothing; connections wait in the kernel's
  // queue (dup mode; the master holds them in proxy mode) and in-flight requests go on
  let paused = init.paused === true;
  if (paused) log.line(`*** worker ${init.id} suspended ***`);
  else await openAll();
  if (init.proxy) {
    const sinks = init.listeners.map((l) => connectionSink(servers, l, init.settings, init.id));
    attachProxyPort(init.proxy, (i) => sinks[i] as (s: unknown) => void);
  }

  const control: WorkerControl = {
    async stop(mercyMs: number) {
      state.stopping = true;
      scoreboard.setStatus(init.slot, WorkerStatus.Retiring);
      await Promise.all(listeners.map((l) => l.close()));
      endKeepAlive(state);
      const graceMs = Math.min(mercyMs, init.settings.socketTimeout * 1000);
      closeIdleConnections(state, graceMs);
      const drained = await drain(state, graceMs, mercyMs);
      const inflight = state.inflight;
      server.closeAllConnections();
      uwsgiServer.closeAllConnections();
      for (const sock of state.connections) sock.destroy();
      log.flushSync();
      return { drained, inflight };
    },
    async pause() {
      if (paused || state.stopping) return;
      paused = true;
      const open = listeners;
      listeners = [];
      await Promise.all(open.map((l) => l.close()));
      log.line(`*** worker ${init.id} suspended ***`);
    },
    async resume() {
      if (!paused || state.stopping) return;
      paused = false;
      await openAll();
      log.line(`*** worker ${init.id} resumed ***`);
    },
    async stats() {
      return {
        requests: state.served,
        inflight: state.inflight,
        connections: state.connections.size,
        heapUsed: process.memoryUsage().heapUsed,
      };
    },
  };
  exposeControl(control, init.control);
  scoreboard.setStatus(init.slot, WorkerStatus.Accepting);
  post({ type: 'accepting' });
}

/** Resolve true once no request is in flight and every connection has closed, false at the mercy deadline. */
function drain(state: ServeState, graceMs: number, mercyMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const deadline = Date.now() + mercyMs;
    const tick = (): void => {
      if (state.inflight === 0 && state.connections.size === 0) return resolve(true);
      if (Date.now() >= deadline) return resolve(state.inflight === 0);
      closeIdleConnections(state, graceMs);
      setTimeout(tick, 20);
    };
    tick();
  });
}

main().catch((e: unknown) => {
  const err = isUwsgiError(e) ? e : new UwsgiError('UWSGI_ERR_APP_LOAD', e instanceof Error ? (e.stack ?? e.message) : String(e));
  post({ type: 'fatal', code: err.code, message: err.message });
  log.flushSync();
  process.exit(1);
});
