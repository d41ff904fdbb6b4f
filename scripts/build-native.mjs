#!/usr/bin/env node
// Builds the optional N-API addon in native/ (run by `npm install`/`npm ci` through
// the package "install" script, or by hand: `node scripts/build-native.mjs [--force] [--verbose]`).
//
// Never fails the install: if the addon cannot be built or loaded, it prints one
// line, `uwsgi-ts: native addon not built (<reason>); using the pure-JS fallback`,
// keeps the full build output in native/build-native.log, and exits 0.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const nativeDir = join(root, 'native');
const addonPath = join(nativeDir, 'build', 'Release', 'uwsgi_native.node');
const logPath = join(nativeDir, 'build-native.log');
const force = process.argv.includes('--force');
const verbose = process.argv.includes('--verbose');
const BUILD_TIMEOUT_MS = 5 * 60 * 1000;

function notBuilt(reason) {
  console.log(`uwsgi-ts: native addon not built (${reason}); using the pure-JS fallback`);
  process.exit(0);
}

/** Newest modification time among binding.gyp and native/src/*. */
function newestSourceMtime() {
  let newest = statSync(join(nativeDir, 'binding.gyp')).mtimeMs;
  const srcDir = join(nativeDir, 'src');
  for (const name of readdirSync(srcDir)) newest = Math.max(newest, statSync(join(srcDir, name)).mtimeMs);
  return newest;
}

/** How to run node-gyp: [command, args prefix], or null when it cannot be found. */
function findNodeGyp() {
  const candidates = [];
  const fromNpmConfig = process.env.npm_config_node_gyp;
  if (fromNpmConfig) candidates.push(fromNpmConfig);
  const npmExec = process.env.npm_execpath;
  if (npmExec) candidates.push(join(dirname(npmExec), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  // npm bundled next to this node binary (direct runs, outside npm).
  const execDir = dirname(process.execPath);
  candidates.push(join(execDir, '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  candidates.push(join(execDir, 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  for (const c of candidates) {
    if (!existsSync(c)) continue;
    return c.endsWith('.js') ? [process.execPath, [c]] : [c, []];
  }
  return null;
}

/** --nodedir pointing at this node's own headers when they are installed, so no download is needed. */
function localNodedirArgs() {
  const configured = process.config?.variables?.node_prefix;
  const prefixes = [dirname(dirname(process.execPath)), ...(typeof configured === 'string' && configured ? [configured] : [])];
  for (const prefix of prefixes) {
    const versionHeader = join(prefix, 'include', 'node', 'node_version.h');
    if (!existsSync(versionHeader) || !existsSync(join(prefix, 'include', 'node', 'common.gypi'))) continue;
    const text = readFileSync(versionHeader, 'utf8');
    const part = (name) => text.match(new RegExp(`#define\\s+NODE_${name}_VERSION\\s+(\\d+)`))?.[1];
    if (`v${part('MAJOR')}.${part('MINOR')}.${part('PATCH')}` === process.version) return [`--nodedir=${prefix}`];
  }
  return [];
}

/** The last line of the build output that explains the failure. */
function failureLine(output) {
  const lines = output.split('\n').map((l) => l.trim()).filter(Boolean);
  const line =
    lines.find((l) => /: (fatal )?error: /.test(l)) ?? // compiler diagnostics first
    lines.find((l) => /^gyp ERR! stack \w*Error: /.test(l))?.replace(/^gyp ERR! stack /, '') ??
    lines.find((l) => /\berror\b/i.test(l) && !/^gyp (ERR|WARN)! /.test(l)) ??
    lines[lines.length - 1] ??
    'no output';
  return line.length > 160 ? line.slice(0, 160) + '…' : line;
}

function main() {
  if (process.platform !== 'linux') notBuilt(`needs Linux (timerfd, epoll), this is ${process.platform}`);
  if (!force && existsSync(addonPath) && statSync(addonPath).mtimeMs > newestSourceMtime()) {
    if (verbose) console.log(`uwsgi-ts: native addon up to date (${addonPath})`);
    return;
  }
  const gyp = findNodeGyp();
  let command;
  let args;
  if (gyp) [command, args] = gyp;
  else [command, args] = [process.platform === 'win32' ? 'npx.cmd' : 'npx', ['--yes', 'node-gyp']];
  args = [...args, 'rebuild', ...localNodedirArgs()];
  const run = spawnSync(command, args, {
    cwd: nativeDir,
    encoding: 'utf8',
    timeout: BUILD_TIMEOUT_MS,
    env: { ...process.env, npm_config_loglevel: process.env.npm_config_loglevel ?? 'warn' },
  });
  const output = `$ ${command} ${args.join(' ')}\n${run.stdout ?? ''}${run.stderr ?? ''}${run.error ? `\n${run.error.message}\n` : ''}`;
  writeFileSync(logPath, output);
  if (verbose) process.stdout.write(output);
  if (run.error) notBuilt(`${gyp ? 'node-gyp' : 'npx node-gyp'} could not run: ${run.error.message}; see native/build-native.log`);
  if (run.status !== 0 || !existsSync(addonPath)) {
    notBuilt(`node-gyp exited ${run.status ?? run.signal}: ${failureLine(output)}; see native/build-native.log`);
  }
  // The build can succeed and still produce something this node cannot load.
  const probe = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(addonPath)})`], { encoding: 'utf8', timeout: 30_000 });
  if (probe.status !== 0) notBuilt(`built but does not load: ${failureLine(probe.stderr ?? '')}`);
  if (verbose) console.log(`uwsgi-ts: native addon built (${addonPath})`);
}

try {
  main();
} catch (e) {
  notBuilt(e instanceof Error ? e.message : String(e));
}
