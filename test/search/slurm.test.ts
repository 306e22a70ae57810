/**
 * `asla slurm` through a real single-node SLURM cluster (scripts/slurm-cluster.sh
 * starts one when none answers): a 4-agent job array of a tiny problem, one
 * task SIGKILLed mid-run and requeued, every episode log complete, `asla stats`
 * over the result. Missing SLURM skips on a user's machine and fails in CI.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backendSkip, hasCommand } from '../support/backend.js';
import { agentDirName, readManifest } from '../../src/search/ensemble.js';
import { arraySpec, queueStates, sbatchScript, shellQuote, slurmStatus } from '../../src/search/slurm.js';
import { readRunDir } from '../../src/search/stats.js';

const MAIN = new URL('../../src/cli/main.js', import.meta.url).pathname;
const CLUSTER_SCRIPT = new URL('../../../scripts/slurm-cluster.sh', import.meta.url).pathname;
const SETS = ['--set', 'training.batchSize=8', '--set', 'training.symmetryCopies=1', '--set', 'run.checkpointEvery=4'];

function asla(...args: string[]) {
  return spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 60000 });
}

function controllerUp(): boolean {
  const r = spawnSync('scontrol', ['ping'], { encoding: 'utf8', timeout: 15000 });
  return r.status === 0 && /is UP/.test(r.stdout);
}

/** A cluster that answers: the one running, or one started by the project script (root only). */
function slurmAvailable(): boolean {
  if (!hasCommand('sbatch')) return false;
  if (controllerUp()) return true;
  if (process.getuid?.() !== 0 || !existsSync(CLUSTER_SCRIPT)) return false;
  const r = spawnSync('bash', [CLUSTER_SCRIPT, 'start'], { encoding: 'utf8', timeout: 120000 });
  if (r.status !== 0) process.stderr.write(`# slurm-cluster.sh start failed: ${r.stderr}\n`);
  return r.status === 0 && controllerUp();
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function lines(path: string): number {
  return existsSync(path) ? readFileSync(path, 'utf8').split('\n').length - 1 : 0;
}

/** Pids of processes whose command line holds every one of `parts` (Linux /proc). */
function pidsWith(...parts: string[]): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      if (parts.every((p) => cmd.some((a) => a.includes(p)))) out.push(Number(name));
    } catch {
      // gone
    }
  }
  return out;
}

test('array specs, shell quoting and the job-array script', () => {
  assert.equal(arraySpec([0, 1, 2, 3]), '0-3');
  assert.equal(arraySpec([9, 0, 1, 3, 7, 10]), '0-1,3,7,9-10');
  assert.equal(shellQuote('/a/b-c.d'), '/a/b-c.d');
  assert.equal(shellQuote("it's here"), `'it'\\''s here'`);
  const root = mkdtempSync(join(tmpdir(), 'asla slurm '));
  try {
    const dir = join(root, "o'dir");
    const r = asla('slurm', 'submit', 'graphene-small', '--agents', '4', '--episodes', '9', '--partition', 'short', '--time', '1:00:00', '--cpus-per-task', '2', '--out', dir, '--dry-run');
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.jobId, null);
    const script = readFileSync(out.script, 'utf8');
    for (const line of ['#SBATCH --array=0-3', '#SBATCH --requeue', '#SBATCH --open-mode=append', '#SBATCH --partition=short', '#SBATCH --time=1:00:00', '#SBATCH --cpus-per-task=2']) {
      assert.ok(script.includes(line + '\n'), line);
    }
    assert.ok(script.includes(`#SBATCH --output=${shellQuote(join(dir, 'slurm', 'agent-%3a.out'))}`));
    assert.match(script, /run --resume "\$dir" --episodes 9/);
    assert.match(script, /--seed \$\(\(1 \+ i\)\) --episodes 9 --out "\$dir"/);
    assert.ok(script.includes(MAIN));
    assert.equal(spawnSync('bash', ['-n', out.script]).status, 0, 'the script parses');
    // the task's directory name as bash computes it is the one asla reads
    const name = spawnSync('bash', ['-c', 'printf %03d "$1"', '_', '7'], { encoding: 'utf8' }).stdout;
    assert.equal(`agent-${name}`, agentDirName(7));
    const m = readManifest(dir);
    assert.equal(m.kind, 'slurm');
    assert.deepEqual(m.slurm?.options, { partition: 'short', time: '1:00:00', cpusPerTask: 2 });
    assert.ok(slurmStatus(dir, m).agents.every((a) => a.state === 'unsubmitted'));
    assert.equal(sbatchScript(dir, m, m.slurm!.options, [1, 3]).includes('#SBATCH --array=1,3\n'), true);
    const again = asla('slurm', 'submit', 'graphene-small', '--agents', '4', '--out', dir, '--dry-run');
    assert.equal(again.status, 2);
    assert.match(again.stderr, /already holds an ensemble/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test(
  'SLURM job array: a task SIGKILLed mid-run and requeued finishes with its episode log complete',
  { skip: backendSkip('slurm', slurmAvailable()), timeout: 300000 },
  async () => {
    const root = mkdtempSync(join(tmpdir(), 'asla-slurm-'));
    const E = 16;
    let jobId = '';
    try {
      const dir = join(root, 'ens');
      const sub = asla('slurm', 'submit', 'graphene-small', '--agents', '4', '--episodes', String(E), '--out', dir, ...SETS);
      assert.equal(sub.status, 0, sub.stderr);
      jobId = JSON.parse(sub.stdout).jobId;
      assert.match(jobId, /^\d+$/);

      // SIGKILL agent-001's node process once it has written a few episodes, as a node crash would
      const victim = join(dir, 'agent-001');
      let killedAt = -1;
      for (let i = 0; i < 12000 && killedAt < 0; i++) {
        const n = lines(join(victim, 'episodes.jsonl'));
        const pids = n >= 5 ? pidsWith(MAIN, victim) : [];
        if (pids.length === 1) {
          process.kill(pids[0], 'SIGKILL');
          killedAt = n;
        } else await sleep(10);
      }
      assert.ok(killedAt >= 5 && killedAt < E, `killed after ${killedAt} episodes`);

      // the task fails; requeue it (SLURM delays a requeued job by ~2 min: start it now)
      const task = `${jobId}_1`;
      let requeued = false;
      for (let i = 0; i < 100 && !requeued; i++) {
        const q = queueStates([jobId]).tasks.get(1);
        if (q && !['RUNNING', 'COMPLETING'].includes(q.state)) {
          requeued = spawnSync('scontrol', ['requeue', task], { timeout: 15000 }).status === 0;
        }
        if (!requeued) await sleep(200);
      }
      assert.ok(requeued, 'scontrol requeue');
      const up = spawnSync('scontrol', ['update', `jobid=${task}`, 'StartTime=now'], { encoding: 'utf8', timeout: 15000 });
      assert.equal(up.status, 0, up.stderr);

      // wait for every agent to end (asla slurm status's view: squeue + run directories)
      const m = readManifest(dir);
      let states: string[] = [];
      for (let i = 0; i < 900; i++) {
        states = slurmStatus(dir, m).agents.map((a) => a.state);
        if (states.every((s) => s === 'done' || s === 'failed')) break;
        await sleep(200);
      }
      assert.deepEqual(states, ['done', 'done', 'done', 'done']);

      // episodes 1..E exactly once in every log (readRunDir rejects a lost or repeated episode)
      for (let i = 0; i < 4; i++) {
        assert.equal(readRunDir(join(dir, agentDirName(i))).energies.length, E, agentDirName(i));
        assert.equal(lines(join(dir, agentDirName(i), 'episodes.jsonl')), E);
      }
      const out = readFileSync(join(dir, 'slurm', 'agent-001.out'), 'utf8');
      assert.match(out, /restart 0/);
      assert.match(out, /restart 1/);

      const status = asla('slurm', 'status', dir);
      assert.equal(status.status, 0, status.stderr);
      assert.match(status.stdout, /4 done/);
      const resub = asla('slurm', 'submit', '--resume', dir);
      assert.equal(resub.status, 0, resub.stderr);
      assert.equal(JSON.parse(resub.stdout).submitted, false);

      const stats = asla('stats', dir, '--json');
      assert.equal(stats.status, 0, stats.stderr);
      const s = JSON.parse(stats.stdout).ensembles[0];
      assert.equal(s.agents, 4);
      assert.deepEqual(s.curve.agents.slice(-1), [4]);
      assert.equal(s.curve.episode.length, E);
      assert.ok(asla('stats', dir).stdout.includes('4 agents'));
    } finally {
      if (jobId) spawnSync('scancel', [jobId], { timeout: 15000 });
      rmSync(root, { recursive: true, force: true });
    }
  },
);
