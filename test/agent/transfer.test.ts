/**
 * Transfer learning: channels matched by element (a reordered network computes
 * the same function on reordered species), clear errors for species, kernel
 * and spacing mismatches, and a grain-boundary run started from a trained
 * graphene-edge run (weights copied, origin recorded, training continues).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QNetwork, type GridShape, type QNetworkSpec } from '../../src/nn/index.js';
import { adaptNetwork } from '../../src/agent/transfer.js';
import { loadSourceNetwork } from '../../src/search/transfer-source.js';
import { PRESETS } from '../../src/agent/presets.js';
import { validateProblem, applySets, type ProblemConfig } from '../../src/agent/problem.js';
import { Run } from '../../src/search/run.js';
import { Rng } from '../../src/util/rng.js';
import { InputError } from '../../src/util/errors.js';

const spec = (species: number, kernel: [number, number] = [5, 5]): QNetworkSpec => ({ species, filters: [4, 3], kernel, bias: true, leakySlope: 0.2 });

test('channels are matched by element: the adapted network gives the source Q-values with species reordered', () => {
  const rng = new Rng(2);
  const src = QNetwork.create(spec(3), rng);
  // give the biases values too, so their permutation is tested
  for (let l = 0; l < src.depth; l++) {
    const b = src.kernelView(l).bias!;
    for (let i = 0; i < b.length; i++) b[i] = 0.3 * (rng.next() - 0.5);
  }
  const { net, channelMap } = adaptNetwork(src, ['C', 'H', 'O'], ['O', 'C', 'H'], spec(3));
  assert.deepEqual(channelMap, [2, 0, 1]);
  const shape: GridShape = { n0: 8, n1: 7, periodic: [true, false] };
  const N = 56;
  const input = new Float32Array(3 * N);
  for (let k = 0; k < 9; k++) input[rng.int(input.length)] = 1;
  // the same atoms in the target's channel order
  const permuted = new Float32Array(3 * N);
  channelMap.forEach((s, t) => permuted.set(input.subarray(s * N, (s + 1) * N), t * N));
  const qs = src.forward(input, shape);
  const qt = net.forward(permuted, shape);
  channelMap.forEach((s, t) => {
    for (let p = 0; p < N; p++) assert.ok(Math.abs(qt[t * N + p] - qs[s * N + p]) < 1e-6, `channel ${t} (${s} in the source), cell ${p}`);
  });
  // same order: an identical copy
  const same = adaptNetwork(src, ['C', 'H', 'O'], ['C', 'H', 'O'], spec(3)).net;
  assert.deepEqual(Array.from(same.params), Array.from(src.params));
});

test('mismatches are one-line errors naming what differs', () => {
  const src = QNetwork.create(spec(2), new Rng(1));
  const err = (f: () => unknown, re: RegExp) =>
    assert.throws(f, (e: unknown) => e instanceof InputError && re.test(e.message) && !e.message.includes('\n'), re.source);
  err(() => adaptNetwork(src, ['C', 'H'], ['C', 'O'], spec(2)), /species must match by element.*O not in the source.*H not in this problem/);
  err(() => adaptNetwork(src, ['C', 'H'], ['C'], spec(1)), /species must match/);
  err(() => adaptNetwork(src, ['C', 'H'], ['C', 'H'], spec(2, [7, 5])), /kernel sizes differ: the source network has 5×5 taps, this problem needs 7×5/);
  err(() => adaptNetwork(src, ['C', 'H'], ['C', 'H'], { ...spec(2), filters: [4, 4] }), /hidden filters differ/);
  err(() => adaptNetwork(src, ['C', 'H'], ['C', 'H'], { ...spec(2), bias: false }), /biases/);
  err(() => loadSourceNetwork(join(tmpdir(), 'no-such-asla-run')), /not a run directory/);
});

function quick(name: string, sets: string[]): ProblemConfig {
  return validateProblem(applySets(structuredClone(PRESETS[name]), ['training.threads=1', 'run.checkpointEvery=1', ...sets]), name);
}

test('grain boundary from a trained graphene-edge run: weights copied, origin recorded, training continues', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'asla-transfer-'));
  try {
    const edgeDir = join(dir, 'edge');
    const edge = await Run.open({ dir: edgeDir, config: quick('graphene-edge', ['run.episodes=3']), warn: () => {} });
    await edge.run();
    const trained = Float32Array.from(edge.agent.net!.params);
    await edge.close();

    // kernels: 3 Å at 0.178 × 0.18 Å on both grids → 17 × 17 taps, bias-free
    const gbDir = join(dir, 'gb');
    const warnings: string[] = [];
    const gb = await Run.open({ dir: gbDir, config: quick('grain-boundary', ['run.episodes=1', 'training.batchSize=2', `transfer.from=${JSON.stringify(edgeDir)}`]), warn: (m) => warnings.push(m) });
    try {
      // 3 episodes have not taught the edge agent its ring: said, and recorded
      assert.ok(warnings.some((m) => /has not learned its problem/.test(m)), warnings.join('\n'));
      assert.equal(JSON.parse(readFileSync(join(gbDir, 'transfer.json'), 'utf8')).sourceLearnedEpisode, null);
      assert.deepEqual(gb.agent.net!.spec.kernel, edge.agent.net!.spec.kernel);
      assert.deepEqual(Array.from(gb.agent.net!.params), Array.from(trained));
      const saved = JSON.parse(readFileSync(join(gbDir, 'config.json'), 'utf8'));
      assert.equal(saved.transfer.episode, 3);
      assert.equal(saved.transfer.from, edgeDir);
      const origin = JSON.parse(readFileSync(join(gbDir, 'transfer.json'), 'utf8'));
      assert.equal(origin.problem, 'graphene-edge');
      assert.deepEqual(origin.channelMap, [0]);
      assert.ok(origin.saturatedFraction >= 0 && origin.saturatedFraction <= 1);
      // Adam starts fresh and training moves the weights away from the source's
      const state = gb.agent.trainer!.state();
      assert.equal(state.t, 0);
      await gb.run();
      assert.notDeepEqual(Array.from(gb.agent.net!.params), Array.from(trained));
    } finally {
      await gb.close();
    }
    // a source that has learned its problem (here: a criterion every build meets, 5 greedy episodes in a row) passes without that warning
    const learnedDir = join(dir, 'edge-learned');
    const learned = await Run.open({ dir: learnedDir, config: quick('graphene-edge', ['run.episodes=25', 'success.threshold=1000', 'training.batchSize=2']), warn: () => {} });
    await learned.run();
    await learned.close();
    const quiet: string[] = [];
    const gb2 = await Run.open({ dir: join(dir, 'gb2'), config: quick('grain-boundary', ['run.episodes=1', `transfer.from=${JSON.stringify(learnedDir)}`]), warn: (m) => quiet.push(m) });
    await gb2.close();
    assert.ok(!quiet.some((m) => /has not learned/.test(m)), quiet.join('\n'));
    assert.equal(JSON.parse(readFileSync(join(dir, 'gb2', 'transfer.json'), 'utf8')).sourceLearnedEpisode, 25);

    // a resumed transferred run continues from its own checkpoint
    const again = await Run.open({ dir: gbDir, resume: true, warn: () => {} });
    assert.equal(again.agent.episode, 1);
    await again.close();

    // pristine graphene (0.2 Å grid: 15 × 15 kernels, with biases) cannot feed the grain boundary
    const grDir = join(dir, 'graphene');
    const gr = await Run.open({ dir: grDir, config: quick('graphene-small', ['run.episodes=1', 'training.batchSize=2']), warn: () => {} });
    await gr.run();
    await gr.close();
    await assert.rejects(
      Run.open({ dir: join(dir, 'bad'), config: quick('grain-boundary', [`transfer.from=${JSON.stringify(grDir)}`]), warn: () => {} }),
      (e: unknown) => e instanceof InputError && /spacings differ|kernel sizes differ/.test(e.message),
    );
    assert.equal(existsSync(join(dir, 'bad', 'config.json')), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
