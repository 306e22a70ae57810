/**
 * Plots drawn by Vega-Lite and rendered to SVG on the server by Vega's
 * headless View (no canvas needed for SVG): the energy of every episode with
 * greedy episodes marked, success curves and mean-energy curves of an ensemble
 * (paper Extended Data Fig. 2).
 */
import { parse as vegaParse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { EpisodeRecord } from '../agent/agent.js';
import { InputError } from '../util/errors.js';
import type { EnsembleStats, StatsReport, SuccessCurve } from '../search/stats.js';
import { FONT } from './svg.js';

const CONFIG = { font: FONT, view: { stroke: '#ccc' }, axis: { labelFontSize: 11, titleFontSize: 12 }, legend: { labelFontSize: 11, titleFontSize: 12 } };

/** Renders a Vega-Lite spec to an SVG document. */
export async function vegaLiteSvg(spec: TopLevelSpec): Promise<string> {
  const vg = compile(spec).spec;
  const view = new View(vegaParse(vg), { renderer: 'none' });
  try {
    const svg = await view.toSVG();
    return svg.endsWith('\n') ? svg : svg + '\n';
  } finally {
    view.finalize();
  }
}

export interface EnergyPlotOptions {
  title?: string;
  atoms: number;
  referenceEnergy?: number | null;
  /** eV/atom above the reference that counts as built (the success threshold). */
  threshold?: number;
  width?: number;
  height?: number;
}

/**
 * Energy per atom of every episode, greedy episodes as red diamonds, the best
 * so far as a line, the reference (and success threshold) as dashed rules.
 * Early episodes of a search are often tens of eV/atom above the rest; the
 * y-axis stops a few eV/atom above the best energies and higher points sit on
 * the top edge as triangles, so the part where learning shows stays readable.
 */
export function energyPlotSpec(records: EpisodeRecord[], opts: EnergyPlotOptions): TopLevelSpec {
  const n = opts.atoms;
  const energies = records.filter((r) => r.energy !== null).map((r) => r.energy! / n);
  const ref = opts.referenceEnergy != null ? opts.referenceEnergy / n : null;
  const low = Math.min(...energies, ...(ref !== null ? [ref] : []));
  const sorted = [...energies].sort((a, b) => a - b);
  const median = sorted.length ? sorted[Math.floor(sorted.length / 2)] : 0;
  const cap = sorted.length ? Math.min(sorted[sorted.length - 1], Math.max(low + 3, median + 0.5)) : 1;
  const top = cap + 0.05 * Math.max(0.1, cap - low);
  const bottom = low - 0.05 * Math.max(0.1, cap - low);
  let best = Infinity;
  const points = records.map((r) => {
    const e = r.energy === null ? null : r.energy / n;
    if (e !== null && e < best) best = e;
    return {
      episode: r.episode,
      energy: e === null ? top : Math.min(e, top),
      actual: e,
      best: Number.isFinite(best) ? best : null,
      kind: r.energy === null ? `failed (${r.failure?.kind ?? '?'})` : r.greedy ? 'greedy episode' : 'episode',
      clipped: e === null || e > top,
    };
  });
  const failedKinds = [...new Set(points.filter((p) => p.kind.startsWith('failed')).map((p) => p.kind))];
  const x = { field: 'episode', type: 'quantitative', title: 'episode', scale: { domainMin: 0 } };
  const y = { field: 'energy', type: 'quantitative', title: 'energy (eV/atom)', scale: { domain: [bottom, top], zero: false, nice: false } };
  const color = {
    field: 'kind',
    type: 'nominal',
    title: null,
    scale: { domain: ['episode', 'greedy episode', ...failedKinds], range: ['#7a9cc6', '#d62728', '#999', '#777', '#555'] },
  };
  const tooltip = [
    { field: 'episode', type: 'quantitative' },
    { field: 'actual', type: 'quantitative', title: 'eV/atom', format: '.4f' },
    { field: 'kind', type: 'nominal' },
  ];
  const layers: Record<string, unknown>[] = [
    {
      mark: { type: 'line', color: '#2ca02c', strokeWidth: 1.5, interpolate: 'step-after', clip: true },
      encoding: { x, y: { field: 'best', type: 'quantitative' } },
    },
    {
      // ordinary and greedy episodes within the axis range
      transform: [{ filter: '!datum.clipped' }],
      mark: { type: 'point', filled: true, size: 36, opacity: 0.85, clip: true },
      encoding: {
        x,
        y,
        color,
        shape: { field: 'kind', type: 'nominal', title: null, scale: { domain: ['episode', 'greedy episode', ...failedKinds], range: ['circle', 'diamond', 'square', 'square', 'square'] } },
        tooltip,
      },
    },
    {
      // above the axis range, or failed: triangles on the top edge
      transform: [{ filter: 'datum.clipped' }],
      mark: { type: 'point', shape: 'triangle-up', filled: true, size: 30, opacity: 0.7 },
      encoding: { x, y, color, tooltip },
    },
  ];
  if (ref !== null) {
    const label = `reference ${ref.toFixed(3)} eV/atom${opts.threshold ? `; success within +${opts.threshold}` : ''}`;
    layers.push({
      data: { values: [{ y: ref, label }] },
      layer: [
        { mark: { type: 'rule', strokeDash: [5, 4], color: '#333' }, encoding: { y: { field: 'y', type: 'quantitative' } } },
        {
          mark: { type: 'text', align: 'right', dx: -4, dy: -6, fontSize: 10, color: '#333' },
          encoding: { y: { field: 'y', type: 'quantitative' }, x: { value: opts.width ?? 560 }, text: { field: 'label' } },
        },
      ],
    });
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: opts.title ?? 'energy per episode (green line: best so far; triangles: above the axis or failed)',
    width: opts.width ?? 560,
    height: opts.height ?? 260,
    data: { values: points },
    layer: layers,
    config: CONFIG,
  } as unknown as TopLevelSpec;
}

/**
 * The ensemble statistics plotted: the output of src/search/stats.ts
 * (computeStats, or `asla stats --json` read back with validateStats).
 */
export function validateStats(raw: unknown, where: string): EnsembleStats[] {
  const o = raw as Partial<StatsReport> | null;
  if (!o || typeof o !== 'object' || !Array.isArray(o.ensembles)) throw new InputError("must be the JSON of 'asla stats --json' (field ensembles missing)", where);
  o.ensembles.forEach((e, i) => {
    const c = (e as Partial<EnsembleStats>)?.curve as Partial<SuccessCurve> | undefined;
    const f = `field ensembles[${i}]`;
    if (typeof e?.label !== 'string') throw new InputError(`${f}.label must be a string`, where);
    if (!c || !Array.isArray(c.episode)) throw new InputError(`${f}.curve.episode must be a list`, where);
    for (const k of ['success', 'lower', 'upper', 'meanBestEnergy'] as const) {
      if (!Array.isArray(c[k]) || c[k]!.length !== c.episode.length) throw new InputError(`${f}.curve.${k} must be a list as long as curve.episode`, where);
    }
  });
  return o.ensembles as EnsembleStats[];
}

/**
 * Success curves (Extended Data Fig. 2): the Kaplan–Meier fraction of agents
 * that have built the target by each episode, with its 95% band, one line per
 * ensemble.
 */
export function successPlotSpec(ensembles: EnsembleStats[], title = 'success: fraction of agents that have built the target (95% band)'): TopLevelSpec {
  const values = ensembles.flatMap((e) =>
    e.curve.episode.map((ep, k) => ({ series: e.label, episode: ep, success: e.curve.success[k], lower: e.curve.lower[k], upper: e.curve.upper[k] })),
  );
  const x = { field: 'episode', type: 'quantitative', title: 'episode' };
  const color = { field: 'series', type: 'nominal', title: null };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    width: 560,
    height: 240,
    data: { values },
    layer: [
      {
        transform: [{ filter: 'datum.lower !== null && datum.upper !== null' }],
        mark: { type: 'area', opacity: 0.2, interpolate: 'step-after' },
        encoding: { x, y: { field: 'lower', type: 'quantitative' }, y2: { field: 'upper' }, color },
      },
      {
        mark: { type: 'line', interpolate: 'step-after' },
        encoding: { x, y: { field: 'success', type: 'quantitative', title: 'fraction of agents', scale: { domain: [0, 1] } }, color },
      },
    ],
    config: CONFIG,
  } as unknown as TopLevelSpec;
}

/** Mean over agents of the best energy so far above the target (eV/atom), one line per ensemble. */
export function meanEnergyPlotSpec(ensembles: EnsembleStats[], title = 'mean over agents of the best energy so far, above the target'): TopLevelSpec {
  const values = ensembles.flatMap((e) =>
    e.curve.episode.flatMap((ep, k) => (e.curve.meanBestEnergy[k] === null ? [] : [{ series: e.label, episode: ep, energy: e.curve.meanBestEnergy[k] }])),
  );
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    width: 560,
    height: 240,
    data: { values },
    mark: { type: 'line', interpolate: 'step-after' },
    encoding: {
      x: { field: 'episode', type: 'quantitative', title: 'episode' },
      y: { field: 'energy', type: 'quantitative', title: 'E − E_target (eV/atom)', scale: { zero: false } },
      color: { field: 'series', type: 'nominal', title: null },
    },
    config: CONFIG,
  } as unknown as TopLevelSpec;
}
