/**
 * `--until-solved` for ensembles and SLURM job arrays: each agent stops at its
 * first episode that solves the problem, counts as done, and the job-array
 * script passes the flag to new and resumed agents. `--until-learned` the same
 * once 5 greedy episodes (every N_p-th) in a row solve it.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agentDirName, agentDone, agentRunArgs, readManifest } from '../../src/search/ensemble.js';
import { LEARNED_STREAK, learnedEpisode } from '../../src/agent/agent.js';

const MAIN = new URL('../../src/cli/main.js', import.meta.url).pathname;
// random builds, and a success threshold of 1000 eV/atom: every evaluated structure solves the problem
const SETS = ['--set', 'run.policy=random', '--set', 'success.threshold=1000'];

function asla(...args: string[]) {
  return spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 120000 });
}

test('asla ensemble --until-solved: every agent stops at its first solved episode and is done', { timeout: 240000 }, () => {
  const root = mkdtempSync(join(tmpdir(), 'asla-ens-until-'));
  try {
    const dir = join(root, 'e');
    const r = asla('ensemble', 'graphene-small', '--agents', '2', '--episodes', '5', '--parallel', '2', '--out', dir, '--until-solved', '--quiet', ...SETS);
    assert.equal(r.status, 0, r.stderr);
    const m = readManifest(dir);
    assert.equal(m.untilSolved, true);
    for (let i = 0; i < 2; i++) {
      const agent = join(dir, agentDirName(i));
      const summary = JSON.parse(readFileSync(join(agent, 'summary.json'), 'utf8'));
      assert.deepEqual([summary.episodes, summary.solvedEpisode], [1, 1]);
      assert.equal(readFileSync(join(agent, 'episodes.jsonl'), 'utf8').trim().split('\n').length, 1);
      assert.ok(agentDone(agent, m), 'a solved agent is done before its episodes');
      assert.equal(agentDone(agent, { episodes: 5 }), false, 'without --until-solved it is not');
      assert.ok(agentRunArgs(dir, m, i).includes('--until-solved'));
    }
    // resuming finds nothing to run
    const again = asla('ensemble', '--resume', dir, '--quiet');
    assert.equal(again.status, 0, again.stderr);
    assert.equal(JSON.parse(readFileSync(join(dir, agentDirName(0), 'summary.json'), 'utf8')).episodes, 1);
    // the flag is fixed when the ensemble is made
    const bad = asla('ensemble', '--resume', dir, '--until-solved');
    assert.equal(bad.status, 2);
    assert.match(bad.stderr.trim(), /^asla: .*--until-solved.*new ensemble only/);

    const sl = asla('slurm', 'submit', 'graphene-small', '--agents', '2', '--out', join(root, 'sl'), '--until-solved', '--dry-run');
    assert.equal(sl.status, 0, sl.stderr);
    const script = readFileSync(JSON.parse(sl.stdout).script, 'utf8');
    const runs = script.split('\n').filter((l) => l.includes(' run '));
    assert.equal(runs.length, 2);
    for (const l of runs) assert.match(l, / --until-solved$/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('asla run/ensemble/slurm --until-learned: stop at the first greedy episode that solves the problem', { timeout: 240000 }, () => {
  const root = mkdtempSync(join(tmpdir(), 'asla-ens-learned-'));
  // the ASLA policy (greedy every 5th episode) and a threshold every build meets: solved at 1, learned at 25
  const sets = ['--set', 'success.threshold=1000', '--set', 'training.rotations=0', '--set', 'training.batchSize=8'];
  try {
    const one = join(root, 'one');
    const r = asla('run', 'graphene-small', '--episodes', '40', '--out', one, '--until-learned', '--quiet', ...sets);
    assert.equal(r.status, 0, r.stderr);
    const summary = JSON.parse(readFileSync(join(one, 'summary.json'), 'utf8'));
    assert.deepEqual([summary.episodes, summary.solvedEpisode, summary.learnedEpisode], [25, 1, 25]);
    // resumed, a learned run has nothing left to do
    const again = asla('run', '--resume', one, '--episodes', '40', '--until-learned', '--quiet');
    assert.equal(again.status, 0, again.stderr);
    assert.equal(JSON.parse(readFileSync(join(one, 'summary.json'), 'utf8')).episodes, 25);

    const dir = join(root, 'e');
    const e = asla('ensemble', 'graphene-small', '--agents', '2', '--episodes', '40', '--parallel', '2', '--out', dir, '--until-learned', '--quiet', ...sets);
    assert.equal(e.status, 0, e.stderr);
    const m = readManifest(dir);
    assert.equal(m.untilLearned, true);
    for (let i = 0; i < 2; i++) {
      const agent = join(dir, agentDirName(i));
      assert.equal(JSON.parse(readFileSync(join(agent, 'summary.json'), 'utf8')).learnedEpisode, 25);
      assert.ok(agentDone(agent, m), 'a learned agent is done before its episodes');
      assert.equal(agentDone(agent, { episodes: 40, untilSolved: true }), true, 'it also solved the problem');
      assert.equal(agentDone(agent, { episodes: 40 }), false);
      assert.ok(agentRunArgs(dir, m, i).includes('--until-learned'));
    }
    const bad = asla('ensemble', '--resume', dir, '--until-learned');
    assert.equal(bad.status, 2);
    assert.match(bad.stderr.trim(), /^asla: .*--until-learned.*new ensemble only/);

    const sl = asla('slurm', 'submit', 'graphene-small', '--agents', '2', '--out', join(root, 'sl'), '--until-learned', '--dry-run');
    assert.equal(sl.status, 0, sl.stderr);
    const runs = readFileSync(JSON.parse(sl.stdout).script, 'utf8').split('\n').filter((l) => l.includes(' run '));
    for (const l of runs) assert.match(l, / --until-learned$/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('learnedEpisode: LEARNED_STREAK greedy episodes in a row must solve the problem; a greedy miss restarts the count', () => {
  assert.equal(LEARNED_STREAK, 5);
  // greedy every 5th episode; s: solved greedy episodes (by episode number)
  const log = (n: number, solved: Set<number>, fiveSevenMissing = new Set<number>()) =>
    Array.from({ length: n }, (_, i) => {
      const episode = i + 1;
      const greedy = episode % 5 === 0;
      // the exploring episodes all solve it: they must not count
      return { episode, greedy, reachedReference: !greedy || solved.has(episode), ...(fiveSevenMissing.has(episode) ? { fiveSeven: false } : {}) };
    });
  const greedyFrom = (first: number, last: number) => new Set(Array.from({ length: (last - first) / 5 + 1 }, (_, k) => first + 5 * k));
  assert.equal(learnedEpisode(log(100, new Set())), null, 'exploring successes are luck, not learning');
  assert.equal(learnedEpisode(log(100, greedyFrom(10, 30))), 30);
  // four in a row, a greedy miss at 30, then five from 35
  const broken = greedyFrom(10, 25);
  for (const e of greedyFrom(35, 55)) broken.add(e);
  assert.equal(learnedEpisode(log(100, broken)), 55);
  assert.equal(learnedEpisode(log(50, broken)), null);
  // on the grain boundary the reference energy without the 5–7 pair is no success
  assert.equal(learnedEpisode(log(100, greedyFrom(10, 30), new Set([20]))), null);
});
