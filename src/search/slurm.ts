/**
 * Ensembles on a SLURM cluster: one job array, one agent per array task, each
 * in its own run directory (AGOX does the same with one database per run). The
 * sbatch script starts the agent's run, or resumes it when its directory holds
 * one, so `--requeue` (node failure, preemption, `scontrol requeue`) continues
 * from the checkpoint. Nothing is needed on the nodes but Node and this package.
 *
 *   DIR/slurm/job.sbatch       the job-array script
 *   DIR/slurm/agent-XXX.out    each task's stdout/stderr (appended across requeues)
 *   DIR/ensemble.json          kind 'slurm', with the submitted job ids
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InputError } from '../util/errors.js';
import { writeFileAtomic } from './checkpoint.js';
import { agentDirName, agentDone, untilFlags, LogTail, MAIN_SCRIPT, writeManifest, type AgentProgress, type EnsembleManifest } from './ensemble.js';

export interface SlurmOptions {
  partition: string | null;
  /** --time, e.g. 24:00:00. */
  time: string | null;
  cpusPerTask: number;
}

/** Timeout for sbatch/squeue/scontrol: without a controller they hang for many seconds. */
export const SLURM_TIMEOUT_MS = 15000;

/** A single-quoted shell word. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Array index list for sbatch --array: runs of consecutive indices as ranges, e.g. 0-3,7,9-10. */
export function arraySpec(indices: number[]): string {
  const sorted = [...new Set(indices)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/**
 * The job-array script. Task i runs agent i with seed seedBase + i in
 * DIR/agent-XXX; `exec` makes node the task's process, so SLURM's SIGTERM
 * (time limit, requeue, scancel) reaches the agent, which finishes its episode
 * and checkpoints before it exits.
 */
export function sbatchScript(dir: string, m: EnsembleManifest, opts: SlurmOptions, indices: number[], node = process.execPath, script = MAIN_SCRIPT): string {
  const abs = resolve(dir);
  const q = shellQuote;
  // transfer learning: agent i from the source ensemble's agent i, or every agent from one run
  const until = untilFlags(m).map((f) => ` ${f}`).join('');
  const from = !m.from ? '' : m.from.perAgent ? ` --from ${q(m.from.dir)}/agent-$(printf %03d "$i")` : ` --from ${q(m.from.dir)}`;
  const lines = [
    '#!/bin/bash',
    `#SBATCH --job-name=${q(`asla-${m.name}`)}`,
    `#SBATCH --array=${arraySpec(indices)}`,
    '#SBATCH --ntasks=1',
    `#SBATCH --cpus-per-task=${opts.cpusPerTask}`,
    '#SBATCH --requeue',
    '#SBATCH --open-mode=append',
    `#SBATCH --output=${q(join(abs, 'slurm', 'agent-%3a.out'))}`,
  ];
  if (opts.partition) lines.push(`#SBATCH --partition=${q(opts.partition)}`);
  if (opts.time) lines.push(`#SBATCH --time=${q(opts.time)}`);
  lines.push(
    `# written by asla slurm submit: ${m.agents} agents of ${m.name}, ${m.episodes} episodes, agent i with seed ${m.seedBase}+i in ${abs}/agent-XXX`,
    'set -eu',
    'i=$SLURM_ARRAY_TASK_ID',
    `dir=${q(abs)}/agent-$(printf %03d "$i")`,
    `node=\${ASLA_NODE:-${q(node)}}`,
    '[ -x "$node" ] || node=$(command -v node) || { echo "asla: no node on $(hostname)" >&2; exit 1; }',
    'echo "asla: agent $i on $(hostname), restart ${SLURM_RESTART_COUNT:-0}, $(date -u +%FT%TZ)"',
    'if [ -f "$dir/config.json" ]; then',
    `  exec "$node" ${q(script)} run --resume "$dir" --episodes ${m.episodes} --quiet${until}`,
    'else',
    `  exec "$node" ${q(script)} run ${q(join(abs, 'problem.json'))} --seed $((${m.seedBase} + i)) --episodes ${m.episodes} --out "$dir" --quiet${from}${until}`,
    'fi',
    '',
  );
  return lines.join('\n');
}

function runSlurm(cmd: string, args: string[]): { ok: boolean; stdout: string; error: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: SLURM_TIMEOUT_MS });
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    return { ok: false, stdout: '', error: code === 'ENOENT' ? `${cmd} not found (is SLURM installed here?)` : code === 'ETIMEDOUT' ? `${cmd} timed out after ${SLURM_TIMEOUT_MS / 1000} s (no controller answering?)` : r.error.message };
  }
  if (r.status !== 0) return { ok: false, stdout: r.stdout, error: `${cmd} failed: ${(r.stderr || r.stdout).trim().split('\n')[0]}` };
  return { ok: true, stdout: r.stdout, error: '' };
}

/** Writes DIR/slurm/job.sbatch for the given agents and submits it (unless dryRun); records the job id. */
export function submitArray(
  dir: string,
  m: EnsembleManifest,
  opts: SlurmOptions,
  indices: number[],
  dryRun: boolean,
): { script: string; jobId: string | null } {
  mkdirSync(join(dir, 'slurm'), { recursive: true });
  const script = join(resolve(dir), 'slurm', 'job.sbatch');
  writeFileAtomic(script, sbatchScript(dir, m, opts, indices));
  m.slurm = m.slurm ?? { script: 'slurm/job.sbatch', options: opts, jobs: [] };
  m.slurm.options = opts;
  if (dryRun) {
    writeManifest(dir, m);
    return { script, jobId: null };
  }
  const r = runSlurm('sbatch', ['--parsable', script]);
  if (!r.ok) {
    writeManifest(dir, m);
    throw new InputError(`${r.error}; the script is ${script}`);
  }
  // --parsable prints "jobid" or "jobid;cluster"
  const jobId = r.stdout.trim().split('\n').pop()?.split(';')[0] ?? '';
  if (!/^\d+$/.test(jobId)) throw new InputError(`sbatch printed '${r.stdout.trim()}', not a job id`);
  m.slurm.jobs.push({ jobId, submitted: new Date().toISOString(), array: arraySpec(indices) });
  writeManifest(dir, m);
  return { script, jobId };
}

export interface QueueState {
  jobId: string;
  /** SLURM's state: PENDING, RUNNING, COMPLETING, COMPLETED, FAILED, … */
  state: string;
  reason: string;
}

/**
 * The array tasks SLURM still knows (pending, running and recently ended) of
 * these jobs, by array index; the newest job wins for an index. `error` when
 * squeue did not answer.
 */
export function queueStates(jobIds: string[]): { tasks: Map<number, QueueState>; error: string | null } {
  const tasks = new Map<number, QueueState>();
  if (jobIds.length === 0) return { tasks, error: null };
  const r = runSlurm('squeue', ['-h', '-r', '-t', 'all', '-j', jobIds.join(','), '-o', '%F|%K|%T|%r']);
  if (!r.ok) {
    // squeue fails for job ids the controller has forgotten: ask again per job
    if (/Invalid job id/i.test(r.error) && jobIds.length > 1) {
      let error: string | null = null;
      for (const id of jobIds) {
        const one = queueStates([id]);
        for (const [k, v] of one.tasks) tasks.set(k, v);
        error = error ?? one.error;
      }
      return { tasks, error };
    }
    if (/Invalid job id/i.test(r.error)) return { tasks, error: null };
    return { tasks, error: r.error };
  }
  const order = new Map(jobIds.map((id, i) => [id, i]));
  for (const line of r.stdout.split('\n')) {
    const [jobId, task, state, reason] = line.trim().split('|');
    if (!jobId || task === undefined || !/^\d+$/.test(task)) continue;
    const index = Number(task);
    const prev = tasks.get(index);
    if (prev && (order.get(prev.jobId) ?? -1) > (order.get(jobId) ?? -1)) continue;
    tasks.set(index, { jobId, state, reason: reason ?? '' });
  }
  return { tasks, error: null };
}

export type SlurmAgentState = 'unsubmitted' | 'pending' | 'running' | 'done' | 'failed' | 'unknown';

export interface SlurmAgentStatus {
  agent: string;
  index: number;
  state: SlurmAgentState;
  /** SLURM's own state and reason, when it still knows the task. */
  slurm: QueueState | null;
  progress: AgentProgress;
}

const PENDING = new Set(['PENDING', 'CONFIGURING', 'REQUEUED', 'REQUEUE_HOLD', 'REQUEUE_FED', 'RESV_DEL_HOLD', 'SUSPENDED', 'STOPPED', 'RESIZING']);
const RUNNING = new Set(['RUNNING', 'COMPLETING', 'SIGNALING', 'STAGE_OUT']);

/** Each agent's state (from squeue and its run directory) and progress (from its episode log). */
export function slurmStatus(dir: string, m: EnsembleManifest): { agents: SlurmAgentStatus[]; queueError: string | null } {
  const jobIds = (m.slurm?.jobs ?? []).map((j) => j.jobId);
  const { tasks, error } = queueStates(jobIds);
  const agents: SlurmAgentStatus[] = [];
  for (let index = 0; index < m.agents; index++) {
    const agentDir = join(dir, agentDirName(index));
    const q = tasks.get(index) ?? null;
    const progress = new LogTail(agentDir).poll();
    let state: SlurmAgentState;
    if (q && PENDING.has(q.state)) state = 'pending';
    else if (q && RUNNING.has(q.state)) state = 'running';
    else if (agentDone(agentDir, m)) state = 'done';
    else if (error !== null) state = 'unknown';
    else if (jobIds.length === 0) state = 'unsubmitted'; // written with --dry-run
    else state = 'failed';
    agents.push({ agent: agentDirName(index), index, state, slurm: q, progress });
  }
  return { agents, queueError: error };
}

/** Agents not done (for a resubmission). */
export function unfinishedAgents(dir: string, m: EnsembleManifest): number[] {
  const out: number[] = [];
  for (let i = 0; i < m.agents; i++) if (!agentDone(join(dir, agentDirName(i)), m)) out.push(i);
  return out;
}

