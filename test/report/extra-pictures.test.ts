import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PRESETS } from '../../src/agent/presets.js';
import { applySets, validateProblem } from '../../src/agent/problem.js';
import { Run } from '../../src/search/run.js';
import { appendNetworkSnapshot } from '../../src/search/snapshots.js';
import { cmdRender } from '../../src/cli/render.js';
import { explainRun } from '../../src/cli/explain.js';
import { relevanceColour } from '../../src/report/relevance-picture.js';
import { moleculesPlotSpec } from '../../src/report/molecules-plot.js';
import { vegaLiteSvg } from '../../src/report/plots.js';
import { svgToPng } from '../../src/report/png.js';
import type { Product, ProductsReport } from '../../src/search/molecules.js';
import { InputError } from '../../src/util/errors.js';
import { circles } from './support.js';

/** A few episodes of the graphene-edge problem (bias-free network, as relevance needs), every one greedy, a snapshot after each. */
async function edgeRun(dir: string, episodes: number): Promise<void> {
  const config = validateProblem(applySets(structuredClone(PRESETS['graphene-edge']), ['training.batchSize=4', 'training.symmetryCopies=1', 'policy.greedyEvery=1']));
  assert.equal(config.network.bias, false);
  const run = await Run.open({ dir, config, warn: () => {} });
  try {
    appendNetworkSnapshot(dir, 0, run.agent.net!);
    await run.run({ episodes, onEpisode: (r, rn) => appendNetworkSnapshot(dir, r.episode, rn.agent.net!) });
  } finally {
    await run.close();
  }
}

/** Sign of a fill colour of the relevance scale: + red, − blue, 0 white/grey. */
function fillSign(hex: string): number {
  const [r, , b] = [1, 3, 5].map((k) => parseInt(hex.slice(k, k + 2), 16));
  return r > b ? 1 : r < b ? -1 : 0;
}

test('relevance colours: 1 red, −1 blue, 0 white, unseen grey', () => {
  assert.equal(relevanceColour(0), '#ffffff');
  assert.equal(fillSign(relevanceColour(1)), 1);
  assert.equal(fillSign(relevanceColour(0.2)), 1);
  assert.equal(fillSign(relevanceColour(-0.2)), -1);
  assert.equal(fillSign(relevanceColour(null)), 0);
});

test('render --relevance: one circle per atom coloured by the sign of its relevance, the action marked; biased networks refused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'asla-relevance-'));
  const write = process.stdout.write;
  try {
    await edgeRun(dir, 3);
    const ex = await explainRun(dir, { episode: 3, step: 2 });
    process.stdout.write = () => true; // the CLI prints the file name
    let code: number;
    try {
      code = await cmdRender([dir, '--episode', '3', '--step', '2', '--relevance']);
    } finally {
      process.stdout.write = write;
    }
    assert.equal(code, 0);
    const svg = readFileSync(join(dir, 'episode-3-step-2-relevance.svg'), 'utf8');
    const own = circles(svg).filter((c) => !c.cls.split(' ').includes('image'));
    assert.equal(own.length, ex.atoms.length);
    const signs = new Set<number>();
    for (const c of own) {
      const a = ex.atoms[c.index];
      assert.ok(Math.abs(c.cx - a.x) < 1e-4 && Math.abs(c.cy - a.y) < 1e-4, `atom ${c.index} at its x, y`);
      const m = new RegExp(`data-index="${c.index}" [^>]*fill="(#[0-9a-f]{6})" data-relevance="([^"]+)"`).exec(svg)!;
      assert.equal(m[1], relevanceColour(a.relevance));
      if (a.relevance === null) assert.equal(m[2], 'null');
      else assert.ok(Math.abs(Number(m[2]) - a.relevance) < 1e-4, `atom ${c.index}: data-relevance ${m[2]} vs ${a.relevance}`);
      if (a.relevance !== null && Math.abs(a.relevance) > 1e-3) {
        assert.equal(fillSign(m[1]), Math.sign(a.relevance), `atom ${c.index}: fill ${m[1]} vs relevance ${a.relevance}`);
        signs.add(Math.sign(a.relevance));
      }
    }
    assert.ok(signs.size > 0, 'some atom has a relevance');
    assert.ok(own.some((c) => Math.abs(ex.atoms[c.index].relevance ?? 0) === 1), 'the most influential atom has ±1');
    const act = /<g class="action" data-c="(\d+)" data-i0="(\d+)" data-i1="(\d+)"/.exec(svg)!;
    assert.deepEqual(act.slice(1).map(Number), ex.action);
    // look at it: PNG through resvg
    const png = svgToPng(svg);
    assert.equal(png.subarray(1, 4).toString('latin1'), 'PNG');
    writeFileSync(join(tmpdir(), 'asla-relevance-example.png'), png);

    // a network with biases: a one-line error saying so (as asla explain)
    const cfgPath = join(dir, 'config.json');
    const cfg = JSON.parse(readFileSync(cfgPath, 'utf8'));
    cfg.network.bias = true;
    writeFileSync(cfgPath, JSON.stringify(cfg));
    await assert.rejects(cmdRender([dir, '--episode', '3', '--relevance']), (e: unknown) => e instanceof InputError && /bias-free/.test(e.message) && !e.message.includes('\n'));
  } finally {
    process.stdout.write = write;
    rmSync(dir, { recursive: true, force: true });
  }
});

function product(formula: string, builds: number, agents: number, name: string | null): Product {
  return {
    key: `${formula}-${builds}`,
    formula,
    molecules: [],
    smiles: null,
    name,
    builds,
    agents,
    agentFraction: agents / 4,
    buildFraction: builds / 20,
    bestEnergy: -10 - builds,
    bestRun: 'agent-1',
    bestEpisode: 5,
    firstEpisode: {},
    motifBuilds: null,
    punishedBuilds: 0,
  };
}

test('molecule histogram: one bar per product, heights ordered by builds, isomers kept apart', async () => {
  const report: ProductsReport = {
    episodes: 'greedy',
    runs: [1, 2, 3, 4].map((k) => ({ dir: `d/agent-${k}`, name: `agent-${k}`, episodes: 50, counted: 5, failed: 0, products: 2, motif: null })),
    builds: 20,
    failed: 0,
    openBabel: false,
    // two C3H4O2 isomers without names: same label base, must stay two bars
    products: [product('C3H4O2', 9, 4, null), product('C2H4 + CO2', 6, 3, 'ethylene + carbon dioxide'), product('C3H4O2', 4, 2, null), product('C2H2O + CH2O', 1, 1, null)],
  };
  const svg = await vegaLiteSvg(moleculesPlotSpec(report));
  const group = /<g class="mark-rect role-mark[^"]*"[^>]*>([\s\S]*?)<\/g>/.exec(svg);
  assert.ok(group, 'a bar mark');
  const bars = [...group[1].matchAll(/<path [^>]*d="M([-\d.]+),([-\d.]+)h([-\d.]+)v([-\d.]+)h/g)].map((m) => ({ x: Number(m[1]), height: Number(m[4]) }));
  assert.equal(bars.length, report.products.length);
  // left to right most built first; heights proportional to builds
  bars.sort((a, b) => a.x - b.x);
  const unit = bars[0].height / 9;
  report.products.forEach((p, k) => assert.ok(Math.abs(bars[k].height - unit * p.builds) < 0.6, `bar ${k}: ${bars[k].height} vs ${unit * p.builds}`));
  assert.match(svg, /ethylene \+ carbon dioxide/);
  assert.match(svg, /C3H4O2 \(2\)/);
  writeFileSync(join(tmpdir(), 'asla-molecules-example.png'), svgToPng(svg));
  // --limit: the two most built
  const top = await vegaLiteSvg(moleculesPlotSpec(report, { limit: 2 }));
  assert.equal((/<g class="mark-rect role-mark[^"]*"[^>]*>([\s\S]*?)<\/g>/.exec(top)![1].match(/<path /g) ?? []).length, 2);
});
