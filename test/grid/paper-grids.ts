/** The five grids of the paper (Methods; Extended Data Table 1), shared by the grid tests. */
import { BuildingGrid, type BuildingGridConfig } from '../../src/grid/index.js';

export const PAPER_GRIDS: Record<string, BuildingGridConfig> = {
  // Pristine graphene: 42×37 points in an 8.54×7.40 Å cell, periodic in 2D.
  graphene: { cell: [[8.54, 0, 0], [0, 7.40, 0], [0, 0, 12]], shape: [42, 37], periodic: [true, true], z: 6 },
  // Graphene edge: 24×40 at 0.18 Å in 4.27×7.12 Å, periodic along a only.
  edge: { cell: [[4.27, 0, 0], [0, 7.12, 0], [0, 0, 12]], shape: [24, 40], periodic: [true, false], spacing: [null, 0.18], z: 6 },
  // Grain boundary: 60×50 at 0.18 Å in 10.68×8.90 Å, periodic along a only.
  grain: { cell: [[10.68, 0, 0], [0, 8.90, 0], [0, 0, 12]], shape: [60, 50], periodic: [true, false], spacing: [null, 0.18], z: 6 },
  // C3H4O2: 60×60 at 0.2 Å centred in a 16×16 Å non-periodic cell.
  c3h4o2: { cell: [[16, 0, 0], [0, 16, 0], [0, 0, 16]], shape: [60, 60], periodic: [false, false], spacing: [0.2, 0.2], z: 8 },
  // Ag(111)-p(4×4)-O: 24×20 in the oblique cell a=(12,0), b=(6,10) Å, periodic in 2D.
  agO: { cell: [[12, 0, 0], [6, 10, 0], [0, 0, 20]], shape: [24, 20], periodic: [true, true], z: 12 },
};

export function paperGrid(name: keyof typeof PAPER_GRIDS): BuildingGrid {
  return new BuildingGrid(PAPER_GRIDS[name]);
}

/**
 * Minimum-image in-plane distance between two Cartesian points, by brute force
 * over images −3..3 along the grid's periodic axes (reference for the tests).
 */
export function minImageDistance(grid: BuildingGrid, x0: number, y0: number, x1: number, y1: number): number {
  const c = grid.cell;
  const K0 = grid.periodic[0] ? 3 : 0, K1 = grid.periodic[1] ? 3 : 0;
  let best = Infinity;
  for (let m = -K0; m <= K0; m++) {
    for (let n = -K1; n <= K1; n++) {
      const dx = x1 + m * c[0] + n * c[3] - x0, dy = y1 + m * c[1] + n * c[4] - y0;
      best = Math.min(best, Math.hypot(dx, dy));
    }
  }
  return best;
}
