/**
 * Kills (issue 11): SIGKILL `asla run` at random moments, resume it each time,
 * and compare the final run with an uninterrupted run of the same seed. Every
 * episode must be there exactly once, in order, identical in everything but its
 * timings (episode, actions, action kinds, energy, failure, property, loss …),
 * and structures.extxyz and networks.jsonl must be byte-identical. The same for
 * an ensemble (the `asla ensemble` process and its agents all killed at once, as
 * when a node dies) and for a SLURM array task requeued with `scontrol requeue`
 * (half of the time after SIGKILL of the agent's process).
 *
 *   node dist/bench/kills.js [--kills 100] [--ensemble-kills 20] [--requeues 4]
 *        [--episodes 40] [--seed 1] [--plain] [--no-slurm] [--out DIR]
 *
 * The runs use graphene-small through the `faulty` calculator (tersoff inside,
 * 10 % of structures failing as throw/crash/NaN/hang, a hang cut by
 * calculator.timeoutMs = 200) with 20 ms of extra evaluation time, so that the
 * evaluation phase is long enough to be killed in and failed episodes are in
 * the logs; --plain uses tersoff alone.
 *
 * When: 20 % of the kills at the moment the checkpoint's temp file appears
 * (inotify; the 1st–3rd checkpoint of that life), 20 % at a uniformly random
 * moment from the process start, the rest at a random moment after the run's
 * header line (during episodes).
 *
 * Where a kill landed: "open" (before the run's header line: loading,
 * truncation, reference energies) or, from the time since the last episode line
 * and that episode's recorded build/evaluate/train times, "build", "evaluate",
 * "train" or "write" (appending the logs, snapshot, checkpoint). Confirmed from
 * the files after the kill: a checkpoint temp file (killed while writing the
 * checkpoint), checkpoint.json missing with .prev present (between the renames),
 * a log whose last line is cut.
 *
 * Prints one JSON object: kills tried / survived / mismatches for each part.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, watch, type FSWatcher } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchFlags } from './args.js';
import { Rng } from '../src/util/rng.js';

const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

const { values } = benchFlags('kills', {
  options: {
    kills: { type: 'string', default: '100' },
    'ensemble-kills': { type: 'string', default: '20' },
    requeues: { type: 'string', default: '4' },
    episodes: { type: 'string', default: '40' },
    seed: { type: 'string', default: '1' },
    plain: { type: 'boolean', default: false },
    'no-slurm': { type: 'boolean', default: false },
    out: { type: 'string' },
  },
});
const KILLS = Number(values.kills);
const ENSEMBLE_KILLS = Number(values['ensemble-kills']);
const REQUEUES = Number(values.requeues);
const EPISODES = Number(values.episodes);
const SEED = Number(values.seed);
const OUT = resolve(values.out ?? `/tmp/asla-kills-${process.pid}`);
const rng = new Rng(SEED * 7919 + 13);

const SETS = values.plain
  ? []
  : [
      '--set',
      'calculator.name=faulty',
      '--set',
      'calculator.options={"inner":"tersoff","rate":0.1,"kinds":["throw","crash","nan","hang"],"seed":7,"delayMs":20}',
      '--set',
      'calculator.timeoutMs=200',
    ];

const log = (m: string) => process.stderr.write(`kills: ${m}\n`);

// ---------------------------------------------------------------- helpers

interface Life {
  child: ChildProcess;
  started: number;
  header: number | null;
  lastEpisodeLine: number | null;
  lastEpisode: number;
  stderr: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function start(args: string[]): Life {
  const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  const life: Life = {
    child,
    started: performance.now(),
    header: null,
    lastEpisodeLine: null,
    lastEpisode: 0,
    stderr: '',
    exited: new Promise((r) => child.on('close', (code, signal) => r({ code, signal }))),
  };
  let pending = '';
  child.stderr!.on('data', (d: Buffer) => {
    const now = performance.now();
    pending += d.toString();
    life.stderr += d.toString();
    if (life.stderr.length > 20000) life.stderr = life.stderr.slice(-10000);
    let nl;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      if (line.startsWith('asla: ') && line.includes(' → ')) life.header = now;
      const m = /^episode (\d+)\//.exec(line);
      if (m) {
        life.lastEpisodeLine = now;
        life.lastEpisode = Number(m[1]);
      }
    }
  });
  return life;
}

async function runToEnd(args: string[]): Promise<void> {
  const life = start(args);
  const { code, signal } = await life.exited;
  if (code !== 0) throw new Error(`asla ${args.join(' ')} exited with ${code ?? signal}:\n${life.stderr.slice(-2000)}`);
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface Record_ {
  episode: number;
  [k: string]: unknown;
}

function readLog(dir: string): { records: Record_[]; cut: boolean } {
  const path = join(dir, 'episodes.jsonl');
  if (!existsSync(path)) return { records: [], cut: false };
  const text = readFileSync(path, 'utf8');
  const lines = text.split('\n');
  const cut = lines[lines.length - 1] !== '';
  const records: Record_[] = [];
  for (const l of lines.slice(0, -1)) records.push(JSON.parse(l) as Record_);
  return { records, cut };
}

/** Differences between a run and its uninterrupted reference (timings aside). */
function compareRuns(dir: string, refDir: string): { mismatches: number; lost: number; repeated: number; details: string[] } {
  const a = readLog(dir).records;
  const b = readLog(refDir).records;
  const details: string[] = [];
  let mismatches = 0;
  const seen = new Map<number, number>();
  for (const r of a) seen.set(r.episode, (seen.get(r.episode) ?? 0) + 1);
  let lost = 0;
  let repeated = 0;
  for (const r of b) if (!seen.has(r.episode)) lost++;
  for (const n of seen.values()) if (n > 1) repeated += n - 1;
  const strip = (r: Record_) => JSON.stringify({ ...r, ms: undefined });
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (!a[i] || !b[i] || strip(a[i]) !== strip(b[i])) {
      mismatches++;
      if (details.length < 5) details.push(`episode line ${i + 1}: ${a[i] ? strip(a[i]).slice(0, 160) : 'missing'} ≠ ${b[i] ? strip(b[i]).slice(0, 160) : 'missing'}`);
    }
  }
  for (const f of ['structures.extxyz', 'networks.jsonl']) {
    const x = existsSync(join(dir, f)) ? readFileSync(join(dir, f)) : null;
    const y = existsSync(join(refDir, f)) ? readFileSync(join(refDir, f)) : null;
    if (!x || !y || !x.equals(y)) {
      mismatches++;
      details.push(`${f} differs (${x?.length ?? 'missing'} vs ${y?.length ?? 'missing'} bytes)`);
    }
  }
  const temps = readdirSync(dir).filter((f) => f.endsWith('.tmp'));
  if (temps.length) {
    mismatches++;
    details.push(`temp files left: ${temps.join(', ')}`);
  }
  return { mismatches, lost, repeated, details };
}

interface Landing {
  /** ms since the episode in progress started, or null: killed while opening the run. */
  since: number | null;
  episode: number;
  confirmed: string | null;
}

/** Where a kill landed: confirmed from the files right after the kill; the phase once the episode's timings are in the final log. */
function landing(life: Life, killedAt: number, dir: string): Landing {
  let confirmed: string | null = null;
  const files = existsSync(dir) ? readdirSync(dir) : [];
  if (files.some((f) => /^checkpoint\.json\.\d+\.tmp$/.test(f))) confirmed = 'checkpoint temp file';
  else if (!files.includes('checkpoint.json') && files.includes('checkpoint.json.prev')) confirmed = 'between checkpoint renames';
  else if (readLog(dir).cut) confirmed = 'log line cut';
  if (life.header === null || killedAt < life.header) return { since: null, episode: 0, confirmed };
  // the episode line comes after the episode's writes and checkpoint: the next episode starts then
  const lastLine = Math.max(life.header, life.lastEpisodeLine ?? 0);
  const episode = life.lastEpisodeLine !== null ? life.lastEpisode + 1 : readLog(dir).records.length + 1;
  return { since: killedAt - lastLine, episode, confirmed };
}

function phaseOf(l: Landing, finalLog: Record_[]): string {
  if (l.since === null) return 'open';
  const ms = (finalLog.find((r) => r.episode === l.episode) as { ms?: { build: number; evaluate: number; train: number } } | undefined)?.ms;
  if (!ms) return 'after the last episode';
  if (l.since < ms.build) return 'build';
  if (l.since < ms.build + ms.evaluate) return 'evaluate';
  if (l.since < ms.build + ms.evaluate + ms.train) return 'train';
  return 'write';
}

const references = new Map<number, string>();
async function reference(seed: number): Promise<string> {
  const known = references.get(seed);
  if (known) return known;
  const dir = join(OUT, `reference-s${seed}`);
  rmSync(dir, { recursive: true, force: true });
  await runToEnd(['run', 'graphene-small', '--episodes', String(EPISODES), '--seed', String(seed), '--out', dir, ...SETS]);
  references.set(seed, dir);
  return dir;
}

// ---------------------------------------------------------------- single runs

async function killRuns() {
  const phases: Record<string, number> = {};
  const confirmed: Record<string, number> = {};
  let tried = 0;
  let survived = 0;
  let mismatches = 0;
  let lost = 0;
  let repeated = 0;
  let rounds = 0;
  const details: string[] = [];
  // typical time from spawn to the first episode line of a resumed run, and per episode (updated as measured)
  let openMs = 800;
  let episodeMs = 200;
  for (let round = 0; tried < KILLS; round++) {
    rounds++;
    const seed = SEED + round;
    const ref = await reference(seed);
    const dir = join(OUT, `killed-s${seed}`);
    rmSync(dir, { recursive: true, force: true });
    const fresh = ['run', 'graphene-small', '--episodes', String(EPISODES), '--seed', String(seed), '--out', dir, ...SETS];
    const resume = ['run', '--resume', dir, '--episodes', String(EPISODES)];
    let done = false;
    let killsThisRound = 0;
    const landings: Landing[] = [];
    while (!done && tried < KILLS) {
      const resuming = existsSync(join(dir, 'config.json'));
      const life = start(resuming ? resume : fresh);
      // when to kill: 20 % the moment the checkpoint temp file appears (the k-th time, k = 1…3: killed while writing
      // or renaming the checkpoint), 20 % at any moment from the start (opening included), else during an episode
      const mode = rng.next();
      let trigger: Promise<void>;
      let watcher: FSWatcher | null = null;
      if (mode < 0.2 && resuming) {
        let k = 1 + Math.floor(rng.next() * 3);
        trigger = new Promise<void>((fire) => {
          watcher = watch(dir, (_event, f) => {
            if (f && /^checkpoint\.json\.\d+\.tmp$/.test(f) && --k === 0) {
              life.child.kill('SIGKILL');
              fire();
            }
          });
        });
        trigger = Promise.race([trigger, sleep(openMs + 6 * episodeMs)]);
      } else if (mode < 0.4) {
        trigger = sleep(rng.next() * (openMs + 3 * episodeMs));
      } else {
        trigger = (async () => {
          while (life.header === null && life.child.exitCode === null && life.child.signalCode === null) await sleep(5);
          await sleep(rng.next() * 2.5 * episodeMs);
        })();
      }
      const winner = await Promise.race([life.exited.then(() => 'exit' as const), trigger.then(() => 'timer' as const)]);
      (watcher as FSWatcher | null)?.close();
      if (winner === 'exit') {
        const { code, signal } = await life.exited;
        if (code !== 0) throw new Error(`run exited with ${code ?? signal} before its kill:\n${life.stderr.slice(-2000)}`);
        // the life outlasted the whole run: aim shorter
        episodeMs = Math.max(20, episodeMs * 0.6);
        done = true;
        break;
      }
      const at = performance.now();
      life.child.kill('SIGKILL');
      await life.exited;
      tried++;
      killsThisRound++;
      const l = landing(life, at, dir);
      landings.push(l);
      if (l.confirmed) confirmed[l.confirmed] = (confirmed[l.confirmed] ?? 0) + 1;
      if (life.header !== null) openMs = 0.8 * openMs + 0.2 * (life.header - life.started + episodeMs);
      if (life.header !== null && life.lastEpisodeLine !== null && life.lastEpisode > 0) {
        const firstEpisodeLineMs = life.lastEpisodeLine - life.header;
        episodeMs = Math.max(20, Math.min(4000, 0.8 * episodeMs + 0.2 * firstEpisodeLineMs));
      } else if (life.header !== null) {
        // killed before its first episode ended: a new process's first episode (cold JIT, a loaded machine) is longer than thought
        episodeMs = Math.min(4000, episodeMs * 1.25);
      }
    }
    // the rest of the run without kills, then the comparison
    if (!done) await runToEnd(existsSync(join(dir, 'config.json')) ? resume : fresh);
    const finalLog = readLog(dir).records;
    for (const l of landings) {
      const p = phaseOf(l, finalLog);
      phases[p] = (phases[p] ?? 0) + 1;
    }
    const cmp = compareRuns(dir, ref);
    mismatches += cmp.mismatches;
    lost += cmp.lost;
    repeated += cmp.repeated;
    if (cmp.mismatches === 0 && cmp.lost === 0 && cmp.repeated === 0) survived += killsThisRound;
    details.push(...cmp.details.map((d) => `seed ${seed}: ${d}`));
    log(`run seed ${seed}: ${killsThisRound} kills, ${cmp.mismatches} mismatches (${tried}/${KILLS} kills so far)`);
  }
  return { tried, survived, mismatches, lost, repeated, runs: rounds, episodesPerRun: EPISODES, phases, confirmedMidWrite: confirmed, details };
}

// ---------------------------------------------------------------- ensemble

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(p));
    } catch {
      // gone
    }
  }
  return out;
}

async function killEnsemble() {
  const agents = 2;
  const dir = join(OUT, 'ensemble');
  rmSync(dir, { recursive: true, force: true });
  const fresh = ['ensemble', 'graphene-small', '--agents', String(agents), '--parallel', '1', '--episodes', String(EPISODES), '--seed-base', String(SEED), '--out', dir, '--quiet', ...SETS];
  const resume = ['ensemble', '--resume', dir, '--parallel', '1', '--quiet'];
  let tried = 0;
  let done = false;
  const budget = agents * EPISODES * 200 + 2000;
  while (!done && tried < ENSEMBLE_KILLS) {
    const life = start(existsSync(join(dir, 'ensemble.json')) ? resume : fresh);
    const delay = 300 + rng.next() * (budget / ENSEMBLE_KILLS) * 1.5;
    const winner = await Promise.race([life.exited.then(() => 'exit' as const), sleep(delay).then(() => 'timer' as const)]);
    if (winner === 'exit') {
      const { code } = await life.exited;
      if (code !== 0) throw new Error(`ensemble exited with ${code}:\n${life.stderr.slice(-2000)}`);
      done = true;
      break;
    }
    // the node dies: freeze the ensemble so it starts nobody new, then kill its agents and it
    const pid = life.child.pid!;
    process.kill(pid, 'SIGSTOP');
    for (const c of childrenOf(pid)) process.kill(c, 'SIGKILL');
    life.child.kill('SIGKILL');
    await life.exited;
    tried++;
    await sleep(50); // the agents' exits reach init
  }
  if (!done) await runToEnd(resume);
  let mismatches = 0;
  let lost = 0;
  let repeated = 0;
  const details: string[] = [];
  for (let i = 0; i < agents; i++) {
    const cmp = compareRuns(join(dir, `agent-${String(i).padStart(3, '0')}`), await reference(SEED + i));
    mismatches += cmp.mismatches;
    lost += cmp.lost;
    repeated += cmp.repeated;
    details.push(...cmp.details.map((d) => `agent ${i}: ${d}`));
  }
  log(`ensemble: ${tried} kills, ${mismatches} mismatches`);
  return { tried, survived: mismatches + lost + repeated === 0 ? tried : 0, mismatches, lost, repeated, agents, details };
}

// ---------------------------------------------------------------- SLURM

function sh(cmd: string, args: string[], timeout = 20000): { ok: boolean; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}`.trim() };
}

function taskState(job: string): string {
  const r = sh('squeue', ['-h', '-j', job, '-o', '%T']);
  return r.ok ? r.out.split('\n')[0] || 'GONE' : 'GONE';
}

/** SLURM holds a requeued job for about two minutes (reason BeginTime); an admin's `scontrol update … StartTime=now` lets it run at once. */
function releaseBeginTime(job: string): void {
  const r = sh('squeue', ['-h', '-j', job, '-o', '%T|%r']);
  if (r.ok && /PENDING\|BeginTime/.test(r.out)) sh('scontrol', ['update', `JobId=${job}`, 'StartTime=now']);
}

async function requeueSlurm() {
  if (values['no-slurm']) return { skipped: '--no-slurm' };
  const cluster = join(ROOT, 'scripts', 'slurm-cluster.sh');
  if (!sh(cluster, ['status'], 30000).ok) {
    const st = sh(cluster, ['start'], 120000);
    if (!st.ok) return { skipped: `the local SLURM cluster did not start: ${st.out.split('\n').slice(-1)[0]}` };
  }
  const dir = join(OUT, 'slurm');
  rmSync(dir, { recursive: true, force: true });
  const seed = SEED;
  const sub = spawnSync(process.execPath, [MAIN, 'slurm', 'submit', 'graphene-small', '--agents', '1', '--episodes', String(EPISODES), '--seed-base', String(seed), '--out', dir, ...SETS], { encoding: 'utf8' });
  if (sub.status !== 0) return { skipped: `asla slurm submit failed: ${sub.stderr.trim().split('\n')[0]}` };
  const manifest = JSON.parse(readFileSync(join(dir, 'ensemble.json'), 'utf8')) as { slurm: { jobs: { jobId: string }[] } };
  const job = `${manifest.slurm.jobs[0].jobId}_0`;
  const agentDir = join(dir, 'agent-000');
  let tried = 0;
  let hardKills = 0;
  const deadline = performance.now() + 15 * 60 * 1000;
  while (tried < REQUEUES && performance.now() < deadline) {
    // wait until the task runs and has written some episodes beyond what it had
    const before = readLog(agentDir).records.length;
    while (performance.now() < deadline) {
      const s = taskState(job);
      if (s === 'GONE' || s === 'COMPLETED') break;
      if (s === 'RUNNING' && readLog(agentDir).records.length > before) break;
      await sleep(100);
    }
    if (['GONE', 'COMPLETED'].includes(taskState(job))) break;
    await sleep(rng.next() * 600);
    if (rng.next() < 0.5) {
      // the node dies under the task: its process is killed, SLURM requeues it
      const pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
        try {
          const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8');
          return cmd.includes(MAIN) && cmd.includes(agentDir);
        } catch {
          return false;
        }
      });
      for (const p of pids) process.kill(Number(p), 'SIGKILL');
      hardKills += pids.length > 0 ? 1 : 0;
    }
    const r = sh('scontrol', ['requeue', job]);
    if (!r.ok) log(`scontrol requeue ${job}: ${r.out}`);
    else tried++;
    await sleep(500);
    releaseBeginTime(job);
  }
  // to the end
  while (performance.now() < deadline && !['GONE', 'COMPLETED'].includes(taskState(job))) {
    releaseBeginTime(job);
    await sleep(500);
  }
  const summary = existsSync(join(agentDir, 'summary.json')) ? (JSON.parse(readFileSync(join(agentDir, 'summary.json'), 'utf8')) as { episodes: number }) : null;
  if (!summary || summary.episodes < EPISODES) {
    // a task that ended (e.g. failed after a hard kill) is resumed by hand, as a user would
    await runToEnd(['run', '--resume', agentDir, '--episodes', String(EPISODES), '--quiet']);
  }
  const cmp = compareRuns(agentDir, await reference(seed));
  const restarts = (readFileSync(join(dir, 'slurm', 'agent-000.out'), 'utf8').match(/^asla: agent 0 on/gm) ?? []).length;
  log(`slurm: ${tried} requeues (${hardKills} after SIGKILL), ${restarts} task starts, ${cmp.mismatches} mismatches`);
  return { tried, hardKills, taskStarts: restarts, survived: cmp.mismatches + cmp.lost + cmp.repeated === 0 ? tried : 0, ...cmp };
}

// ---------------------------------------------------------------- main

mkdirSync(OUT, { recursive: true });
const t0 = performance.now();
const run = await killRuns();
const ensemble = ENSEMBLE_KILLS > 0 ? await killEnsemble() : { skipped: '--ensemble-kills 0' };
const slurm = REQUEUES > 0 ? await requeueSlurm() : { skipped: '--requeues 0' };
process.stdout.write(
  JSON.stringify(
    {
      command: `node dist/bench/kills.js ${process.argv.slice(2).join(' ')}`.trim(),
      problem: 'graphene-small',
      calculator: values.plain ? 'tersoff' : 'faulty(tersoff, rate 0.1, delay 20 ms, timeout 200 ms)',
      episodes: EPISODES,
      run,
      ensemble,
      slurm,
      seconds: Math.round(performance.now() - t0) / 1000,
    },
    null,
    2,
  ) + '\n',
);
