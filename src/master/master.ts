/**
 * The master: from resolved options to a running instance. It binds every listener,
 * creates the sharedareas and the scoreboard, spawns and supervises the workers, and
 * owns reload and shutdown. Everything it acquires lives in one ResourceScope, released
 * in reverse order on stop (or when startup fails half-way).
 */
import path from 'node:path';
import { existsSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { reloadMercyMs, type ResolvedOptions } from '../shared/options-table.js';
import { UwsgiError, echo } from '../shared/errors.js';
import { log } from '../shared/log-writer.js';
import { createScoreboard } from '../shared/scoreboard.js';
import type { ListenerInit, WorkerSettings } from '../shared/messages.js';
import { nativeKind } from '../shared/native.js';
import { parseAddress } from '../shared/address.js';
import { parseSharedareaSpec, createSharedareas, attachSharedareas, syncSharedareaFiles, releaseLocksHeldBy } from '../shared/sharedarea.js';
import { setThreadIdentity } from '../shared/thread-identity.js';
import { splitModuleSpec } from '../shared/module-import.js';
import { bindListener, describeListener, tcpMigrateReq, type ListenerRequest, type AcceptModeOption } from './listeners.js';
import { ProxyDispatcher } from './proxy-dispatch.js';
import { ResourceScope } from './resource-scope.js';
import { WorkerPool, type WorkerThreadInfo } from './worker-pool.js';
import { MulePool } from './mule-pool.js';
import { parseTaskFarms } from './task-farm-spec.js';
import { TaskFarms, openTaskFarms } from './task-farms.js';
import { pendingOptionWarnings } from './pending-options.js';
import { watchTouches } from './touch-watch.js';

export interface BoundAddress {
  readonly protocol: 'http' | 'uwsgi';
  /** `host:port` or a UNIX path, with the real port when port 0 was asked. */
  readonly address: string;
  readonly port?: number;
  readonly path?: string;
  readonly acceptMode: string;
}

/**
 * Where the instance is: `running` (serving), `reloading` (a graceful or chain reload is
 * under way; requests are still served), `stopping` (a shutdown is under way), `stopped`.
 */
export type RuntimeState = 'running' | 'reloading' | 'stopping' | 'stopped';

export interface Runtime {
  readonly addresses: readonly BoundAddress[];
  /** What the instance is doing now (see RuntimeState). */
  readonly state: RuntimeState;
  /** The live worker threads (ids are stable across respawns). */
  workers(): WorkerThreadInfo[];
  /**
   * Graceful reload: every worker replaced, none of the queued or in-flight requests lost.
   * Resolves once it is done. During a reload it is ignored (logged) and resolves with the
   * running one; during a shutdown it is ignored (logged) and resolves at once.
   */
  reload(): Promise<void>;
  /** Chain reload: one worker at a time, each next one after its successor accepts (ignored, logged, like reload()). */
  chainReload(): Promise<void>;
  /** Stop. Graceful (default): finish in-flight requests within --reload-mercy. */
  stop(options?: { graceful?: boolean }): Promise<void>;
  /**
   * Pause (SIGTSTP, uWSGI's `p`): every worker stops accepting; new connections wait (in
   * the kernel's accept queue, or held by the master in proxy mode) and in-flight requests
   * finish. Resolves once every worker has stopped accepting. Ignored when already paused.
   */
  pause(): Promise<void>;
  /** Resume after pause(): the waiting connections are served. Ignored when not paused. */
  resume(): Promise<void>;
  /** True between pause() (or a SIGTSTP) and resume() (or a second SIGTSTP). */
  readonly paused: boolean;
  /** Write every file-backed sharedarea back to its file now. */
  syncSharedareas(): Promise<void>;
  /** Resolves once the runtime has stopped, for whatever reason. */
  readonly stopped: Promise<void>;
}

const WORKER_ENTRY = new URL('../worker/worker-main.js', import.meta.url);

function workerSettings(o: ResolvedOptions, cwd: string): WorkerSettings {
  return {
    module: o.module!,
    cwd,
    bufferSize: o['buffer-size'],
    limitPost: o['limit-post'],
    socketTimeout: o['socket-timeout'],
    maxRequests: o['max-requests'],
    harakiri: o.harakiri,
    logging: !o['disable-logging'],
    logMicros: o['log-micros'],
    maxVars: 64,
    httpEngine: o['http-engine'] === 'node' ? 'node' : 'uwsgi-ts',
  };
}

function listenerRequests(o: ResolvedOptions): ListenerRequest[] {
  const out: ListenerRequest[] = [];
  for (const v of o['http-socket']) out.push({ option: 'http-socket', value: v, protocol: 'http' });
  for (const v of o.socket) out.push({ option: 'socket', value: v, protocol: 'uwsgi' });
  return out;
}

function readSomaxconn(): number | null {
  try {
    return Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8').trim());
  } catch {
    return null; // not Linux: the kernel caps the backlog silently there
  }
}

/** Checks that need no thread: fail before anything starts. */
function preflight(o: ResolvedOptions, cwd: string): void {
  // Malformed values first (an address, a sharedarea spec), so a config with several
  // faults reports the bad value rather than a missing piece.
  for (const req of listenerRequests(o)) parseAddress(req.value, req.option);
  for (const v of o.sharedarea) parseSharedareaSpec(v, '--sharedarea');
  if (!o.module) {
    throw new UwsgiError('UWSGI_ERR_NO_APP', 'no application: give --module FILE[:EXPORT] (an Express/Fastify handler or an object with fetch())');
  }
  const { file } = splitModuleSpec(o.module);
  const abs = path.resolve(cwd, file);
  if (!existsSync(abs)) throw new UwsgiError('UWSGI_ERR_APP_LOAD', `--module ${echo(o.module)}: no such file ${echo(abs)}`);
  const somaxconn = readSomaxconn();
  if (somaxconn !== null && o.listen > somaxconn) {
    throw new UwsgiError('UWSGI_ERR_OPTION_VALUE', `--listen ${o.listen}: Listen queue size is greater than the system max net.core.somaxconn (${somaxconn}).`);
  }
  if (listenerRequests(o).length === 0) {
    throw new UwsgiError('UWSGI_ERR_OPTION_MISSING_VALUE', 'no socket to serve: give --http-socket ADDR and/or --socket ADDR');
  }
}

/**
 * Start an instance. `list` is the ordered option list from resolveOptions (it fixes
 * mule ids in command-line order, as uWSGI numbers them).
 */
/** reuseport mode: each worker has its own accept queue; tell the operator what retiring costs. */
function warnReusePortLoss(): void {
  const migrate = tcpMigrateReq();
  if (migrate !== '1') {
    log.line(`*** accept mode reuseport: connections queued on a worker that retires or dies are reset (net.ipv4.tcp_migrate_req=${migrate}; set it to 1, or build the native addon for the shared-queue dup mode) ***`);
  }
}

/**
 * `signal` aborts a startup under way (the CLI's SIGTERM before the runtime is up): the
 * workers still loading are terminated and everything acquired is released.
 */
export async function startRuntime(o: ResolvedOptions, cwd = process.cwd(), list?: ReadonlyArray<readonly [string, string]>, signal?: AbortSignal): Promise<Runtime> {
  preflight(o, cwd);
  const taskFarmSpecs = parseTaskFarms(o['task-farm'], cwd);
  setThreadIdentity({ role: 'master', id: 0 });
  const scope = await ResourceScope.open();
  let resolveStopped!: () => void;
  const stopped = new Promise<void>((r) => { resolveStopped = r; });
  try {
    log.line(`*** Starting uwsgi-ts (node ${process.version}, native helpers: ${nativeKind}) ***`);
    for (const w of pendingOptionWarnings(o)) log.line(w);
    const pidfile = o.pidfile;
    if (pidfile) {
      await scope.acquire(`pidfile ${pidfile}`, () => {
        log.line(`writing pidfile to ${pidfile}`);
        try {
          writeFileSync(pidfile, `${process.pid}\n`);
        } catch (e) {
          throw new UwsgiError('UWSGI_ERR_OPTION_VALUE', `--pidfile ${echo(pidfile)}: cannot write it: ${(e as Error).message}`, { cause: e });
        }
        return pidfile;
      }, (f) => {
        if (!o.vacuum) return;
        unlinkSync(f);
        log.line('VACUUM: pidfile removed.');
      });
    }

    // Sharedareas first: every thread gets them at spawn.
    const specs = o.sharedarea.map((v) => parseSharedareaSpec(v, '--sharedarea'));
    for (const spec of specs) for (const w of spec.warnings) log.line(w);
    const areas = createSharedareas(specs);
    attachSharedareas(areas);
    // uWSGI logs `sharedarea <id> created at <addr> (<pages> pages, area at <addr>)`; threads have no addresses.
    for (const a of areas) log.line(`sharedarea ${a.id} created (${a.pages} pages, ${a.size} bytes${a.file === null ? '' : `, file ${a.file}`})`);
    if (areas.length) {
      await scope.onClose('sharedarea files', () => syncSharedareaFiles());
    }

    // Mule queues exist before any worker, so every worker can reach them from its first request.
    const farms = new TaskFarms();
    const mules = MulePool.create(o, cwd, areas, list, farms);

    // Task farms (piscina pools) next: released after the workers and mules that call them.
    const mercyMs = (o['reload-mercy'] || 60) * 1000;
    await openTaskFarms(scope, farms, taskFarmSpecs, mercyMs);

    // Listeners.
    const proxy = new ProxyDispatcher(() => pool.accepting());
    const listeners: ListenerInit[] = [];
    let index = 0;
    for (const req of listenerRequests(o)) {
      const bound = await scope.acquire(`listener ${req.value}`,
        () => bindListener(req, index, o.listen, o['accept-mode'] as AcceptModeOption),
        (b) => {
          b.close();
          const a = b.init.address;
          if (o.vacuum && a.kind === 'unix' && !a.path.startsWith('@') && existsSync(a.path)) {
            unlinkSync(a.path);
            log.line(`VACUUM: unix socket ${a.path} removed.`);
          }
        });
      if (bound.server) proxy.attach(bound.server, index);
      listeners.push(bound.init);
      log.line(describeListener(bound.init));
      index++;
    }
    const anyProxy = listeners.some((l) => l.mode === 'proxy');
    if (listeners.some((l) => l.mode === 'reuseport')) warnReusePortLoss();

    // Workers.
    const pool: WorkerPool = new WorkerPool({
      workers: o.workers,
      settings: workerSettings(o, cwd),
      listeners,
      sharedareas: areas,
      scoreboard: createScoreboard(o.workers * 2),
      // uWSGI kills a cursed worker at the first master cycle past its mercy (fifo.md §7), so
      // --worker-reload-mercy 0 still gives it up to one cycle: here exactly one --check-interval.
      workerReloadMercyMs: reloadMercyMs(o, 'worker-reload-mercy'),
      // uwsgi-ts's own bound on a new worker's app load; 0 = none (uWSGI has none).
      workerStartTimeoutMs: o['worker-reload-mercy'] * 1000,
      minWorkerLifetimeMs: o['min-worker-lifetime'] * 1000,
      harakiriMs: o.harakiri * 1000,
      proxy: anyProxy ? proxy : undefined,
      taskFarms: farms,
      onThreadExit: (threadId) => {
        for (const r of releaseLocksHeldBy(threadId)) log.line(r.message);
        mules.threadExited(threadId);
      },
      mules: mules.init,
      entry: WORKER_ENTRY,
    });
    await scope.acquire('workers', async () => { await pool.start(signal); return pool; }, (p) => p.stop(true, mercyMs));
    signal?.throwIfAborted();

    // Mules.
    await scope.acquire('mules', async () => { await mules.start(signal); return mules; }, (m) => m.stop(true));

    const addresses: BoundAddress[] = listeners.map((l) => ({
      protocol: l.protocol,
      address: l.name,
      port: l.address.kind === 'tcp' ? l.address.port : undefined,
      path: l.address.kind === 'unix' ? l.address.path : undefined,
      acceptMode: l.mode,
    }));
    log.line(`*** uwsgi-ts is ready: ${o.workers} worker${o.workers === 1 ? '' : 's'}${mules.count ? `, ${mules.count} mule${mules.count === 1 ? '' : 's'}` : ''}${farms.count ? `, ${farms.count} task farm${farms.count === 1 ? '' : 's'}` : ''} accepting on ${addresses.map((a) => a.address).join(', ')} ***`);

    const intervalMs = o['check-interval'] * 1000;
    await scope.onClose('touch-reload', watchTouches(o['touch-reload'], intervalMs, 'grace them all !!!', () => void runtime.reload()));
    await scope.onClose('touch-mules-reload', watchTouches(o['touch-mules-reload'], intervalMs, 'reloading mules', () => void mules.reload()));

    let stopping: Promise<void> | undefined;
    let stoppedNow = false;
    let brutal = false;
    let reloading: Promise<void> | undefined;
    /** A reload that cannot start now: logged as ignored (uWSGI ignores it too, fifo.md §5), and why. */
    const reloadRefused = (what: string): Promise<void> | undefined => {
      if (stopping) {
        log.line(`${what} ignored: the instance is shutting down`);
        return Promise.resolve();
      }
      if (reloading) {
        log.line(`${what} ignored: a reload is already running`);
        return reloading;
      }
      return undefined;
    };
    const runtime: Runtime = {
      addresses,
      get state(): RuntimeState {
        return stoppedNow ? 'stopped' : stopping ? 'stopping' : reloading ? 'reloading' : 'running';
      },
      workers: () => pool.threads(),
      get paused(): boolean {
        return pool.isPaused;
      },
      pause() {
        if (pool.isPaused || stopping) return Promise.resolve();
        log.line('*** PAUSE (press start to resume, if you do not have a joypad send SIGTSTP) ***');
        proxy.setPaused(true);
        return pool.pauseAll(true);
      },
      resume() {
        if (!pool.isPaused || stopping) return Promise.resolve();
        log.line('*** (SIGTSTP received) resuming workers ***');
        const resumed = pool.pauseAll(false);
        // the workers listen again first; proxy mode hands the held connections over
        proxy.setPaused(false);
        return resumed;
      },
      reload() {
        const refused = reloadRefused('graceful reload');
        if (refused) return refused;
        reloading = Promise.all([syncSharedareaFiles(), pool.reload(), mules.reload()]).then(() => undefined).finally(() => { reloading = undefined; });
        return reloading;
      },
      chainReload() {
        const refused = reloadRefused('chain reload');
        if (refused) return refused;
        log.line('chain reload starting...');
        reloading = pool.chainReload().then((complete) => {
          log.line(complete ? 'chain reloading complete' : 'chain reload interrupted: the instance is shutting down');
        }).finally(() => { reloading = undefined; });
        return reloading;
      },
      stop(options) {
        const graceful = options?.graceful ?? true;
        if (stopping && !graceful && !brutal) {
          // a brutal stop during a graceful one (a second SIGINT, SIGQUIT): cut what still runs now
          brutal = true;
          log.line('brutal shutdown: stopping every thread now...');
          farms.abandon();
          void Promise.all([pool.stop(false, 0), mules.stop(false)]);
        }
        brutal ||= !graceful;
        stopping ??= (async () => {
          log.line(graceful ? 'graceful shutdown: finishing in-flight requests...' : 'brutal shutdown: stopping every thread now...');
          proxy.dropHeld();
          if (!graceful) {
            farms.abandon();
            await Promise.all([pool.stop(false, 0), mules.stop(false)]);
          }
          await scope.close();
          log.line('goodbye to uWSGI.');
          log.flushSync();
          stoppedNow = true;
          resolveStopped();
        })();
        return stopping;
      },
      syncSharedareas: () => syncSharedareaFiles(),
      stopped,
    };
    return runtime;
  } catch (e) {
    await scope.close();
    log.flushSync();
    throw e;
  }
}
