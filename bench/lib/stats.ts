/** Small statistics and formatting helpers shared by the benches. */

export function median(xs: readonly number[]): number {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

export function minMax(xs: readonly number[]): [number, number] {
  const v = xs.filter((x) => Number.isFinite(x));
  if (v.length === 0) return [NaN, NaN];
  return [Math.min(...v), Math.max(...v)];
}

/** 32412 → "32.4k", 812 → "812". */
export function fmtRate(x: number): string {
  if (!Number.isFinite(x)) return '—';
  if (x >= 100_000) return `${(x / 1000).toFixed(0)}k`;
  if (x >= 1000) return `${(x / 1000).toFixed(1)}k`;
  return x.toFixed(0);
}

/** Milliseconds with a precision that suits the size. */
export function fmtMs(x: number): string {
  if (!Number.isFinite(x)) return '—';
  if (x >= 100) return `${x.toFixed(0)} ms`;
  if (x >= 10) return `${x.toFixed(1)} ms`;
  return `${x.toFixed(2)} ms`;
}

/** "median (min–max)" of a sample with a formatter. */
export function fmtSpread(xs: readonly number[], f: (x: number) => string): string {
  const [lo, hi] = minMax(xs);
  if (xs.length <= 1) return f(median(xs));
  return `${f(median(xs))} (${f(lo)}–${f(hi)})`;
}

/** Render rows as a padded text table (first row is the header). */
export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => { widths[i] = Math.max(widths[i] ?? 0, c.length); });
  const line = (r: readonly string[]): string => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const out = [line(rows[0]), widths.map((w) => '-'.repeat(w)).join('  ')];
  for (const r of rows.slice(1)) out.push(line(r));
  return out.join('\n');
}

/** Same as table() but as a Markdown table. */
export function markdownTable(rows: readonly (readonly string[])[]): string {
  const out = [`| ${rows[0].join(' | ')} |`, `|${rows[0].map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`];
  for (const r of rows.slice(1)) out.push(`| ${r.join(' | ')} |`);
  return out.join('\n');
}
