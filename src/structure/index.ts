/** The structure layer: Atoms, element data, extended XYZ I/O, cell geometry and neighbour lists. */
export * from './atoms.js';
export * from './elements.js';
export * from './extxyz.js';
export * from './cell.js';
export * from './neighbors.js';
