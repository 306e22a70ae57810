/**
 * Curriculum benchmark (issue: the ASLA agent): pristine graphene learned in
 * two stages, by the paper's transfer learning (Sec. III, `asla run --from`)
 * used as a curriculum. Each pipeline is one seed:
 *
 *   1. `asla run SMALL --seed S --until-solved` (default graphene-small: 8
 *      atoms), up to --small-episodes;
 *   2. when stage 1 built its reference (or always, with --transfer-unsolved):
 *      `asla run PROBLEM --from <stage-1 run> --seed S --until-solved`
 *      (default graphene: 24 atoms), up to --episodes.
 *
 *   node dist/bench/curriculum.js [--agents 8] [--seed-base 41] [--small graphene-small]
 *        [--small-episodes 1600] [--problem graphene] [--episodes 500] [--parallel 2]
 *        [--transfer-unsolved] [--small-until solved|learned|all] [--out bench-runs/curriculum]
 *        [--set key=value ...] [--small-set key=value ...]
 *
 * --small-until: when stage 1 stops and counts as a success. `solved` (the
 * default): at its first episode that built the reference. `learned`: once
 * 5 greedy episodes in a row did (asla run --until-learned), so the network
 * itself builds it, reliably. `all`: it runs all --small-episodes, as the paper's edge
 * agents trained 700 episodes before their transfer (Sec. III), and counts as
 * a success when it built the reference at any point. The edge as the teacher
 * (README, "The edge as a teacher"):
 *   --small graphene-edge-0.2 --small-until learned --small-episodes 2000 --episodes 1000
 *
 * --small-episodes is 1600 because seeds 41–56 (stage 1 with punishment) measured
 * it: 12 of 16 built 24-atom graphene against 10 of 16 with 800 (README, "The
 * curriculum with punishment in stage 1"); stage 1's runs resume exactly, so
 * the 800-episode figures are these runs cut at 800.
 *
 * --set applies to stage 2, --small-set to stage 1. Prints JSON: per pipeline each stage's solved
 * episode (and stage 2's first honeycomb), episodes run, wall ms per episode of
 * build, evaluate and train (msPerEpisode) and CPU seconds (the
 * agent processes' own, from the episode logs); the fraction of pipelines that
 * built the large problem's reference, and by how many episodes of both stages
 * together; and the CPU seconds spent per success, to set beside the
 * from-scratch benchmark (bench/learning.ts). Each stage is an `asla run` in its
 * own directory (small-i, large-i), resumed when it exists, so a stopped
 * benchmark continues where it stopped.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { benchFlags } from './args.js';
import { atomsOfRun, exitOnFailures, inLanes, readEpisodeLog, runAgentProcess, setArgs } from './agent-processes.js';
import { episodeSolved, learnedEpisode } from '../src/agent/agent.js';

const { values } = benchFlags('curriculum', {
  options: {
    agents: { type: 'string', default: '8' },
    'seed-base': { type: 'string', default: '41' },
    small: { type: 'string', default: 'graphene-small' },
    'small-episodes': { type: 'string', default: '1600' },
    problem: { type: 'string', default: 'graphene' },
    episodes: { type: 'string', default: '500' },
    parallel: { type: 'string', default: '2' },
    'transfer-unsolved': { type: 'boolean', default: false },
    'small-until': { type: 'string', default: 'solved' },
    out: { type: 'string', default: 'bench-runs/curriculum' },
    set: { type: 'string', multiple: true, default: [] },
    'small-set': { type: 'string', multiple: true, default: [] },
    milestones: { type: 'string', default: '500,1000,1500,2000' },
  },
});

const smallEpisodes = Number(values['small-episodes']);
const smallUntil = values['small-until']!;
if (!['solved', 'learned', 'all'].includes(smallUntil)) {
  process.stderr.write(`bench/curriculum: --small-until must be solved, learned or all, not '${smallUntil}'\n`);
  process.exit(2);
}
const episodes = Number(values.episodes);
const pipelines = Array.from({ length: Number(values.agents) }, (_, i) => ({
  seed: Number(values['seed-base']) + i,
  small: join(values.out!, `small-${i}`),
  large: join(values.out!, `large-${i}`),
}));

// what counts as stage 1's success: the criterion --until-solved stops at, or --until-learned's
const solvedIn = (dir: string) => (smallUntil === 'learned' ? learnedEpisode(readEpisodeLog(dir)) : (readEpisodeLog(dir).find(episodeSolved)?.episode ?? null));
const smallFlags = smallUntil === 'solved' ? ['--until-solved'] : smallUntil === 'learned' ? ['--until-learned'] : [];

const started = performance.now();
const failures = await inLanes(pipelines, Number(values.parallel), async (p) => {
  await runAgentProcess(p.small, smallEpisodes, [values.small!, '--seed', String(p.seed), ...setArgs(values['small-set']!)], smallFlags);
  if (solvedIn(p.small) === null && !values['transfer-unsolved']) return;
  await runAgentProcess(p.large, episodes, [values.problem!, '--from', p.small, '--seed', String(p.seed), ...setArgs(values.set!)], ['--until-solved']);
});
exitOnFailures('bench/curriculum', failures);

/** What one stage's log says: solved episode, episodes run, CPU seconds (episodes whose log carries ms.cpu). */
function stage(dir: string) {
  if (!existsSync(dir)) return null;
  const lines = readEpisodeLog(dir);
  return {
    dir,
    solvedEpisode: lines.find(episodeSolved)?.episode ?? null,
    learnedEpisode: learnedEpisode(lines),
    ...(lines.some((r) => 'honeycomb' in r) ? { firstHoneycombEpisode: lines.find((r) => r.honeycomb)?.episode ?? null } : {}),
    episodesRun: lines.length,
    cpuSeconds: lines.reduce((a, r) => a + (r.ms.cpu ?? 0), 0) / 1000,
    // wall milliseconds per episode of the three phases, and the process's CPU
    msPerEpisode: Object.fromEntries(
      (['build', 'evaluate', 'train', 'cpu'] as const).map((k) => [k, Math.round((10 * lines.reduce((a, r) => a + (r.ms[k] ?? 0), 0)) / Math.max(1, lines.length)) / 10]),
    ),
    bestEnergyPerAtom: Math.min(...lines.flatMap((r) => (r.energy === null ? [] : [r.energy]))) / atomsOfRun(dir, lines),
  };
}

const results = pipelines.map((p) => {
  const small = stage(p.small)!;
  const large = stage(p.large);
  // episodes of both stages up to the large problem's success: the whole first stage, then stage 2 to its solved episode
  const episodesToSolved = large?.solvedEpisode != null ? small.episodesRun + large.solvedEpisode : null;
  return { seed: p.seed, small, large, episodesToSolved, cpuSeconds: small.cpuSeconds + (large?.cpuSeconds ?? 0) };
});
const solved = results.filter((r) => r.episodesToSolved !== null).length;
const cpu = results.reduce((a, r) => a + r.cpuSeconds, 0);
const milestones = values.milestones!.split(',').map(Number);
process.stdout.write(
  JSON.stringify(
    {
      benchmark: `curriculum: ${values.small} then ${values.problem} by transfer (asla run --from)`,
      settings: { agents: pipelines.length, seedBase: Number(values['seed-base']), smallEpisodes, episodes, transferUnsolved: values['transfer-unsolved'], smallUntil, set: values.set, smallSet: values['small-set'] },
      wallSecondsThisCall: Math.round(performance.now() - started) / 1000,
      pipelines: results,
      smallSolved: results.filter((r) => r.small.solvedEpisode !== null).length,
      smallLearned: results.filter((r) => r.small.learnedEpisode !== null).length,
      transferred: results.filter((r) => r.large !== null).length,
      built: solved,
      fractionBuilt: Object.fromEntries(milestones.map((m) => [m, results.filter((r) => r.episodesToSolved !== null && r.episodesToSolved <= m).length / results.length])),
      // counted as the paper counts its transferred agents (Extended Data Fig. 2d): episodes of the large problem only
      fractionBuiltStage2: Object.fromEntries(milestones.map((m) => [m, results.filter((r) => r.large?.solvedEpisode != null && r.large.solvedEpisode <= m).length / results.length])),
      cpuSecondsTotal: cpu,
      cpuSecondsPerSuccess: solved ? cpu / solved : null,
    },
    null,
    2,
  ) + '\n',
);
