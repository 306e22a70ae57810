/**
 * Disk full (issue 11): `asla run` on a small tmpfs whose free space is cut to
 * several levels, so the disk fills while the run writes its network snapshot,
 * its checkpoint or its logs. Each time: a one-line error naming ENOSPC and the
 * file, exit code 74, no temp file left, a checkpoint that verifies (the old or
 * the new one); after space is freed, `--resume` finishes the run and its episode
 * log, structures and snapshots equal an uninterrupted run's.
 *
 * Needs root to mount a tmpfs: skipped visibly otherwise (CI runs as root).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { backendSkip } from '../support/backend.js';
import { loadCheckpointFile } from '../../src/search/checkpoint.js';

const root = resolve(fileURLToPath(import.meta.url), '../../../..');
const cli = join(root, 'dist/src/cli/main.js');

function canMountTmpfs(): boolean {
  if (process.platform !== 'linux') return false;
  const dir = mkdtempSync(join(tmpdir(), 'asla-mnt-probe-'));
  const ok = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir], { stdio: 'ignore' }).status === 0;
  if (ok) spawnSync('umount', [dir], { stdio: 'ignore' });
  rmSync(dir, { recursive: true, force: true });
  return ok;
}

function asla(args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8', timeout: 300000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const EPISODES = 12;
const strip = (text: string) =>
  text
    .trim()
    .split('\n')
    .map((l) => JSON.stringify({ ...JSON.parse(l), ms: undefined }));

test('disk full while writing: one-line error, exit 74, an intact checkpoint, and a resume that equals an uninterrupted run', { skip: backendSkip('tmpfs mount (root)', canMountTmpfs()) }, () => {
  const work = mkdtempSync(join(tmpdir(), 'asla-diskfull-'));
  const mnt = join(work, 'mnt');
  mkdirSync(mnt);
  const reference = join(work, 'reference');
  const run = join(mnt, 'run');
  const common = ['--episodes', String(EPISODES), '--seed', '3', '--quiet'];
  assert.equal(asla(['run', 'graphene-small', ...common, '--out', reference]).code, 0);
  assert.equal(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', mnt]).status, 0);
  try {
    const filler = join(mnt, 'filler');
    const free = () => {
      const s = statfsSync(mnt);
      return s.bavail * s.bsize;
    };
    let failures = 0;
    const where = new Set<string>();
    // free space levels (bytes) below one network snapshot (~260 kB), one checkpoint (~800 kB), two, three
    for (const level of [100e3, 600e3, 1300e3, 2100e3]) {
      rmSync(filler, { force: true });
      const fill = free() - level;
      if (fill > 0) writeFileSync(filler, Buffer.alloc(fill));
      const r = existsSync(join(run, 'config.json')) ? asla(['run', '--resume', run, ...common]) : asla(['run', 'graphene-small', ...common, '--out', run]);
      if (r.code === 0) continue;
      failures++;
      assert.equal(r.code, 74, r.stderr);
      const lines = r.stderr.trimEnd().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0], /^asla: no space left on device \(ENOSPC in \w+\): \S+/);
      assert.doesNotMatch(r.stderr, /\n\s+at |internal error/);
      where.add(lines[0].replace(/.*: (\S+);.*/, '$1').replace(/^.*\//, ''));
      // nothing half-written stays: no temp file, and a checkpoint that verifies when there is one
      const files = existsSync(run) ? readdirSync(run) : [];
      assert.deepEqual(files.filter((f) => f.endsWith('.tmp')), [], 'no temp file left');
      for (const f of ['checkpoint.json', 'checkpoint.json.prev']) if (files.includes(f)) loadCheckpointFile(join(run, f));
    }
    assert.ok(failures >= 3, `the disk filled ${failures} times`);
    // space again: the resumed run ends as the uninterrupted one did
    rmSync(filler, { force: true });
    const done = existsSync(join(run, 'config.json')) ? asla(['run', '--resume', run, ...common]) : asla(['run', 'graphene-small', ...common, '--out', run]);
    assert.equal(done.code, 0, done.stderr);
    assert.deepEqual(strip(readFileSync(join(run, 'episodes.jsonl'), 'utf8')), strip(readFileSync(join(reference, 'episodes.jsonl'), 'utf8')));
    for (const f of ['structures.extxyz', 'networks.jsonl']) assert.ok(readFileSync(join(run, f)).equals(readFileSync(join(reference, f))), `${f} as uninterrupted`);
    process.stderr.write(`# disk full ${failures} times, while writing ${[...where].join(', ')}\n`);
  } finally {
    spawnSync('umount', [mnt]);
    rmSync(work, { recursive: true, force: true });
  }
});
