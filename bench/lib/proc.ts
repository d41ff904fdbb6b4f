/**
 * CPU time of a server from /proc (Linux): one process, a process tree (node:cluster,
 * uWSGI's master + workers), or per thread of one process (uwsgi-ts master + worker
 * threads). Times are in seconds of user + system CPU.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

let clkTck = 100;
try {
  clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
} catch { /* keep the Linux default */ }

interface StatLine { pid: number; comm: string; ppid: number; cpuTicks: number }

/** Parse /proc/…/stat: comm can hold spaces and parentheses, so split after the last ')'. */
export function parseStat(text: string): StatLine | null {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < 0) return null;
  const pid = Number(text.slice(0, open).trim());
  const comm = text.slice(open + 1, close);
  const rest = text.slice(close + 2).split(' ');
  // rest[0] is field 3 (state): ppid is field 4, utime 14, stime 15.
  const ppid = Number(rest[1]);
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  return { pid, comm, ppid, cpuTicks: utime + stime };
}

function readStat(path: string): StatLine | null {
  try {
    return parseStat(readFileSync(path, 'utf8'));
  } catch {
    return null; // the process or thread is gone
  }
}

/** CPU seconds of one process (all its threads). NaN when it is gone. */
export function processCpu(pid: number): number {
  const s = readStat(`/proc/${pid}/stat`);
  return s ? s.cpuTicks / clkTck : NaN;
}

/** The pid and every live descendant of it. */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = readStat(`/proc/${name}/stat`);
    if (!s) continue;
    const list = children.get(s.ppid);
    if (list) list.push(s.pid);
    else children.set(s.ppid, [s.pid]);
  }
  const out: number[] = [];
  const todo = [root];
  for (let guard = 0; todo.length > 0 && guard < 10_000; guard++) {
    const p = todo.pop()!;
    out.push(p);
    for (const c of children.get(p) ?? []) todo.push(c);
  }
  return out;
}

/** CPU seconds per pid of a process tree (root included). */
export function treeCpu(root: number): Map<number, number> {
  const out = new Map<number, number>();
  for (const pid of processTree(root)) {
    const c = processCpu(pid);
    if (Number.isFinite(c)) out.set(pid, c);
  }
  return out;
}

/** CPU seconds per thread of one process: tid → { comm, cpu }. */
export function threadCpu(pid: number): Map<number, { comm: string; cpu: number }> {
  const out = new Map<number, { comm: string; cpu: number }>();
  let tids: string[] = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const t of tids) {
    const s = readStat(`/proc/${pid}/task/${t}/stat`);
    if (s) out.set(s.pid, { comm: s.comm, cpu: s.cpuTicks / clkTck });
  }
  return out;
}

/** Sum of a tree's CPU between two snapshots; processes that appeared count from 0. */
export function cpuDelta(before: Map<number, number>, after: Map<number, number>): number {
  let sum = 0;
  for (const [pid, c] of after) sum += c - (before.get(pid) ?? 0);
  return sum;
}

/**
 * Whole-machine CPU seconds from /proc/stat: busy (user+nice+system+irq+softirq; tick-based
 * per-process times also absorb the softirq time of loopback TCP, so per-process sums are
 * compared against this), irq (irq+softirq alone), steal, idle (idle+iowait).
 */
export function systemCpu(): { busy: number; irq: number; steal: number; idle: number } {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal guest guest_nice (guest time is inside user)
    return { busy: (v[0] + v[1] + v[2] + v[5] + v[6]) / clkTck, irq: (v[5] + v[6]) / clkTck, steal: (v[7] ?? 0) / clkTck, idle: (v[3] + v[4]) / clkTck };
  } catch {
    return { busy: NaN, irq: NaN, steal: NaN, idle: NaN };
  }
}

/**
 * CPU seconds of this process itself, and of its children that have exited and been
 * reaped (cutime + cstime): read around a child's whole life (wrk) to get its CPU.
 */
export function selfCpu(): { self: number; reapedChildren: number } {
  const text = readFileSync('/proc/self/stat', 'utf8');
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields 14-17 (utime stime cutime cstime) are rest[11..14]
  return {
    self: (Number(rest[11]) + Number(rest[12])) / clkTck,
    reapedChildren: (Number(rest[13]) + Number(rest[14])) / clkTck,
  };
}
