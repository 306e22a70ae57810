/**
 * Memory and time over a long run (issue 11): one agent in this process, with
 * its checkpoint every episode and all its files, as `asla run` does. Prints a
 * JSON line every --every episodes: resident memory (RSS), V8 heap in use
 * (after a full GC when node runs with --expose-gc), array buffers (typed
 * arrays: network, replay buffer), the replay buffer's episodes and steps, and
 * the mean wall time and CPU time per episode over the interval, with the
 * build / evaluate / train parts (wall). On a shared machine the CPU time is
 * the figure to compare. Stops after --episodes or --minutes, whichever comes first.
 *
 *   node --expose-gc dist/bench/memory.js [--problem graphene-small] [--episodes 20000]
 *        [--minutes 20] [--every 250] [--seed 1] [--out DIR]
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchFlags } from './args.js';
import { PRESETS } from '../src/agent/presets.js';
import { validateProblem } from '../src/agent/problem.js';
import { Run } from '../src/search/run.js';

const { values } = benchFlags('memory', {
  options: {
    problem: { type: 'string', default: 'graphene-small' },
    episodes: { type: 'string', default: '20000' },
    minutes: { type: 'string', default: '20' },
    every: { type: 'string', default: '250' },
    seed: { type: 'string', default: '1' },
    out: { type: 'string' },
  },
});
const episodes = Number(values.episodes);
const every = Number(values.every);
const deadline = performance.now() + Number(values.minutes) * 60000;
const gc = (globalThis as { gc?: () => void }).gc;

const cfg = structuredClone(PRESETS[values.problem!]);
cfg.run = { ...cfg.run, episodes, seed: Number(values.seed) };
const config = validateProblem(cfg, values.problem);
const dir = values.out ?? mkdtempSync(join(tmpdir(), 'asla-memory-'));
const run = await Run.open({ dir, config });
const controller = new AbortController();

let last = performance.now();
let lastCpu = process.cpuUsage();
let sums = { build: 0, evaluate: 0, train: 0 };
const line = (episode: number) => {
  const now = performance.now();
  const cpu = process.cpuUsage(lastCpu);
  gc?.();
  const m = process.memoryUsage();
  const n = episode % every === 0 ? every : episode % every;
  const mb = (x: number) => Math.round((x / 2 ** 20) * 10) / 10;
  process.stdout.write(
    JSON.stringify({
      episode,
      rssMB: mb(m.rss),
      heapUsedMB: mb(m.heapUsed),
      arrayBuffersMB: mb(m.arrayBuffers),
      msPerEpisode: Math.round(((now - last) / n) * 10) / 10,
      // CPU time of this process (user + system) per episode: what the episode costs, whatever else the machine runs
      cpuMsPerEpisode: Math.round(((cpu.user + cpu.system) / 1000 / n) * 10) / 10,
      build: Math.round((sums.build / n) * 10) / 10,
      evaluate: Math.round((sums.evaluate / n) * 10) / 10,
      train: Math.round((sums.train / n) * 10) / 10,
      replaySteps: run.agent.replay.steps,
      checkpointMB: mb(statSync(join(dir, 'checkpoint.json')).size),
      bestEnergyPerAtom: run.agent.bestEnergy === null ? null : Math.round((run.agent.bestEnergy / run.agent.atomsPerStructure) * 1000) / 1000,
      gc: Boolean(gc),
    }) + '\n',
  );
  sums = { build: 0, evaluate: 0, train: 0 };
  last = performance.now();
  lastCpu = process.cpuUsage();
};

process.stderr.write(`memory: ${config.name}, up to ${episodes} episodes or ${values.minutes} min, in ${dir}\n`);
const summary = await run.run({
  episodes,
  signal: controller.signal,
  onEpisode: (r) => {
    sums.build += r.ms.build;
    sums.evaluate += r.ms.evaluate;
    sums.train += r.ms.train;
    if (r.episode === 1 || r.episode % every === 0) line(r.episode);
    if (performance.now() > deadline) controller.abort();
  },
});
if (run.agent.episode % every !== 0) line(run.agent.episode);
await run.close();
process.stdout.write(JSON.stringify({ done: true, problem: config.name, episodes: summary.episodes, seconds: summary.secondsThisSession }) + '\n');
if (!values.out) rmSync(dir, { recursive: true, force: true });
