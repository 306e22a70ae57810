/**
 * `asla stats DIR... [--json] [--csv FILE] [--threshold eV/atom] [--criterion honeycomb|five-seven] [--label NAME ...]`:
 * success curves (Kaplan–Meier with a 95% band), mean energies and time to
 * 50%/90% success of ensembles side by side (see src/search/stats.ts).
 */
import { parseFlags } from './args.js';
import { writeFileSync } from 'node:fs';
import { computeStats, formatCsv, formatTable, SUCCESS_CRITERIA, type SuccessCriterion } from '../search/stats.js';
import { InputError } from '../util/errors.js';

export const STATS_USAGE = `usage: asla stats DIR... [--json] [--csv FILE] [--threshold eV/atom] [--criterion honeycomb|five-seven] [--label NAME ...]
  DIR: an ensemble (a folder of run directories) or a single run directory`;

export async function cmdStats(args: string[]): Promise<number> {
  const parsed = parseFlags({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      json: { type: 'boolean' },
      csv: { type: 'string' },
      threshold: { type: 'string' },
      criterion: { type: 'string' },
      label: { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(STATS_USAGE + '\n');
    return 0;
  }
  if (positionals.length === 0) throw new InputError(`missing DIR\n${STATS_USAGE}`);
  let threshold: number | undefined;
  if (values.threshold !== undefined) {
    threshold = Number(values.threshold);
    if (!Number.isFinite(threshold) || threshold < 0) throw new InputError(`must be a number ≥ 0 (eV/atom), got '${values.threshold}'`, '--threshold');
  }
  const criterion = values.criterion as string | undefined;
  if (criterion !== undefined && !(criterion in SUCCESS_CRITERIA)) {
    throw new InputError(`must be one of ${Object.keys(SUCCESS_CRITERIA).join(', ')}, got '${criterion}'`, '--criterion');
  }
  if (criterion !== undefined && threshold !== undefined) throw new InputError('give --threshold or --criterion, not both', '--criterion');
  const labels = values.label as string[] | undefined;
  if (labels && labels.length !== positionals.length) {
    throw new InputError(`give one --label per DIR (${positionals.length} DIRs, ${labels.length} labels)`);
  }
  const report = computeStats(positionals, { threshold, labels, criterion: criterion as SuccessCriterion | undefined });
  if (values.csv !== undefined) writeFileSync(values.csv as string, formatCsv(report));
  process.stdout.write(values.json ? JSON.stringify(report, null, 2) + '\n' : formatTable(report));
  return 0;
}
