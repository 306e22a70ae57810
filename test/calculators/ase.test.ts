/**
 * The ASE bridge against ASE and GPAW run directly. Every test that needs
 * Debian's python3-ase / gpaw / openmpi-bin goes through backendSkip: skipped
 * visibly on a machine without them, a failure in CI.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AseCalculator, gpawSettings, workerScript, type AseCalculatorOptions } from '../../src/calculators/ase.js';
import { CalculationFailure } from '../../src/calculators/calculator.js';
import { Atoms } from '../../src/structure/atoms.js';
import { InputError } from '../../src/util/errors.js';
import { backendSkip, hasCommand, hasPythonModule } from '../support/backend.js';

const PY = '/usr/bin/python3';
const aseSkip = backendSkip('python3-ase (/usr/bin/python3)', hasPythonModule('ase', PY));
const gpawSkip = backendSkip('gpaw + gpaw-data (/usr/bin/python3)', hasPythonModule('gpaw', PY));
const mpiSkip = backendSkip('openmpi-bin (mpiexec)', hasCommand('mpiexec'));

const EMT = 'ase.calculators.emt.EMT';
/** Two ranks even on a one-core CI machine (Open MPI refuses more ranks than cores otherwise). */
const MPI_ENV = { OMPI_MCA_rmaps_base_oversubscribe: '1' };

/** Energies from a separate, plain Python process: ASE (or GPAW) run directly, not through the worker. */
function directEnergies(calculator: string, kwargs: Record<string, unknown>, structures: Atoms[], env?: Record<string, string>): number[] {
  const dot = calculator.lastIndexOf('.');
  const script = `
import json, sys, importlib
from ase import Atoms
job = json.load(sys.stdin)
cls = getattr(importlib.import_module(${JSON.stringify(calculator.slice(0, dot))}), ${JSON.stringify(calculator.slice(dot + 1))})
out = []
for s in job['structures']:
    n = len(s['numbers'])
    p, c = s['positions'], s['cell']
    atoms = Atoms(numbers=s['numbers'], positions=[p[3*i:3*i+3] for i in range(n)],
                  cell=[c[0:3], c[3:6], c[6:9]], pbc=s['pbc'])
    atoms.calc = cls(**job['kwargs'])
    out.append(atoms.get_potential_energy())
print(json.dumps(out))
`;
  const job = {
    kwargs,
    structures: structures.map((a) => ({
      numbers: Array.from(a.numbers),
      positions: Array.from(a.positions),
      cell: Array.from(a.cell),
      pbc: a.pbc,
    })),
  };
  const r = spawnSync(PY, ['-c', script], { input: JSON.stringify(job), encoding: 'utf8', env: { ...process.env, ...env } });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]) as number[];
}

// ---- structures -------------------------------------------------------------

const A_CC = 1.42;
const A_G = A_CC * Math.sqrt(3);

/** Graphene, rectangular 4-atom cell repeated nx × ny, in the plane z = 5 of a cell 10 Å high. */
function graphene(nx: number, ny: number, pbc: [boolean, boolean, boolean] = [true, true, false]): Atoms {
  const base = [
    [0, 0],
    [A_G / 2, A_CC / 2],
    [A_G / 2, (3 * A_CC) / 2],
    [0, 2 * A_CC],
  ];
  const pos: number[] = [];
  for (let i = 0; i < nx; i++) for (let j = 0; j < ny; j++) for (const [x, y] of base) pos.push(x + i * A_G, y + j * 3 * A_CC, 5);
  return new Atoms({
    numbers: new Array(pos.length / 3).fill(6),
    positions: pos,
    cell: [nx * A_G, 0, 0, 0, ny * 3 * A_CC, 0, 0, 0, 10],
    pbc,
  });
}

/** The 2-atom primitive graphene cell, 10 Å of cell along z. */
function graphene2(): Atoms {
  return new Atoms({
    numbers: [6, 6],
    positions: [0, 0, 5, A_G / 2, A_G / (2 * Math.sqrt(3)), 5],
    cell: [A_G, 0, 0, A_G / 2, (A_G * Math.sqrt(3)) / 2, 0, 0, 0, 10],
    pbc: [true, true, false],
  });
}

/** An Ag4O2 cluster, no cell (a molecule: the worker boxes it in vacuum). */
function ag4o2(): Atoms {
  return new Atoms({
    numbers: [47, 47, 47, 47, 8, 8],
    positions: [0, 0, 0, 2.9, 0, 0, 1.45, 2.51, 0, 1.45, 0.84, 2.37, 1.45, -1.2, 0.9, 1.45, 1.9, 1.9],
  });
}

/** Two Ag(111) layers (2×2) with an O adatom, periodic in-plane, 2D. */
function agSlabO(): Atoms {
  const a = 2.89; // nearest-neighbour distance of fcc Ag, Å
  const h = a * Math.sqrt(2 / 3);
  const pos: number[] = [];
  const numbers: number[] = [];
  const a1 = [a, 0];
  const a2 = [a / 2, (a * Math.sqrt(3)) / 2];
  for (let layer = 0; layer < 2; layer++) {
    const shift = layer === 0 ? [0, 0] : [(a1[0] + a2[0]) / 3, (a1[1] + a2[1]) / 3];
    for (let i = 0; i < 2; i++)
      for (let j = 0; j < 2; j++) {
        pos.push(shift[0] + i * a1[0] + j * a2[0], shift[1] + i * a1[1] + j * a2[1], 6 + layer * h);
        numbers.push(47);
      }
  }
  pos.push(a / 2, a / (2 * Math.sqrt(3)), 6 + h + 1.2);
  numbers.push(8);
  return new Atoms({ numbers, positions: pos, cell: [2 * a1[0], 0, 0, 2 * a2[0], 2 * a2[1], 0, 0, 0, 18], pbc: [true, true, false] });
}

/** fcc Cu, a periodic 4-atom cube, one atom displaced. */
function cuBulk(): Atoms {
  const a = 3.61;
  return new Atoms({
    numbers: [29, 29, 29, 29],
    positions: [0, 0, 0, a / 2, a / 2, 0.1, a / 2, 0, a / 2, 0, a / 2, a / 2],
    cell: [a, 0, 0, 0, a, 0, 0, 0, a],
    pbc: true,
  });
}

// ---- a test-only Python module of small calculators, on PYTHONPATH -----------

const TEST_CALCS = `
import os, signal, time
from ase.calculators.calculator import Calculator, all_changes
from ase.calculators.emt import EMT


class CellVolume(Calculator):
    """Energy = volume of the cell the worker built, to see the vacuum box."""
    implemented_properties = ['energy']

    def calculate(self, atoms=None, properties=['energy'], system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        self.results['energy'] = float(abs(self.atoms.get_volume()))


class Sleepy(EMT):
    """EMT that first sleeps \`sleep\` s when the first atom has atomic number \`sleep_z\`."""

    def __init__(self, sleep=0.0, sleep_z=79, **kwargs):
        EMT.__init__(self, **kwargs)
        self.sleep, self.sleep_z = sleep, sleep_z

    def calculate(self, atoms=None, properties=['energy'], system_changes=all_changes):
        if atoms is not None and atoms.numbers[0] == self.sleep_z:
            time.sleep(self.sleep)
        EMT.calculate(self, atoms, properties, system_changes)


class DiesOnce(EMT):
    """EMT whose process SIGKILLs itself the first time (marker file absent): a crash mid-evaluation."""

    def __init__(self, marker='', **kwargs):
        EMT.__init__(self, **kwargs)
        self.marker = marker

    def calculate(self, atoms=None, properties=['energy'], system_changes=all_changes):
        if not os.path.exists(self.marker):
            open(self.marker, 'w').close()
            os.kill(os.getpid(), signal.SIGKILL)
        EMT.calculate(self, atoms, properties, system_changes)


class AlwaysDies(Calculator):
    implemented_properties = ['energy']

    def calculate(self, atoms=None, properties=['energy'], system_changes=all_changes):
        os.kill(os.getpid(), signal.SIGKILL)
`;

let tmp = '';
const calcs: AseCalculator[] = [];

/** Starts a calculator whose worker sees the test module; closed after the suite. */
async function startCalc(opts: AseCalculatorOptions): Promise<AseCalculator> {
  const c = await AseCalculator.start({ ...opts, env: { PYTHONPATH: tmp, ...(opts.env ?? {}) } });
  calcs.push(c);
  return c;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function failure(p: Promise<unknown>): Promise<CalculationFailure> {
  try {
    await p;
  } catch (e) {
    if (e instanceof CalculationFailure) return e;
    throw e;
  }
  assert.fail('expected a CalculationFailure');
}

before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'asla-ase-test-'));
  writeFileSync(join(tmp, 'asla_test_calcs.py'), TEST_CALCS);
});

after(async () => {
  for (const c of calcs) await c.close();
  rmSync(tmp, { recursive: true, force: true });
});

// ---- tests ------------------------------------------------------------------

describe('AseCalculator options and paper settings', () => {
  test('the worker script is found from the package root', () => {
    assert.match(workerScript(), /python\/asla_ase_worker\.py$/);
  });

  test('a calculator that is not an import path is an InputError naming the field', () => {
    assert.throws(() => new AseCalculator({ calculator: 'EMT' }), (e: unknown) => e instanceof InputError && /'calculator'/.test(e.message));
    assert.throws(() => new AseCalculator({ calculator: EMT, mpiProcesses: 0 }), (e: unknown) => e instanceof InputError && /'mpiProcesses'/.test(e.message));
    assert.throws(() => new AseCalculator({ calculator: EMT, vacuum: -1 }), (e: unknown) => e instanceof InputError && /'vacuum'/.test(e.message));
  });

  test('gpawSettings follows Methods "DFT calculations" and Extended Data Table 1', () => {
    for (const p of ['graphene', 'graphene-edge', 'grain-boundary', 'ag'] as const) {
      const s = gpawSettings(p);
      assert.equal(s.calculator, 'gpaw.GPAW');
      assert.equal(s.kwargs.xc, 'PBE');
      assert.equal(s.kwargs.mode, 'lcao');
      assert.equal(s.kwargs.basis, 'dzp');
      assert.deepEqual(s.kwargs.kpts, [1, 1, 1]);
      assert.equal(s.kwargs.txt, null);
      assert.ok(typeof s.kwargs.maxiter === 'number' && s.kwargs.maxiter > 0);
      assert.ok(s.timeoutMs > 0 && s.vacuum > 0);
    }
    const m = gpawSettings('c3h4o2');
    assert.equal(m.kwargs.mode, 'fd');
    assert.equal(m.kwargs.xc, 'PBE');
    assert.equal(m.kwargs.kpts, undefined);
    assert.throws(() => gpawSettings('silicon' as never), InputError);
  });
});

describe('AseCalculator with EMT', { skip: aseSkip }, () => {
  test('EMT energies equal ASE run directly', async () => {
    const structures = [ag4o2(), agSlabO(), cuBulk(), graphene(3, 2)];
    const ref = directEnergies(EMT, {}, structures);
    const calc = await startCalc({ calculator: EMT });
    for (let i = 0; i < structures.length; i++) {
      const e = await calc.energy(structures[i]);
      assert.ok(Math.abs(e - ref[i]) <= 1e-9 * Math.max(1, Math.abs(ref[i])), `structure ${i}: ${e} vs ASE ${ref[i]}`);
    }
  });

  test('concurrent requests are served one at a time, each with its own energy', async () => {
    const structures = [ag4o2(), agSlabO(), cuBulk(), graphene(3, 2), agSlabO(), ag4o2()];
    const ref = directEnergies(EMT, {}, structures);
    const calc = await startCalc({ calculator: EMT });
    const got = await Promise.all(structures.map((s) => calc.energy(s)));
    for (let i = 0; i < got.length; i++) assert.ok(Math.abs(got[i] - ref[i]) <= 1e-9 * Math.max(1, Math.abs(ref[i])));
  });

  test('molecules get a vacuum box, periodic and 2D cells are kept', async () => {
    const calc = await startCalc({ calculator: 'asla_test_calcs.CellVolume', vacuum: 4 });
    const co = new Atoms({ numbers: [6, 8], positions: [0, 0, 0, 1.1, 0.2, 0.3] });
    assert.ok(Math.abs((await calc.energy(co)) - (1.1 + 8) * (0.2 + 8) * (0.3 + 8)) < 1e-9);
    const sheet = graphene(1, 1);
    assert.ok(Math.abs((await calc.energy(sheet)) - sheet.volume()) < 1e-9);
    // A 2D sheet given without its third vector gets vacuum along that axis only.
    const flat = new Atoms({ numbers: [6, 6], positions: [0, 0, 1, 1.42, 0, 1.5], cell: [3, 0, 0, 0, 4, 0, 0, 0, 0], pbc: [true, true, false] });
    assert.ok(Math.abs((await calc.energy(flat)) - 3 * 4 * (0.5 + 8)) < 1e-9);
  });

  test('invalid structures are recorded as invalid-structure', async () => {
    const calc = await startCalc({ calculator: EMT });
    const periodicNoCell = new Atoms({ numbers: [29], positions: [0, 0, 0], pbc: true });
    assert.equal((await failure(calc.energy(periodicNoCell))).kind, 'invalid-structure');
    const nan = new Atoms({ numbers: [29], positions: [0, Number.NaN, 0] });
    assert.equal((await failure(calc.energy(nan))).kind, 'invalid-structure');
    assert.ok(Number.isFinite(await calc.energy(cuBulk())), 'the worker goes on after a bad structure');
  });

  test('a missing module is one InputError line at start-up', async () => {
    await assert.rejects(AseCalculator.start({ calculator: 'asla_no_such_module.Calc' }), (e: unknown) => {
      assert.ok(e instanceof InputError);
      assert.equal(e.message, `ASE calculator 'asla_no_such_module.Calc': python module 'asla_no_such_module' not found in ${PY}`);
      return true;
    });
    // GPAW absent, as seen by the worker: a package on PYTHONPATH that shadows it and fails like a missing one.
    const noGpaw = join(tmp, 'no-gpaw');
    mkdirSync(join(noGpaw, 'gpaw'), { recursive: true });
    writeFileSync(join(noGpaw, 'gpaw', '__init__.py'), `raise ModuleNotFoundError("No module named 'gpaw'", name='gpaw')\n`);
    await assert.rejects(AseCalculator.start({ calculator: 'gpaw.GPAW', env: { PYTHONPATH: noGpaw } }), (e: unknown) => {
      assert.ok(e instanceof InputError);
      assert.equal(e.message, `ASE calculator 'gpaw.GPAW': python module 'gpaw' not found in ${PY} (Debian: apt-get install gpaw gpaw-data)`);
      return true;
    });
    await assert.rejects(AseCalculator.start({ calculator: 'ase.calculators.emt.NoSuchCalc' }), (e: unknown) => {
      assert.ok(e instanceof InputError && !e.message.includes('\n'));
      assert.match(e.message, /module 'ase\.calculators\.emt' has no attribute 'NoSuchCalc'/);
      return true;
    });
    await assert.rejects(AseCalculator.start({ calculator: EMT, python: '/nonexistent/python3' }), (e: unknown) => {
      assert.ok(e instanceof InputError && !e.message.includes('\n'));
      assert.match(e.message, /python interpreter '\/nonexistent\/python3' not found/);
      return true;
    });
  });

  test('a worker killed between evaluations is restarted', async () => {
    const calc = await startCalc({ calculator: EMT });
    const [ref] = directEnergies(EMT, {}, [cuBulk()]);
    assert.ok(Math.abs((await calc.energy(cuBulk())) - ref) < 1e-9);
    const pid = calc.pid!;
    process.kill(pid, 'SIGKILL');
    assert.ok(Math.abs((await calc.energy(cuBulk())) - ref) < 1e-9);
    assert.notEqual(calc.pid, pid);
    assert.equal(calc.restarts, 1);
  });

  test('a worker killed during an evaluation is restarted and the evaluation retried', async () => {
    // Killed from outside while it sleeps inside calculate().
    const calc = await startCalc({ calculator: 'asla_test_calcs.Sleepy', kwargs: { sleep: 1.0, sleep_z: 47 } });
    const s = agSlabO();
    const [ref] = directEnergies(EMT, {}, [s]);
    const pid = calc.pid!;
    const pending = calc.energy(s);
    await new Promise((r) => setTimeout(r, 300));
    process.kill(pid, 'SIGKILL');
    assert.ok(Math.abs((await pending) - ref) < 1e-9);
    assert.equal(calc.restarts, 1);

    // Dies by itself inside calculate() the first time.
    const once = await startCalc({ calculator: 'asla_test_calcs.DiesOnce', kwargs: { marker: join(tmp, 'died-once') } });
    assert.ok(Math.abs((await once.energy(s)) - ref) < 1e-9);
    assert.equal(once.restarts, 1);
  });

  test('a worker that dies twice on a structure gives crashed', async () => {
    const calc = await startCalc({ calculator: 'asla_test_calcs.AlwaysDies' });
    const f = await failure(calc.energy(cuBulk()));
    assert.equal(f.kind, 'crashed');
    assert.match(f.message, /died twice/);
  });

  test('an evaluation over the time limit is a timeout; the worker is killed and restarts lazily', async () => {
    const calc = await startCalc({ calculator: 'asla_test_calcs.Sleepy', kwargs: { sleep: 60, sleep_z: 79 }, timeoutMs: 500 });
    const pid = calc.pid!;
    const gold = new Atoms({ numbers: [79, 79], positions: [0, 0, 0, 2.9, 0, 0] });
    const f = await failure(calc.energy(gold));
    assert.equal(f.kind, 'timeout');
    assert.equal(calc.pid, undefined);
    for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(!alive(pid), 'the timed-out worker is gone');
    const [ref] = directEnergies(EMT, {}, [cuBulk()]);
    assert.ok(Math.abs((await calc.energy(cuBulk())) - ref) < 1e-9);
  });

  test('an aborted evaluation rejects with the abort reason and kills the worker', async () => {
    const calc = await startCalc({ calculator: 'asla_test_calcs.Sleepy', kwargs: { sleep: 60, sleep_z: 79 } });
    const pid = calc.pid!;
    const ac = new AbortController();
    const gold = new Atoms({ numbers: [79, 79], positions: [0, 0, 0, 2.9, 0, 0] });
    const pending = calc.energy(gold, { signal: ac.signal });
    setTimeout(() => ac.abort(new Error('stop requested')), 300);
    await assert.rejects(pending, /stop requested/);
    for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(!alive(pid), 'the aborted worker is gone');
    const [ref] = directEnergies(EMT, {}, [cuBulk()]);
    assert.ok(Math.abs((await calc.energy(cuBulk())) - ref) < 1e-9);
  });

  test('close() ends the worker', async () => {
    const calc = await AseCalculator.start({ calculator: EMT });
    const pid = calc.pid!;
    await calc.close();
    assert.equal(calc.pid, undefined);
    assert.ok(!alive(pid));
  });

  test('under mpiexec a calculator without MPI still answers once per request', { skip: mpiSkip }, async () => {
    const calc = await startCalc({ calculator: EMT, mpiProcesses: 2, env: MPI_ENV });
    const [ref] = directEnergies(EMT, {}, [agSlabO()]);
    assert.ok(Math.abs((await calc.energy(agSlabO())) - ref) < 1e-9);
    assert.ok(Math.abs((await calc.energy(agSlabO())) - ref) < 1e-9);
  });
});

describe('AseCalculator with GPAW', { skip: aseSkip || gpawSkip }, () => {
  const kwargs = gpawSettings('graphene').kwargs;

  test('a 2-atom graphene single point equals GPAW run directly', async () => {
    const [ref] = directEnergies('gpaw.GPAW', kwargs, [graphene2()]);
    const calc = await startCalc(gpawSettings('graphene'));
    const e = await calc.energy(graphene2());
    assert.ok(Math.abs(e - ref) < 1e-6, `${e} vs GPAW ${ref}`);
  });

  test('under mpiexec -n 2 GPAW gives the serial energy', { skip: mpiSkip }, async () => {
    const [ref] = directEnergies('gpaw.GPAW', kwargs, [graphene2()]);
    const calc = await startCalc({ ...gpawSettings('graphene'), mpiProcesses: 2, env: MPI_ENV });
    assert.equal((await calc.ready()).ranks, 2);
    const e = await calc.energy(graphene2());
    assert.ok(Math.abs(e - ref) < 1e-6, `${e} vs GPAW ${ref}`);
  });

  test('an SCF that does not converge within maxiter is not-converged', async () => {
    const calc = await startCalc({ calculator: 'gpaw.GPAW', kwargs: { ...kwargs, maxiter: 1 } });
    const f = await failure(calc.energy(graphene2()));
    assert.equal(f.kind, 'not-converged');
    assert.match(f.message, /KohnShamConvergenceError/);
  });

  test('unknown GPAW keyword arguments are one InputError line at start-up', async () => {
    await assert.rejects(AseCalculator.start({ calculator: 'gpaw.GPAW', kwargs: { ...kwargs, no_such_parameter: 1 } }), (e: unknown) => {
      assert.ok(e instanceof InputError && !e.message.includes('\n'));
      assert.match(e.message, /no_such_parameter/);
      return true;
    });
  });
});
