import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatShowConfig, parseBoolean, resolveOptions } from '../src/shared/options.js';
import { findOption, suggestOption } from '../src/shared/options-table.js';
import { isUwsgiError, type UwsgiErrorCode } from '../src/shared/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'uwsgi-ts-options-'));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

const run = (argv: string[], env: NodeJS.ProcessEnv = {}) => resolveOptions(argv, env, dir);

function throwsCode(fn: () => unknown, code: UwsgiErrorCode, message?: string | RegExp): void {
  try {
    fn();
  } catch (e) {
    assert.ok(isUwsgiError(e), `expected a UwsgiError, got ${String(e)}`);
    assert.is((e as { code: string }).code, code, (e as Error).message);
    if (typeof message === 'string') assert.is((e as Error).message, message);
    else if (message) assert.match((e as Error).message, message);
    return;
  }
  assert.unreachable(`expected ${code}`);
}

test('defaults follow uWSGI', () => {
  const { options } = run([]);
  assert.is(options.workers, 1);
  assert.is(options.threads, 1);
  assert.is(options.listen, 100);
  assert.is(options['buffer-size'], 4096);
  assert.is(options['socket-timeout'], 4);
  assert.is(options['min-worker-lifetime'], 10);
  assert.is(options['worker-reload-mercy'], 60);
  assert.is(options['reload-mercy'], 60);
  assert.is(options['mule-msg-size'], 65536);
  assert.is(options['mule-queue-size'], 1024);
  assert.is(options['accept-mode'], 'auto');
  assert.is(options.master, false);
  assert.is(options['disable-logging'], false);
  assert.equal(options.socket, []);
  assert.is(options.module, undefined);
});

test('long forms: --name value and --name=value', () => {
  const { options } = run(['--workers', '4', '--threads=8', '--module', 'app.js:handler']);
  assert.is(options.workers, 4);
  assert.is(options.threads, 8);
  assert.is(options.module, 'app.js:handler');
});

test('short options: -p 4, -p4, clustered -Mp4, flags take no value', () => {
  assert.is(run(['-p', '4']).options.workers, 4);
  assert.is(run(['-p4']).options.workers, 4);
  const r = run(['-MLp3', '-s', ':3031']);
  assert.is(r.options.master, true);
  assert.is(r.options['disable-logging'], true);
  assert.is(r.options.workers, 3);
  assert.equal(r.options.socket, [':3031']);
});

test('aliases resolve to the canonical option', () => {
  const r = run(['--processes', '2', '--uwsgi-socket', ':1', '--app', 'a.js', '--http', ':8080', '--stats-server', ':9191']);
  assert.is(r.options.workers, 2);
  assert.equal(r.options.socket, [':1']);
  assert.is(r.options.module, 'a.js');
  assert.equal(r.options['http-socket'], [':8080']);
  assert.is(r.options.stats, ':9191');
  assert.equal(r.list[0], ['workers', '2']);
});

test('list options accumulate in order; scalars: last wins', () => {
  const r = run(['--socket', ':1', '-s', ':2', '--workers', '2', '--workers', '5', '--sharedarea', '4', '-A', '10']);
  assert.equal(r.options.socket, [':1', ':2']);
  assert.is(r.options.workers, 5);
  assert.equal(r.options.sharedarea, ['4', '10']);
});

test('flags: =false / off / no / 0 turn them off; other values turn them on', () => {
  assert.is(run(['--master=false']).options.master, false);
  assert.is(run(['--master=OFF']).options.master, false);
  assert.is(run(['--master=no']).options.master, false);
  assert.is(run(['--master=0']).options.master, false);
  assert.is(run(['--master=yes']).options.master, true);
  assert.is(run(['--disable-logging=false']).options['disable-logging'], false);
  assert.is(parseBoolean(''), true);
  assert.is(parseBoolean(undefined), true);
});

test('options marked implies-master turn the master on', () => {
  assert.is(run(['--mules', '2']).options.master, true);
  assert.is(run(['--master-fifo', '/tmp/f']).options.master, true);
  assert.is(run(['--socket', ':1']).options.master, false);
});

test('--mule takes an optional value (attached with =)', () => {
  const r = run(['--mule', '--mule=job.js', '--workers', '2']);
  assert.equal(r.options.mule, ['', 'job.js']);
  assert.is(r.options.workers, 2);
});

test('buffer-size is capped at 65535 silently', () => {
  assert.is(run(['-b', '100000']).options['buffer-size'], 65535);
  assert.is(run(['-b', '8192']).options['buffer-size'], 8192);
});

test('reload-on-rss is in megabytes, resolved to bytes', () => {
  assert.is(run(['--reload-on-rss', '2']).options['reload-on-rss'], 2 * 1048576);
});

test('env UWSGI_WORKERS=3 becomes --workers 3; command line wins over env', () => {
  assert.is(run([], { UWSGI_WORKERS: '3' }).options.workers, 3);
  assert.is(run(['--workers', '5'], { UWSGI_WORKERS: '3' }).options.workers, 5);
  assert.equal(run([], { UWSGI_HTTP_SOCKET: ':8000' }).options['http-socket'], [':8000']);
});

test('env: skipped names, UWSGI_TS_* and unknown names are ignored', () => {
  const r = run([], { UWSGI_RELOADS: '3', UWSGI_TS_WORKER_ID: '2', UWSGI_NOT_AN_OPTION: 'x', UWSGI_EMPEROR_FD: '3' });
  assert.equal(r.list, []);
  assert.is(r.placeholders.get('not-an-option'), 'x');
});

test('env: bad value names the variable', () => {
  throwsCode(
    () => run([], { UWSGI_WORKERS: 'abc' }),
    'UWSGI_ERR_OPTION_VALUE',
    'invalid value for option --workers from environment variable UWSGI_WORKERS: "abc" (expected a whole number ≥ 1)',
  );
});

test('CLI after --ini overrides the file; a later file overrides an earlier CLI value', () => {
  const a = file('prec.ini', '[uwsgi]\nworkers = 2\nsocket = :10\n');
  const r = run(['--ini', a, '--workers', '4', '--socket', ':11']);
  assert.is(r.options.workers, 4);
  assert.equal(r.options.socket, [':10', ':11']);
  assert.is(run(['--workers', '4', '--ini', a]).options.workers, 2);
});

test('bare config-file arguments are loaded after all options', () => {
  const a = file('bare.ini', '[uwsgi]\nworkers = 2\n');
  const r = run([a, '--workers', '7']);
  assert.is(r.options.workers, 2);
  assert.equal(r.sources, [a]);
});

test('bare non-config arguments are errors', () => {
  throwsCode(() => run(['app.py']), 'UWSGI_ERR_CONFIG_FILE', /unable to load configuration from "app.py"/);
  throwsCode(() => run(['server.js']), 'UWSGI_ERR_CONFIG_FILE', /--module server\.js/);
});

test('config files nest in place (include, yaml, json) and record sources', () => {
  const j = file('n.json', JSON.stringify({ uwsgi: { socket: [':21', ':22'], master: true } }));
  const y = file('n.yaml', `uwsgi:\n  workers: 6\n  json: ${j}\n`);
  const i = file('n.ini', `[uwsgi]\ninclude = ${y}\nsocket = :23\n`);
  const r = run(['--ini', i]);
  assert.is(r.options.workers, 6);
  assert.is(r.options.master, true);
  assert.equal(r.options.socket, [':21', ':22', ':23']);
  assert.equal(r.sources, [i, y, j]);
  assert.equal(r.options.ini, [i]);
});

test('config include loops are detected', () => {
  file('loop-a.ini', '[uwsgi]\nini = %dloop-b.ini\n');
  file('loop-b.ini', '[uwsgi]\nini = %dloop-a.ini\n');
  throwsCode(() => run(['--ini', 'loop-a.ini']), 'UWSGI_ERR_CONFIG_FILE', /loop/);
});

test('the same file may be loaded twice in sequence and with other sections', () => {
  const a = file('twice.ini', '[uwsgi]\nsocket = :1\nini = :other\n[other]\nsocket = :2\n');
  assert.equal(run(['--ini', a, '--ini', a]).options.socket, [':1', ':2', ':1', ':2']);
});

test('$(ENV): set is replaced, unset stays literal', () => {
  const r = run(['--module', '$(APPDIR)/app.js', '--pidfile', '$(NOPE_NOT_SET)/p'], { APPDIR: '/srv' });
  assert.is(r.options.module, '/srv/app.js');
  assert.is(r.options.pidfile, '$(NOPE_NOT_SET)/p');
});

test('@(file) is replaced by its content minus one trailing newline', () => {
  file('port.txt', '9090\n\n');
  file('port1.txt', '9091\n');
  const r = run(['--socket', ':@(port1.txt)', '--set-placeholder', 'x=@(port.txt)']);
  assert.equal(r.options.socket, [':9091']);
  assert.is(r.placeholders.get('x'), '9090\n');
  throwsCode(() => run(['--module', '@(missing-file.txt)']), 'UWSGI_ERR_CONFIG_FILE', /missing-file\.txt.*ENOENT/);
});

test('%(name): first occurrence, earlier expanded vs later raw, missing stays literal', () => {
  const a = file(
    'ph.ini',
    ['[uwsgi]', 'foo = 1', 'foo = 2', 'bar = %(foo)', 'set-ph = x=%(y)', 'y = %(z)-y', 'z = Z', 'set-ph = nest=%(x %(z))', 'self = %(self)', 'set-ph = miss=%(nope)'].join('\n'),
  );
  const r = run(['--ini', a, '--set-placeholder', 'unused=1', '--module', '%(bar)%(miss)']);
  assert.is(r.placeholders.get('foo'), '1');
  assert.is(r.placeholders.get('bar'), '1');
  assert.is(r.placeholders.get('x'), '%(z)-y');
  assert.is(r.placeholders.get('y'), 'Z-y');
  assert.is(r.placeholders.get('nest'), '%(x Z)');
  assert.is(r.placeholders.get('self'), '%(self)');
  assert.is(r.options.module, '1%(nope)');
});

test('%(option) looks up real options too, by canonical name or alias', () => {
  const r = run(['--processes', '3', '--set-placeholder', 'w=%(workers)', '--set-placeholder', 'p=%(processes)']);
  assert.is(r.placeholders.get('w'), '3');
  assert.is(r.placeholders.get('p'), '3');
});

test('placeholder math (§2.7)', () => {
  const a = file(
    'math.ini',
    ['[uwsgi]', 'foo = 1', 'bar = %(foo)', 'm1 = %(foo + 3 * 2)', 'm2 = %(foo bar ++)', 'm3 = %(10 / 0)', 'm4 = %(7 - 10)', 'm5 = %(foo --)', 'workers = %(foo + 1)'].join('\n'),
  );
  const r = run(['--ini', a, '--socket', ':%(m1)%(m2)%(m3)%(m4)%(m5)']);
  assert.is(r.placeholders.get('m1'), '8');
  assert.is(r.placeholders.get('m2'), '12');
  assert.is(r.placeholders.get('m3'), '0');
  assert.is(r.placeholders.get('m4'), '-3');
  assert.is(r.placeholders.get('m5'), '0');
  assert.is(r.options.workers, 2);
});

test('immediate options are not expanded', () => {
  file('imm.ini', '[uwsgi]\nworkers = 2\n');
  throwsCode(() => run(['--set-placeholder', 'f=imm.ini', '--ini', '%(f)']), 'UWSGI_ERR_CONFIG_FILE', /%\(f\)/);
});

test('--set adds options and placeholders; missing = is an error', () => {
  const r = run(['--set', 'workers=3', '-S', 'base=/srv', '--module', '%(base)/app.js']);
  assert.is(r.options.workers, 3);
  assert.is(r.options.module, '/srv/app.js');
  throwsCode(() => run(['--set', 'workers']), 'UWSGI_ERR_OPTION_VALUE', /--set: "workers" \(expected KEY=VALUE\)/);
});

test('--set-placeholder rejects real option names', () => {
  throwsCode(() => run(['--set-ph', 'workers=3']), 'UWSGI_ERR_OPTION_VALUE', /you cannot use workers as a placeholder/);
});

test('unknown option on the command line: error with suggestion', () => {
  throwsCode(() => run(['--workerz', '4']), 'UWSGI_ERR_UNKNOWN_OPTION', 'unknown option --workerz (did you mean --workers?)');
  throwsCode(() => run(['--workerz=4']), 'UWSGI_ERR_UNKNOWN_OPTION', 'unknown option --workerz (did you mean --workers?)');
  throwsCode(() => run(['--zzzzzzzzzzzz']), 'UWSGI_ERR_UNKNOWN_OPTION', 'unknown option --zzzzzzzzzzzz');
  throwsCode(() => run(['-K']), 'UWSGI_ERR_UNKNOWN_OPTION', 'unknown option -K');
});

test('a uWSGI option uwsgi-ts does not implement is named as such, not as a typo of another', () => {
  const notImpl = 'a uWSGI option that uwsgi-ts does not implement (docs/options.md lists the supported ones)';
  throwsCode(() => run(['--xml', 'a.xml']), 'UWSGI_ERR_UNKNOWN_OPTION', `unknown option --xml: ${notImpl}`); // not "did you mean --yml?"
  throwsCode(() => run(['--chdir=/srv']), 'UWSGI_ERR_UNKNOWN_OPTION', `unknown option --chdir: ${notImpl}`);
  throwsCode(() => run(['-x', 'a.xml']), 'UWSGI_ERR_UNKNOWN_OPTION', `unknown option -x (uWSGI's --xmlconfig): ${notImpl}`);
  throwsCode(() => run(['-w', 'app']), 'UWSGI_ERR_UNKNOWN_OPTION', 'unknown option -w: in uWSGI it is --module; uwsgi-ts has no short letter for it, write --module');
  const ini = file('uwsgi-only.ini', '[uwsgi]\nworkers = 2\nchdir = /srv\n');
  throwsCode(() => run(['--ini', ini]), 'UWSGI_ERR_UNKNOWN_OPTION', `unknown option "chdir" in ${ini} line 3: ${notImpl}`);
  throwsCode(() => run(['--workerz', '4']), 'UWSGI_ERR_UNKNOWN_OPTION', 'unknown option --workerz (did you mean --workers?)');
});

test('unknown key in a file: error naming the file, unless used as a placeholder', () => {
  const bad = file('unknown.ini', '[uwsgi]\nworkerz = 4\n');
  throwsCode(() => run(['--ini', bad]), 'UWSGI_ERR_UNKNOWN_OPTION', `unknown option "workerz" in ${bad} line 2 (did you mean "workers"?)`);
  const ok = file('ph-ok.ini', '[uwsgi]\nbase = /srv\nmodule = %(base)/app.js\n');
  const r = run(['--ini', ok]);
  assert.is(r.options.module, '/srv/app.js');
  assert.is(r.placeholders.get('base'), '/srv');
  assert.ok(r.list.some(([k]) => k === 'base'));
  throwsCode(() => run(['--set', 'workerz=4']), 'UWSGI_ERR_UNKNOWN_OPTION', /unknown option "workerz" in --set/);
});

test('--strict rejects placeholder-only keys; set-placeholder still works', () => {
  const ok = file('strict.ini', '[uwsgi]\nbase = /srv\nmodule = %(base)/app.js\n');
  throwsCode(() => run(['--strict', '--ini', ok]), 'UWSGI_ERR_UNKNOWN_OPTION', /unknown option "base" in .*strict/);
  throwsCode(() => run(['--ini', ok, '--strict']), 'UWSGI_ERR_UNKNOWN_OPTION', /strict/);
  const r = run(['--strict', '--set-placeholder', 'base=/srv', '--module', '%(base)/app.js']);
  assert.is(r.options.module, '/srv/app.js');
});

test('missing values', () => {
  throwsCode(() => run(['--socket']), 'UWSGI_ERR_OPTION_MISSING_VALUE', 'option --socket requires an argument');
  throwsCode(() => run(['--socket', '--master']), 'UWSGI_ERR_OPTION_MISSING_VALUE', 'option --socket requires an argument');
  throwsCode(() => run(['-s']), 'UWSGI_ERR_OPTION_MISSING_VALUE', 'option --socket requires an argument');
  throwsCode(() => run(['--socket=']), 'UWSGI_ERR_OPTION_MISSING_VALUE', 'option --socket requires an argument');
  const f = file('empty.ini', '[uwsgi]\nworkers =\n');
  throwsCode(() => run(['--ini', f]), 'UWSGI_ERR_OPTION_MISSING_VALUE', `option --workers requires an argument in ${f} line 2`);
});

test('malformed and out-of-range values', () => {
  throwsCode(() => run(['--workers', 'abc']), 'UWSGI_ERR_OPTION_VALUE', 'invalid value for option --workers: "abc" (expected a whole number ≥ 1)');
  throwsCode(() => run(['--workers', '0']), 'UWSGI_ERR_OPTION_VALUE', /--workers: "0"/);
  throwsCode(() => run(['--harakiri', '-5']), 'UWSGI_ERR_OPTION_VALUE', /--harakiri: "-5" \(expected a whole number between 0 and 2147483\)/);
  throwsCode(() => run(['--listen', '4.5']), 'UWSGI_ERR_OPTION_VALUE', /--listen: "4.5"/);
  throwsCode(
    () => run(['--accept-mode', 'fork']),
    'UWSGI_ERR_OPTION_VALUE',
    'invalid value for option --accept-mode: "fork" (expected one of auto, dup, reuseport, proxy)',
  );
  throwsCode(() => run(['--workers', '999999999999']), 'UWSGI_ERR_OPTION_VALUE', /--workers: "999999999999" \(expected a whole number between 1 and 2147483647\)/);
  const f = file('badint.ini', '[uwsgi]\nworkers = many\n');
  throwsCode(() => run(['--ini', f]), 'UWSGI_ERR_OPTION_VALUE', `invalid value for option --workers in ${f} line 2: "many" (expected a whole number ≥ 1)`);
});

test('--mule-msg-size: capped at 64 MiB, negative and non-numeric refused', () => {
  assert.is(run(['--mule-msg-size', '67108864']).options['mule-msg-size'], 67108864);
  for (const v of ['67108865', '999999999999', '-5', '0', 'abc', '1.5']) {
    throwsCode(() => run(['--mule-msg-size', v]), 'UWSGI_ERR_OPTION_VALUE',
      `invalid value for option --mule-msg-size: "${v}" (expected a whole number between 1 and 67108864)`);
  }
});

test('timer options are capped at 2147483 seconds (a longer JS timer fires at once)', () => {
  for (const name of ['reload-mercy', 'worker-reload-mercy', 'check-interval', 'harakiri', 'mule-harakiri', 'mule-reload-mercy']) {
    assert.is(run([`--${name}`, '2147483']).options[name as 'harakiri'], 2147483, name);
    throwsCode(() => run([`--${name}`, '2147484']), 'UWSGI_ERR_OPTION_VALUE',
      `invalid value for option --${name}: "2147484" (expected a whole number between ${name === 'check-interval' ? 1 : 0} and 2147483; a longer timer would fire at once: JS timers are limited to 2^31−1 ms, 24.8 days)`);
  }
  assert.is(run(['--socket-timeout', '143165']).options['socket-timeout'], 143165);
  throwsCode(() => run(['--socket-timeout', '143166']), 'UWSGI_ERR_OPTION_VALUE', /--socket-timeout: "143166" \(expected a whole number between 1 and 143165; a longer timer/);
});

test('missing config file names the file and the OS error', () => {
  throwsCode(() => run(['--ini', 'nope.ini']), 'UWSGI_ERR_CONFIG_FILE', new RegExp(`${join(dir, 'nope.ini')}: ENOENT`));
});

test('--help / --version short-circuit', () => {
  assert.is(run(['--workers', 'abc', '--help']).options.help, true);
  assert.is(run(['-h']).options.help, true);
  assert.is(run(['--version'], { UWSGI_WORKERS: 'bad' }).options.version, true);
});

test('-- ends options', () => {
  const a = file('dd.ini', '[uwsgi]\nworkers = 9\n');
  assert.is(run(['--', a]).options.workers, 9);
});

test('show-config block', () => {
  const r = run(['--workers', '2', '--master']);
  assert.is(formatShowConfig(r.list), ';uWSGI instance configuration\n[uwsgi]\nworkers = 2\nmaster = true\n;end of configuration\n');
});

test('suggestions', () => {
  assert.is(suggestOption('workerz'), 'workers');
  assert.is(suggestOption('harakri'), 'harakiri');
  assert.is(suggestOption('qqqqqqqqqq'), undefined);
  assert.ok(findOption('yml'));
});

test('inherit: the file is loaded after expansion, its options appended unexpanded (they win), as uWSGI 2.0.21 does', () => {
  file('inh-base.ini', '[uwsgi]\nworkers = 4\nsocket = :9001\nlog-format = %(bar) %n $(HOME)\n');
  const child = file('inh-child.ini', '[uwsgi]\ninherit = %dinh-base.ini\nworkers = 2\nbar = 7\nsocket = :%(bar)\n');
  const r = run(['--ini', child], { HOME: '/root' });
  assert.is(r.options.workers, 4); // the inherited scalar comes last
  assert.equal(r.options.socket, [':7', ':9001']);
  assert.is(r.options['log-format'], '%(bar) inh-base $(HOME)'); // magic vars yes, $() %() no
  assert.equal(r.list.slice(-3), [['workers', '4'], ['socket', ':9001'], ['log-format', '%(bar) inh-base $(HOME)']]);
  throwsCode(() => run(['--inherit', 'inh-base.txt']), 'UWSGI_ERR_CONFIG_FILE', /"inh-base\.txt" \(option --inherit\): the extension must be/);
  const loop = file('inh-loop.ini', '[uwsgi]\ninherit = %dinh-loop.ini\n');
  throwsCode(() => run(['--ini', loop]), 'UWSGI_ERR_CONFIG_FILE', /more than 64 inherited config files/);
  throwsCode(() => run(['--inherit', file('inh-typo.ini', '[uwsgi]\nworkerz = 2\n')]), 'UWSGI_ERR_UNKNOWN_OPTION', /unknown option "workerz" in .*inh-typo\.ini line 2/);
});

test('--no-<flag> is not an option: the error says how to switch the flag off', () => {
  throwsCode(() => run(['--no-master']), 'UWSGI_ERR_UNKNOWN_OPTION', 'unknown option --no-master: there are no --no-* options; to switch --master off write --master=false');
  throwsCode(() => run(['--no-disable-logging']), 'UWSGI_ERR_UNKNOWN_OPTION', /to switch --disable-logging off write --disable-logging=false/);
  throwsCode(() => run(['--no-workers']), 'UWSGI_ERR_UNKNOWN_OPTION', /^unknown option --no-workers/);
  assert.is(run(['--master=false']).options.master, false);
});

test('env: a UWSGI_ variable for a uWSGI option uwsgi-ts lacks is a warning, not silently dropped', () => {
  const r = run([], { UWSGI_CHDIR: '/srv', UWSGI_MY_THING: 'x', UWSGI_WORKERS: '2' });
  assert.equal(r.warnings, ['*** WARNING: environment variable UWSGI_CHDIR sets --chdir, a uWSGI option that uwsgi-ts does not implement (docs/options.md lists the supported ones): ignored ***']);
  assert.equal(r.log, r.warnings);
  assert.is(r.options.workers, 2);
  assert.is(r.placeholders.get('my-thing'), 'x');
});

test('a whole number that is too large: the error says where the range ends', () => {
  throwsCode(() => run(['--workers', '99999999999']), 'UWSGI_ERR_OPTION_VALUE', 'invalid value for option --workers: "99999999999" (expected a whole number between 1 and 2147483647)');
  throwsCode(() => run(['--limit-post', '99999999999999999999']), 'UWSGI_ERR_OPTION_VALUE', /\(expected a whole number between 0 and 9007199254740991\)$/);
  throwsCode(() => run(['--workers', '-5']), 'UWSGI_ERR_OPTION_VALUE', 'invalid value for option --workers: "-5" (expected a whole number ≥ 1)');
  assert.is(run(['--buffer-size', '70000']).options['buffer-size'], 65535);
});

test('a config file named with $() or %() that cannot be opened: the error says these are not expanded there', () => {
  const ini = file('imm.ini', '[uwsgi]\nini = $(CONF_DIR)/x.ini\n');
  throwsCode(() => run(['--ini', ini], { CONF_DIR: dir }), 'UWSGI_ERR_CONFIG_FILE', /\$\(CONF_DIR\)\/x\.ini: ENOENT.* \(option --ini in .*imm\.ini line 2\); --ini is read at once, so \$\(\), @\(\) and %\(\) in its value are not expanded \(magic variables such as %d are\)$/);
  throwsCode(() => run(['--yaml', '%(dir)/a.yaml']), 'UWSGI_ERR_CONFIG_FILE', /--yaml is read at once/);
  throwsCode(() => run(['--yaml', 'nope.yaml']), 'UWSGI_ERR_CONFIG_FILE', /nope\.yaml: ENOENT: no such file or directory$/);
});

test('an immediate option with a $() or %() value: the value error says these are not expanded there', () => {
  throwsCode(() => run(['--set-placeholder', 'backlog=64', '--listen', '%(backlog)']), 'UWSGI_ERR_OPTION_VALUE', 'invalid value for option --listen: "%(backlog)" (expected a whole number ≥ 1); --listen is read at once, so $(), @() and %() in its value are not expanded');
  throwsCode(() => run(['--workers', '%(nope)']), 'UWSGI_ERR_OPTION_VALUE', 'invalid value for option --workers: "%(nope)" (expected a whole number ≥ 1)');
});

test('a line with nothing before "=" says the option name is missing, not unknown option ""', () => {
  const ini = file('noname.ini', '[uwsgi]\nworkers = 2\n= 3\n');
  throwsCode(() => run(['--ini', ini]), 'UWSGI_ERR_UNKNOWN_OPTION', `missing option name in ${ini} line 3: "=3" has nothing before "="`);
  const json = file('noname.json', '{"uwsgi": {\n"": 1}}');
  throwsCode(() => run(['--json', json]), 'UWSGI_ERR_UNKNOWN_OPTION', `missing option name in ${json} line 2: "=1" has nothing before "="`);
});

test.run();
