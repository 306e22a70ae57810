/**
 * The calculators layer: the protocol, and a factory that builds a calculator
 * from a config's `calculator: {name, options}`.
 *
 *   tersoff  the embedded Tersoff potential (default; options: params = a LAMMPS .tersoff file)
 *   xtb      the xtb program (GFN2 for molecules, GFN1 for periodic cells; options: XtbOptions)
 *   ase      any ASE calculator in a Python worker (options: AseCalculatorOptions, `calculator` required)
 *   gpaw     GPAW through ASE with the paper's settings for the problem (options override them)
 *   emt      ASE's EMT through the same worker (fast; Ag/Cu/Au/… and H, C, N, O)
 */
import { spawnSync } from 'node:child_process';
import type { Calculator } from './calculator.js';
import type { ProblemConfig } from '../agent/problem.js';
import { InputError } from '../util/errors.js';
import { TersoffCalculator } from './tersoff.js';
import { XtbCalculator, type XtbOptions } from './xtb.js';
import { AseCalculator, gpawSettings, type AseCalculatorOptions, type PaperProblem } from './ase.js';

export * from './calculator.js';
export { TersoffCalculator } from './tersoff.js';
export { XtbCalculator } from './xtb.js';
export { AseCalculator, gpawSettings } from './ase.js';
export { CachedCalculator } from './cache.js';

export const CALCULATOR_NAMES = ['tersoff', 'xtb', 'ase', 'gpaw', 'emt'] as const;

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
    default:
      throw new InputError(`unknown calculator '${name}' (known: ${CALCULATOR_NAMES.join(', ')})`, 'calculator.name');
  }
}
