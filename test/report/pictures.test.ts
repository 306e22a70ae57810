import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, appendFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PRESETS, referenceCandidates } from '../../src/agent/presets.js';
import { validateProblem } from '../../src/agent/problem.js';
import { BuildingGrid } from '../../src/grid/index.js';
import { Atoms } from '../../src/structure/atoms.js';
import { covalentRadius } from '../../src/structure/elements.js';
import { ATOM_RADIUS_FACTOR, allowedRange, buildPicture, qmapPicture, structurePicture, type BuildStep } from '../../src/report/pictures.js';
import { colourPosition } from '../../src/report/svg.js';
import { svgToPng, svgToPixels } from '../../src/report/png.js';
import { energyPlotSpec, vegaLiteSvg } from '../../src/report/plots.js';
import { BuildReplayer, findEpisode, loadRun, networkFor } from '../../src/report/rundata.js';
import { appendNetworkSnapshot, listNetworkSnapshots, nearestNetworkSnapshot } from '../../src/search/snapshots.js';
import { selectEpisodes, writeReport } from '../../src/report/report.js';
import { QNetwork } from '../../src/nn/index.js';
import { Rng } from '../../src/util/rng.js';
import { InputError } from '../../src/util/errors.js';
import { circles, heatmaps, shortRun } from './support.js';

const config = validateProblem(structuredClone(PRESETS['graphene-small']));

function graphene(): Atoms {
  const grid = new BuildingGrid({ cell: config.cell, ...config.grid });
  return referenceCandidates(config, grid)[0];
}

test('structure picture: one circle per atom at its Cartesian x, y, sized by covalent radius; template marked; periodic images faded', () => {
  const atoms = graphene();
  const svg = structurePicture(atoms, { templateCount: 1, title: 'graphene' });
  const all = circles(svg);
  const own = all.filter((c) => !c.cls.split(' ').includes('image'));
  assert.equal(own.length, atoms.length);
  for (const c of own) {
    const [x, y] = atoms.position(c.index);
    assert.ok(Math.abs(c.cx - x) < 1e-4 && Math.abs(c.cy - y) < 1e-4, `atom ${c.index}: (${c.cx}, ${c.cy}) vs (${x}, ${y})`);
    assert.equal(c.z, atoms.numbers[c.index]);
    assert.ok(Math.abs(c.r - ATOM_RADIUS_FACTOR * covalentRadius(c.z)) < 1e-4);
  }
  assert.deepEqual(own.filter((c) => c.cls.includes('template')).map((c) => c.index), [0]);
  // images: each is an atom shifted by a lattice vector, drawn faded
  const images = all.filter((c) => c.cls.split(' ').includes('image'));
  assert.ok(images.length > 0, 'periodic images near the cell edges');
  const [ax, by] = [config.cell[0][0], config.cell[1][1]];
  for (const im of images) {
    const [x, y] = atoms.position(im.index);
    const s0 = (im.cx - x) / ax, s1 = (im.cy - y) / by;
    assert.ok(Math.abs(s0 - Math.round(s0)) < 1e-4 && Math.abs(s1 - Math.round(s1)) < 1e-4 && (Math.round(s0) !== 0 || Math.round(s1) !== 0));
  }
  assert.match(svg, /class="atom image[^"]*"[^>]*opacity="0.3"/);
  // the bond graph of graphene: every atom has 3 neighbours → 3 half-bonds per atom in the cell
  const bonds = svg.match(/<line x1=/g) ?? [];
  assert.equal(bonds.length, 3 * atoms.length);
});

function syntheticStep(grid: BuildingGrid, atoms: Atoms, best: [number, number, number], species: number): BuildStep {
  const size = grid.size;
  const q = new Float32Array(species * size);
  const rng = new Rng(7);
  for (let a = 0; a < q.length; a++) q[a] = 0.8 * (rng.next() * 2 - 1);
  const allowed = new Uint8Array(species * size).fill(1);
  // a disallowed cell holding a higher value must not win
  allowed[5] = 0;
  q[5] = 0.99;
  const action = best[0] * size + best[1] * grid.n1 + best[2];
  q[action] = 0.95;
  return { step: 0, total: 3, atoms, templateCount: 1, q, allowed, action: best, kind: 'g' };
}

test('Q-map picture: the heatmap cell with the extreme colour is the greedy action; disallowed cells grey; the action ringed', () => {
  const cfg = validateProblem(structuredClone(PRESETS['graphene']));
  const grid = new BuildingGrid({ cell: cfg.cell, ...cfg.grid });
  const template = new Atoms({ numbers: [6], positions: [0, 0, cfg.grid.z], cell: cfg.cell.flat(), pbc: cfg.pbc });
  // two species channels (C, B) to check that the action is ringed in its own channel only
  const step = syntheticStep(grid, template, [1, 17, 9], 2);
  const svg = qmapPicture({ grid, species: [6, 5] }, step, { title: 'synthetic' });
  const maps = heatmaps(svg);
  assert.equal(maps.length, 2);
  let top: { c: number; i0: number; i1: number } | null = null;
  let topT = -1;
  let grey = 0;
  for (const m of maps) {
    assert.equal(m.width, grid.n0 * m.upscale);
    assert.equal(m.height, grid.n1 * m.upscale);
    for (let i0 = 0; i0 < grid.n0; i0++) {
      for (let i1 = 0; i1 < grid.n1; i1++) {
        const x = i0 * m.upscale + (m.upscale >> 1), y = i1 * m.upscale + (m.upscale >> 1);
        const o = 4 * (y * m.width + x);
        const t = colourPosition(m.rgba[o], m.rgba[o + 1], m.rgba[o + 2]);
        if (t < 0) {
          grey++;
          continue;
        }
        if (t > topT) {
          topT = t;
          top = { c: m.channel, i0, i1 };
        }
      }
    }
  }
  assert.deepEqual(top, { c: 1, i0: 17, i1: 9 });
  assert.equal(topT, 1);
  assert.equal(grey, 1, 'the one disallowed cell is grey');
  const rings = [...svg.matchAll(/<g class="action" data-c="(\d+)" data-i0="(\d+)" data-i1="(\d+)" data-x="([^"]+)" data-y="([^"]+)"/g)];
  assert.equal(rings.length, 1);
  assert.deepEqual(rings[0].slice(1, 4).map(Number), [1, 17, 9]);
  const p = grid.position(17 * grid.n1 + 9);
  assert.ok(Math.abs(Number(rings[0][4]) - p[0]) < 1e-4 && Math.abs(Number(rings[0][5]) - p[1]) < 1e-4);
  assert.deepEqual(allowedRange(step.q!, step.allowed), [Math.min(...Array.from(step.q!).filter((_, a) => a !== 5)), Math.fround(0.95)]);
});

test('PNG through resvg: the rendered heatmap shows the extreme colour at the action grid point', () => {
  const grid = new BuildingGrid({ cell: config.cell, ...config.grid });
  const template = new Atoms({ numbers: [6], positions: [0, 0, config.grid.z], cell: config.cell.flat(), pbc: config.pbc });
  const step = syntheticStep(grid, template, [0, 10, 12], 1);
  const svg = qmapPicture({ grid, species: [6] }, step);
  const png = svgToPng(svg);
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  // locate the grid point in the rendered picture through the panel's frame transform
  const { width, pixels } = svgToPixels(svg, 1);
  const frame = /<g class="panel" transform="translate\(([^ ]+) ([^)]+)\)">.*?<g class="frame" data-scale="([^"]+)" data-xmin="([^"]+)" data-ymax="([^"]+)"/.exec(svg)!;
  const [tx, ty, s, xmin, ymax] = frame.slice(1).map(Number);
  const p = grid.position(10 * grid.n1 + 12);
  const px = Math.round(tx + s * (p[0] - xmin)), py = Math.round(ty + 20 + s * (ymax - p[1]));
  const o = 4 * (py * width + px);
  assert.equal(colourPosition(pixels[o], pixels[o + 1], pixels[o + 2]), 1, `pixel (${px}, ${py}) = ${pixels[o]},${pixels[o + 1]},${pixels[o + 2]}`);
});

test('energy plot (Vega-Lite): one mark per episode, greedy episodes marked as such', async () => {
  const records = Array.from({ length: 20 }, (_, k) => ({
    episode: k + 1,
    greedy: (k + 1) % 5 === 0,
    actions: [],
    kinds: '',
    energy: k === 3 ? null : -50 - k,
    failure: k === 3 ? { kind: 'scf' as const, message: 'x' } : null,
    property: null,
    bestEnergy: null,
    reachedReference: false,
    loss: null,
    ms: { build: 0, evaluate: 0, train: 0 },
  }));
  const svg = await vegaLiteSvg(energyPlotSpec(records as never, { atoms: 8, referenceEnergy: -55.4, threshold: 0.05 }));
  assert.match(svg, /^<svg/);
  const marks = [...svg.matchAll(/aria-label="episode: (\d+); energy \(eV\/atom\): [^;]*; kind: ([^;"]+)/g)];
  assert.equal(new Set(marks.map((m) => m[1])).size, 20);
  const greedy = marks.filter((m) => m[2] === 'greedy episode').map((m) => Number(m[1]));
  assert.deepEqual(greedy.sort((a, b) => a - b), [5, 10, 15, 20]);
  assert.ok(marks.some((m) => m[1] === '4' && m[2].startsWith('failed')));
  assert.match(svg, /reference −?-?6\.925/);
});

test('network snapshots: nearest to the network that built an episode; partial last line skipped; bad line named', () => {
  const dir = mkdtempSync(join(tmpdir(), 'asla-snap-'));
  try {
    const spec = { species: 1, filters: [2], kernel: [3, 3] as [number, number], bias: true, leakySlope: 0.2 };
    const nets = [0, 10, 20].map((e) => [e, QNetwork.create(spec, new Rng(e + 1))] as const);
    for (const [e, n] of nets) appendNetworkSnapshot(dir, e, n);
    assert.deepEqual(listNetworkSnapshots(dir).map((s) => s.episode), [0, 10, 20]);
    // episode 11 was built by the network after 10 episodes
    assert.deepEqual(Array.from(nearestNetworkSnapshot(dir, 11)!.net.params), Array.from(nets[1][1].params));
    assert.equal(nearestNetworkSnapshot(dir, 14)!.episode, 10);
    assert.equal(nearestNetworkSnapshot(dir, 17)!.episode, 20);
    assert.equal(nearestNetworkSnapshot(dir, 500)!.episode, 20);
    // a run killed while appending leaves half a line
    appendFileSync(join(dir, 'networks.jsonl'), '{"episode":30,"network":{"format":"asla-qn');
    assert.deepEqual(listNetworkSnapshots(dir).map((s) => s.episode), [0, 10, 20]);
    // a damaged line in the middle is an error naming the file and line
    const lines = readFileSync(join(dir, 'networks.jsonl'), 'utf8').split('\n');
    lines[1] = 'garbage';
    writeFileSync(join(dir, 'networks.jsonl'), lines.join('\n'));
    assert.throws(() => listNetworkSnapshots(dir), (e: unknown) => e instanceof InputError && /networks\.jsonl/.test(e.message) && /line 2/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a real run: recomputed Q-maps of greedy episodes put the extreme cell on every recorded action; report and render pictures', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'asla-report-'));
  try {
    // every episode greedy, a snapshot after each: the picture's network is exactly the one that acted
    await shortRun(dir, 4, 1, ['policy.greedyEvery=1']);
    const run = loadRun(dir);
    assert.equal(run.episodes.length, 4);
    const replayer = new BuildReplayer(run.config);
    for (const ep of [1, 4]) {
      const rec = findEpisode(run, ep);
      assert.ok(rec.greedy);
      const { snapshot, note } = networkFor(dir, run.config, ep);
      assert.equal(snapshot!.episode, ep - 1, note);
      const steps = replayer.steps(rec, snapshot!.net);
      assert.equal(steps.length, rec.actions.length + 1);
      for (const s of steps.slice(0, -1)) {
        const svg = qmapPicture(replayer.context, s);
        const [m] = heatmaps(svg);
        const [, i0, i1] = s.action!;
        const k = m.upscale;
        const o = 4 * ((i1 * k + (k >> 1)) * m.width + i0 * k + (k >> 1));
        assert.equal(colourPosition(m.rgba[o], m.rgba[o + 1], m.rgba[o + 2]), 1, `episode ${ep} step ${s.step + 1}: action cell not the extreme colour`);
        // the atoms before the step: template + the previous actions at their grid points
        const own = circles(svg).filter((c) => !c.cls.includes('image'));
        assert.equal(own.length, 1 + s.step);
      }
      // the finished structure is the one the run stored
      const final = steps[steps.length - 1].atoms;
      const stored = run.best && run.best.info.episode === ep ? run.best : null;
      if (stored) assert.deepEqual(Array.from(final.positions).map((v) => v.toFixed(6)), Array.from(stored.positions).map((v) => v.toFixed(6)));
      const strip = buildPicture(replayer.context, steps.slice(0, -1), { final: { atoms: final, caption: 'done' } });
      assert.equal(heatmaps(strip).length, rec.actions.length);
    }
    const report = await writeReport(dir, { out: join(dir, 'report') });
    assert.deepEqual(report.episodes, selectEpisodes(run.episodes));
    const html = readFileSync(report.html, 'utf8');
    for (const ep of report.episodes) assert.match(html, new RegExp(`build-${ep}\\.svg`));
    assert.match(html, /energy-0\.svg/);
    assert.doesNotMatch(html, /https?:\/\/(?!www\.w3\.org)/, 'self-contained: no external resources');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
