/**
 * `--help` and `--version` text, generated purely from the option table and package.json.
 */
import { readFileSync } from 'node:fs';
import { OPTIONS, OPTION_GROUPS, OPTION_GROUP_TITLES, argName, defaultText, type OptionSpec } from './options-table.js';

let cachedVersion: string | undefined;

/** The version field of uwsgi-ts's package.json (src/shared and dist/shared are both two levels down). */
export function packageVersion(): string {
  if (cachedVersion === undefined) {
    try {
      const pkg: unknown = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
      const v = pkg !== null && typeof pkg === 'object' ? (pkg as { version?: unknown }).version : undefined;
      cachedVersion = typeof v === 'string' ? v : '0.0.0';
    } catch {
      cachedVersion = '0.0.0';
    }
  }
  return cachedVersion;
}

export function renderVersion(): string {
  return `uwsgi-ts ${packageVersion()}\n`;
}

/** `--name/-x <ARG>` as shown in help. */
export function optionSynopsis(row: OptionSpec): string {
  const arg = argName(row);
  const names = `--${row.name}${row.short ? `/-${row.short}` : ''}`;
  if (arg === '') return names;
  return row.optionalValue ? `${names}[=<${arg}>]` : `${names} <${arg}>`;
}

export function renderHelp(): string {
  const out: string[] = [
    `uwsgi-ts ${packageVersion()}`,
    'Usage: uwsgi-ts [options] [config files (.ini, .yaml, .yml, .json)]',
    '',
    'Options are also read from UWSGI_<NAME> environment variables and from config files;',
    'a flag takes an optional "=false"; list options may be repeated.',
  ];
  for (const group of OPTION_GROUPS) {
    const rows = OPTIONS.filter((r) => r.group === group);
    if (rows.length === 0) continue;
    out.push('', `${OPTION_GROUP_TITLES[group]}:`);
    for (const row of rows) {
      const notes: string[] = [];
      const d = defaultText(row);
      if (d !== '—') notes.push(`default: ${d}`);
      if (row.aliases.length > 0) notes.push(`aliases: ${row.aliases.map((a) => `--${a}`).join(', ')}`);
      if (row.kind === 'list' || row.kind === 'addrs') notes.push('repeatable');
      if (row.impliesMaster) notes.push('implies --master');
      out.push(`  ${optionSynopsis(row)}`);
      out.push(`      ${row.help}${notes.length > 0 ? ` (${notes.join('; ')})` : ''}`);
    }
  }
  return out.join('\n') + '\n';
}
