/**
 * The calculators layer: the protocol, and a factory that builds a calculator
 * from a config's `calculator: {name, options}`.
 */
import type { Calculator } from './calculator.js';
import type { ProblemConfig } from '../agent/problem.js';
import { InputError } from '../util/errors.js';
import { TersoffCalculator } from './tersoff.js';

export * from './calculator.js';
export { TersoffCalculator } from './tersoff.js';

export const CALCULATOR_NAMES = ['tersoff'] as const;

/** Builds the named calculator; `options` are its own settings (validated here, errors name the field). */
export async function createCalculator(name: string, options: Record<string, unknown>, _problem?: ProblemConfig): Promise<Calculator> {
  switch (name) {
    case 'tersoff': {
      const known = ['params'];
      for (const k of Object.keys(options)) {
        if (!known.includes(k)) throw new InputError(`unknown option '${k}' for the tersoff calculator (known: ${known.join(', ')})`, 'calculator.options');
      }
      if (options.params !== undefined && typeof options.params !== 'string') {
        throw new InputError('must be the path of a LAMMPS .tersoff file', 'calculator.options.params');
      }
      return options.params ? TersoffCalculator.fromFile(options.params as string) : TersoffCalculator.default();
    }
    default:
      throw new InputError(`unknown calculator '${name}' (known: ${CALCULATOR_NAMES.join(', ')})`, 'calculator.name');
  }
}
