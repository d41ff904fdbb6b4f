import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { OPTIONS_DOC_PATH, renderOptionsDoc } from '../scripts/gen-options-doc.js';
import { OPTIONS } from '../src/shared/options-table.js';
import { optionSynopsis, renderHelp, renderVersion } from '../src/shared/help.js';

test('docs/options.md is exactly what scripts/gen-options-doc.ts produces', () => {
  const committed = readFileSync(OPTIONS_DOC_PATH, 'utf8');
  assert.ok(committed === renderOptionsDoc(), 'docs/options.md is stale: run npx tsx scripts/gen-options-doc.ts');
});

test('every table option, alias and short letter appears in --help and docs', () => {
  const help = renderHelp();
  const doc = renderOptionsDoc();
  for (const row of OPTIONS) {
    assert.ok(help.includes(`  ${optionSynopsis(row)}\n`), `--${row.name} missing from --help`);
    assert.ok(help.includes(row.help), `help text of --${row.name} missing from --help`);
    assert.ok(doc.includes(`| \`--${row.name}\` |`), `--${row.name} missing from docs/options.md`);
    for (const alias of row.aliases) {
      assert.ok(help.includes(`--${alias}`), `alias --${alias} missing from --help`);
      assert.ok(doc.includes(`\`--${alias}\``), `alias --${alias} missing from docs`);
    }
    if (row.short) assert.ok(help.includes(`--${row.name}/-${row.short}`), `-${row.short} missing from --help`);
  }
});

test('--version prints the package version', () => {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  assert.is(renderVersion(), `uwsgi-ts ${pkg.version}\n`);
});

test.run();
