/**
 * asla's public API, layer by layer: structure → grid → nn → calculators →
 * agent → search (→ report, cli).
 */
export * from './structure/index.js';
export * from './grid/index.js';
export * from './nn/index.js';
export * from './calculators/index.js';
export { Agent, networkSpec, type EpisodeRecord, type AgentState } from './agent/agent.js';
export { PRESETS, presetNames, referenceCandidates, templateAtoms } from './agent/presets.js';
export { validateProblem, mergeConfig, applySets, type ProblemConfig } from './agent/problem.js';
export { chooseAction, randomAction } from './agent/policy.js';
export { ReplayBuffer } from './agent/replay.js';
export { rewardsFromProperties } from './agent/rewards.js';
export { Punishment } from './agent/punishment.js';
export { Run, type RunOptions, type RunSummary } from './search/run.js';
export { Rng } from './util/rng.js';
export { InputError } from './util/errors.js';
