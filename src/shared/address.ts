/**
 * Socket address syntax shared by every listener option: `host:port`, `:port`
 * (every interface, as in uWSGI), `[v6]:port`, or a UNIX socket path (`@name` is
 * the Linux abstract namespace).
 */
import { UwsgiError, echo } from './errors.js';

export type SocketAddress =
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number }
  | { readonly kind: 'unix'; readonly path: string };

export function parseAddress(value: string, option: string): SocketAddress {
  const v = value.trim();
  if (v === '') throw new UwsgiError('UWSGI_ERR_ADDRESS', `empty address for option --${option}`);
  if (!v.includes(':')) return { kind: 'unix', path: v };
  let host: string;
  let portText: string;
  if (v.startsWith('[')) {
    const end = v.indexOf(']');
    if (end < 0 || v[end + 1] !== ':') {
      throw new UwsgiError('UWSGI_ERR_ADDRESS', `malformed IPv6 address for option --${option}: ${echo(value)} (expected [addr]:port)`);
    }
    host = v.slice(1, end);
    portText = v.slice(end + 2);
  } else {
    const i = v.lastIndexOf(':');
    host = v.slice(0, i);
    portText = v.slice(i + 1);
    if (host.includes(':')) {
      throw new UwsgiError('UWSGI_ERR_ADDRESS', `malformed address for option --${option}: ${echo(value)} (write IPv6 hosts as [addr]:port)`);
    }
  }
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) {
    throw new UwsgiError('UWSGI_ERR_ADDRESS', `invalid port for option --${option}: ${echo(value)} (expected 0-65535)`);
  }
  if (host === '*') host = '';
  return { kind: 'tcp', host, port: Number(portText) };
}

export function formatAddress(a: SocketAddress): string {
  if (a.kind === 'unix') return a.path;
  const h = a.host.includes(':') ? `[${a.host}]` : a.host;
  return `${h}:${a.port}`;
}
