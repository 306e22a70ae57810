/**
 * Checkpoint files: JSON with typed arrays as base64, a format version and a
 * SHA-256 checksum of the body. Written atomically (temp file, fsync, rename);
 * the previous checkpoint is kept as a fallback for a corrupted newest one.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';

export const CHECKPOINT_FORMAT = 'asla-checkpoint';
export const CHECKPOINT_VERSION = 1;

type Typed = Float32Array | Float64Array | Int32Array | Uint32Array | Uint8Array;
const TAGS: Record<string, { ctor: new (b: ArrayBuffer) => Typed }> = {
  f32: { ctor: Float32Array },
  f64: { ctor: Float64Array },
  i32: { ctor: Int32Array },
  u32: { ctor: Uint32Array },
  u8: { ctor: Uint8Array },
};

function tagOf(v: unknown): string | null {
  if (v instanceof Float32Array) return 'f32';
  if (v instanceof Float64Array) return 'f64';
  if (v instanceof Int32Array) return 'i32';
  if (v instanceof Uint32Array) return 'u32';
  if (v instanceof Uint8Array) return 'u8';
  return null;
}

/** JSON text of a value whose typed arrays become {$t, b64}; non-finite numbers become {$n}. */
export function encodeState(value: unknown): string {
  return JSON.stringify(value, function (this: unknown, key: string, v: unknown) {
    const raw = (this as Record<string, unknown>)[key];
    const tag = tagOf(raw);
    if (tag) {
      const a = raw as Typed;
      return { $t: tag, b64: Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64') };
    }
    if (typeof v === 'number' && !Number.isFinite(v)) return { $n: String(v) };
    return v;
  });
}

export function decodeState(text: string): unknown {
  return JSON.parse(text, (_key, v) => {
    if (v && typeof v === 'object' && typeof v.$t === 'string' && typeof v.b64 === 'string') {
      const buf = Buffer.from(v.b64, 'base64');
      const copy = new ArrayBuffer(buf.length);
      new Uint8Array(copy).set(buf);
      const t = TAGS[v.$t];
      if (!t) throw new Error(`unknown typed array tag ${v.$t}`);
      return new t.ctor(copy);
    }
    if (v && typeof v === 'object' && typeof v.$n === 'string' && Object.keys(v).length === 1) return Number(v.$n);
    return v;
  });
}

/** Writes `text` to `path` so that a reader sees either the old or the new file, never a mix. */
export function writeFileAtomic(path: string, text: string | Buffer): void {
  renameSync(writeTemp(path, text), path);
}

/**
 * Writes and fsyncs `path.PID.tmp`. A failed write (disk full) removes the temp
 * file again, so it neither fills the disk further nor is left behind.
 */
function writeTemp(path: string, text: string | Buffer): string {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    const fd = openSync(tmp, 'w');
    try {
      // write(2) may write less than asked (a filling disk does): go on until all is written or it fails
      const buf = typeof text === 'string' ? Buffer.from(text) : text;
      for (let off = 0; off < buf.length; ) off += writeSync(fd, buf, off, buf.length - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    rmSync(tmp, { force: true });
    // write(2) errors carry no path: name the file being written (the CLI prints it)
    if ((e as NodeJS.ErrnoException).code) (e as NodeJS.ErrnoException).path ??= path;
    throw e;
  }
  return tmp;
}

export function saveCheckpoint(path: string, state: unknown): void {
  const body = encodeState(state);
  const sha256 = createHash('sha256').update(body).digest('hex');
  const text = `{"format":"${CHECKPOINT_FORMAT}","version":${CHECKPOINT_VERSION},"sha256":"${sha256}","body":${body}}\n`;
  // the new checkpoint is complete on disk before the current one moves to .prev: a failed write (disk full) leaves both as they were
  const tmp = writeTemp(path, text);
  if (existsSync(path)) renameSync(path, `${path}.prev`);
  renameSync(tmp, path);
}

export class CheckpointError extends Error {}

/** Reads and verifies one checkpoint file. */
export function loadCheckpointFile(path: string): unknown {
  const text = readFileSync(path, 'utf8');
  const m = /^\{"format":"([^"]*)","version":(\d+),"sha256":"([0-9a-f]{64})","body":/.exec(text);
  if (!m) throw new CheckpointError(`${path}: not an asla checkpoint (or truncated header)`);
  if (m[1] !== CHECKPOINT_FORMAT) throw new CheckpointError(`${path}: format '${m[1]}', expected '${CHECKPOINT_FORMAT}'`);
  if (Number(m[2]) !== CHECKPOINT_VERSION) throw new CheckpointError(`${path}: checkpoint version ${m[2]}, this asla reads ${CHECKPOINT_VERSION}`);
  const trimmed = text.trimEnd();
  if (!trimmed.endsWith('}')) throw new CheckpointError(`${path}: truncated`);
  const body = trimmed.slice(m[0].length, -1);
  const sha = createHash('sha256').update(body).digest('hex');
  if (sha !== m[3]) throw new CheckpointError(`${path}: checksum mismatch (corrupted or truncated)`);
  return decodeState(body);
}

/** The newest good checkpoint: `path`, or `path.prev` with a warning when `path` is damaged. */
export function loadCheckpoint(path: string, warn: (msg: string) => void): unknown | null {
  const candidates = [path, `${path}.prev`].filter((p) => existsSync(p));
  for (const [i, p] of candidates.entries()) {
    try {
      return loadCheckpointFile(p);
    } catch (e) {
      if (!(e instanceof CheckpointError) && !(e instanceof SyntaxError)) throw e;
      warn(`${(e as Error).message}${i + 1 < candidates.length ? '; using the previous checkpoint' : ''}`);
    }
  }
  return null;
}
