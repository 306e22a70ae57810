/**
 * `asla slurm submit PROBLEM|CONFIG --agents N [--partition P] [--time T] [--cpus-per-task C]
 *                    [--episodes E] [--out DIR] [--seed-base S] [--set k=v ...]
 *                    [--from RUN_DIR|ENSEMBLE_DIR] [--dry-run]`
 * `asla slurm submit --resume DIR [--dry-run]`   resubmits the unfinished agents
 * `asla slurm status DIR [--json]`
 */
import type { parseArgs } from 'node:util';
import { intFlag, parseFlags } from './args.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { atomsOf, createEnsemble, readEnsembleConfig, readManifest, writeManifest } from '../search/ensemble.js';
import { slurmStatus, submitArray, unfinishedAgents, type SlurmOptions } from '../search/slurm.js';
import { InputError } from '../util/errors.js';

export const SLURM_USAGE = `usage: asla slurm submit PROBLEM|CONFIG --agents N [--partition P] [--time T] [--cpus-per-task C]
                         [--episodes E] [--out DIR] [--seed-base S] [--set key=value ...]
                         [--from RUN_DIR|ENSEMBLE_DIR] [--until-solved|--until-learned] [--dry-run]
       asla slurm submit --resume DIR [--partition P] [--time T] [--cpus-per-task C] [--dry-run]
       asla slurm status DIR [--json]`;

type FlagOptions = NonNullable<NonNullable<Parameters<typeof parseArgs>[0]>['options']>;

function parse(args: string[], options: FlagOptions) {
  return parseFlags({ args, options, allowPositionals: true, strict: true });
}

export async function cmdSlurm(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'submit':
      return submit(rest);
    case 'status':
      return status(rest);
    case undefined:
    case '-h':
    case '--help':
      process.stdout.write(SLURM_USAGE + '\n');
      return sub === undefined ? 2 : 0;
    default:
      throw new InputError(`unknown slurm command '${sub}' (submit, status)`);
  }
}

async function submit(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {
    agents: { type: 'string' },
    partition: { type: 'string' },
    time: { type: 'string' },
    'cpus-per-task': { type: 'string' },
    episodes: { type: 'string' },
    out: { type: 'string' },
    'seed-base': { type: 'string' },
    set: { type: 'string', multiple: true },
    from: { type: 'string' },
    'until-solved': { type: 'boolean' },
    'until-learned': { type: 'boolean' },
    resume: { type: 'string' },
    'dry-run': { type: 'boolean' },
  });
  if (positionals.length > 1) throw new InputError(`unexpected argument '${positionals[1]}'`);
  const dryRun = Boolean(values['dry-run']);
  const command = ['asla', 'slurm', 'submit', ...args];
  let dir: string;
  let manifest;
  let indices: number[];
  if (values.resume !== undefined) {
    if (positionals.length > 0) throw new InputError('give either PROBLEM or --resume DIR, not both');
    for (const f of ['agents', 'episodes', 'out', 'seed-base', 'set', 'from', 'until-solved', 'until-learned'] as const) {
      if (values[f] !== undefined) throw new InputError(`--${f} applies to a new ensemble only`);
    }
    dir = values.resume as string;
    manifest = readManifest(dir);
    if (manifest.kind !== 'slurm') throw new InputError(`is a ${manifest.kind} ensemble: use 'asla ensemble --resume'`, dir);
    manifest.sessions.push({ time: new Date().toISOString(), command });
    indices = unfinishedAgents(dir, manifest);
    if (indices.length === 0) {
      writeManifest(dir, manifest);
      process.stdout.write(JSON.stringify({ dir, submitted: false, reason: 'every agent is done' }, null, 2) + '\n');
      return 0;
    }
  } else {
    const spec = positionals[0];
    if (spec === undefined) throw new InputError(`missing PROBLEM or CONFIG\n${SLURM_USAGE}`);
    const agents = intFlag(values.agents, '--agents', 1);
    if (agents === undefined) throw new InputError('missing --agents N');
    const name = spec.replace(/^.*\//, '').replace(/\.(ya?ml|json)$/, '');
    dir = (values.out as string | undefined) ?? `runs/${name}-slurm`;
    if (existsSync(join(dir, 'ensemble.json'))) throw new InputError('already holds an ensemble: resubmit its unfinished agents with --resume DIR, or use another --out', dir);
    manifest = createEnsemble(dir, {
      kind: 'slurm',
      problem: spec,
      sets: (values.set as string[] | undefined) ?? [],
      agents,
      episodes: intFlag(values.episodes, '--episodes', 0),
      seedBase: intFlag(values['seed-base'], '--seed-base', 0),
      command,
      from: values.from as string | undefined,
      untilSolved: values['until-solved'] === true,
      untilLearned: values['until-learned'] === true,
    }).manifest;
    indices = Array.from({ length: agents }, (_, i) => i);
  }
  const config = readEnsembleConfig(dir);
  const prev = manifest.slurm?.options;
  const opts: SlurmOptions = {
    partition: (values.partition as string | undefined) ?? prev?.partition ?? null,
    time: (values.time as string | undefined) ?? prev?.time ?? null,
    cpusPerTask: intFlag(values['cpus-per-task'], '--cpus-per-task', 1) ?? prev?.cpusPerTask ?? config.training.threads,
  };
  if (opts.time !== null && !/^[0-9:-]+$/.test(opts.time)) throw new InputError(`must be a SLURM time such as 24:00:00 or 2-00:00:00, got '${opts.time}'`, '--time');
  const { script, jobId } = submitArray(dir, manifest, opts, indices, dryRun);
  process.stdout.write(
    JSON.stringify({ dir, script, jobId, agents: indices.length, submitted: jobId !== null, status: `asla slurm status ${dir}` }, null, 2) + '\n',
  );
  return 0;
}

async function status(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { json: { type: 'boolean' } });
  if (positionals.length !== 1) throw new InputError(`give one DIR\n${SLURM_USAGE}`);
  const dir = positionals[0];
  const manifest = readManifest(dir);
  if (manifest.kind !== 'slurm') throw new InputError(`is a ${manifest.kind} ensemble (see asla ensemble)`, dir);
  const atoms = atomsOf(readEnsembleConfig(dir));
  const { agents, queueError } = slurmStatus(dir, manifest);
  const jobs = (manifest.slurm?.jobs ?? []).map((j) => j.jobId);
  if (values.json) {
    process.stdout.write(JSON.stringify({ dir, jobs, episodes: manifest.episodes, queueError, agents }, null, 2) + '\n');
    return 0;
  }
  const lines = [`${dir}: ${manifest.name}, ${manifest.agents} agents × ${manifest.episodes} episodes, job${jobs.length === 1 ? '' : 's'} ${jobs.join(', ') || '(not submitted)'}`];
  if (queueError) lines.push(`squeue: ${queueError} — states from the run directories only`);
  const counts: Record<string, number> = {};
  for (const a of agents) {
    counts[a.state] = (counts[a.state] ?? 0) + 1;
    const p = a.progress;
    const best = p.bestEnergy === null ? '      -' : (p.bestEnergy / atoms).toFixed(3).padStart(7);
    const slurm = a.slurm ? `${a.slurm.jobId}_${a.index} ${a.slurm.state}${a.slurm.reason && a.slurm.reason !== 'None' ? ` (${a.slurm.reason})` : ''}` : '';
    lines.push(
      `${a.agent}  ${a.state.padEnd(8)} ${String(p.episode).padStart(6)}/${manifest.episodes}  best ${best} eV/atom` +
        `  ${p.firstReference !== null ? `reference at ${p.firstReference}` : ''}  ${slurm}`.trimEnd(),
    );
  }
  lines.push(Object.entries(counts).map(([k, v]) => `${v} ${k}`).join(', '));
  if (counts.failed) lines.push(`resubmit the failed agents with: asla slurm submit --resume ${dir}`);
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}
