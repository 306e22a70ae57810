import { readFileSync } from 'node:fs';
import { InputError } from './errors.js';

/** A JSON file's value; a one-line InputError naming the file when it cannot be read or parsed. */
export function readJsonFile(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new InputError(`cannot read JSON: ${(e as Error).message.split('\n')[0]}`, path);
  }
}
