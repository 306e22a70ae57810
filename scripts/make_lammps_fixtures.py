#!/usr/bin/python3
"""Reference Tersoff energies from LAMMPS for test/calculators/tersoff.test.ts.

Builds a set of structures (periodic graphene and h-BN sheets, 1D chains and
ribbons, clusters, non-orthogonal and short cells, random structures with atoms
as close as 0.4 Å), computes each one's energy with LAMMPS's `pair_style
tersoff` for data/potentials/C.tersoff and data/potentials/BNC.tersoff, and
writes fixtures/lammps/tersoff.json with the structures exactly as asla sees
them (positions, cell rows, pbc) and the LAMMPS energy.

LAMMPS needs a 3D box with its cell in lower-triangular form (a along x, b in
the xy plane): the periodic cell vectors are kept, the non-periodic ones are
replaced by vectors orthogonal to them that span the atoms (fixed 'f'
boundary), and the whole box is rotated into LAMMPS's convention. Energy is
invariant under that rotation, so the fixture keeps the original orientation.

Run:  /usr/bin/python3 scripts/make_lammps_fixtures.py   (needs Debian's lammps: `lmp`)
Deterministic: fixed numpy seed.
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, 'fixtures', 'lammps', 'tersoff.json')
LMP = os.environ.get('LMP', 'lmp')
SYMBOL = {5: 'B', 6: 'C', 7: 'N'}
MASS = {5: 10.811, 6: 12.011, 7: 14.007}
# Parameter files by name, relative to the repository root. BC_lambda3.tersoff is
# a test-only variant with lambda3 != 0 (m = 3 and m = 1) to cover that term.
POTENTIAL_FILES = {
    'C.tersoff': 'data/potentials/C.tersoff',
    'BNC.tersoff': 'data/potentials/BNC.tersoff',
    'BC_lambda3.tersoff': 'fixtures/lammps/BC_lambda3.tersoff',
}

rng = np.random.default_rng(20240611)


# ---------------------------------------------------------------- structures

def graphene_rect(d, nx, ny):
    """Rectangular graphene cell: nx × ny four-atom cells (3d × √3 d), zigzag along y."""
    a, b = 3 * d, np.sqrt(3) * d
    basis = [(0, 0), (d, 0), (1.5 * d, b / 2), (2.5 * d, b / 2)]
    pos = [(x + i * a, y + j * b, 0.0) for i in range(nx) for j in range(ny) for (x, y) in basis]
    return np.array(pos), np.array([nx * a, ny * b])


def min_distance_ok(pos, new, cell, pbc, dmin):
    if len(pos) == 0:
        return True
    ranges = [range(-2, 3) if p else range(0, 1) for p in pbc]
    for i in ranges[0]:
        for j in ranges[1]:
            for k in ranges[2]:
                shift = i * cell[0] + j * cell[1] + k * cell[2]
                if np.min(np.linalg.norm(np.array(pos) - (new + shift), axis=1)) < dmin:
                    return False
    # an atom and its own images
    for i in ranges[0]:
        for j in ranges[1]:
            for k in ranges[2]:
                if (i, j, k) != (0, 0, 0):
                    if np.linalg.norm(i * cell[0] + j * cell[1] + k * cell[2]) < dmin:
                        return False
    return True


def random_atoms(n, cell, pbc, dmin, box_lo, box_hi):
    """n atoms with Cartesian positions uniform in [box_lo, box_hi) and no pair (with images) closer than dmin."""
    pos = []
    tries = 0
    while len(pos) < n:
        tries += 1
        if tries > 200000:
            raise RuntimeError('cannot place atoms')
        new = box_lo + (box_hi - box_lo) * rng.random(3)
        if min_distance_ok(pos, new, cell, pbc, dmin):
            pos.append(new)
    return np.array(pos)


def structures():
    out = []

    def add(name, description, numbers, positions, cell, pbc, potentials):
        out.append(dict(name=name, description=description, numbers=[int(z) for z in numbers],
                        positions=np.asarray(positions, float), cell=np.asarray(cell, float),
                        pbc=[bool(p) for p in pbc], potentials=potentials))

    both = ['C.tersoff', 'BNC.tersoff']
    bnc = ['BNC.tersoff']
    lam3 = ['BC_lambda3.tersoff']

    # Periodic 2D graphene, 24 atoms in the paper's 8.54 × 7.40 Å cell (bond 8.54/6 Å), vacuum along z.
    d = 8.54 / 6
    g, (lx, ly) = graphene_rect(d, 2, 3)
    g[:, 2] = 5.0
    cell = [[lx, 0, 0], [0, ly, 0], [0, 0, 10.0]]
    add('graphene24', '24-atom graphene sheet, 8.54 x 7.40 A cell, pbc p p f', [6] * 24, g, cell, [1, 1, 0], both)
    add('graphene24_rattled', 'graphene24 with 0.15 A Gaussian noise', [6] * 24,
        g + rng.normal(0, 0.15, g.shape), cell, [1, 1, 0], both)
    # Same sheet but the non-periodic cell vector is oblique and atoms lie outside the cell.
    gshift = g + np.array([-9.0, 15.0, 3.0])
    add('graphene24_oblique_c', 'graphene24 shifted out of the cell, tilted non-periodic c vector', [6] * 24,
        gshift + rng.normal(0, 0.05, g.shape), [[lx, 0, 0], [0, ly, 0], [2.0, 1.0, 7.0]], [1, 1, 0], both)

    # h-BN and B/N/C mixtures on the same lattice.
    bn = [5 if (i % 2 == 0) else 7 for i in range(24)]
    add('hbn24', 'h-BN on the graphene24 lattice (alternating B, N)', bn, g + rng.normal(0, 0.03, g.shape),
        cell, [1, 1, 0], bnc)
    mix = rng.choice([5, 6, 7], size=24)
    add('bnc24_rattled', 'random B/N/C on the graphene24 lattice, 0.12 A noise', mix,
        g + rng.normal(0, 0.12, g.shape), cell, [1, 1, 0], bnc)

    # Hexagonal primitive cell (non-orthogonal, 120 deg), compressed so its heights are below the 2.1 A cutoff.
    a = 2.40
    hexcell = np.array([[a, 0, 0], [-a / 2, a * np.sqrt(3) / 2, 0], [0, 0, 8.0]])
    hexpos = np.array([[0, 0, 4.0], [0, a / np.sqrt(3), 4.0]]) + np.array([[0.03, -0.02, 0.05], [0, 0, 0]])
    add('hex_primitive_short', 'compressed 2-atom hexagonal cell (a = 2.40 A, heights < cutoff)', [6, 6], hexpos,
        hexcell, [1, 1, 0], both)
    add('bn_hex_primitive_short', 'compressed 2-atom hexagonal h-BN cell', [5, 7], hexpos, hexcell, [1, 1, 0], bnc)

    # Diamond primitive cell: fcc vectors at 60 deg, 3D periodic.
    ad = 3.567
    fcc = np.array([[0, ad / 2, ad / 2], [ad / 2, 0, ad / 2], [ad / 2, ad / 2, 0]])
    dpos = np.array([[0, 0, 0], [ad / 4, ad / 4, ad / 4]]) + rng.normal(0, 0.05, (2, 3))
    add('diamond_primitive', 'diamond 2-atom fcc primitive cell, rattled', [6, 6], dpos, fcc, [1, 1, 1], both)

    # 1D: one atom per 1.3 A (images at +-1.3 A inside the cutoff), a zigzag chain, and a zigzag ribbon.
    add('chain1_short', 'linear chain, 1 atom per 1.30 A (cell shorter than the cutoff)', [6], [[0.3, 0.2, 0.1]],
        [[1.3, 0, 0], [0, 0, 0], [0, 0, 0]], [1, 0, 0], both)
    add('chain_linear', 'linear chain, 4 atoms in 5.4 A, rattled', [6] * 4,
        np.array([[i * 1.35, 0, 0] for i in range(4)]) + rng.normal(0, 0.05, (4, 3)),
        [[5.4, 0, 0], [0, 10, 0], [0, 0, 10]], [1, 0, 0], both)
    zig = np.array([[0, 0, 0], [1.25, 0.75, 0.0], [2.5, 0, 0], [3.75, 0.75, 0]]) + rng.normal(0, 0.04, (4, 3))
    add('chain_zigzag_bn', 'zigzag B-N chain along x', [5, 7, 5, 7], zig, [[5.0, 0, 0], [0, 0, 0], [0, 0, 0]],
        [1, 0, 0], bnc)
    rib, (rx, ry) = graphene_rect(d, 2, 2)
    rib = rib + rng.normal(0, 0.06, rib.shape)
    add('ribbon_x', 'graphene zigzag-edged ribbon, periodic along x only', [6] * len(rib), rib,
        [[rx, 0, 0], [0, 0, 0], [0, 0, 0]], [1, 0, 0], both)
    ribt = rib[:, [1, 0, 2]]
    add('ribbon_y_bnc', 'ribbon periodic along y only, random B/N/C', rng.choice([5, 6, 7], size=len(rib)), ribt,
        [[0, 0, 0], [0, rx, 0], [0, 0, 0]], [0, 1, 0], bnc)

    # Non-periodic clusters.
    cl = random_atoms(12, np.zeros((3, 3)), [0, 0, 0], 1.15, np.zeros(3), np.full(3, 4.5))
    add('cluster12', 'random 12-atom cluster, no pbc, min distance 1.15 A', [6] * 12, cl, np.zeros((3, 3)),
        [0, 0, 0], both)
    add('cluster12_bnc', 'the same cluster with random B/N/C', rng.choice([5, 6, 7], size=12), cl,
        np.zeros((3, 3)), [0, 0, 0], bnc)
    ring = np.array([[1.40 * np.cos(t), 1.40 * np.sin(t), 0] for t in np.arange(6) * np.pi / 3])
    add('ring6', 'C6 ring, no pbc, zero cell', [6] * 6, ring + rng.normal(0, 0.02, ring.shape), np.zeros((3, 3)),
        [0, 0, 0], both)

    # Random 3D triclinic cells (strong tilt).
    tri = np.array([[4.2, 0.3, -0.2], [1.9, 3.9, 0.4], [-1.2, 1.4, 4.4]])
    tp = random_atoms(8, tri, [1, 1, 1], 1.2, np.zeros(3), np.array([6.0, 5.0, 5.0]))
    add('triclinic8', 'random 8 atoms in a tilted 3D periodic cell, min distance 1.2 A', [6] * 8, tp, tri,
        [1, 1, 1], both)
    add('triclinic8_bnc', 'triclinic8 with random B/N/C', rng.choice([5, 6, 7], size=8), tp, tri, [1, 1, 1], bnc)

    # Random structures with atoms as close as 0.4 A.
    cell2 = np.array([[8.54, 0, 0], [0, 7.40, 0], [0, 0, 10.0]])
    for t in range(3):
        n = 24
        p = random_atoms(n, cell2, [1, 1, 0], 0.4, np.array([0, 0, 4.0]), np.array([8.54, 7.40, 6.0]))
        add(f'random2d_close_{t}', 'random 24 atoms in the graphene cell, 2 A thick, min distance 0.4 A', [6] * n, p,
            cell2, [1, 1, 0], both)
        add(f'random2d_close_bnc_{t}', 'same with random B/N/C', rng.choice([5, 6, 7], size=n), p, cell2,
            [1, 1, 0], bnc)
    small = np.array([[2.3, 0.0, 0.0], [0.9, 1.9, 0.0], [0.4, -0.6, 2.0]])
    sp = random_atoms(3, small, [1, 1, 1], 0.4, np.zeros(3), np.array([2.5, 2.0, 2.0]))
    add('short_triclinic_close', '3 atoms in a 3D cell with heights below the cutoff, min distance 0.4 A', [6] * 3,
        sp, small, [1, 1, 1], both)
    add('short_triclinic_close_bnc', 'same with B, N, C', [5, 6, 7], sp, small, [1, 1, 1], bnc)
    cc = random_atoms(16, np.zeros((3, 3)), [0, 0, 0], 0.4, np.zeros(3), np.full(3, 3.5))
    add('cluster16_close', 'random 16-atom cluster, min distance 0.4 A', [6] * 16, cc, np.zeros((3, 3)),
        [0, 0, 0], both)
    add('cluster16_close_bnc', 'same with random B/N/C', rng.choice([5, 6, 7], size=16), cc, np.zeros((3, 3)),
        [0, 0, 0], bnc)

    # lambda3 != 0: C-only and B/C structures with the test-only parameter file.
    add('graphene24_rattled_lam3', 'graphene24 with 0.15 A noise', [6] * 24, g + rng.normal(0, 0.15, g.shape), cell,
        [1, 1, 0], lam3)
    pl = random_atoms(24, cell2, [1, 1, 0], 0.4, np.array([0, 0, 4.0]), np.array([8.54, 7.40, 6.0]))
    add('random2d_close_bc_lam3', 'random 24 B/C atoms, 2 A thick, min distance 0.4 A', rng.choice([5, 6], size=24),
        pl, cell2, [1, 1, 0], lam3)
    add('triclinic8_bc_lam3', 'triclinic8 with random B/C', rng.choice([5, 6], size=8), tp, tri, [1, 1, 1], lam3)
    add('cluster16_close_bc_lam3', 'cluster16_close with random B/C', rng.choice([5, 6], size=16), cc,
        np.zeros((3, 3)), [0, 0, 0], lam3)
    add('short_triclinic_close_lam3', '3 C atoms in a short 3D cell, min distance 0.4 A', [6] * 3, sp, small,
        [1, 1, 1], lam3)
    return out


# ------------------------------------------------------------------ LAMMPS

def frame(cell, pbc):
    """Cell rows along periodic axes, orthonormal complement along the others (right-handed)."""
    cell = np.array(cell, float)
    per = [k for k in range(3) if pbc[k]]
    f = cell.copy()
    if len(per) == 3:
        pass
    elif len(per) == 2:
        k = [k for k in range(3) if not pbc[k]][0]
        n = np.cross(cell[per[0]], cell[per[1]])
        f[k] = n / np.linalg.norm(n)
    elif len(per) == 1:
        p = per[0]
        u = cell[p] / np.linalg.norm(cell[p])
        e = np.eye(3)[np.argmin(np.abs(u))]
        v = np.cross(u, e)
        v /= np.linalg.norm(v)
        w = np.cross(u, v)
        others = [k for k in range(3) if k != p]
        f[others[0]], f[others[1]] = v, w
    else:
        f = np.eye(3)
    if np.linalg.det(f) < 0:
        open_axes = [k for k in range(3) if not pbc[k]]
        if not open_axes:
            raise ValueError('left-handed periodic cell: not supported by this script')
        f[open_axes[0]] *= -1
    return f


def lammps_box(s):
    """(lx, ly, lz, xy, xz, yz) and rotated positions for structure s."""
    pbc = s['pbc']
    f = frame(s['cell'], pbc)
    frac = s['positions'] @ np.linalg.inv(f)
    for k in range(3):
        if pbc[k]:
            frac[:, k] -= np.floor(frac[:, k])
        else:
            lo, hi = frac[:, k].min(), frac[:, k].max()
            span = hi - lo + 4.0  # 2 A of empty space on each side (frame vector has unit length)
            frac[:, k] = (frac[:, k] - lo + 2.0) / span
            f[k] *= span
    a, b, c = f
    lx = np.linalg.norm(a)
    ahat = a / lx
    xy = b @ ahat
    ly = np.linalg.norm(np.cross(ahat, b))
    xz = c @ ahat
    yz = (b @ c - xy * xz) / ly
    lz = np.sqrt(c @ c - xz * xz - yz * yz)
    L = np.array([[lx, 0, 0], [xy, ly, 0], [xz, yz, lz]])
    return (lx, ly, lz, xy, xz, yz), frac @ L


def lammps_energy(s, potential, workdir):
    elements = sorted(set(s['numbers']))
    types = {z: t + 1 for t, z in enumerate(elements)}
    (lx, ly, lz, xy, xz, yz), pos = lammps_box(s)
    data = os.path.join(workdir, 'data.lmp')
    with open(data, 'w') as fh:
        fh.write(f"# {s['name']}\n\n{len(s['numbers'])} atoms\n{len(elements)} atom types\n\n")
        fh.write(f'0.0 {lx!r} xlo xhi\n0.0 {ly!r} ylo yhi\n0.0 {lz!r} zlo zhi\n{xy!r} {xz!r} {yz!r} xy xz yz\n\n')
        fh.write('Masses\n\n')
        for z in elements:
            fh.write(f'{types[z]} {MASS[z]}\n')
        fh.write('\nAtoms # atomic\n\n')
        for i, (z, p) in enumerate(zip(s['numbers'], pos)):
            fh.write(f'{i + 1} {types[z]} {p[0]!r} {p[1]!r} {p[2]!r}\n')
    boundary = ' '.join('p' if p else 'f' for p in s['pbc'])
    pair_coeff = f"pair_coeff * * {os.path.join(ROOT, POTENTIAL_FILES[potential])} {' '.join(SYMBOL[z] for z in elements)}"
    script = f"""units metal
atom_style atomic
boundary {boundary}
box tilt large
read_data {data}
pair_style tersoff
{pair_coeff}
neighbor 1.0 bin
neigh_modify one 20000 page 200000
thermo_style custom step pe
run 0
print "ASLA_ENERGY $(pe:%.17g)"
print "ASLA_NATOMS $(atoms)"
"""
    inp = os.path.join(workdir, 'in.lmp')
    with open(inp, 'w') as fh:
        fh.write(script)
    r = subprocess.run([LMP, '-echo', 'none', '-log', 'none', '-nocite', '-in', inp], capture_output=True,
                       text=True, cwd=workdir)
    if r.returncode != 0:
        sys.stderr.write(r.stdout[-3000:] + r.stderr[-3000:])
        raise RuntimeError(f"lmp failed on {s['name']} / {potential}")
    energy = natoms = None
    version = r.stdout.splitlines()[0].strip() if r.stdout else ''
    for line in r.stdout.splitlines():
        if line.startswith('ASLA_ENERGY'):
            energy = float(line.split()[1])
        if line.startswith('ASLA_NATOMS'):
            natoms = int(float(line.split()[1]))
    if natoms != len(s['numbers']):
        raise RuntimeError(f"{s['name']}: LAMMPS has {natoms} atoms, expected {len(s['numbers'])} (atoms lost)")
    return energy, version, script.replace(data, 'data.lmp').replace(ROOT + '/', '')


def main():
    fixtures = []
    version = ''
    with tempfile.TemporaryDirectory() as tmp:
        for s in structures():
            for pot in s['potentials']:
                e, version, script = lammps_energy(s, pot, tmp)
                n = len(s['numbers'])
                fixtures.append(dict(
                    name=f"{s['name']}@{pot}", description=s['description'], potential=pot,
                    potential_file=POTENTIAL_FILES[pot],
                    numbers=s['numbers'], positions=[[float(x) for x in p] for p in s['positions']],
                    cell=[[float(x) for x in r] for r in s['cell']], pbc=s['pbc'],
                    energy=e, energy_per_atom=e / n, lammps_input=script))
                print(f"{s['name']:28s} {pot:12s} {n:3d} atoms  E = {e:.10f} eV  ({e / n:.6f} eV/atom)")
    doc = dict(
        generator='scripts/make_lammps_fixtures.py (run with /usr/bin/python3; needs Debian lammps)',
        lammps=version,
        units='metal (eV, Angstrom)',
        note='positions/cell/pbc are the structure as asla sees it; LAMMPS got the same structure rotated '
             'into its lower-triangular box, non-periodic axes as fixed (f) boundaries with empty space',
        fixtures=fixtures)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, 'w') as fh:
        json.dump(doc, fh, indent=1)
        fh.write('\n')
    print(f'wrote {len(fixtures)} fixtures to {os.path.relpath(OUT, ROOT)}')


if __name__ == '__main__':
    main()
