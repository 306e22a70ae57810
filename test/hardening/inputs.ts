/**
 * Generators of malformed input for the property tests (test/hardening/
 * badinput.test.ts) and the fuzzing run (bench/fuzz.ts): a valid preset config
 * or extxyz text with random mutations — wrong types, unknown keys, negative
 * numbers, missing fields, truncation, garbage numbers, wrong atom counts.
 */
import fc from 'fast-check';
import { stringify as toYaml } from 'yaml';
import { PRESETS } from '../../src/agent/presets.js';
import { Atoms } from '../../src/structure/atoms.js';
import { formatExtxyz } from '../../src/structure/extxyz.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Every path (keys and indices) inside a JSON value, the root excluded. */
export function pathsOf(v: Json, prefix: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = [];
  if (Array.isArray(v)) v.forEach((x, i) => out.push([...prefix, i], ...pathsOf(x, [...prefix, i])));
  else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push([...prefix, k], ...pathsOf(x, [...prefix, k]));
  return out;
}

const WRONG: Json[] = ['abc', '', -1, -0.5, 0, 1.5, 1e308, -1e308, 123456789, true, false, null, [], [1, 2], {}, { x: 1 }, '-3', 'NaN'];

export type ConfigMutation =
  | { op: 'set'; path: (string | number)[]; value: Json }
  | { op: 'delete'; path: (string | number)[] }
  | { op: 'negate'; path: (string | number)[] }
  | { op: 'unknown'; path: (string | number)[]; key: string }
  | { op: 'rename'; path: (string | number)[] };

function getAt(v: Json, path: (string | number)[]): Json {
  let cur = v;
  for (const p of path) cur = (cur as Record<string | number, Json>)[p];
  return cur;
}

/** Applies a mutation to a copy of `base`. */
export function mutate(base: Json, m: ConfigMutation): Json {
  const out = structuredClone(base);
  const parent = m.path.length > 1 ? getAt(out, m.path.slice(0, -1)) : out;
  const key = m.path[m.path.length - 1];
  const obj = parent as Record<string | number, Json>;
  switch (m.op) {
    case 'set':
      obj[key] = m.value;
      break;
    case 'delete':
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete obj[key];
      break;
    case 'negate': {
      const v = obj[key];
      obj[key] = typeof v === 'number' ? -v - 1 : v;
      break;
    }
    case 'unknown': {
      const target = getAt(out, m.path);
      if (target && typeof target === 'object' && !Array.isArray(target)) (target as Record<string, Json>)[m.key] = 1;
      else if (parent && typeof parent === 'object' && !Array.isArray(parent)) (parent as Record<string, Json>)[m.key] = 1;
      break;
    }
    case 'rename':
      if (!Array.isArray(parent) && typeof key === 'string') {
        obj[`${key}x`] = obj[key];
        delete obj[key];
      }
      break;
  }
  return out;
}

/** A valid preset as a full config (what `asla run CONFIG` reads), JSON-able. */
export function presetJson(name = 'graphene-small'): Json {
  return JSON.parse(JSON.stringify(PRESETS[name])) as Json;
}

/** One to three mutations of the preset, as a file text (YAML or JSON) and its extension. */
export function configArbitrary(name = 'graphene-small'): fc.Arbitrary<{ text: string; ext: '.yaml' | '.json'; mutations: ConfigMutation[] }> {
  const base = presetJson(name);
  const paths = pathsOf(base);
  const path = fc.constantFrom(...paths);
  const mutation: fc.Arbitrary<ConfigMutation> = fc.oneof(
    fc.record({ op: fc.constant('set' as const), path, value: fc.constantFrom(...WRONG) }),
    fc.record({ op: fc.constant('delete' as const), path }),
    fc.record({ op: fc.constant('negate' as const), path }),
    fc.record({ op: fc.constant('unknown' as const), path, key: fc.constantFrom('epsilom', 'seeds', 'foo', 'Episodes') }),
    fc.record({ op: fc.constant('rename' as const), path }),
  );
  return fc
    .record({
      mutations: fc.array(mutation, { minLength: 1, maxLength: 3 }),
      ext: fc.constantFrom('.yaml' as const, '.json' as const),
      cut: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { freq: 6 }),
      garbage: fc.option(fc.string({ maxLength: 4 }), { freq: 6 }),
    })
    .map(({ mutations, ext, cut, garbage }) => {
      let cfg = base;
      for (const m of mutations) {
        try {
          cfg = mutate(cfg, m);
        } catch {
          // a path removed by an earlier mutation
        }
      }
      let text = ext === '.json' ? JSON.stringify(cfg, null, 1) : toYaml(cfg);
      // sometimes a damaged file: cut (killed editor, full disk) or with stray characters
      if (cut !== null) text = text.slice(0, Math.floor(cut * text.length));
      if (garbage !== null) {
        const at = Math.floor(text.length / 2);
        text = text.slice(0, at) + garbage + text.slice(at);
      }
      return { text, ext, mutations };
    });
}

/** A random valid structure (1–6 atoms, molecule or periodic cell, maybe an energy). */
export const atomsArbitrary: fc.Arbitrary<Atoms> = fc
  .record({
    numbers: fc.array(fc.constantFrom(1, 6, 8, 14, 47), { minLength: 1, maxLength: 6 }),
    coords: fc.array(fc.double({ min: -20, max: 20, noNaN: true }), { minLength: 18, maxLength: 18 }),
    periodic: fc.boolean(),
    energy: fc.option(fc.double({ min: -1e4, max: 1e4, noNaN: true })),
  })
  .map(({ numbers, coords, periodic, energy }) => {
    const atoms = new Atoms({
      numbers,
      positions: coords.slice(0, 3 * numbers.length),
      cell: periodic ? [10, 0, 0, 0, 11, 0, 0, 0, 12] : [0, 0, 0, 0, 0, 0, 0, 0, 0],
      pbc: periodic ? [true, true, false] : [false, false, false],
    });
    if (energy !== null) atoms.info.energy = energy;
    return atoms;
  });

const GARBAGE_TOKENS = ['abc', '1.2.3', '--1', '1e', 'e5', '0x1G', '∞', '"', "'", '=', 'Lattice="1 2', 'T F', '', '1,5'];

/** Valid extxyz text of 1–3 frames with one to three damages: truncation, garbage tokens, wrong counts, lost or repeated lines. */
export const extxyzArbitrary: fc.Arbitrary<string> = fc
  .record({
    frames: fc.array(atomsArbitrary, { minLength: 1, maxLength: 3 }),
    damages: fc.array(
      fc.oneof(
        fc.record({ kind: fc.constant('cut' as const), at: fc.double({ min: 0, max: 1, noNaN: true }) }),
        fc.record({ kind: fc.constant('token' as const), at: fc.double({ min: 0, max: 1, noNaN: true }), token: fc.constantFrom(...GARBAGE_TOKENS) }),
        fc.record({ kind: fc.constant('count' as const), at: fc.double({ min: 0, max: 1, noNaN: true }), delta: fc.integer({ min: -3, max: 3 }) }),
        fc.record({ kind: fc.constant('line' as const), at: fc.double({ min: 0, max: 1, noNaN: true }), dup: fc.boolean() }),
        fc.record({ kind: fc.constant('chars' as const), at: fc.double({ min: 0, max: 1, noNaN: true }), s: fc.string({ maxLength: 5 }) }),
      ),
      { minLength: 1, maxLength: 3 },
    ),
  })
  .map(({ frames, damages }) => {
    let text = formatExtxyz(frames);
    for (const d of damages) {
      const lines = text.split('\n');
      const li = Math.min(lines.length - 1, Math.floor(d.at * lines.length));
      switch (d.kind) {
        case 'cut':
          text = text.slice(0, Math.floor(d.at * text.length));
          continue;
        case 'token': {
          const toks = lines[li].split(/(\s+)/);
          const words = toks.map((t, i) => (/\S/.test(t) ? i : -1)).filter((i) => i >= 0);
          if (words.length) toks[words[Math.floor(d.at * 997) % words.length]] = d.token;
          lines[li] = toks.join('');
          break;
        }
        case 'count': {
          const hi = lines.findIndex((l, i) => i >= li && /^\d+$/.test(l.trim()));
          if (hi >= 0) lines[hi] = String(Math.max(0, Number(lines[hi]) + d.delta));
          break;
        }
        case 'line':
          if (d.dup) lines.splice(li, 0, lines[li]);
          else lines.splice(li, 1);
          break;
        case 'chars': {
          const at = Math.floor(d.at * text.length);
          text = text.slice(0, at) + d.s + text.slice(at);
          continue;
        }
      }
      text = lines.join('\n');
    }
    return text;
  });
