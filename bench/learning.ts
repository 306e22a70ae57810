/**
 * Learning benchmark (issue: the ASLA agent): independent agents on a problem
 * and the random-search baseline at the same budget. Prints JSON: per agent the
 * first episode that built the reference (and, for pristine graphene, the first
 * honeycomb at any grid offset), the fraction of agents that built it
 * by given episodes, and the wall time per episode split into build, evaluate
 * and train (with the agent process's CPU time per episode, `cpu`), and what
 * exploration yielded (`exploration`: the share of greedy, ε0 and εν builds that
 * landed within the ΔE reward window).
 *
 *   node dist/bench/learning.js [--problem graphene] [--agents 4] [--episodes 2000]
 *        [--parallel 2] [--random-agents 2] [--out bench-runs/learning] [--set key=value ...]
 *        [--until-solved]
 *
 * --until-solved: an agent stops at its first episode that built the reference
 * (asla run --until-solved); the figures need only that episode, so the budget
 * goes to the agents still searching.
 *
 * Each agent is a separate `asla run` process in its own directory, so an
 * interrupted benchmark resumes where it stopped (--resume is passed when the
 * directory exists).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchFlags } from './args.js';
import { exitOnFailures, inLanes, readEpisodeLog, runAgentProcess, setArgs, atomsOfRun } from './agent-processes.js';

const { values } = benchFlags('learning', {
  options: {
    problem: { type: 'string', default: 'graphene' },
    agents: { type: 'string', default: '4' },
    'random-agents': { type: 'string', default: '2' },
    episodes: { type: 'string', default: '2000' },
    parallel: { type: 'string', default: '2' },
    out: { type: 'string', default: 'bench-runs/learning' },
    'seed-base': { type: 'string', default: '1' },
    set: { type: 'string', multiple: true, default: [] },
    milestones: { type: 'string', default: '500,1000,1500,2000' },
    'until-solved': { type: 'boolean', default: false },
  },
});

const episodes = Number(values.episodes);
const seedBase = Number(values['seed-base']);
const jobs: { dir: string; policy: string; seed: number }[] = [];
for (let i = 0; i < Number(values.agents); i++) jobs.push({ dir: join(values.out!, `asla-${i}`), policy: 'asla', seed: seedBase + i });
for (let i = 0; i < Number(values['random-agents']); i++) jobs.push({ dir: join(values.out!, `random-${i}`), policy: 'random', seed: seedBase + 1000 + i });

const started = performance.now();
const failures = await inLanes(jobs, Number(values.parallel), (job) =>
  runAgentProcess(
    job.dir,
    episodes,
    [values.problem!, '--seed', String(job.seed), '--policy', job.policy, ...setArgs(values.set!)],
    values['until-solved'] ? ['--until-solved'] : [],
  ),
);
exitOnFailures('bench/learning', failures);

const milestones = values.milestones!.split(',').map(Number);
const result: Record<string, unknown> = { problem: values.problem, episodes, wallSeconds: Math.round(performance.now() - started) / 1000, sets: values.set };
for (const policy of ['asla', 'random']) {
  const agents = jobs.filter((j) => j.policy === policy).map((j) => {
    const lines = readEpisodeLog(j.dir);
    const ref = JSON.parse(readFileSync(join(j.dir, 'reference.json'), 'utf8')).energy as number | null;
    const first = lines.find((r) => r.reachedReference)?.episode ?? null;
    // pristine graphene: the first honeycomb at any grid offset (builtHoneycomb), which may snap worse than the reference
    const firstHoneycomb = lines.find((r) => r.honeycomb)?.episode ?? null;
    const best = Math.min(...lines.flatMap((r) => (r.energy === null ? [] : [r.energy])));
    const n = lines.length;
    const ms = { build: 0, evaluate: 0, train: 0 };
    for (const r of lines) for (const k of ['build', 'evaluate', 'train'] as const) ms[k] += r.ms[k];
    // the process's CPU time (ms.cpu), in logs that carry it (older episodes lack it)
    const withCpu = lines.filter((r) => typeof r.ms.cpu === 'number');
    const cpu = withCpu.reduce((a, r) => a + (r.ms.cpu ?? 0), 0);
    const atoms = atomsOfRun(j.dir, lines);
    // What exploration yields: the share of episodes whose structure lands within the reward
    // window (ΔE per atom above the best so far, where rewards are not clipped to -1), for
    // greedy builds, builds with a fully random action (ε0, kind r) and builds whose only
    // exploration was among the best ν (εν, kind n).
    const deltaE = (JSON.parse(readFileSync(join(j.dir, 'config.json'), 'utf8')) as { training: { deltaE: number | null } }).training.deltaE;
    const share = (sel: typeof lines) => ({
      episodes: sel.length,
      ...(deltaE !== null ? { withinDeltaE: sel.length ? sel.filter((r) => r.energy !== null && r.bestEnergy !== null && r.energy <= r.bestEnergy + deltaE * atoms).length / sel.length : null } : {}),
    });
    const exploration = j.policy === 'asla' ? {
      greedy: share(lines.filter((r) => r.greedy)),
      withRandomAction: share(lines.filter((r) => !r.greedy && r.kinds.includes('r'))),
      onlyAmongBestNu: share(lines.filter((r) => !r.greedy && !r.kinds.includes('r') && r.kinds.includes('n'))),
    } : undefined;
    return {
      dir: j.dir,
      seed: j.seed,
      firstReferenceEpisode: first,
      ...(lines.some((r) => 'honeycomb' in r) ? { firstHoneycombEpisode: firstHoneycomb } : {}),
      episodesRun: n,
      bestEnergyPerAtom: best / atoms,
      referencePerAtom: ref === null ? null : ref / atoms,
      msPerEpisode: { build: ms.build / n, evaluate: ms.evaluate / n, train: ms.train / n, ...(withCpu.length ? { cpu: cpu / withCpu.length } : {}) },
      ...(exploration ? { exploration } : {}),
      // Methods eq. 4: how many of this agent's structures became punished (with punishment.enabled)
      ...(lines.some((r) => r.punished) ? { punishedStructures: lines.filter((r) => r.punished).length } : {}),
    };
  });
  if (agents.length === 0) continue;
  // fraction of agents whose first success (an episode number or null) came by each milestone
  const byMilestone = (first: (a: (typeof agents)[number]) => number | null | undefined) =>
    Object.fromEntries(milestones.map((m) => [m, agents.filter((a) => { const e = first(a); return e != null && e <= m; }).length / agents.length]));
  result[policy] = {
    agents,
    fractionBuilt: byMilestone((a) => a.firstReferenceEpisode),
    ...(agents.some((a) => 'firstHoneycombEpisode' in a) ? { fractionHoneycomb: byMilestone((a) => a.firstHoneycombEpisode) } : {}),
  };
}
process.stdout.write(JSON.stringify(result, null, 2) + '\n');
