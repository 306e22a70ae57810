/**
 * A run: one agent's search in its own directory.
 *
 *   config.json        the resolved problem config (what ran)
 *   episodes.jsonl     one JSON line per episode, append-only
 *   structures.extxyz  every built structure with its energy, append-only (ASE reads it)
 *   best.extxyz        the lowest-energy structure so far
 *   reference.extxyz   the reference structure and its energy, when the problem has one
 *   checkpoint.json    the whole agent state after the last checkpointed episode
 *   summary.json       written when the run ends
 *
 * Resuming truncates the two append-only files to the lengths the checkpoint
 * recorded, so a run killed at any moment and resumed writes exactly the
 * episodes an uninterrupted run writes (single-threaded training).
 */
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent, episodeSolved, LearnedStreak, SATURATED_STREAK, SaturationWatch, type AgentState, type EpisodeRecord } from '../agent/agent.js';
import { SATURATION_GAP } from '../agent/policy.js';
import { referenceCandidates, templateAtoms } from '../agent/presets.js';
import { validateProblem, type ProblemConfig } from '../agent/problem.js';
import { CachedCalculator, createCalculator } from '../calculators/index.js';
import type { Calculator } from '../calculators/calculator.js';
import { evaluate, TimeoutCalculator } from '../calculators/calculator.js';
import { BuildingGrid } from '../grid/index.js';
import { formatExtxyz } from '../structure/extxyz.js';
import type { Atoms } from '../structure/atoms.js';
import { InputError } from '../util/errors.js';
import { loadCheckpoint, saveCheckpoint, writeFileAtomic } from './checkpoint.js';
import { appendNetworkSnapshot, SNAPSHOT_FILE, snapshotDue } from './snapshots.js';
import { COMMON } from '../agent/presets.js';
import { mergeConfig } from '../agent/problem.js';
import { applyTransfer, type TransferOrigin } from '../agent/transfer.js';
import { episodeRecords } from './episode-log.js';
import { loadSourceNetwork } from './transfer-source.js';
import { kernelsInUse } from '../nn/native.js';

export interface RunOptions {
  dir: string;
  /** A new run's config; for a resumed run it is read from the directory. */
  config?: ProblemConfig;
  resume?: boolean;
  /** Stop after this many episodes in total (default: config.run.episodes). */
  episodes?: number;
  onEpisode?: (record: EpisodeRecord, run: Run) => void;
  /** Stop after the first episode that solves the problem (episodeSolved), or at once when the log already holds one. */
  untilSolved?: boolean;
  /** Stop once the problem is learned (LearnedStreak: LEARNED_STREAK greedy episodes in a row solved it), or at once when the log shows it. */
  untilLearned?: boolean;
  /**
   * Go on when the network has died (SaturationWatch: SATURATED_STREAK episodes in a
   * row with every allowed Q-value at −1). By default the run stops there: the
   * network cannot learn again, and its builds are random ties.
   */
  keepSaturated?: boolean;
  warn?: (message: string) => void;
  signal?: AbortSignal;
  /** Supply a calculator instead of building one from the config (tests, fault injection). */
  calculator?: Calculator;
}

interface Checkpoint {
  agent: AgentState;
  logBytes: number;
  structuresBytes: number;
  snapshotBytes?: number;
}

export class Run {
  readonly dir: string;
  readonly config: ProblemConfig;
  readonly agent: Agent;
  readonly startEpisode: number;
  readonly reference: Atoms | null;
  /** Failed evaluations of the whole run (all sessions), by kind: counted from the log on resume. */
  readonly failures: Record<string, number> = {};
  private constructor(dir: string, config: ProblemConfig, agent: Agent, startEpisode: number, reference: Atoms | null, private readonly warn: (message: string) => void) {
    this.dir = dir;
    this.config = config;
    this.agent = agent;
    this.startEpisode = startEpisode;
    this.reference = reference;
  }

  static async open(opts: RunOptions): Promise<Run> {
    const dir = opts.dir;
    const warn = opts.warn ?? ((m: string) => process.stderr.write(`warning: ${m}\n`));
    const configPath = join(dir, 'config.json');
    let config: ProblemConfig;
    if (opts.resume) {
      if (!existsSync(configPath)) throw new InputError('not a run directory (no config.json)', dir);
      // fields added to asla after the run started take their defaults
      config = validateProblem(mergeConfig(structuredClone(COMMON), JSON.parse(readFileSync(configPath, 'utf8'))), configPath);
    } else {
      if (!opts.config) throw new Error('Run.open: a new run needs a config');
      config = opts.config;
      if (existsSync(join(dir, 'episodes.jsonl')) || existsSync(join(dir, 'checkpoint.json'))) {
        throw new InputError('already holds a run: use --resume to continue it, or another --out', dir);
      }
    }

    const grid = new BuildingGrid({ cell: config.cell, ...config.grid });
    const template = templateAtoms(config);
    // repeated builds (greedy episodes, a stuck agent) are not evaluated twice
    const inner = opts.calculator ?? (await createCalculator(config.calculator.name, config.calculator.options, config));
    // the generic evaluation timeout (config calculator.timeoutMs): a calculator that never answers fails as 'timeout'
    const timed = config.calculator.timeoutMs ? new TimeoutCalculator(inner, config.calculator.timeoutMs) : inner;
    const calculator = new CachedCalculator(timed, {
      maxEntries: 20000,
    });

    // the reference for success, with this run's calculator (the best snapped candidate)
    let reference: Atoms | null = null;
    let referenceEnergy: number | null = null;
    if (existsSync(join(dir, 'reference.json'))) {
      const saved = JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8')) as { energy: number | null };
      referenceEnergy = saved.energy;
    } else {
      for (const cand of referenceCandidates(config, grid)) {
        const r = await evaluate(calculator, cand);
        if (r.ok && (referenceEnergy === null || r.energy < referenceEnergy)) {
          referenceEnergy = r.energy;
          reference = cand;
          cand.info.energy = r.energy;
        }
      }
    }

    const agent = new Agent({ config, grid, template, calculator, referenceEnergy });
    if (!opts.resume) {
      const fit = agent.feasibility();
      if (!fit.ok) {
        await calculator.close?.();
        throw new InputError(
          `impossible stoichiometry: random builds placed at most ${fit.placed} of ${agent.counts.reduce((a, b) => a + b, 0)} atoms on the grid (c1 = ${config.c1}${config.c2 !== null ? `, c2 = ${config.c2}` : ''}, ${config.forbidden.length} forbidden points)`,
          'field stoichiometry',
        );
      }
    }
    let startEpisode = 0;
    if (opts.resume) {
      removeStaleTemps(dir);
      const cp = loadCheckpoint(join(dir, 'checkpoint.json'), warn) as Checkpoint | null;
      if (cp) {
        agent.setState(cp.agent);
        startEpisode = cp.agent.episode;
        truncateTo(join(dir, 'episodes.jsonl'), cp.logBytes);
        truncateTo(join(dir, 'structures.extxyz'), cp.structuresBytes);
        if (cp.snapshotBytes !== undefined) truncateTo(join(dir, SNAPSHOT_FILE), cp.snapshotBytes);
      } else {
        truncateTo(join(dir, 'episodes.jsonl'), 0);
        truncateTo(join(dir, 'structures.extxyz'), 0);
        // killed before the first checkpoint: start the snapshots over too (an append cut mid-line would stay in the middle of the file)
        if (existsSync(join(dir, SNAPSHOT_FILE))) truncateTo(join(dir, SNAPSHOT_FILE), 0);
        if (agent.net) appendNamed(join(dir, SNAPSHOT_FILE), () => appendNetworkSnapshot(dir, 0, agent.net!));
      }
    } else {
      let origin: TransferOrigin | null = null;
      if (config.transfer?.from) {
        // transfer learning (paper Section III): another run's trained weights, fresh Adam state; the origin goes into config.json
        try {
          origin = applyTransfer(agent, loadSourceNetwork(config.transfer.from), warn);
        } catch (e) {
          await calculator.close?.();
          throw e;
        }
        config = { ...config, transfer: { from: origin.from, episode: origin.episode } };
      }
      mkdirSync(dir, { recursive: true });
      if (origin) writeFileAtomic(join(dir, 'transfer.json'), JSON.stringify(origin, null, 2) + '\n');
      writeFileAtomic(configPath, JSON.stringify(config, null, 2) + '\n');
      writeReference(dir, referenceEnergy, reference);
      // the untrained network (tabula rasa), for pictures of early episodes
      if (agent.net) appendNamed(join(dir, SNAPSHOT_FILE), () => appendNetworkSnapshot(dir, 0, agent.net!));
    }
    const run = new Run(dir, config, agent, startEpisode, reference, warn);
    if (opts.resume) {
      run.countLoggedFailures();
      // killed during Run.open of the new run, before these were written
      if (!existsSync(join(dir, 'reference.json'))) writeReference(dir, referenceEnergy, reference);
    }
    return run;
  }

  /** Counts the failures of the episodes already in the (truncated) log. */
  private countLoggedFailures(): void {
    const path = join(this.dir, 'episodes.jsonl');
    if (!existsSync(path)) return;
    for (const line of readFileSync(path, 'utf8').split('\n')) {
      if (!line.includes('"failure":{')) continue;
      const kind = (JSON.parse(line) as EpisodeRecord).failure?.kind;
      if (kind) this.failures[kind] = (this.failures[kind] ?? 0) + 1;
    }
  }

  /** Runs episodes until the target count, checkpointing as configured. */
  async run(opts: Pick<RunOptions, 'episodes' | 'onEpisode' | 'signal' | 'untilSolved' | 'untilLearned' | 'keepSaturated'> = {}): Promise<RunSummary> {
    const target = opts.episodes ?? this.config.run.episodes;
    const logPath = join(this.dir, 'episodes.jsonl');
    const structuresPath = join(this.dir, 'structures.extxyz');
    const started = performance.now();
    const first = this.agent.episode;
    let failures = 0;
    // the log is read once: earlier sessions' first solved episode, then this session's records
    let solvedAt = this.solvedEpisode();
    const learned = new LearnedStreak();
    const saturation = new SaturationWatch();
    for (const r of episodeRecords(this.dir)) {
      learned.add(r);
      saturation.add(r);
    }
    const died = () => opts.keepSaturated !== true && saturation.episode !== null;
    const done = () => (opts.untilSolved === true && solvedAt !== null) || (opts.untilLearned === true && learned.episode !== null) || died();
    while (this.agent.episode < target && !opts.signal?.aborted && !done()) {
      const { record, structure } = await this.agent.runEpisode();
      if (record.failure) {
        failures++;
        this.failures[record.failure.kind] = (this.failures[record.failure.kind] ?? 0) + 1;
      }
      // results first, then the checkpoint that records their lengths
      appendNamed(structuresPath, () => appendFileSync(structuresPath, formatExtxyz(structure)));
      appendNamed(logPath, () => appendFileSync(logPath, JSON.stringify(record) + '\n'));
      if (this.agent.net && snapshotDue(record.episode)) appendNamed(join(this.dir, SNAPSHOT_FILE), () => appendNetworkSnapshot(this.dir, record.episode, this.agent.net!));
      if (record.energy !== null && record.energy === this.agent.bestEnergy) {
        writeFileAtomic(join(this.dir, 'best.extxyz'), formatExtxyz(structure));
      }
      if (record.episode % this.config.run.checkpointEvery === 0 || record.episode === target) this.checkpoint();
      opts.onEpisode?.(record, this);
      if (solvedAt === null && episodeSolved(record)) solvedAt = record.episode;
      learned.add(record);
      saturation.add(record);
      // let signal handlers run: a purely synchronous calculator would otherwise keep the event loop busy
      await new Promise((r) => setImmediate(r));
    }
    if (this.agent.episode % this.config.run.checkpointEvery !== 0) this.checkpoint();
    if (died() && this.agent.episode < target && !(opts.untilSolved === true && solvedAt !== null)) {
      this.warn(
        `${this.dir}: stopped after episode ${this.agent.episode}: the network died at episode ${saturation.episode} ` +
          `(every allowed Q-value within ${SATURATION_GAP} of −1 at most steps for ${SATURATED_STREAK} episodes; eq. 2's gradient vanishes there and it cannot learn again). ` +
          'Start a new run with another --seed, or with --set training.lossForm=cross-entropy; --keep-saturated runs on',
      );
    }
    const summary = this.summary(performance.now() - started, this.agent.episode - first, failures, solvedAt, learned.episode, saturation.episode);
    writeFileAtomic(join(this.dir, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
    return summary;
  }

  /** The first episode of the log that solved the problem (episodeSolved), or null. */
  solvedEpisode(): number | null {
    for (const r of episodeRecords(this.dir)) if (episodeSolved(r)) return r.episode;
    return null;
  }

  checkpoint(): void {
    const cp: Checkpoint = {
      agent: this.agent.getState(),
      logBytes: sizeOf(join(this.dir, 'episodes.jsonl')),
      structuresBytes: sizeOf(join(this.dir, 'structures.extxyz')),
      snapshotBytes: sizeOf(join(this.dir, SNAPSHOT_FILE)),
    };
    saveCheckpoint(join(this.dir, 'checkpoint.json'), cp);
  }

  summary(ms: number, episodesThisSession: number, failuresThisSession: number, solvedEpisode: number | null, learnedEpisode: number | null, saturatedEpisode: number | null): RunSummary {
    const a = this.agent;
    return {
      problem: this.config.name,
      policy: this.config.run.policy,
      seed: this.config.run.seed,
      episodes: a.episode,
      bestEnergy: a.bestEnergy,
      bestEnergyPerAtom: a.bestEnergy === null ? null : a.bestEnergy / a.atomsPerStructure,
      referenceEnergy: a.referenceEnergy,
      referenceEnergyPerAtom: a.referenceEnergy === null ? null : a.referenceEnergy / a.atomsPerStructure,
      firstReferenceEpisode: a.firstReferenceEpisode,
      solvedEpisode,
      learnedEpisode,
      saturatedEpisode,
      episodesThisSession,
      failedEvaluations: Object.values(this.failures).reduce((x, y) => x + y, 0),
      failuresByKind: { ...this.failures },
      failedEvaluationsThisSession: failuresThisSession,
      secondsThisSession: Math.round(ms) / 1000,
      kernels: kernelsInUse(),
    };
  }

  async close(): Promise<void> {
    await this.agent.close();
    await this.agent.calculator.close?.();
  }
}

export interface RunSummary {
  problem: string;
  policy: string;
  seed: number;
  episodes: number;
  bestEnergy: number | null;
  bestEnergyPerAtom: number | null;
  referenceEnergy: number | null;
  referenceEnergyPerAtom: number | null;
  firstReferenceEpisode: number | null;
  /** First episode that solved the problem (reference reached; on the grain boundary with the 5–7 boundary). */
  solvedEpisode: number | null;
  /** Episode at which the problem was learned (LearnedStreak: LEARNED_STREAK greedy episodes in a row solved it). */
  learnedEpisode: number | null;
  /** First episode of SATURATED_STREAK in a row with every allowed Q-value at −1 (SaturationWatch): the network died there; null: it did not. */
  saturatedEpisode: number | null;
  episodesThisSession: number;
  /** Failed evaluations (and stuck builds) over the whole run, and by kind. */
  failedEvaluations: number;
  failuresByKind: Record<string, number>;
  failedEvaluationsThisSession: number;
  secondsThisSession: number;
  /** The network engine's product kernels this session: 'native avx2', 'typescript (…)'. */
  kernels: string;
}

function sizeOf(path: string): number {
  return existsSync(path) ? statSync(path).size : 0;
}

/** Runs an append; a write(2) error (disk full) carries no path, so it gets the file's. */
function appendNamed(path: string, append: () => void): void {
  try {
    append();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code) (e as NodeJS.ErrnoException).path ??= path;
    throw e;
  }
}

/**
 * Temp files of atomic writes (checkpoint.ts writeFileAtomic: NAME.PID.tmp)
 * left by a process killed mid-write: a checkpoint-sized file per kill otherwise.
 */
function removeStaleTemps(dir: string): void {
  for (const f of readdirSync(dir)) {
    if (/\.\d+\.tmp$/.test(f)) rmSync(join(dir, f), { force: true });
  }
}

function truncateTo(path: string, bytes: number): void {
  if (!existsSync(path)) {
    if (bytes > 0) throw new InputError(`missing, but the checkpoint records ${bytes} bytes of it`, path);
    writeFileSync(path, '');
    return;
  }
  const size = statSync(path).size;
  if (size < bytes) throw new InputError(`is shorter (${size} bytes) than the checkpoint records (${bytes})`, path);
  if (size > bytes) truncateSync(path, bytes);
}

/** The reference's energy (and structure, when computed in this session) for the run directory. */
function writeReference(dir: string, energy: number | null, reference: Atoms | null): void {
  writeFileAtomic(join(dir, 'reference.json'), JSON.stringify({ energy }) + '\n');
  if (reference) writeFileAtomic(join(dir, 'reference.extxyz'), formatExtxyz(reference));
}
