/**
 * A short `asla run` with GPAW (issue: the ASE bridge): a tiny periodic carbon
 * problem, a few episodes, energies checked against GPAW run directly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { backendSkip, hasPythonModule } from '../support/backend.js';
import { readExtxyz } from '../../src/structure/extxyz.js';

const root = resolve(fileURLToPath(import.meta.url), '../../../..');
const gpawSkip = backendSkip('gpaw + gpaw-data (/usr/bin/python3)', hasPythonModule('gpaw'));

test('asla run with --calculator gpaw: a few episodes whose energies equal GPAW run directly', { skip: gpawSkip, timeout: 900000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'asla-gpaw-'));
  try {
    // 4 C in a 2.47 × 4.27 Å graphene cell (1 template atom), a coarse grid, the paper's LCAO/PBE with a small basis
    const cfg = join(dir, 'tiny.yaml');
    writeFileSync(
      cfg,
      [
        'preset: graphene-small',
        'name: graphene-tiny',
        'cell: [[2.466, 0, 0], [0, 4.27, 0], [0, 0, 8]]',
        'grid: {shape: [6, 10], periodic: [true, true], z: 4}',
        'template: [{symbol: C, position: [0, 0, 4]}]',
        'stoichiometry: {C: 3}',
        'c1: 1.5',
        'success: {reference: null, threshold: 0.05}',
        'training: {batchSize: 4, symmetryCopies: 1}',
        "calculator: {name: gpaw, options: {kwargs: {basis: 'sz(dzp)', maxiter: 60}}}",
      ].join('\n') + '\n',
    );
    const out = join(dir, 'run');
    const r = spawnSync(process.execPath, [join(root, 'dist/src/cli/main.js'), 'run', cfg, '--out', out, '--episodes', '2', '--quiet'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const log = readFileSync(join(out, 'episodes.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(log.length, 2);
    const frames = readExtxyz(join(out, 'structures.extxyz'));
    const job = frames.map((a, i) => ({
      numbers: Array.from(a.numbers),
      positions: Array.from(a.positions),
      cell: Array.from(a.cell),
      pbc: a.pbc,
      failed: log[i].energy === null,
    }));
    const script = `
import json, sys
from ase import Atoms
from gpaw import GPAW
out = []
for j in json.load(sys.stdin):
    if j['failed']:
        out.append(None); continue
    a = Atoms(numbers=j['numbers'], positions=[j['positions'][k:k+3] for k in range(0, len(j['positions']), 3)], cell=[j['cell'][0:3], j['cell'][3:6], j['cell'][6:9]], pbc=j['pbc'])
    a.calc = GPAW(mode='lcao', basis='sz(dzp)', xc='PBE', kpts=[1, 1, 1], maxiter=60, txt=None)
    out.append(a.get_potential_energy())
print(json.dumps(out))
`;
    const direct = spawnSync('/usr/bin/python3', ['-c', script], { input: JSON.stringify(job), encoding: 'utf8' });
    assert.equal(direct.status, 0, direct.stderr);
    const energies = JSON.parse(direct.stdout.trim().split('\n').pop()!) as (number | null)[];
    let compared = 0;
    for (const [i, e] of energies.entries()) {
      if (e === null) continue;
      assert.ok(Math.abs(log[i].energy - e) < 1e-6, `episode ${i + 1}: ${log[i].energy} vs GPAW ${e}`);
      compared++;
    }
    assert.ok(compared >= 1, 'at least one episode evaluated');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
