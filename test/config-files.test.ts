import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { lstatSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  applyMagic,
  createConfigContext,
  djb33xHex,
  evalPlaceholder,
  expandReferences,
  loadConfigFile,
  parseIni,
  parseJson,
  parseYaml,
  splitConfigSpec,
} from '../src/shared/config-files.js';
import { resolveOptions } from '../src/shared/options.js';
import { isUwsgiError, type UwsgiErrorCode } from '../src/shared/errors.js';

const root = mkdtempSync(join(tmpdir(), 'uwsgi-ts-config-'));
const appDir = join(root, 'srv', 'app');
mkdirSync(appDir, { recursive: true });
function file(name: string, text: string): string {
  const p = join(appDir, name);
  writeFileSync(p, text);
  return p;
}

function throwsCode(fn: () => unknown, code: UwsgiErrorCode, message?: string | RegExp): void {
  try {
    fn();
  } catch (e) {
    assert.ok(isUwsgiError(e), `expected a UwsgiError, got ${String(e)}`);
    assert.is((e as { code: string }).code, code, (e as Error).message);
    if (message) assert.match((e as Error).message, message);
    return;
  }
  assert.unreachable(`expected ${code}`);
}

test('splitConfigSpec: last colon separates the section', () => {
  assert.equal(splitConfigSpec('a.ini'), { given: 'a.ini', file: 'a.ini', section: undefined });
  assert.equal(splitConfigSpec('a.ini:other'), { given: 'a.ini:other', file: 'a.ini', section: 'other' });
  assert.equal(splitConfigSpec(':app1'), { given: ':app1', file: '', section: 'app1' });
  assert.equal(splitConfigSpec('a.ini:'), { given: 'a.ini:', file: 'a.ini', section: undefined });
});

test('INI: sections, comments, no inline comments, bare keys, trimming', () => {
  const text = [
    '; comment',
    '# comment',
    'outside = 1',
    '[uwsgi]',
    '  workers = 2  \r',
    'master',
    'socket = :3031 ; not a comment',
    'log-format = a=b',
    '[other]',
    'workers = 9',
  ].join('\n');
  const r = parseIni(text, 'uwsgi', '/x.ini');
  assert.equal(r.entries, [
    ['workers', '2'],
    ['master', ''],
    ['socket', ':3031 ; not a comment'],
    ['log-format', 'a=b'],
  ]);
  assert.equal(r.warnings, []);
  assert.equal(parseIni(text, 'other', '/x.ini').entries, [['workers', '9']]);
});

test('INI: missing section is a warning, not an error', () => {
  const r = parseIni('[uwsgi]\nworkers = 2\n', 'nope', '/x.ini');
  assert.equal(r.entries, []);
  assert.equal(r.warnings, ['*** WARNING: Can\'t find section "nope" in INI configuration file /x.ini ***']);
  const p = file('sec.ini', '[uwsgi]\nworkers = 2\n[other]\nworkers = 3\n');
  const res = resolveOptions(['--ini', `${p}:missing`, '--ini', `${p}:other`], {}, root);
  assert.is(res.options.workers, 3);
  assert.is(res.warnings.length, 1);
  assert.match(res.warnings[0], /Can't find section "missing"/);
});

test('INI: ":section" means a section of the last INI file', () => {
  const p = file('multi.ini', '[uwsgi]\nini = :app1\nworkers = 2\n[app1]\nsocket = :1\n');
  const r = resolveOptions(['--ini', p], {}, root);
  assert.equal(r.options.socket, [':1']);
  assert.is(r.options.workers, 2);
});

test('YAML: mapping uwsgi, sequences repeat, booleans 1/0, numbers keep their text', () => {
  const text = 'uwsgi:\n  workers: 4\n  master: true\n  vacuum: false\n  socket:\n    - ":1"\n    - ":2"\n  enable-threads:\n  log-format: "%(addr) x"\nother:\n  workers: 7\n';
  const r = parseYaml(text, 'uwsgi', '/x.yaml');
  assert.equal(r.entries, [
    ['workers', '4'],
    ['master', '1'],
    ['vacuum', '0'],
    ['socket', ':1'],
    ['socket', ':2'],
    ['enable-threads', ''],
    ['log-format', '%(addr) x'],
  ]);
  assert.equal(parseYaml(text, 'other', '/x.yaml').entries, [['workers', '7']]);
  assert.is(parseYaml(text, 'nope', '/x.yaml').warnings.length, 1);
});

test('YAML: parse errors and nested mappings are coded errors naming the file', () => {
  throwsCode(() => parseYaml('uwsgi:\n  a: [1,\n', 'uwsgi', '/bad.yaml'), 'UWSGI_ERR_CONFIG_FILE', /\/bad\.yaml/);
  throwsCode(() => parseYaml('uwsgi:\n  a:\n    b: 1\n', 'uwsgi', '/bad.yaml'), 'UWSGI_ERR_CONFIG_FILE', /"a" in YAML file \/bad\.yaml/);
});

test('JSON: values per spec §2.4', () => {
  const r = parseJson(JSON.stringify({ uwsgi: { s: 'x', t: true, f: false, n: null, num: 12, arr: ['a', 'b'] }, app: { w: 1 } }), 'uwsgi', '/x.json');
  assert.equal(r.entries, [
    ['s', 'x'],
    ['t', '1'],
    ['f', '0'],
    ['n', '0'],
    ['num', '12'],
    ['arr', 'a'],
    ['arr', 'b'],
  ]);
  assert.equal(parseJson('{"app":{"w":1}}', 'app', '/x.json').entries, [['w', '1']]);
});

test('JSON: missing object and parse errors', () => {
  throwsCode(() => parseJson('{"other":{}}', 'uwsgi', '/x.json'), 'UWSGI_ERR_CONFIG_SECTION', /you must define a object named uwsgi in your JSON data \(\/x\.json\)/);
  throwsCode(() => parseJson('[1]', 'uwsgi', '/x.json'), 'UWSGI_ERR_CONFIG_SECTION', /object named uwsgi/);
  throwsCode(() => parseJson('{\n"uwsgi": {\n  "a": 1,\n}\n}', 'uwsgi', '/x.json'), 'UWSGI_ERR_CONFIG_FILE', /error parsing JSON data in \/x\.json/);
  const p = file('bad.json', '{"uwsgi": ');
  throwsCode(() => resolveOptions(['--json', p], {}, root), 'UWSGI_ERR_CONFIG_FILE', /bad\.json/);
  const q = file('noobj.json', '{"app": {"workers": 2}}');
  throwsCode(() => resolveOptions(['-j', q], {}, root), 'UWSGI_ERR_CONFIG_SECTION', /noobj\.json/);
  assert.is(resolveOptions(['-j', `${q}:app`], {}, root).options.workers, 2);
});

test('missing file: names the file and the OS error', () => {
  const ctx = createConfigContext(root, '0.1.0');
  throwsCode(() => loadConfigFile(ctx, 'does-not-exist.yaml', 'yaml'), 'UWSGI_ERR_CONFIG_FILE', new RegExp(`${join(root, 'does-not-exist.yaml')}: ENOENT`));
});

test('magic variables of the file being read', () => {
  const p = file(
    'magic.ini',
    ['[uwsgi]', 'set-ph = v=%v', 'set-ph = o=%o', 'set-ph = p=%p', 'set-ph = s=%s', 'set-ph = d=%d', 'set-ph = e=%e', 'set-ph = n=%n', 'set-ph = c=%c',
      'set-ph = parts=%0|%1|%2', 'set-ph = x=%x', 'set-ph = pct=100%%', 'set-ph = gone=a%zb', 'set-ph = h=%h', 'set-ph = V=%V', 'set-ph = j=%j',
      'set-ph = i=%i', 'set-ph = esc=%[', 'set-ph = k=%k', 'set-ph = O=%O'].join('\n'),
  );
  const r = resolveOptions(['--ini', 'magic.ini'], {}, appDir);
  const ph = r.placeholders;
  assert.is(ph.get('v'), appDir);
  assert.is(ph.get('o'), 'magic.ini');
  assert.is(ph.get('p'), p);
  assert.is(ph.get('s'), 'magic.ini');
  assert.is(ph.get('d'), appDir + '/');
  assert.is(ph.get('e'), 'ini');
  assert.is(ph.get('n'), 'magic');
  assert.is(ph.get('c'), 'app');
  const segs = appDir.split('/').filter(Boolean);
  assert.is(ph.get('parts'), `${segs[0]}|${segs[1]}|${segs[2] ?? ''}`);
  assert.is(ph.get('x'), '');
  assert.is(ph.get('pct'), '100%');
  assert.is(ph.get('gone'), 'ab');
  assert.is(ph.get('h'), hostname());
  assert.is(ph.get('V'), '0.1.0');
  assert.is(ph.get('j'), djb33xHex(p));
  assert.is(ph.get('i'), String(lstatSync(p).ino));
  assert.is(ph.get('esc'), '\x1b');
  assert.ok(Number(ph.get('k')) >= 1);
  assert.is(ph.get('O'), 'magic.ini');
});

test('magic: %x is the requested section; upper-case vars keep the first file', () => {
  const inner = file('inner.ini', '[uwsgi]\nset-ph = innero=%o\nset-ph = innerO=%O\n[sect]\nset-ph = sx=%x\n');
  const outer = file('outer.ini', `[uwsgi]\nini = ${inner}\nini = ${inner}:sect\n`);
  const r = resolveOptions(['--ini', outer], {}, root);
  assert.is(r.placeholders.get('innero'), inner);
  assert.is(r.placeholders.get('innerO'), outer);
  assert.is(r.placeholders.get('sx'), 'sect');
});

test('magic vars are not applied to command-line values', () => {
  const r = resolveOptions(['--set-placeholder', 'a=%d'], {}, root);
  assert.is(r.placeholders.get('a'), '%d');
});

test('applyMagic: %( is kept, unknown vanish, trailing % kept', () => {
  const m = createConfigContext('/w', '1.0').magic;
  assert.is(applyMagic('a %(x) %% %q %v 5%', m), 'a %(x) %  /w 5%');
});

test('djb33x hash as 8 upper-case hex digits', () => {
  assert.match(djb33xHex('/srv/app/a.ini'), /^[0-9A-F]{8}$/);
  assert.is(djb33xHex(''), '05150000'); // 5381 = 0x1505, little-endian bytes
});

test('expandReferences: balanced parentheses, restart on symbol, no rescan', () => {
  const look = (k: string) => ({ a: 'A', 'b (c)': 'BC', z: 'Z', loop: '%(loop)' })[k];
  assert.is(expandReferences('x%(a)y', '%', look), 'xAy');
  assert.is(expandReferences('%(b (c))', '%', look), 'BC');
  assert.is(expandReferences('%(x %(z))', '%', look), '%(x Z)');
  assert.is(expandReferences('%(loop)!', '%', look), '%(loop)!');
  assert.is(expandReferences('%() %(nope) %(a', '%', look), '%() %(nope) %(a');
  assert.is(expandReferences('$(a)%(a)', '$', look), 'A%(a)');
});

test('evalPlaceholder: pipeline semantics', () => {
  const vals: Record<string, string> = { foo: '1', bar: '1', txt: 'abc' };
  const look = (k: string) => vals[k];
  assert.is(evalPlaceholder('foo', look), '1');
  assert.is(evalPlaceholder('nope', look), undefined);
  assert.is(evalPlaceholder('foo + 3 * 2', look), '8');
  assert.is(evalPlaceholder('foo bar ++', look), '12');
  assert.is(evalPlaceholder('txt + 1', look), '1');
  assert.is(evalPlaceholder('nope x', look), '');
  assert.is(evalPlaceholder('9223372036854775807 + 1', look), '-9223372036854775808');
  assert.is(evalPlaceholder('7 / 2', look), '3');
  assert.is(evalPlaceholder('-7 / 2', look), '0'); // "-7" is not a number token: looked up → "" → 0 / 2
});

test('env values and magic: $() sees the process env passed in', () => {
  const p = file('env.yaml', 'uwsgi:\n  module: $(APP_HOME)/main.js\n');
  const r = resolveOptions(['--yaml', p], { APP_HOME: '/opt/x' }, root);
  assert.is(r.options.module, '/opt/x/main.js');
});

test('a leading UTF-8 byte order mark is ignored in INI, YAML and JSON files', () => {
  const ini = file('bom.ini', '\ufeff[uwsgi]\nworkers = 3\n');
  const r = resolveOptions(['--ini', ini], {}, root);
  assert.is(r.options.workers, 3);
  assert.equal(r.warnings, []);
  assert.is(resolveOptions(['--json', file('bom.json', '\ufeff{"uwsgi": {"workers": 4}}')], {}, root).options.workers, 4);
  assert.is(resolveOptions(['--yaml', file('bom.yaml', '\ufeffuwsgi:\n  workers: 5\n')], {}, root).options.workers, 5);
});

test('bytes that are not UTF-8: an error naming the file and line where they are read, ignored in comments', () => {
  const latin1 = (t: string) => Buffer.from(t, 'latin1');
  const ini = join(appDir, 'latin1.ini');
  writeFileSync(ini, latin1('; caf\xe9 comment\n[other]\nlog-format = \xe9\n[uwsgi]\nworkers = 2\nlog-format = caf\xe9\n'));
  throwsCode(() => resolveOptions(['--ini', ini], {}, root), 'UWSGI_ERR_CONFIG_FILE', new RegExp(`INI file ${ini} line 6 is not valid UTF-8 .*"log-format = caf\ufffd"`));
  assert.is(resolveOptions(['--ini', `${ini}:nope`], {}, root).warnings.length, 1); // comment and other section: fine
  const yml = join(appDir, 'latin1.yaml');
  writeFileSync(yml, latin1('uwsgi:\n  workers: 2\n  log-format: caf\xe9\n'));
  throwsCode(() => resolveOptions(['--yaml', yml], {}, root), 'UWSGI_ERR_CONFIG_FILE', new RegExp(`YAML file ${yml} line 3 is not valid UTF-8`));
  const json = join(appDir, 'latin1.json');
  writeFileSync(json, latin1('{"uwsgi": {\n"log-format": "caf\xe9"}}'));
  throwsCode(() => resolveOptions(['--json', json], {}, root), 'UWSGI_ERR_CONFIG_FILE', new RegExp(`JSON file ${json} line 2 is not valid UTF-8`));
  const at = join(appDir, 'latin1.txt');
  writeFileSync(at, latin1('caf\xe9\n'));
  throwsCode(() => resolveOptions(['--set', `log-format=@(${at})`], {}, root), 'UWSGI_ERR_CONFIG_FILE', /@\(.*latin1\.txt\) in option --log-format: file .* line 1 is not valid UTF-8/);
});

test('YAML errors name the file and the line once, in plain words', () => {
  throwsCode(() => parseYaml('uwsgi:\n  workers: 2\n  socket: [\n', 'uwsgi', '/bad.yaml'), 'UWSGI_ERR_CONFIG_FILE', /^error parsing YAML file \/bad\.yaml line 4: Flow sequence .* \(column 1\)$/);
  throwsCode(() => parseYaml('uwsgi:\n\tworkers: 2\n', 'uwsgi', '/tab.yaml'), 'UWSGI_ERR_CONFIG_FILE', /^error parsing YAML file \/tab\.yaml line 2: Tabs are not allowed as indentation \(column 1\)$/);
  throwsCode(() => parseYaml('uwsgi:\n  workers: 2\n---\nuwsgi:\n  workers: 3\n', 'uwsgi', '/two.yaml'), 'UWSGI_ERR_CONFIG_FILE', /^error parsing YAML file \/two\.yaml line 3: a second YAML document starts here/);
  throwsCode(() => parseYaml('uwsgi:\n  workers: 2\n  socket:\n    a: 1\n', 'uwsgi', '/n.yaml'), 'UWSGI_ERR_CONFIG_FILE', /"socket" in YAML file \/n\.yaml line 3: a nested mapping/);
  throwsCode(() => parseYaml('uwsgi:\n  socket:\n    - ":1"\n    - [":2"]\n', 'uwsgi', '/n.yaml'), 'UWSGI_ERR_CONFIG_FILE', /"socket" in YAML file \/n\.yaml line 4: a nested list/);
});

test('YAML: an *alias stands for its &anchor', () => {
  const r = parseYaml('defaults:\n  w: &w 3\nuwsgi:\n  workers: *w\n  socket:\n    - &s ":1"\n    - *s\n', 'uwsgi', '/a.yaml');
  assert.equal(r.entries, [['workers', '3'], ['socket', ':1'], ['socket', ':1']]);
  assert.equal(r.lines, [4, 6, 7]);
});

test('a file or @() source that cannot be read names the file and line that asked for it', () => {
  const outer = file('names-missing.ini', '[uwsgi]\nworkers = 2\nini = %dnot-there.ini\n');
  throwsCode(() => resolveOptions(['--ini', outer], {}, root), 'UWSGI_ERR_CONFIG_FILE', new RegExp(`cannot open ini config file ${join(appDir, 'not-there.ini')}: ENOENT.* \\(option --ini in ${outer} line 3\\)$`));
  const bad = file('broken.json', '{"uwsgi": {\n');
  const y = file('names-broken.yaml', `uwsgi:\n  workers: 2\n  json: ${bad}\n`);
  throwsCode(() => resolveOptions(['--yaml', y], {}, root), 'UWSGI_ERR_CONFIG_FILE', new RegExp(`error parsing JSON data in ${bad}: line 2: .* \\(option --json in ${y} line 3\\)$`));
  const at = file('at-missing.ini', '[uwsgi]\n\nlog-format = @(/nonexistent/secret)\n');
  throwsCode(() => resolveOptions(['--ini', at], {}, root), 'UWSGI_ERR_CONFIG_FILE', new RegExp(`@\\(/nonexistent/secret\\) in option --log-format: .*ENOENT.* \\(in ${at} line 3\\)$`));
  throwsCode(() => resolveOptions([], { UWSGI_INI: '/nonexistent/x.ini' }, root), 'UWSGI_ERR_CONFIG_FILE', /\(option --ini from environment variable UWSGI_INI\)$/);
  // on the command line the file itself is the whole story
  throwsCode(() => resolveOptions(['--ini', '/nonexistent/x.ini'], {}, root), 'UWSGI_ERR_CONFIG_FILE', /x\.ini: ENOENT: no such file or directory$/);
});

test('YAML: a %YAML directive and --- header are read, not taken for magic variables; a null key is an error', () => {
  const y = file('directive.yaml', '%YAML 1.1\n---\nuwsgi:\n  workers: 2\n  log-format: %n\n');
  const r = resolveOptions(['--yaml', y], {}, root);
  assert.is(r.options.workers, 2);
  assert.is(r.options['log-format'], 'directive');
  throwsCode(() => resolveOptions(['--yaml', file('nullkey.yaml', 'uwsgi:\n  workers: 2\n  ~: 1\n')], {}, root), 'UWSGI_ERR_CONFIG_FILE', /empty or complex key in YAML file .*nullkey\.yaml line 3/);
});

test('JSON: errors about a key or value name the file and its line', () => {
  const text = '{\n  "other": {"workers": "x", "a": [1,\n 2]},\n  "uwsgi": {\n    "master": true,\n    "socket": [\n      ":1",\n      ":2"\n    ],\n    "log-format": "a\\"}b",\n    "workers": "abc"\n  }\n}\n';
  assert.equal(parseJson(text, 'uwsgi', '/x.json').lines, [5, 7, 8, 10, 11]);
  const p = file('lines.json', text);
  throwsCode(() => resolveOptions(['--json', p], {}, root), 'UWSGI_ERR_OPTION_VALUE', `invalid value for option --workers in ${p} line 11: "abc" (expected a whole number ≥ 1)`);
  const q = file('lines2.json', '{"uwsgi": {\n  "workers": 2,\n  "workerz": 3\n}}\n');
  throwsCode(() => resolveOptions(['--json', q], {}, root), 'UWSGI_ERR_UNKNOWN_OPTION', `unknown option "workerz" in ${q} line 3 (did you mean "workers"?)`);
  throwsCode(() => parseJson('{"uwsgi":{\n"socket":[":1",\n{"a":1}]}}', 'uwsgi', '/z.json'), 'UWSGI_ERR_CONFIG_FILE', /"socket" in JSON file \/z\.json line 3/);
});

test('JSON that only %-magic variables broke: the parse error says so and how to write a literal %', () => {
  const p = file('percent.json', '{"uwsgi": {\n  "log-format": "100%"\n}}\n');
  throwsCode(() => resolveOptions(['--json', p], {}, root), 'UWSGI_ERR_CONFIG_FILE', /^error parsing JSON data in .*percent\.json: line 2: .*\(the file is valid JSON before %-magic variables are replaced: .* write %% for a literal %\)$/);
  assert.is(resolveOptions(['--json', file('percent2.json', '{"uwsgi": {"log-format": "100%%"}}')], {}, root).options['log-format'], '100%');
  throwsCode(() => resolveOptions(['--json', file('broken2.json', '{"uwsgi": {"a": }}')], {}, root), 'UWSGI_ERR_CONFIG_FILE', /^error parsing JSON data in .*broken2\.json: line 1: [^(]*$/);
  const y = file('percent.yaml', 'uwsgi:\n  log-format: "100%"\n');
  throwsCode(() => resolveOptions(['--yaml', y], {}, root), 'UWSGI_ERR_CONFIG_FILE', /^error parsing YAML file .*percent\.yaml line \d+: .*\(the file is valid YAML before %-magic variables/);
  assert.is(resolveOptions(['--yaml', file('percent2.yaml', 'uwsgi:\n  log-format: 100%\n')], {}, root).options['log-format'], '100%');
});

test('INI: a line ending in a single % joins the next line (as uWSGI); a warning names the line', () => {
  const p = file('eol-percent.ini', '[uwsgi]\n; load at 100%\nworkers = 2\nlog-format = 50%%\nmaster\n');
  const r = resolveOptions(['--ini', p], {}, root);
  assert.is(r.options.workers, 1); // swallowed into the comment, as uWSGI does
  assert.is(r.options['log-format'], '50%');
  assert.equal(r.warnings, [`*** WARNING: ${p} line 2 ends with a single %: it removes the line break, joining line 3 onto it (as in uWSGI); write %% for a literal % ***`]);
});

test('INI: a header with something after "]" is not the section (as in uWSGI); the warning says why', () => {
  const r = parseIni('[uwsgi] ; main\nworkers = 2\n', 'uwsgi', '/x.ini');
  assert.equal(r.entries, []);
  assert.equal(r.warnings, ['*** WARNING: Can\'t find section "uwsgi" in INI configuration file /x.ini (line 1 "[uwsgi] ; main" is not its header: nothing may follow "]" on a header line) ***']);
  assert.equal(parseIni('[other]\n', 'uwsgi', '/x.ini').warnings, ['*** WARNING: Can\'t find section "uwsgi" in INI configuration file /x.ini ***']);
});

test('JSON: deeply nested values elsewhere in the file do not overflow the line finder', () => {
  const deep = '['.repeat(200_000) + ']'.repeat(200_000);
  const p = file('deep.json', `{"other": ${deep},\n"uwsgi": {\n"workers": "x"}}`);
  throwsCode(() => resolveOptions(['--json', p], {}, root), 'UWSGI_ERR_OPTION_VALUE', `invalid value for option --workers in ${p} line 3: "x"`);
});

test.run();
