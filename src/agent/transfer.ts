/**
 * Transfer learning (paper Section III, Fig. 3): a new run starts from the
 * trained Q-network of another run — e.g. agents trained on the cheap
 * graphene edge continue on the grain boundary. The network is fully
 * convolutional, so its weights do not depend on the cell or grid size; what
 * must agree is what a weight means:
 *  - species channels: the network's input and output channels are the
 *    stoichiometry's elements in order. Channels are matched by element and
 *    reordered when the order differs; an element missing on either side is
 *    an error (its weights would be meaningless or absent).
 *  - kernels: the same number of taps (filter width / grid spacing) and the
 *    same spacing, so that a tap covers the same distance in Å; the same
 *    hidden filters, activation slope and bias setting.
 * Only the weights are transferred. The Adam moments start fresh (the new
 * problem's gradients have other scales), and so do the replay buffer and
 * the random generator (seeded by the new run's config).
 */
import { QNetwork, type QNetworkSpec } from '../nn/index.js';
import { BuildingGrid } from '../grid/index.js';
import { InputError } from '../util/errors.js';
import { LEARNED_STREAK, type Agent } from './agent.js';
import type { ProblemConfig } from './problem.js';

/** Relative difference of grid spacings up to which a kernel tap still covers the same distance. */
export const SPACING_TOLERANCE = 0.05;

export interface TransferOrigin {
  /** Absolute path of the source run directory. */
  from: string;
  /** Episodes the source network had been trained for. */
  episode: number;
  /** The source run's problem name. */
  problem: string;
  /** The source run's elements, in its channel order. */
  species: string[];
  /** Source channel feeding each of the new run's channels. */
  channelMap: number[];
  /** Grid spacings (Å) of the source and the new run. */
  spacing: { from: [number, number]; to: [number, number] };
  /**
   * Fraction of this problem's actions where the transferred network's Q is
   * saturated (|Q| ≥ SATURATED_Q) on the template: tanh passes no gradient
   * there, so training may not move those values (and ties pick the lowest
   * grid index). Warned about above SATURATION_WARNING.
   */
  saturatedFraction: number;
  /** The source run's learnedEpisode (null: it had not learned its problem), when its problem has a success criterion. */
  sourceLearnedEpisode?: number | null;
}

export const SATURATED_Q = 0.9999;
export const SATURATION_WARNING = 0.05;

/** A trained network and the config of the run it comes from (read by src/search/transfer-source.ts). */
export interface SourceNetwork {
  /** Absolute path of the source run directory. */
  dir: string;
  config: ProblemConfig;
  net: QNetwork;
  /** Episodes it had been trained for. */
  episode: number;
  /** Episode at which the source run had learned its problem (LearnedStreak); null: not learned; undefined: unknown. */
  learnedEpisode?: number | null;
}

/**
 * The source network adapted to a target network spec and species order
 * (channels reordered by element); InputError naming the mismatch otherwise.
 */
export function adaptNetwork(source: QNetwork, sourceSpecies: string[], targetSpecies: string[], target: QNetworkSpec): { net: QNetwork; channelMap: number[] } {
  const s = source.spec;
  const missing = targetSpecies.filter((e) => !sourceSpecies.includes(e));
  const extra = sourceSpecies.filter((e) => !targetSpecies.includes(e));
  if (missing.length > 0 || extra.length > 0 || sourceSpecies.length !== targetSpecies.length) {
    throw new InputError(
      `transfer: species must match by element: the source network places ${sourceSpecies.join(', ')}, this problem ${targetSpecies.join(', ')}` +
        (missing.length ? ` (${missing.join(', ')} not in the source)` : '') +
        (extra.length ? ` (${extra.join(', ')} not in this problem)` : ''),
    );
  }
  if (s.species !== sourceSpecies.length) throw new InputError(`transfer: the source network has ${s.species} channels but its config lists ${sourceSpecies.length} elements`);
  if (s.kernel[0] !== target.kernel[0] || s.kernel[1] !== target.kernel[1]) {
    throw new InputError(
      `transfer: kernel sizes differ: the source network has ${s.kernel.join('×')} taps, this problem needs ${target.kernel.join('×')} (same network.filterWidth and grid spacing required)`,
    );
  }
  if (s.filters.length !== target.filters.length || s.filters.some((f, i) => f !== target.filters[i])) {
    throw new InputError(`transfer: hidden filters differ: source [${s.filters.join(', ')}], this problem [${target.filters.join(', ')}] (network.filters)`);
  }
  if (s.bias !== target.bias) throw new InputError(`transfer: the source network ${s.bias ? 'has' : 'has no'} biases, this problem sets network.bias: ${target.bias}`);
  if (Math.abs(s.leakySlope - target.leakySlope) > 1e-12) throw new InputError(`transfer: leaky ReLU slopes differ: source ${s.leakySlope}, this problem ${target.leakySlope} (network.leakySlope)`);

  const channelMap = targetSpecies.map((e) => sourceSpecies.indexOf(e));
  const out = source.clone();
  const S = s.species;
  const K = s.kernel[0] * s.kernel[1];
  if (channelMap.some((c, i) => c !== i)) {
    // first layer: weights [cout][cin = species][K] — permute the input channels
    const first = source.kernelView(0), firstOut = out.kernelView(0);
    for (let o = 0; o < first.cout; o++) {
      for (let c = 0; c < S; c++) firstOut.weights.set(first.weights.subarray((o * S + channelMap[c]) * K, (o * S + channelMap[c] + 1) * K), (o * S + c) * K);
    }
    // output layer: weights [cout = species][cin][K] and bias [species] — permute the output channels
    const L = source.depth - 1;
    const last = source.kernelView(L), lastOut = out.kernelView(L);
    const block = last.cin * K;
    for (let c = 0; c < S; c++) {
      lastOut.weights.set(last.weights.subarray(channelMap[c] * block, (channelMap[c] + 1) * block), c * block);
      if (last.bias && lastOut.bias) lastOut.bias[c] = last.bias[channelMap[c]];
    }
  }
  return { net: out, channelMap };
}

/** Grid spacings (Å) of a problem's grid. */
export function gridSpacing(config: ProblemConfig): [number, number] {
  const g = new BuildingGrid({ cell: config.cell, ...config.grid });
  return [g.spacing[0], g.spacing[1]];
}

/**
 * Loads a source run's trained network into a new run's agent (weights only;
 * the agent's Adam state stays fresh). Returns the origin to record in the run.
 */
export function applyTransfer(agent: Agent, src: SourceNetwork, warn: (message: string) => void = (m) => process.stderr.write(`warning: ${m}\n`)): TransferOrigin {
  if (!agent.net) throw new InputError('transfer: this run uses the random policy, which has no network to start from');
  const sourceSpecies = Object.keys(src.config.stoichiometry ?? {});
  const targetSpecies = Object.keys(agent.config.stoichiometry);
  // a tap must cover the same distance: compare the grids' spacings
  const from = gridSpacing(src.config);
  const to: [number, number] = [agent.grid.spacing[0], agent.grid.spacing[1]];
  for (let k = 0; k < 2; k++) {
    if (Math.abs(from[k] - to[k]) > SPACING_TOLERANCE * to[k]) {
      throw new InputError(
        `transfer: grid spacings differ along axis ${k}: the source grid has ${from[k].toFixed(4)} Å, this one ${to[k].toFixed(4)} Å (kernel taps would cover other distances)`,
      );
    }
  }
  const { net, channelMap } = adaptNetwork(src.net, sourceSpecies, targetSpecies, agent.net.spec);
  agent.net.params.set(net.params);
  const q = agent.net.forward(agent.newBuild().input, agent.shape);
  let saturated = 0;
  for (let i = 0; i < q.length; i++) if (Math.abs(q[i]) >= SATURATED_Q) saturated++;
  const saturatedFraction = saturated / q.length;
  if (saturatedFraction > SATURATION_WARNING) {
    warn(
      `transfer: the network from ${src.dir} gives saturated Q-values (|Q| ≥ ${SATURATED_Q}) at ${(100 * saturatedFraction).toFixed(0)}% of this problem's actions; tanh passes no gradient there and training may not recover`,
    );
  }
  if (src.learnedEpisode === null) {
    warn(
      `transfer: the run ${src.dir} has not learned its problem (no ${LEARNED_STREAK} greedy episodes in a row met its criterion in ${src.episode} episodes); ` +
        'graphene-edge agents like that did not teach pristine graphene (README, "The edge as a teacher"): continue it with asla run --resume DIR --until-learned',
    );
  }
  return {
    from: src.dir, episode: src.episode, problem: src.config.name, species: sourceSpecies, channelMap, spacing: { from, to }, saturatedFraction,
    ...(src.learnedEpisode !== undefined ? { sourceLearnedEpisode: src.learnedEpisode } : {}),
  };
}
