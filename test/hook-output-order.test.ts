// Regression (session-4 note): a hook's own output could reach the terminal before its
// `running "exec:..." (as-mule)...` line, because log lines are written asynchronously and
// the exec'd command writes straight to the inherited stdout. Each hook's line must come
// first. stdout and stderr are merged into one pipe here (as on a terminal or a log file),
// so the order seen is the order written.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CLI, runCli } from './helpers/cli.js';

const HOOKS = 6;

test('every --hook-as-mule exec prints after its own "running" line', async () => {
  const args = ['--http-socket', '127.0.0.1:0', '--module', 'test/fixtures/mule-app.ts', '--sharedarea', '1', '--mules', '2'];
  for (let i = 1; i <= HOOKS; i++) args.push('--hook-as-mule', `exec:echo hook-output-${i}`);
  const s = await runCli(args, { wrapper: ['sh', '-c', 'exec "$0" "$@" 2>&1', process.execPath, CLI] });
  try {
    const last = new RegExp(`^hook-output-${HOOKS}$[\\s\\S]*^hook-output-${HOOKS}$`, 'm');
    await s.waitFor(last, 15_000);
    const lines = s.output().split('\n');
    for (let i = 1; i <= HOOKS; i++) {
      const running = lines.flatMap((l, at) => (l === `running "exec:echo hook-output-${i}" (as-mule)...` ? [at] : []));
      const printed = lines.flatMap((l, at) => (l === `hook-output-${i}` ? [at] : []));
      assert.is(running.length, 2, `two mules ran hook ${i}`);
      assert.is(printed.length, 2, `hook ${i} printed twice`);
      // The n-th output of hook i comes after the n-th "running" line of hook i.
      for (let n = 0; n < 2; n++) assert.ok(printed[n]! > running[n]!, `hook ${i} output at line ${printed[n]} before its running line at ${running[n]}:\n${s.output()}`);
    }
  } finally {
    await s.stop();
  }
});

test.run();
