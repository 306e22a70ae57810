/**
 * `asla molecules RUN_DIR... [--json] [--all] [--no-smiles] [--limit N]`: how
 * often each product (set of molecules) was built in greedy episodes, as
 * Fig. 5b–e count them (see src/search/molecules.ts).
 */
import { parseFlags } from './args.js';
import { countProducts, formatProducts } from '../search/molecules.js';
import { InputError } from '../util/errors.js';
import { writeFileSync } from 'node:fs';
import { moleculesPlotSpec } from '../report/molecules-plot.js';
import { vegaLiteSvg } from '../report/plots.js';
import { svgToPng } from '../report/png.js';

export const MOLECULES_USAGE = `usage: asla molecules RUN_DIR... [--json] [--all] [--no-smiles] [--limit N]
  RUN_DIR: a run directory or a folder of them (an ensemble)
  --all        count every episode, not only the greedy ones (Fig. 5b–e count greedy builds)
  --no-smiles  do not call Open Babel (built-in connectivity keys only)
  --limit N    show the N most built products in the table and plot (JSON always has all)
  --plot FILE  also write the histogram of products (Fig. 5b–e) as SVG or PNG`;

export async function cmdMolecules(args: string[]): Promise<number> {
  const parsed = parseFlags({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      json: { type: 'boolean' },
      all: { type: 'boolean' },
      'no-smiles': { type: 'boolean' },
      limit: { type: 'string' },
      plot: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(MOLECULES_USAGE + '\n');
    return 0;
  }
  if (positionals.length === 0) throw new InputError(`missing RUN_DIR\n${MOLECULES_USAGE}`);
  let limit: number | undefined;
  if (values.limit !== undefined) {
    limit = Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1) throw new InputError(`must be an integer ≥ 1, got '${values.limit}'`, '--limit');
  }
  const plot = values.plot as string | undefined;
  if (plot !== undefined && !/\.(svg|png)$/i.test(plot)) throw new InputError(`must end in .svg or .png, got '${plot}'`, '--plot');
  const report = await countProducts(positionals, { all: Boolean(values.all), smiles: values['no-smiles'] ? false : 'auto' });
  if (plot !== undefined) {
    const svg = await vegaLiteSvg(moleculesPlotSpec(report, { limit }));
    writeFileSync(plot, /\.png$/i.test(plot) ? svgToPng(svg) : svg);
    if (!values.json) process.stdout.write(`${plot}\n`);
  }
  process.stdout.write(values.json ? JSON.stringify(report, null, 2) + '\n' : formatProducts(report, { limit }));
  return 0;
}
