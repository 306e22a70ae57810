/**
 * Small building blocks of the pictures: SVG text escaping and number
 * formatting, the colour scale of Q-value maps (Vega's viridis), and a minimal
 * PNG encoder for heatmaps embedded in SVG as one pixel per grid point (the way
 * matplotlib's imshow writes SVG: compact, exact, and rendered without
 * smoothing by browsers and resvg alike).
 */
import { deflateSync } from 'node:zlib';
import { scheme } from 'vega';

export const FONT = "DejaVu Sans, Liberation Sans, Arial, Helvetica, sans-serif";

/** Escapes text for SVG/HTML content and attribute values. */
export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** A coordinate with at most 4 decimals, no trailing zeros (keeps SVG small and exact to 0.1 mÅ). */
export function f4(x: number): string {
  const r = Math.round(x * 1e4) / 1e4;
  return Object.is(r, -0) ? '0' : String(r);
}

/** The Q-value colour scale: t in [0, 1] → [r, g, b] of Vega's viridis (low Q dark blue, high Q yellow). */
const viridis = scheme('viridis') as (t: number) => string;
const LUT_SIZE = 256;
const LUT: Uint8Array = (() => {
  const out = new Uint8Array(3 * LUT_SIZE);
  for (let k = 0; k < LUT_SIZE; k++) {
    const m = /rgb\((\d+),\s*(\d+),\s*(\d+)\)/.exec(viridis(k / (LUT_SIZE - 1)));
    if (!m) throw new Error(`unexpected colour from vega's viridis scheme: ${viridis(k / (LUT_SIZE - 1))}`);
    out[3 * k] = Number(m[1]);
    out[3 * k + 1] = Number(m[2]);
    out[3 * k + 2] = Number(m[3]);
  }
  return out;
})();

/** Index into the colour table for t in [0, 1]. */
export function colourIndex(t: number): number {
  if (!(t >= 0)) return 0;
  if (t >= 1) return LUT_SIZE - 1;
  return Math.round(t * (LUT_SIZE - 1));
}

export function colourAt(t: number): [number, number, number] {
  const k = colourIndex(t);
  return [LUT[3 * k], LUT[3 * k + 1], LUT[3 * k + 2]];
}

export function hexColour(rgb: ArrayLike<number>): string {
  return '#' + [rgb[0], rgb[1], rgb[2]].map((v) => v.toString(16).padStart(2, '0')).join('');
}

/** The colour-scale position (0..1) of an RGB colour in the table, or -1 when it is not one of its colours. */
export function colourPosition(r: number, g: number, b: number): number {
  for (let k = 0; k < LUT_SIZE; k++) {
    if (LUT[3 * k] === r && LUT[3 * k + 1] === g && LUT[3 * k + 2] === b) return k / (LUT_SIZE - 1);
  }
  return -1;
}

/** SVG gradient stops of the colour scale. */
export function colourStops(n = 11): string {
  let s = '';
  for (let k = 0; k < n; k++) {
    const t = k / (n - 1);
    s += `<stop offset="${f4(t)}" stop-color="${hexColour(colourAt(t))}"/>`;
  }
  return s;
}

// ---- PNG ----

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(buf: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < buf.length; i++) c = CRC_TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  out.set(data, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/** An 8-bit RGBA PNG of width × height pixels (rgba row-major, 4 bytes per pixel). */
export function encodePng(width: number, height: number, rgba: Uint8Array): Buffer {
  if (rgba.length !== 4 * width * height) throw new RangeError(`encodePng: ${rgba.length} bytes for ${width}×${height} RGBA`);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // colour type RGBA
  const raw = new Uint8Array(height * (1 + 4 * width));
  for (let y = 0; y < height; y++) {
    raw[y * (1 + 4 * width)] = 0; // filter: none
    raw.set(rgba.subarray(4 * width * y, 4 * width * (y + 1)), y * (1 + 4 * width) + 1);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', new Uint8Array(0)),
  ]);
}
