/**
 * Where transfer learning (src/agent/transfer.ts) gets its network: the
 * checkpoint of another run directory, read with the checkpoint format's own
 * checks (checksum, fallback to the previous checkpoint).
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ProblemConfig } from '../agent/problem.js';
import { learnedEpisode } from '../agent/agent.js';
import { episodeRecords } from './episode-log.js';
import type { SourceNetwork } from '../agent/transfer.js';
import { QNetwork } from '../nn/index.js';
import { InputError } from '../util/errors.js';
import { readJsonFile } from '../util/json-file.js';
import { loadCheckpoint } from './checkpoint.js';

/** The trained network of a run directory: its checkpoint's network and the run's config. */
export function loadSourceNetwork(dir: string): SourceNetwork {
  const abs = resolve(dir);
  const configPath = join(abs, 'config.json');
  if (!existsSync(configPath)) throw new InputError('transfer: not a run directory (no config.json)', dir);
  const config = readJsonFile(configPath) as ProblemConfig;
  const cpPath = join(abs, 'checkpoint.json');
  if (!existsSync(cpPath)) throw new InputError('transfer: the run has no checkpoint.json (no trained network yet)', dir);
  const body = loadCheckpoint(cpPath, (m) => process.stderr.write(`warning: ${m}\n`)) as { agent?: { episode?: number; network?: unknown } } | null;
  if (!body?.agent) throw new InputError('transfer: no readable checkpoint', cpPath);
  if (!body.agent.network) throw new InputError(`transfer: the run used the ${config.run?.policy ?? 'random'} policy and has no network`, dir);
  const episode = body.agent.episode ?? 0;
  return { dir: abs, config, net: QNetwork.deserialize(body.agent.network), episode, learnedEpisode: sourceLearnedEpisode(abs, config, episode) };
}

/**
 * The episode at which the source run learned its problem (LearnedStreak), up to
 * the checkpoint's episode; null when it has not; undefined when its problem has
 * no success criterion (or its log is unreadable), so that nothing can be said.
 */
function sourceLearnedEpisode(dir: string, config: ProblemConfig, upTo: number): number | null | undefined {
  if (!config.success?.reference) return undefined;
  try {
    return learnedEpisode([...episodeRecords(dir)].filter((r) => r.episode <= upTo));
  } catch {
    return undefined;
  }
}
