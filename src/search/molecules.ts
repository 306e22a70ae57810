/**
 * The products an agent built (paper Section IV, Fig. 5b–e; issue 5): how
 * often each set of molecules was built in greedy episodes, read from run
 * directories (structures.extxyz + episodes.jsonl).
 *
 * Counting as Fig. 5b–e do (Extended Data Fig. 6 caption): "Structures were
 * counted for greedy policy builds (every N_p'th episode) whenever their graph
 * was recognized as coinciding with those of the depicted structures". Here a
 * product is the multiset of molecules of a final structure, identified by
 * its bond graph (src/structure/molecules.ts: structureKey, bonded within the
 * sum of covalent radii + 0.2 Å), so the same product built anywhere on the
 * grid, in any orientation or atom order, counts once per build. The paper's
 * second condition (bond lengths and angles that would relax into the
 * depicted structure) needs relaxations and is not applied.
 *
 * Two counts per product: `builds`, the greedy episodes (over all runs) that
 * built it, and `agents`, the runs that built it at least once — the
 * fraction of agents is what Fig. 5b plots ("the sum exceeds 100% as a
 * punishing term is employed": one agent builds several products over time).
 * Failed evaluations and stuck builds are not products; they are counted
 * apart.
 *
 * Names: the built-in connectivity key always; with Open Babel installed
 * (`obabel`, Debian package openbabel) the canonical SMILES of each molecule
 * (bond orders perceived from the coordinates of the lowest-energy build)
 * and, for well-known molecules, a common name.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import type { Atoms } from '../structure/atoms.js';
import { bondGraph } from '../structure/bonds.js';
import { parseExtxyz } from '../structure/extxyz.js';
import { canonicalSmiles, OpenBabelError, splitMolecules } from '../structure/molecules.js';
import { InputError } from '../util/errors.js';
import { readJsonFile } from '../util/json-file.js';
import { findRunDirs } from './stats.js';

export interface MoleculeName {
  /** Built-in canonical connectivity key of the molecule (always). */
  key: string;
  formula: string;
  /** Open Babel canonical SMILES, or null without Open Babel. */
  smiles: string | null;
  /** Common name for well-known molecules (needs the SMILES), else null. */
  name: string | null;
}

export interface Product {
  /** structureKey: the molecules' keys, sorted, joined by " + ". */
  key: string;
  /** The molecules' formulas, sorted, joined by " + ", e.g. "C2H4 + CO2". */
  formula: string;
  /** The molecules, in the order of `key`. */
  molecules: MoleculeName[];
  /** SMILES of the whole product (molecules' SMILES sorted, joined by "."), or null. */
  smiles: string | null;
  /** Common names joined by " + " when every molecule has one, else null. */
  name: string | null;
  /** Counted episodes (greedy ones unless `all`) that built it, over all runs. */
  builds: number;
  /** Runs that built it at least once in counted episodes. */
  agents: number;
  /** agents / runs. */
  agentFraction: number;
  /** builds / counted episodes with a product. */
  buildFraction: number;
  /** Lowest energy among its builds, eV. */
  bestEnergy: number;
  /** Run and episode of that lowest-energy build. */
  bestRun: string;
  bestEpisode: number;
  /** First counted episode that built it in each run that did (run name → episode). */
  firstEpisode: Record<string, number>;
  /** Builds flagged with the configured motif (episodes.jsonl `motif`), or null when no run had a motif. */
  motifBuilds: number | null;
  /** Builds whose structure became punished (episodes.jsonl `punished`). */
  punishedBuilds: number;
}

export interface RunProducts {
  dir: string;
  name: string;
  episodes: number;
  /** Episodes counted (greedy ones unless `all`). */
  counted: number;
  /** Counted episodes whose evaluation failed or whose build got stuck. */
  failed: number;
  /** Distinct products among this run's counted episodes. */
  products: number;
  /** The run's motif (config.json), or null. */
  motif: unknown;
}

export interface ProductsReport {
  /** 'greedy' (as Fig. 5b–e) or 'all' episodes. */
  episodes: 'greedy' | 'all';
  runs: RunProducts[];
  /** Counted episodes that gave a product, over all runs. */
  builds: number;
  failed: number;
  /** Open Babel was used for SMILES (false: not installed or turned off). */
  openBabel: boolean;
  /** Products, most often built first (ties: lower energy first). */
  products: Product[];
}

export interface ProductsOptions {
  /** Count every episode, not only the greedy ones. */
  all?: boolean;
  /** Use Open Babel for SMILES: 'auto' (default) when installed, false never, true required. */
  smiles?: boolean | 'auto';
  /** obabel executable (default "obabel"). */
  obabel?: string;
}

/** One counted, successfully evaluated build of a run. */
export interface Build {
  episode: number;
  energy: number;
  structure: Atoms;
  motif: boolean | undefined;
  punished: boolean;
}

/**
 * Reads the counted builds of one run directory: episodes.jsonl and
 * structures.extxyz hold one entry per episode, in order (src/search/run.ts).
 * A partial last line of episodes.jsonl (a run writing) is left out.
 */
export function readBuilds(dir: string, all = false): { builds: Build[]; episodes: number; counted: number; failed: number; motif: unknown } {
  const configPath = join(dir, 'config.json');
  const logPath = join(dir, 'episodes.jsonl');
  const structuresPath = join(dir, 'structures.extxyz');
  if (!existsSync(configPath)) throw new InputError('not a run directory (no config.json)', dir);
  const config = readJsonFile(configPath) as Record<string, unknown> | null;
  const motif = config?.motif ?? null;
  if (!existsSync(logPath)) return { builds: [], episodes: 0, counted: 0, failed: 0, motif };
  const lines = readFileSync(logPath, 'utf8').split('\n');
  const complete = lines.length - 1; // the last element is '' or a partial line
  const frames = complete > 0 ? readFrames(structuresPath) : [];
  if (frames.length < complete) {
    throw new InputError(`holds ${frames.length} structures but episodes.jsonl ${complete} episodes`, structuresPath);
  }
  const builds: Build[] = [];
  let counted = 0;
  let failed = 0;
  for (let i = 0; i < complete; i++) {
    const where = `${logPath}:${i + 1}`;
    let r: Record<string, unknown>;
    try {
      r = JSON.parse(lines[i]) as Record<string, unknown>;
    } catch {
      throw new InputError('not a JSON episode record', where);
    }
    if (r === null || typeof r !== 'object') throw new InputError('not a JSON episode record', where);
    if (r.episode !== i + 1) throw new InputError(`episode ${JSON.stringify(r.episode)} where ${i + 1} was expected`, where);
    if (typeof r.greedy !== 'boolean') throw new InputError('field greedy: must be true or false', where);
    if (r.energy !== null && (typeof r.energy !== 'number' || !Number.isFinite(r.energy))) {
      throw new InputError('field energy: must be a number or null', where);
    }
    if (!all && !r.greedy) continue;
    counted++;
    const structure = frames[i];
    const ep = structure.info.episode;
    if (ep !== undefined && ep !== i + 1) {
      throw new InputError(`frame ${i + 1} is episode ${JSON.stringify(ep)}, episodes.jsonl line ${i + 1} is episode ${i + 1}`, structuresPath);
    }
    if (r.energy === null || r.failure) {
      failed++;
      continue;
    }
    builds.push({
      episode: i + 1,
      energy: r.energy as number,
      structure,
      motif: typeof r.motif === 'boolean' ? r.motif : undefined,
      punished: r.punished === true,
    });
  }
  return { builds, episodes: complete, counted, failed, motif };
}

function readFrames(path: string): Atoms[] {
  if (!existsSync(path)) throw new InputError('missing (the run writes one structure per episode)', path);
  return parseExtxyz(readFileSync(path, 'utf8'), path);
}

/** Everything known about one product while counting. */
interface Tally {
  key: string;
  formula: string;
  builds: number;
  runs: Set<string>;
  firstEpisode: Record<string, number>;
  best: Build;
  bestRun: string;
  motifBuilds: number;
  motifKnown: boolean;
  punishedBuilds: number;
  moleculeKeys: string[];
  moleculeFormulas: string[];
}

/**
 * Counts the products of the runs in `dirs` (run directories, or folders of
 * them such as an ensemble). Runs are named by their directory names.
 */
export async function countProducts(dirs: string[], options: ProductsOptions = {}): Promise<ProductsReport> {
  const runDirs = dirs.flatMap((d) => findRunDirs(d));
  const tallies = new Map<string, Tally>();
  const runs: RunProducts[] = [];
  let total = 0;
  let failed = 0;
  const names = new Set<string>();
  for (const dir of runDirs) {
    let name = basename(resolve(dir));
    // two ensembles both have agent-000: name runs by their parent too when needed
    if (names.has(name)) name = `${basename(resolve(dir, '..'))}/${name}`;
    names.add(name);
    const read = readBuilds(dir, options.all ?? false);
    const seen = new Set<string>();
    for (const b of read.builds) {
      const graph = bondGraph(b.structure);
      const molecules = splitMolecules(b.structure, graph).sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
      const key = molecules.map((m) => m.key).join(' + ');
      let t = tallies.get(key);
      if (!t) {
        t = {
          key,
          formula: molecules.map((m) => m.formula).sort().join(' + '),
          builds: 0,
          runs: new Set(),
          firstEpisode: {},
          best: b,
          bestRun: name,
          motifBuilds: 0,
          motifKnown: false,
          punishedBuilds: 0,
          moleculeKeys: molecules.map((m) => m.key),
          moleculeFormulas: molecules.map((m) => m.formula),
        };
        tallies.set(key, t);
      }
      t.builds++;
      t.runs.add(name);
      if (!(name in t.firstEpisode)) t.firstEpisode[name] = b.episode;
      if (b.energy < t.best.energy) {
        t.best = b;
        t.bestRun = name;
      }
      if (b.motif !== undefined) {
        t.motifKnown = true;
        if (b.motif) t.motifBuilds++;
      }
      if (b.punished) t.punishedBuilds++;
      seen.add(key);
    }
    total += read.builds.length;
    failed += read.failed;
    runs.push({ dir, name, episodes: read.episodes, counted: read.counted, failed: read.failed, products: seen.size, motif: read.motif });
  }

  // SMILES of each product's lowest-energy build (one obabel process per product)
  const useBabel = options.smiles ?? 'auto';
  let openBabel = useBabel !== false;
  const smilesOf = new Map<string, string[]>();
  if (openBabel) {
    try {
      for (const t of tallies.values()) {
        const s = t.best.structure;
        const mols = splitMolecules(s).sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
        smilesOf.set(t.key, await canonicalSmiles(s, mols, options.obabel ? { executable: options.obabel } : {}));
      }
    } catch (e) {
      if (e instanceof OpenBabelError && e.missing && useBabel === 'auto') {
        openBabel = false;
        smilesOf.clear();
      } else if (e instanceof OpenBabelError) {
        throw new InputError(e.message, 'Open Babel');
      } else throw e;
    }
  }
  const common = openBabel ? commonNames(options.obabel) : new Map<string, string>();

  const runsCount = runs.length;
  const products: Product[] = [...tallies.values()].map((t) => {
    const smiles = smilesOf.get(t.key) ?? null;
    const molecules: MoleculeName[] = t.moleculeKeys.map((key, k) => ({
      key,
      formula: t.moleculeFormulas[k],
      smiles: smiles ? smiles[k] : null,
      name: smiles ? lookUpName(common, smiles[k]) : null,
    }));
    const allNamed = molecules.every((m) => m.name !== null);
    return {
      key: t.key,
      formula: t.formula,
      molecules,
      smiles: smiles ? [...smiles].sort().join('.') : null,
      name: allNamed && molecules.length > 0 ? molecules.map((m) => m.name).sort().join(' + ') : null,
      builds: t.builds,
      agents: t.runs.size,
      agentFraction: runsCount > 0 ? t.runs.size / runsCount : 0,
      buildFraction: total > 0 ? t.builds / total : 0,
      bestEnergy: t.best.energy,
      bestRun: t.bestRun,
      bestEpisode: t.best.episode,
      firstEpisode: t.firstEpisode,
      motifBuilds: t.motifKnown ? t.motifBuilds : null,
      punishedBuilds: t.punishedBuilds,
    };
  });
  products.sort((a, b) => b.builds - a.builds || a.bestEnergy - b.bestEnergy || (a.key < b.key ? -1 : 1));
  return { episodes: options.all ? 'all' : 'greedy', runs, builds: total, failed, openBabel, products };
}

/**
 * Common names of small molecules built from C, H and O, among them the
 * products the paper names (Section IV, Extended Data Fig. 6: CO2 + ethylene,
 * acrylic acid, vinyl formate, vinyl alcohol, formaldehyde, formic acid,
 * 2-hydroxyacrylaldehyde, cyclopropenone). Keyed by Open Babel's canonical
 * SMILES of the listed SMILES, so the keys match what canonicalSmiles gives.
 */
export const COMMON_MOLECULES: Record<string, string> = {
  'C=CC(=O)O': 'acrylic acid',
  'C=COC=O': 'vinyl formate',
  'CC(=O)C=O': 'methylglyoxal',
  'O=CCC=O': 'malondialdehyde',
  'C=C(O)C=O': '2-hydroxyacrylaldehyde',
  'OC=CC=O': '3-hydroxyacrylaldehyde',
  'O=C1CCO1': 'β-propiolactone',
  'O=CC1CO1': 'glycidaldehyde',
  'C1OC=CO1': '1,3-dioxole',
  'COC(=O)C': 'methyl acetate',
  'O=C=O': 'carbon dioxide',
  'C=C': 'ethylene',
  'C=CO': 'vinyl alcohol',
  'C=O': 'formaldehyde',
  'OC=O': 'formic acid',
  'C=C=O': 'ketene',
  'CC=O': 'acetaldehyde',
  'C1CO1': 'ethylene oxide',
  'O=CC=O': 'glyoxal',
  'OC(=O)C=O': 'glyoxylic acid',
  'CC(=O)O': 'acetic acid',
  'COC=O': 'methyl formate',
  'O=C1C=C1': 'cyclopropenone',
  'C#C': 'acetylene',
  'C': 'methane',
  'CO': 'methanol',
  'O': 'water',
  '[H][H]': 'hydrogen',
  '[C-]#[O+]': 'carbon monoxide',
  'OO': 'hydrogen peroxide',
  'O=O': 'oxygen',
};

let commonCache: { exe: string; map: Map<string, string> } | null = null;

/** COMMON_MOLECULES keyed by Open Babel's canonical SMILES (one obabel call, cached). */
export function commonNames(obabel = 'obabel'): Map<string, string> {
  if (commonCache && commonCache.exe === obabel) return commonCache.map;
  const entries = Object.entries(COMMON_MOLECULES);
  const dir = mkdtempSync(join(tmpdir(), 'asla-names-'));
  const map = new Map<string, string>();
  try {
    const file = join(dir, 'names.smi');
    writeFileSync(file, entries.map(([s], k) => `${s} n${k}`).join('\n') + '\n');
    const r = spawnSync(obabel, ['-ismi', file, '-ocan'], { encoding: 'utf8', timeout: 60000 });
    if (r.error || r.status !== 0) return map;
    for (const line of r.stdout.split('\n')) {
      const m = /^(\S+)\s+n(\d+)\s*$/.exec(line);
      if (m) map.set(m[1], entries[Number(m[2])][1]);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  commonCache = { exe: obabel, map };
  return map;
}

/** The common name of a SMILES; cis/trans marks (/ and \\) are ignored. */
function lookUpName(common: Map<string, string>, smiles: string): string | null {
  return common.get(smiles) ?? common.get(smiles.replace(/[/\\]/g, '')) ?? null;
}

/** The report as a table: one line per product, most built first. */
export function formatProducts(report: ProductsReport, options: { limit?: number } = {}): string {
  const out: string[] = [];
  const runs = report.runs.length;
  const counted = report.runs.reduce((a, r) => a + r.counted, 0);
  out.push(
    `${runs} run${runs === 1 ? '' : 's'}, ${counted} ${report.episodes === 'greedy' ? 'greedy ' : ''}episodes counted: ` +
      `${report.builds} products, ${report.failed} failed builds, ${report.products.length} distinct` +
      (report.openBabel ? '' : ' (SMILES: Open Babel not used)'),
  );
  if (report.products.length === 0) return out.join('\n') + '\n';
  const best = Math.min(...report.products.map((p) => p.bestEnergy));
  const motif = report.products.some((p) => p.motifBuilds !== null);
  const header = ['builds', '%builds', 'agents', 'E best (eV)', 'ΔE (eV)', ...(motif ? ['motif'] : []), 'formula', 'name / SMILES', 'key'];
  const rows: string[][] = [];
  const shown = options.limit ? report.products.slice(0, options.limit) : report.products;
  for (const p of shown) {
    rows.push([
      String(p.builds),
      (100 * p.buildFraction).toFixed(1),
      `${p.agents}/${runs}`,
      p.bestEnergy.toFixed(3),
      (p.bestEnergy - best).toFixed(3),
      ...(motif ? [p.motifBuilds === null ? '-' : p.motifBuilds > 0 ? 'yes' : 'no'] : []),
      p.formula,
      p.name && p.smiles ? `${p.name} (${p.smiles})` : p.smiles ?? '-',
      p.key,
    ]);
  }
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const right = new Set([0, 1, 2, 3, 4]);
  const fmt = (cells: string[]) =>
    cells
      .map((s, c) => (c === cells.length - 1 ? s : right.has(c) ? s.padStart(widths[c]) : s.padEnd(widths[c])))
      .join('  ')
      .trimEnd();
  out.push(fmt(header));
  for (const r of rows) out.push(fmt(r));
  if (shown.length < report.products.length) out.push(`… ${report.products.length - shown.length} more (--json for all)`);
  return out.join('\n') + '\n';
}
