// The `npm start` demo in headless Chromium (Debian's chromium + playwright-core): the
// page renders, hits counted by both workers in one sharedarea show up, and a job queued
// from the page is done by the mule and its result lands in the sharedarea.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { runCli, ROOT, type RunningServer } from './helpers/cli.js';
import { sleep } from './helpers/http.js';

const CHROMIUM = '/usr/bin/chromium';
let server: RunningServer;
let browser: Browser;

// Playwright gives Chromium a fresh temporary profile; the flags keep it off the network.
test.before(async () => {
  assert.ok(existsSync(CHROMIUM), 'Debian chromium is installed (.ci/run installs it)');
  // The demo's own app and options, on a free port instead of 8080.
  server = await runCli(['--http-socket', '127.0.0.1:0', '--workers', '2', '--module', path.join(ROOT, 'demo', 'app.ts'), '--sharedarea', '1', '--mule=jobs()']);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

test.after(async () => {
  await browser?.close();
  await server?.stop();
});

test('the demo page counts hits across workers and shows a mule job done', async () => {
  const page = await browser.newPage();
  const base = `http://127.0.0.1:${server.ports[0]}`;
  await page.goto(`${base}/`);
  assert.is(await page.title(), 'uwsgi-ts demo');
  const first = Number(await page.textContent('#hits'));
  assert.ok(first >= 1);
  const workers = new Set<string>();
  for (let i = 0; i < 30 && workers.size < 2; i++) {
    await page.reload();
    workers.add((await page.textContent('#worker')) ?? '');
  }
  const hits = Number(await page.textContent('#hits'));
  assert.ok(hits > first, 'the hit counter grows');
  // Queue a job from the page: /job?n=7 redirects back to /.
  await page.click('text=queue a job');
  await page.waitForURL(`${base}/`);
  let done = '0';
  for (let i = 0; i < 50 && done === '0'; i++) {
    await sleep(100);
    await page.reload();
    done = (await page.textContent('#done')) ?? '0';
  }
  assert.is(done, '1', 'the mule processed the job');
  assert.is(await page.textContent('#sum'), '49');
  await page.screenshot({ path: path.join(os.tmpdir(), 'uwsgi-ts-demo.png') });
  await page.close();
});

test.run();
