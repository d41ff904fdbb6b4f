/**
 * How a worker takes connections from the listeners the master bound, per accept mode:
 * - dup: `dup()` the master's listening fd (native addon) and listen on the copy; every
 *   worker then accepts from the one kernel queue, and closing a worker's server closes
 *   only its own copy (node-threads.md).
 * - reuseport: the worker binds its own SO_REUSEPORT listener (Node ≥ 22.12).
 * - proxy: the master owns the connections and forwards bytes (see proxy-socket.ts).
 *
 * Every accepted socket is handed to the one request server: HTTP sockets as they are,
 * uwsgi-protocol sockets wrapped in their adapter.
 */
import net from 'node:net';
import type http from 'node:http';
import type { RequestServer } from './serve.js';
import { sockets } from '../shared/native.js';
import { UwsgiError } from '../shared/errors.js';
import type { ListenerInit, WorkerSettings } from '../shared/messages.js';
import { wrapUwsgiSocket } from './uwsgi-connection.js';
import { UwsgiPacketError } from '../shared/uwsgi-packet.js';
import { log } from '../shared/log-writer.js';

export interface OpenListener {
  readonly init: ListenerInit;
  readonly server: net.Server | null;
  close(): Promise<void>;
}

/** The request servers a worker hands connections to, per protocol. */
export interface RequestServers {
  readonly http: RequestServer;
  readonly uwsgi: http.Server;
  /** the request log line uWSGI still writes for a packet refused after its header */
  readonly logRefusedPacket: (err: UwsgiPacketError) => void;
}

export function connectionSink(servers: RequestServers, init: ListenerInit, settings: WorkerSettings, workerId: number): (socket: net.Socket) => void {
  if (init.protocol === 'http') {
    const server = servers.http;
    return (socket) => server.emit('connection', socket);
  }
  const server = servers.uwsgi;
  return (socket) => {
    const adapter = wrapUwsgiSocket(socket, {
      bufferSize: settings.bufferSize,
      maxVars: settings.maxVars,
      limitPost: settings.limitPost,
      socketTimeout: settings.socketTimeout * 1000,
      onProtocolError(peer, err) {
        log.line(`[${err.code}] worker ${workerId}: uwsgi packet from ${peer} on ${init.name}: ${err.message}`);
        if (err instanceof UwsgiPacketError) servers.logRefusedPacket(err);
      },
      onBodyReadError(peer, err) {
        log.line(`[${err.code}] worker ${workerId}: request body from ${peer} on ${init.name}: ${err.message}`);
      },
      // uWSGI's ping plugin logs exactly this line per ping (protocol.md §8); a ping is not a request
      onPing() {
        log.line('PING');
      },
    });
    server.emit('connection', adapter);
  };
}

function listenOn(server: net.Server, what: net.ListenOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error) => reject(e);
    server.once('error', onError);
    server.listen(what, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/**
 * The listener that the HTTP request server takes itself (the first HTTP listener not in
 * proxy mode): its connections then go straight into Node's HTTP layer, with no
 * `net.Server` in between. Every other listener hands its connections over.
 */
export function directHttpListener(listeners: readonly ListenerInit[]): ListenerInit | undefined {
  return listeners.find((l) => l.protocol === 'http' && l.mode !== 'proxy');
}

/**
 * Close a listening server without touching its connections: `http.Server.close()` would
 * also close every idle connection, including ones accepted a moment ago whose request
 * has not arrived yet; the graceful stop handles those (serve.ts closeIdleConnections).
 */
function closeListening(server: net.Server): Promise<void> {
  // The listening handle closes now; the close callback would wait for every connection
  // to end (keep-alive ones included), which is the graceful stop's job, not this one's.
  net.Server.prototype.close.call(server, (err?: Error) => {
    if (err && (err as NodeJS.ErrnoException).code !== 'ERR_SERVER_NOT_RUNNING') log.line(`[UWSGI_ERR_BIND] closing listener: ${err.message}`);
  });
  return Promise.resolve();
}

export async function openListener(servers: RequestServers, init: ListenerInit, settings: WorkerSettings, workerId: number, direct = false): Promise<OpenListener> {
  if (init.mode === 'proxy') {
    return { init, server: null, close: async () => {} };
  }
  let server: net.Server;
  if (direct && init.protocol === 'http') {
    server = servers.http;
  } else {
    server = net.createServer({ noDelay: true }, connectionSink(servers, init, settings, workerId));
  }
  server.on('error', (e) => log.line(`[UWSGI_ERR_BIND] worker ${workerId}: listener ${init.name}: ${e.message}`));
  if (init.mode === 'dup') {
    if (!sockets || init.fd === undefined) {
      throw new UwsgiError('UWSGI_ERR_NATIVE', `accept mode "dup" for ${init.name} needs the native addon`);
    }
    const fd = sockets.dup(init.fd);
    try {
      await listenOn(server, { fd } as net.ListenOptions);
    } catch (e) {
      sockets.close(fd);
      throw new UwsgiError('UWSGI_ERR_BIND', `worker ${workerId}: cannot listen on dup of fd ${init.fd} (${init.name}): ${(e as Error).message}`, { cause: e });
    }
  } else {
    if (init.address.kind !== 'tcp') throw new UwsgiError('UWSGI_ERR_BIND', `accept mode "reuseport" cannot serve UNIX socket ${init.name}`);
    const addr = init.name.startsWith('[') ? init.name.slice(1, init.name.lastIndexOf(']')) : init.name.slice(0, init.name.lastIndexOf(':'));
    const port = Number(init.name.slice(init.name.lastIndexOf(':') + 1));
    await listenOn(server, { host: addr || undefined, port, backlog: init.backlog, reusePort: true } as net.ListenOptions);
  }
  return {
    init,
    server,
    close: () => closeListening(server),
  };
}
