/**
 * The Atoms type: what a structure is everywhere in asla. Modelled on ASE's
 * `Atoms`: element numbers, Cartesian positions in Å, a 3×3 cell whose rows are
 * the cell vectors a, b, c, and periodicity per axis. Storage is flat typed
 * arrays so hot loops (neighbour search, Tersoff, grid masks) never allocate per atom.
 */
export type Vec3 = [number, number, number];
export type Pbc = [boolean, boolean, boolean];

export interface AtomsInit {
  numbers: ArrayLike<number>;
  /** Flat [x0, y0, z0, x1, ...] or a list of [x, y, z]. */
  positions: ArrayLike<number> | ArrayLike<ArrayLike<number>>;
  /** Rows are the cell vectors; omitted means no cell (all zeros), as ASE. */
  cell?: ArrayLike<number> | ArrayLike<ArrayLike<number>>;
  pbc?: boolean | Pbc;
  /** 1 where an atom is fixed, e.g. part of the template that the agent starts from. */
  fixed?: ArrayLike<number>;
  info?: Record<string, unknown>;
  /** Extra per-atom arrays (extxyz Properties beyond species/pos), length N×ncols. */
  arrays?: Record<string, PerAtomArray>;
}

export interface PerAtomArray {
  /** Column type as in extxyz Properties: R real, I integer, L logical, S string. */
  type: 'R' | 'I' | 'L' | 'S';
  /** Number of columns per atom. */
  ncols: number;
  /** Row-major values, length N×ncols. */
  values: number[] | string[] | boolean[];
}

export class Atoms {
  numbers: Int32Array;
  positions: Float64Array;
  cell: Float64Array;
  pbc: Pbc;
  fixed: Uint8Array;
  info: Record<string, unknown>;
  arrays: Record<string, PerAtomArray>;

  constructor(init: AtomsInit) {
    const n = init.numbers.length;
    this.numbers = Int32Array.from(init.numbers as ArrayLike<number>);
    this.positions = flatten(init.positions, n * 3, 'positions');
    this.cell = init.cell === undefined ? new Float64Array(9) : flatten(init.cell, 9, 'cell');
    const p = init.pbc ?? false;
    this.pbc = typeof p === 'boolean' ? [p, p, p] : [p[0], p[1], p[2]];
    this.fixed = init.fixed ? Uint8Array.from(init.fixed) : new Uint8Array(n);
    if (this.fixed.length !== n) throw new Error(`fixed has ${this.fixed.length} entries for ${n} atoms`);
    this.info = { ...(init.info ?? {}) };
    this.arrays = { ...(init.arrays ?? {}) };
  }

  get length(): number {
    return this.numbers.length;
  }

  position(i: number): Vec3 {
    return [this.positions[3 * i], this.positions[3 * i + 1], this.positions[3 * i + 2]];
  }

  cellVector(k: 0 | 1 | 2): Vec3 {
    return [this.cell[3 * k], this.cell[3 * k + 1], this.cell[3 * k + 2]];
  }

  /** Determinant of the cell (signed volume). */
  volume(): number {
    const c = this.cell;
    return (
      c[0] * (c[4] * c[8] - c[5] * c[7]) - c[1] * (c[3] * c[8] - c[5] * c[6]) + c[2] * (c[3] * c[7] - c[4] * c[6])
    );
  }

  clone(): Atoms {
    const arrays: Record<string, PerAtomArray> = {};
    for (const [k, a] of Object.entries(this.arrays)) arrays[k] = { ...a, values: a.values.slice() as PerAtomArray['values'] };
    return new Atoms({
      numbers: this.numbers,
      positions: this.positions,
      cell: this.cell,
      pbc: this.pbc,
      fixed: this.fixed,
      info: structuredClone(this.info),
      arrays,
    });
  }

  /** A new Atoms with `other`'s atoms appended (cell, pbc and info from this one). Extra arrays are dropped. */
  concat(other: Atoms): Atoms {
    const n = this.length;
    const m = other.length;
    const numbers = new Int32Array(n + m);
    numbers.set(this.numbers);
    numbers.set(other.numbers, n);
    const positions = new Float64Array(3 * (n + m));
    positions.set(this.positions);
    positions.set(other.positions, 3 * n);
    const fixed = new Uint8Array(n + m);
    fixed.set(this.fixed);
    fixed.set(other.fixed, n);
    return new Atoms({ numbers, positions, cell: this.cell, pbc: this.pbc, fixed, info: structuredClone(this.info) });
  }
}

function flatten(src: ArrayLike<number> | ArrayLike<ArrayLike<number>>, expected: number, what: string): Float64Array {
  const out = new Float64Array(expected);
  if (src.length > 0 && typeof src[0] !== 'number') {
    const rows = src as ArrayLike<ArrayLike<number>>;
    if (rows.length * 3 !== expected) throw new Error(`${what}: expected ${expected / 3} rows, got ${rows.length}`);
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i];
      if (r.length !== 3) throw new Error(`${what}: row ${i} has ${r.length} entries, expected 3`);
      out[3 * i] = r[0];
      out[3 * i + 1] = r[1];
      out[3 * i + 2] = r[2];
    }
  } else {
    if (src.length !== expected) throw new Error(`${what}: expected ${expected} numbers, got ${src.length}`);
    out.set(src as ArrayLike<number>);
  }
  return out;
}
