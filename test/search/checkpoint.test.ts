import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeState, encodeState, loadCheckpoint, loadCheckpointFile, saveCheckpoint } from '../../src/search/checkpoint.js';

test('typed arrays and non-finite numbers survive encoding', () => {
  const v = { a: Float32Array.of(1.5, -2), b: Int32Array.of(7), c: Uint32Array.of(4294967295), d: Infinity, e: [Float64Array.of(Math.PI)] };
  const back = decodeState(encodeState(v)) as typeof v;
  assert.deepEqual(back.a, v.a);
  assert.deepEqual(back.b, v.b);
  assert.deepEqual(back.c, v.c);
  assert.equal(back.d, Infinity);
  assert.deepEqual(back.e[0], v.e[0]);
});

test('a corrupted or truncated checkpoint is detected and the previous one used', () => {
  const dir = mkdtempSync(join(tmpdir(), 'asla-cp-'));
  const path = join(dir, 'checkpoint.json');
  saveCheckpoint(path, { episode: 1, w: Float32Array.of(1, 2, 3) });
  saveCheckpoint(path, { episode: 2, w: Float32Array.of(4, 5, 6) });
  assert.equal((loadCheckpointFile(path) as { episode: number }).episode, 2);
  assert.deepEqual(readdirSync(dir).sort(), ['checkpoint.json', 'checkpoint.json.prev'], 'no temp files left');
  // flip one character of the body
  const text = readFileSync(path, 'utf8');
  writeFileSync(path, text.replace('"episode":2', '"episode":3'));
  const warnings: string[] = [];
  const cp = loadCheckpoint(path, (m) => warnings.push(m)) as { episode: number };
  assert.equal(cp.episode, 1);
  assert.match(warnings[0], /checksum mismatch/);
  // truncated
  writeFileSync(path, text.slice(0, text.length / 2));
  warnings.length = 0;
  assert.equal((loadCheckpoint(path, (m) => warnings.push(m)) as { episode: number }).episode, 1);
  assert.match(warnings[0], /truncated|checksum/);
  assert.ok(existsSync(path));
});

test('a checkpoint of another format version is refused with a clear message', () => {
  const dir = mkdtempSync(join(tmpdir(), 'asla-cp-'));
  const path = join(dir, 'checkpoint.json');
  saveCheckpoint(path, { x: 1 });
  writeFileSync(path, readFileSync(path, 'utf8').replace('"version":1', '"version":99'));
  assert.throws(() => loadCheckpointFile(path), /version 99/);
});
