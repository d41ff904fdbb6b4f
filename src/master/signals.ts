/**
 * Unix signals on the master thread, mapped as the issue and fifo.md §8 say:
 * SIGTERM, SIGINT → graceful shutdown (bounded by --reload-mercy); SIGHUP → graceful
 * reload; SIGQUIT → brutal shutdown. A second SIGINT/SIGTERM during a graceful
 * shutdown turns it brutal. SIGUSR1 prints the request counters (uWSGI's stats; it
 * also keeps Node from opening its inspector). SIGUSR2 prints what every worker is doing
 * instead of killing the master (uWSGI's default action; see docs/signals.md). SIGTSTP
 * pauses the workers, a second one resumes them.
 */
import type { Runtime } from './master.js';
import { log } from '../shared/log-writer.js';

export function installSignals(runtime: Runtime, _opts: { dieOnTerm: boolean }): () => void {
  let shuttingDown = false;
  const graceful = (sig: string) => () => {
    if (shuttingDown) {
      log.line(`${sig} received during graceful shutdown: stopping every thread now`);
      void runtime.stop({ graceful: false });
      return;
    }
    shuttingDown = true;
    log.line(`${sig} received: graceful shutdown`);
    void runtime.stop({ graceful: true });
  };
  const onTerm = graceful('SIGTERM');
  const onInt = graceful('SIGINT');
  const onHup = () => {
    // ignored while a reload or a shutdown runs, as uWSGI ignores it (fifo.md §5): said so, not claimed as a reload
    const state = runtime.state;
    if (state !== 'running') {
      log.line(`SIGHUP received: ignored, ${state === 'reloading' ? 'a reload is already running' : 'the instance is shutting down'}`);
      return;
    }
    log.line('SIGHUP received: graceful reload');
    void runtime.reload();
  };
  const onQuit = () => {
    shuttingDown = true;
    log.line('SIGQUIT received: brutal shutdown');
    void runtime.stop({ graceful: false });
  };
  // uWSGI's stats (fifo.md §8). The listener also keeps Node's default SIGUSR1 action,
  // opening the inspector on 127.0.0.1:9229, off a production server.
  const onUsr1 = () => {
    const workers = runtime.workers().sort((a, b) => a.id - b.id || a.generation - b.generation);
    let text = `workers total requests: ${workers.reduce((n, w) => n + w.requests, 0)}\n-----------------\n`;
    for (const w of workers) text += `worker ${w.id} app 0 [] requests: ${w.requests} exceptions: ${w.exceptions}\n-----------------\n`;
    log.line(text);
  };
  // SIGTSTP toggles pause/resume as in uWSGI (fifo.md §6); the listener also keeps Node's
  // default action (stopping the whole process, as Ctrl-Z in a terminal would) off the server
  const onTstp = () => {
    if (runtime.paused) void runtime.resume();
    else void runtime.pause();
  };
  const onUsr2 = () => {
    for (const w of runtime.workers()) log.line(`SIGUSR2: worker ${w.id} (thread ${w.threadId}) ${w.state}`);
  };
  process.on('SIGTERM', onTerm);
  process.on('SIGINT', onInt);
  process.on('SIGHUP', onHup);
  process.on('SIGQUIT', onQuit);
  process.on('SIGUSR1', onUsr1);
  process.on('SIGUSR2', onUsr2);
  process.on('SIGTSTP', onTstp);
  return () => {
    process.off('SIGTERM', onTerm);
    process.off('SIGINT', onInt);
    process.off('SIGHUP', onHup);
    process.off('SIGQUIT', onQuit);
    process.off('SIGUSR1', onUsr1);
    process.off('SIGUSR2', onUsr2);
    process.off('SIGTSTP', onTstp);
  };
}
