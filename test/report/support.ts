/** Helpers of the report tests: reading what the pictures hold. */
import { inflateSync } from 'node:zlib';
import { Run } from '../../src/search/run.js';
import { PRESETS } from '../../src/agent/presets.js';
import { applySets, validateProblem } from '../../src/agent/problem.js';
import { appendNetworkSnapshot } from '../../src/search/snapshots.js';

export interface SvgCircle {
  cls: string;
  index: number;
  z: number;
  cx: number;
  cy: number;
  r: number;
}

export function circles(svg: string): SvgCircle[] {
  const out: SvgCircle[] = [];
  for (const m of svg.matchAll(/<circle class="([^"]*)" data-index="(\d+)" data-z="(\d+)" cx="([^"]+)" cy="([^"]+)" r="([^"]+)"/g)) {
    out.push({ cls: m[1], index: Number(m[2]), z: Number(m[3]), cx: Number(m[4]), cy: Number(m[5]), r: Number(m[6]) });
  }
  return out;
}

/** Decodes an 8-bit RGBA PNG without interlacing (filter types 0–4). */
export function decodePng(buf: Buffer): { width: number; height: number; rgba: Uint8Array } {
  let o = 8;
  let width = 0, height = 0;
  const idat: Buffer[] = [];
  while (o < buf.length) {
    const len = buf.readUInt32BE(o);
    const type = buf.toString('latin1', o + 4, o + 8);
    const data = buf.subarray(o + 8, o + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      if (data[8] !== 8 || data[9] !== 6) throw new Error('test decoder reads 8-bit RGBA only');
    } else if (type === 'IDAT') idat.push(data);
    o += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = 4 * width;
  const rgba = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)];
    for (let x = 0; x < stride; x++) {
      const v = raw[y * (stride + 1) + 1 + x];
      const a = x >= 4 ? rgba[y * stride + x - 4] : 0;
      const b = y > 0 ? rgba[(y - 1) * stride + x] : 0;
      const c = x >= 4 && y > 0 ? rgba[(y - 1) * stride + x - 4] : 0;
      let p = 0;
      if (f === 1) p = a;
      else if (f === 2) p = b;
      else if (f === 3) p = (a + b) >> 1;
      else if (f === 4) {
        const pa = Math.abs(b - c), pb = Math.abs(a - c), pc = Math.abs(a + b - 2 * c);
        p = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      rgba[y * stride + x] = (v + p) & 0xff;
    }
  }
  return { width, height, rgba };
}

/** The heatmap images of a picture: channel, upscale and decoded pixels. */
export function heatmaps(svg: string): { channel: number; upscale: number; width: number; height: number; rgba: Uint8Array }[] {
  const out = [];
  for (const m of svg.matchAll(/<image class="heatmap" data-channel="(\d+)"[^>]*data-upscale="(\d+)"[^>]*href="data:image\/png;base64,([^"]+)"/g)) {
    const png = decodePng(Buffer.from(m[3], 'base64'));
    out.push({ channel: Number(m[1]), upscale: Number(m[2]), ...png });
  }
  return out;
}

/**
 * A short graphene-small run (small batches, no symmetry copies) in `dir`, with
 * a network snapshot before the first episode and after every `every` episodes.
 */
export async function shortRun(dir: string, episodes: number, every: number, sets: string[] = []): Promise<void> {
  const config = validateProblem(applySets(structuredClone(PRESETS['graphene-small']), ['training.batchSize=8', 'training.symmetryCopies=1', ...sets]));
  const run = await Run.open({ dir, config, warn: () => {} });
  try {
    appendNetworkSnapshot(dir, 0, run.agent.net!);
    await run.run({
      episodes,
      onEpisode: (r, rn) => {
        if (r.episode % every === 0) appendNetworkSnapshot(dir, r.episode, rn.agent.net!);
      },
    });
  } finally {
    await run.close();
  }
}
