#!/usr/bin/python3
"""Extended XYZ fixtures written by ASE, and what ASE reads back from them.

Run with Debian's python (apt-get install python3-ase):

    /usr/bin/python3 scripts/make_ase_fixtures.py            # (re)writes fixtures/ase/
    /usr/bin/python3 scripts/make_ase_fixtures.py --dump F...  # prints [ase.io.read(F, ':') ...] as JSON

For every fixtures/ase/NAME.extxyz the script writes NAME.json holding what
`ase.io.read(NAME.extxyz, ':')` gives (numbers, positions, cell, pbc, info,
per-atom arrays, FixAtoms indices), so test/structure/extxyz.test.ts compares
asla's reader with ASE itself, not with the values before ASE rounded them.
The `--dump` mode is what that test uses to check that ASE reads files written
by asla back to the same values.
"""
import io
import json
import os
import sys

import numpy as np
import ase
import ase.io
from ase import Atoms
from ase.build import bulk, graphene, molecule
from ase.calculators.singlepoint import SinglePointCalculator
from ase.constraints import FixAtoms

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, '..', 'fixtures', 'ase')


def plain(v):
    """JSON form of an info value, with its Python type so the test can check typing."""
    if isinstance(v, (bool, np.bool_)):
        return {'type': 'bool', 'value': bool(v)}
    if isinstance(v, (int, np.integer)):
        return {'type': 'int', 'value': int(v)}
    if isinstance(v, (float, np.floating)):
        return {'type': 'float', 'value': float(v)}
    if isinstance(v, str):
        return {'type': 'str', 'value': v}
    if isinstance(v, np.ndarray):
        kind = {'b': 'bool', 'i': 'int', 'f': 'float'}.get(v.dtype.kind, 'object')
        return {'type': kind + '[]', 'value': v.ravel().tolist()}
    if isinstance(v, list) and all(isinstance(x, bool) for x in v):
        return {'type': 'bool[]', 'value': v}
    return {'type': 'json', 'value': v}


def describe(atoms):
    """What ASE holds for one frame, as plain JSON."""
    arrays = {}
    for name, a in atoms.arrays.items():
        if name in ('numbers', 'positions'):
            continue
        kind = {'b': 'L', 'i': 'I', 'f': 'R', 'U': 'S', 'O': 'S', 'S': 'S'}[a.dtype.kind]
        ncols = 1 if a.ndim == 1 else a.shape[1]
        values = a.ravel().tolist()
        arrays[name] = {'type': kind, 'ncols': ncols, 'values': values}
    fixed = []
    for c in atoms.constraints:
        if isinstance(c, FixAtoms):
            fixed.extend(int(i) for i in c.index)
    return {
        'numbers': atoms.numbers.tolist(),
        'symbols': atoms.get_chemical_symbols(),
        'positions': atoms.positions.ravel().tolist(),
        'cell': atoms.cell.array.ravel().tolist(),
        'pbc': [bool(x) for x in atoms.pbc],
        'info': {k: plain(v) for k, v in atoms.info.items()},
        'arrays': arrays,
        'fixed_indices': sorted(fixed),
    }


def dump(path):
    frames = ase.io.read(path, ':', format='extxyz')
    return {'ase_version': ase.__version__, 'frames': [describe(a) for a in frames]}


def single_point(atoms, energy, forces=None):
    """Attach energy (and forces) as ASE's readers/calculators do; ASE writes them as info/columns."""
    kw = {'energy': energy}
    if forces is not None:
        kw['forces'] = forces
    atoms.calc = SinglePointCalculator(atoms, **kw)
    return atoms


def fixtures():
    rng = np.random.default_rng(20190528)
    out = {}

    # Periodic graphene sheet (the paper's 2D test system), periodic in-plane only, with energy.
    g = graphene(formula='C2', a=2.46, size=(3, 3, 1), vacuum=6.0)
    g.pbc = [True, True, False]
    g.rattle(0.01, seed=1)
    single_point(g, -165.123456789)
    out['graphene'] = [g]

    # A non-orthogonal (triclinic) cell: fcc primitive cell plus a sheared general one.
    cu = bulk('Cu', 'fcc', a=3.61)
    cu.info['note'] = 'fcc primitive'
    tri = Atoms('SiO2', scaled_positions=rng.random((3, 3)),
                cell=[[4.9, 0.0, 0.0], [-2.1, 4.3, 0.0], [0.7, -1.3, 5.4]], pbc=True)
    single_point(tri, -23.5)
    out['triclinic'] = [cu, tri]

    # A molecule without Lattice: no cell, no periodicity.
    m = molecule('CH3CH2OH')
    single_point(m, -46.25)
    out['molecule'] = [m]

    # Several frames of different size and type, as an ASLA episode log would have.
    frames = []
    for k, n in enumerate([2, 3, 4]):
        a = Atoms('C%dH%d' % (n, 2 * k), positions=rng.normal(scale=2.0, size=(n + 2 * k, 3)))
        a.info['step'] = k
        single_point(a, -5.0 * n + 0.125 * k)
        frames.append(a)
    frames.append(graphene(formula='C2', a=2.46, size=(2, 1, 1), vacuum=5.0))
    out['multiframe'] = frames

    # Extra per-atom columns: forces (R:3), integer tags (I:1), a logical `fixed`
    # column, a string column and a 2-column integer array.
    x = molecule('C6H6')
    x.set_tags(np.arange(len(x)) % 3)
    x.new_array('fixed', np.arange(len(x)) < 6)
    x.new_array('label', np.array(['ring' if s == 'C' else 'h' for s in x.get_chemical_symbols()]))
    x.new_array('pair', np.stack([np.arange(len(x)), -np.arange(len(x))], axis=1).astype(int))
    single_point(x, -76.5, forces=rng.normal(scale=0.3, size=(len(x), 3)))
    out['arrays'] = [x]

    # ASE's constraint column: FixAtoms written as move_mask:L:1 (True = free).
    mm = molecule('H2O')
    mm.set_constraint(FixAtoms(indices=[0]))
    out['move_mask'] = ([mm], {'columns': ['symbols', 'positions', 'move_mask']})

    # Typed info keys as ASE writes them.
    t = Atoms('Ag2', positions=[[0, 0, 0], [2.89, 0, 0]], cell=[10, 10, 10], pbc=False)
    t.info.update({
        'count': 7,
        'negative_int': -3,
        'temperature': 300.5,
        'tiny': 1.5e-12,
        'whole_float': 2.0,
        'flag': True,
        'off': False,
        'name': 'silver dimer',
        'bare': 'ag2',
        'int_vec': np.array([1, 2, 3]),
        'float_vec': np.array([0.5, -1.25, 3.0]),
        'bool_vec': np.array([True, False, True]),
        'nested': {'a': 1, 'b': [1, 2]},
    })
    single_point(t, -3.75)
    out['info'] = [t]
    return out


def main(argv):
    if len(argv) >= 3 and argv[1] == '--dump':
        json.dump([dump(path) for path in argv[2:]], sys.stdout)
        return 0
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    os.makedirs(OUT, exist_ok=True)
    for name, spec in fixtures().items():
        frames, kw = spec if isinstance(spec, tuple) else (spec, {})
        path = os.path.join(OUT, name + '.extxyz')
        ase.io.write(path, frames, format='extxyz', **kw)
        with open(os.path.join(OUT, name + '.json'), 'w') as f:
            json.dump(dump(path), f, indent=1)
            f.write('\n')
        print('wrote', os.path.relpath(path))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
