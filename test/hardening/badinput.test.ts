/**
 * Bad input (issue 11), property-based (fast-check): configs (a valid preset
 * in YAML or JSON with random mutations: wrong types, unknown keys, negative
 * numbers, missing fields, cut or garbled files), extxyz text (truncated,
 * garbage numbers, wrong atom counts, lost or repeated lines) and CLI flags.
 * Every malformed input gives an InputError with one line naming the file and
 * the field or line; through the CLI, exit code 2, one line on stderr, no stack
 * trace and no run directory left behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { resolveProblem } from '../../src/agent/config-file.js';
import { parseExtxyz } from '../../src/structure/extxyz.js';
import { InputError } from '../../src/util/errors.js';
import { configArbitrary, extxyzArbitrary } from './inputs.js';

const root = resolve(fileURLToPath(import.meta.url), '../../../..');
const cli = join(root, 'dist/src/cli/main.js');

function asla(args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8', timeout: 60000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function assertOneLineError(r: ReturnType<typeof asla>, names: string, what: string) {
  assert.equal(r.code, 2, `${what}: exit ${r.code}\n${r.stderr}`);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `${what}: ${r.stderr}`);
  assert.ok(lines[0].startsWith('asla: '), lines[0]);
  assert.ok(lines[0].includes(names), `${what}: '${lines[0]}' names ${names}`);
  assert.doesNotMatch(r.stderr, /\n\s+at |internal error/);
}

/** The error of resolving a config file, or null when it is valid. */
function configError(file: string): Error | null {
  try {
    resolveProblem(file, []);
    return null;
  } catch (e) {
    return e as Error;
  }
}

test('mutated configs: valid, or an InputError of one line naming the file and the field', () => {
  const dir = mkdtempSync(join(tmpdir(), 'asla-badcfg-'));
  let rejected = 0;
  try {
    fc.assert(
      fc.property(configArbitrary(), ({ text, ext }) => {
        const file = join(dir, `config${ext}`);
        writeFileSync(file, text);
        const e = configError(file);
        if (e === null) return;
        rejected++;
        assert.ok(e instanceof InputError, `not an InputError: ${e.stack}`);
        assert.ok(!e.message.includes('\n'), `one line: ${e.message}`);
        assert.ok(e.message.startsWith(file), `names the file: ${e.message}`);
        assert.match(e.message, /field |cannot parse|mapping/, `names the field or the parse error: ${e.message}`);
      }),
      { numRuns: 600, seed: 42 },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.ok(rejected > 300, `most mutations are errors (${rejected}/600)`);
});

test('damaged extxyz: frames, or an InputError of one line naming file:line', () => {
  let rejected = 0;
  fc.assert(
    fc.property(extxyzArbitrary, (text) => {
      try {
        parseExtxyz(text, 'fuzz.extxyz');
      } catch (e) {
        rejected++;
        assert.ok(e instanceof InputError, `not an InputError: ${(e as Error).stack}`);
        assert.ok(!e.message.includes('\n'), `one line: ${e.message}`);
        assert.match(e.message, /^fuzz\.extxyz:\d+: /);
      }
    }),
    { numRuns: 3000, seed: 7 },
  );
  assert.ok(rejected > 1000, `most damages are errors (${rejected}/3000)`);
});

test('through the CLI: bad configs and extxyz files exit 2 with one line and leave no run directory', () => {
  const dir = mkdtempSync(join(tmpdir(), 'asla-badcli-'));
  try {
    // mutated configs that validation rejects, plus values that pass the field checks but not the run (or did once crash it)
    const samples = fc.sample(configArbitrary(), { numRuns: 300, seed: 3 });
    const files: string[] = [];
    for (const [i, s] of samples.entries()) {
      const file = join(dir, `bad-${i}${s.ext}`);
      writeFileSync(file, s.text);
      if (configError(file) !== null) files.push(file);
      if (files.length === 10) break;
    }
    const extra: [string, string][] = [
      ['stoichiometry: {C: 500}\nsuccess: {reference: null, threshold: 0.05}', 'stoichiometry'],
      ['grid: {shape: [100000, 100000]}', 'grid.shape'],
      ['network: {filters: [1000000000]}', 'network.filters'],
      ['calculator: {name: tersoff, options: {param: x}}', 'calculator.options'],
      ['calculator: {name: faulty, options: {rate: 3}}', 'calculator.options.rate'],
      ['calculator: {name: tersoff, options: {}, timeoutMs: -1}', 'calculator.timeoutMs'],
    ];
    for (const [i, [body]] of extra.entries()) {
      const file = join(dir, `extra-${i}.yaml`);
      writeFileSync(file, `preset: graphene-small\n${body}\n`);
      files.push(file);
    }
    for (const [i, file] of files.entries()) {
      const out = join(dir, `out-${i}`);
      const r = asla(['run', file, '--episodes', '2', '--out', out, '--quiet']);
      const field = i >= files.length - extra.length ? extra[i - (files.length - extra.length)][1] : file;
      assertOneLineError(r, field, file);
      assert.equal(existsSync(out), false, `${file}: no run directory left`);
    }
    // damaged extxyz through `asla energy`
    const texts = fc.sample(extxyzArbitrary, { numRuns: 200, seed: 5 }).filter((t) => {
      try {
        parseExtxyz(t);
        return false;
      } catch {
        return true;
      }
    });
    for (const [i, t] of texts.slice(0, 5).entries()) {
      const file = join(dir, `bad-${i}.extxyz`);
      writeFileSync(file, t);
      const r = asla(['energy', file]);
      assertOneLineError(r, `${file}:`, file);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad CLI flags exit 2 with one line and start nothing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'asla-badflags-'));
  try {
    const out = join(dir, 'out');
    // each argument list holds one certain error among valid flags
    const bad = fc.constantFrom(
      ['--episodes', 'ten'],
      ['--episodes', '-3'],
      ['--seed', '1.5'],
      ['--threads', '0'],
      ['--episodes'],
      ['--bogus'],
      ['--policy', 'greedy'],
      ['--calculator', 'vasp'],
      ['--set', 'nokey'],
      ['--set', 'run.episodes=-1'],
      ['--set', 'policy.epsilon=2'],
      ['--set', 'training.unknownKnob=1'],
      ['extra-positional'],
      ['--resume', join(dir, 'nothing-here')],
      ['--port', 'x', '--dashboard'],
    );
    // valid flags that none of the bad ones can be overridden by (a later --seed would replace a bad --seed)
    const good = fc.constantFrom<string[]>([], ['--quiet'], ['--set', 'run.checkpointEvery=2'], ['--set', 'policy.nu=0.05']);
    const lists = fc.sample(fc.tuple(good, bad, good), { numRuns: 15, seed: 11 });
    for (const [a, b, c] of lists) {
      const args = b[0] === '--resume' ? ['run', ...a, ...b, ...c] : ['run', 'graphene-small', ...a, ...b, ...c, '--out', out];
      const r = asla(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr.trimEnd().split('\n').length, 1, `${args.join(' ')}: ${r.stderr}`);
      assert.doesNotMatch(r.stderr, /\n\s+at |internal error/);
      assert.equal(existsSync(out), false, `${args.join(' ')}: no run directory (${r.stderr.trim()})`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
