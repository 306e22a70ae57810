/** The building grid (src/grid): geometry and one-hot encoding, action masks, exact grid symmetries. */
export {
  BuildingGrid,
  DEFAULT_PLANE_TOLERANCE,
  checkSpecies,
  checkAtomsCell,
  type BuildingGridConfig,
  type BuildingGridJSON,
  type CellInput,
  type GridSpacingConfig,
  type NearestPoint,
} from './grid.js';
export { allowedMask, applyAtomToMask, PlacementMask, type MaskOptions } from './masks.js';
export {
  gridSymmetries,
  transformTensor,
  transformPositions,
  preservesAtoms,
  type GridSymmetry,
  type Matrix2,
} from './symmetry.js';
