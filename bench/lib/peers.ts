/**
 * Launching benchmark peers (servers) and making sure they die.
 *
 * Every child is spawned in its own process group and tracked; stop() sends SIGTERM to
 * the group, then SIGKILL after a grace period; killChildren() (installed on exit,
 * SIGINT, SIGTERM and uncaught errors by installCleanup()) SIGKILLs whatever is left.
 * Only the process groups of children this process spawned are ever signalled.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { rawGet } from './http-client.js';

const live = new Map<ChildProcess, string>();

/** Track a child so killChildren() reaches it; returns the untrack function. */
export function track(child: ChildProcess, name: string): () => void {
  live.set(child, name);
  return () => { live.delete(child); };
}

function signalGroup(child: ChildProcess, sig: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    // Negative pid: the child's own process group (spawned detached), i.e. its workers too.
    process.kill(-child.pid, sig);
  } catch {
    try { child.kill(sig); } catch { /* already gone */ }
  }
}

/** SIGKILL every tracked child's process group, synchronously (safe in 'exit'). */
export function killChildren(): void {
  for (const child of live.keys()) {
    signalGroup(child, 'SIGKILL');
    // A detached group also holds grandchildren that outlive the leader: kill the group
    // even when the leader itself has exited already.
    if (child.pid !== undefined) {
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* none left */ }
    }
  }
  live.clear();
}

let installed = false;
export function installCleanup(): void {
  if (installed) return;
  installed = true;
  process.on('exit', killChildren);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      killChildren();
      process.exit(130);
    });
  }
  process.on('uncaughtException', (e) => {
    killChildren();
    console.error(e);
    process.exit(1);
  });
  process.on('unhandledRejection', (e) => {
    killChildren();
    console.error(e);
    process.exit(1);
  });
}

/** A port free on 127.0.0.1 right now (the kernel's choice). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen({ host: '127.0.0.1', port: 0 }, () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export interface PeerSpec {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly cwd?: string;
  readonly port: number;
  /** Wait for this in stdout/stderr as well as for an HTTP answer. */
  readonly readyLine?: RegExp;
  /** Ready bound (ms). */
  readonly readyTimeoutMs?: number;
  /** Time between SIGTERM and SIGKILL at stop (ms). */
  readonly stopGraceMs?: number;
}

export interface Peer {
  readonly name: string;
  readonly pid: number;
  readonly port: number;
  /** stdout + stderr so far (capped). */
  output(): string;
  /** SIGTERM the group, SIGKILL after the grace; resolves once the leader exited. */
  stop(): Promise<void>;
}

const OUTPUT_CAP = 64 * 1024;

export async function launchPeer(spec: PeerSpec): Promise<Peer> {
  const child = spawn(spec.command, [...spec.args], {
    cwd: spec.cwd,
    env: { ...process.env, ...spec.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const untrack = track(child, spec.name);
  let out = '';
  const onData = (d: Buffer): void => {
    if (out.length < OUTPUT_CAP) out += d.toString();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const spawnError = new Promise<never>((_, reject) => child.once('error', reject));
  spawnError.catch(() => {});

  const peer: Peer = {
    name: spec.name,
    pid: child.pid ?? -1,
    port: spec.port,
    output: () => out,
    async stop() {
      signalGroup(child, 'SIGTERM');
      const grace = spec.stopGraceMs ?? 3000;
      const t = setTimeout(() => signalGroup(child, 'SIGKILL'), grace);
      await Promise.race([exited, new Promise((r) => setTimeout(r, grace + 2000))]);
      clearTimeout(t);
      // Workers of the group that outlived the leader (cluster, uWSGI) go too.
      if (child.pid !== undefined) {
        try { process.kill(-child.pid, 'SIGKILL'); } catch { /* group empty */ }
      }
      untrack();
    },
  };

  try {
    await Promise.race([spawnError, waitReady(spec, () => out, () => child.exitCode !== null || child.signalCode !== null)]);
  } catch (e) {
    await peer.stop();
    const tail = out.trim().split('\n').slice(-15).join('\n');
    throw new Error(`${spec.name} did not become ready: ${(e as Error).message}\n--- its output ---\n${tail}`);
  }
  return peer;
}

async function waitReady(spec: PeerSpec, output: () => string, dead: () => boolean): Promise<void> {
  const deadline = Date.now() + (spec.readyTimeoutMs ?? 15_000);
  let lineSeen = !spec.readyLine;
  for (let i = 0; i < 1000; i++) {
    if (dead()) throw new Error('exited during startup');
    if (Date.now() > deadline) throw new Error(`not ready after ${spec.readyTimeoutMs ?? 15_000} ms (ready line ${lineSeen ? 'seen' : 'not seen'})`);
    if (!lineSeen && spec.readyLine!.test(output())) lineSeen = true;
    if (lineSeen) {
      const r = await rawGet(spec.port, 500).catch(() => null);
      if (r && r.status === 200) return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('readiness loop exhausted');
}
