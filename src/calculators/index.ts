/**
 * The calculators layer: the protocol, and a factory that builds a calculator
 * from a config's `calculator: {name, options}`.
 *
 *   tersoff  the embedded Tersoff potential (default; options: params = a LAMMPS .tersoff file)
 *   xtb      the xtb program (GFN2 for molecules, GFN1 for periodic cells; options: XtbOptions)
 *   ase      any ASE calculator in a Python worker (options: AseCalculatorOptions, `calculator` required)
 *   gpaw     GPAW through ASE with the paper's settings for the problem (options override them)
 *   emt      ASE's EMT through the same worker (fast; Ag/Cu/Au/… and H, C, N, O)
 *   faulty   a test wrapper injecting failures (options: inner, innerOptions, rate, kinds, seed, delayMs; src/calculators/faulty.ts)
 */
import { spawnSync } from 'node:child_process';
import type { Calculator } from './calculator.js';
import type { ProblemConfig } from '../agent/problem.js';
import { InputError } from '../util/errors.js';
import { TersoffCalculator } from './tersoff.js';
import { XtbCalculator, type XtbOptions } from './xtb.js';
import { AseCalculator, gpawSettings, type AseCalculatorOptions, type PaperProblem } from './ase.js';
import { FAULT_KINDS, FaultyCalculator, type FaultKind } from './faulty.js';

export * from './calculator.js';
export { TersoffCalculator } from './tersoff.js';
export { XtbCalculator } from './xtb.js';
export { AseCalculator, gpawSettings } from './ase.js';
export { CachedCalculator } from './cache.js';
export { FaultyCalculator, FAULT_KINDS, type FaultKind } from './faulty.js';

export const CALCULATOR_NAMES = ['tersoff', 'xtb', 'ase', 'gpaw', 'emt', 'faulty'] as const;

function checkKeys(name: string, options: Record<string, unknown>, known: string[]): void {
  for (const k of Object.keys(options)) {
    if (!known.includes(k)) throw new InputError(`unknown option '${k}' for the ${name} calculator (known: ${known.join(', ')})`, 'calculator.options');
  }
}

const ASE_KEYS = ['calculator', 'kwargs', 'python', 'mpiProcesses', 'mpiexec', 'timeoutMs', 'startTimeoutMs', 'vacuum', 'env'];

/** The paper problem whose GPAW settings a config uses (by preset name). */
function paperProblem(problem?: ProblemConfig): PaperProblem {
  const name = problem?.name ?? 'graphene';
  if (name.startsWith('graphene-edge')) return 'graphene-edge';
  if (name.startsWith('grain')) return 'grain-boundary';
  if (name.startsWith('c3h4o2')) return 'c3h4o2';
  if (name.startsWith('ag')) return 'ag';
  return 'graphene';
}

/** Builds the named calculator; `options` are its own settings (validated here, errors name the field). */
export async function createCalculator(name: string, options: Record<string, unknown>, problem?: ProblemConfig): Promise<Calculator> {
  switch (name) {
    case 'tersoff': {
      checkKeys(name, options, ['params']);
      if (options.params !== undefined && typeof options.params !== 'string') {
        throw new InputError('must be the path of a LAMMPS .tersoff file', 'calculator.options.params');
      }
      return options.params ? TersoffCalculator.fromFile(options.params as string) : TersoffCalculator.default();
    }
    case 'xtb':
      checkKeys(name, options, ['method', 'threads', 'concurrency', 'timeoutMs', 'charge', 'uhf', 'executable', 'retryEtemp', 'vacuum']);
      {
        const exe = typeof options.executable === 'string' ? options.executable : 'xtb';
        const probe = spawnSync(exe, ['--version'], { stdio: 'ignore', timeout: 30000 });
        if (probe.error) throw new InputError(`'${exe}' not found (Debian: apt-get install xtb)`, 'calculator xtb');
      }
      return new XtbCalculator(options as XtbOptions);
    case 'ase': {
      checkKeys(name, options, ASE_KEYS);
      if (typeof options.calculator !== 'string') {
        throw new InputError("must name an ASE calculator class, e.g. 'ase.calculators.emt.EMT'", 'calculator.options.calculator');
      }
      return AseCalculator.start(options as unknown as AseCalculatorOptions);
    }
    case 'gpaw': {
      checkKeys(name, options, ASE_KEYS.filter((k) => k !== 'calculator'));
      const base = gpawSettings(paperProblem(problem));
      const kwargs = { ...base.kwargs, ...((options.kwargs as Record<string, unknown> | undefined) ?? {}) };
      return AseCalculator.start({ ...base, ...(options as Partial<AseCalculatorOptions>), kwargs });
    }
    case 'emt':
      checkKeys(name, options, ASE_KEYS.filter((k) => k !== 'calculator'));
      return AseCalculator.start({ ...(options as Partial<AseCalculatorOptions>), calculator: 'ase.calculators.emt.EMT' });
    case 'faulty': {
      checkKeys(name, options, ['inner', 'innerOptions', 'rate', 'kinds', 'seed', 'delayMs']);
      const where = 'calculator.options';
      const inner = options.inner ?? 'tersoff';
      if (typeof inner !== 'string' || inner === 'faulty') throw new InputError('must name another calculator, e.g. tersoff', `${where}.inner`);
      const innerOptions = options.innerOptions ?? {};
      if (typeof innerOptions !== 'object' || innerOptions === null || Array.isArray(innerOptions)) throw new InputError('must be a mapping', `${where}.innerOptions`);
      const rate = options.rate ?? 0.1;
      if (typeof rate !== 'number' || !(rate >= 0 && rate <= 1)) throw new InputError(`must be a number in [0, 1], got ${JSON.stringify(rate)}`, `${where}.rate`);
      const kinds = options.kinds ?? [...FAULT_KINDS];
      if (!Array.isArray(kinds) || kinds.length === 0 || kinds.some((k) => !FAULT_KINDS.includes(k as FaultKind))) {
        throw new InputError(`must be a non-empty list of ${FAULT_KINDS.join(', ')}`, `${where}.kinds`);
      }
      for (const k of ['seed', 'delayMs'] as const) {
        const v = options[k];
        if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v) || v < 0)) throw new InputError(`must be an integer ≥ 0, got ${JSON.stringify(v)}`, `${where}.${k}`);
      }
      const innerCalc = await createCalculator(inner, innerOptions as Record<string, unknown>, problem);
      return new FaultyCalculator(innerCalc, { rate, kinds: kinds as FaultKind[], seed: options.seed as number | undefined, delayMs: options.delayMs as number | undefined });
    }
    default:
      throw new InputError(`unknown calculator '${name}' (known: ${CALCULATOR_NAMES.join(', ')})`, 'calculator.name');
  }
}
