/**
 * Options the table accepts (so uWSGI configs load unchanged) that this version does not
 * act on yet. A closed list: the master logs one warning per option in use, so nobody
 * believes a stats server or a FIFO is running when it is not. A test checks that every
 * name here is a real option.
 */
import type { OptionName, ResolvedOptions } from '../shared/options-table.js';

export const PENDING_OPTIONS: ReadonlyArray<{ readonly name: OptionName; readonly why: string }> = [
  { name: 'master-fifo', why: 'the master FIFO is not implemented yet; use signals (docs/signals.md)' },
  { name: 'stats', why: 'the stats server is not implemented yet' },
  { name: 'stats-http', why: 'the stats server is not implemented yet' },
  { name: 'log-format', why: 'custom request-log formats are not implemented yet; the default uWSGI line is used' },
  { name: 'reload-on-rss', why: 'threads share one process RSS, so a per-worker RSS limit cannot be measured' },
];

function inUse(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value !== 0;
  return value !== undefined && value !== '';
}

export function pendingOptionWarnings(o: ResolvedOptions): string[] {
  return PENDING_OPTIONS.filter((p) => inUse(o[p.name])).map((p) => `*** WARNING: --${p.name} is accepted but has no effect in this version: ${p.why} ***`);
}
