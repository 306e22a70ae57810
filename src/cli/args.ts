/**
 * Command-line flags for every `asla` command: node's parseArgs, strict, with
 * its error turned into a one-line InputError (no stack trace, exit 2).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { InputError } from '../util/errors.js';

export function parseFlags<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (e) {
    throw new InputError((e as Error).message.split('\n')[0]);
  }
}

/** An integer flag ≥ min, or undefined when absent. */
export function intFlag(value: unknown, flag: string, min = 0): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new InputError(`must be an integer ≥ ${min}, got '${value}'`, flag);
  return n;
}
