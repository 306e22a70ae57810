/**
 * A problem: what the agent builds (cell, grid, template, stoichiometry), how it
 * searches (Methods "Search policy") and how it learns (Methods "Neural network
 * training"). Presets carry the paper's Extended Data Table 1; a user config
 * (YAML or JSON) starts from a preset or from scratch and overrides fields.
 *
 * Every field is validated with an error that names it; unknown keys are errors.
 */
import { InputError } from '../util/errors.js';
import { LOSS_FORMS, type LossForm } from '../nn/index.js';

export interface TemplateAtom {
  symbol: string;
  position: [number, number, number];
}

export interface ProblemConfig {
  name: string;
  /** Rows are the cell vectors a, b, c in Å; c carries the vacuum for 2D sheets. */
  cell: [[number, number, number], [number, number, number], [number, number, number]];
  pbc: [boolean, boolean, boolean];
  grid: {
    /** Points along cell vector a (axis 0) and b (axis 1). */
    shape: [number, number];
    periodic: [boolean, boolean];
    /** Å per step along non-periodic axes (periodic axes span the cell). */
    spacing?: [number, number];
    /** Cartesian (x, y) of grid point (0, 0); default: cell origin, or a centred region. */
    origin?: [number, number];
    /** Height of the building plane, Å. */
    z: number;
  };
  /** Atoms present before the first action (Methods: the template s_1). */
  template: TemplateAtom[];
  /** Elements the agent places and how many of each, e.g. {C: 23}. */
  stoichiometry: Record<string, number>;
  /** Grid points never allowed, as [i0, i1] pairs. */
  forbidden: [number, number][];
  /** Minimum distance factor: no atom closer than c1 × mean covalent radius of the pair. */
  c1: number;
  /** Maximum distance factor (C3H4O2), or null for none. */
  c2: number | null;
  policy: {
    /** ε: probability of a non-greedy action; ε = ε0 + εν (Extended Data Fig. 8). */
    epsilon: number;
    /** εν: probability of a random action among the best ν fraction of Q-values. */
    epsilonNu: number;
    /** ν: the selectivity fraction. */
    nu: number;
    /** Every Np-th episode is built fully greedily (Np = 5). */
    greedyEvery: number;
  };
  network: {
    /** Physical filter width, Å: 3 Å at 0.2 Å spacing gives 15×15 kernels. */
    filterWidth: number;
    filters: number[];
    bias: boolean;
    leakySlope: number;
  };
  training: {
    /** N_batch: episode steps per batch before augmentation. */
    batchSize: number;
    learningRate: number;
    /** ΔE (eV/atom): properties more than ΔE × N_atoms above the batch's best get reward −1; null: plain min–max scaling. */
    deltaE: number | null;
    /** r_spillover, Å (Methods eq. 2). */
    spilloverRadius: number;
    /** η_j, the spillover weight (Methods eq. 2). */
    spilloverWeight: number;
    /** 'eq2': the square of the summed residuals, as Methods eq. 2 is written; 'sum-of-squares': each cell's residual squared; 'cross-entropy': a loss whose gradient does not vanish at saturated tanh outputs (nn/engine.ts LossForm). */
    lossForm: LossForm;
    /** Exact grid symmetries used as augmented copies of each sample (Extended Data Fig. 9); 'all' or a count (identity first). */
    symmetryCopies: 'all' | number;
    /** Copies of each sample rotated by a random angle about its action point (Extended Data Fig. 9). */
    rotations: number;
    /** Radius (Å) around the action kept in rotated copies; null: half the shortest periodic cell length (the whole region otherwise). */
    rotationWindow: number | null;
    /** ±1-pixel copies of the action (the AgO case: grid coarser than r_spillover). */
    pixelShift: boolean;
    /** Adam steps per episode. */
    stepsPerEpisode: number;
    /** Worker threads for the training step. */
    threads: number;
  };
  /** Exploration via punishment of repeated structures (Methods eq. 4). */
  punishment: {
    enabled: boolean;
    /** A, eV per atom of the structure. */
    amplitude: number;
    /** σ in bag-of-bonds units (e²/Å). */
    sigma: number;
    /** Bag-of-bonds distance below which two final structures are the same. */
    sameDistance: number;
    /** A structure built this many times within the last `window` episodes is punished. */
    repeats: number;
    window: number;
  };
  /** Property modification (Methods eq. 5): P = E·(1 + λ) when the structure holds the motif. */
  motif: {
    /** Element at the centre of the motif, e.g. 'C'. */
    center: string;
    /** Minimum counts of bonded neighbour elements, e.g. {C: 1, O: 2}. */
    neighbors: Record<string, number>;
    lambda: number;
  } | null;
  calculator: {
    name: string;
    /** Calculator-specific options (e.g. Tersoff parameter file). */
    options: Record<string, unknown>;
    /** Generic timeout of one evaluation, ms: a calculator that does not answer fails as 'timeout' (absent or null: none). */
    timeoutMs?: number | null;
  };
  success: {
    /** Built-in reference structure that decides success ('graphene': the perfect sheet snapped to the grid), or null. */
    reference: 'graphene' | 'graphene-edge' | 'grain-boundary' | 'ag12o6' | null;
    /** eV/atom above the reference energy that still counts as built. */
    threshold: number;
  };
  run: {
    episodes: number;
    seed: number;
    checkpointEvery: number;
    policy: 'asla' | 'random';
  };
  /**
   * Transfer learning (src/agent/transfer.ts): start from the trained network
   * of the run in `from` (weights only). A new run records the source's
   * episode count in `episode`. Optional; absent or null: tabula rasa.
   */
  transfer?: { from: string | null; episode?: number } | null;
}

type Checker = (value: unknown, path: string) => unknown;

const num = (opts: { min?: number; max?: number; int?: boolean; gt?: number } = {}): Checker => (v, path) => {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new InputError(`must be a number, got ${show(v)}`, path);
  if (opts.int && !Number.isInteger(v)) throw new InputError(`must be an integer, got ${v}`, path);
  if (opts.min !== undefined && v < opts.min) throw new InputError(`must be ≥ ${opts.min}, got ${v}`, path);
  if (opts.gt !== undefined && v <= opts.gt) throw new InputError(`must be > ${opts.gt}, got ${v}`, path);
  if (opts.max !== undefined && v > opts.max) throw new InputError(`must be ≤ ${opts.max}, got ${v}`, path);
  return v;
};
const bool: Checker = (v, path) => {
  if (typeof v !== 'boolean') throw new InputError(`must be true or false, got ${show(v)}`, path);
  return v;
};
const str: Checker = (v, path) => {
  if (typeof v !== 'string' || v.length === 0) throw new InputError(`must be a non-empty string, got ${show(v)}`, path);
  return v;
};
const oneOf = (...allowed: string[]): Checker => (v, path) => {
  if (typeof v !== 'string' || !allowed.includes(v)) throw new InputError(`must be one of ${allowed.join(', ')}, got ${show(v)}`, path);
  return v;
};
const nullable = (c: Checker): Checker => (v, path) => (v === null ? null : c(v, path));
const tuple = (...items: Checker[]): Checker => (v, path) => {
  if (!Array.isArray(v) || v.length !== items.length) throw new InputError(`must be a list of ${items.length} entries, got ${show(v)}`, path);
  return v.map((x, i) => items[i](x, `${path}[${i}]`));
};
const list = (item: Checker, minLength = 0): Checker => (v, path) => {
  if (!Array.isArray(v)) throw new InputError(`must be a list, got ${show(v)}`, path);
  if (v.length < minLength) throw new InputError(`must have at least ${minLength} entries`, path);
  return v.map((x, i) => item(x, `${path}[${i}]`));
};
const record = (value: Checker): Checker => (v, path) => {
  if (!isPlainObject(v)) throw new InputError(`must be a mapping, got ${show(v)}`, path);
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = value(x, `${path}.${k}`);
  return out;
};
const anyRecord: Checker = (v, path) => {
  if (!isPlainObject(v)) throw new InputError(`must be a mapping, got ${show(v)}`, path);
  return v;
};
const object = (shape: Record<string, Checker>, optional: string[] = []): Checker => (v, path) => {
  if (!isPlainObject(v)) throw new InputError(`must be a mapping, got ${show(v)}`, path);
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v)) {
    if (!(k in shape)) throw new InputError(`unknown key (allowed: ${Object.keys(shape).join(', ')})`, join(path, k));
  }
  for (const [k, c] of Object.entries(shape)) {
    if (!(k in v) || v[k] === undefined) {
      if (optional.includes(k)) continue;
      throw new InputError('is missing', join(path, k));
    }
    out[k] = c(v[k], join(path, k));
  }
  return out;
};
const symmetryCopies: Checker = (v, path) => (v === 'all' ? v : num({ int: true, min: 1 })(v, path));

const vec3 = tuple(num(), num(), num());
const schema = object({
  name: str,
  cell: tuple(vec3, vec3, vec3),
  pbc: tuple(bool, bool, bool),
  grid: object(
    {
      // upper bounds keep absurd values from reaching array allocation (a RangeError, not a one-line error); the paper's grids are ≤ 50 points
      shape: tuple(num({ int: true, min: 1, max: 1000 }), num({ int: true, min: 1, max: 1000 })),
      periodic: tuple(bool, bool),
      spacing: tuple(num({ gt: 0 }), num({ gt: 0 })),
      origin: tuple(num(), num()),
      z: num(),
    },
    ['spacing', 'origin'],
  ),
  template: list(object({ symbol: str, position: vec3 })),
  stoichiometry: record(num({ int: true, min: 0, max: 10000 })),
  forbidden: list(tuple(num({ int: true, min: 0 }), num({ int: true, min: 0 }))),
  c1: num({ min: 0 }),
  c2: nullable(num({ gt: 0 })),
  policy: object({
    epsilon: num({ min: 0, max: 1 }),
    epsilonNu: num({ min: 0, max: 1 }),
    nu: num({ min: 0, max: 1 }),
    greedyEvery: num({ int: true, min: 0 }),
  }),
  network: object({
    filterWidth: num({ gt: 0, max: 100 }),
    filters: list(num({ int: true, min: 1, max: 4096 }), 1),
    bias: bool,
    leakySlope: num({ min: 0, max: 1 }),
  }),
  training: object({
    batchSize: num({ int: true, min: 1, max: 1000000 }),
    learningRate: num({ gt: 0 }),
    deltaE: nullable(num({ gt: 0 })),
    spilloverRadius: num({ min: 0 }),
    spilloverWeight: num({ min: 0 }),
    lossForm: oneOf(...LOSS_FORMS),
    symmetryCopies,
    rotations: num({ int: true, min: 0 }),
    rotationWindow: nullable(num({ gt: 0 })),
    pixelShift: bool,
    stepsPerEpisode: num({ int: true, min: 0 }),
    threads: num({ int: true, min: 1, max: 64 }),
  }),
  punishment: object({
    enabled: bool,
    amplitude: num({ min: 0 }),
    sigma: num({ gt: 0 }),
    sameDistance: num({ min: 0 }),
    repeats: num({ int: true, min: 1 }),
    window: num({ int: true, min: 1 }),
  }),
  motif: nullable(object({ center: str, neighbors: record(num({ int: true, min: 0 })), lambda: num() })),
  calculator: object({ name: str, options: anyRecord, timeoutMs: nullable(num({ gt: 0 })) }, ['timeoutMs']),
  success: object({ reference: nullable(oneOf('graphene', 'graphene-edge', 'grain-boundary', 'ag12o6')), threshold: num({ min: 0 }) }),
  run: object({
    episodes: num({ int: true, min: 0 }),
    seed: num({ int: true, min: 0 }),
    checkpointEvery: num({ int: true, min: 1 }),
    policy: oneOf('asla', 'random'),
  }),
  transfer: nullable(object({ from: nullable(str), episode: num({ int: true, min: 0 }) }, ['episode'])),
}, ['transfer']);

/** Validates a complete config object; `where` names its source (a file) in errors. */
export function validateProblem(raw: unknown, where = 'config'): ProblemConfig {
  let cfg: ProblemConfig;
  try {
    cfg = schema(raw, '') as ProblemConfig;
  } catch (e) {
    if (e instanceof InputError) throw new InputError(`${where}: field ${e.message}`);
    throw e;
  }
  const p = cfg.policy;
  if (p.epsilonNu > p.epsilon) {
    throw new InputError(`epsilonNu (${p.epsilonNu}) must not exceed epsilon (${p.epsilon}): ε = ε0 + εν`, `${where}: field policy.epsilonNu`);
  }
  const total = Object.values(cfg.stoichiometry).reduce((a, b) => a + b, 0);
  if (total === 0) throw new InputError('places no atoms', `${where}: field stoichiometry`);
  for (const [i, [i0, i1]] of cfg.forbidden.entries()) {
    if (i0 >= cfg.grid.shape[0] || i1 >= cfg.grid.shape[1]) {
      throw new InputError(`[${i0}, ${i1}] lies outside the ${cfg.grid.shape[0]}×${cfg.grid.shape[1]} grid`, `${where}: field forbidden[${i}]`);
    }
  }
  return cfg;
}

/** Deep-merges `override` into `base` (mappings merge, everything else replaces). */
export function mergeConfig(base: unknown, override: unknown): unknown {
  if (isPlainObject(base) && isPlainObject(override)) {
    const out: Record<string, unknown> = { ...base };
    for (const [k, v] of Object.entries(override)) out[k] = k in base ? mergeConfig(base[k], v) : v;
    return out;
  }
  return structuredClone(override);
}

/**
 * Applies `--set key.path=value` overrides; the value is parsed as JSON when it
 * parses, as a string otherwise. Unknown paths are caught by validation.
 */
export function applySets(config: unknown, sets: string[]): unknown {
  let out = structuredClone(config) as Record<string, unknown>;
  for (const s of sets) {
    const eq = s.indexOf('=');
    if (eq <= 0) throw new InputError(`expected key=value, got '${s}'`, '--set');
    const path = s.slice(0, eq).split('.');
    const text = s.slice(eq + 1);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      value = text;
    }
    let patch: unknown = value;
    for (let i = path.length - 1; i >= 0; i--) patch = { [path[i]]: patch };
    out = mergeConfig(out, patch) as Record<string, unknown>;
  }
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

function show(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 40 ? s.slice(0, 37) + '...' : s;
}
