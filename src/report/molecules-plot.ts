/**
 * Molecule histograms (paper Fig. 5b–e): how often each product (set of
 * molecules) was built in the greedy episodes of a run or an ensemble, from
 * `countProducts` (src/search/molecules.ts), as a Vega-Lite bar chart rendered
 * to SVG by `vegaLiteSvg` (src/report/plots.ts). One bar per product, most
 * built first; the bar's colour is the fraction of agents that built it.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { Product, ProductsReport } from '../search/molecules.js';
import { FONT } from './svg.js';

export interface MoleculesPlotOptions {
  title?: string;
  /** Plot only the `limit` most built products. */
  limit?: number;
  width?: number;
  height?: number;
}

/** The bar label of a product: its common name, else its SMILES, else its formula. */
export function productLabel(p: Product): string {
  return p.name ?? p.smiles ?? p.formula;
}

export function moleculesPlotSpec(report: ProductsReport, opts: MoleculesPlotOptions = {}): TopLevelSpec {
  const products = opts.limit !== undefined ? report.products.slice(0, opts.limit) : report.products;
  // isomers share a formula: labels must stay distinct or Vega-Lite would stack their bars into one
  const seen = new Map<string, number>();
  const values = products.map((p, k) => {
    const base = productLabel(p);
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    return {
      rank: k + 1,
      product: n === 1 ? base : `${base} (${n})`,
      formula: p.formula,
      builds: p.builds,
      buildFraction: p.buildFraction,
      agents: p.agents,
      agentFraction: p.agentFraction,
      bestEnergy: p.bestEnergy,
    };
  });
  const runs = report.runs.length;
  const counted = report.episodes === 'greedy' ? 'greedy episodes' : 'episodes';
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title:
      opts.title ??
      `products built in ${counted}: ${report.builds} builds by ${runs} agent${runs === 1 ? '' : 's'}${products.length < report.products.length ? ` (the ${products.length} most built of ${report.products.length})` : ''}`,
    width: opts.width ?? Math.max(240, Math.min(900, 28 * values.length)),
    height: opts.height ?? 240,
    data: { values },
    mark: { type: 'bar' },
    encoding: {
      x: { field: 'product', type: 'nominal', title: 'product', sort: { field: 'rank', order: 'ascending' }, axis: { labelAngle: -40, labelLimit: 260 } },
      y: { field: 'builds', type: 'quantitative', title: `builds in ${counted}` },
      color: { field: 'agentFraction', type: 'quantitative', title: 'fraction of agents', scale: { domain: [0, 1], scheme: 'blues' } },
      tooltip: [
        { field: 'product', type: 'nominal' },
        { field: 'formula', type: 'nominal' },
        { field: 'builds', type: 'quantitative' },
        { field: 'buildFraction', type: 'quantitative', title: 'fraction of builds', format: '.3f' },
        { field: 'agents', type: 'quantitative' },
        { field: 'bestEnergy', type: 'quantitative', title: 'best energy (eV)', format: '.3f' },
      ],
    },
    config: { font: FONT, view: { stroke: '#ccc' }, axis: { labelFontSize: 11, titleFontSize: 12 }, legend: { labelFontSize: 11, titleFontSize: 12 } },
  } as unknown as TopLevelSpec;
}
