/**
 * A run directory's append-only episode log (episodes.jsonl): one JSON record
 * per complete episode, in order.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EpisodeRecord } from '../agent/agent.js';

/** The records of DIR/episodes.jsonl, in order (none when the file does not exist). */
export function* episodeRecords(dir: string): Generator<EpisodeRecord> {
  const path = join(dir, 'episodes.jsonl');
  if (!existsSync(path)) return;
  for (const line of readFileSync(path, 'utf8').split('\n')) if (line !== '') yield JSON.parse(line) as EpisodeRecord;
}
