/**
 * Success statistics of ensembles of independent agents, the paper's measure
 * of every method (Extended Data Fig. 2; Fig. 3).
 *
 * - Success curve: the fraction of agents that have built the reference by
 *   episode e. An agent's event time is its first successful episode; an agent
 *   that stopped (or is still running) without success is right-censored at its
 *   last episode, except one whose network died (SaturationWatch: its run
 *   stopped there, and it could not have learned again): a known failure, at
 *   risk at every episode and hour. The curve is the Kaplan–Meier estimate F(e) = 1 − S(e),
 *   S(e) = Π_{t_j ≤ e} (1 − d_j / n_j), with n_j the agents still at risk at t_j
 *   (event or censoring time ≥ t_j) and d_j the successes at t_j.
 * - 95% band: Greenwood's variance, Var(log S) ≈ Σ d_j / (n_j (n_j − d_j)), on
 *   the complementary log-log scale (Kalbfleisch–Prentice, as AGOX's batch
 *   analysis does): σ(e) = √(Σ d_j/(n_j(n_j−d_j))) / |log S(e)|, and
 *   S ∈ [S^{exp(+zσ)}, S^{exp(−zσ)}], z = 1.959964; F's band is 1 minus that.
 *   Before the first success (S = 1) the band is [0, 0]; where S = 0 Greenwood's
 *   sum is infinite and the band's lower end is undefined (null).
 * - Success: first episode with `reachedReference` (the run's reference and
 *   threshold), or with energy ≤ reference + threshold × atoms when --threshold
 *   is given. Without a reference the target is the lowest energy built by any
 *   agent of any ensemble of the same problem (as AGOX's batch analysis).
 * - Or, with a criterion, the first episode whose log carries that flag:
 *   `honeycomb` (pristine graphene: a honeycomb at any grid offset) or
 *   `five-seven` (grain boundary: a pentagon–heptagon pair, whatever the energy).
 * - Mean energy (Extended Data Fig. 2b): per episode e, the mean over agents of
 *   (E_e − E_ref)/atoms of the structure built in episode e (failed evaluations
 *   left out); the mean best-so-far is given too.
 * - Agent time: the summed build + evaluate + train wall time (ms in the log) of
 *   an agent up to an episode, in hours — CPU hours when the agent runs on one
 *   core (training.threads = 1). Time to q success is the Kaplan–Meier quantile
 *   over these per-agent times (each agent's event or censoring time is its own
 *   cumulative time), i.e. "q of the agents solve it within X hours" (Fig. 3).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { InputError } from '../util/errors.js';
import { readJsonFile } from '../util/json-file.js';
import { SaturationWatch } from '../agent/agent.js';

/** z for a two-sided 95% interval. */
export const Z95 = 1.959963984540054;

export const BAND_METHOD =
  "Kaplan–Meier with Greenwood's variance on the log(−log S) scale (Kalbfleisch–Prentice, as AGOX batch analysis), 95%";

/** One agent's log, as read from a run directory. */
export interface AgentLog {
  dir: string;
  name: string;
  problem: string;
  policy: string;
  atoms: number;
  /** success.threshold of the run, eV/atom. */
  threshold: number;
  referenceEnergy: number | null;
  /** Episodes the run was configured for. */
  plannedEpisodes: number | null;
  /** Per episode (index e − 1): energy in eV or null when the evaluation failed. */
  energies: (number | null)[];
  reachedReference: boolean[];
  /** Per episode: the structure flags of the log (false where absent), and whether any record carried them. */
  honeycomb: boolean[];
  fiveSeven: boolean[];
  hasFlag: { honeycomb: boolean; fiveSeven: boolean };
  /** Per episode: build + evaluate + train, ms. */
  ms: Float64Array;
  /** The network died at this episode (SaturationWatch on the log's `saturated` flags), or null. */
  diedEpisode: number | null;
}

/** A step of the Kaplan–Meier estimate at one distinct event time. */
export interface KaplanMeierStep {
  time: number;
  atRisk: number;
  events: number;
  /** S just after this time. */
  survival: number;
  /** Σ d/(n(n−d)) up to this time (Infinity once S = 0). */
  greenwood: number;
}

/**
 * Kaplan–Meier steps from event/censoring times (an agent censored at t is at
 * risk at t). Only distinct event times give steps.
 */
export function kaplanMeier(times: ArrayLike<number>, events: ArrayLike<boolean>): KaplanMeierStep[] {
  const n = times.length;
  if (events.length !== n) throw new Error('kaplanMeier: times and events differ in length');
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => times[a] - times[b]);
  const steps: KaplanMeierStep[] = [];
  let survival = 1;
  let greenwood = 0;
  let k = 0;
  while (k < n) {
    const t = times[order[k]];
    const atRisk = n - k;
    let d = 0;
    let j = k;
    for (; j < n && times[order[j]] === t; j++) if (events[order[j]]) d++;
    if (d > 0) {
      survival *= 1 - d / atRisk;
      greenwood = atRisk > d ? greenwood + d / (atRisk * (atRisk - d)) : Infinity;
      steps.push({ time: t, atRisk, events: d, survival, greenwood });
    }
    k = j;
  }
  return steps;
}

/** The success fraction F = 1 − S and its 95% band at one point of the curve. */
export interface BandPoint {
  success: number;
  lower: number | null;
  upper: number | null;
}

/** F and its log-log Greenwood band from S and Greenwood's sum (see the file comment). */
export function band(survival: number, greenwood: number, z = Z95): BandPoint {
  if (survival >= 1) return { success: 0, lower: 0, upper: 0 };
  if (survival <= 0 || !Number.isFinite(greenwood)) return { success: 1, lower: null, upper: 1 };
  const logS = Math.log(survival);
  const sigma = Math.sqrt(greenwood) / Math.abs(logS);
  const sLow = Math.pow(survival, Math.exp(z * sigma));
  const sHigh = Math.pow(survival, Math.exp(-z * sigma));
  return { success: 1 - survival, lower: 1 - sHigh, upper: 1 - sLow };
}

/** Kaplan–Meier S and Greenwood's sum at time t (right-continuous step function). */
export function survivalAt(steps: KaplanMeierStep[], t: number): { survival: number; greenwood: number } {
  let s = 1;
  let g = 0;
  for (const step of steps) {
    if (step.time > t) break;
    s = step.survival;
    g = step.greenwood;
  }
  return { survival: s, greenwood: g };
}

/** Smallest event time at which the estimated success fraction reaches q, or null. */
export function successQuantile(steps: KaplanMeierStep[], q: number): number | null {
  for (const step of steps) if (1 - step.survival >= q - 1e-12) return step.time;
  return null;
}

// ---------------------------------------------------------------------------
// reading run directories

export function isRunDir(dir: string): boolean {
  return existsSync(join(dir, 'config.json')) || existsSync(join(dir, 'episodes.jsonl'));
}

/** The run directories of an ensemble directory (or the directory itself when it is a run). */
export function findRunDirs(dir: string): string[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new InputError('not a directory', dir);
  if (isRunDir(dir)) return [dir];
  const runs = readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && isRunDir(join(dir, d.name)))
    .map((d) => d.name)
    .sort()
    .map((n) => join(dir, n));
  if (runs.length === 0) throw new InputError('holds no run directories (folders with config.json and episodes.jsonl)', dir);
  return runs;
}

function field<T>(obj: unknown, path: string[], check: (v: unknown) => boolean, file: string): T {
  let v: unknown = obj;
  for (const k of path) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
  if (!check(v)) throw new InputError(`field ${path.join('.')}: missing or of the wrong type`, file);
  return v as T;
}

const isNum = (v: unknown) => typeof v === 'number' && Number.isFinite(v);

/**
 * Reads one run directory. Episodes must be numbered 1, 2, … in order — a lost
 * or repeated episode is an error naming the line. A last line without its
 * newline (a run writing, or killed mid-write, before its resume truncates it)
 * is left out.
 */
export function readRunDir(dir: string): AgentLog {
  const configPath = join(dir, 'config.json');
  if (!existsSync(configPath)) throw new InputError('not a run directory (no config.json)', dir);
  const config = readJsonFile(configPath);
  const template = field<unknown[]>(config, ['template'], Array.isArray, configPath);
  const stoich = field<Record<string, unknown>>(config, ['stoichiometry'], (v) => v !== null && typeof v === 'object', configPath);
  let atoms = template.length;
  for (const [el, n] of Object.entries(stoich)) {
    if (!Number.isInteger(n)) throw new InputError(`field stoichiometry.${el}: must be an integer`, configPath);
    atoms += n as number;
  }
  if (atoms <= 0) throw new InputError('field stoichiometry: places no atoms', configPath);
  const problem = field<string>(config, ['name'], (v) => typeof v === 'string', configPath);
  const policy = field<string>(config, ['run', 'policy'], (v) => typeof v === 'string', configPath);
  const threshold = field<number>(config, ['success', 'threshold'], isNum, configPath);
  const planned = field<number>(config, ['run', 'episodes'], isNum, configPath);

  let referenceEnergy: number | null = null;
  const refPath = join(dir, 'reference.json');
  if (existsSync(refPath)) {
    const ref = readJsonFile(refPath) as { energy?: unknown };
    if (ref === null || typeof ref !== 'object' || (ref.energy !== null && !isNum(ref.energy))) {
      throw new InputError('field energy: must be a number or null', refPath);
    }
    referenceEnergy = ref.energy as number | null;
  }

  const logPath = join(dir, 'episodes.jsonl');
  const energies: (number | null)[] = [];
  const reached: boolean[] = [];
  const honeycomb: boolean[] = [];
  const fiveSeven: boolean[] = [];
  const hasFlag = { honeycomb: false, fiveSeven: false };
  const ms: number[] = [];
  const saturation = new SaturationWatch();
  if (existsSync(logPath)) {
    const text = readFileSync(logPath, 'utf8');
    const lines = text.split('\n');
    // the last element is '' (the file ends in \n) or a partial last line: left out
    const complete = lines.length - 1;
    for (let i = 0; i < complete; i++) {
      const where = `${logPath}:${i + 1}`;
      let r: Record<string, unknown>;
      try {
        r = JSON.parse(lines[i]) as Record<string, unknown>;
      } catch {
        throw new InputError('not a JSON episode record', where);
      }
      if (r === null || typeof r !== 'object') throw new InputError('not a JSON episode record', where);
      if (r.episode !== i + 1) {
        throw new InputError(`episode ${JSON.stringify(r.episode)} where ${i + 1} was expected (an episode lost or repeated)`, where);
      }
      if (r.energy !== null && !isNum(r.energy)) throw new InputError('field energy: must be a number or null', where);
      const t = r.ms as Record<string, unknown> | undefined;
      if (!t || !isNum(t.build) || !isNum(t.evaluate) || !isNum(t.train)) {
        throw new InputError('field ms: must hold build, evaluate and train times', where);
      }
      energies.push(r.energy as number | null);
      reached.push(r.reachedReference === true);
      honeycomb.push(r.honeycomb === true);
      fiveSeven.push(r.fiveSeven === true);
      if ('honeycomb' in r) hasFlag.honeycomb = true;
      if ('fiveSeven' in r) hasFlag.fiveSeven = true;
      ms.push((t.build as number) + (t.evaluate as number) + (t.train as number));
      saturation.add({ episode: i + 1, saturated: r.saturated === true });
    }
  }
  return {
    dir,
    name: basename(resolve(dir)),
    problem,
    policy,
    atoms,
    threshold,
    referenceEnergy,
    plannedEpisodes: planned,
    energies,
    reachedReference: reached,
    honeycomb,
    fiveSeven,
    hasFlag,
    ms: Float64Array.from(ms),
    diedEpisode: saturation.episode,
  };
}

// ---------------------------------------------------------------------------
// the statistics

export interface StatsOptions {
  /** eV/atom: overrides each run's success.threshold (and recomputes success from energies). */
  threshold?: number;
  /** Labels for the ensembles (default: the directory names). */
  labels?: string[];
  /** Success from a structure flag of the episode log instead of energies. */
  criterion?: SuccessCriterion;
}

/** Structure flags of the episode log that can decide success (`asla stats --criterion`). */
export const SUCCESS_CRITERIA = { honeycomb: 'honeycomb', 'five-seven': 'fiveSeven' } as const;
export type SuccessCriterion = keyof typeof SUCCESS_CRITERIA;

export interface AgentOutcome {
  name: string;
  episodes: number;
  /** First successful episode, or null (censored at `episodes`). */
  successEpisode: number | null;
  bestEnergyPerAtom: number | null;
  /** Agent time (build + evaluate + train) up to success, or over all episodes when censored, hours. */
  hours: number;
  /** Its network died here (a known failure: at risk for ever, not censored), or null. */
  diedEpisode: number | null;
}

export interface SuccessCurve {
  /** 1, 2, …, the longest agent's episodes. */
  episode: number[];
  /** Agents with at least this many episodes. */
  agents: number[];
  /** Agents at risk at this episode: not yet successful and not censored before it. */
  atRisk: number[];
  /** Agents that have succeeded by this episode (raw count). */
  successes: number[];
  /** Kaplan–Meier success fraction and its 95% band. */
  success: number[];
  lower: (number | null)[];
  upper: (number | null)[];
  /** Mean over agents of (E_e − E_ref)/atoms of episode e's structure, eV/atom (null: no energy). */
  meanEnergy: (number | null)[];
  /** Agents whose episode e has an energy. */
  energyAgents: number[];
  /** Mean over agents of (best-so-far − E_ref)/atoms, eV/atom. */
  meanBestEnergy: (number | null)[];
  /** Mean over agents of the cumulative agent time up to episode e, hours. */
  meanHours: number[];
}

export interface EnsembleStats {
  dir: string;
  label: string;
  problem: string;
  policy: string;
  atoms: number;
  agents: number;
  /** How success is decided: the run's reference, the best energy over all agents, or a structure flag. */
  measure: 'reference' | 'best' | SuccessCriterion;
  /** eV/atom above the target that still counts. */
  threshold: number;
  /** The target energy per atom (reference, or best over all agents). */
  targetEnergyPerAtom: number | null;
  succeeded: number;
  episodes50: number | null;
  episodes90: number | null;
  hours50: number | null;
  hours90: number | null;
  outcomes: AgentOutcome[];
  curve: SuccessCurve;
}

export interface StatsReport {
  band: string;
  meanEnergy: string;
  time: string;
  ensembles: EnsembleStats[];
}

export function readEnsemble(dir: string): AgentLog[] {
  return findRunDirs(dir).map(readRunDir);
}

/** Statistics of several ensembles (directories of run directories, or single runs). */
export function computeStats(dirs: string[], opts: StatsOptions = {}): StatsReport {
  if (dirs.length === 0) throw new InputError('give at least one ensemble directory');
  const ensembles = dirs.map((d) => ({ dir: d, agents: readEnsemble(d) }));
  // without a reference: the best energy over all agents of all ensembles of the same problem
  const bestByProblem = new Map<string, number>();
  for (const { agents } of ensembles) {
    for (const a of agents) {
      for (const e of a.energies) {
        if (e === null) continue;
        const b = bestByProblem.get(a.problem);
        if (b === undefined || e < b) bestByProblem.set(a.problem, e);
      }
    }
  }
  return {
    band: BAND_METHOD,
    meanEnergy: 'mean over agents of (E − E_ref)/atoms of the structure built in each episode (failed evaluations left out); meanBestEnergy: of the best so far',
    time: 'agent time = summed build + evaluate + train wall time (CPU hours on one core); time to q success = Kaplan–Meier quantile over per-agent times',
    ensembles: ensembles.map(({ dir, agents }, i) =>
      ensembleStats(agents, { dir, label: opts.labels?.[i] ?? basename(resolve(dir)), threshold: opts.threshold, best: bestByProblem, criterion: opts.criterion }),
    ),
  };
}

export function ensembleStats(
  agents: AgentLog[],
  opts: { dir: string; label: string; threshold?: number; best: Map<string, number>; criterion?: SuccessCriterion },
): EnsembleStats {
  if (agents.length === 0) throw new InputError('holds no agents', opts.dir);
  const first = agents[0];
  for (const a of agents) {
    if (a.problem !== first.problem || a.atoms !== first.atoms) {
      throw new InputError(`mixes problems (${first.name}: ${first.problem}, ${a.name}: ${a.problem})`, opts.dir);
    }
  }
  const withReference = agents.every((a) => a.referenceEnergy !== null);
  const criterion = opts.criterion;
  const flag = criterion ? SUCCESS_CRITERIA[criterion] : null;
  if (flag && !agents.some((a) => a.hasFlag[flag])) {
    throw new InputError(`no episode records the ${criterion} flag (it is logged for ${flag === 'honeycomb' ? 'pristine graphene' : 'the grain boundary'} only)`, opts.dir);
  }
  const measure: EnsembleStats['measure'] = criterion ?? (withReference ? 'reference' : 'best');
  const threshold = opts.threshold ?? first.threshold;

  const outcomes: AgentOutcome[] = [];
  const episodeTimes: number[] = [];
  const hourTimes: number[] = [];
  const events: boolean[] = [];
  const targets: number[] = [];
  for (const a of agents) {
    const target = withReference ? (a.referenceEnergy as number) : opts.best.get(a.problem) ?? null;
    let successEpisode: number | null = null;
    let best: number | null = null;
    for (let e = 0; e < a.energies.length; e++) {
      const E = a.energies[e];
      if (E !== null && (best === null || E < best)) best = E;
      if (successEpisode !== null) continue;
      const ok = flag
        ? a[flag][e]
        : measure === 'reference' && opts.threshold === undefined
          ? a.reachedReference[e]
          : E !== null && target !== null && E <= target + threshold * a.atoms;
      if (ok) successEpisode = e + 1;
    }
    const n = successEpisode ?? a.energies.length;
    let ms = 0;
    for (let e = 0; e < n; e++) ms += a.ms[e];
    const hours = ms / 3.6e6;
    outcomes.push({ name: a.name, episodes: a.energies.length, successEpisode, bestEnergyPerAtom: best === null ? null : best / a.atoms, hours, diedEpisode: a.diedEpisode });
    // a dead network fails for good: censoring it at its stop would count it as a chance still open
    const failedForGood = successEpisode === null && a.diedEpisode !== null;
    episodeTimes.push(failedForGood ? Infinity : n);
    hourTimes.push(failedForGood ? Infinity : hours);
    events.push(successEpisode !== null);
    targets.push(target ?? NaN);
  }

  const kmEpisodes = kaplanMeier(episodeTimes, events);
  const kmHours = kaplanMeier(hourTimes, events);
  const maxEpisodes = Math.max(0, ...agents.map((a) => a.energies.length));
  const curve: SuccessCurve = {
    episode: [],
    agents: [],
    atRisk: [],
    successes: [],
    success: [],
    lower: [],
    upper: [],
    meanEnergy: [],
    energyAgents: [],
    meanBestEnergy: [],
    meanHours: [],
  };
  const bestSoFar = new Float64Array(agents.length).fill(Infinity);
  const cumMs = new Float64Array(agents.length);
  let step = 0;
  let survival = 1;
  let greenwood = 0;
  for (let e = 1; e <= maxEpisodes; e++) {
    while (step < kmEpisodes.length && kmEpisodes[step].time <= e) {
      survival = kmEpisodes[step].survival;
      greenwood = kmEpisodes[step].greenwood;
      step++;
    }
    const b = band(survival, greenwood);
    let present = 0;
    let atRisk = 0;
    let successes = 0;
    let sumE = 0;
    let nE = 0;
    let sumBest = 0;
    let nBest = 0;
    let sumHours = 0;
    for (let i = 0; i < agents.length; i++) {
      const a = agents[i];
      if (episodeTimes[i] >= e) atRisk++;
      if (outcomes[i].successEpisode !== null && (outcomes[i].successEpisode as number) <= e) successes++;
      if (a.energies.length < e) continue;
      present++;
      cumMs[i] += a.ms[e - 1];
      sumHours += cumMs[i] / 3.6e6;
      const E = a.energies[e - 1];
      const ref = targets[i];
      if (E !== null && E < bestSoFar[i]) bestSoFar[i] = E;
      if (Number.isNaN(ref)) continue;
      if (E !== null) {
        sumE += (E - ref) / a.atoms;
        nE++;
      }
      if (Number.isFinite(bestSoFar[i])) {
        sumBest += (bestSoFar[i] - ref) / a.atoms;
        nBest++;
      }
    }
    curve.episode.push(e);
    curve.agents.push(present);
    curve.atRisk.push(atRisk);
    curve.successes.push(successes);
    curve.success.push(b.success);
    curve.lower.push(b.lower);
    curve.upper.push(b.upper);
    curve.meanEnergy.push(nE > 0 ? sumE / nE : null);
    curve.energyAgents.push(nE);
    curve.meanBestEnergy.push(nBest > 0 ? sumBest / nBest : null);
    curve.meanHours.push(present > 0 ? sumHours / present : 0);
  }

  const targetEnergy = measure === 'reference' ? (first.referenceEnergy as number) : opts.best.get(first.problem) ?? null;
  return {
    dir: opts.dir,
    label: opts.label,
    problem: first.problem,
    policy: first.policy,
    atoms: first.atoms,
    agents: agents.length,
    measure,
    threshold,
    targetEnergyPerAtom: targetEnergy === null ? null : targetEnergy / first.atoms,
    succeeded: events.filter(Boolean).length,
    episodes50: successQuantile(kmEpisodes, 0.5),
    episodes90: successQuantile(kmEpisodes, 0.9),
    hours50: successQuantile(kmHours, 0.5),
    hours90: successQuantile(kmHours, 0.9),
    outcomes,
    curve,
  };
}

// ---------------------------------------------------------------------------
// output

const CSV_COLUMNS = [
  'ensemble',
  'episode',
  'agents',
  'at_risk',
  'successes',
  'success',
  'success_lower95',
  'success_upper95',
  'mean_energy_rel_eV_per_atom',
  'energy_agents',
  'mean_best_energy_rel_eV_per_atom',
  'mean_agent_hours',
] as const;

function csvCell(v: string | number | null): string {
  if (v === null) return '';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toPrecision(8).replace(/\.?0+$/, '');
  return /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/** One row per ensemble and episode (long format, for plotting). */
export function formatCsv(report: StatsReport): string {
  const rows = [CSV_COLUMNS.join(',')];
  for (const s of report.ensembles) {
    const c = s.curve;
    for (let i = 0; i < c.episode.length; i++) {
      rows.push(
        [
          s.label,
          c.episode[i],
          c.agents[i],
          c.atRisk[i],
          c.successes[i],
          c.success[i],
          c.lower[i],
          c.upper[i],
          c.meanEnergy[i],
          c.energyAgents[i],
          c.meanBestEnergy[i],
          c.meanHours[i],
        ]
          .map(csvCell)
          .join(','),
      );
    }
  }
  return rows.join('\n') + '\n';
}

/** Episodes at which the text table samples the curves: about `rows` round numbers and the last. */
export function sampleEpisodes(maxEpisodes: number, rows = 10): number[] {
  if (maxEpisodes <= 0) return [];
  if (maxEpisodes <= rows) return Array.from({ length: maxEpisodes }, (_, i) => i + 1);
  const raw = maxEpisodes / rows;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const stepSize = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out = [1];
  for (let e = stepSize; e < maxEpisodes; e += stepSize) out.push(e);
  out.push(maxEpisodes);
  return [...new Set(out)];
}

const pct = (v: number | null) => (v === null ? '   –' : `${(100 * v).toFixed(0).padStart(3)}%`);
const fmtHours = (h: number | null) => (h === null ? '–' : h < 0.1 ? `${(h * 60).toFixed(2)} min` : `${h.toFixed(2)} h`);
const fmtE = (v: number | null) => (v === null ? '–' : v.toFixed(3));

/** A text report: one summary block per ensemble, then the curves side by side. */
export function formatTable(report: StatsReport): string {
  const out: string[] = [];
  for (const s of report.ensembles) {
    const planned = s.outcomes.map((o) => o.episodes);
    out.push(
      `${s.label}: ${s.problem}, ${s.policy} policy, ${s.agents} agent${s.agents === 1 ? '' : 's'}, ` +
        `${Math.min(...planned) === Math.max(...planned) ? Math.max(...planned) : `${Math.min(...planned)}–${Math.max(...planned)}`} episodes (${s.dir})`,
    );
    out.push(
      (s.measure === 'honeycomb' || s.measure === 'five-seven'
        ? `  success: built ${s.measure === 'honeycomb' ? 'a honeycomb (graphene at any grid offset)' : 'a pentagon–heptagon pair'};`
        : `  success: ${s.measure === 'reference' ? 'built the reference' : 'within the threshold of the best over all agents'}` +
          ` (${s.targetEnergyPerAtom === null ? 'no energy yet' : `${s.targetEnergyPerAtom.toFixed(4)} eV/atom`}) + ${s.threshold} eV/atom;`) +
        ` ${s.succeeded}/${s.agents} agents succeeded` +
        (s.outcomes.some((o) => o.diedEpisode !== null && o.successEpisode === null)
          ? `; networks died (counted as failures): ${s.outcomes.filter((o) => o.diedEpisode !== null && o.successEpisode === null).map((o) => `${o.name} at ${o.diedEpisode}`).join(', ')}`
          : ''),
    );
    out.push(
      `  50% success: ${s.episodes50 ?? '–'} episodes, ${fmtHours(s.hours50)};  90% success: ${s.episodes90 ?? '–'} episodes, ${fmtHours(s.hours90)}`,
    );
  }
  const maxE = Math.max(0, ...report.ensembles.map((s) => s.curve.episode.length));
  if (maxE > 0) {
    const colW = 30;
    out.push('');
    out.push('episode  ' + report.ensembles.map((s) => s.label.slice(0, colW - 2).padEnd(colW)).join(''));
    out.push('         ' + report.ensembles.map(() => 'success [95% band]  <E>-Eref'.padEnd(colW)).join(''));
    for (const e of sampleEpisodes(maxE)) {
      let line = String(e).padStart(7) + '  ';
      for (const s of report.ensembles) {
        const i = e - 1;
        if (i >= s.curve.episode.length) {
          line += ''.padEnd(colW);
          continue;
        }
        const cell = `${pct(s.curve.success[i])} [${pct(s.curve.lower[i]).trim()}–${pct(s.curve.upper[i]).trim()}]`;
        line += `${cell.padEnd(19)} ${fmtE(s.curve.meanEnergy[i]).padStart(7)}`.padEnd(colW);
      }
      out.push(line.trimEnd());
    }
    out.push('');
    out.push(`band: ${report.band}`);
    out.push(`<E>-Eref: ${report.meanEnergy.split(';')[0]}, eV/atom`);
    out.push(`time: ${report.time}`);
  }
  return out.join('\n') + '\n';
}
