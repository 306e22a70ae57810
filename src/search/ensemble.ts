/**
 * Ensembles of independent agents (the paper runs 50 for graphene, 4 × 25 for
 * C3H4O2): N runs of one problem with seeds S, S+1, …, each in its own run
 * directory DIR/agent-XXX, so no file ever has two writers — which is what a
 * shared or network filesystem needs.
 *
 *   DIR/ensemble.json   how the ensemble was made (command, problem, agents, episodes, seeds)
 *   DIR/problem.json    the resolved problem config every agent starts from
 *   DIR/agent-XXX/      one `asla run` directory per agent (+ run.log: its stdout/stderr)
 *
 * Locally the agents run as child processes of `asla ensemble` (P at a time);
 * on a cluster as a SLURM job array (src/search/slurm.ts). Either way an agent
 * resumes from its checkpoint, so a killed agent loses at most its current
 * episode and never repeats or skips one.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { validateProblem, type ProblemConfig } from '../agent/problem.js';
import { InputError } from '../util/errors.js';
import { readJsonFile } from '../util/json-file.js';
import { writeFileAtomic } from './checkpoint.js';
import { resolveProblem } from '../agent/config-file.js';
import { loadSourceNetwork } from './transfer-source.js';
import { SaturationWatch } from '../agent/agent.js';

export const ENSEMBLE_FORMAT = 'asla-ensemble';
export const ENSEMBLE_VERSION = 1;

/** The `asla` entry point the agents run (dist/src/cli/main.js next to this module). */
export const MAIN_SCRIPT = fileURLToPath(new URL('../cli/main.js', import.meta.url));

export interface EnsembleManifest {
  format: typeof ENSEMBLE_FORMAT;
  version: number;
  /** Where the agents run: child processes of `asla ensemble`, or a SLURM job array. */
  kind: 'local' | 'slurm';
  /** PROBLEM or CONFIG as given, and the --set overrides. */
  problem: string;
  sets: string[];
  name: string;
  agents: number;
  episodes: number;
  /** Agent i runs with seed seedBase + i. */
  seedBase: number;
  /** The resolved config, relative to the ensemble directory. */
  config: 'problem.json';
  /** Every command that created or resumed the ensemble, with its time. */
  sessions: { time: string; command: string[] }[];
  /** SLURM submissions (kind 'slurm'). */
  slurm?: SlurmRecord;
  /**
   * Transfer learning (--from; src/agent/transfer.ts): every agent starts from the
   * trained network of one run, or (perAgent, when --from names an ensemble) agent i
   * from that ensemble's agent i, so the transferred agents stay independent.
   */
  from?: { dir: string; perAgent: boolean };
  /** Each agent stops at its first episode that solves the problem (asla run --until-solved). */
  untilSolved?: boolean;
  /** Each agent stops once it has learned the problem: LEARNED_STREAK greedy episodes in a row solved it (asla run --until-learned). */
  untilLearned?: boolean;
}

export interface SlurmRecord {
  script: string;
  options: { partition: string | null; time: string | null; cpusPerTask: number };
  jobs: { jobId: string; submitted: string; array: string }[];
}

/**
 * A preset name or a config file (YAML/JSON, optionally starting from
 * `preset: NAME`), with --set overrides, validated. The same rules as `asla run`.
 */
export { resolveProblem };

export function agentDirName(index: number): string {
  return `agent-${String(index).padStart(3, '0')}`;
}

export function atomsOf(config: ProblemConfig): number {
  return config.template.length + Object.values(config.stoichiometry).reduce((a, b) => a + b, 0);
}

/** The run directory whose network agent `index` starts from, or null (tabula rasa). */
export function transferSource(m: EnsembleManifest, index: number): string | null {
  if (!m.from) return null;
  return m.from.perAgent ? join(m.from.dir, agentDirName(index)) : m.from.dir;
}

/**
 * A --from source for agents 0 … agents−1: an ensemble directory (agent i from its
 * agent i; it needs that many agents) or one run directory, each source with a
 * trained network now. A one-line InputError otherwise.
 */
export function resolveTransferSource(from: string, agents: number): { dir: string; perAgent: boolean } {
  const dir = resolve(from);
  const perAgent = existsSync(join(dir, 'ensemble.json'));
  if (perAgent) {
    const source = readManifest(dir);
    if (source.agents < agents) throw new InputError(`the ensemble has ${source.agents} agents, and agent i starts from its agent i: ${agents} needed`, '--from');
  }
  for (let i = 0; i < (perAgent ? agents : 1); i++) loadSourceNetwork(perAgent ? join(dir, agentDirName(i)) : dir);
  return { dir, perAgent };
}

export function readManifest(dir: string): EnsembleManifest {
  const path = join(dir, 'ensemble.json');
  if (!existsSync(path)) throw new InputError('not an ensemble directory (no ensemble.json)', dir);
  const m = readJsonFile(path) as EnsembleManifest;
  if (m.format !== ENSEMBLE_FORMAT) throw new InputError(`field format: expected '${ENSEMBLE_FORMAT}'`, path);
  if (m.version !== ENSEMBLE_VERSION) throw new InputError(`field version: ${m.version}, this asla reads ${ENSEMBLE_VERSION}`, path);
  for (const k of ['agents', 'episodes', 'seedBase'] as const) {
    if (!Number.isInteger(m[k]) || m[k] < 0) throw new InputError(`field ${k}: must be an integer ≥ 0`, path);
  }
  return m;
}

export function writeManifest(dir: string, m: EnsembleManifest): void {
  writeFileAtomic(join(dir, 'ensemble.json'), JSON.stringify(m, null, 2) + '\n');
}

export function readEnsembleConfig(dir: string): ProblemConfig {
  const path = join(dir, 'problem.json');
  if (!existsSync(path)) throw new InputError('missing (the ensemble was not fully created)', path);
  return validateProblem(JSON.parse(readFileSync(path, 'utf8')), path);
}

/**
 * Creates an ensemble directory (problem.json + ensemble.json). The config's
 * run.episodes and run.seed are set to the ensemble's episodes and seed base.
 */
export function createEnsemble(
  dir: string,
  opts: { kind: 'local' | 'slurm'; problem: string; sets: string[]; agents: number; episodes?: number; seedBase?: number; command: string[]; from?: string; untilSolved?: boolean; untilLearned?: boolean },
): { manifest: EnsembleManifest; config: ProblemConfig } {
  if (existsSync(join(dir, 'ensemble.json'))) throw new InputError('already holds an ensemble: use --resume, or another --out', dir);
  const base = resolveProblem(opts.problem, opts.sets);
  if (opts.from !== undefined && base.transfer?.from) throw new InputError('give --from or transfer.from, not both', '--from');
  const from = opts.from === undefined ? undefined : resolveTransferSource(opts.from, opts.agents);
  const episodes = opts.episodes ?? base.run.episodes;
  const seedBase = opts.seedBase ?? base.run.seed;
  const config = validateProblem({ ...base, run: { ...base.run, episodes, seed: seedBase } }, opts.problem);
  mkdirSync(dir, { recursive: true });
  writeFileAtomic(join(dir, 'problem.json'), JSON.stringify(config, null, 2) + '\n');
  const manifest: EnsembleManifest = {
    format: ENSEMBLE_FORMAT,
    version: ENSEMBLE_VERSION,
    kind: opts.kind,
    problem: opts.problem,
    sets: opts.sets,
    name: config.name,
    agents: opts.agents,
    episodes,
    seedBase,
    config: 'problem.json',
    sessions: [{ time: new Date().toISOString(), command: opts.command }],
    ...(from ? { from } : {}),
    ...(opts.untilSolved ? { untilSolved: true } : {}),
    ...(opts.untilLearned ? { untilLearned: true } : {}),
  };
  writeManifest(dir, manifest);
  return { manifest, config };
}

/** The stop flags of the ensemble's `asla run` commands. */
export function untilFlags(m: Pick<EnsembleManifest, 'untilSolved' | 'untilLearned'>): string[] {
  return [...(m.untilSolved ? ['--until-solved'] : []), ...(m.untilLearned ? ['--until-learned'] : [])];
}

/** The `asla run` arguments (after the script) of agent `index`: a new run, or a resume when its directory holds one. */
export function agentRunArgs(dir: string, m: EnsembleManifest, index: number): string[] {
  const agentDir = join(resolve(dir), agentDirName(index));
  const until = untilFlags(m);
  if (existsSync(join(agentDir, 'config.json'))) return ['run', '--resume', agentDir, '--episodes', String(m.episodes), '--quiet', ...until];
  const source = transferSource(m, index);
  return ['run', join(resolve(dir), 'problem.json'), '--seed', String(m.seedBase + index), '--episodes', String(m.episodes), '--out', agentDir, '--quiet',
    ...(source ? ['--from', source] : []), ...until];
}

/**
 * True when the agent's run has ended (its summary.json says so) with at least the
 * ensemble's episodes, or because its network died, or, for an ensemble made with --until-solved (--until-learned), once it
 * solved (learned) the problem.
 */
export function agentDone(agentDir: string, m: Pick<EnsembleManifest, 'episodes' | 'untilSolved' | 'untilLearned'>): boolean {
  const path = join(agentDir, 'summary.json');
  if (!existsSync(path)) return false;
  try {
    const s = JSON.parse(readFileSync(path, 'utf8')) as { episodes?: number; solvedEpisode?: number | null; learnedEpisode?: number | null; saturatedEpisode?: number | null };
    if (m.untilSolved && typeof s.solvedEpisode === 'number') return true;
    // a dead network's run stops (SaturationWatch): resubmitting it would stop again at once
    if (typeof s.saturatedEpisode === 'number') return true;
    if (m.untilLearned && typeof s.learnedEpisode === 'number') return true;
    return typeof s.episodes === 'number' && s.episodes >= m.episodes;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------
// progress from the episode logs

/** What an agent's episodes.jsonl says so far. */
export interface AgentProgress {
  /** Last complete episode. */
  episode: number;
  /** Lowest energy so far, eV. */
  bestEnergy: number | null;
  /** First episode that built the reference. */
  firstReference: number | null;
  /** Agent time (build + evaluate + train) so far, ms. */
  ms: number;
  referenceEnergy: number | null;
  /** The episode at which its network died (SaturationWatch), or null. */
  diedEpisode: number | null;
}

/**
 * Reads an append-only episodes.jsonl incrementally. A resume truncates the
 * log to its checkpoint; a file shorter than what was read restarts the tail.
 */
export class LogTail {
  private offset = 0;
  private pending = Buffer.alloc(0);
  progress: AgentProgress = LogTail.empty();
  private saturation = new SaturationWatch();
  constructor(readonly dir: string) {}

  static empty(): AgentProgress {
    return { episode: 0, bestEnergy: null, firstReference: null, ms: 0, referenceEnergy: null, diedEpisode: null };
  }

  poll(): AgentProgress {
    const path = join(this.dir, 'episodes.jsonl');
    if (this.progress.referenceEnergy === null && existsSync(join(this.dir, 'reference.json'))) {
      try {
        const ref = JSON.parse(readFileSync(join(this.dir, 'reference.json'), 'utf8')) as { energy: number | null };
        this.progress.referenceEnergy = ref.energy;
      } catch {
        // being written: read it next time
      }
    }
    if (!existsSync(path)) return this.progress;
    const size = statSync(path).size;
    if (size < this.offset + this.pending.length) {
      const ref = this.progress.referenceEnergy;
      this.offset = 0;
      this.pending = Buffer.alloc(0);
      this.progress = { ...LogTail.empty(), referenceEnergy: ref };
      this.saturation = new SaturationWatch();
    }
    const start = this.offset + this.pending.length;
    if (size === start) return this.progress;
    const buf = Buffer.alloc(size - start);
    const fd = openSync(path, 'r');
    try {
      readSync(fd, buf, 0, buf.length, start);
    } finally {
      closeSync(fd);
    }
    const data = Buffer.concat([this.pending, buf]);
    let lineStart = 0;
    for (let i = 0; i < data.length; i++) {
      if (data[i] !== 10) continue;
      this.consume(data.subarray(lineStart, i).toString('utf8'));
      lineStart = i + 1;
    }
    this.offset += lineStart;
    this.pending = Buffer.from(data.subarray(lineStart));
    return this.progress;
  }

  private consume(line: string): void {
    let r: { episode?: number; energy?: number | null; reachedReference?: boolean; saturated?: boolean; ms?: { build: number; evaluate: number; train: number } };
    try {
      r = JSON.parse(line);
    } catch {
      return;
    }
    const p = this.progress;
    if (typeof r.episode === 'number') p.episode = r.episode;
    if (typeof r.energy === 'number' && (p.bestEnergy === null || r.energy < p.bestEnergy)) p.bestEnergy = r.energy;
    if (r.reachedReference && p.firstReference === null) p.firstReference = r.episode ?? null;
    if (r.ms) p.ms += r.ms.build + r.ms.evaluate + r.ms.train;
    if (typeof r.episode === 'number') {
      this.saturation.add({ episode: r.episode, saturated: r.saturated === true });
      p.diedEpisode = this.saturation.episode;
    }
  }
}

// ---------------------------------------------------------------------------
// running agents as local child processes

export type AgentState = 'waiting' | 'running' | 'done' | 'stopped' | 'failed';

export interface AgentSlot {
  index: number;
  dir: string;
  state: AgentState;
  pid: number | null;
  /** Exit code or signal of a failed or stopped run. */
  exit: string | null;
  tail: LogTail;
}

export type EnsembleEvent =
  | { type: 'start'; agent: AgentSlot; resumed: boolean }
  | { type: 'exit'; agent: AgentSlot };

export interface RunEnsembleOptions {
  dir: string;
  manifest: EnsembleManifest;
  parallel: number;
  onEvent?: (e: EnsembleEvent) => void;
  /** Aborting sends SIGTERM to the running agents (they stop after their episode) and starts no more. */
  signal?: AbortSignal;
  /** The node binary and asla script the agents run (default: this process's). */
  node?: string;
  script?: string;
  /** The agents' slots (from agentSlots), updated as they run; made here when not given. */
  slots?: AgentSlot[];
}

/** The pid file that marks an agent as being run by a live `asla ensemble`. */
const PID_FILE = 'ensemble.pid';

/** A pid recorded in an agent directory whose process still runs that agent, or null. */
export function liveAgentPid(agentDir: string): number | null {
  const path = join(agentDir, PID_FILE);
  if (!existsSync(path)) return null;
  const pid = Number(readFileSync(path, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0) return null;
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.includes(resolve(agentDir)) ? pid : null;
  } catch {
    try {
      process.kill(pid, 0); // no /proc: trust the pid
      return pid;
    } catch {
      return null;
    }
  }
}

export function agentSlots(dir: string, m: EnsembleManifest): AgentSlot[] {
  return Array.from({ length: m.agents }, (_, index) => {
    const agentDir = join(dir, agentDirName(index));
    return { index, dir: agentDir, state: agentDone(agentDir, m) ? 'done' : 'waiting', pid: null, exit: null, tail: new LogTail(agentDir) };
  });
}

/**
 * Runs every unfinished agent, `parallel` at a time, as `node main.js run …`
 * child processes in their own process groups (a terminal's Ctrl-C reaches only
 * the ensemble, which stops the agents once). Resolves when none is running.
 */
export async function runEnsemble(opts: RunEnsembleOptions): Promise<AgentSlot[]> {
  const { dir, manifest: m } = opts;
  const slots = opts.slots ?? agentSlots(dir, m);
  for (const s of slots) {
    const pid = s.state === 'done' ? null : liveAgentPid(s.dir);
    if (pid !== null) throw new InputError(`is still being run by process ${pid}; stop it first`, s.dir);
  }
  const node = opts.node ?? process.execPath;
  const script = opts.script ?? MAIN_SCRIPT;
  const children = new Map<number, ChildProcess>();
  const queue = slots.filter((s) => s.state !== 'done');
  let stopping = opts.signal?.aborted ?? false;

  return new Promise<AgentSlot[]>((resolveAll) => {
    const launch = () => {
      while (!stopping && children.size < opts.parallel && queue.length > 0) {
        const s = queue.shift() as AgentSlot;
        const args = agentRunArgs(dir, m, s.index);
        const resumed = args[1] === '--resume';
        mkdirSync(s.dir, { recursive: true });
        const log = openSync(join(s.dir, 'run.log'), 'a');
        const child = spawn(node, [script, ...args], { stdio: ['ignore', log, log], detached: true });
        closeSync(log);
        s.state = 'running';
        s.pid = child.pid ?? null;
        s.exit = null;
        if (s.pid !== null) writeFileSync(join(s.dir, PID_FILE), `${s.pid}\n`);
        children.set(s.index, child);
        opts.onEvent?.({ type: 'start', agent: s, resumed });
        let finished = false;
        const finish = (code: number | null, sig: NodeJS.Signals | null, error?: string) => {
          if (finished) return;
          finished = true;
          children.delete(s.index);
          s.pid = null;
          rmSync(join(s.dir, PID_FILE), { force: true });
          if (agentDone(s.dir, m)) s.state = 'done';
          else if (!error && (code === 0 || (stopping && sig !== null))) s.state = 'stopped';
          else s.state = 'failed';
          s.exit = s.state === 'done' ? null : error ?? (sig ? `killed by ${sig}` : `exit code ${code}`);
          opts.onEvent?.({ type: 'exit', agent: s });
          if (children.size === 0 && (stopping || queue.length === 0)) resolveAll(slots);
          else launch();
        };
        child.on('error', (e) => finish(null, null, e.message));
        child.on('close', (code, sig) => finish(code, sig));
      }
      if (children.size === 0) resolveAll(slots);
    };
    opts.signal?.addEventListener('abort', () => {
      stopping = true;
      for (const c of children.values()) c.kill('SIGTERM');
    });
    launch();
  });
}
