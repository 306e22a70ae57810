/**
 * `asla report DIR`: one self-contained HTML file (inline CSS and script, no
 * network) and its pictures for a run or an ensemble of runs: a summary, the
 * best structure, the energy curves, success and mean-energy curves of an
 * ensemble, and builds of selected episodes step by step with their Q-maps.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { EpisodeRecord } from '../agent/agent.js';
import { buildPicture, formulaOf, qmapPicture, structurePicture } from './pictures.js';
import { energyPlotSpec, meanEnergyPlotSpec, successPlotSpec, vegaLiteSvg } from './plots.js';
import { computeStats, type EnsembleStats } from '../search/stats.js';
import { agentDirs, BuildReplayer, findEpisode, loadRun, networkFor, type RunData } from './rundata.js';
import { esc } from './svg.js';

export interface ReportOptions {
  /** Output directory (default DIR/report). */
  out?: string;
  /** Episodes whose builds are shown (default: a selection, see selectEpisodes). */
  episodes?: number[];
  /** Ensembles whose success and mean-energy curves are drawn too (e.g. other policies, from `asla stats --json`). */
  stats?: EnsembleStats[];
  /** How many episodes to pick when none are given. */
  maxBuilds?: number;
}

export interface ReportResult {
  html: string;
  pictures: string[];
  episodes: number[];
}

/**
 * Episodes worth looking at: the first greedy episode, the first that built the
 * reference, the one with the lowest energy, the last greedy and the last
 * episode (in episode order, without repeats).
 */
export function selectEpisodes(records: EpisodeRecord[], max = 5): number[] {
  if (records.length === 0) return [];
  const picks: number[] = [];
  const greedy = records.filter((r) => r.greedy);
  if (greedy.length) picks.push(greedy[0].episode);
  const reached = records.find((r) => r.reachedReference);
  if (reached) picks.push(reached.episode);
  let best: EpisodeRecord | null = null;
  for (const r of records) if (r.energy !== null && (best === null || r.energy < best.energy!)) best = r;
  if (best) picks.push(best.episode);
  if (greedy.length) picks.push(greedy[greedy.length - 1].episode);
  picks.push(records[records.length - 1].episode);
  return [...new Set(picks)].slice(0, max).sort((a, b) => a - b);
}

function perAtom(e: number | null | undefined, n: number): string {
  return e === null || e === undefined ? '–' : (e / n).toFixed(4);
}

function bestOf(run: RunData): EpisodeRecord | null {
  let best: EpisodeRecord | null = null;
  for (const r of run.episodes) if (r.energy !== null && (best === null || r.energy < best.energy!)) best = r;
  return best;
}

const CSS = `
body{font-family:"DejaVu Sans",Arial,Helvetica,sans-serif;margin:24px;color:#222;max-width:1280px}
h1{font-size:22px}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #ddd;padding-bottom:4px}h3{font-size:15px}
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f4f4f4}
td:first-child,th:first-child{text-align:left}
figure{margin:12px 0}figcaption{font-size:12px;color:#555;max-width:900px}
img{max-width:100%;height:auto}
.row{display:flex;flex-wrap:wrap;gap:24px;align-items:flex-start}
.stepper{border:1px solid #ddd;padding:8px;margin:8px 0;display:inline-block}
.stepper button{font-size:13px;margin-right:6px}.stepper input{width:320px;vertical-align:middle}
.muted{color:#666;font-size:12px}
`;

/** Inline script of the step viewers: a slider and buttons switch the Q-map picture of each build. */
const SCRIPT = `
for (const box of document.querySelectorAll('.stepper')) {
  const img = box.querySelector('img'), range = box.querySelector('input'), label = box.querySelector('.steplabel');
  const srcs = JSON.parse(box.dataset.steps);
  const show = (k) => { k = Math.max(0, Math.min(srcs.length - 1, k)); range.value = k; img.src = srcs[k]; label.textContent = k < srcs.length - 1 ? 'step ' + (k + 1) + ' of ' + (srcs.length - 1) : 'finished'; };
  range.max = srcs.length - 1;
  range.addEventListener('input', () => show(Number(range.value)));
  box.querySelector('.prev').addEventListener('click', () => show(Number(range.value) - 1));
  box.querySelector('.next').addEventListener('click', () => show(Number(range.value) + 1));
  show(0);
}
`;

/** Writes the report of a run or an ensemble directory; returns the paths written. */
export async function writeReport(dir: string, opts: ReportOptions = {}): Promise<ReportResult> {
  const out = opts.out ?? join(dir, 'report');
  const picDir = join(out, 'pictures');
  mkdirSync(picDir, { recursive: true });
  const runs = agentDirs(dir).map(loadRun);
  const pictures: string[] = [];
  const write = (name: string, svg: string): string => {
    const p = join(picDir, name);
    writeFileSync(p, svg);
    pictures.push(p);
    return relative(out, p);
  };
  const ensemble = runs.length > 1 || runs[0].dir !== dir;
  const first = runs[0];
  const cfg = first.config;

  let html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>asla report: ${esc(cfg.name)}</title><style>${CSS}</style></head><body>`;
  html += `<h1>ASLA ${ensemble ? `ensemble of ${runs.length} agents` : 'run'}: ${esc(cfg.name)}</h1>`;
  html += `<p class="muted">${esc(dir)} · generated ${new Date().toISOString().replace('T', ' ').slice(0, 19)} UTC</p>`;

  // ---- summary ----
  const grid = cfg.grid;
  html += `<h2>Summary</h2><table><tr><th>problem</th><td>${esc(cfg.name)}</td></tr>`;
  html += `<tr><th>stoichiometry</th><td>${esc(Object.entries(cfg.stoichiometry).map(([s, n]) => `${s}${n}`).join(' '))} + ${cfg.template.length} template atom(s)</td></tr>`;
  html += `<tr><th>grid</th><td>${grid.shape[0]} × ${grid.shape[1]}${grid.periodic.some((p) => p) ? `, periodic ${grid.periodic.map((p) => (p ? 'yes' : 'no')).join('/')}` : ''}</td></tr>`;
  html += `<tr><th>calculator</th><td>${esc(cfg.calculator.name)}</td></tr>`;
  html += `<tr><th>policy</th><td>${esc(cfg.run.policy)} (ε ${cfg.policy.epsilon}, εν ${cfg.policy.epsilonNu}, ν ${cfg.policy.nu}, greedy every ${cfg.policy.greedyEvery})</td></tr></table>`;
  html += `<h3>${ensemble ? 'Agents' : 'Progress'}</h3><table><tr><th>agent</th><th>seed</th><th>episodes</th><th>best E (eV/atom)</th><th>at episode</th><th>reference (eV/atom)</th><th>first built reference</th><th>failed evaluations</th></tr>`;
  for (const r of runs) {
    const best = bestOf(r);
    const reached = r.episodes.find((e) => e.reachedReference)?.episode ?? null;
    const failed = r.episodes.filter((e) => e.failure).length;
    html += `<tr><td>${esc(r.name)}</td><td>${r.config.run.seed}</td><td>${r.episodes.length}</td><td>${perAtom(best?.energy, r.atomsPerStructure)}</td><td>${best?.episode ?? '–'}</td><td>${perAtom(r.referenceEnergy, r.atomsPerStructure)}</td><td>${reached ?? 'not yet'}</td><td>${failed}</td></tr>`;
  }
  html += `</table>`;

  // ---- best structures ----
  let bestRun = first;
  for (const r of runs) {
    const a = bestOf(r), b = bestOf(bestRun);
    if (a && (!b || a.energy! / r.atomsPerStructure < b.energy! / bestRun.atomsPerStructure)) bestRun = r;
  }
  html += `<h2>Best structure</h2><div class="row">`;
  if (bestRun.best) {
    const e = bestRun.best.info.energy as number | undefined;
    const title = `best: ${formulaOf(bestRun.best)}${e !== undefined ? `, ${(e / bestRun.best.length).toFixed(4)} eV/atom` : ''}${bestRun.best.info.episode !== undefined ? `, episode ${bestRun.best.info.episode}` : ''}`;
    const src = write('best.svg', structurePicture(bestRun.best, { title, templateCount: bestRun.config.template.length, periodic: [grid.periodic[0], grid.periodic[1]] }));
    html += `<figure><img class="picture" alt="best structure" src="${esc(src)}"><figcaption>${esc(title)}${ensemble ? ` (agent ${esc(bestRun.name)})` : ''}</figcaption></figure>`;
  } else {
    html += `<p>No structure has been evaluated yet.</p>`;
  }
  if (bestRun.reference) {
    const e = bestRun.reference.info.energy as number | undefined;
    const title = `reference${e !== undefined ? `, ${(e / bestRun.reference.length).toFixed(4)} eV/atom` : ''}`;
    const src = write('reference.svg', structurePicture(bestRun.reference, { title, periodic: [grid.periodic[0], grid.periodic[1]] }));
    html += `<figure><img class="picture" alt="reference structure" src="${esc(src)}"><figcaption>the reference structure (snapped to the grid) that decides success</figcaption></figure>`;
  }
  html += `</div>`;

  // ---- curves ----
  html += `<h2>Energy per episode</h2>`;
  for (const [k, r] of runs.entries()) {
    if (r.episodes.length === 0) continue;
    const svg = await vegaLiteSvg(
      energyPlotSpec(r.episodes, { atoms: r.atomsPerStructure, referenceEnergy: r.referenceEnergy, threshold: r.config.success.threshold, title: `${ensemble ? `${r.name}: ` : ''}energy per episode` }),
    );
    const src = write(`energy-${k}.svg`, svg);
    html += `<figure><img class="plot" alt="energy per episode" src="${esc(src)}"><figcaption>Energy of each episode's structure; red diamonds: greedy episodes (every ${r.config.policy.greedyEvery}th); green: best so far; triangles on the top edge: higher than the axis, or failed evaluations; dashed: the reference.</figcaption></figure>`;
  }
  const curves: EnsembleStats[] = [];
  if (ensemble && runs.length > 1) curves.push(...computeStats([dir]).ensembles);
  curves.push(...(opts.stats ?? []));
  if (curves.length) {
    const src = write('success.svg', await vegaLiteSvg(successPlotSpec(curves)));
    html += `<h2>Success</h2><figure><img class="plot" alt="success curve" src="${esc(src)}"><figcaption>Kaplan–Meier fraction of agents that have built the target (the reference within the threshold, or the best energy over all agents) by each episode, with its 95% band (as the paper's Extended Data Fig. 2; computed by <code>asla stats</code>).</figcaption></figure>`;
    const src2 = write('mean-energy.svg', await vegaLiteSvg(meanEnergyPlotSpec(curves)));
    html += `<figure><img class="plot" alt="mean energy curve" src="${esc(src2)}"><figcaption>Mean over agents of the best energy found so far, above the target.</figcaption></figure>`;
  }

  // ---- builds ----
  const buildRun = bestRun;
  const episodes = opts.episodes ?? selectEpisodes(buildRun.episodes, opts.maxBuilds ?? 5);
  if (episodes.length) {
    html += `<h2>Builds step by step${ensemble ? ` (agent ${esc(buildRun.name)})` : ''}</h2>`;
    html += `<p class="muted">Each picture shows the structure before an action and the Q-values the network gives every allowed grid point for each species (as the paper's Fig. 2a); the black ring is the action taken, the magenta outline the atom placed last. Q-maps are recomputed from the stored network nearest to the one that built the episode.</p>`;
    const replayer = new BuildReplayer(buildRun.config);
    for (const ep of episodes) {
      const rec = findEpisode(buildRun, ep);
      const { snapshot, note } = networkFor(buildRun.dir, buildRun.config, ep);
      const steps = replayer.steps(rec, snapshot?.net ?? null);
      const finished = steps[steps.length - 1];
      const energy = rec.energy === null ? `failed (${rec.failure?.kind})` : `${(rec.energy / buildRun.atomsPerStructure).toFixed(4)} eV/atom`;
      const caption = `episode ${ep}${rec.greedy ? ' (greedy)' : ''}: ${energy}${rec.reachedReference ? ', reference built' : ''}`;
      const strip = write(
        `build-${ep}.svg`,
        buildPicture(replayer.context, steps.slice(0, -1), { title: caption, final: { atoms: finished.atoms, caption: energy }, note }),
      );
      const stepSrcs: string[] = [];
      for (const s of steps) {
        stepSrcs.push(
          write(`build-${ep}-step-${s.step + 1}.svg`, qmapPicture(replayer.context, s, { title: `episode ${ep}, ${s.action ? `step ${s.step + 1} of ${s.total}` : 'finished'}`, note })),
        );
      }
      html += `<h3 id="episode-${ep}">${esc(caption)}</h3>`;
      html += `<figure><img class="picture build" alt="build of episode ${ep}" src="${esc(strip)}"><figcaption>${esc(rec.kinds ? `actions: ${rec.actions.length}, kinds ${rec.kinds} (g greedy, r random, n best-ν, u random policy)` : '')}</figcaption></figure>`;
      html += `<div class="stepper" data-steps="${esc(JSON.stringify(stepSrcs))}"><div><button class="prev">◀ previous</button><button class="next">next ▶</button><input type="range" min="0" value="0"> <span class="steplabel"></span></div><img class="picture step" alt="Q-map of a step of episode ${ep}" src="${esc(stepSrcs[0])}"></div>`;
    }
  }
  html += `<p class="muted">Species channels: ${esc(Object.keys(cfg.stoichiometry).join(', '))}. Pictures are SVG; <code>asla render RUN_DIR --episode E --step T --format png</code> gives single PNG pictures.</p>`;
  html += `<script>${SCRIPT}</script></body></html>\n`;
  const htmlPath = join(out, 'index.html');
  writeFileSync(htmlPath, html);
  return { html: htmlPath, pictures, episodes };
}
