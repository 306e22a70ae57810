/**
 * Reading a run directory (src/search/run.ts) for pictures, and replaying the
 * build of an episode from its recorded actions with the Q-values of a stored
 * network. A directory holding no run but subdirectories that are runs is an
 * ensemble; each subdirectory is one agent.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Agent, type EpisodeRecord } from '../agent/agent.js';
import { PRESETS, templateAtoms } from '../agent/presets.js';
import { mergeConfig, validateProblem, type ProblemConfig } from '../agent/problem.js';
import { TersoffCalculator } from '../calculators/tersoff.js';
import { BuildingGrid } from '../grid/index.js';
import type { QNetwork } from '../nn/index.js';
import type { Atoms } from '../structure/atoms.js';
import { readExtxyz } from '../structure/extxyz.js';
import { InputError } from '../util/errors.js';
import { readJsonFile } from '../util/json-file.js';
import type { BuildStep, PictureContext } from './pictures.js';
import { nearestNetworkSnapshot, type NetworkSnapshot } from '../search/snapshots.js';

export function isRunDir(dir: string): boolean {
  return existsSync(join(dir, 'config.json'));
}

/** The agents of a directory: itself when it is a run, else its subdirectories that are runs (sorted by name). */
export function agentDirs(dir: string): string[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new InputError('not a directory', dir);
  if (isRunDir(dir)) return [dir];
  const subs = readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && isRunDir(join(dir, d.name)))
    .map((d) => d.name)
    .sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
  if (subs.length === 0) throw new InputError('neither a run directory (no config.json) nor an ensemble of runs (no subdirectory with config.json)', dir);
  return subs.map((s) => join(dir, s));
}

export function readRunConfig(dir: string): ProblemConfig {
  const path = join(dir, 'config.json');
  const raw = readJsonFile(path);
  try {
    return validateProblem(raw, path);
  } catch (e) {
    // a run written before a config field existed: its preset supplies the field's default
    const name = (raw as { name?: unknown } | null)?.name;
    if (!(e instanceof InputError) || typeof name !== 'string' || !(name in PRESETS)) throw e;
    try {
      return validateProblem(mergeConfig(structuredClone(PRESETS[name]), raw), path);
    } catch {
      throw e;
    }
  }
}

/**
 * The episode records of a run. A partial last line (the run is writing it, or
 * was killed while writing) is skipped; a bad complete line is an InputError.
 */
export function readEpisodes(dir: string): EpisodeRecord[] {
  const path = join(dir, 'episodes.jsonl');
  if (!existsSync(path)) return [];
  const text = readFileSync(path, 'utf8');
  const lines = text.split('\n');
  const out: EpisodeRecord[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === '') continue;
    const last = i === lines.length - 1; // no newline after it: still being written
    let rec: EpisodeRecord;
    try {
      rec = JSON.parse(line) as EpisodeRecord;
    } catch (e) {
      if (last) break;
      throw new InputError(`line ${i + 1}: ${(e as Error).message.split('\n')[0]}`, path);
    }
    if (last) break;
    if (typeof rec.episode !== 'number' || !Array.isArray(rec.actions)) {
      throw new InputError(`line ${i + 1}: not an episode record (fields episode, actions)`, path);
    }
    out.push(rec);
  }
  return out;
}

export interface RunData {
  dir: string;
  name: string;
  config: ProblemConfig;
  episodes: EpisodeRecord[];
  /** Atoms per finished structure (template + placed). */
  atomsPerStructure: number;
  referenceEnergy: number | null;
  best: Atoms | null;
  reference: Atoms | null;
  summary: Record<string, unknown> | null;
}

function readOptionalExtxyz(path: string): Atoms | null {
  if (!existsSync(path)) return null;
  const frames = readExtxyz(path);
  return frames.length > 0 ? frames[frames.length - 1] : null;
}

export function loadRun(dir: string): RunData {
  const config = readRunConfig(dir);
  const placed = Object.values(config.stoichiometry).reduce((a, b) => a + b, 0);
  let referenceEnergy: number | null = null;
  const refPath = join(dir, 'reference.json');
  if (existsSync(refPath)) {
    try {
      referenceEnergy = (JSON.parse(readFileSync(refPath, 'utf8')) as { energy: number | null }).energy ?? null;
    } catch (e) {
      throw new InputError(`cannot parse: ${(e as Error).message.split('\n')[0]}`, refPath);
    }
  }
  let summary: Record<string, unknown> | null = null;
  if (existsSync(join(dir, 'summary.json'))) {
    try {
      summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
    } catch {
      summary = null; // being rewritten: the episodes tell the same
    }
  }
  return {
    dir,
    name: basename(dir),
    config,
    episodes: readEpisodes(dir),
    atomsPerStructure: config.template.length + placed,
    referenceEnergy,
    best: readOptionalExtxyz(join(dir, 'best.extxyz')),
    reference: readOptionalExtxyz(join(dir, 'reference.extxyz')),
    summary,
  };
}

/**
 * Replays builds of a run's problem: an Agent built from the run's config gives
 * the template, the allowed actions and the placements exactly as during the
 * run (no logic is duplicated here); a stored network gives the Q-values.
 */
export class BuildReplayer {
  readonly agent: Agent;
  readonly context: PictureContext;
  readonly templateCount: number;

  constructor(config: ProblemConfig) {
    const cfg: ProblemConfig = structuredClone(config);
    cfg.training.threads = 1; // no training here: no worker threads
    const grid = new BuildingGrid({ cell: cfg.cell, ...cfg.grid });
    // the calculator is never called: replay only builds
    this.agent = new Agent({ config: cfg, grid, template: templateAtoms(cfg), calculator: TersoffCalculator.default(), referenceEnergy: null });
    this.context = { grid, species: this.agent.species };
    this.templateCount = this.agent.template.length;
  }

  /**
   * The steps of a build from its actions [channel, i0, i1]: for step t the
   * structure before action t, the allowed actions and (with a network) the
   * Q-values the network gives that state. With `only`, just that step.
   */
  steps(record: Pick<EpisodeRecord, 'actions' | 'kinds'>, net: QNetwork | null, only?: number): BuildStep[] {
    const a = this.agent;
    const build = a.newBuild();
    const total = record.actions.length;
    const out: BuildStep[] = [];
    const placed: number[] = [];
    for (let t = 0; t <= total; t++) {
      const action = t < total ? (record.actions[t] as [number, number, number]) : null;
      if (only === undefined || only === t) {
        const allowed = a.allowedActions(build);
        const q = net ? net.forward(build.input, a.shape) : null;
        out.push({
          step: t,
          total,
          atoms: a.structureFromActions(placed),
          templateCount: this.templateCount,
          q: q ? Float32Array.from(q) : null,
          allowed,
          action: action ? [action[0], action[1], action[2]] : null,
          kind: action ? record.kinds?.[t] ?? null : null,
        });
      }
      if (!action) break;
      const code = a.encodeAction(action[0], action[1], action[2]);
      if (action[0] < 0 || action[0] >= a.species.length || code < 0 || code >= a.species.length * a.grid.size) {
        throw new InputError(`action ${t + 1} ${JSON.stringify(action)} lies outside the ${a.species.length}×${a.grid.n0}×${a.grid.n1} action space`);
      }
      a.place(build, code);
      placed.push(code);
    }
    return out;
  }

  /** The finished structure of a build. */
  structure(record: Pick<EpisodeRecord, 'actions'>): Atoms {
    return this.agent.structureFromActions(record.actions.map(([c, i0, i1]) => this.agent.encodeAction(c, i0, i1)));
  }
}

/** The network for Q-maps of `episode` of a run, and a note saying which it is. */
export function networkFor(dir: string, config: ProblemConfig, episode: number): { snapshot: NetworkSnapshot | null; note: string } {
  if (config.run.policy !== 'asla') return { snapshot: null, note: 'random policy: no Q-values; the map shows the allowed actions' };
  const snapshot = nearestNetworkSnapshot(dir, episode);
  if (!snapshot) return { snapshot: null, note: 'no network stored (no checkpoint or snapshots): allowed actions only' };
  const exact = snapshot.episode === episode - 1;
  return {
    snapshot,
    note: exact
      ? `Q-values of the network that built episode ${episode} (after ${snapshot.episode} episodes, from ${snapshot.source === 'checkpoint' ? 'checkpoint.json' : 'networks.jsonl'})`
      : `Q-values of the network after episode ${snapshot.episode} (${snapshot.source === 'checkpoint' ? 'checkpoint.json' : 'networks.jsonl'}), the stored one nearest to episode ${episode}'s — actions may differ from the recorded ones`,
  };
}

export function findEpisode(run: RunData, episode: number): EpisodeRecord {
  const rec = run.episodes.find((r) => r.episode === episode);
  if (!rec) {
    const n = run.episodes.length;
    throw new InputError(`has no episode ${episode} (episodes ${n ? `1..${run.episodes[n - 1].episode}` : 'none yet'})`, join(run.dir, 'episodes.jsonl'));
  }
  return rec;
}
