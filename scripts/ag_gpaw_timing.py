#!/usr/bin/env python3
"""GPAW single points with timings, for bench/ag.ts (issue 8).

Reads one JSON object on stdin:
    {"kwargs": {GPAW keyword arguments}, "structures": [{"name", "numbers", "positions" (flat),
     "cell" (9 numbers, rows), "pbc"}]}
and prints one JSON line: [{"name", "energy", "wall_s", "cpu_s", "iterations"} | {"name", "error"}].

The evaluation is what asla's ASE worker (python/asla_ase_worker.py) does for
each episode — a fresh GPAW(**kwargs) per structure, get_potential_energy(),
no relaxation — with wall and CPU time measured around it (CPU time is what a
SLURM allocation is charged; wall time on a shared machine is inflated by
other processes). Run with /usr/bin/python3 (Debian's gpaw) and
OMP_NUM_THREADS=1 for one core.
"""
import json
import resource
import sys
import time


def cpu_seconds():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main():
    job = json.load(sys.stdin)
    from ase import Atoms
    from gpaw import GPAW
    out = []
    for s in job['structures']:
        p = s['positions']
        atoms = Atoms(numbers=s['numbers'], positions=[p[k:k + 3] for k in range(0, len(p), 3)],
                      cell=[s['cell'][0:3], s['cell'][3:6], s['cell'][6:9]], pbc=s['pbc'])
        kwargs = dict(job['kwargs'])
        kwargs['txt'] = None
        atoms.calc = GPAW(**kwargs)
        w0, c0 = time.perf_counter(), cpu_seconds()
        try:
            energy = atoms.get_potential_energy()
        except Exception as exc:  # a failed SCF is a result too
            out.append({'name': s['name'], 'error': f'{type(exc).__name__}: {exc}'[:300],
                        'wall_s': time.perf_counter() - w0, 'cpu_s': cpu_seconds() - c0})
            continue
        try:
            iterations = atoms.calc.get_number_of_iterations()
        except Exception:
            iterations = None
        out.append({'name': s['name'], 'energy': float(energy), 'wall_s': time.perf_counter() - w0,
                    'cpu_s': cpu_seconds() - c0, 'iterations': iterations})
        print(json.dumps(out[-1]), file=sys.stderr, flush=True)
    print(json.dumps(out))


if __name__ == '__main__':
    main()
