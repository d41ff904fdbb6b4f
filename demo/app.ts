// The `npm start` demo: two workers count hits in a sharedarea every thread sees, and a
// mule runs background jobs whose results land in the same area.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sharedarea, muleMsg, muleGetMsg, muleId, workerId, MULE_STOP, MULE_TIMEOUT } from 'uwsgi-ts';

// Sharedarea 0 layout (int64 slots): 0 = hits, 1 = jobs queued, 2 = jobs done, 3 = sum of job results.
const HITS = 0, QUEUED = 8, DONE = 16, RESULTS = 24;

/** Mule entry point (--mule=jobs()): squares numbers, slowly, in the background. */
export async function jobs(): Promise<void> {
  for (;;) {
    const n = await muleGetMsg<number>({ timeout: 5 });
    if (n === MULE_STOP) return;
    if (n === MULE_TIMEOUT) continue;
    await new Promise((r) => setTimeout(r, 50));
    sharedarea.inc64(0, RESULTS, BigInt(n * n));
    sharedarea.inc64(0, DONE, 1n);
  }
}

function page(): string {
  const read = (pos: number) => sharedarea.read64(0, pos).toString();
  return `<!doctype html><meta charset="utf-8"><title>uwsgi-ts demo</title>
<h1>uwsgi-ts demo</h1>
<p>Served by worker <b id="worker">${workerId()}</b> (pid ${process.pid}).</p>
<p>Hits, counted by every worker in one sharedarea: <b id="hits">${read(HITS)}</b></p>
<p>Background jobs: <b id="queued">${read(QUEUED)}</b> queued, <b id="done">${read(DONE)}</b> done by the mule, sum of results <b id="sum">${read(RESULTS)}</b>.</p>
<p><a href="/job?n=7">queue a job (7²)</a> · <a href="/stats">stats JSON</a></p>`;
}

export default function app(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://localhost');
  sharedarea.inc64(0, HITS, 1n);
  if (url.pathname === '/job') {
    const n = Number(url.searchParams.get('n') ?? 1) | 0;
    const queued = muleMsg(n);
    if (queued) sharedarea.inc64(0, QUEUED, 1n);
    res.writeHead(queued ? 303 : 503, { location: '/', 'content-type': 'text/plain' });
    res.end(queued ? 'queued\n' : 'mule queue full, retry later\n');
    return;
  }
  if (url.pathname === '/stats') {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({
      worker: workerId(),
      hits: Number(sharedarea.read64(0, HITS)),
      queued: Number(sharedarea.read64(0, QUEUED)),
      done: Number(sharedarea.read64(0, DONE)),
      sum: Number(sharedarea.read64(0, RESULTS)),
    }));
    return;
  }
  res.setHeader('content-type', 'text/html; charset=utf-8');
  res.end(page());
}

// A mule's threads never call app(); muleId() is 0 outside mules.
void muleId;
