/**
 * `asla explain RUN_DIR [--episode E] [--step T] [--action c,i0,i1] [--tau τ] [--json]`
 *
 * Why did the agent value an action? Replays episode E of a run up to its
 * T-th placement, evaluates the stored network nearest to the one that built
 * the episode, and decomposes the chosen action's Q-value onto the atoms with
 * layer-wise relevance propagation (Methods eq. 3; paper Fig. 4): each atom's
 * relevance, normalised so that the most influential atom has ±1 (1 positive
 * influence, −1 negative, 0 none), and the raw values, which sum to Q.
 */
import { parseFlags } from './args.js';
import { relevancePropagation } from '../nn/relevance.js';
import { BuildReplayer, findEpisode, loadRun, networkFor } from '../report/rundata.js';
import { symbolOf } from '../structure/elements.js';
import { InputError } from '../util/errors.js';

export interface AtomRelevance {
  index: number;
  element: string;
  /** Template atom (true) or placed by the agent in this episode. */
  template: boolean;
  x: number;
  y: number;
  /** Grid cell [channel, i0, i1] the network sees the atom in, or null (off the plane or outside the grid region). */
  cell: [number, number, number] | null;
  /** Relevance / max |relevance| over the input, or null when the network does not see the atom. */
  relevance: number | null;
  raw: number | null;
}

export interface Explanation {
  run: string;
  episode: number;
  /** 1-based: the state before the step-th placement. */
  step: number;
  action: [number, number, number];
  /** Whether the action is the one recorded for this step. */
  recorded: boolean;
  allowed: boolean;
  q: number;
  tau: number;
  /** Σ of the raw input relevances (equals q up to τ). */
  relevanceSum: number;
  network: string;
  atoms: AtomRelevance[];
}

export async function explainRun(dir: string, opts: { episode?: number; step?: number; action?: [number, number, number]; tau?: number } = {}): Promise<Explanation> {
  const run = loadRun(dir);
  const cfg = run.config;
  if (cfg.run.policy !== 'asla') throw new InputError('a random-policy run has no network to explain', dir);
  if (cfg.network.bias) {
    throw new InputError('relevance needs a bias-free network (Methods eq. 3): this run trained with network.bias: true', dir);
  }
  if (run.episodes.length === 0) throw new InputError('has no episodes yet', dir);
  const episode = opts.episode ?? run.episodes[run.episodes.length - 1].episode;
  const rec = findEpisode(run, episode);
  const total = rec.actions.length;
  if (total === 0) throw new InputError(`episode ${episode} placed no atom`, dir);
  const step = opts.step ?? total;
  if (!Number.isInteger(step) || step < 1 || step > total) throw new InputError(`must be 1..${total} for episode ${episode}, got ${step}`, '--step');
  const { snapshot, note } = networkFor(dir, cfg, episode);
  if (!snapshot) throw new InputError(note, dir);

  const replayer = new BuildReplayer(cfg);
  const agent = replayer.agent;
  const build = agent.newBuild();
  const placed: number[] = [];
  for (let t = 0; t < step - 1; t++) {
    const [c, i0, i1] = rec.actions[t];
    const code = agent.encodeAction(c, i0, i1);
    agent.place(build, code);
    placed.push(code);
  }
  const recordedAction = rec.actions[step - 1] as [number, number, number];
  const action = opts.action ?? recordedAction;
  const [c, i0, i1] = action;
  if (c < 0 || c >= agent.species.length || i0 < 0 || i0 >= agent.grid.n0 || i1 < 0 || i1 >= agent.grid.n1) {
    throw new InputError(`[${action.join(', ')}] lies outside the ${agent.species.length}×${agent.grid.n0}×${agent.grid.n1} action space`, '--action');
  }
  const code = agent.encodeAction(c, i0, i1);
  const allowed = agent.allowedActions(build)[code] === 1;
  const tau = opts.tau ?? 1e-9;
  const res = relevancePropagation(snapshot.net, build.input, agent.shape, code, { tau });
  const r0 = res.layers[0];
  let maxAbs = 0;
  let sum = 0;
  for (let i = 0; i < r0.length; i++) {
    maxAbs = Math.max(maxAbs, Math.abs(r0[i]));
    sum += r0[i];
  }

  const structure = agent.structureFromActions(placed);
  const grid = agent.grid;
  const atoms: AtomRelevance[] = [];
  for (let i = 0; i < structure.length; i++) {
    const [x, y, z] = structure.position(i);
    const ch = agent.species.indexOf(structure.numbers[i]);
    const p = ch >= 0 && Math.abs(z - grid.z) <= grid.planeTolerance ? grid.nearest(x, y).index : -1;
    const raw = p >= 0 ? r0[ch * grid.size + p] : null;
    atoms.push({
      index: i,
      element: symbolOf(structure.numbers[i]),
      template: i < agent.template.length,
      x,
      y,
      cell: p >= 0 ? [ch, Math.floor(p / grid.n1), p % grid.n1] : null,
      relevance: raw === null ? null : maxAbs > 0 ? raw / maxAbs : 0,
      raw,
    });
  }
  return {
    run: dir,
    episode,
    step,
    action: [c, i0, i1],
    recorded: c === recordedAction[0] && i0 === recordedAction[1] && i1 === recordedAction[2],
    allowed,
    q: res.q,
    tau,
    relevanceSum: sum,
    network: note,
    atoms,
  };
}

function intOf(v: unknown, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new InputError(`must be an integer, got '${v}'`, flag);
  return n;
}

export async function cmdExplain(args: string[]): Promise<number> {
  const parsed = parseFlags({
    args,
    options: { episode: { type: 'string' }, step: { type: 'string' }, action: { type: 'string' }, tau: { type: 'string' }, json: { type: 'boolean' } },
    allowPositionals: true,
    strict: true,
  });
  const { values, positionals } = parsed;
  if (positionals.length !== 1) throw new InputError('usage: asla explain RUN_DIR [--episode E] [--step T] [--action c,i0,i1] [--tau τ] [--json]');
  let action: [number, number, number] | undefined;
  if (values.action !== undefined) {
    const parts = String(values.action).split(',').map((s) => Number(s.trim()));
    if (parts.length !== 3 || !parts.every(Number.isInteger)) throw new InputError(`expected three integers c,i0,i1, got '${values.action}'`, '--action');
    action = [parts[0], parts[1], parts[2]];
  }
  let tau: number | undefined;
  if (values.tau !== undefined) {
    tau = Number(values.tau);
    if (!Number.isFinite(tau) || tau < 0) throw new InputError(`must be a number ≥ 0, got '${values.tau}'`, '--tau');
  }
  const ex = await explainRun(positionals[0], { episode: intOf(values.episode, '--episode'), step: intOf(values.step, '--step'), action, tau });
  if (values.json) {
    process.stdout.write(JSON.stringify(ex, null, 2) + '\n');
    return 0;
  }
  const lines = [
    `run ${ex.run}, episode ${ex.episode}, step ${ex.step}: action [${ex.action.join(', ')}]${ex.recorded ? ' (the recorded one)' : ''}${ex.allowed ? '' : ' (not an allowed action)'}`,
    `Q = ${ex.q.toFixed(6)}; Σ relevance = ${ex.relevanceSum.toFixed(6)} (τ = ${ex.tau})`,
    `network: ${ex.network}`,
    '',
    'atom  element  kind      x (Å)    y (Å)   cell            relevance   raw',
  ];
  for (const a of ex.atoms) {
    lines.push(
      `${String(a.index).padStart(4)}  ${a.element.padEnd(7)}  ${(a.template ? 'template' : 'placed').padEnd(8)} ${a.x.toFixed(3).padStart(8)} ${a.y.toFixed(3).padStart(8)}   ` +
        `${(a.cell ? `[${a.cell.join(', ')}]` : '-').padEnd(14)}  ${a.relevance === null ? '     -' : a.relevance.toFixed(3).padStart(6)}   ${a.raw === null ? '-' : a.raw.toExponential(3)}`,
    );
  }
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}
