import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  atomicNumber,
  symbolOf,
  covalentRadius,
  atomicMass,
  jmolColor,
  COVALENT_RADII,
  MAX_Z,
} from '../../src/structure/elements.js';
import { InputError } from '../../src/util/errors.js';
import { backendSkip, hasPythonModule } from '../support/backend.js';

test('covalent radii are Cordero et al. 2008 (as ASE)', () => {
  assert.equal(covalentRadius(atomicNumber('C')), 0.76);
  assert.equal(covalentRadius(atomicNumber('Ag')), 1.45);
  assert.equal(covalentRadius(atomicNumber('O')), 0.66);
  assert.equal(covalentRadius(atomicNumber('H')), 0.31);
  assert.equal(COVALENT_RADII[6], 0.76);
  assert.equal(COVALENT_RADII[47], 1.45);
});

test('symbols, numbers, masses and colours', () => {
  assert.equal(atomicNumber('H'), 1);
  assert.equal(atomicNumber('C'), 6);
  assert.equal(atomicNumber('Ag'), 47);
  assert.equal(atomicNumber('Cm'), 96);
  assert.equal(symbolOf(79), 'Au');
  assert.equal(symbolOf(0), 'X');
  for (let z = 1; z <= 96; z++) assert.equal(atomicNumber(symbolOf(z)), z);
  assert.equal(atomicMass(6), 12.011);
  assert.equal(atomicMass(1), 1.008);
  assert.equal(jmolColor(6), '#909090');
  assert.equal(jmolColor(8), '#ff0d0d');
  assert.equal(jmolColor(1), '#ffffff');
  assert.ok(MAX_Z >= 96);
  assert.equal(COVALENT_RADII.length, MAX_Z + 1);
});

test('unknown symbols and atomic numbers are InputErrors', () => {
  assert.throws(() => atomicNumber('Xx'), (e: unknown) => e instanceof InputError && /Xx/.test(e.message));
  assert.throws(() => atomicNumber('c'), InputError); // case-sensitive like ASE's atomic_numbers
  assert.throws(() => symbolOf(-1), InputError);
  assert.throws(() => covalentRadius(MAX_Z + 1), InputError);
  assert.throws(() => atomicMass(2.5), InputError);
});

test('every entry equals ASE data', { skip: backendSkip('python3-ase', hasPythonModule('ase')) }, () => {
  const py = `
import json
from ase.data import chemical_symbols, covalent_radii, atomic_masses
from ase.data.colors import jmol_colors
n = ${MAX_Z + 1}
print(json.dumps({'s': chemical_symbols[:n], 'r': covalent_radii[:n].tolist(),
  'm': atomic_masses[:n].tolist(), 'c': jmol_colors[:n].tolist()}))
`;
  const r = spawnSync('/usr/bin/python3', ['-c', py], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const ase = JSON.parse(r.stdout) as { s: string[]; r: number[]; m: number[]; c: number[][] };
  for (let z = 0; z <= MAX_Z; z++) {
    assert.equal(symbolOf(z), ase.s[z]);
    assert.equal(covalentRadius(z), ase.r[z], `radius of ${ase.s[z]}`);
    assert.equal(atomicMass(z), ase.m[z], `mass of ${ase.s[z]}`);
    const hex = '#' + ase.c[z].map((v) => Math.round(v * 255).toString(16).padStart(2, '0')).join('');
    assert.equal(jmolColor(z), hex, `colour of ${ase.s[z]}`);
  }
});
