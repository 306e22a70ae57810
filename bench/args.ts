/**
 * Flags of the bench scripts: strict, like the `asla` commands; an unknown or
 * malformed flag is one line on stderr naming the script, exit 2, no stack trace.
 */
import type { ParseArgsConfig, parseArgs } from 'node:util';
import { parseFlags } from '../src/cli/args.js';

export function benchFlags<T extends ParseArgsConfig>(script: string, config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseFlags(config);
  } catch (e) {
    process.stderr.write(`bench/${script}: ${(e as Error).message} (the flags are listed at the top of bench/${script}.ts)\n`);
    process.exit(2);
  }
}
