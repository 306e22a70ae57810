/**
 * Pictures of structures and of the agent's Q-values (paper Fig. 2a): the
 * structure seen from above the building plane — atoms coloured by element
 * (Jmol colours) and sized by covalent radius, bonds, the cell outline,
 * periodic images faded, template atoms marked with a dashed outline — drawn
 * over the Q-value map of one building step as a heatmap per species, with the
 * chosen action marked by a ring.
 *
 * Coordinates: every panel draws inside a group whose transform maps Cartesian
 * Å (x right, y up) to SVG pixels, so atom circles carry their Cartesian x, y
 * as cx, cy (4 decimals) and tests and tools can read positions straight from
 * the SVG. The heatmap is one PNG pixel per grid point placed by the grid's
 * step vectors (exact on oblique grids such as Ag(111)).
 */
import type { Atoms } from '../structure/atoms.js';
import { covalentRadius, jmolColor, symbolOf } from '../structure/elements.js';
import { bondGraph } from '../structure/bonds.js';
import type { BuildingGrid } from '../grid/grid.js';
import { FONT, colourAt, colourStops, encodePng, esc, f4 } from './svg.js';

/** One building step: the structure before the action, its Q-values and allowed actions. */
export interface BuildStep {
  /** 0-based index of the action in the episode. */
  step: number;
  /** Actions in the episode (the number of atoms the agent places). */
  total: number;
  /** The structure before this action: template atoms first, then the atoms placed so far. */
  atoms: Atoms;
  templateCount: number;
  /** Q-values S×n0×n1 (channel-major), or null when there is no network (random policy). */
  q: Float32Array | null;
  /** Allowed actions S×n0×n1 (1 = allowed). */
  allowed: Uint8Array;
  /** The action taken [channel, i0, i1], or null for the finished structure. */
  action: [number, number, number] | null;
  /** How the action was chosen: g greedy, r random, n among the best ν, u random policy. */
  kind: string | null;
}

export interface PictureContext {
  grid: BuildingGrid;
  /** Atomic number of each species channel. */
  species: number[];
}

const KIND_NAMES: Record<string, string> = { g: 'greedy', r: 'random (ε₀)', n: 'among best ν (ε_ν)', u: 'random policy' };

/** Atom radius drawn: half the covalent radius, so bonds and the heatmap underneath stay visible. */
export const ATOM_RADIUS_FACTOR = 0.5;
/** Å of margin around the cell in which periodic images are drawn. */
const MARGIN = 1.1;

interface Frame {
  xmin: number;
  ymax: number;
  width: number; // Å
  height: number; // Å
  scale: number; // px per Å
  cell: Float64Array;
  periodic: [boolean, boolean];
}

/**
 * The picture's extent: the cell, or for a grid with a non-periodic axis (a
 * molecule's region in a large vacuum cell) the grid region, plus the atoms.
 */
function frameOf(cell: Float64Array, periodic: [boolean, boolean], atoms: Atoms | null, targetPx: number, grid?: BuildingGrid): Frame {
  let xs = [0, cell[0], cell[3], cell[0] + cell[3]];
  let ys = [0, cell[1], cell[4], cell[1] + cell[4]];
  if (grid && !(grid.periodic[0] && grid.periodic[1])) {
    const e = grid.step, [ox, oy] = grid.origin;
    xs = [];
    ys = [];
    for (const u of [-0.5, grid.n0 - 0.5]) {
      for (const v of [-0.5, grid.n1 - 0.5]) {
        xs.push(ox + u * e[0] + v * e[2]);
        ys.push(oy + u * e[1] + v * e[3]);
      }
    }
  }
  if (atoms) {
    for (let i = 0; i < atoms.length; i++) {
      xs.push(atoms.positions[3 * i]);
      ys.push(atoms.positions[3 * i + 1]);
    }
  }
  const xmin = Math.min(...xs) - MARGIN, xmax = Math.max(...xs) + MARGIN;
  const ymin = Math.min(...ys) - MARGIN, ymax = Math.max(...ys) + MARGIN;
  const width = xmax - xmin, height = ymax - ymin;
  const scale = targetPx / Math.max(width, height);
  return { xmin, ymax, width, height, scale, cell, periodic };
}

/** The group transform from Cartesian Å to panel pixels (y flipped). */
function frameTransform(fr: Frame): string {
  return `matrix(${f4(fr.scale)} 0 0 ${f4(-fr.scale)} ${f4(-fr.scale * fr.xmin)} ${f4(fr.scale * fr.ymax)})`;
}

/**
 * Heatmap of one channel as an embedded PNG, each grid point a k×k block of
 * pixels (pixel x = i0·k…, y = i1·k…): renderers that smooth images (browsers
 * ignore SVG's image-rendering hint) then blur only the block edges.
 */
export function heatmapUpscale(grid: BuildingGrid): number {
  return Math.max(1, Math.min(16, Math.ceil(480 / Math.max(grid.n0, grid.n1))));
}

function heatmap(grid: BuildingGrid, q: Float32Array, allowed: Uint8Array, channel: number, lo: number, hi: number): string {
  const { n0, n1, size } = grid;
  const k = heatmapUpscale(grid);
  const W = n0 * k, H = n1 * k;
  const rgba = new Uint8Array(4 * W * H);
  const span = hi - lo;
  const off = channel * size;
  const px = new Uint8Array(4);
  for (let i0 = 0; i0 < n0; i0++) {
    for (let i1 = 0; i1 < n1; i1++) {
      const p = i0 * n1 + i1;
      if (allowed[off + p]) {
        const t = span > 0 ? (q[off + p] - lo) / span : 1;
        const [r, g, b] = colourAt(t);
        px[0] = r;
        px[1] = g;
        px[2] = b;
      } else {
        // not allowed (too close to an atom, forbidden, or no atoms of this species left): light grey
        px[0] = px[1] = px[2] = 215;
      }
      px[3] = 255;
      for (let y = i1 * k; y < (i1 + 1) * k; y++) {
        for (let x = i0 * k; x < (i0 + 1) * k; x++) rgba.set(px, 4 * (y * W + x));
      }
    }
  }
  const png = encodePng(W, H, rgba).toString('base64');
  const e = grid.step;
  const [ox, oy] = grid.origin;
  const m = [e[0] / k, e[1] / k, e[2] / k, e[3] / k, ox - 0.5 * (e[0] + e[2]), oy - 0.5 * (e[1] + e[3])].map((v) => String(Number(v.toPrecision(9)))).join(' ');
  return (
    `<image class="heatmap" data-channel="${channel}" data-lo="${lo}" data-hi="${hi}" data-upscale="${k}" width="${W}" height="${H}" ` +
    `preserveAspectRatio="none" image-rendering="optimizeSpeed" ` +
    `transform="matrix(${m})" href="data:image/png;base64,${png}"/>`
  );
}

/** The cell outline (a, b in the plane). */
function cellOutline(fr: Frame): string {
  const c = fr.cell;
  const pts = [
    [0, 0],
    [c[0], c[1]],
    [c[0] + c[3], c[1] + c[4]],
    [c[3], c[4]],
  ];
  return `<polygon class="cell" points="${pts.map(([x, y]) => `${f4(x)},${f4(y)}`).join(' ')}" fill="none" stroke="#444" stroke-width="${f4(1.2 / fr.scale)}" stroke-dasharray="${f4(5 / fr.scale)} ${f4(3 / fr.scale)}"/>`;
}

/** Lattice shifts (in-plane) of periodic images that may reach into the margin. */
function imageShifts(fr: Frame): [number, number][] {
  const c = fr.cell;
  const out: [number, number][] = [];
  const r0 = fr.periodic[0] ? [-1, 0, 1] : [0];
  const r1 = fr.periodic[1] ? [-1, 0, 1] : [0];
  for (const s0 of r0) for (const s1 of r1) if (s0 !== 0 || s1 !== 0) out.push([s0 * c[0] + s1 * c[3], s0 * c[1] + s1 * c[4]]);
  return out;
}

function inView(fr: Frame, x: number, y: number, pad: number): boolean {
  return x >= fr.xmin - pad && x <= fr.xmin + fr.width + pad && y <= fr.ymax + pad && y >= fr.ymax - fr.height - pad;
}

/** Atoms, their bonds (drawn as half-bonds from each end, so bonds across the cell boundary appear on both sides), and faded periodic images. */
function atomsLayer(fr: Frame, atoms: Atoms, templateCount: number, highlight: number): string {
  const n = atoms.length;
  let bonds: ReturnType<typeof bondGraph> | null = null;
  try {
    bonds = bondGraph(atoms);
  } catch {
    bonds = null; // a cell the bond search cannot handle: draw atoms only
  }
  const shifts: [number, number][] = [[0, 0], ...imageShifts(fr)];
  const px = 1 / fr.scale;
  let bondsSvg = '';
  let imagesSvg = '';
  let atomsSvg = '';
  for (const [sx, sy] of shifts) {
    const image = sx !== 0 || sy !== 0;
    for (let i = 0; i < n; i++) {
      const x = atoms.positions[3 * i] + sx, y = atoms.positions[3 * i + 1] + sy;
      const z = atoms.numbers[i];
      const r = ATOM_RADIUS_FACTOR * covalentRadius(z);
      if (image && !inView(fr, x, y, r)) continue;
      if (bonds) {
        for (let k = bonds.offsets[i]; k < bonds.offsets[i + 1]; k++) {
          const vx = bonds.vectors[3 * k], vy = bonds.vectors[3 * k + 1];
          bondsSvg += `<line${image ? ' class="image"' : ''} x1="${f4(x)}" y1="${f4(y)}" x2="${f4(x + vx / 2)}" y2="${f4(y + vy / 2)}"${image ? ' opacity="0.3"' : ''}/>`;
        }
      }
      const template = i < templateCount;
      const cls = `atom${image ? ' image' : ''}${template ? ' template' : ''}${i === highlight ? ' latest' : ''}`;
      const stroke = template
        ? ` stroke="#000" stroke-width="${f4(2.2 * px)}" stroke-dasharray="${f4(3 * px)} ${f4(2 * px)}"`
        : ` stroke="${i === highlight ? '#e6007e' : '#222'}" stroke-width="${f4((i === highlight ? 2.2 : 1) * px)}"`;
      const circle = `<circle class="${cls}" data-index="${i}" data-z="${z}" cx="${f4(x)}" cy="${f4(y)}" r="${f4(r)}" fill="${jmolColor(z)}"${stroke}${image ? ' opacity="0.3"' : ''}><title>${symbolOf(z)}${template ? ' (template)' : ''} ${i}: ${f4(x)}, ${f4(y)} Å</title></circle>`;
      if (image) imagesSvg += circle;
      else atomsSvg += circle;
    }
  }
  return `<g class="bonds" stroke="#555" stroke-width="${f4(2.5 * px)}" stroke-linecap="round">${bondsSvg}</g>${imagesSvg}${atomsSvg}`;
}

/** The ring marking the chosen action at its grid point (black on a white halo: visible on every colour of the map and on every element). */
function actionMark(fr: Frame, grid: BuildingGrid, action: [number, number, number], species: number): string {
  const [c, i0, i1] = action;
  const p = grid.position(i0 * grid.n1 + i1);
  const r = ATOM_RADIUS_FACTOR * covalentRadius(species) + 3 / fr.scale;
  const px = 1 / fr.scale;
  return (
    `<g class="action" data-c="${c}" data-i0="${i0}" data-i1="${i1}" data-x="${f4(p[0])}" data-y="${f4(p[1])}" fill="none">` +
    `<circle cx="${f4(p[0])}" cy="${f4(p[1])}" r="${f4(r)}" stroke="#fff" stroke-width="${f4(4 * px)}"/>` +
    `<circle cx="${f4(p[0])}" cy="${f4(p[1])}" r="${f4(r)}" stroke="#111" stroke-width="${f4(2 * px)}"/>` +
    `</g>`
  );
}

interface PanelSpec {
  frame: Frame;
  atoms: Atoms;
  templateCount: number;
  title: string;
  heat?: { grid: BuildingGrid; q: Float32Array; allowed: Uint8Array; channel: number; lo: number; hi: number };
  action?: { grid: BuildingGrid; action: [number, number, number]; species: number };
  /** Index of the atom to outline as the latest placed. */
  highlight?: number;
  x: number;
  y: number;
}

const TITLE_H = 20;

function panel(s: PanelSpec): string {
  const fr = s.frame;
  const w = fr.width * fr.scale, h = fr.height * fr.scale;
  let inner = '';
  if (s.heat) inner += heatmap(s.heat.grid, s.heat.q, s.heat.allowed, s.heat.channel, s.heat.lo, s.heat.hi);
  inner += cellOutline(fr);
  inner += atomsLayer(fr, s.atoms, s.templateCount, s.highlight ?? -1);
  if (s.action) inner += actionMark(fr, s.action.grid, s.action.action, s.action.species);
  const clip = `clip${Math.round(s.x)}_${Math.round(s.y)}`;
  return (
    `<g class="panel" transform="translate(${f4(s.x)} ${f4(s.y)})">` +
    `<text x="${f4(w / 2)}" y="14" text-anchor="middle" font-size="13">${esc(s.title)}</text>` +
    `<clipPath id="${clip}"><rect x="0" y="${TITLE_H}" width="${f4(w)}" height="${f4(h)}"/></clipPath>` +
    `<rect x="0" y="${TITLE_H}" width="${f4(w)}" height="${f4(h)}" fill="#fff" stroke="#bbb"/>` +
    `<g clip-path="url(#${clip})"><g transform="translate(0 ${TITLE_H})"><g class="frame" data-scale="${f4(fr.scale)}" data-xmin="${f4(fr.xmin)}" data-ymax="${f4(fr.ymax)}" transform="${frameTransform(fr)}">${inner}</g></g></g>` +
    `</g>`
  );
}

function svgDocument(width: number, height: number, body: string, defs = ''): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="${Math.ceil(width)}" height="${Math.ceil(height)}" ` +
    `viewBox="0 0 ${Math.ceil(width)} ${Math.ceil(height)}" font-family="${FONT}">` +
    (defs ? `<defs>${defs}</defs>` : '') +
    `<rect width="100%" height="100%" fill="#fff"/>${body}</svg>\n`
  );
}

/** A colour bar for Q from lo to hi, at (x, y), height h. */
function colourBar(x: number, y: number, h: number, lo: number, hi: number, id: string): { svg: string; defs: string } {
  const defs = `<linearGradient id="${id}" x1="0" y1="1" x2="0" y2="0">${colourStops()}</linearGradient>`;
  const svg =
    `<g class="colourbar" transform="translate(${f4(x)} ${f4(y)})">` +
    `<text x="0" y="-6" font-size="12">Q</text>` +
    `<rect width="14" height="${f4(h)}" fill="url(#${id})" stroke="#888"/>` +
    `<text x="18" y="10" font-size="11">${hi.toFixed(3)}</text>` +
    `<text x="18" y="${f4(h)}" font-size="11">${lo.toFixed(3)}</text>` +
    `<rect y="${f4(h + 12)}" width="14" height="10" fill="#d7d7d7" stroke="#888"/><text x="18" y="${f4(h + 21)}" font-size="11">not allowed</text>` +
    `</g>`;
  return { svg, defs };
}

/** Range of Q over the allowed actions (all channels), or [0, 0] when none is allowed. */
export function allowedRange(q: Float32Array, allowed: Uint8Array): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (let a = 0; a < q.length; a++) {
    if (!allowed[a]) continue;
    if (q[a] < lo) lo = q[a];
    if (q[a] > hi) hi = q[a];
  }
  return lo === Infinity ? [0, 0] : [lo, hi];
}

/** Lines of legend text wrapped to fit `width` px (about 6 px per character at 11 px), from y down; returns the svg and the height used. */
function legend(x: number, y: number, width: number, texts: string[]): { svg: string; height: number } {
  const perLine = Math.max(30, Math.floor(width / 6.2));
  const lines: string[] = [];
  for (const text of texts) {
    let cur = '';
    for (const word of text.split(' ')) {
      if (cur && cur.length + 1 + word.length > perLine) {
        lines.push(cur);
        cur = word;
      } else cur = cur ? `${cur} ${word}` : word;
    }
    if (cur) lines.push(cur);
  }
  const svg = lines.map((l, k) => `<text class="legend" x="${f4(x)}" y="${f4(y + 14 * k)}" font-size="11" fill="#444">${esc(l)}</text>`).join('');
  return { svg, height: 14 * lines.length };
}

const LEGEND = 'dashed outline: template atom · black ring: chosen action · magenta outline: the atom placed last · faded: periodic images · grey: not allowed';

export interface StructurePictureOptions {
  title?: string;
  templateCount?: number;
  /** Panel size in px (longest side). */
  size?: number;
  /** Periodicity of the in-plane axes for images (default: the structure's pbc). */
  periodic?: [boolean, boolean];
}

/** A structure seen from above: atoms, bonds, cell, faded periodic images, template atoms marked. */
export function structurePicture(atoms: Atoms, opts: StructurePictureOptions = {}): string {
  const periodic = opts.periodic ?? [atoms.pbc[0], atoms.pbc[1]];
  const fr = frameOf(atoms.cell, periodic, atoms, opts.size ?? 360);
  const w = fr.width * fr.scale, h = fr.height * fr.scale;
  const lg = legend(10, TITLE_H + h + 22, w, [`${formulaOf(atoms)} · dashed outline: template atom · faded: periodic images`]);
  const body = panel({ frame: fr, atoms, templateCount: opts.templateCount ?? 0, title: opts.title ?? `${atoms.length} atoms`, x: 10, y: 6 }) + lg.svg;
  return svgDocument(w + 20, TITLE_H + h + 14 + lg.height, body);
}

export interface QMapPictureOptions {
  title?: string;
  /** Panel size in px (longest side). */
  size?: number;
  /** A note under the picture (e.g. which network snapshot gave the Q-values). */
  note?: string;
}

/**
 * One building step (Fig. 2a): for each species a panel with its Q-value map
 * over the structure before the action, the chosen action ringed in its
 * species' panel. One colour scale for all species, over the allowed actions.
 */
export function qmapPicture(ctx: PictureContext, step: BuildStep, opts: QMapPictureOptions = {}): string {
  const { grid, species } = ctx;
  const periodic: [boolean, boolean] = [grid.periodic[0], grid.periodic[1]];
  const fr = frameOf(grid.cell, periodic, step.atoms, opts.size ?? 340, grid);
  const w = fr.width * fr.scale, h = fr.height * fr.scale;
  const [lo, hi] = step.q ? allowedRange(step.q, step.allowed) : [0, 0];
  let body = '';
  const top = opts.title ? 30 : 6;
  if (opts.title) body += `<text x="10" y="20" font-size="15" font-weight="bold">${esc(opts.title)}</text>`;
  const kind = step.kind ? KIND_NAMES[step.kind] ?? step.kind : null;
  species.forEach((z, c) => {
    const chosen = step.action && step.action[0] === c;
    const title = `${symbolOf(z)}: ${step.q ? 'Q-values' : 'allowed actions'}${chosen ? ` · ${kind ?? 'chosen'} action` : ''}`;
    body += panel({
      frame: fr,
      atoms: step.atoms,
      templateCount: step.templateCount,
      title,
      heat: { grid, q: step.q ?? new Float32Array(step.allowed.length), allowed: step.allowed, channel: c, lo, hi },
      action: chosen ? { grid, action: step.action!, species: z } : undefined,
      highlight: step.atoms.length > step.templateCount ? step.atoms.length - 1 : -1,
      x: 10 + c * (w + 16),
      y: top,
    });
  });
  let defs = '';
  const barX = 10 + species.length * (w + 16);
  if (step.q) {
    const bar = colourBar(barX, top + TITLE_H + 20, Math.min(160, h - 50), lo, hi, 'qscale');
    body += bar.svg;
    defs += bar.defs;
  }
  const stepText = step.action ? `step ${step.step + 1} of ${step.total}` : `finished (${step.total} atoms placed)`;
  const width = barX + (step.q ? 100 : 0);
  const lg = legend(10, top + TITLE_H + h + 18, width - 20, [`${stepText} · ${LEGEND}`, ...(opts.note ? [opts.note] : [])]);
  body += lg.svg;
  return svgDocument(width, top + TITLE_H + h + 10 + lg.height, body, defs);
}

export interface BuildPictureOptions {
  title?: string;
  /** Panel size in px (longest side). */
  size?: number;
  columns?: number;
  /** The finished structure (shown last) and a caption for it. */
  final?: { atoms: Atoms; caption: string };
  note?: string;
}

/**
 * A build step by step: one panel per action showing the Q-map of the chosen
 * action's species over the structure before it, the action ringed; then the
 * finished structure. Each panel has its own colour range (Q spreads shrink
 * as atoms fill the cell).
 */
export function buildPicture(ctx: PictureContext, steps: BuildStep[], opts: BuildPictureOptions = {}): string {
  const { grid, species } = ctx;
  const periodic: [boolean, boolean] = [grid.periodic[0], grid.periodic[1]];
  const all = opts.final ? [...steps.map((s) => s.atoms), opts.final.atoms] : steps.map((s) => s.atoms);
  const last = all[all.length - 1];
  const fr = frameOf(grid.cell, periodic, last ?? null, opts.size ?? 190, grid);
  const w = fr.width * fr.scale, h = fr.height * fr.scale;
  const count = steps.length + (opts.final ? 1 : 0);
  const cols = Math.max(1, Math.min(opts.columns ?? 6, count));
  const top = opts.title ? 30 : 6;
  let body = opts.title ? `<text x="10" y="20" font-size="15" font-weight="bold">${esc(opts.title)}</text>` : '';
  steps.forEach((s, k) => {
    const c = s.action ? s.action[0] : 0;
    const [lo, hi] = s.q ? allowedRange(s.q, s.allowed) : [0, 0];
    const kind = s.kind ? ` ${s.kind}` : '';
    body += panel({
      frame: fr,
      atoms: s.atoms,
      templateCount: s.templateCount,
      title: `${s.step + 1}: ${symbolOf(species[c])}${kind}${s.q ? ` Q ${lo.toFixed(2)}…${hi.toFixed(2)}` : ''}`,
      heat: { grid, q: s.q ?? new Float32Array(s.allowed.length), allowed: s.allowed, channel: c, lo, hi },
      action: s.action ? { grid, action: s.action, species: species[c] } : undefined,
      highlight: s.atoms.length > s.templateCount ? s.atoms.length - 1 : -1,
      x: 10 + (k % cols) * (w + 10),
      y: top + Math.floor(k / cols) * (h + TITLE_H + 10),
    });
  });
  if (opts.final) {
    const k = steps.length;
    body += panel({
      frame: fr,
      atoms: opts.final.atoms,
      templateCount: steps[0]?.templateCount ?? 0,
      title: opts.final.caption,
      highlight: opts.final.atoms.length - 1,
      x: 10 + (k % cols) * (w + 10),
      y: top + Math.floor(k / cols) * (h + TITLE_H + 10),
    });
  }
  const rows = Math.ceil(count / cols);
  const bottom = top + rows * (h + TITLE_H + 10);
  const defs = `<linearGradient id="qscale" x1="0" y1="0" x2="1" y2="0">${colourStops()}</linearGradient>`;
  body +=
    `<g transform="translate(10 ${f4(bottom + 4)})"><rect width="120" height="10" fill="url(#qscale)" stroke="#888"/>` +
    `<text x="126" y="9" font-size="11" fill="#444">low → high Q within each panel's range · kinds: g greedy, r random, n best-ν, u random policy</text></g>`;
  const width = 10 + cols * (w + 10);
  const lg = legend(10, bottom + 30, width - 20, [LEGEND, ...(opts.note ? [opts.note] : [])]);
  body += lg.svg;
  return svgDocument(width, bottom + 22 + lg.height, body, defs);
}

/** Hill formula of a structure, e.g. C8 or C3H4O2. */
export function formulaOf(atoms: Atoms): string {
  const counts = new Map<string, number>();
  for (const z of atoms.numbers) counts.set(symbolOf(z), (counts.get(symbolOf(z)) ?? 0) + 1);
  const keys = [...counts.keys()].sort((a, b) => {
    const rank = (s: string) => (s === 'C' ? 0 : s === 'H' ? 1 : 2);
    return rank(a) - rank(b) || a.localeCompare(b);
  });
  return keys.map((k) => `${k}${counts.get(k) === 1 ? '' : counts.get(k)}`).join('');
}
