/**
 * `asla render RUN_DIR --episode E [--step T] [--format svg|png] [--out FILE]`:
 * single pictures of a run. With --step, the Q-value maps of building step T
 * (1-based; T = actions + 1 shows the finished structure) of episode E; without
 * it, the whole build of episode E step by step. --best and --energy give the
 * best structure and the energy-per-episode plot instead; --relevance the
 * relevance map of step T (paper Fig. 4; bias-free networks only). Q-values are
 * recomputed from the stored network nearest to the one that built episode E
 * (networks.jsonl snapshots and checkpoint.json).
 */
import { parseFlags } from './args.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../util/errors.js';
import { buildPicture, qmapPicture, structurePicture } from '../report/pictures.js';
import { energyPlotSpec, vegaLiteSvg } from '../report/plots.js';
import { svgToPng } from '../report/png.js';
import { BuildReplayer, findEpisode, isRunDir, loadRun, networkFor } from '../report/rundata.js';
import { relevancePicture } from '../report/relevance-picture.js';
import { explainRun } from './explain.js';

export async function cmdRender(args: string[]): Promise<number> {
  const parsed = parseFlags({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      episode: { type: 'string' },
      step: { type: 'string' },
      format: { type: 'string' },
      out: { type: 'string' },
      best: { type: 'boolean' },
      energy: { type: 'boolean' },
      width: { type: 'string' },
      relevance: { type: 'boolean' },
    },
  });
  const { values, positionals } = parsed;
  if (positionals.length !== 1) throw new InputError('usage: asla render RUN_DIR --episode E [--step T] [--format svg|png] [--out FILE] (or --best, --energy; --relevance for the relevance map of step T)');
  const dir = positionals[0];
  if (!isRunDir(dir)) throw new InputError('not a run directory (no config.json)', dir);
  const format = (values.format as string | undefined) ?? (values.out && /\.png$/i.test(values.out as string) ? 'png' : 'svg');
  if (format !== 'svg' && format !== 'png') throw new InputError(`must be svg or png, got '${format}'`, '--format');
  const int = (v: unknown, flag: string, min: number): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new InputError(`must be an integer ≥ ${min}, got '${v}'`, flag);
    return n;
  };
  const episode = int(values.episode, '--episode', 1);
  const step = int(values.step, '--step', 1);
  const width = int(values.width, '--width', 16);
  const modes = [episode !== undefined, Boolean(values.best), Boolean(values.energy)].filter(Boolean).length;
  if (modes !== 1) throw new InputError('give exactly one of --episode E, --best, --energy');
  if (step !== undefined && episode === undefined) throw new InputError('--step needs --episode');
  if (values.relevance && episode === undefined) throw new InputError('--relevance needs --episode E (and --step T, default: the last placement)');

  const run = loadRun(dir);
  let svg: string;
  let name: string;
  if (values.best) {
    if (!run.best) throw new InputError('has no best structure yet (no successful evaluation)', join(dir, 'best.extxyz'));
    const e = run.best.info.energy as number | undefined;
    svg = structurePicture(run.best, {
      title: `best structure${e !== undefined ? `: ${(e / run.best.length).toFixed(4)} eV/atom` : ''}${run.best.info.episode !== undefined ? `, episode ${run.best.info.episode}` : ''}`,
      templateCount: run.config.template.length,
      periodic: [run.config.grid.periodic[0], run.config.grid.periodic[1]],
    });
    name = 'best';
  } else if (values.energy) {
    if (run.episodes.length === 0) throw new InputError('has no episodes yet', join(dir, 'episodes.jsonl'));
    svg = await vegaLiteSvg(energyPlotSpec(run.episodes, { atoms: run.atomsPerStructure, referenceEnergy: run.referenceEnergy, threshold: run.config.success.threshold }));
    name = 'energy';
  } else if (values.relevance) {
    // relevance map (paper Fig. 4): explainRun refuses random-policy runs and networks with biases
    const ex = await explainRun(dir, { episode, step });
    const replayer = new BuildReplayer(run.config);
    const rec = findEpisode(run, ex.episode);
    const [s] = replayer.steps(rec, null, ex.step - 1);
    svg = relevancePicture(replayer.context, s.atoms, ex.atoms.map((a) => a.relevance), ex.action, replayer.templateCount, {
      title: `episode ${ex.episode}${rec.greedy ? ' (greedy)' : ''}, step ${ex.step} of ${rec.actions.length}: relevance of the atoms for the chosen action`,
      notes: [`Q = ${ex.q.toFixed(4)}, Σ relevance = ${ex.relevanceSum.toFixed(4)} (Methods eq. 3, τ = ${ex.tau})`, ex.network],
    });
    name = `episode-${ex.episode}-step-${ex.step}-relevance`;
  } else {
    const rec = findEpisode(run, episode!);
    const replayer = new BuildReplayer(run.config);
    const { snapshot, note } = networkFor(dir, run.config, episode!);
    const total = rec.actions.length;
    if (step !== undefined && step > total + 1) throw new InputError(`episode ${episode} has ${total} actions: step must be 1..${total + 1} (${total + 1} = finished)`, '--step');
    const energy = rec.energy === null ? `failed (${rec.failure?.kind})` : `${(rec.energy / run.atomsPerStructure).toFixed(4)} eV/atom`;
    if (step !== undefined) {
      const [s] = replayer.steps(rec, snapshot?.net ?? null, step - 1);
      const title = `episode ${episode}${rec.greedy ? ' (greedy)' : ''}, ${s.action ? `step ${step} of ${total}` : `finished: ${energy}`}`;
      svg = qmapPicture(replayer.context, s, { title, note });
      name = `episode-${episode}-step-${step}`;
    } else {
      const steps = replayer.steps(rec, snapshot?.net ?? null);
      const finished = steps.pop()!;
      svg = buildPicture(replayer.context, steps, {
        title: `episode ${episode}${rec.greedy ? ' (greedy)' : ''}: ${energy}`,
        final: { atoms: finished.atoms, caption: energy },
        note,
      });
      name = `episode-${episode}`;
    }
  }
  const out = (values.out as string | undefined) ?? join(dir, `${name}.${format}`);
  writeFileSync(out, format === 'png' ? svgToPng(svg, width ? { width } : {}) : svg);
  process.stdout.write(`${out}\n`);
  return 0;
}
