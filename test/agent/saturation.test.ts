/**
 * Networks that die: once every allowed Q-value sits at −1 (saturated tanh),
 * eq. 2's gradient vanishes and the network never learns again. The agent marks
 * such episodes, SaturationWatch finds SATURATED_STREAK of them in a row, and a
 * run stops there (unless told to keep going), saying so in summary.json.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PRESETS } from '../../src/agent/presets.js';
import { validateProblem } from '../../src/agent/problem.js';
import { allSaturated, SATURATION_GAP } from '../../src/agent/policy.js';
import { SATURATED_STREAK, saturatedEpisode } from '../../src/agent/agent.js';
import { agentDone } from '../../src/search/ensemble.js';
import { Run } from '../../src/search/run.js';

test('allSaturated: every allowed Q-value within SATURATION_GAP of −1; forbidden places do not count', () => {
  const allowed = Uint8Array.of(1, 1, 0, 1);
  const q = Float32Array.of(-1, -1, 0.5, -1 + SATURATION_GAP / 2);
  assert.equal(allSaturated(q, allowed), true, 'the 0.5 is at a forbidden place');
  q[1] = -1 + 10 * SATURATION_GAP;
  assert.equal(allSaturated(q, allowed), false);
  assert.equal(allSaturated(Float32Array.of(1, 1), Uint8Array.of(1, 1)), false, 'Q = +1 everywhere is not the dead state');
  assert.equal(allSaturated(Float32Array.of(-1, -1), Uint8Array.of(0, 0)), false, 'no allowed action');
});

test('saturatedEpisode: SATURATED_STREAK saturated episodes in a row, the first of them', () => {
  assert.equal(SATURATED_STREAK, 25);
  const log = (n: number, saturated: (e: number) => boolean) => Array.from({ length: n }, (_, i) => ({ episode: i + 1, ...(saturated(i + 1) ? { saturated: true } : {}) }));
  assert.equal(saturatedEpisode(log(100, () => false)), null);
  assert.equal(saturatedEpisode(log(100, (e) => e >= 10)), 10);
  assert.equal(saturatedEpisode(log(34, (e) => e >= 10)), 10, '10 to 34');
  assert.equal(saturatedEpisode(log(33, (e) => e >= 10)), null, '24 in a row');
  assert.equal(saturatedEpisode(log(33, (e) => e >= 10 && e !== 30)), null, 'one live episode restarts the count');
  assert.equal(saturatedEpisode(log(80, (e) => e >= 10 && e !== 30)), 31);
});

const config = () => {
  const c = structuredClone(PRESETS['graphene-small']);
  c.run = { ...c.run, episodes: 60, seed: 5 };
  c.training = { ...c.training, batchSize: 8 };
  return validateProblem(c, 'test');
};

test('a run whose network died stops after SATURATED_STREAK episodes and says so; a live one runs on', { timeout: 240000 }, async () => {
  const root = mkdtempSync(join(tmpdir(), 'asla-saturated-'));
  try {
    // the dead network: positive hidden weights, strongly negative output weights; with any atom on
    // the grid every output is tanh(z ≪ −19) = −1 exactly (the empty grid of step 1 gives Q = 0)
    const dead = join(root, 'dead');
    const warnings: string[] = [];
    let run = await Run.open({ dir: dead, config: config(), warn: (m) => warnings.push(m) });
    const net = run.agent.net!;
    for (let l = 0; l < net.depth; l++) {
      const v = net.kernelView(l);
      v.weights.fill(l === net.depth - 1 ? -1 : 0.5);
      v.bias?.fill(0);
    }
    let summary = await run.run({ episodes: 60 });
    await run.close();
    assert.equal(summary.saturatedEpisode, 1);
    assert.equal(summary.episodes, SATURATED_STREAK, 'stopped at the end of the streak, not at 60');
    assert.equal(warnings.filter((w) => /network died at episode 1 /.test(w)).length, 1, warnings.join('\n'));
    const records = readFileSync(join(dead, 'episodes.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.ok(records.every((r) => r.saturated === true));
    assert.equal(JSON.parse(readFileSync(join(dead, 'summary.json'), 'utf8')).saturatedEpisode, 1);
    assert.ok(agentDone(dead, { episodes: 60 }), 'an ensemble does not resubmit it');

    // resumed, it stops at once; told to keep going, it runs on
    run = await Run.open({ dir: dead, resume: true, warn: () => {} });
    summary = await run.run({ episodes: 60 });
    assert.equal(summary.episodes, SATURATED_STREAK);
    summary = await run.run({ episodes: SATURATED_STREAK + 3, keepSaturated: true });
    await run.close();
    assert.equal(summary.episodes, SATURATED_STREAK + 3);

    // the same problem with the network as initialised learns on: no episode is saturated
    const live = join(root, 'live');
    run = await Run.open({ dir: live, config: config(), warn: () => {} });
    summary = await run.run({ episodes: 30 });
    await run.close();
    assert.equal(summary.saturatedEpisode, null);
    assert.equal(summary.episodes, 30);
    assert.ok(readFileSync(join(live, 'episodes.jsonl'), 'utf8').trim().split('\n').every((l) => JSON.parse(l).saturated === undefined));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
