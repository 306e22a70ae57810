/**
 * A run directory's append-only episode log (episodes.jsonl): one JSON record
 * per complete episode, in order.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EpisodeRecord } from '../agent/agent.js';

/**
 * The complete records of DIR/episodes.jsonl, in order (none when the file does
 * not exist). A last line without its newline is an episode still being
 * written by a running agent, and is left out.
 */
export function* episodeRecords(dir: string): Generator<EpisodeRecord> {
  const path = join(dir, 'episodes.jsonl');
  if (!existsSync(path)) return;
  const text = readFileSync(path, 'utf8');
  for (const line of text.slice(0, text.lastIndexOf('\n') + 1).split('\n')) if (line !== '') yield JSON.parse(line) as EpisodeRecord;
}
