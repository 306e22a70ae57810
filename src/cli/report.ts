/**
 * `asla report DIR [--out OUT] [--episodes E1,E2,...] [--stats FILE]`: one
 * self-contained HTML file (OUT/index.html, default DIR/report) and its
 * pictures for a run or an ensemble directory (subdirectories that are runs).
 * --stats adds the success and mean-energy curves of `asla stats --json` output
 * (e.g. other policies or settings for comparison).
 */
import { parseFlags } from './args.js';
import { existsSync } from 'node:fs';
import { InputError } from '../util/errors.js';
import { readJsonFile } from '../util/json-file.js';
import { writeReport } from '../report/report.js';
import { validateStats } from '../report/plots.js';
import type { EnsembleStats } from '../search/stats.js';

export async function cmdReport(args: string[]): Promise<number> {
  const parsed = parseFlags({ args, allowPositionals: true, strict: true, options: { out: { type: 'string' }, episodes: { type: 'string' }, stats: { type: 'string' } } });
  const { values, positionals } = parsed;
  if (positionals.length !== 1) throw new InputError('usage: asla report DIR [--out OUT] [--episodes E1,E2,...] [--stats FILE]');
  let episodes: number[] | undefined;
  if (values.episodes !== undefined) {
    episodes = (values.episodes as string).split(',').map((s) => {
      const n = Number(s.trim());
      if (!Number.isInteger(n) || n < 1) throw new InputError(`must be a comma-separated list of episode numbers ≥ 1, got '${s}'`, '--episodes');
      return n;
    });
  }
  let stats: EnsembleStats[] | undefined;
  if (values.stats !== undefined) {
    const path = values.stats as string;
    if (!existsSync(path)) throw new InputError('no such file', path);
    stats = validateStats(readJsonFile(path), path);
  }
  const r = await writeReport(positionals[0], { out: values.out as string | undefined, episodes, stats });
  process.stdout.write(`${r.html} (${r.pictures.length} pictures; builds of episodes ${r.episodes.join(', ') || 'none'})\n`);
  return 0;
}
