/**
 * Reading a problem: a preset name, or a YAML/JSON config file that may start
 * from a preset (`preset: graphene`) and override any field. Errors name the
 * file (and, through validation, the field).
 */
import { existsSync, readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { PRESETS, presetNames } from './presets.js';
import { applySets, mergeConfig, validateProblem, type ProblemConfig } from './problem.js';
import { InputError } from '../util/errors.js';

/** The raw (unvalidated) config of a preset name or config file, and a name for errors. */
export function loadProblem(spec: string): { raw: unknown; where: string } {
  if (spec in PRESETS) return { raw: structuredClone(PRESETS[spec]), where: `preset ${spec}` };
  if (!existsSync(spec)) {
    throw new InputError(`neither a preset (${presetNames().join(', ')}) nor an existing config file`, spec);
  }
  const text = readFileSync(spec, 'utf8');
  let data: unknown;
  try {
    data = extname(spec) === '.json' ? JSON.parse(text) : parseYaml(text, { prettyErrors: false, logLevel: 'error' });
  } catch (e) {
    throw new InputError(`cannot parse: ${(e as Error).message.split('\n')[0]}`, spec);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new InputError('must hold a mapping of config fields', spec);
  const { preset, ...fields } = data as Record<string, unknown>;
  if (preset !== undefined) {
    if (typeof preset !== 'string' || !(preset in PRESETS)) {
      throw new InputError(`field preset: unknown preset ${JSON.stringify(preset)} (known: ${presetNames().join(', ')})`, spec);
    }
    return { raw: mergeConfig(structuredClone(PRESETS[preset]), fields), where: spec };
  }
  return { raw: fields, where: spec };
}

/** A validated problem from a preset name or config file with `--set key=value` overrides. */
export function resolveProblem(spec: string, sets: string[]): ProblemConfig {
  const { raw, where } = loadProblem(spec);
  return validateProblem(applySets(raw, sets), where);
}
