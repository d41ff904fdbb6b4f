// --sharedarea value parsing (spec sharedarea.md §2).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseSharedareaSpec } from '../src/shared/sharedarea-spec.js';
import { isUwsgiError } from '../src/shared/errors.js';

function rejects(value: string, code: string, re: RegExp, optionName?: string): void {
  try {
    parseSharedareaSpec(value, optionName);
  } catch (e) {
    assert.ok(isUwsgiError(e), `coded error for ${value}`);
    assert.is((e as { code: string }).code, code);
    assert.match((e as Error).message, re);
    return;
  }
  assert.unreachable(`${value} should be rejected`);
}

test('spec §2.2 example table', () => {
  const anon = (v: string): number => {
    const s = parseSharedareaSpec(v);
    assert.is(s.kind, 'anonymous');
    return s.size as number;
  };
  assert.is(anon('2'), 8192);
  assert.is(anon('size=100'), 4096);
  assert.is(anon('size=0x2000'), 8192);
  assert.is(anon('pages=3,size=100'), 12288);
  const f = parseSharedareaSpec('file=/data/sa.bin,size=5000');
  assert.equal(f, { kind: 'file', arg: 'file=/data/sa.bin,size=5000', optionName: '--sharedarea', file: '/data/sa.bin', size: 5000, warnings: [] });
});

test('plain and keyval forms: pages, rounding, hex, pages= override', () => {
  assert.equal(parseSharedareaSpec('1'), { kind: 'anonymous', arg: '1', optionName: '--sharedarea', pages: 1, size: 4096, warnings: [] });
  assert.is(parseSharedareaSpec('pages=1,size=100000').size, 4096, 'pages= overrides the page count from size=');
  assert.is(parseSharedareaSpec('size=4097').size, 8192);
  assert.is(parseSharedareaSpec('size=0X10').size, 4096);
  assert.is(parseSharedareaSpec('pages=2').size, 8192);
});

test('0, garbage and suffixes are rejected with uWSGI text and the option name', () => {
  rejects('0', 'UWSGI_ERR_OPTION_VALUE', /^--sharedarea: you need to set a size for a sharedarea !!! \[0\]/);
  rejects('abc', 'UWSGI_ERR_OPTION_VALUE', /you need to set a size for a sharedarea !!! \[abc\].*"abc"/);
  rejects('', 'UWSGI_ERR_OPTION_VALUE', /you need to set a size/);
  rejects('2abc', 'UWSGI_ERR_OPTION_VALUE', /not a decimal page count/);
  rejects('abc', 'UWSGI_ERR_OPTION_VALUE', /^-A: you need to set a size/, '-A');
  rejects('pages=0', 'UWSGI_ERR_OPTION_VALUE', /you need to set a size for a sharedarea !!! \[pages=0\]/);
  rejects('size=0', 'UWSGI_ERR_OPTION_VALUE', /you need to set a size/);
  rejects('bogus=1', 'UWSGI_ERR_OPTION_VALUE', /you need to set a size.*no pages= or size=/);
  rejects('size=10M', 'UWSGI_ERR_OPTION_VALUE', /size="10M" is not a byte count/);
  rejects('size=0xZZ', 'UWSGI_ERR_OPTION_VALUE', /not a byte count/);
  rejects('pages=x', 'UWSGI_ERR_OPTION_VALUE', /pages= "x" is not a decimal page count/);
  rejects('600000', 'UWSGI_ERR_OPTION_VALUE', /exceeds the uwsgi-ts limit/);
  rejects('size=0x100000000', 'UWSGI_ERR_OPTION_VALUE', /exceeds the uwsgi-ts limit/);
});

test('fd=, ptr=, offset= are rejected by name', () => {
  rejects('fd=3,size=4096', 'UWSGI_ERR_OPTION_VALUE', /fd= is not supported by uwsgi-ts/);
  rejects('ptr=0x1000,size=4096', 'UWSGI_ERR_OPTION_VALUE', /ptr= is not supported/);
  rejects('file=/x,size=4096,offset=4096', 'UWSGI_ERR_OPTION_VALUE', /offset= is not supported/);
});

test('file= forms: size optional, pages= refused, empty path refused', () => {
  const f = parseSharedareaSpec('file=/tmp/x.bin');
  assert.is(f.kind, 'file');
  assert.is(f.size, null);
  rejects('file=/tmp/x,pages=2', 'UWSGI_ERR_OPTION_VALUE', /pages="2" cannot be combined with file=/);
  rejects('file=,size=10', 'UWSGI_ERR_OPTION_VALUE', /file= needs a path/);
  rejects('file=/tmp/x,size=0', 'UWSGI_ERR_OPTION_VALUE', /you need to set a size/);
});

test('unknown keys and items without = are ignored with a warning; \\ escapes', () => {
  const s = parseSharedareaSpec('size=100,bogus=1,junk');
  assert.is(s.size, 4096);
  assert.is(s.warnings.length, 2);
  assert.match(s.warnings[0], /ignored unknown key "bogus"/);
  assert.match(s.warnings[1], /ignored item "junk"/);
  const f = parseSharedareaSpec('file=/tmp/a\\,b,size=10');
  assert.is(f.kind === 'file' ? f.file : '', '/tmp/a,b');
  assert.is(parseSharedareaSpec('size=1,size=8192').size, 8192, 'last occurrence wins');
});

test.run();
