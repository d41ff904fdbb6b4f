/**
 * uWSGI's default request log line (`uwsgi_logit_simple`, logging.md §2):
 *
 * [pid: P|app: A|req: R/T] ADDR (USER) {V vars in S bytes} [CTIME] METHOD URI => generated N bytes in T msecs (PROTO STATUS) H headers in HS bytes (W switches on core C)
 */

export interface RequestLogFields {
  pid: number;
  app: number;
  appRequests: number;
  total: number;
  addr: string;
  user: string;
  vars: number;
  pktsize: number;
  startMs: number;
  method: string;
  uri: string;
  rsize: number;
  /** response time in microseconds */
  micros: number;
  proto: string;
  status: number;
  headers: number;
  hsize: number;
  switches: number;
  core: number;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad2 = (n: number): string => (n < 10 ? '0' + n : String(n));

/** C `ctime()` without the newline, local time: `Wed Nov 25 12:00:37 2026`, day space-padded. */
export function ctime(ms: number): string {
  const d = new Date(ms);
  const day = d.getDate();
  return `${DAYS[d.getDay()]} ${MONTHS[d.getMonth()]} ${day < 10 ? ' ' + day : day} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())} ${d.getFullYear()}`;
}

let cachedSecond = -1;
let cachedCtime = '';
/** ctime() cached per second: the log line needs it once per request. */
export function ctimeCached(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s !== cachedSecond) {
    cachedSecond = s;
    cachedCtime = ctime(ms);
  }
  return cachedCtime;
}

const MAX_LINE = 4096;

export function formatDefaultLine(f: RequestLogFields, micros: boolean): string {
  const rt = micros ? `${f.micros} micros` : `${Math.floor(f.micros / 1000)} msecs`;
  const appreq = f.app < 0 || f.appRequests === 0 ? -1 : f.appRequests;
  const head = `[pid: ${f.pid}|app: ${f.app}|req: ${appreq}/${f.total}] `;
  const tail = ` => generated ${f.rsize} bytes in ${rt} (${f.proto} ${f.status}) ${f.headers} headers in ${f.hsize} bytes (${f.switches} switches on core ${f.core})\n`;
  const line = `${head}${f.addr} (${f.user}) {${f.vars} vars in ${f.pktsize} bytes} [${ctimeCached(f.startMs)}] ${f.method} ${f.uri}${tail}`;
  if (line.length <= MAX_LINE) return line;
  // uWSGI's overflow fallback: address, user, method and URI are dropped.
  const reduced = `${head}0.0.0.0 () {${f.vars} vars in ${f.pktsize} bytes} [${ctimeCached(f.startMs)}] - - => generated ${f.rsize} bytes in ${rt} (- ${f.status}) ${f.headers} headers in ${f.hsize} bytes (${f.switches} switches on core ${f.core})\n`;
  return reduced.length <= MAX_LINE ? reduced : reduced.slice(0, MAX_LINE - 1) + '\n';
}
