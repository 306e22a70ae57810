/**
 * SVG → PNG through resvg (@resvg/resvg-js: a maintained Rust SVG renderer
 * shipped as prebuilt binaries inside its npm packages). Text uses the
 * system's fonts (Debian: fonts-dejavu-core).
 */
import { Resvg } from '@resvg/resvg-js';

export interface PngOptions {
  /** Output width in px (height follows the aspect ratio); default: the SVG's own size × scale. */
  width?: number;
  /** Zoom factor when no width is given (default 2, for sharp pictures on paper and HiDPI screens). */
  scale?: number;
}

export function svgToPng(svg: string, opts: PngOptions = {}): Buffer {
  const fitTo = opts.width !== undefined ? ({ mode: 'width', value: opts.width } as const) : ({ mode: 'zoom', value: opts.scale ?? 2 } as const);
  const r = new Resvg(svg, {
    fitTo,
    background: '#ffffff',
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' },
  });
  return r.render().asPng();
}

/** Raw RGBA pixels of a rendered SVG (for tests that look at what is drawn). */
export function svgToPixels(svg: string, scale = 1): { width: number; height: number; pixels: Buffer } {
  const r = new Resvg(svg, { fitTo: { mode: 'zoom', value: scale }, background: '#ffffff', font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' } });
  const img = r.render();
  return { width: img.width, height: img.height, pixels: img.pixels };
}
