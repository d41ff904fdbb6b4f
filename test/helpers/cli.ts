/**
 * Start the real CLI (`node dist/cli.js …`) as a child process, wait for it to be
 * ready, and read the addresses it bound from its startup log. Every wait is bounded;
 * `stop()` ends the process (SIGTERM, then SIGKILL after a grace period).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI = path.join(ROOT, 'dist', 'cli.js');
export const FIXTURES = path.join(ROOT, 'test', 'fixtures');

export interface RunningServer {
  readonly child: ChildProcess;
  /** Bound addresses in option order, e.g. `127.0.0.1:41234` or a UNIX path. */
  readonly addresses: string[];
  /** Ports of the TCP addresses, in order. */
  readonly ports: number[];
  /** Everything the process wrote so far (stdout + stderr). */
  output(): string;
  /** Resolve when `re` matches the output (bounded by timeoutMs). */
  waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  signal(sig: NodeJS.Signals): void;
  /** Resolves with the exit code. */
  readonly exited: Promise<number | null>;
  stop(sig?: NodeJS.Signals, graceMs?: number): Promise<number | null>;
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  readyTimeoutMs?: number;
  /** Do not wait for the ready line (for commands expected to fail). */
  noWait?: boolean;
  /** Run this command line instead of `node dist/cli.js` (e.g. strace … node dist/cli.js); args are appended. */
  wrapper?: string[];
}

export function runCli(args: string[], opts: RunOptions = {}): Promise<RunningServer> {
  const [cmd, ...pre] = opts.wrapper ?? [process.execPath, CLI];
  const child = spawn(cmd, [...pre, ...args], {
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const waiters = new Set<() => void>();
  const onData = (d: Buffer) => {
    out += d.toString();
    for (const w of [...waiters]) w();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  let done = false;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => {
    done = true;
    for (const w of [...waiters]) w();
    resolve(code);
  }));

  const waitFor = (re: RegExp, timeoutMs = 15_000): Promise<RegExpMatchArray> =>
    new Promise((resolve, reject) => {
      const check = () => {
        const m = out.match(re);
        if (m) {
          cleanup();
          resolve(m);
        } else if (done) {
          cleanup();
          reject(new Error(`process exited before ${re} appeared; output:\n${out}`));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${re}; output:\n${out}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });

  const server: RunningServer = {
    child,
    addresses: [],
    ports: [],
    output: () => out,
    waitFor,
    signal: (sig) => { if (!done) child.kill(sig); },
    exited,
    async stop(sig = 'SIGTERM', graceMs = 15_000) {
      if (done) return exited;
      child.kill(sig);
      const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
  };
  if (opts.noWait) return Promise.resolve(server);
  return waitFor(/\*\*\* uwsgi-ts is ready/, opts.readyTimeoutMs ?? 20_000).then(
    () => {
      for (const m of out.matchAll(/socket \d+ bound to (?:TCP|UNIX) address (\S+)/g)) {
        server.addresses.push(m[1]);
        const p = /:(\d+)$/.exec(m[1]);
        if (p) server.ports.push(Number(p[1]));
      }
      return server;
    },
    async (e) => {
      child.kill('SIGKILL');
      throw e;
    },
  );
}

/** Run the CLI to completion (for commands that exit by themselves), bounded in time. */
export async function runCliToExit(args: string[], opts: RunOptions & { timeoutMs?: number } = {}): Promise<{ code: number | null; output: string }> {
  const s = await runCli(args, { ...opts, noWait: true });
  const t = setTimeout(() => s.child.kill('SIGKILL'), opts.timeoutMs ?? 20_000);
  const code = await s.exited;
  clearTimeout(t);
  return { code, output: s.output() };
}

/** The servers of bothEngines(): set once the suite's `before` hook ran. */
export interface BothEngines {
  /** own engine: ports[0] HTTP, ports[1] uwsgi */
  own: RunningServer;
  /** `--http-engine node`: ports[0] HTTP */
  node: RunningServer;
}

/**
 * The same app on both HTTP engines, one worker each, started in the suite's `before` hook
 * and stopped in its `after` hook: the own engine with an HTTP and a uwsgi listener, and
 * `--http-engine node` with HTTP only.
 */
export function bothEngines(suite: { before(fn: () => Promise<void>): void; after(fn: () => Promise<void>): void }, app: string): BothEngines {
  const servers = {} as BothEngines;
  suite.before(async () => {
    [servers.own, servers.node] = await Promise.all([
      runCli(['--http-socket', '127.0.0.1:0', '--socket', '127.0.0.1:0', '--workers', '1', '--module', app]),
      runCli(['--http-socket', '127.0.0.1:0', '--http-engine', 'node', '--workers', '1', '--module', app]),
    ]);
  });
  suite.after(async () => {
    await Promise.all([servers.own?.stop(), servers.node?.stop()]);
  });
  return servers;
}
