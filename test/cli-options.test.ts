// Options and config files through the real CLI: placeholders, precedence, and errors
// that name the bad option or value and exit 1 before any thread starts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli, runCliToExit, FIXTURES } from './helpers/cli.js';
import { get } from './helpers/http.js';

const HELLO = path.join(FIXTURES, 'hello.ts');
const dir = mkdtempSync(path.join(os.tmpdir(), 'uwsgi-ts-cfg-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('ini file with %(placeholder) and $(ENV); the command line overrides the file', async () => {
  const ini = path.join(dir, 'app.ini');
  writeFileSync(ini, `[uwsgi]\nbase = ${FIXTURES}\nhost = 127.0.0.1\nhttp-socket = %(host):0\nmodule = %(base)/$(APP_FILE)\nworkers = 3\n`);
  const s = await runCli(['--ini', ini, '--workers', '1'], { env: { APP_FILE: 'hello.ts' } });
  try {
    assert.is((await get(s.ports[0], '/')).status, 200);
    assert.is(s.output().match(/spawned uwsgi-ts worker/g)?.length, 1);
  } finally {
    await s.stop();
  }
});

test('ini file section selection (file.ini:section)', async () => {
  const ini = path.join(dir, 'multi.ini');
  writeFileSync(ini, `[uwsgi]\nworkers = 4\n[small]\nhttp-socket = 127.0.0.1:0\nmodule = ${HELLO}\nworkers = 2\n`);
  const s = await runCli([`${ini}:small`].map((x) => `--ini=${x}`));
  try {
    assert.is(s.output().match(/spawned uwsgi-ts worker/g)?.length, 2);
  } finally {
    await s.stop();
  }
});

test('yaml and json config files', async () => {
  const yml = path.join(dir, 'app.yaml');
  writeFileSync(yml, `uwsgi:\n  http-socket: 127.0.0.1:0\n  module: ${HELLO}\n  workers: 2\n`);
  const a = await runCli(['--yaml', yml]);
  try {
    assert.is((await get(a.ports[0], '/')).status, 200);
  } finally {
    await a.stop();
  }
  const json = path.join(dir, 'app.json');
  writeFileSync(json, JSON.stringify({ uwsgi: { 'http-socket': ['127.0.0.1:0', '127.0.0.1:0'], module: HELLO, workers: 1, master: true } }));
  const b = await runCli(['--json', json]);
  try {
    assert.is(b.ports.length, 2);
    for (const p of b.ports) assert.is((await get(p, '/')).status, 200);
  } finally {
    await b.stop();
  }
});

test('yaml: a key written twice is two options, as in uWSGI (both sockets bound)', async () => {
  const yml = path.join(dir, 'repeat.yaml');
  writeFileSync(yml, `uwsgi:\n  http-socket: 127.0.0.1:0\n  http-socket: 127.0.0.1:0\n  module: ${HELLO}\n  workers: 3\n  workers: 1\n`);
  const s = await runCli(['--yaml', yml]);
  try {
    assert.is(s.ports.length, 2);
    for (const p of s.ports) assert.is((await get(p, '/')).status, 200);
    assert.is(s.output().match(/spawned uwsgi-ts worker/g)?.length, 1, 'the last workers: wins');
  } finally {
    await s.stop();
  }
});

test('a malformed json file: the error names the file and the line, on one line', async () => {
  const cases: Array<[string, string, number]> = [
    ['truncated-word.json', '{"uwsgi": {\n  "workers": 2,\n  "master": tru\n}}\n', 3],
    ['missing-comma.json', '{"uwsgi": {\n  "workers": 2\n  "master": true\n}}\n', 3],
    ['unterminated.json', '{"uwsgi": {\n  "workers": 2,\n', 3],
    ['trailing-comma.json', '{"uwsgi": {\n  "workers": 2,\n}}\n', 3],
  ];
  for (const [name, text, line] of cases) {
    const f = path.join(dir, name);
    writeFileSync(f, text);
    const r = await runCliToExit(['--json', f]);
    assert.is(r.code, 1, r.output);
    const lines = r.output.trim().split('\n');
    assert.is(lines.length, 1, `${name}: one line: ${r.output}`);
    assert.ok(lines[0].startsWith(`uwsgi-ts: [UWSGI_ERR_CONFIG_FILE] error parsing JSON data in ${f}: line ${line}: `), `${name}: ${r.output}`);
  }
});

const failing: Array<{ name: string; args: string[]; expect: RegExp }> = [
  { name: 'unknown option with a suggestion', args: ['--workerz', '2'], expect: /\[UWSGI_ERR_UNKNOWN_OPTION\] unknown option --workerz \(did you mean --workers\?\)/ },
  { name: 'malformed number', args: ['--workers', 'abc', '--module', HELLO, '--http-socket', ':0'], expect: /\[UWSGI_ERR_OPTION_VALUE\].*--workers.*"abc"/ },
  { name: 'missing value', args: ['--module'], expect: /\[UWSGI_ERR_OPTION_MISSING_VALUE\].*--module/ },
  { name: 'bad accept mode', args: ['--accept-mode', 'teleport', '--module', HELLO, '--http-socket', ':0'], expect: /\[UWSGI_ERR_OPTION_VALUE\].*--accept-mode.*"teleport"/ },
  { name: 'bad port', args: ['--http-socket', '127.0.0.1:99999', '--module', HELLO], expect: /\[UWSGI_ERR_ADDRESS\] invalid port for option --http-socket: "127\.0\.0\.1:99999"/ },
  { name: 'no module', args: ['--http-socket', '127.0.0.1:0'], expect: /\[UWSGI_ERR_NO_APP\] no application/ },
  { name: 'missing module file', args: ['--http-socket', '127.0.0.1:0', '--module', '/nonexistent/app.ts'], expect: /\[UWSGI_ERR_APP_LOAD\] --module "\/nonexistent\/app\.ts": no such file/ },
  { name: 'missing config file', args: ['--ini', '/nonexistent/x.ini'], expect: /\[UWSGI_ERR_CONFIG_FILE\].*\/nonexistent\/x\.ini/ },
  { name: 'listen backlog over somaxconn', args: ['--listen', '99999999', '--module', HELLO, '--http-socket', ':0'], expect: /--listen 99999999: Listen queue size is greater than the system max net\.core\.somaxconn/ },
  { name: 'unwritable pidfile', args: ['--pidfile', '/nonexistent-dir/app.pid', '--module', HELLO, '--http-socket', '127.0.0.1:0'], expect: /\[UWSGI_ERR_OPTION_VALUE\] --pidfile "\/nonexistent-dir\/app\.pid": cannot write it/ },
  { name: 'bad sharedarea size', args: ['--sharedarea', '0', '--module', HELLO, '--http-socket', ':0'], expect: /you need to set a size for a sharedarea/ },
  // A malformed value is reported even when a piece is also missing (here: no --module).
  { name: 'bad port, no module', args: ['--http-socket', '127.0.0.1:99999'], expect: /\[UWSGI_ERR_ADDRESS\] invalid port for option --http-socket: "127\.0\.0\.1:99999"/ },
  { name: 'bad sharedarea spec, no module', args: ['--sharedarea', 'pages=x', '--socket', '127.0.0.1:0'], expect: /\[UWSGI_ERR_OPTION_VALUE\] --sharedarea: .*"x" is not a decimal page count/ },
];
for (const f of failing) {
  test(`bad input exits 1 before any thread starts: ${f.name}`, async () => {
    const r = await runCliToExit(f.args);
    assert.is(r.code, 1, r.output);
    assert.match(r.output, f.expect);
    assert.not.match(r.output, /spawned uwsgi-ts worker/);
  });
}

test('an unknown key in a config file names the file and the closest option', async () => {
  const ini = path.join(dir, 'typo.ini');
  writeFileSync(ini, `[uwsgi]\nhttp-sockett = 127.0.0.1:0\nmodule = ${HELLO}\n`);
  const r = await runCliToExit(['--ini', ini]);
  assert.is(r.code, 1);
  assert.match(r.output, /UWSGI_ERR_UNKNOWN_OPTION/);
  assert.match(r.output, /http-sockett/);
  assert.match(r.output, /typo\.ini/);
  assert.match(r.output, /http-socket/);
});

test('a bad value or unknown key in an ini or yaml file names the file and its line', async () => {
  const ini = path.join(dir, 'badline.ini');
  writeFileSync(ini, `; comment\n[other]\nworkers = 2\n[uwsgi]\n\nhttp-socket = 127.0.0.1:0\nworkers = many\nmodule = ${HELLO}\n`);
  const a = await runCliToExit(['--ini', ini]);
  assert.is(a.code, 1, a.output);
  assert.ok(a.output.includes(`[UWSGI_ERR_OPTION_VALUE] invalid value for option --workers in ${ini} line 7: "many"`), a.output);
  const yml = path.join(dir, 'badline.yaml');
  writeFileSync(yml, `# comment\nuwsgi:\n  http-socket:\n    - 127.0.0.1:0\n    - ""\n  workers: 2\n`);
  const b = await runCliToExit(['--yaml', yml]);
  assert.is(b.code, 1, b.output);
  assert.ok(b.output.includes(`[UWSGI_ERR_OPTION_MISSING_VALUE] option --http-socket requires an argument in ${yml} line 5`), b.output);
  writeFileSync(yml, `uwsgi:\n  http-socket: 127.0.0.1:0\n  workerz: 2\n`);
  const c = await runCliToExit(['--yaml', yml]);
  assert.is(c.code, 1, c.output);
  assert.ok(c.output.includes(`[UWSGI_ERR_UNKNOWN_OPTION] unknown option "workerz" in ${yml} line 3 (did you mean "workers"?)`), c.output);
});

test('a bad socket address or sharedarea value in a file names the file and its line', async () => {
  const ini = path.join(dir, 'badaddr.ini');
  writeFileSync(ini, `[uwsgi]\nmodule = ${HELLO}\nhttp-socket = 127.0.0.1:0\nhttp-socket = 127.0.0.1:99999\n`);
  const a = await runCliToExit(['--ini', ini]);
  assert.is(a.code, 1, a.output);
  assert.ok(a.output.includes(`[UWSGI_ERR_ADDRESS] invalid port for option --http-socket: "127.0.0.1:99999" (expected 0-65535) in ${ini} line 4`), a.output);
  assert.not.match(a.output, /spawned uwsgi-ts worker/);
  const yml = path.join(dir, 'badarea.yaml');
  writeFileSync(yml, `uwsgi:\n  module: ${HELLO}\n  socket: 127.0.0.1:0\n  sharedarea:\n    - 4\n    - pages=x\n`);
  const b = await runCliToExit(['--yaml', yml]);
  assert.is(b.code, 1, b.output);
  assert.match(b.output, /\[UWSGI_ERR_OPTION_VALUE\] --sharedarea: .*"x" is not a decimal page count.* in \S*badarea\.yaml line 6/);
  const c = await runCliToExit(['--module', HELLO], { env: { UWSGI_SOCKET: '[::1]3031' } });
  assert.is(c.code, 1, c.output);
  assert.match(c.output, /\[UWSGI_ERR_ADDRESS\] malformed IPv6 address for option --socket: "\[::1\]3031" .* from environment variable UWSGI_SOCKET/);
});

test('a flag or --mule followed by a separate word: the error says the value needs "="', async () => {
  const a = await runCliToExit(['--master', 'true', '--module', HELLO, '--http-socket', '127.0.0.1:0']);
  assert.is(a.code, 1, a.output);
  assert.ok(a.output.includes('[UWSGI_ERR_CONFIG_FILE] unable to load configuration from "true": --master takes a value only with "=" (did you mean --master=true?)'), a.output);
  const b = await runCliToExit(['--mule', 'jobs.ts', '--module', HELLO, '--http-socket', '127.0.0.1:0']);
  assert.is(b.code, 1, b.output);
  assert.ok(b.output.includes('unable to load configuration from "jobs.ts": --mule takes a value only with "=" (did you mean --mule=jobs.ts?)'), b.output);
  const c = await runCliToExit(['-M', 'true', '--module', HELLO, '--http-socket', '127.0.0.1:0']);
  assert.is(c.code, 1, c.output);
  assert.ok(c.output.includes('-M (--master) takes a value only with "=" (did you mean --master=true?)'), c.output);
  assert.not.match(a.output + b.output + c.output, /spawned uwsgi-ts worker/);
});

test('each config file read is logged as uWSGI logs it, before its warnings', async () => {
  const ini = path.join(dir, 'logged.ini');
  writeFileSync(ini, `[uwsgi]\nworkers = 2\n`);
  const yml = path.join(dir, 'logged.yaml');
  writeFileSync(yml, `uwsgi:\n  workers: 1\n`);
  const r = await runCliToExit(['--ini', `${ini}:nope`, '--yaml', yml, '--http-socket', '127.0.0.1:0']);
  assert.is(r.code, 1, r.output); // no --module
  const lines = r.output.split('\n');
  const at = lines.indexOf(`[uWSGI] getting INI configuration from ${ini}`);
  assert.ok(at >= 0, r.output);
  assert.match(lines[at + 1], /WARNING: Can't find section "nope"/);
  assert.is(lines[at + 2], `[uWSGI] getting YAML configuration from ${yml}`);
});

test('a config read from stdin (--ini -): errors say "standard input" and the line', async () => {
  const { spawnSync } = await import('node:child_process');
  const r = spawnSync(process.execPath, [path.join(FIXTURES, '..', '..', 'dist', 'cli.js'), '--ini', '-'], { input: '[uwsgi]\nworkers = abc\n', encoding: 'utf8', timeout: 20_000 });
  assert.is(r.status, 1, r.stderr);
  assert.ok(r.stderr.includes('[UWSGI_ERR_OPTION_VALUE] invalid value for option --workers in standard input line 2: "abc"'), r.stderr);
});

test('an app with no usable export, or one that throws at load, fails startup with exit 1', async () => {
  const a = await runCliToExit(['--http-socket', '127.0.0.1:0', '--module', path.join(FIXTURES, 'bad-export.ts')]);
  assert.is(a.code, 1);
  assert.match(a.output, /\[UWSGI_ERR_NO_APP\] --module ".*bad-export\.ts": export "default" not found \(exports: notAnApp\)/);
  const b = await runCliToExit(['--http-socket', '127.0.0.1:0', '--module', path.join(FIXTURES, 'throws-on-load.ts')]);
  assert.is(b.code, 1);
  assert.match(b.output, /\[UWSGI_ERR_APP_LOAD\].*this app fails at load time/);
});

test('an app stuck while loading fails startup after --worker-reload-mercy instead of hanging', async () => {
  const r = await runCliToExit(['--http-socket', '127.0.0.1:0', '--worker-reload-mercy', '2', '--module', path.join(FIXTURES, 'stuck-at-load.ts')], { timeoutMs: 20_000 });
  assert.is(r.code, 1, r.output);
  assert.match(r.output, /\[UWSGI_ERR_WORKER_CRASH\] worker 1 did not start accepting within --worker-reload-mercy 2 s/);
});

test('a socket that cannot be bound is a clear startup error', async () => {
  const s = await runCli(['--http-socket', '127.0.0.1:0', '--module', HELLO, '--workers', '1']);
  try {
    const r = await runCliToExit(['--http-socket', `127.0.0.1:${s.ports[0]}`, '--module', HELLO]);
    // dup and proxy modes cannot share a port; reuseport mode can (that is its point)
    if (!/accept mode reuseport/.test(s.output())) {
      assert.is(r.code, 1);
      assert.match(r.output, new RegExp(`\\[UWSGI_ERR_BIND\\] unable to create server socket on: 127\\.0\\.0\\.1:${s.ports[0]}`));
    }
  } finally {
    await s.stop();
  }
});

test('--pidfile and --vacuum: the pid is written at start and removed, with the UNIX socket, at exit', async () => {
  const pid = path.join(dir, 'app.pid');
  const sock = path.join(dir, 'app.sock');
  const s = await runCli(['--socket', sock, '--http-socket', '127.0.0.1:0', '--module', HELLO, '--pidfile', pid, '--vacuum']);
  const { readFileSync, existsSync } = await import('node:fs');
  assert.is(readFileSync(pid, 'utf8').trim(), String(s.child.pid));
  assert.ok(existsSync(sock));
  assert.is(await s.stop(), 0);
  assert.not.ok(existsSync(pid), 'pidfile removed');
  assert.not.ok(existsSync(sock), 'socket file removed');
  assert.match(s.output(), /VACUUM: pidfile removed\./);
});

test('--touch-reload: touching the file reloads the workers gracefully', async () => {
  const touch = path.join(dir, 'reload.touch');
  writeFileSync(touch, '');
  const s = await runCli(['--http-socket', '127.0.0.1:0', '--module', HELLO, '--workers', '1', '--touch-reload', touch]);
  try {
    const { utimesSync } = await import('node:fs');
    const later = new Date(Date.now() + 5000);
    utimesSync(touch, later, later);
    await s.waitFor(/has been touched\.\.\. grace them all !!!/, 5000);
    await s.waitFor(/workers reloaded/, 10_000);
    assert.match(s.output(), /spawned uwsgi-ts worker 1 .*generation: 2\)/);
    assert.is((await get(s.ports[0], '/')).status, 200);
  } finally {
    await s.stop();
  }
});

test('options accepted but not active yet are announced, not silently ignored; --show-config prints the config', async () => {
  const s = await runCli(['--http-socket', '127.0.0.1:0', '--module', HELLO, '--stats', '127.0.0.1:0', '--show-config']);
  try {
    assert.match(s.output(), /\*\*\* WARNING: --stats is accepted but has no effect in this version/);
    assert.match(s.output(), /;uWSGI instance configuration[\s\S]*stats = 127\.0\.0\.1:0[\s\S]*;end of configuration/);
  } finally {
    await s.stop();
  }
});

test('--help lists the options; --version prints the version', async () => {
  const h = await runCliToExit(['--help']);
  assert.is(h.code, 0);
  for (const name of ['--http-socket', '--socket', '--workers', '--harakiri', '--max-requests', '--limit-post', '--buffer-size', '--sharedarea', '--mule']) assert.ok(h.output.includes(name), name);
  const v = await runCliToExit(['--version']);
  assert.is(v.code, 0);
  assert.match(v.output, /^uwsgi-ts \d+\.\d+\.\d+\n$/, 'one line, no blank line after it');
});

test.run();
