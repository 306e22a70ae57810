/**
 * Transfer learning for whole ensembles (`asla ensemble … --from`, `asla slurm
 * submit … --from`): from an ensemble, agent i starts from its agent i; from one
 * run, every agent starts from it; mistakes are one-line errors.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QNetwork } from '../../src/nn/index.js';
import { agentDirName, readManifest } from '../../src/search/ensemble.js';
import { loadSourceNetwork } from '../../src/search/transfer-source.js';

const MAIN = new URL('../../src/cli/main.js', import.meta.url).pathname;
const SETS = ['--set', 'training.batchSize=8', '--set', 'training.symmetryCopies=1', '--set', 'training.rotations=0', '--set', 'training.threads=1'];

function asla(...args: string[]) {
  return spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 120000 });
}

/** The network a run started from: the episode-0 line of its network snapshots. */
function startingNetwork(dir: string): Float32Array {
  const first = JSON.parse(readFileSync(join(dir, 'networks.jsonl'), 'utf8').split('\n', 1)[0]);
  assert.equal(first.episode, 0);
  return QNetwork.deserialize(first.network).params;
}

test('asla ensemble --from ENSEMBLE: agent i starts from agent i; --from RUN: every agent from it', { timeout: 240000 }, () => {
  const root = mkdtempSync(join(tmpdir(), 'asla-ens-from-'));
  try {
    const src = join(root, 'src');
    let r = asla('ensemble', 'graphene-small', '--agents', '2', '--parallel', '2', '--episodes', '3', '--seed-base', '40', '--out', src, '--quiet', ...SETS);
    assert.equal(r.status, 0, r.stderr);

    const dst = join(root, 'dst');
    r = asla('ensemble', 'graphene-small', '--agents', '2', '--parallel', '2', '--episodes', '1', '--out', dst, '--from', src, '--quiet', ...SETS);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(readManifest(dst).from, { dir: src, perAgent: true });
    for (let i = 0; i < 2; i++) {
      const origin = JSON.parse(readFileSync(join(dst, agentDirName(i), 'transfer.json'), 'utf8'));
      assert.equal(origin.from, join(src, agentDirName(i)), `agent ${i}`);
      assert.equal(origin.episode, 3);
    }
    // each starts from its source agent's trained weights, and the two sources differ
    const starts = [0, 1].map((i) => startingNetwork(join(dst, agentDirName(i))));
    for (let i = 0; i < 2; i++) assert.deepEqual(Array.from(starts[i]), Array.from(loadSourceNetwork(join(src, agentDirName(i))).net.params), `agent ${i}`);
    assert.notDeepEqual(Array.from(starts[0]), Array.from(starts[1]));

    // one run as the source: every agent starts from it
    const one = join(root, 'one');
    r = asla('ensemble', 'graphene-small', '--agents', '2', '--parallel', '1', '--episodes', '1', '--out', one, '--from', join(src, agentDirName(1)), '--quiet', ...SETS);
    assert.equal(r.status, 0, r.stderr);
    for (let i = 0; i < 2; i++) {
      assert.equal(JSON.parse(readFileSync(join(one, agentDirName(i), 'transfer.json'), 'utf8')).from, join(src, agentDirName(1)));
    }

    // mistakes: one line, exit 2, naming --from
    const bad = (args: string[], re: RegExp) => {
      const b = asla(...args);
      assert.equal(b.status, 2, b.stderr);
      assert.match(b.stderr, re);
      assert.equal(b.stderr.trim().split('\n').length, 1, b.stderr);
    };
    bad(['ensemble', 'graphene-small', '--agents', '3', '--out', join(root, 'x1'), '--from', src, ...SETS], /--from.*has 2 agents.*3 needed/);
    bad(['ensemble', 'graphene-small', '--agents', '1', '--out', join(root, 'x2'), '--from', join(root, 'nothing'), ...SETS], /not a run directory/);
    bad(['ensemble', 'graphene-small', '--agents', '1', '--out', join(root, 'x3'), '--from', src, '--set', `transfer.from=${join(src, agentDirName(0))}`, ...SETS], /--from or transfer\.from/);
    bad(['ensemble', '--resume', dst, '--from', src], /--from applies to a new ensemble/);
    bad(['ensemble', '--resume', dst, '--agents', '3'], /--from.*has 2 agents/);
    bad(['slurm', 'submit', 'graphene-small', '--agents', '3', '--out', join(root, 'x4'), '--from', src, '--dry-run'], /has 2 agents/);

    // the SLURM job array: task i's command names agent i of the source (run with echo for node)
    r = asla('slurm', 'submit', 'graphene-small', '--agents', '2', '--out', join(root, 'sl'), '--from', src, '--dry-run');
    assert.equal(r.status, 0, r.stderr);
    const script = JSON.parse(r.stdout).script as string;
    for (const i of [0, 1]) {
      const task = spawnSync('bash', [script], { encoding: 'utf8', env: { ...process.env, SLURM_ARRAY_TASK_ID: String(i), ASLA_NODE: '/bin/echo' } });
      assert.equal(task.status, 0, task.stderr);
      assert.match(task.stdout, new RegExp(`--from ${join(src, agentDirName(i)).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\n`));
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
