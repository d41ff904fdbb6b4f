/**
 * The scoreboard: one SharedArrayBuffer that the master and every worker see, like
 * uWSGI's shared `uwsgi_worker` structs. Workers write their own slot (cheap stores,
 * no messages on the request path); the master reads every slot once per cycle for
 * harakiri, and the stats layer reads it for the stats JSON.
 *
 * Layout: a header (instance-wide counters), then one slot per worker id (1-based;
 * a respawned worker keeps its id and slot). Slot i:
 *   f64[0] requestStartMs (0 = idle)   f64[1] lastSpawnMs
 *   i32 ... status, requests, accepting, exceptions, respawns, generation
 *   u8[REQ_INFO_BYTES] "METHOD URI ADDR" of the current request (only with harakiri on)
 */

export const REQ_INFO_BYTES = 256;
const SLOT_F64 = 2;
const SLOT_I32 = 8;
const SLOT_BYTES = SLOT_F64 * 8 + SLOT_I32 * 4 + REQ_INFO_BYTES;
const HEADER_BYTES = 64; // i64[0] total requests

export const enum WorkerStatus {
  Starting = 0,
  Accepting = 1,
  Retiring = 2,
  Dead = 3,
}

const I_STATUS = 0;
const I_REQUESTS = 1;
const I_EXCEPTIONS = 2;
const I_RESPAWNS = 3;
const I_GENERATION = 4;
const I_INFO_LEN = 5;

export interface ScoreboardInit {
  readonly buffer: SharedArrayBuffer;
  readonly workers: number;
}

export function createScoreboard(workers: number): ScoreboardInit {
  return { buffer: new SharedArrayBuffer(HEADER_BYTES + (workers + 1) * SLOT_BYTES), workers };
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class Scoreboard {
  readonly workers: number;
  private readonly header: BigInt64Array;
  private readonly f64: Float64Array[] = [];
  private readonly i32: Int32Array[] = [];
  private readonly info: Uint8Array[] = [];

  constructor(init: ScoreboardInit) {
    this.workers = init.workers;
    this.header = new BigInt64Array(init.buffer, 0, HEADER_BYTES / 8);
    for (let id = 0; id <= init.workers; id++) {
      const base = HEADER_BYTES + id * SLOT_BYTES;
      this.f64.push(new Float64Array(init.buffer, base, SLOT_F64));
      this.i32.push(new Int32Array(init.buffer, base + SLOT_F64 * 8, SLOT_I32));
      this.info.push(new Uint8Array(init.buffer, base + SLOT_F64 * 8 + SLOT_I32 * 4, REQ_INFO_BYTES));
    }
  }

  /** Instance-wide request counter: incremented once per request, returns the new total. */
  nextTotal(): number {
    return Number(Atomics.add(this.header, 0, 1n)) + 1;
  }

  total(): number {
    return Number(Atomics.load(this.header, 0));
  }

  requestBegin(id: number, now: number): void {
    this.f64[id][0] = now;
  }

  requestInfo(id: number, text: string): void {
    const r = encoder.encodeInto(text, this.info[id]);
    Atomics.store(this.i32[id], I_INFO_LEN, r.written);
  }

  requestEnd(id: number): number {
    this.f64[id][0] = 0;
    return ++this.i32[id][I_REQUESTS];
  }

  /** ms timestamp at which the current request began, 0 when idle. */
  busySince(id: number): number {
    return this.f64[id][0];
  }

  currentRequest(id: number): string {
    const len = Atomics.load(this.i32[id], I_INFO_LEN);
    return decoder.decode(this.info[id].subarray(0, len));
  }

  setStatus(id: number, s: WorkerStatus): void {
    Atomics.store(this.i32[id], I_STATUS, s);
  }

  status(id: number): WorkerStatus {
    return Atomics.load(this.i32[id], I_STATUS) as WorkerStatus;
  }

  requests(id: number): number {
    return this.i32[id][I_REQUESTS];
  }

  exceptions(id: number): number {
    return this.i32[id][I_EXCEPTIONS];
  }

  countException(id: number): void {
    Atomics.add(this.i32[id], I_EXCEPTIONS, 1);
  }

  /** Called by the master when it (re)spawns the worker in slot `id`. */
  spawned(id: number, now: number, respawn: boolean): number {
    this.f64[id][0] = 0;
    this.f64[id][1] = now;
    Atomics.store(this.i32[id], I_REQUESTS, 0);
    Atomics.store(this.i32[id], I_STATUS, WorkerStatus.Starting);
    if (respawn) Atomics.add(this.i32[id], I_RESPAWNS, 1);
    return Atomics.add(this.i32[id], I_GENERATION, 1) + 1;
  }

  lastSpawn(id: number): number {
    return this.f64[id][1];
  }

  respawns(id: number): number {
    return this.i32[id][I_RESPAWNS];
  }
}
