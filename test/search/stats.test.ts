/**
 * Success statistics against hand-computed values on small synthetic ensembles
 * written in the run-directory format (config.json, reference.json, episodes.jsonl).
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { band, computeStats, formatCsv, formatTable, kaplanMeier, readRunDir, successQuantile, Z95 } from '../../src/search/stats.js';
import { InputError } from '../../src/util/errors.js';

const MAIN = new URL('../../src/cli/main.js', import.meta.url).pathname;
const ATOMS = 4; // one template atom + 3 placed

/** A run directory with these episode energies (null: failed) and `msPerEpisode` of agent time each. */
function writeRun(
  dir: string,
  energies: (number | null)[],
  opts: { reference: number | null; msPerEpisode: number; threshold?: number; name?: string },
): void {
  mkdirSync(dir, { recursive: true });
  const threshold = opts.threshold ?? 0.05;
  const config = {
    name: opts.name ?? 'toy',
    template: [{ symbol: 'C', position: [0, 0, 0] }],
    stoichiometry: { C: 3 },
    success: { reference: null, threshold },
    run: { episodes: 6, seed: 0, checkpointEvery: 1, policy: 'asla' },
  };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  writeFileSync(join(dir, 'reference.json'), JSON.stringify({ energy: opts.reference }));
  let best: number | null = null;
  let lines = '';
  energies.forEach((energy, i) => {
    if (energy !== null && (best === null || energy < best)) best = energy;
    const reached = energy !== null && opts.reference !== null && energy <= opts.reference + threshold * ATOMS;
    // the three phases split the episode's time 5:3:2
    const ms = { build: opts.msPerEpisode * 0.5, evaluate: opts.msPerEpisode * 0.3, train: opts.msPerEpisode * 0.2 };
    lines += JSON.stringify({ episode: i + 1, greedy: false, actions: [], kinds: '', energy, failure: null, property: energy, bestEnergy: best, reachedReference: reached, loss: null, ms }) + '\n';
  });
  writeFileSync(join(dir, 'episodes.jsonl'), lines);
}

const H = 3.6e6; // ms per hour

/**
 * Ensemble A (reference −100 eV, 4 atoms, threshold 0.05 eV/atom → success at E ≤ −99.8):
 *   agent-000  success at episode 2, 0.1 h/episode
 *   agent-001  success at 4,         0.2 h/episode
 *   agent-002  success at 4,         0.3 h/episode (episode 1 failed)
 *   agent-003  stopped after 3 episodes without success (censored at 3), 0.4 h/episode
 *   agent-004  6 episodes without success (censored at 6), 0.5 h/episode
 */
function ensembleA(root: string): string {
  const dir = join(root, 'A');
  const ref = -100;
  writeRun(join(dir, 'agent-000'), [-96, -99.9, -98, -100, -100, -99], { reference: ref, msPerEpisode: 0.1 * H });
  writeRun(join(dir, 'agent-001'), [-92, -96, -98, -99.85, -100, -100], { reference: ref, msPerEpisode: 0.2 * H });
  writeRun(join(dir, 'agent-002'), [null, -97, -96, -100, -98, -98], { reference: ref, msPerEpisode: 0.3 * H });
  writeRun(join(dir, 'agent-003'), [-90, -94, -96], { reference: ref, msPerEpisode: 0.4 * H });
  writeRun(join(dir, 'agent-004'), [-94, -94, -94, -94, -94, -94], { reference: ref, msPerEpisode: 0.5 * H });
  return dir;
}

const close = (a: number | null, b: number, tol = 1e-9) => {
  assert.ok(a !== null && Math.abs(a - b) <= tol, `${a} ≠ ${b}`);
};

test('Kaplan–Meier steps with ties and censoring at an event time', () => {
  // times 2(e) 4(e) 4(e) 3(c) 6(c): n=5,d=1 at 2 → S=4/5; n=3,d=2 at 4 → S=4/5·1/3
  const steps = kaplanMeier([2, 4, 4, 3, 6], [true, true, true, false, false]);
  assert.equal(steps.length, 2);
  assert.deepEqual([steps[0].time, steps[0].atRisk, steps[0].events], [2, 5, 1]);
  assert.deepEqual([steps[1].time, steps[1].atRisk, steps[1].events], [4, 3, 2]);
  close(steps[0].survival, 0.8);
  close(steps[1].survival, 0.8 / 3);
  // Greenwood: 1/(5·4) = 0.05, then + 2/(3·1)
  close(steps[0].greenwood, 0.05);
  close(steps[1].greenwood, 0.05 + 2 / 3);
  // a censoring at an event time is still at risk there: 1.2(e) and 1.2(c) → n = 3
  const h = kaplanMeier([0.2, 0.8, 1.2, 1.2, 3], [true, true, true, false, false]);
  assert.deepEqual(h.map((s) => s.atRisk), [5, 4, 3]);
  close(h[2].survival, 0.4);
  assert.equal(successQuantile(h, 0.5), 1.2);
  assert.equal(successQuantile(h, 0.9), null);
});

test('log-log Greenwood 95% band against hand-computed values', () => {
  assert.ok(Math.abs(Z95 - 1.959964) < 1e-6);
  // S = 0.8, Σ = 0.05: σ = √0.05/|ln 0.8| = 0.2236068/0.2231436 = 1.0020759, e^{zσ} = 7.128023
  //   F upper = 1 − 0.8^7.128023 = 1 − 0.2038093 = 0.7961907; F lower = 1 − 0.8^(1/7.128023) = 0.0308202
  let b = band(0.8, 0.05);
  close(b.success, 0.2);
  close(b.lower, 0.0308202, 1e-6);
  close(b.upper, 0.7961907, 1e-6);
  // S = 4/15, Σ = 0.7166667: σ = 0.8465617/1.3217558 = 0.6404849, e^{zσ} = 3.508979
  //   F upper = 1 − (4/15)^3.508979 = 0.9903230; F lower = 1 − (4/15)^(1/3.508979) = 0.3138637
  b = band(4 / 15, 0.05 + 2 / 3);
  close(b.success, 11 / 15);
  close(b.lower, 0.3138637, 1e-6);
  close(b.upper, 0.9903230, 1e-6);
  // before any success the band is [0, 0]; when every agent at risk succeeded the lower end is undefined
  assert.deepEqual(band(1, 0), { success: 0, lower: 0, upper: 0 });
  assert.deepEqual(band(0, Infinity), { success: 1, lower: null, upper: 1 });
});

test('ensemble statistics: success curve, mean energies, episodes and hours to 50%/90%', () => {
  const root = mkdtempSync(join(tmpdir(), 'asla-stats-'));
  try {
    const A = ensembleA(root);
    const report = computeStats([A]);
    const s = report.ensembles[0];
    assert.equal(s.agents, 5);
    assert.equal(s.measure, 'reference');
    assert.equal(s.targetEnergyPerAtom, -25);
    assert.deepEqual(s.outcomes.map((o) => o.successEpisode), [2, 4, 4, null, null]);
    assert.equal(s.succeeded, 3);
    const c = s.curve;
    assert.deepEqual(c.episode, [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(c.agents, [5, 5, 5, 4, 4, 4]);
    assert.deepEqual(c.atRisk, [5, 5, 4, 3, 1, 1]);
    assert.deepEqual(c.successes, [0, 1, 1, 3, 3, 3]);
    for (const [i, f] of [0, 0.2, 0.2, 11 / 15, 11 / 15, 11 / 15].entries()) close(c.success[i], f);
    close(c.lower[1], 0.0308202, 1e-6);
    close(c.upper[3], 0.9903230, 1e-6);
    assert.equal(c.lower[0], 0);
    // episode 1: (−96+100)/4, (−92+100)/4, failed, (−90+100)/4, (−94+100)/4 → (1 + 2 + 2.5 + 1.5)/4
    close(c.meanEnergy[0], 1.75);
    assert.equal(c.energyAgents[0], 4);
    // episode 4 (agent-003 stopped): 0, 0.0375, 0, 1.5 → 1.5375/4
    close(c.meanEnergy[3], 0.384375);
    // best so far at episode 2: −99.9, −96, −97, −94, −94 → (0.025 + 1 + 0.75 + 1.5 + 1.5)/5
    close(c.meanBestEnergy[1], 0.955);
    // agent time: mean of 0.1..0.5 h after one episode
    close(c.meanHours[0], 0.3);
    assert.equal(s.episodes50, 4);
    assert.equal(s.episodes90, null);
    // per-agent hours: 0.2(e) 0.8(e) 1.2(e) 1.2(c) 3.0(c) → F = 0.2, 0.4, 0.6: 50% at 1.2 h
    close(s.outcomes[2].hours, 1.2);
    close(s.hours50, 1.2);
    assert.equal(s.hours90, null);

    // --threshold 0.5 eV/atom: success at E ≤ −98 → episodes 2, 3, 4
    const t = computeStats([A], { threshold: 0.5 }).ensembles[0];
    assert.deepEqual(t.outcomes.map((o) => o.successEpisode), [2, 3, 4, null, null]);
    // S: n=5,d=1 → 0.8; n=4,d=1 → 0.6; n=2 (agent-003 censored at 3),d=1 → 0.3: F = 0.4 at 3, 0.7 at 4
    close(t.curve.success[2], 0.4);
    close(t.curve.success[3], 0.7);
    assert.equal(t.episodes50, 4);

    // text, CSV and JSON views
    const table = formatTable(report);
    assert.match(table, /3\/5 agents succeeded/);
    assert.match(table, /50% success: 4 episodes/);
    const csv = formatCsv(report).trim().split('\n');
    assert.equal(csv.length, 1 + 6);
    assert.equal(csv[0].split(',')[0], 'ensemble');
    assert.equal(csv[4], 'A,4,4,3,3,0.73333333,0.31386372,0.990323,0.384375,4,0.384375,1.1');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('without a reference: the best over all agents of the same problem, across ensembles', () => {
  const root = mkdtempSync(join(tmpdir(), 'asla-stats-'));
  try {
    const A = ensembleA(root);
    const B = join(root, 'B');
    writeRun(join(B, 'b0'), [-95, -99], { reference: null, msPerEpisode: 1000 });
    writeRun(join(B, 'b1'), [-97, -98], { reference: null, msPerEpisode: 1000 });
    // alone: the best is −99 (b0, episode 2); b1 never within 0.2 eV of it
    const alone = computeStats([B]).ensembles[0];
    assert.equal(alone.measure, 'best');
    assert.equal(alone.targetEnergyPerAtom, -99 / 4);
    assert.deepEqual(alone.outcomes.map((o) => o.successEpisode), [2, null]);
    close(alone.curve.success[1], 0.5);
    assert.equal(alone.episodes50, 2);
    // beside A, whose agents reached −100: nobody in B succeeds
    const both = computeStats([A, B], { labels: ['asla', 'random'] });
    assert.deepEqual(both.ensembles.map((e) => e.label), ['asla', 'random']);
    assert.equal(both.ensembles[1].targetEnergyPerAtom, -25);
    assert.equal(both.ensembles[1].succeeded, 0);
    // B's mean energy relative to −100: episode 1 (5 + 3)/2/4
    close(both.ensembles[1].curve.meanEnergy[0], 1);
    assert.match(formatTable(both), /asla\s+random/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a lost or repeated episode is an error naming the line; a partial last line is left out', () => {
  const root = mkdtempSync(join(tmpdir(), 'asla-stats-'));
  try {
    const run = join(root, 'r');
    writeRun(run, [-1, -2, -3], { reference: null, msPerEpisode: 10 });
    appendFileSync(join(run, 'episodes.jsonl'), '{"episode":4,"ener');
    assert.equal(readRunDir(run).energies.length, 3);
    const text = readFileSync(join(run, 'episodes.jsonl'), 'utf8').split('\n');
    writeFileSync(join(run, 'episodes.jsonl'), [text[0], text[1], text[1], text[2]].join('\n') + '\n');
    assert.throws(() => readRunDir(run), (e: unknown) => e instanceof InputError && /episodes\.jsonl:3: episode 2 where 3 was expected/.test(e.message));
    assert.throws(() => computeStats([join(root, 'nothing')]), InputError);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('asla stats on the command line: text, --json and --csv', () => {
  const root = mkdtempSync(join(tmpdir(), 'asla-stats-'));
  try {
    const A = ensembleA(root);
    const csvPath = join(root, 'out.csv');
    const r = spawnSync(process.execPath, [MAIN, 'stats', A, '--json', '--csv', csvPath], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const json = JSON.parse(r.stdout);
    assert.equal(json.ensembles[0].episodes50, 4);
    assert.match(json.band, /Greenwood/);
    assert.equal(readFileSync(csvPath, 'utf8').trim().split('\n').length, 7);
    const text = spawnSync(process.execPath, [MAIN, 'stats', A, join(A, 'agent-000')], { encoding: 'utf8' });
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /agent-000: toy, asla policy, 1 agent/);
    const bad = spawnSync(process.execPath, [MAIN, 'stats', A, '--threshold', 'x'], { encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--threshold/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('--criterion honeycomb: success is the first episode whose log carries the flag, whatever the energy', () => {
  const root = mkdtempSync(join(tmpdir(), 'asla-stats-'));
  try {
    const dir = join(root, 'H');
    const flags: boolean[][] = [
      [false, false, true, false, true, true], // first honeycomb at 3, never the reference energy
      [false, false, false, false, false, false],
    ];
    flags.forEach((f, k) => {
      const run = join(dir, `agent-00${k}`);
      writeRun(run, [-90, -91, -92, -93, -94, -95], { reference: -100, msPerEpisode: 0.1 * H });
      const lines = readFileSync(join(run, 'episodes.jsonl'), 'utf8').trim().split('\n');
      writeFileSync(join(run, 'episodes.jsonl'), lines.map((l, i) => JSON.stringify({ ...JSON.parse(l), honeycomb: f[i] })).join('\n') + '\n');
    });
    const byEnergy = computeStats([dir]).ensembles[0];
    assert.equal(byEnergy.succeeded, 0);
    const s = computeStats([dir], { criterion: 'honeycomb' }).ensembles[0];
    assert.equal(s.measure, 'honeycomb');
    assert.deepEqual(s.outcomes.map((o) => o.successEpisode), [3, null]);
    close(s.curve.success[2], 0.5);
    assert.match(formatTable({ ...computeStats([dir], { criterion: 'honeycomb' }) }), /built a honeycomb.*1\/2 agents succeeded/);
    // a log without the flag (another problem) is a one-line error naming the ensemble
    assert.throws(() => computeStats([dir], { criterion: 'five-seven' }), (e: unknown) => e instanceof InputError && /five-seven flag/.test(e.message));
    const cli = spawnSync(process.execPath, [MAIN, 'stats', dir, '--criterion', 'pentagon'], { encoding: 'utf8' });
    assert.equal(cli.status, 2);
    assert.match(cli.stderr, /--criterion: must be one of honeycomb, five-seven/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('an agent whose network died is a failure for good, not censored where its run stopped', () => {
  const root = mkdtempSync(join(tmpdir(), 'asla-stats-'));
  try {
    const dir = join(root, 'D');
    const ref = -100;
    const energies = (n: number, success: number | null) => Array.from({ length: n }, (_, i) => (i + 1 === success ? -100 : -90));
    writeRun(join(dir, 'agent-000'), energies(6, 2), { reference: ref, msPerEpisode: 0.1 * H });
    writeRun(join(dir, 'agent-001'), energies(30, null), { reference: ref, msPerEpisode: 0.1 * H });
    writeRun(join(dir, 'agent-002'), energies(40, 40), { reference: ref, msPerEpisode: 0.1 * H });
    const dead = join(dir, 'agent-001', 'episodes.jsonl');
    const lines = readFileSync(dead, 'utf8').trim().split('\n');
    // saturated from episode 6 on: 25 in a row complete at 30
    writeFileSync(dead, lines.map((l, i) => JSON.stringify({ ...JSON.parse(l), ...(i + 1 >= 6 ? { saturated: true } : {}) })).join('\n') + '\n');
    assert.equal(readRunDir(join(dir, 'agent-001')).diedEpisode, 6);
    assert.equal(readRunDir(join(dir, 'agent-000')).diedEpisode, null);
    const s = computeStats([dir]).ensembles[0];
    assert.deepEqual(s.outcomes.map((o) => o.diedEpisode), [null, 6, null]);
    // at 40 the dead agent is still at risk: S = (2/3)(1/2); censored at 30 it would have been 0
    close(s.curve.success[39], 2 / 3);
    assert.equal(s.curve.atRisk[39], 2);
    assert.match(formatTable(computeStats([dir])), /networks died \(counted as failures\): agent-001 at 6/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
