/**
 * One ASLA agent: the building, evaluation and training phases of paper Fig. 1.
 * `runEpisode` is the whole data flow of one episode, top to bottom.
 */
import { Atoms } from '../structure/atoms.js';
import { atomicNumber, symbolOf } from '../structure/elements.js';
import type { BuildingGrid, GridSymmetry } from '../grid/index.js';
import { allowedMask, gridSymmetries } from '../grid/index.js';
import type { GridShape, QNetworkSpec, TrainSample } from '../nn/index.js';
import { QNetwork, Trainer } from '../nn/index.js';
import type { Calculator, FailureKind } from '../calculators/calculator.js';
import { evaluate } from '../calculators/calculator.js';
import { Rng } from '../util/rng.js';
import type { ProblemConfig } from './problem.js';
import { allSaturated, chooseAction, randomAction, type ActionKind } from './policy.js';
import { ReplayBuffer } from './replay.js';
import { rewardsFromProperties } from './rewards.js';
import { Punishment } from './punishment.js';
import { rotateState } from './augment.js';
import { hasMotif, motifFromSymbols, type Motif } from '../structure/bonds.js';
import { builtFiveSevenBoundary, builtHoneycomb } from './presets-graphene.js';

export interface EpisodeRecord {
  episode: number;
  greedy: boolean;
  /** Actions as [channel, i0, i1] in placement order. */
  actions: [number, number, number][];
  /** How each action was chosen: g greedy, r random (ε0), n among the best ν (εν), u random policy. */
  kinds: string;
  energy: number | null;
  failure: { kind: FailureKind | 'stuck'; message: string } | null;
  /** The property P used for rewards: the energy, × (1 + λ) with the motif (eq. 5), plus punishment (eq. 4). */
  property: number | null;
  /** The structure holds the configured motif (Methods eq. 5). */
  motif?: boolean;
  /** This episode's structure became punished (Methods eq. 4). */
  punished?: boolean;
  /** Grain boundary only: the structure holds a pentagon–heptagon pair (shortest-path rings, paper Fig. 3). */
  fiveSeven?: boolean;
  /** Pristine graphene only: the structure is a honeycomb (every atom 3 bonds, only hexagons), at any grid offset. */
  honeycomb?: boolean;
  /**
   * The network's Q-values were saturated at −1 (Q ≤ −1 + SATURATION_GAP at every
   * allowed action) at half or more of the steps after the first; written only when true.
   */
  saturated?: boolean;
  bestEnergy: number | null;
  reachedReference: boolean;
  loss: number | null;
  /**
   * Wall milliseconds of the three phases, and `cpu`: this process's CPU milliseconds
   * (user + system, all threads) over the episode; a calculator's own subprocesses
   * (xtb, Python) are not in it. Older logs lack `cpu`.
   */
  ms: { build: number; evaluate: number; train: number; cpu?: number };
}

/**
 * Whether an episode solved its problem: it reached the reference (within the
 * success threshold) and, on the grain boundary, built the 5–7 boundary (the
 * paper's criterion for Fig. 3).
 */
export function episodeSolved(r: Pick<EpisodeRecord, 'reachedReference' | 'fiveSeven'>): boolean {
  return r.reachedReference && r.fiveSeven !== false;
}

/** Consecutive greedy episodes that must all solve the problem before the agent counts as having learned it. */
export const LEARNED_STREAK = 5;

/**
 * Whether the agent has learned its problem: its last LEARNED_STREAK greedy
 * episodes (every N_p-th, no ε actions) all solved it, so the network's own
 * best actions build the reference, and not once by luck. A network is worth
 * transferring from then on: graphene-edge agents transferred after their
 * first greedy ring did not build pristine graphene, agents with a run of
 * greedy rings did (README, "The edge as a teacher"). Feed the episodes in
 * order; `episode` is the one that completed the streak.
 */
export class LearnedStreak {
  private streak = 0;
  episode: number | null = null;

  add(r: Pick<EpisodeRecord, 'episode' | 'greedy' | 'reachedReference' | 'fiveSeven'>): void {
    if (this.episode !== null || !r.greedy) return;
    this.streak = episodeSolved(r) ? this.streak + 1 : 0;
    if (this.streak >= LEARNED_STREAK) this.episode = r.episode;
  }
}

/** The episode at which a log shows its problem learned (LearnedStreak), or null. */
export function learnedEpisode(records: Iterable<Pick<EpisodeRecord, 'episode' | 'greedy' | 'reachedReference' | 'fiveSeven'>>): number | null {
  const s = new LearnedStreak();
  for (const r of records) s.add(r);
  return s.episode;
}

/** Consecutive episodes with saturated Q-values after which a network counts as dead. */
export const SATURATED_STREAK = 25;

/**
 * Whether the network has died: SATURATED_STREAK episodes in a row (greedy ones
 * among them) had every allowed Q-value saturated at −1 at half or more of the
 * steps after the first; a network that learns gives its own greedy actions
 * more than the worst reward. Eq. 2's gradient carries tanh's factor 1 − Q²,
 * which is then ~0, and the batch's targets of −1 (nearly all of them, since a
 * dead network builds at random) already agree with the output: nothing brings
 * the network back (README, "Networks that die"; a grain-boundary agent ran
 * 1500 episodes that way). `episode` is the first episode of the streak.
 */
export class SaturationWatch {
  private streak = 0;
  episode: number | null = null;

  add(r: Pick<EpisodeRecord, 'episode' | 'saturated'>): void {
    if (this.episode !== null) return;
    this.streak = r.saturated === true ? this.streak + 1 : 0;
    if (this.streak >= SATURATED_STREAK) this.episode = r.episode - SATURATED_STREAK + 1;
  }
}

/** The first episode of the log's first SATURATED_STREAK saturated episodes in a row (SaturationWatch), or null. */
export function saturatedEpisode(records: Iterable<Pick<EpisodeRecord, 'episode' | 'saturated'>>): number | null {
  const w = new SaturationWatch();
  for (const r of records) w.add(r);
  return w.episode;
}

export interface AgentState {
  episode: number;
  rng: Uint32Array;
  network: ReturnType<QNetwork['serialize']> | null;
  adam: { m: Float32Array; v: Float32Array; t: number } | null;
  replay: ReturnType<ReplayBuffer['snapshot']>;
  bestEnergy: number | null;
  firstReferenceEpisode: number | null;
  /** Property of each episode before punishment (+∞: failed). */
  rawProperties: Float64Array;
  punished: number[];
}

export interface AgentSetup {
  config: ProblemConfig;
  grid: BuildingGrid;
  template: Atoms;
  calculator: Calculator;
  /** Energy of the problem's reference structure with the run's calculator, or null. */
  referenceEnergy: number | null;
}

export class Agent {
  readonly config: ProblemConfig;
  readonly grid: BuildingGrid;
  readonly template: Atoms;
  readonly calculator: Calculator;
  readonly referenceEnergy: number | null;
  /** Atomic number of each species channel (the stoichiometry's elements in order). */
  readonly species: number[];
  /** How many atoms of each channel one episode places. */
  readonly counts: Int32Array;
  readonly atomsPerStructure: number;
  readonly shape: GridShape;
  readonly net: QNetwork | null;
  readonly trainer: Trainer | null;
  readonly symmetries: GridSymmetry[];
  rng: Rng;
  replay: ReplayBuffer;
  /** Episodes completed. */
  episode = 0;
  bestEnergy: number | null = null;
  firstReferenceEpisode: number | null = null;

  readonly punishment: Punishment;
  readonly motif: Motif | null;
  /** Property of each episode before punishment, +∞ for a failed one. */
  private rawProperties: number[] = [];
  private readonly forbidden: Uint8Array;
  private readonly templateInput: Float32Array;
  private readonly spillover = new Map<number, Int32Array>();

  constructor(setup: AgentSetup) {
    const { config, grid } = setup;
    this.config = config;
    this.grid = grid;
    this.template = setup.template;
    this.calculator = setup.calculator;
    this.referenceEnergy = setup.referenceEnergy;
    this.species = Object.keys(config.stoichiometry).map((s) => atomicNumber(s));
    this.counts = Int32Array.from(Object.values(config.stoichiometry));
    this.atomsPerStructure = this.template.length + this.counts.reduce((a, b) => a + b, 0);
    this.shape = { n0: grid.n0, n1: grid.n1, periodic: [grid.periodic[0], grid.periodic[1]] };
    this.forbidden = new Uint8Array(grid.size);
    for (const [i0, i1] of config.forbidden) this.forbidden[i0 * grid.n1 + i1] = 1;
    this.templateInput = grid.encode(this.templateOnPlane(), this.species);
    this.rng = new Rng(config.run.seed);
    const finalNumbers = [...this.template.numbers];
    this.species.forEach((z, c) => finalNumbers.push(...new Array(this.counts[c]).fill(z)));
    this.punishment = new Punishment(config.punishment, finalNumbers, this.atomsPerStructure);
    this.motif = config.motif ? motifFromSymbols(config.motif.center, config.motif.neighbors, { where: 'field motif' }) : null;
    this.replay = new ReplayBuffer(this.species.length * grid.size);
    const all = gridSymmetries(grid);
    const n = config.training.symmetryCopies === 'all' ? all.length : Math.min(all.length, config.training.symmetryCopies);
    this.symmetries = all.slice(0, n);
    if (config.run.policy === 'asla') {
      this.net = QNetwork.create(networkSpec(config, grid, this.species.length), this.rng);
      // training.threads ≥ 2 also splits each forward pass (rows and frequencies) over a worker; results equal one thread's
      this.net.setForwardThreads(config.training.threads);
      this.trainer = new Trainer(this.net, {
        learningRate: config.training.learningRate,
        threads: config.training.threads,
        lossForm: config.training.lossForm,
      });
    } else {
      this.net = null;
      this.trainer = null;
    }
  }

  /** Greedy episodes: every Np-th (Methods "Search policy"), counting from 1. */
  isGreedyEpisode(episode: number): boolean {
    const np = this.config.policy.greedyEvery;
    return np > 0 && episode % np === 0;
  }

  /** One episode: building, evaluation, training (paper Fig. 1). */
  async runEpisode(): Promise<{ record: EpisodeRecord; structure: Atoms }> {
    const episode = this.episode + 1;
    const greedy = this.isGreedyEpisode(episode);

    // Building phase: place the stoichiometry's atoms one at a time.
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const build = this.newBuild();
    const actions: number[] = [];
    let kinds = '';
    let stuck = false;
    // steps after the first whose allowed Q-values were all saturated (a dead network, SaturationWatch)
    let saturatedSteps = 0;
    const q = new Float32Array(build.input.length);
    while (actions.length < build.total) {
      const allowed = this.allowedActions(build);
      let action: number;
      let kind: ActionKind | 'uniform';
      if (this.net) {
        this.net.forward(build.input, this.shape, q);
        if (actions.length > 0 && allSaturated(q, allowed)) saturatedSteps++;
        ({ action, kind } = chooseAction(q, allowed, this.config.policy, greedy, this.rng));
      } else {
        action = randomAction(allowed, this.rng);
        kind = 'uniform';
      }
      if (action < 0) {
        stuck = true; // no allowed place is left for any remaining atom
        break;
      }
      this.place(build, action);
      actions.push(action);
      kinds += kind === 'greedy' ? 'g' : kind === 'random' ? 'r' : kind === 'nu' ? 'n' : 'u';
    }
    const structure = this.structureOf(build);
    const t1 = performance.now();

    // Evaluation phase: the property P of the final structure.
    let energy: number | null = null;
    let failure: EpisodeRecord['failure'] = null;
    if (stuck) {
      failure = { kind: 'stuck', message: `no allowed action after ${actions.length} of ${build.total} atoms` };
    } else {
      const result = await evaluate(this.calculator, structure);
      if (result.ok) energy = result.energy;
      else failure = { kind: result.kind, message: result.message };
    }
    // P = E·f(s) (Methods eq. 5); a failed evaluation gets the worst reward
    const motif = energy !== null && this.motif !== null ? hasMotif(structure, this.motif) : undefined;
    // eq. 5 scales the energy relative to the free atoms (the paper's GPAW energies are): (E − E_atoms)(1 + λ) + E_atoms
    const atomsEnergy = motif ? await this.freeAtomsEnergy() : 0;
    const raw = energy === null ? Infinity : motif ? (energy - atomsEnergy) * (1 + this.config.motif!.lambda) + atomsEnergy : energy;
    // punishment of repeated structures (Methods eq. 4) re-scores the whole buffer when it grows
    const e = this.replay.episodes;
    this.rawProperties.push(raw);
    const punished = this.punishment.observe(e, energy === null ? null : structure);
    const property = this.punishment.property(e, raw);
    const t2 = performance.now();

    // Training phase: remember the episode, then Adam steps on batches from the replay buffer.
    this.replay.add(actions, property);
    if (punished) this.replay.setProperties(this.rawProperties.map((r, i) => this.punishment.property(i, r)));
    let loss: number | null = null;
    if (this.trainer) {
      for (let s = 0; s < this.config.training.stepsPerEpisode; s++) {
        loss = await this.trainer.step(this.trainingBatch(), this.shape);
      }
    }
    const t3 = performance.now();
    const cpu = process.cpuUsage(cpu0);

    this.episode = episode;
    if (energy !== null && (this.bestEnergy === null || energy < this.bestEnergy)) this.bestEnergy = energy;
    const reached = energy !== null && this.reachesReference(energy);
    const fiveSeven = energy !== null && this.config.success.reference === 'grain-boundary' ? builtFiveSevenBoundary(structure) : undefined;
    const honeycomb = energy !== null && this.config.success.reference === 'graphene' ? builtHoneycomb(structure) : undefined;
    if (reached && this.firstReferenceEpisode === null) this.firstReferenceEpisode = episode;
    const record: EpisodeRecord = {
      episode,
      greedy,
      actions: actions.map((a) => this.decodeAction(a)),
      kinds,
      energy,
      failure,
      property: Number.isFinite(property) ? property : null,
      ...(motif !== undefined ? { motif } : {}),
      ...(punished ? { punished } : {}),
      ...(fiveSeven !== undefined ? { fiveSeven } : {}),
      ...(honeycomb !== undefined ? { honeycomb } : {}),
      ...(actions.length > 1 && 2 * saturatedSteps >= actions.length - 1 ? { saturated: true } : {}),
      bestEnergy: this.bestEnergy,
      reachedReference: reached,
      loss,
      ms: { build: round(t1 - t0), evaluate: round(t2 - t1), train: round(t3 - t2), cpu: round((cpu.user + cpu.system) / 1000) },
    };
    structure.info.episode = episode;
    if (energy !== null) structure.info.energy = energy;
    return { record, structure };
  }

  private atomsEnergyCache: number | null = null;

  /**
   * Sum of the energies of the final structure's atoms, each alone in the
   * problem's cell, with the run's calculator (0 for Tersoff; for xtb the total
   * energies of the free atoms). Methods eq. 5 multiplies an energy that is 0 for
   * separated atoms; a code whose total energies carry large atomic parts (xtb:
   * ~−450 eV for C3H4O2 against ~−55 eV of binding) needs them subtracted, or
   * λ = 0.2 would outweigh every energy difference between molecules.
   */
  async freeAtomsEnergy(): Promise<number> {
    if (this.atomsEnergyCache !== null) return this.atomsEnergyCache;
    const numbers = [...this.template.numbers];
    this.species.forEach((z, c) => numbers.push(...new Array<number>(this.counts[c]).fill(z)));
    const center = this.grid.position(Math.floor(this.grid.size / 2) + Math.floor(this.grid.n1 / 2));
    const perElement = new Map<number, number>();
    let sum = 0;
    for (const z of numbers) {
      if (!perElement.has(z)) {
        const atom = new Atoms({ numbers: [z], positions: [center[0], center[1], center[2]], cell: this.config.cell.flat(), pbc: this.config.pbc });
        const r = await evaluate(this.calculator, atom);
        if (!r.ok) throw new Error(`the energy of a free ${symbolOf(z)} atom (needed for the motif of Methods eq. 5) failed: ${r.message}`);
        perElement.set(z, r.energy);
      }
      sum += perElement.get(z)!;
    }
    this.atomsEnergyCache = sum;
    return sum;
  }

  reachesReference(energy: number): boolean {
    if (this.referenceEnergy === null) return false;
    return energy <= this.referenceEnergy + this.config.success.threshold * this.atomsPerStructure;
  }

  /**
   * The training batch (Methods "Neural network training"): N_batch episode
   * steps with rewards from their properties, each augmented by the grid's
   * exact symmetries (and ±1-pixel action shifts when configured), with the
   * spillover cells of Methods eq. 2 around each action.
   */
  trainingBatch(): TrainSample[] {
    const cfg = this.config.training;
    const steps = this.replay.sampleBatch(cfg.batchSize, this.rng);
    const rewards = rewardsFromProperties(Float64Array.from(steps, (s) => s.property), {
      deltaE: cfg.deltaE,
      atoms: this.atomsPerStructure,
    });
    const size = this.grid.size;
    const samples: TrainSample[] = [];
    const stateInput = new Float32Array(this.templateInput.length);
    steps.forEach((s, i) => {
      const acts = this.replay.episodeActions(s.episode);
      stateInput.set(this.templateInput);
      for (let t = 0; t < s.step; t++) stateInput[acts[t]] = 1;
      const action = acts[s.step];
      const channel = Math.floor(action / size);
      for (const sym of this.symmetries) {
        const input = new Float32Array(stateInput.length);
        for (let c = 0; c < this.species.length; c++) {
          const off = c * size;
          for (let p = 0; p < size; p++) if (stateInput[off + p] !== 0) input[off + sym.map[p]] = stateInput[off + p];
        }
        const p = sym.map[action - channel * size];
        const targets = cfg.pixelShift ? [p, ...this.pixelNeighbours(p)] : [p];
        for (const pt of targets) samples.push(this.sample(input, channel, pt, rewards[i]));
      }
      for (let r = 0; r < cfg.rotations; r++) {
        const input = new Float32Array(stateInput.length);
        const p = action - channel * size;
        rotateState(this.grid, stateInput, this.species.length, p, this.rng.next() * 2 * Math.PI, this.rotationWindow, input);
        samples.push(this.sample(input, channel, p, rewards[i]));
      }
    });
    return samples;
  }

  /** Radius kept around the action in rotated copies: half the shortest periodic cell length by default. */
  get rotationWindow(): number {
    const w = this.config.training.rotationWindow;
    if (w !== null) return w;
    const g = this.grid;
    const lengths: number[] = [];
    if (g.periodic[0]) lengths.push(Math.hypot(g.step[0], g.step[1]) * g.n0);
    if (g.periodic[1]) lengths.push(Math.hypot(g.step[2], g.step[3]) * g.n1);
    return lengths.length ? Math.min(...lengths) / 2 : Infinity;
  }

  private sample(input: Float32Array, channel: number, p: number, target: number): TrainSample {
    const cfg = this.config.training;
    let cached = this.spillover.get(p);
    if (!cached) {
      cached = cfg.spilloverRadius > 0 && cfg.spilloverWeight > 0 ? this.grid.pointsWithin(p, cfg.spilloverRadius) : Int32Array.of(p);
      this.spillover.set(p, cached);
    }
    const around = cached;
    const off = channel * this.grid.size;
    const cells = new Int32Array(around.length);
    const weights = new Float32Array(around.length);
    for (let k = 0; k < around.length; k++) {
      cells[k] = off + around[k];
      weights[k] = around[k] === p ? 1 : cfg.spilloverWeight;
    }
    return { input, cells, weights, target };
  }

  /** The four grid points one pixel away along each axis (the AgO augmentation). */
  private pixelNeighbours(p: number): number[] {
    const i0 = Math.floor(p / this.grid.n1);
    const i1 = p % this.grid.n1;
    const out: number[] = [];
    for (const [d0, d1] of [[1, 0], [-1, 0], [0, 1], [0, -1]]) {
      const q = this.grid.indexOf(i0 + d0, i1 + d1);
      if (q >= 0 && !this.forbidden[q]) out.push(q);
    }
    return out;
  }

  decodeAction(a: number): [number, number, number] {
    const c = Math.floor(a / this.grid.size);
    const p = a - c * this.grid.size;
    return [c, Math.floor(p / this.grid.n1), p % this.grid.n1];
  }

  encodeAction(c: number, i0: number, i1: number): number {
    return c * this.grid.size + i0 * this.grid.n1 + i1;
  }

  // ---- the build in progress ----

  newBuild(): Build {
    return {
      numbers: Array.from(this.template.numbers),
      positions: Array.from(this.template.positions),
      remaining: Int32Array.from(this.counts),
      input: Float32Array.from(this.templateInput),
      total: this.counts.reduce((a, b) => a + b, 0),
    };
  }

  /** Allowed actions: channels with atoms left × grid points passing c1/c2 and not forbidden. */
  allowedActions(build: Build): Uint8Array {
    const size = this.grid.size;
    const allowed = new Uint8Array(this.species.length * size);
    const atoms = this.atomsOf(build);
    for (let c = 0; c < this.species.length; c++) {
      if (build.remaining[c] <= 0) continue;
      const mask = allowedMask(this.grid, atoms, this.species[c], {
        c1: this.config.c1,
        c2: this.config.c2 ?? undefined,
        forbidden: this.forbidden,
      });
      allowed.set(mask, c * size);
    }
    return allowed;
  }

  place(build: Build, action: number): void {
    const [c] = this.decodeAction(action);
    const p = action - c * this.grid.size;
    const pos = this.grid.position(p);
    build.numbers.push(this.species[c]);
    build.positions.push(pos[0], pos[1], pos[2]);
    build.remaining[c]--;
    build.input[action] = 1;
  }

  /**
   * Whether the stoichiometry fits: random builds (with their own generator, so
   * the run's random sequence is untouched) until one places every atom.
   * Returns the most atoms placed when none of `tries` builds completes.
   */
  feasibility(tries = 50): { ok: boolean; placed: number } {
    const rng = new Rng(0x5eed);
    let most = 0;
    for (let i = 0; i < tries; i++) {
      const build = this.newBuild();
      let placed = 0;
      while (placed < build.total) {
        const a = randomAction(this.allowedActions(build), rng);
        if (a < 0) break;
        this.place(build, a);
        placed++;
      }
      if (placed === build.total) return { ok: true, placed };
      most = Math.max(most, placed);
    }
    return { ok: false, placed: most };
  }

  /** Rebuilds the structure of an episode from its actions (template first). */
  structureFromActions(actions: ArrayLike<number>): Atoms {
    const build = this.newBuild();
    for (let t = 0; t < actions.length; t++) this.place(build, actions[t]);
    return this.structureOf(build);
  }

  private atomsOf(build: Build): Atoms {
    const c = this.config;
    return new Atoms({ numbers: build.numbers, positions: build.positions, cell: c.cell.flat(), pbc: c.pbc });
  }

  private structureOf(build: Build): Atoms {
    const atoms = this.atomsOf(build);
    atoms.fixed.fill(1, 0, this.template.length);
    return atoms;
  }

  private templateOnPlane(): Atoms {
    // template atoms of elements the agent does not place are not encoded (grid.encode skips off-plane atoms)
    const keep: number[] = [];
    // on-plane template atoms outside the grid region (the grain boundary's outer sheets) are not seen by the network either; they still enter masks and energies
    const outside = (i: number) => Math.abs(this.template.positions[3 * i + 2] - this.grid.z) <= this.grid.planeTolerance && this.grid.nearest(this.template.positions[3 * i], this.template.positions[3 * i + 1]).index < 0;
    for (let i = 0; i < this.template.length; i++) if (this.species.includes(this.template.numbers[i]) && !outside(i)) keep.push(i);
    return new Atoms({
      numbers: keep.map((i) => this.template.numbers[i]),
      positions: keep.flatMap((i) => this.template.position(i)),
      cell: this.template.cell,
      pbc: this.template.pbc,
    });
  }

  // ---- state for checkpoints ----

  getState(): AgentState {
    return {
      episode: this.episode,
      rng: this.rng.state(),
      network: this.net ? this.net.serialize() : null,
      adam: this.trainer ? this.trainer.state() : null,
      replay: this.replay.snapshot(),
      bestEnergy: this.bestEnergy,
      firstReferenceEpisode: this.firstReferenceEpisode,
      rawProperties: Float64Array.from(this.rawProperties),
      punished: [...this.punishment.punished],
    };
  }

  setState(s: AgentState): void {
    this.episode = s.episode;
    this.rng = new Rng(s.rng);
    if (this.net) {
      if (!s.network || !s.adam) throw new Error('checkpoint has no network state for an ASLA agent');
      const restored = QNetwork.deserialize(s.network);
      this.net.params.set(restored.params);
      this.trainer!.setState(s.adam);
    }
    this.replay = ReplayBuffer.restore(this.species.length * this.grid.size, s.replay);
    this.rawProperties = Array.from(s.rawProperties);
    if (this.config.punishment.enabled) {
      for (let e = 0; e < this.rawProperties.length; e++) {
        const ok = Number.isFinite(this.rawProperties[e]);
        this.punishment.record(e, ok ? this.structureFromActions(this.replay.episodeActions(e)) : null);
      }
    }
    this.punishment.restorePunished(s.punished);
    this.bestEnergy = s.bestEnergy;
    this.firstReferenceEpisode = s.firstReferenceEpisode;
  }

  async close(): Promise<void> {
    await this.trainer?.close();
    await this.net?.close();
  }
}

export interface Build {
  numbers: number[];
  positions: number[];
  remaining: Int32Array;
  input: Float32Array;
  total: number;
}

/** The paper's network for a problem: kernels span filterWidth Å along each grid axis (odd sizes). */
export function networkSpec(config: ProblemConfig, grid: BuildingGrid, species: number): QNetworkSpec {
  const [d0, d1] = grid.spacing;
  const odd = (w: number, d: number) => {
    const k = Math.round(w / d);
    return k % 2 === 1 ? k : k + 1;
  };
  return {
    species,
    filters: config.network.filters,
    kernel: [odd(config.network.filterWidth, d0), odd(config.network.filterWidth, d1)],
    bias: config.network.bias,
    leakySlope: config.network.leakySlope,
  };
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
