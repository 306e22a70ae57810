/**
 * `asla ensemble`: agents as child processes, one killed (SIGKILL) mid-run and
 * the ensemble resumed — every agent's log holds episodes 1..E exactly once,
 * and the killed agent's episodes equal an uninterrupted run with its seed.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agentDirName, agentRunArgs, createEnsemble, LogTail, readManifest, resolveProblem } from '../../src/search/ensemble.js';
import { readRunDir } from '../../src/search/stats.js';
import { InputError } from '../../src/util/errors.js';

const MAIN = new URL('../../src/cli/main.js', import.meta.url).pathname;
// a tiny problem: 8-atom graphene, small batches, a checkpoint every 4 episodes so a kill loses some
const SETS = ['--set', 'training.batchSize=8', '--set', 'training.symmetryCopies=1', '--set', 'run.checkpointEvery=4'];

function lines(path: string): number {
  return existsSync(path) ? readFileSync(path, 'utf8').split('\n').length - 1 : 0;
}

function episodeRecords(dir: string): { episode: number; actions: unknown; energy: unknown }[] {
  return readFileSync(join(dir, 'episodes.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => {
      const r = JSON.parse(l);
      return { episode: r.episode, actions: r.actions, energy: r.energy };
    });
}

test('LogTail reads appended episodes incrementally and restarts after a truncation', () => {
  const dir = mkdtempSync(join(tmpdir(), 'asla-tail-'));
  try {
    const log = join(dir, 'episodes.jsonl');
    const rec = (e: number, energy: number, reached = false) =>
      JSON.stringify({ episode: e, energy, reachedReference: reached, ms: { build: 1, evaluate: 2, train: 3 } }) + '\n';
    writeFileSync(join(dir, 'reference.json'), '{"energy":-10}');
    const tail = new LogTail(dir);
    assert.equal(tail.poll().episode, 0);
    writeFileSync(log, rec(1, -5) + rec(2, -7));
    appendFileSync(log, rec(3, -10, true).slice(0, 12)); // a line being written
    let p = tail.poll();
    assert.deepEqual([p.episode, p.bestEnergy, p.firstReference, p.ms, p.referenceEnergy], [2, -7, null, 12, -10]);
    appendFileSync(log, rec(3, -10, true).slice(12));
    p = tail.poll();
    assert.deepEqual([p.episode, p.bestEnergy, p.firstReference], [3, -10, 3]);
    // a resume truncates the log to its checkpoint
    truncateSync(log, rec(1, -5).length);
    p = tail.poll();
    assert.deepEqual([p.episode, p.bestEnergy, p.firstReference, p.ms], [1, -5, null, 6]);
    // 25 saturated episodes in a row from episode 2: the network died at 2
    const sat = (e: number) => JSON.stringify({ episode: e, energy: 100, reachedReference: false, saturated: true, ms: { build: 1, evaluate: 2, train: 3 } }) + '\n';
    for (let e = 2; e <= 25; e++) appendFileSync(log, sat(e));
    assert.equal(tail.poll().diedEpisode, null, '24 in a row');
    appendFileSync(log, sat(26));
    assert.equal(tail.poll().diedEpisode, 2);
    truncateSync(log, rec(1, -5).length);
    assert.equal(tail.poll().diedEpisode, null, 'a truncated log starts the count again');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an ensemble directory: problem.json, ensemble.json, seeds and resume arguments', () => {
  const root = mkdtempSync(join(tmpdir(), 'asla-ens-'));
  try {
    const dir = join(root, 'e');
    const { manifest, config } = createEnsemble(dir, {
      kind: 'local',
      problem: 'graphene-small',
      sets: ['training.batchSize=8'],
      agents: 3,
      episodes: 7,
      seedBase: 10,
      command: ['asla', 'ensemble'],
    });
    assert.equal(config.run.episodes, 7);
    assert.equal(config.run.seed, 10);
    assert.equal(config.training.batchSize, 8);
    assert.deepEqual(readManifest(dir), manifest);
    const args = agentRunArgs(dir, manifest, 2);
    assert.deepEqual(args.slice(2, 4), ['--seed', '12']);
    assert.ok(args.includes(join(dir, agentDirName(2))));
    mkdirSync(join(dir, 'agent-002'));
    writeFileSync(join(dir, 'agent-002', 'config.json'), '{}');
    assert.deepEqual(agentRunArgs(dir, manifest, 2).slice(0, 2), ['run', '--resume']);
    assert.throws(() => createEnsemble(dir, { kind: 'local', problem: 'graphene-small', sets: [], agents: 1, command: [] }), InputError);
    assert.throws(() => resolveProblem('graphene-small', ['training.batchSize=-1']), /training\.batchSize/);
    assert.throws(() => resolveProblem('no-such-problem', []), InputError);
    const bad = spawnSync(process.execPath, [MAIN, 'ensemble', 'graphene-small', '--out', join(root, 'x')], { encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--agents/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('asla ensemble: an agent killed mid-run, the ensemble resumed, every log complete', { timeout: 240000 }, async () => {
  const root = mkdtempSync(join(tmpdir(), 'asla-ens-'));
  const E = 16;
  try {
    const dir = join(root, 'ens');
    const first = spawn(
      process.execPath,
      [MAIN, 'ensemble', 'graphene-small', '--agents', '3', '--parallel', '2', '--episodes', String(E), '--seed-base', '5', '--out', dir, '--quiet', ...SETS],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    first.stdout.on('data', (d) => (stdout += d));
    first.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((res) => first.on('close', (code) => res(code)));

    // SIGKILL agent-001's run once it has written a few episodes (its pid is in ensemble.pid)
    const victim = join(dir, 'agent-001');
    let killedAt = -1;
    for (let i = 0; i < 12000 && killedAt < 0; i++) {
      const n = lines(join(victim, 'episodes.jsonl'));
      if (n >= 5 && existsSync(join(victim, 'ensemble.pid'))) {
        const pid = Number(readFileSync(join(victim, 'ensemble.pid'), 'utf8'));
        process.kill(pid, 'SIGKILL');
        killedAt = n;
      } else await new Promise((r) => setTimeout(r, 10));
    }
    assert.ok(killedAt >= 5 && killedAt < E, `killed after ${killedAt} episodes`);
    const code = await exited;
    assert.equal(code, 1, stderr);
    const report = JSON.parse(stdout);
    assert.equal(report.done, 2);
    assert.deepEqual(report.unfinished, [{ agent: 'agent-001', state: 'failed', exit: 'killed by SIGKILL' }]);
    assert.ok(lines(join(victim, 'episodes.jsonl')) < E);

    const second = spawnSync(process.execPath, [MAIN, 'ensemble', '--resume', dir, '--quiet'], { encoding: 'utf8' });
    assert.equal(second.status, 0, second.stderr);
    assert.equal(JSON.parse(second.stdout).done, 3);
    assert.equal(readManifest(dir).sessions.length, 2);

    // episodes 1..E exactly once (readRunDir rejects a lost or repeated episode)
    for (let i = 0; i < 3; i++) {
      const log = readRunDir(join(dir, agentDirName(i)));
      assert.equal(log.energies.length, E, agentDirName(i));
      assert.equal(lines(join(dir, agentDirName(i), 'episodes.jsonl')), E);
    }
    // the killed and resumed agent built what an uninterrupted agent with its seed builds
    const ref = join(root, 'uninterrupted');
    const r = spawnSync(process.execPath, [MAIN, 'run', join(dir, 'problem.json'), '--seed', '6', '--episodes', String(E), '--out', ref, '--quiet'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(episodeRecords(victim), episodeRecords(ref));
    // distinct seeds give distinct agents
    assert.notDeepEqual(episodeRecords(join(dir, 'agent-000')), episodeRecords(victim));

    // nothing left to do: a further resume starts no agent
    const third = spawnSync(process.execPath, [MAIN, 'ensemble', '--resume', dir, '--quiet'], { encoding: 'utf8' });
    assert.equal(third.status, 0, third.stderr);
    const stats = spawnSync(process.execPath, [MAIN, 'stats', dir, '--json'], { encoding: 'utf8' });
    assert.equal(stats.status, 0, stats.stderr);
    assert.equal(JSON.parse(stats.stdout).ensembles[0].agents, 3);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
