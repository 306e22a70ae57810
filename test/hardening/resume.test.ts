/**
 * Resume after damage (issue 11, "Corruption"), at the level of a whole run:
 * the states a SIGKILL can leave (bench/kills.ts makes them at random; here each
 * is made on purpose) are repaired on resume, and the finished run equals an
 * uninterrupted one (episodes except timings, structures, network snapshots).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PRESETS } from '../../src/agent/presets.js';
import { validateProblem } from '../../src/agent/problem.js';
import { Run } from '../../src/search/run.js';

const EPISODES = 6;
const config = () => {
  const c = structuredClone(PRESETS['graphene-small']);
  c.run = { ...c.run, episodes: EPISODES, seed: 9 };
  return validateProblem(c, 'test');
};

async function runTo(dir: string, episodes: number, resume: boolean, warnings: string[] = []): Promise<void> {
  const run = await Run.open({ dir, config: resume ? undefined : config(), resume, warn: (m) => warnings.push(m) });
  await run.run({ episodes });
  await run.close();
}

const episodes = (dir: string) =>
  readFileSync(join(dir, 'episodes.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.stringify({ ...JSON.parse(l), ms: undefined }));

function assertSameRun(dir: string, reference: string): void {
  assert.deepEqual(episodes(dir), episodes(reference));
  for (const f of ['structures.extxyz', 'networks.jsonl']) assert.ok(readFileSync(join(dir, f)).equals(readFileSync(join(reference, f))), `${f} as uninterrupted`);
  assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), [], 'no temp files');
}

test('damaged checkpoint, cut log lines and stale temp files are repaired on resume', async () => {
  const work = mkdtempSync(join(tmpdir(), 'asla-resume-'));
  try {
    const reference = join(work, 'reference');
    await runTo(reference, EPISODES, false);

    // a kill while writing: the newest checkpoint cut in half, the log and structures with a partial last entry, a temp file left
    const dir = join(work, 'damaged');
    await runTo(dir, 4, false);
    const cp = readFileSync(join(dir, 'checkpoint.json'), 'utf8');
    writeFileSync(join(dir, 'checkpoint.json'), cp.slice(0, cp.length >> 1));
    appendFileSync(join(dir, 'episodes.jsonl'), '{"episode":5,"greedy":fal');
    appendFileSync(join(dir, 'structures.extxyz'), '8\nLattice="4.27 0');
    writeFileSync(join(dir, 'checkpoint.json.424242.tmp'), cp.slice(0, 1000));
    const warnings: string[] = [];
    await runTo(dir, EPISODES, true, warnings);
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0], /checkpoint\.json: (truncated|checksum mismatch).*using the previous checkpoint/);
    assertSameRun(dir, reference);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test('killed before the first checkpoint (or while opening): the resume starts over and equals an uninterrupted run', async () => {
  const work = mkdtempSync(join(tmpdir(), 'asla-resume-'));
  try {
    const reference = join(work, 'reference');
    await runTo(reference, EPISODES, false);
    const dir = join(work, 'early');
    await runTo(dir, 1, false);
    // no checkpoint yet, reference.json not yet written, the first network snapshot cut mid-line
    for (const f of ['checkpoint.json', 'checkpoint.json.prev', 'reference.json', 'reference.extxyz']) rmSync(join(dir, f), { force: true });
    const snap = readFileSync(join(dir, 'networks.jsonl'), 'utf8');
    writeFileSync(join(dir, 'networks.jsonl'), snap.slice(0, snap.length >> 1));
    await runTo(dir, EPISODES, true);
    assertSameRun(dir, reference);
    assert.ok(existsSync(join(dir, 'reference.json')), 'reference energy written on resume');
    assert.deepEqual(readFileSync(join(dir, 'reference.json')), readFileSync(join(reference, 'reference.json')));
    copyFileSync(join(dir, 'reference.extxyz'), join(work, 'ref-copy.extxyz'));
    assert.ok(readFileSync(join(dir, 'reference.extxyz')).equals(readFileSync(join(reference, 'reference.extxyz'))));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
