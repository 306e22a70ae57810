/**
 * Fuzzing the input parsers (issue 11): many malformed inputs through the
 * extxyz reader (parseExtxyz) and the config loader (resolveProblem: YAML/JSON
 * file → preset merge → validation). Each input must either parse or throw an
 * InputError with a one-line message naming the file (and its line or field);
 * anything else (TypeError, RangeError, a multi-line message, a hang) counts as
 * a finding.
 *
 *   node dist/bench/fuzz.js [--inputs 100000] [--seed 1]
 *
 * Inputs: half extxyz (damaged valid files, test/hardening/inputs.ts, plus raw
 * random text), half configs (mutated presets in YAML or JSON, cut or garbled).
 * Prints JSON: inputs tried, accepted, InputErrors, other throws (with examples).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchFlags } from './args.js';
import fc from 'fast-check';
import { resolveProblem } from '../src/agent/config-file.js';
import { parseExtxyz } from '../src/structure/extxyz.js';
import { InputError } from '../src/util/errors.js';
import { configArbitrary, extxyzArbitrary } from '../test/hardening/inputs.js';

const { values } = benchFlags('fuzz', { options: { inputs: { type: 'string', default: '100000' }, seed: { type: 'string', default: '1' } } });
const total = Number(values.inputs);
const seed = Number(values.seed);
const dir = mkdtempSync(join(tmpdir(), 'asla-fuzz-'));

interface Tally {
  tried: number;
  accepted: number;
  inputErrors: number;
  other: number;
  examples: string[];
}
const tally = (): Tally => ({ tried: 0, accepted: 0, inputErrors: 0, other: 0, examples: [] });
const results = { extxyzDamaged: tally(), extxyzRandomText: tally(), config: tally() };

function check(t: Tally, run: () => void, name: string, input: string): void {
  t.tried++;
  try {
    run();
    t.accepted++;
  } catch (e) {
    const ok = e instanceof InputError && !e.message.includes('\n') && e.message.startsWith(name);
    if (ok) t.inputErrors++;
    else {
      t.other++;
      if (t.examples.length < 5) t.examples.push(`${(e as Error).name}: ${(e as Error).message.slice(0, 200)} <- ${JSON.stringify(input.slice(0, 200))}`);
    }
  }
}

const t0 = performance.now();
const chunk = 2000;
const quarter = Math.floor(total / 4);
const randomText = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.array(fc.oneof(fc.constantFrom('2', '3', '\n', ' ', 'C', 'H', '0.0', '1e3', 'Lattice="', 'Properties=species:S:1:pos:R:3', 'pbc="T T F"', '"', '='), fc.string({ maxLength: 3 })), { maxLength: 60 }).map((a) => a.join('')),
);
for (let done = 0, k = 0; done < 2 * quarter; done += chunk, k++) {
  for (const text of fc.sample(extxyzArbitrary, { numRuns: Math.min(chunk, 2 * quarter - done), seed: seed * 1000 + k })) {
    check(results.extxyzDamaged, () => parseExtxyz(text, 'fuzz.extxyz'), 'fuzz.extxyz:', text);
  }
}
for (let done = 0, k = 0; done < total - 3 * quarter; done += chunk, k++) {
  for (const text of fc.sample(randomText, { numRuns: Math.min(chunk, total - 3 * quarter - done), seed: seed * 2000 + k })) {
    check(results.extxyzRandomText, () => parseExtxyz(text, 'fuzz.extxyz'), 'fuzz.extxyz:', text);
  }
}
const arb = configArbitrary();
for (let done = 0, k = 0; done < quarter; done += chunk, k++) {
  for (const { text, ext } of fc.sample(arb, { numRuns: Math.min(chunk, quarter - done), seed: seed * 3000 + k })) {
    const file = join(dir, `fuzz${ext}`);
    writeFileSync(file, text);
    check(results.config, () => resolveProblem(file, []), file, text);
  }
}
rmSync(dir, { recursive: true, force: true });
const all = Object.values(results);
process.stdout.write(
  JSON.stringify(
    {
      command: `node dist/bench/fuzz.js ${process.argv.slice(2).join(' ')}`.trim(),
      tried: all.reduce((a, t) => a + t.tried, 0),
      accepted: all.reduce((a, t) => a + t.accepted, 0),
      inputErrors: all.reduce((a, t) => a + t.inputErrors, 0),
      otherThrows: all.reduce((a, t) => a + t.other, 0),
      ...results,
      seconds: Math.round(performance.now() - t0) / 1000,
    },
    null,
    2,
  ) + '\n',
);
