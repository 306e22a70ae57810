/**
 * Extended XYZ read/write, compatible with ASE's `ase.io.extxyz` (ASE 3.22.1,
 * J. Kermode's format: https://github.com/libAtoms/extxyz).
 *
 * A frame is
 *
 *     <number of atoms>
 *     Lattice="ax ay az bx by bz cx cy cz" Properties=species:S:1:pos:R:3:forces:R:3 energy=-1.5 pbc="T T F"
 *     C   0.0 0.0 0.0  0.1 0.0 0.0
 *     ...
 *
 * - `Lattice` lists the cell vectors a, b, c one after the other, i.e. the rows
 *   of Atoms.cell (ASE: "NB: ASE cell is transpose of extended XYZ lattice",
 *   stored in Fortran order, which comes to the same thing).
 * - `Properties` names the per-atom columns as NAME:TYPE:NCOLS triplets, TYPE one
 *   of R (real), I (integer), L (logical T/F/True/False), S (string). `species`
 *   and `pos` (or `Z`) go to Atoms.numbers/positions; a logical column `fixed`
 *   goes to Atoms.fixed; ASE's `move_mask:L:1` (true = free to move, ASE's
 *   FixAtoms) goes to Atoms.fixed inverted; everything else is kept in
 *   Atoms.arrays with its type and column count.
 * - `pbc` sets periodicity; with a Lattice and no pbc ASE assumes "T T T",
 *   without a Lattice it assumes none.
 * - Every other key=value pair goes to Atoms.info, typed as ASE types it: all
 *   tokens integers → number (or number[] for several), else all floats →
 *   number/number[], else all T/F → boolean/boolean[], else `_JSON ...` → the
 *   JSON value, else the string. A bare key means true.
 *
 * When writing, numbers in Atoms.info cannot tell integer from float in
 * JavaScript: integer-valued numbers are written as integers ("3"), except for
 * keys that are floats by definition (energy, free_energy, ... see FLOAT_INFO_KEYS
 * and the `floatKeys` option), which are always written with a decimal point so
 * ASE reads them as floats. Real columns and Lattice are written with the
 * shortest representation that reads back to the identical double.
 */
import { readFileSync, writeFileSync, renameSync, unlinkSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { Atoms, type Pbc, type PerAtomArray } from './atoms.js';
import { atomicNumber, isElementSymbol, symbolOf } from './elements.js';
import { InputError } from '../util/errors.js';

/** Info keys that are floats by definition (ASE's per-config results), always written as floats. */
export const FLOAT_INFO_KEYS: ReadonlySet<string> = new Set(['energy', 'free_energy', 'magmom', 'dipole', 'stress', 'virial']);

/** Keys that ASE reshapes to 3×3 matrices (Fortran order); they must hold 9 numbers. */
const SPECIAL_3_3_KEYS = new Set(['Lattice', 'virial', 'stress']);
/** Keys ASE leaves as raw strings. */
const UNPROCESSED_KEYS = new Set(['uid']);
/** Keys the writer owns: an info entry with one of these names would be ambiguous. */
const RESERVED_KEYS = new Set(['Lattice', 'Properties', 'pbc']);

interface Property {
  name: string;
  type: 'R' | 'I' | 'L' | 'S';
  ncols: number;
  /** First column of this property on an atom line. */
  offset: number;
}

// ---------------------------------------------------------------------------
// Reading

/**
 * Parse all frames of an extended XYZ text. `filename` is only used in error
 * messages, which name file:line and the field at fault.
 */
export function parseExtxyz(text: string, filename = '<extxyz>'): Atoms[] {
  const lines = text.split(/\r?\n/);
  let last = lines.length - 1;
  while (last >= 0 && lines[last].trim() === '') last--;
  const frames: Atoms[] = [];
  let i = 0;
  while (i <= last) {
    // Blank lines between frames are skipped (ASE stops at the first one).
    if (lines[i].trim() === '') {
      i++;
      continue;
    }
    i = parseFrame(lines, i, last, filename, frames);
  }
  return frames;
}

/** Read all frames of an extended XYZ file. */
export function readExtxyz(path: string): Atoms[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new InputError(`cannot read file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, path);
  }
  return parseExtxyz(text, path);
}

function where(file: string, lineIndex: number): string {
  return `${file}:${lineIndex + 1}`;
}

/** Parses the frame whose header is lines[start]; pushes it and returns the index after it. */
function parseFrame(lines: string[], start: number, last: number, file: string, out: Atoms[]): number {
  const header = lines[start].trim();
  if (!/^\d+$/.test(header)) {
    const hint = out.length > 0 ? ' (does the previous frame declare too few atoms?)' : '';
    throw new InputError(`expected the number of atoms of a frame, found '${clip(header)}'${hint}`, where(file, start));
  }
  const natoms = Number(header);
  if (start + 1 > last && natoms > 0) {
    throw new InputError(`file ends after the header of a frame of ${natoms} atoms (no comment line)`, where(file, start));
  }
  const commentIndex = start + 1;
  const kv = commentIndex < lines.length ? parseKeyValues(lines[commentIndex], file, commentIndex) : new Map<string, unknown>();

  // Cell: Lattice lists the cell vectors a, b, c; these are Atoms.cell's rows.
  let cell: Float64Array | undefined;
  if (kv.has('Lattice')) {
    cell = Float64Array.from(kv.get('Lattice') as number[]);
    kv.delete('Lattice');
  }
  let pbc: Pbc = cell ? [true, true, true] : [false, false, false];
  if (kv.has('pbc')) {
    pbc = toPbc(kv.get('pbc'), file, commentIndex);
    kv.delete('pbc');
  }
  const propString = kv.has('Properties') ? kv.get('Properties') : 'species:S:1:pos:R:3';
  kv.delete('Properties');
  if (typeof propString !== 'string') {
    throw new InputError(`field 'Properties' must be NAME:TYPE:NCOLS triplets, got '${String(propString)}'`, where(file, commentIndex));
  }
  const { props, ncolsTotal } = parseProperties(propString, file, commentIndex);

  // A header larger than the rest of the file is reported as truncation by the
  // loop below; size the buffers by what can be there so a corrupt header
  // ("3000000000") cannot allocate gigabytes first.
  const capacity = Math.max(0, Math.min(natoms, last - commentIndex));
  const numbers = new Int32Array(capacity);
  const positions = new Float64Array(3 * capacity);
  const columns = new Map<string, (number | string | boolean)[]>();
  for (const p of props) columns.set(p.name, new Array(capacity * p.ncols));

  for (let a = 0; a < natoms; a++) {
    const li = commentIndex + 1 + a;
    if (li > last) {
      throw new InputError(
        `file ends after ${a} of the ${natoms} atoms declared by the frame header at line ${start + 1}`,
        where(file, Math.min(li, lines.length - 1)),
      );
    }
    const line = lines[li].trim();
    const tokens = line === '' ? [] : line.split(/\s+/);
    if (tokens.length !== ncolsTotal) {
      throw new InputError(
        `atom ${a + 1} of ${natoms} (frame header at line ${start + 1}) has ${tokens.length} columns, ` +
          `Properties=${propString} needs ${ncolsTotal}`,
        where(file, li),
      );
    }
    for (const p of props) {
      const col = columns.get(p.name)!;
      for (let c = 0; c < p.ncols; c++) {
        const tok = tokens[p.offset + c];
        const field = p.ncols === 1 ? p.name : `${p.name}[${c}]`;
        col[a * p.ncols + c] = convertToken(tok, p.type, file, li, field);
      }
    }
  }

  // species / Z -> numbers; pos -> positions; fixed / move_mask -> fixed.
  const species = columns.get('species') as string[] | undefined;
  const zcol = columns.get('Z') as number[] | undefined;
  if (species) {
    for (let a = 0; a < natoms; a++) {
      // ASE capitalizes symbols ('CL' -> 'Cl') before the lookup.
      const s = capitalize(species[a]);
      if (!isElementSymbol(s)) {
        throw new InputError(`unknown element symbol '${species[a]}' in field 'species'`, where(file, commentIndex + 1 + a));
      }
      numbers[a] = atomicNumber(s);
      if (zcol && zcol[a] !== numbers[a]) {
        throw new InputError(`field 'Z' (${zcol[a]}) contradicts species '${species[a]}'`, where(file, commentIndex + 1 + a));
      }
    }
  } else if (zcol) {
    for (let a = 0; a < natoms; a++) {
      if (zcol[a] < 0 || !isElementSymbolZ(zcol[a])) {
        throw new InputError(`field 'Z' holds ${zcol[a]}, not a known atomic number`, where(file, commentIndex + 1 + a));
      }
      numbers[a] = zcol[a];
    }
  } else {
    throw new InputError(`field 'Properties' names neither a 'species:S:1' nor a 'Z:I:1' column: '${propString}'`, where(file, commentIndex));
  }
  const pos = columns.get('pos') as number[] | undefined;
  if (!pos) throw new InputError(`field 'Properties' has no 'pos:R:3' column: '${propString}'`, where(file, commentIndex));
  for (let k = 0; k < 3 * natoms; k++) positions[k] = pos[k];

  const fixed = new Uint8Array(natoms);
  const fixedCol = columns.get('fixed') as boolean[] | undefined;
  const moveMask = props.find((p) => p.name === 'move_mask' && p.type === 'L' && p.ncols === 1);
  const handled = new Set(['species', 'pos', 'Z']);
  if (fixedCol) {
    for (let a = 0; a < natoms; a++) fixed[a] = fixedCol[a] ? 1 : 0;
    handled.add('fixed');
  } else if (moveMask) {
    const mm = columns.get('move_mask') as boolean[];
    for (let a = 0; a < natoms; a++) fixed[a] = mm[a] ? 0 : 1;
    handled.add('move_mask');
  }

  const arrays: Record<string, PerAtomArray> = {};
  for (const p of props) {
    if (handled.has(p.name)) continue;
    arrays[p.name] = { type: p.type, ncols: p.ncols, values: columns.get(p.name) as PerAtomArray['values'] };
  }

  out.push(
    new Atoms({
      numbers,
      positions,
      cell,
      pbc,
      fixed,
      info: Object.fromEntries(kv),
      arrays,
    }),
  );
  return commentIndex + 1 + natoms;
}

function isElementSymbolZ(z: number): boolean {
  try {
    symbolOf(z);
    return true;
  } catch {
    return false;
  }
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1).toLowerCase();
}

function clip(s: string): string {
  return s.length > 40 ? `${s.slice(0, 40)}...` : s;
}

function toPbc(v: unknown, file: string, li: number): Pbc {
  if (typeof v === 'boolean') return [v, v, v];
  if (Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === 'boolean')) return [v[0], v[1], v[2]];
  throw new InputError(`field 'pbc' must be three of T/F, got ${JSON.stringify(v)}`, where(file, li));
}

function parseProperties(s: string, file: string, li: number): { props: Property[]; ncolsTotal: number } {
  const fields = s.split(':');
  if (fields.length % 3 !== 0 || s === '') {
    throw new InputError(`field 'Properties' must be NAME:TYPE:NCOLS triplets, got '${s}'`, where(file, li));
  }
  const props: Property[] = [];
  let offset = 0;
  for (let k = 0; k < fields.length; k += 3) {
    const [name, type, n] = [fields[k], fields[k + 1], fields[k + 2]];
    if (type !== 'R' && type !== 'I' && type !== 'L' && type !== 'S') {
      throw new InputError(`field 'Properties': property '${name}' has unknown type '${type}' (R, I, L or S)`, where(file, li));
    }
    if (!/^\d+$/.test(n) || Number(n) < 1) {
      throw new InputError(`field 'Properties': property '${name}' has column count '${n}', expected a positive integer`, where(file, li));
    }
    if (props.some((p) => p.name === name)) {
      throw new InputError(`field 'Properties': property '${name}' appears twice`, where(file, li));
    }
    const ncols = Number(n);
    const expect: Record<string, string> = { species: 'S:1', pos: 'R:3', Z: 'I:1', fixed: 'L:1' };
    if (name in expect && `${type}:${ncols}` !== expect[name]) {
      throw new InputError(`field 'Properties': '${name}' must be ${name}:${expect[name]}, got ${name}:${type}:${ncols}`, where(file, li));
    }
    props.push({ name, type, ncols, offset });
    offset += ncols;
  }
  return { props, ncolsTotal: offset };
}

const INT_RE = /^[+-]?\d+$/;
const FLOAT_RE = /^[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)$/;
const SPECIAL_FLOAT_RE = /^([+-]?)(inf|infinity|nan)$/i;

/** Python's float(): decimal, exponent, inf/infinity/nan; undefined if not a float. */
function parseFloatToken(tok: string): number | undefined {
  if (FLOAT_RE.test(tok)) return Number(tok);
  const m = SPECIAL_FLOAT_RE.exec(tok);
  if (m) return m[2].toLowerCase() === 'nan' ? NaN : m[1] === '-' ? -Infinity : Infinity;
  return undefined;
}

function convertToken(tok: string, type: Property['type'], file: string, li: number, field: string): number | string | boolean {
  switch (type) {
    case 'R': {
      const v = parseFloatToken(tok);
      if (v === undefined) throw new InputError(`field '${field}': '${clip(tok)}' is not a real number`, where(file, li));
      return v;
    }
    case 'I': {
      if (!INT_RE.test(tok)) throw new InputError(`field '${field}': '${clip(tok)}' is not an integer`, where(file, li));
      return Number(tok);
    }
    case 'L': {
      if (tok === 'T' || tok === 'True') return true;
      if (tok === 'F' || tok === 'False') return false;
      throw new InputError(`field '${field}': '${clip(tok)}' is not a logical (T/F/True/False)`, where(file, li));
    }
    default:
      return tok;
  }
}

/**
 * The comment line as ordered key → typed value, a port of ASE's
 * `key_val_str_to_dict`: values may be quoted with "", '', {} or [], a
 * backslash escapes the next character, a key without value means true.
 */
export function parseKeyValues(line: string, file = '<extxyz>', li = 0): Map<string, unknown> {
  const closing: Record<string, string> = { "'": "'", '"': '"', '{': '}', '[': ']' };
  // Each entry: [key chars, value chars, ...] (several '=' are joined back).
  const pairs: string[][] = [['']];
  let delim: string | null = null;
  let escaped = false;
  const s = line.trim();
  const isEmptyStart = () => pairs.length === 1 && pairs[0].length === 1 && pairs[0][0] === '';
  for (const ch of s) {
    const cur = pairs[pairs.length - 1];
    if (escaped) {
      cur[cur.length - 1] += ch;
      escaped = false;
    } else if (ch === '\\') {
      escaped = true;
    } else if (delim !== null) {
      if (ch === delim) delim = null;
      else cur[cur.length - 1] += ch;
    } else if (ch in closing) {
      delim = closing[ch];
    } else if (/\s/.test(ch)) {
      if (isEmptyStart()) continue;
      if (cur[cur.length - 1] === '') continue;
      pairs.push(['']);
    } else if (ch === '=') {
      // "key = value": the blank started a new pair; merge it back.
      if (cur.length === 1 && cur[0] === '' && pairs.length > 1) pairs.pop();
      pairs[pairs.length - 1].push('');
    } else {
      cur[cur.length - 1] += ch;
    }
  }
  if (delim !== null) throw new InputError(`unterminated quote ${delim} in the comment line`, where(file, li));

  const out = new Map<string, unknown>();
  for (const pair of pairs) {
    if (pair.length === 1 && pair[0] === '') continue;
    const key = pair[0];
    const raw = pair.length === 1 ? 'T' : pair.slice(1).join('=');
    let value: unknown = raw;
    if (!UNPROCESSED_KEYS.has(key.toLowerCase())) value = typeValue(raw);
    if (SPECIAL_3_3_KEYS.has(key)) {
      if (!Array.isArray(value) || value.length !== 9 || !value.every((x) => typeof x === 'number')) {
        throw new InputError(`field '${key}' must be 9 numbers (a 3x3 matrix), got '${clip(raw)}'`, where(file, li));
      }
    }
    out.set(key, value);
  }
  return out;
}

/** ASE's typing of an info value (see the module comment). */
function typeValue(raw: string): unknown {
  const tokens = raw.match(/[^\s,]+/g) ?? [];
  if (tokens.every((t) => INT_RE.test(t))) {
    const v = tokens.map(Number);
    return v.length === 1 ? v[0] : v;
  }
  const floats = tokens.map(parseFloatToken);
  if (floats.every((x) => x !== undefined)) return floats.length === 1 ? floats[0] : (floats as number[]);
  const bools: Record<string, boolean> = { T: true, F: false, True: true, False: false };
  if (tokens.every((t) => t in bools)) {
    const v = tokens.map((t) => bools[t]);
    return v.length === 1 ? v[0] : v;
  }
  if (raw.startsWith('_JSON ')) {
    try {
      return JSON.parse(raw.slice(6));
    } catch {
      return raw;
    }
  }
  return raw;
}

// ---------------------------------------------------------------------------
// Writing

export interface FormatOptions {
  /** Extra info keys to always write as floats (besides FLOAT_INFO_KEYS). */
  floatKeys?: Iterable<string>;
}

/** Shortest text that reads back (in JS and Python) to the same double, always float-looking. */
export function formatFloat(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (Object.is(x, -0)) return '-0.0'; // as Python's repr, so -0 survives the round trip
  const s = String(x);
  return /^-?\d+$/.test(s) ? `${s}.0` : s;
}

function formatNumber(x: number, asFloat: boolean): string {
  return !asFloat && Number.isSafeInteger(x) ? String(x) : formatFloat(x);
}

/** ASE's escape(): quote a key or value containing blanks, quotes, brackets or '='. */
function escape(s: string): string {
  if (/[\s"'{}[\]=\\]/.test(s) || s === '') return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  return s;
}

function isNumberArray(v: unknown): v is ArrayLike<number> {
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return !(v instanceof BigInt64Array || v instanceof BigUint64Array);
  return Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'number');
}

function formatInfoValue(key: string, v: unknown, floatKeys: Set<string>): string | undefined {
  if (v === undefined) return undefined;
  if (v === null) return '';
  const asFloat = floatKeys.has(key);
  if (typeof v === 'boolean') return v ? 'T' : 'F';
  if (typeof v === 'number') return formatNumber(v, asFloat);
  if (typeof v === 'string') {
    if (v.includes('\n')) throw new InputError(`info value contains a line break`, `info key '${key}'`);
    return escape(v);
  }
  if (isNumberArray(v)) {
    const arr = Array.from(v);
    // A vector is typed by its tokens on reading: one float token makes all floats.
    const float = asFloat || v instanceof Float64Array || v instanceof Float32Array || arr.some((x) => !Number.isSafeInteger(x));
    return escape(arr.map((x) => formatNumber(x, float)).join(' '));
  }
  if (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'boolean')) {
    return escape(v.map((x) => (x ? 'T' : 'F')).join(' '));
  }
  return escape(`_JSON ${JSON.stringify(v)}`);
}

/** The comment (second) line of a frame. */
function commentLine(atoms: Atoms, props: string, floatKeys: Set<string>): string {
  const parts: string[] = [];
  if (atoms.cell.some((x) => x !== 0)) {
    parts.push(`Lattice="${Array.from(atoms.cell, formatFloat).join(' ')}"`);
  }
  parts.push(`Properties=${props}`);
  for (const [key, v] of Object.entries(atoms.info)) {
    if (RESERVED_KEYS.has(key)) throw new InputError(`info key '${key}' is reserved in extended XYZ`, `info key '${key}'`);
    const text = formatInfoValue(key, v, floatKeys);
    if (text === undefined) continue;
    parts.push(text === '' ? escape(key) : `${escape(key)}=${text}`);
  }
  parts.push(`pbc="${atoms.pbc.map((b) => (b ? 'T' : 'F')).join(' ')}"`);
  return parts.join(' ');
}

/** One frame or several as extended XYZ text (ends with a newline). */
export function formatExtxyz(frames: Atoms | Atoms[], options: FormatOptions = {}): string {
  const list = Array.isArray(frames) ? frames : [frames];
  const floatKeys = new Set([...FLOAT_INFO_KEYS, ...(options.floatKeys ?? [])]);
  const out: string[] = [];
  for (const atoms of list) {
    const n = atoms.length;
    const writeFixed = atoms.fixed.some((f) => f !== 0);
    const extra = Object.entries(atoms.arrays);
    for (const [name, arr] of extra) {
      if (name === 'species' || name === 'pos' || name === 'Z' || (name === 'fixed' && writeFixed)) {
        throw new InputError(`per-atom array '${name}' clashes with a column asla writes itself`, `array '${name}'`);
      }
      if (!/^[A-Za-z_][A-Za-z0-9_-]*$/.test(name)) {
        throw new InputError(`per-atom array name '${name}' is not a valid Properties name`, `array '${name}'`);
      }
      if (arr.values.length !== n * arr.ncols) {
        throw new InputError(`per-atom array '${name}' has ${arr.values.length} values for ${n} atoms x ${arr.ncols} columns`, `array '${name}'`);
      }
    }
    let props = 'species:S:1:pos:R:3';
    for (const [name, arr] of extra) props += `:${name}:${arr.type}:${arr.ncols}`;
    if (writeFixed) props += ':fixed:L:1';

    out.push(String(n));
    out.push(commentLine(atoms, props, floatKeys));
    const p = atoms.positions;
    for (let a = 0; a < n; a++) {
      let line = symbolOf(atoms.numbers[a]).padEnd(2);
      for (let k = 0; k < 3; k++) line += ' ' + formatFloat(p[3 * a + k]).padStart(16);
      for (const [name, arr] of extra) {
        for (let c = 0; c < arr.ncols; c++) {
          const v = arr.values[a * arr.ncols + c];
          line += ' ' + formatColumnValue(v, arr.type, name);
        }
      }
      if (writeFixed) line += atoms.fixed[a] ? ' T' : ' F';
      out.push(line);
    }
  }
  return out.join('\n') + '\n';
}

function formatColumnValue(v: number | string | boolean, type: PerAtomArray['type'], name: string): string {
  switch (type) {
    case 'R':
      if (typeof v !== 'number') break;
      return formatFloat(v).padStart(16);
    case 'I':
      if (typeof v !== 'number' || !Number.isSafeInteger(v)) break;
      return String(v).padStart(8);
    case 'L':
      if (typeof v !== 'boolean' && v !== 0 && v !== 1) break;
      return v ? 'T' : 'F';
    case 'S':
      if (typeof v !== 'string' || v === '' || /\s/.test(v)) break;
      return v;
  }
  throw new InputError(`per-atom array '${name}' of type ${type} holds ${JSON.stringify(v)}`, `array '${name}'`);
}

/**
 * Write frames to `path` atomically: the text goes to a temporary file in the
 * same directory which is then renamed over `path`, so a crash never leaves a
 * half-written file behind.
 */
export function writeExtxyz(path: string, frames: Atoms | Atoms[], options: FormatOptions = {}): void {
  const text = formatExtxyz(frames, options);
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
  try {
    writeFileSync(tmp, text, 'utf8');
    renameSync(tmp, path);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      /* the temporary file may not exist */
    }
    throw new InputError(`cannot write file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, path);
  }
}
