/**
 * Rotational augmentation by arbitrary angles (Extended Data Fig. 9): a state
 * is rotated in the plane about its action point, so the network learns
 * rotational equivariance beyond the grid's exact symmetries. The atoms (and,
 * along periodic axes, their periodic images) within `window` Å of the action
 * are rotated and snapped to the nearest grid point; atoms farther away are
 * left out, because a rotated periodic structure no longer fits the cell. The
 * sample then describes the same local situation around the action, which is
 * what its Q-value is about.
 */
import type { BuildingGrid } from '../grid/index.js';

/**
 * Writes into `out` (zeroed first) the one-hot state `input` (S × grid.size)
 * rotated by `angle` radians about grid point `centre`, keeping atoms within
 * `window` Å of it. Returns the number of atoms placed.
 */
export function rotateState(
  grid: BuildingGrid,
  input: Float32Array,
  species: number,
  centre: number,
  angle: number,
  window: number,
  out: Float32Array,
): number {
  out.fill(0);
  const size = grid.size;
  const c = grid.position(centre);
  const cx = c[0];
  const cy = c[1];
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  // cell vectors of the periodic axes in the plane: step × points
  const ax = grid.step[0] * grid.n0;
  const ay = grid.step[1] * grid.n0;
  const bx = grid.step[2] * grid.n1;
  const by = grid.step[3] * grid.n1;
  const [m0, m1] = [0, 1].map((k) => {
    if (!grid.periodic[k]) return 0;
    const len = k === 0 ? Math.hypot(ax, ay) : Math.hypot(bx, by);
    // enough images to cover the window even in an oblique cell
    return Math.ceil(window / len) + 1;
  });
  const pos = new Float64Array(3);
  const w2 = window * window;
  let placed = 0;
  for (let ch = 0; ch < species; ch++) {
    const off = ch * size;
    for (let p = 0; p < size; p++) {
      if (input[off + p] === 0) continue;
      grid.position(p, pos);
      for (let s0 = -m0; s0 <= m0; s0++) {
        for (let s1 = -m1; s1 <= m1; s1++) {
          const dx = pos[0] + s0 * ax + s1 * bx - cx;
          const dy = pos[1] + s0 * ay + s1 * by - cy;
          if (dx * dx + dy * dy > w2) continue;
          const q = grid.nearestIndex(cx + cos * dx - sin * dy, cy + sin * dx + cos * dy);
          if (q < 0 || q === centre) continue;
          if (out[off + q] === 0) placed++;
          out[off + q] = 1;
        }
      }
    }
  }
  return placed;
}
