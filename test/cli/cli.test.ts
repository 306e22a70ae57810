import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(import.meta.url), '../../../..');
const cli = join(root, 'dist/src/cli/main.js');

function asla(args: string[], cwd = root) {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd, encoding: 'utf8', timeout: 300000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A user error: exit 2, exactly one line on stderr, no stack trace. */
function assertOneLineError(r: ReturnType<typeof asla>, pattern: RegExp) {
  assert.equal(r.code, 2, r.stderr);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
}

test('asla energy prints one energy per frame, as text and JSON', () => {
  const text = asla(['energy', 'examples/graphene.extxyz']);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^0\t24\t-\d+\.\d+ eV\t-7\.3\d+ eV\/atom$/m);
  const json = JSON.parse(asla(['energy', 'examples/graphene.extxyz', '--json']).stdout);
  assert.equal(json.frames.length, 1);
  assert.ok(Math.abs(json.frames[0].energyPerAtom + 7.35) < 0.02);
  const bnc = JSON.parse(asla(['energy', 'examples/graphene.extxyz', '--params', 'BNC.tersoff', '--json']).stdout);
  assert.notEqual(bnc.frames[0].energy, json.frames[0].energy, 'another parameter file gives another energy');
});

test('bad input gives one line naming the file, line or field, and a non-zero exit', () => {
  const dir = mkdtempSync(join(tmpdir(), 'asla-cli-'));
  try {
    const bad = join(dir, 'bad.extxyz');
    writeFileSync(bad, '3\nProperties=species:S:1:pos:R:3\nC 0 0 0\nC 1.4 0 x\n');
    assertOneLineError(asla(['energy', bad]), /bad\.extxyz:4/);
    writeFileSync(bad, '2\n\nC 0 0 0\nQq 1 0 0\n');
    assertOneLineError(asla(['energy', bad]), /bad\.extxyz:4.*Qq/);
    const params = join(dir, 'bad.tersoff');
    writeFileSync(params, 'C C C 3.0 1.0 0.0 38049 4.3484 -.57058 .72751\n');
    assertOneLineError(asla(['energy', 'examples/graphene.extxyz', '--params', params]), /bad\.tersoff/);
    assertOneLineError(asla(['energy', 'examples/graphene.extxyz', '--calculator', 'nope']), /unknown calculator 'nope'/);
    assertOneLineError(asla(['run', 'graphene', '--episodes', 'many']), /--episodes: must be an integer/);
    assertOneLineError(asla(['run', 'graphene', '--frobnicate']), /frobnicate/);
    assertOneLineError(asla(['run', 'no-such-problem']), /no-such-problem: neither a preset/);
    const cfg = join(dir, 'cfg.yaml');
    writeFileSync(cfg, 'preset: graphene-small\npolicy:\n  epsilon: 0.1\n  epsilonNu: 0.05\n  nu: 0.02\n  greedyEvery: 5\n  temperature: 3\n');
    const out = join(dir, 'run');
    assertOneLineError(asla(['run', cfg, '--out', out]), /cfg\.yaml: field policy\.temperature: unknown key/);
    writeFileSync(cfg, 'preset: graphene-small\nc1: fast\n');
    assertOneLineError(asla(['run', cfg, '--out', out]), /cfg\.yaml: field c1: must be a number/);
    writeFileSync(cfg, 'preset: graphene-small\nstoichiometry: {C: 400}\nsuccess: {reference: null, threshold: 0.05}\n');
    assertOneLineError(asla(['run', cfg, '--out', out]), /impossible stoichiometry/);
    writeFileSync(cfg, 'preset: graphene-small\ngrid: {shape: [21, 25], periodic: [false, true], spacing: [0.5, 0.2], z: 6}\n');
    assertOneLineError(asla(['run', cfg, '--out', out]), /grid|shape/);
    writeFileSync(cfg, 'preset: graphene-small\ncell: [[4.27, 0, 0], [8.54, 0, 0], [0, 0, 12]]\n');
    assertOneLineError(asla(['run', cfg, '--out', out]), /cell/);
    assert.ok(!existsSync(out), 'nothing written for a refused config');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('asla run writes a run directory that ASE-style readers and --resume understand', () => {
  const dir = mkdtempSync(join(tmpdir(), 'asla-cli-'));
  try {
    const out = join(dir, 'run');
    const sets = ['--set', 'training.batchSize=8', '--set', 'training.symmetryCopies=1'];
    const r = asla(['run', 'graphene-small', '--out', out, '--episodes', '3', '--seed', '5', ...sets]);
    assert.equal(r.code, 0, r.stderr);
    const summary = JSON.parse(r.stdout);
    assert.equal(summary.episodes, 3);
    assert.ok(summary.referenceEnergyPerAtom < -6.5);
    assert.deepEqual(readdirSync(out).sort(), ['best.extxyz', 'checkpoint.json', 'checkpoint.json.prev', 'config.json', 'episodes.jsonl', 'networks.jsonl', 'reference.extxyz', 'reference.json', 'structures.extxyz', 'summary.json']);
    assertOneLineError(asla(['run', 'graphene-small', '--out', out]), /already holds a run/);
    const again = asla(['run', '--resume', out, '--episodes', '5']);
    assert.equal(again.code, 0, again.stderr);
    const lines = readFileSync(join(out, 'episodes.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((l) => l.episode), [1, 2, 3, 4, 5]);
    assert.equal(lines[4].greedy, true);
    const frames = readFileSync(join(out, 'structures.extxyz'), 'utf8').split('\n').filter((l) => /^8$/.test(l)).length;
    assert.equal(frames, 5);
    const random = asla(['run', 'graphene-small', '--out', join(dir, 'rand'), '--episodes', '4', '--policy', 'random']);
    assert.equal(random.code, 0, random.stderr);
    assert.match(readFileSync(join(dir, 'rand', 'episodes.jsonl'), 'utf8'), /"kinds":"uuuuuuu"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('asla run --until-solved stops at the first episode that solves the problem, and a solved run resumes to nothing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'asla-cli-'));
  try {
    const out = join(dir, 'run');
    // a success threshold of 1000 eV/atom: every evaluated structure solves the problem
    const r = asla(['run', 'graphene-small', '--out', out, '--episodes', '6', '--policy', 'random', '--set', 'success.threshold=1000', '--until-solved', '--quiet']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).episodes, 1);
    const again = asla(['run', '--resume', out, '--episodes', '6', '--until-solved', '--quiet']);
    assert.equal(JSON.parse(again.stdout).episodes, 1, 'already solved: nothing more to run');
    const rest = asla(['run', '--resume', out, '--episodes', '6', '--quiet']);
    assert.equal(JSON.parse(rest.stdout).episodes, 6, 'without the flag the run goes on');
    const lines = readFileSync(join(out, 'episodes.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((l) => l.episode), [1, 2, 3, 4, 5, 6]);
    assert.ok(lines.every((l) => l.reachedReference === true));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('asla run --dashboard serves the live page of the run while it runs', async () => {
  const { spawn } = await import('node:child_process');
  const dir = mkdtempSync(join(tmpdir(), 'asla-cli-'));
  try {
    const child = spawn(process.execPath, [cli, 'run', 'graphene-small', '--out', join(dir, 'run'), '--episodes', '40', '--dashboard', '--set', 'training.batchSize=8', '--set', 'training.symmetryCopies=1'], { cwd: root });
    let stderr = '';
    const url = await new Promise<string>((res, rej) => {
      child.stderr.on('data', (b: Buffer) => {
        stderr += b.toString();
        const m = /live page at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(stderr);
        if (m) res(m[1]);
      });
      child.on('exit', () => rej(new Error(`exited before serving: ${stderr}`)));
    });
    const page = await fetch(url);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<title>asla live<\/title>/);
    const exit = await new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
    assert.equal(exit, 0, stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
