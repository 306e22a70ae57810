/**
 * Network snapshots of a run, so that Q-maps of past episodes can be
 * recomputed with (nearly) the network that built them: the run keeps only its
 * latest checkpoint, so every K episodes the run loop appends the Q-network to
 *
 *   DIR/networks.jsonl   one line {"episode":N,"network":{...QNetwork.serialize()}}
 *
 * where N is the number of episodes completed when it was taken: snapshot N is
 * the network that chose the actions of episode N+1. Append-only, like
 * episodes.jsonl; a resumed run may append a snapshot of an episode again (the
 * same network, training being deterministic) and a run killed while appending
 * leaves a partial last line, which readers skip.
 */
import { appendFileSync, closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { QNetwork } from '../nn/index.js';
import { loadCheckpoint } from './checkpoint.js';
import { InputError } from '../util/errors.js';

export const SNAPSHOT_FILE = 'networks.jsonl';
/** Default K: a snapshot every 50 episodes (≈ 40 snapshots of ~0.3 MB for a 2000-episode graphene run). */
export const DEFAULT_SNAPSHOT_EVERY = 50;

/** True when the run loop should snapshot after `episode` episodes. */
export function snapshotDue(episode: number, every: number = DEFAULT_SNAPSHOT_EVERY): boolean {
  return every > 0 && episode % every === 0;
}

/** Appends the network after `episode` completed episodes to DIR/networks.jsonl. */
export function appendNetworkSnapshot(dir: string, episode: number, net: QNetwork): void {
  if (!Number.isInteger(episode) || episode < 0) throw new RangeError(`appendNetworkSnapshot: episode must be an integer ≥ 0, got ${episode}`);
  // episode first, so readers find a line's episode without parsing its network
  appendFileSync(join(dir, SNAPSHOT_FILE), `{"episode":${episode},"network":${JSON.stringify(net.serialize())}}\n`);
}

interface SnapshotLine {
  episode: number;
  offset: number;
  length: number;
  line: number;
}

/** Episodes of the snapshots in DIR/networks.jsonl with their byte ranges (last one wins for repeated episodes). */
export function listNetworkSnapshots(dir: string): SnapshotLine[] {
  const path = join(dir, SNAPSHOT_FILE);
  if (!existsSync(path)) return [];
  const buf = readFileSync(path);
  const found = new Map<number, SnapshotLine>();
  let start = 0;
  let line = 0;
  while (start < buf.length) {
    line++;
    let end = buf.indexOf(0x0a, start);
    const complete = end >= 0;
    if (!complete) end = buf.length;
    const head = buf.subarray(start, Math.min(end, start + 40)).toString('latin1');
    const m = /^\{"episode":(\d+),"network":/.exec(head);
    if (!m) {
      if (complete) throw new InputError(`line ${line}: not a network snapshot (expected {"episode":N,"network":...})`, path);
    } else if (complete) {
      found.set(Number(m[1]), { episode: Number(m[1]), offset: start, length: end - start, line });
    }
    // an incomplete last line is a snapshot being written or cut by a crash: skipped
    start = end + 1;
  }
  return [...found.values()].sort((a, b) => a.episode - b.episode);
}

function readSnapshot(dir: string, s: SnapshotLine): QNetwork {
  const path = join(dir, SNAPSHOT_FILE);
  const fd = openSync(path, 'r');
  const buf = Buffer.alloc(s.length);
  try {
    readSync(fd, buf, 0, s.length, s.offset);
  } finally {
    closeSync(fd);
  }
  let obj: { network?: unknown };
  try {
    obj = JSON.parse(buf.toString('utf8'));
  } catch (e) {
    throw new InputError(`line ${s.line}: ${(e as Error).message.split('\n')[0]}`, path);
  }
  try {
    return QNetwork.deserialize(obj.network);
  } catch (e) {
    throw new InputError(`line ${s.line}: ${(e as Error).message.split('\n')[0]}`, path);
  }
}

export interface NetworkSnapshot {
  /** Episodes completed when the network was taken (it chose the actions of episode + 1). */
  episode: number;
  net: QNetwork;
  /** 'snapshots' (networks.jsonl) or 'checkpoint' (checkpoint.json). */
  source: 'snapshots' | 'checkpoint';
}

/**
 * The stored network nearest to the one that built `episode` (the network
 * after episode − 1): from networks.jsonl and the checkpoint, the one with the
 * smallest |snapshot − (episode − 1)|, preferring the earlier on ties. Null
 * when the run has neither.
 */
export function nearestNetworkSnapshot(dir: string, episode: number): NetworkSnapshot | null {
  const want = episode - 1;
  const lines = listNetworkSnapshots(dir);
  let bestLine: SnapshotLine | null = null;
  for (const s of lines) {
    if (!bestLine || Math.abs(s.episode - want) < Math.abs(bestLine.episode - want)) bestLine = s;
  }
  const cpEpisode = checkpointEpisode(dir);
  if (cpEpisode !== null && (!bestLine || Math.abs(cpEpisode - want) < Math.abs(bestLine.episode - want))) {
    const net = checkpointNetwork(dir);
    if (net) return { episode: net.episode, net: net.net, source: 'checkpoint' };
  }
  if (!bestLine) return null;
  return { episode: bestLine.episode, net: readSnapshot(dir, bestLine), source: 'snapshots' };
}

/** Episodes completed at the checkpoint, read from the file's header region without decoding the whole body. */
function checkpointEpisode(dir: string): number | null {
  const path = join(dir, 'checkpoint.json');
  if (!existsSync(path) || statSync(path).size === 0) return null;
  const fd = openSync(path, 'r');
  const buf = Buffer.alloc(512);
  let n = 0;
  try {
    n = readSync(fd, buf, 0, 512, 0);
  } finally {
    closeSync(fd);
  }
  const m = /"agent":\{"episode":(\d+)/.exec(buf.subarray(0, n).toString('latin1'));
  if (m) return Number(m[1]);
  const net = checkpointNetwork(dir); // unusual layout: decode it
  return net ? net.episode : null;
}

/** The network of the run's checkpoint, or null (no checkpoint, or a random-policy run). */
export function checkpointNetwork(dir: string): { episode: number; net: QNetwork } | null {
  const path = join(dir, 'checkpoint.json');
  if (!existsSync(path)) return null;
  const body = loadCheckpoint(path, () => {}) as { agent?: { episode?: number; network?: unknown } } | null;
  if (!body?.agent?.network) return null;
  return { episode: body.agent.episode ?? 0, net: QNetwork.deserialize(body.agent.network) };
}
