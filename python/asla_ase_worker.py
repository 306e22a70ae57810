#!/usr/bin/env python3
"""asla's bridge to any ASE calculator: a long-lived worker speaking JSON lines.

Started by src/calculators/ase.ts as

    python3 asla_ase_worker.py <calculator import path> <kwargs as JSON>
    mpiexec -n K python3 asla_ase_worker.py ...        (optional MPI, e.g. GPAW)

Protocol (one JSON object per line; only MPI rank 0 reads and writes):

    worker -> asla, once:  {"ready": true, "python": ..., "ase": ..., "calculator": ..., "ranks": K}
                       or  {"fatal": {"kind": "backend-missing" | "bad-kwargs" | ..., "message": ...}} and exit
    asla -> worker:        {"id": 7, "numbers": [...], "positions": [x0, y0, z0, ...],
                            "cell": [9 numbers, rows = cell vectors], "pbc": [b, b, b], "vacuum": 6.0}
    worker -> asla:        {"id": 7, "energy": -11.10}
                       or  {"id": 7, "error": {"kind": <FailureKind of calculator.ts>, "message": ...}}

End of input ends the worker. The energy is ASE's get_potential_energy() of a
fresh calculator instance per request, so that one failed SCF never leaks state
into the next structure and each energy equals what the same calculator gives
when run directly (the paper's energies are single points without relaxation,
Methods "DFT calculations").

Only the worker's protocol channel is the real stdout: file descriptor 1 is
pointed at stderr so that anything a calculator prints (GPAW's txt='-' default,
Fortran/C libraries) cannot corrupt the JSON lines.
"""
import importlib
import json
import math
import os
import sys

# Keep the protocol on a private duplicate of the real stdout; from here on fd 1
# (C-level printf) and sys.stdout (Python print) go to stderr.
_proto = os.fdopen(os.dup(1), 'w', buffering=1, encoding='utf-8')
os.dup2(2, 1)
sys.stdout = sys.stderr

# Debian package names to suggest for the modules asla users meet most.
DEBIAN_HINTS = {
    'ase': 'python3-ase',
    'gpaw': 'gpaw gpaw-data',
    'numpy': 'python3-numpy',
    'scipy': 'python3-scipy',
    'mpi4py': 'python3-mpi4py',
}

# Exceptions that mean "the self-consistent field did not converge". Matched by
# class name along the MRO so the worker never imports gpaw unless it is the
# calculator in use (gpaw.KohnShamConvergenceError derives from gpaw.ConvergenceError;
# ase.calculators.calculator.SCFError is ASE's generic one).
NOT_CONVERGED = {'KohnShamConvergenceError', 'ConvergenceError', 'SCFError'}
# Exceptions that blame the structure itself (GPAW refuses overlapping atoms).
INVALID_STRUCTURE = {'AtomsTooClose'}


def send(obj):
    _proto.write(json.dumps(obj, allow_nan=False) + '\n')
    _proto.flush()


def one_line(exc):
    text = f'{type(exc).__name__}: {exc}'
    return ' '.join(text.split())[:2000]


def classify(exc):
    names = {cls.__name__ for cls in type(exc).__mro__}
    if names & NOT_CONVERGED:
        return 'not-converged'
    if names & INVALID_STRUCTURE:
        return 'invalid-structure'
    if isinstance(exc, ImportError):
        return 'backend-missing'
    return 'crashed'


def missing_module_message(path, exc):
    name = getattr(exc, 'name', None) or str(exc)
    msg = f"ASE calculator '{path}': python module '{name}' not found in {sys.executable}"
    hint = DEBIAN_HINTS.get(name.split('.')[0])
    if hint:
        msg += f' (Debian: apt-get install {hint})'
    return msg


def load_calculator(path, kwargs):
    """Imports ASE and the calculator class and builds one instance to check the kwargs.

    Returns (class, None) or (None, fatal dict)."""
    try:
        import ase  # noqa: F401
    except ImportError as exc:
        return None, {'kind': 'backend-missing', 'message': missing_module_message(path, exc)}
    module_name, _, attr = path.rpartition('.')
    if not module_name or not attr:
        return None, {'kind': 'bad-calculator',
                      'message': f"ASE calculator '{path}': expected an import path such as "
                                 "'ase.calculators.emt.EMT' or 'gpaw.GPAW'"}
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        return None, {'kind': 'backend-missing', 'message': missing_module_message(path, exc)}
    except Exception as exc:  # a module that raises on import
        return None, {'kind': 'backend-missing',
                      'message': f"ASE calculator '{path}': importing '{module_name}' failed: {one_line(exc)}"}
    cls = getattr(module, attr, None)
    if cls is None:
        return None, {'kind': 'bad-calculator',
                      'message': f"ASE calculator '{path}': module '{module_name}' has no attribute '{attr}'"}
    try:
        calc = cls(**kwargs)
        del calc
    except Exception as exc:
        return None, {'kind': 'bad-kwargs',
                      'message': f"ASE calculator '{path}': keyword arguments {json.dumps(kwargs)} "
                                 f"rejected: {one_line(exc)}"}
    return cls, None


def build_atoms(req):
    from ase import Atoms
    n = len(req['numbers'])
    positions = req['positions']
    if len(positions) != 3 * n:
        raise ValueError(f'{len(positions)} coordinates for {n} atoms')
    cell = req['cell']
    pbc = req['pbc']
    for k in range(3):
        if pbc[k] and max(abs(c) for c in cell[3 * k:3 * k + 3]) == 0.0:
            raise ValueError(f'axis {k} is periodic but cell vector {k} is zero')
    atoms = Atoms(numbers=req['numbers'],
                  positions=[positions[3 * i:3 * i + 3] for i in range(n)],
                  cell=[cell[0:3], cell[3:6], cell[6:9]],
                  pbc=pbc)
    # Molecules (and any non-periodic axis given without a cell vector) get a
    # box: `vacuum` Å of empty space on each side along those axes, atoms
    # centred (ASE's Atoms.center). Axes that have a cell vector keep it: a 2D
    # sheet comes with the problem's 3D cell, vacuum included (Extended Data Table 1).
    vacuum = req.get('vacuum')
    zero_axes = tuple(k for k in range(3)
                      if not pbc[k] and max(abs(c) for c in cell[3 * k:3 * k + 3]) == 0.0)
    if zero_axes and vacuum is not None:
        atoms.center(vacuum=vacuum, axis=zero_axes)
    return atoms


def evaluate(cls, kwargs, req):
    try:
        atoms = build_atoms(req)
    except Exception as exc:
        return {'error': {'kind': 'invalid-structure', 'message': one_line(exc)}}
    try:
        atoms.calc = cls(**kwargs)
        energy = float(atoms.get_potential_energy())
    except Exception as exc:
        return {'error': {'kind': classify(exc), 'message': one_line(exc)}}
    if not math.isfinite(energy):
        return {'error': {'kind': 'crashed', 'message': f'non-finite energy {energy}'}}
    return {'energy': energy}


def main():
    if len(sys.argv) != 3:
        send({'fatal': {'kind': 'usage', 'message': 'usage: asla_ase_worker.py <calculator import path> <kwargs JSON>'}})
        return 2
    path = sys.argv[1]
    try:
        kwargs = json.loads(sys.argv[2])
        if not isinstance(kwargs, dict):
            raise ValueError('not a JSON object')
    except ValueError as exc:
        send({'fatal': {'kind': 'bad-kwargs', 'message': f"ASE calculator '{path}': kwargs: {exc}"}})
        return 2

    cls, fatal = load_calculator(path, kwargs)
    # The MPI world is picked after the calculator is imported: ase.parallel
    # uses GPAW's communicator once gpaw is loaded, a dummy one otherwise.
    try:
        from ase.parallel import world, broadcast
        rank, size = world.rank, world.size
    except ImportError:
        world, broadcast, rank, size = None, None, 0, 1
    if size == 1:
        # Under mpiexec with a calculator that does not use MPI (EMT, say) every
        # rank sees a one-process world; only the launcher's rank 0 has stdin,
        # so the others leave quietly instead of answering twice.
        rank = int(os.environ.get('OMPI_COMM_WORLD_RANK') or os.environ.get('PMI_RANK') or 0)
        if rank > 0:
            return 0
    if fatal is not None:
        if rank == 0:
            send({'fatal': fatal})
        return 1
    if rank == 0:
        import ase
        send({'ready': True, 'python': sys.executable, 'version': sys.version.split()[0],
              'ase': ase.__version__, 'calculator': path, 'ranks': size})

    while True:
        req = None
        if rank == 0:
            line = sys.stdin.readline()
            while line and not line.strip():
                line = sys.stdin.readline()
            if line:
                try:
                    req = json.loads(line)
                except ValueError as exc:
                    req = {'bad': one_line(exc)}
        if size > 1:
            req = broadcast(req, 0)
        if req is None:  # end of input: asla closed us
            return 0
        if 'bad' in req:
            if rank == 0:
                send({'id': None, 'error': {'kind': 'crashed', 'message': f"unreadable request: {req['bad']}"}})
            continue
        reply = evaluate(cls, kwargs, req)
        if rank == 0:
            reply['id'] = req.get('id')
            send(reply)


if __name__ == '__main__':
    sys.exit(main())
