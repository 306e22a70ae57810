/**
 * Relevance maps (paper Fig. 4): the structure of one building step seen from
 * above, each atom coloured by its layer-wise relevance for the chosen action
 * (Methods eq. 3, computed by src/nn/relevance.ts and `explainRun` of
 * src/cli/explain.ts), normalised so the most influential atom has ±1:
 * 1 red (the atom raises the action's Q-value), −1 blue (lowers it), 0 white.
 * Atoms the network does not see (off the building plane, outside the grid
 * region) are grey. The chosen action is drawn as a ring at its grid point.
 *
 * As in src/report/pictures.ts, the panel is drawn in a group whose transform
 * maps Cartesian Å (x right, y up) to pixels, so every atom circle carries its
 * Cartesian x, y as cx, cy and its relevance as data-relevance.
 */
import type { Atoms } from '../structure/atoms.js';
import { bondGraph } from '../structure/bonds.js';
import { covalentRadius, symbolOf } from '../structure/elements.js';
import { ATOM_RADIUS_FACTOR, type PictureContext } from './pictures.js';
import { FONT, esc, f4 } from './svg.js';

export interface RelevancePictureOptions {
  title?: string;
  /** Panel size in px (longest side). */
  size?: number;
  /** Lines under the picture (e.g. which network gave the relevances, Q and Σ R). */
  notes?: string[];
}

/** The diverging colour of a normalised relevance r ∈ [−1, 1]: white at 0, red (#d7301f) at 1, blue (#2166ac) at −1; null → grey. */
export function relevanceColour(r: number | null): string {
  if (r === null || !Number.isFinite(r)) return '#b0b0b0';
  const t = Math.min(1, Math.abs(r));
  const end = r >= 0 ? [215, 48, 31] : [33, 102, 172];
  const c = end.map((v) => Math.round(255 + t * (v - 255)));
  return '#' + c.map((v) => v.toString(16).padStart(2, '0')).join('');
}

const MARGIN = 1.1;
const TITLE_H = 24;

/**
 * One building step with each atom coloured by its relevance for `action`.
 * `relevance[i]` belongs to atom i of `atoms` (template atoms first), null when
 * the network does not see the atom.
 */
export function relevancePicture(
  ctx: PictureContext,
  atoms: Atoms,
  relevance: ArrayLike<number | null>,
  action: [number, number, number],
  templateCount: number,
  opts: RelevancePictureOptions = {},
): string {
  const { grid, species } = ctx;
  if (relevance.length !== atoms.length) throw new RangeError(`relevancePicture: ${relevance.length} relevances for ${atoms.length} atoms`);
  const cell = grid.cell;
  const periodic: [boolean, boolean] = [grid.periodic[0], grid.periodic[1]];
  // extent: the cell, or the grid region when an axis is not periodic (a molecule in vacuum), plus the atoms
  const xs: number[] = [], ys: number[] = [];
  if (periodic[0] && periodic[1]) {
    xs.push(0, cell[0], cell[3], cell[0] + cell[3]);
    ys.push(0, cell[1], cell[4], cell[1] + cell[4]);
  } else {
    const e = grid.step, [ox, oy] = grid.origin;
    for (const u of [-0.5, grid.n0 - 0.5]) {
      for (const v of [-0.5, grid.n1 - 0.5]) {
        xs.push(ox + u * e[0] + v * e[2]);
        ys.push(oy + u * e[1] + v * e[3]);
      }
    }
  }
  for (let i = 0; i < atoms.length; i++) {
    xs.push(atoms.positions[3 * i]);
    ys.push(atoms.positions[3 * i + 1]);
  }
  const xmin = Math.min(...xs) - MARGIN, xmax = Math.max(...xs) + MARGIN;
  const ymin = Math.min(...ys) - MARGIN, ymax = Math.max(...ys) + MARGIN;
  const scale = (opts.size ?? 380) / Math.max(xmax - xmin, ymax - ymin);
  const w = (xmax - xmin) * scale, h = (ymax - ymin) * scale;
  const px = 1 / scale;

  // periodic images that reach into the margin, drawn faded
  const shifts: [number, number][] = [[0, 0]];
  for (const s0 of periodic[0] ? [-1, 0, 1] : [0]) {
    for (const s1 of periodic[1] ? [-1, 0, 1] : [0]) {
      if (s0 !== 0 || s1 !== 0) shifts.push([s0 * cell[0] + s1 * cell[3], s0 * cell[1] + s1 * cell[4]]);
    }
  }
  let bonds: ReturnType<typeof bondGraph> | null = null;
  try {
    bonds = bondGraph(atoms);
  } catch {
    bonds = null; // a cell the bond search cannot handle: atoms only
  }
  let bondsSvg = '', imagesSvg = '', atomsSvg = '';
  for (const [sx, sy] of shifts) {
    const image = sx !== 0 || sy !== 0;
    for (let i = 0; i < atoms.length; i++) {
      const x = atoms.positions[3 * i] + sx, y = atoms.positions[3 * i + 1] + sy;
      const z = atoms.numbers[i];
      const r = ATOM_RADIUS_FACTOR * covalentRadius(z);
      if (image && (x < xmin - r || x > xmax + r || y < ymin - r || y > ymax + r)) continue;
      if (bonds) {
        for (let k = bonds.offsets[i]; k < bonds.offsets[i + 1]; k++) {
          const vx = bonds.vectors[3 * k], vy = bonds.vectors[3 * k + 1];
          bondsSvg += `<line x1="${f4(x)}" y1="${f4(y)}" x2="${f4(x + vx / 2)}" y2="${f4(y + vy / 2)}"${image ? ' opacity="0.3"' : ''}/>`;
        }
      }
      const rel = relevance[i];
      const template = i < templateCount;
      const cls = `atom${image ? ' image' : ''}${template ? ' template' : ''}`;
      const stroke = template ? ` stroke="#000" stroke-width="${f4(1.6 * px)}" stroke-dasharray="${f4(3 * px)} ${f4(2 * px)}"` : ` stroke="#222" stroke-width="${f4(px)}"`;
      const label = rel === null ? 'not seen by the network' : `relevance ${rel.toFixed(3)}`;
      const circle =
        `<circle class="${cls}" data-index="${i}" data-z="${z}" cx="${f4(x)}" cy="${f4(y)}" r="${f4(r)}" fill="${relevanceColour(rel)}" data-relevance="${rel === null ? 'null' : f4(rel)}"${stroke}${image ? ' opacity="0.3"' : ''}>` +
        `<title>${symbolOf(z)}${template ? ' (template)' : ''} ${i}: ${label}</title></circle>`;
      if (image) imagesSvg += circle;
      else atomsSvg += circle;
    }
  }
  // the chosen action: a dashed ghost of the atom to be placed inside a black ring on a white halo
  const [c, i0, i1] = action;
  const [ax, ay] = grid.position(i0 * grid.n1 + i1);
  const ar = ATOM_RADIUS_FACTOR * covalentRadius(species[c]);
  const actionSvg =
    `<g class="action" data-c="${c}" data-i0="${i0}" data-i1="${i1}" data-x="${f4(ax)}" data-y="${f4(ay)}" fill="none">` +
    `<circle cx="${f4(ax)}" cy="${f4(ay)}" r="${f4(ar)}" stroke="#111" stroke-width="${f4(1.2 * px)}" stroke-dasharray="${f4(2 * px)} ${f4(2 * px)}"/>` +
    `<circle cx="${f4(ax)}" cy="${f4(ay)}" r="${f4(ar + 3 * px)}" stroke="#fff" stroke-width="${f4(4 * px)}"/>` +
    `<circle cx="${f4(ax)}" cy="${f4(ay)}" r="${f4(ar + 3 * px)}" stroke="#111" stroke-width="${f4(2 * px)}"/></g>`;
  const outline = [
    [0, 0],
    [cell[0], cell[1]],
    [cell[0] + cell[3], cell[1] + cell[4]],
    [cell[3], cell[4]],
  ];
  const cellSvg = `<polygon class="cell" points="${outline.map(([x, y]) => `${f4(x)},${f4(y)}`).join(' ')}" fill="none" stroke="#444" stroke-width="${f4(1.2 * px)}" stroke-dasharray="${f4(5 * px)} ${f4(3 * px)}"/>`;

  const top = opts.title ? 30 : 6;
  const panelTitle = `relevance for placing ${symbolOf(species[c])} at [${i0}, ${i1}]`;
  const transform = `matrix(${f4(scale)} 0 0 ${f4(-scale)} ${f4(-scale * xmin)} ${f4(scale * ymax)})`;
  let body = opts.title ? `<text x="10" y="20" font-size="15" font-weight="bold">${esc(opts.title)}</text>` : '';
  body +=
    `<g class="panel" transform="translate(10 ${top})">` +
    `<text x="${f4(w / 2)}" y="15" text-anchor="middle" font-size="13">${esc(panelTitle)}</text>` +
    `<clipPath id="relclip"><rect x="0" y="${TITLE_H}" width="${f4(w)}" height="${f4(h)}"/></clipPath>` +
    `<rect x="0" y="${TITLE_H}" width="${f4(w)}" height="${f4(h)}" fill="#fff" stroke="#bbb"/>` +
    `<g clip-path="url(#relclip)"><g transform="translate(0 ${TITLE_H})"><g class="frame" data-scale="${f4(scale)}" data-xmin="${f4(xmin)}" data-ymax="${f4(ymax)}" transform="${transform}">` +
    `${cellSvg}<g class="bonds" stroke="#777" stroke-width="${f4(2.5 * px)}" stroke-linecap="round">${bondsSvg}</g>${imagesSvg}${atomsSvg}${actionSvg}</g></g></g></g>`;
  // colour bar −1 … 1 (blue, white, red) and grey for unseen atoms
  const barX = 10 + w + 18, barY = top + TITLE_H + 24, barH = Math.min(170, h - 60);
  const defs = `<linearGradient id="relscale" x1="0" y1="1" x2="0" y2="0"><stop offset="0" stop-color="${relevanceColour(-1)}"/><stop offset="0.5" stop-color="#ffffff"/><stop offset="1" stop-color="${relevanceColour(1)}"/></linearGradient>`;
  body +=
    `<g class="colourbar" transform="translate(${f4(barX)} ${f4(barY)})">` +
    `<text x="0" y="-8" font-size="12">relevance</text>` +
    `<rect width="14" height="${f4(barH)}" fill="url(#relscale)" stroke="#888"/>` +
    `<text x="18" y="10" font-size="11">1 (raises Q)</text>` +
    `<text x="18" y="${f4(barH / 2 + 4)}" font-size="11">0</text>` +
    `<text x="18" y="${f4(barH)}" font-size="11">−1 (lowers Q)</text>` +
    `<rect y="${f4(barH + 12)}" width="14" height="10" fill="${relevanceColour(null)}" stroke="#888"/><text x="18" y="${f4(barH + 21)}" font-size="11">not seen</text>` +
    `</g>`;
  // bold 15 px title: about 9 px per character
  const width = Math.max(barX + 110, 20 + 9 * (opts.title?.length ?? 0));
  const notes = ['black ring: the chosen action (dashed: the atom it places) · dashed outline: template atom · faded: periodic images', ...(opts.notes ?? [])];
  let y = top + TITLE_H + h + 20;
  const perLine = Math.max(30, Math.floor((width - 20) / 6.2));
  for (const text of notes) {
    let cur = '';
    const flush = () => {
      body += `<text class="legend" x="10" y="${f4(y)}" font-size="11" fill="#444">${esc(cur)}</text>`;
      y += 14;
    };
    for (const word of text.split(' ')) {
      if (cur && cur.length + 1 + word.length > perLine) {
        flush();
        cur = word;
      } else cur = cur ? `${cur} ${word}` : word;
    }
    if (cur) flush();
  }
  const W = Math.ceil(width), H = Math.ceil(y);
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="${FONT}">` +
    `<defs>${defs}</defs><rect width="100%" height="100%" fill="#fff"/>${body}</svg>\n`
  );
}
