/**
 * The master binds every listening socket once, before any thread starts, and owns it
 * until shutdown. How workers then take connections depends on the accept mode (see
 * worker/listen.ts): in dup mode the master holds a native fd that no event loop
 * watches; in reuseport mode it only checks that the address can be bound; in proxy
 * mode it accepts every connection itself and forwards bytes to a worker.
 */
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { UwsgiError, echo } from '../shared/errors.js';
import { sockets } from '../shared/native.js';
import { parseAddress, formatAddress, type SocketAddress } from '../shared/address.js';
import type { AcceptMode, ListenerInit, ListenerProtocol } from '../shared/messages.js';

export interface ListenerRequest {
  readonly option: string;
  readonly value: string;
  readonly protocol: ListenerProtocol;
}

export interface BoundListener {
  readonly init: ListenerInit;
  /** proxy mode: the master's accepting server. */
  readonly server?: net.Server;
  close(): void;
}

export function reusePortSupported(version = process.versions.node): boolean {
  const [maj, min] = version.split('.').map(Number);
  return maj > 23 || (maj === 23 && min >= 1) || (maj === 22 && min >= 12);
}

export type AcceptModeOption = 'auto' | AcceptMode;

export function chooseAcceptMode(wanted: AcceptModeOption, address: SocketAddress, name: string): AcceptMode {
  if (wanted === 'dup') {
    if (!sockets) throw new UwsgiError('UWSGI_ERR_OPTION_VALUE', `--accept-mode dup for ${echo(name)} needs the native addon, which is not available (${nativeReason()})`);
    return 'dup';
  }
  if (wanted === 'reuseport') {
    if (!reusePortSupported()) throw new UwsgiError('UWSGI_ERR_OPTION_VALUE', `--accept-mode reuseport needs Node >= 22.12 (this is ${process.versions.node})`);
    if (address.kind !== 'tcp') throw new UwsgiError('UWSGI_ERR_OPTION_VALUE', `--accept-mode reuseport cannot serve UNIX socket ${echo(name)}`);
    return 'reuseport';
  }
  if (wanted === 'proxy') return 'proxy';
  if (sockets) return 'dup';
  // Without the addon, per-thread SO_REUSEPORT listeners are fast, but each has its own
  // accept queue and closing one (reload, max-requests, crash) resets what is queued on it,
  // unless the kernel migrates those connections (net.ipv4.tcp_migrate_req=1). A reload
  // must lose no request, so auto picks reuseport only when the kernel migrates them.
  if (address.kind === 'tcp' && reusePortSupported() && tcpMigrateReq() === '1') return 'reuseport';
  return 'proxy';
}

/** net.ipv4.tcp_migrate_req ('1' = queued connections move to another listener on close). */
export function tcpMigrateReq(): string {
  try {
    return readFileSync('/proc/sys/net/ipv4/tcp_migrate_req', 'utf8').trim();
  } catch {
    return 'unavailable'; // older kernels and other systems have no such setting
  }
}

function nativeReason(): string {
  return 'build it with `node scripts/build-native.mjs`, and unset UWSGI_TS_NATIVE=0';
}

function bindError(name: string, e: unknown): UwsgiError {
  const msg = e instanceof Error ? e.message : String(e);
  return new UwsgiError('UWSGI_ERR_BIND', `unable to create server socket on: ${name}: ${msg}`, { cause: e });
}

function listenNet(server: net.Server, opts: net.ListenOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

export async function bindListener(req: ListenerRequest, index: number, backlog: number, wanted: AcceptModeOption): Promise<BoundListener> {
  const address = parseAddress(req.value, req.option);
  const mode = chooseAcceptMode(wanted, address, req.value);
  if (mode === 'dup') {
    const native = sockets!;
    try {
      if (address.kind === 'tcp') {
        const { fd, port } = native.listenTcp(address.host, address.port, backlog);
        const bound: SocketAddress = { kind: 'tcp', host: address.host, port };
        return { init: { index, protocol: req.protocol, address: bound, name: formatAddress(bound), mode, fd, backlog }, close: () => native.close(fd) };
      }
      const fd = native.listenUnix(address.path, backlog);
      return { init: { index, protocol: req.protocol, address, name: address.path, mode, fd, backlog }, close: () => native.close(fd) };
    } catch (e) {
      throw bindError(req.value, e);
    }
  }
  if (mode === 'reuseport') {
    if (address.kind !== 'tcp') throw bindError(req.value, new Error('reuseport needs TCP'));
    // Check the address can be bound (and resolve port 0) before any thread starts.
    const probe = net.createServer();
    try {
      await listenNet(probe, { host: address.host || undefined, port: address.port, reusePort: true, backlog } as net.ListenOptions);
    } catch (e) {
      throw bindError(req.value, e);
    }
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const bound: SocketAddress = { kind: 'tcp', host: address.host, port };
    return { init: { index, protocol: req.protocol, address: bound, name: formatAddress(bound), mode, backlog }, close: () => {} };
  }
  // allowHalfOpen: a uwsgi front end may half-close after its packet and still read the response;
  // the worker ends the connection when its response is done.
  const server = net.createServer({ noDelay: true, allowHalfOpen: true });
  try {
    if (address.kind === 'tcp') await listenNet(server, { host: address.host || undefined, port: address.port, backlog });
    else await listenNet(server, { path: address.path, backlog });
  } catch (e) {
    throw bindError(req.value, e);
  }
  let bound: SocketAddress = address;
  if (address.kind === 'tcp') bound = { kind: 'tcp', host: address.host, port: (server.address() as net.AddressInfo).port };
  return {
    init: { index, protocol: req.protocol, address: bound, name: formatAddress(bound), mode, backlog },
    server,
    close: () => server.close(),
  };
}

export function describeListener(l: ListenerInit): string {
  const kind = l.address.kind === 'tcp' ? 'TCP' : 'UNIX';
  const fd = l.fd !== undefined ? ` fd ${l.fd}` : '';
  return `${l.protocol === 'http' ? 'http' : 'uwsgi'} socket ${l.index} bound to ${kind} address ${l.name}${fd} (accept mode ${l.mode})`;
}
