/**
 * The report and the live page in headless Chromium (Debian's chromium driven
 * by playwright-core) during a short graphene-small run. Screenshots are kept in
 * $ASLA_SCREENSHOTS (default: a temporary directory, printed) to look at.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { backendSkip } from '../support/backend.js';
import { startLiveServer } from '../../src/report/server.js';
import { writeReport } from '../../src/report/report.js';

const CHROMIUM = '/usr/bin/chromium';
const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const RUN_SETS = ['--set', 'training.batchSize=8', '--set', 'training.symmetryCopies=1', '--quiet'];

function shotsDir(): string {
  const d = process.env.ASLA_SCREENSHOTS ?? mkdtempSync(join(tmpdir(), 'asla-shots-'));
  mkdirSync(d, { recursive: true });
  return d;
}

async function launch(userDir: string) {
  const { chromium } = await import('playwright-core');
  return chromium.launchPersistentContext(userDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-quic', '--disable-sync'],
    viewport: { width: 1280, height: 1000 },
  });
}

type Page = Awaited<ReturnType<Awaited<ReturnType<typeof launch>>['newPage']>>;

/** Waits for a condition in the page; on timeout fails with what the page's status line says. */
async function waitInPage(page: Page, fn: () => boolean, what: string, timeout = 120000): Promise<void> {
  try {
    await page.waitForFunction(fn, undefined, { timeout, polling: 250 });
  } catch (e) {
    const status = await page.textContent('#status').catch(() => '?');
    throw new Error(`${what}: ${(e as Error).message.split('\n')[0]} (page status: ${status}; episode shown: ${await page.evaluate(() => document.body.dataset.episode).catch(() => '?')})`);
  }
}

function runCli(args: string[]): void {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 300000 });
  assert.equal(r.status, 0, `asla ${args.join(' ')}: ${r.stderr}`);
}

test('the live server is read-only and reports a run directory', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'asla-serve-'));
  try {
    runCli(['run', 'graphene-small', '--out', join(dir, 'run'), '--episodes', '2', ...RUN_SETS]);
    const server = await startLiveServer({ dir: join(dir, 'run'), pollMs: 200 });
    try {
      assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
      const post = await fetch(server.url, { method: 'POST' });
      assert.equal(post.status, 405);
      const state = (await (await fetch(`${server.url}api/state`)).json()) as { agents: { episodes: number; actions: number }[] };
      assert.equal(state.agents.length, 1);
      assert.equal(state.agents[0].episodes, 2);
      const step = await fetch(`${server.url}picture/step.svg?agent=0&episode=2&step=3`);
      assert.equal(step.status, 200);
      assert.match(await step.text(), /<image class="heatmap"/);
      assert.equal((await fetch(`${server.url}picture/step.svg?agent=0&episode=9`)).status, 404);
      assert.equal((await fetch(`${server.url}nothing`)).status, 404);
    } finally {
      await server.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('browser: the live page follows a running search, then the report shows its pictures', { skip: backendSkip('chromium', existsSync(CHROMIUM)), timeout: 600000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'asla-live-'));
  const shots = shotsDir();
  const runDir = join(dir, 'run');
  const ctx = await launch(join(dir, 'chromium-profile'));
  let server: Awaited<ReturnType<typeof startLiveServer>> | null = null;
  let child: ReturnType<typeof spawn> | null = null;
  let poll: ReturnType<typeof setInterval> | undefined;
  try {
    runCli(['run', 'graphene-small', '--out', runDir, '--episodes', '2', ...RUN_SETS]);
    server = await startLiveServer({ dir: runDir, pollMs: 300 });
    const page = await ctx.newPage();
    await page.goto(server.url);
    await waitInPage(page, () => document.body.dataset.episode === '2', 'the page shows the run\'s 2 episodes');

    // continue the run while the page is open: episodes must arrive through the event stream
    child = spawn(process.execPath, [MAIN, 'run', '--resume', runDir, '--episodes', '40', '--quiet'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child!.on('exit', (code) => resolve(code)));
    await waitInPage(page, () => Number(document.body.dataset.episode) > 2, 'a live episode arrives');
    const seen: number[] = [];
    poll = setInterval(() => {
      page.evaluate(() => Number(document.body.dataset.episode)).then((e) => seen.push(e), () => {});
    }, 300);
    assert.equal(await exited, 0, stderr);
    await waitInPage(page, () => document.body.dataset.episode === '40', 'the last episode arrives');
    clearInterval(poll);
    // the page saw intermediate episodes, not just the end
    assert.ok(new Set(seen.filter((e) => e > 2 && e < 40)).size >= 1, `episodes seen live: ${seen.join(',')}`);
    // every picture of the latest episode loads
    await waitInPage(
      page,
      () =>
        ['energy', 'build', 'stepimg', 'best'].every((id) => {
          const img = document.getElementById(id) as HTMLImageElement;
          return img.complete && img.naturalWidth > 0 && img.dataset.loaded === img.dataset.want;
        }),
      'the pictures of the latest episode load',
    );
    assert.match(await page.getAttribute('#build', 'src') ?? '', /episode=40/);
    assert.equal(await page.textContent('#latest-episode'), '40');
    assert.match((await page.textContent('#agents tbody')) ?? '', /^run40/);
    // stepping through the build switches the Q-map picture
    await page.click('#next');
    await waitInPage(page, () => /step=2/.test((document.getElementById('stepimg') as HTMLImageElement).src), 'step 2 is shown');
    await page.screenshot({ path: join(shots, 'live.png'), fullPage: true });
    t.diagnostic(`live page screenshot: ${join(shots, 'live.png')}`);

    // the report of the finished run
    const report = await writeReport(runDir, { out: join(dir, 'report') });
    const rpage = await ctx.newPage();
    await rpage.goto(pathToFileURL(report.html).href);
    await rpage.waitForLoadState('load');
    const images = await rpage.$$eval('img', (imgs) => imgs.map((i) => ({ src: i.getAttribute('src'), ok: (i as HTMLImageElement).complete && (i as HTMLImageElement).naturalWidth > 0 })));
    assert.ok(images.length >= 3 + 2 * report.episodes.length, `${images.length} images`);
    for (const im of images) assert.ok(im.ok, `picture ${im.src} did not load`);
    const stepper = rpage.locator('.stepper').first();
    const before = await stepper.locator('img').getAttribute('src');
    await stepper.locator('.next').click();
    const after = await stepper.locator('img').getAttribute('src');
    assert.notEqual(after, before);
    assert.match(after ?? '', /step-2\.svg$/);
    await rpage.screenshot({ path: join(shots, 'report.png'), fullPage: true });
    t.diagnostic(`report screenshot: ${join(shots, 'report.png')}`);
  } finally {
    // an interval left running would keep this test file alive for ever after a failure
    clearInterval(poll);
    if (child && child.exitCode === null) child.kill();
    await ctx.close();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
