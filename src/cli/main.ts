#!/usr/bin/env node
/**
 * The `asla` command line. Every user error is one line on stderr and a
 * non-zero exit, without a stack trace; nothing half-written is left behind.
 */
import type { parseArgs } from 'node:util';
import { intFlag, parseFlags } from './args.js';
import { basename } from 'node:path';
import { presetNames } from '../agent/presets.js';
import { loadProblem } from '../agent/config-file.js';
import { applySets, mergeConfig, validateProblem, type ProblemConfig } from '../agent/problem.js';
import type { EpisodeRecord } from '../agent/agent.js';
import { createCalculator, CALCULATOR_NAMES, evaluate } from '../calculators/index.js';
import { readExtxyz } from '../structure/extxyz.js';
import { Run } from '../search/run.js';
import { InputError, isUserFacing } from '../util/errors.js';

const USAGE = `asla — the atomistic structure learning algorithm

usage:
  asla run PROBLEM|CONFIG [--episodes N] [--seed S] [--out DIR] [--calculator NAME]
                          [--policy asla|random] [--threads T] [--set key=value ...] [--from RUN_DIR] [--dashboard [--port P]]
                          [--until-solved]   (stop at the first episode that solves the problem)
                          [--until-learned]  (stop when 5 greedy episodes in a row solve it)
                          [--keep-saturated] (go on when the network has died: all Q-values at −1 for 25 episodes)
  asla run --resume DIR [--episodes N] [--until-solved|--until-learned] [--keep-saturated]
  asla energy FILE.extxyz [--calculator NAME] [--params FILE] [--json]
  asla presets
  asla ensemble PROBLEM|CONFIG --agents N [--parallel P] [--out DIR] [--episodes E] [--seed-base S]
                               [--set key=value ...] [--from RUN_DIR|ENSEMBLE_DIR] [--until-solved|--until-learned] [--resume]
  asla ensemble --resume DIR [--parallel P]
  asla slurm submit PROBLEM|CONFIG --agents N [--partition P] [--time T] [--cpus-per-task C]
                                   [--episodes E] [--out DIR] [--seed-base S] [--set key=value ...]
                                   [--from RUN_DIR|ENSEMBLE_DIR] [--until-solved|--until-learned] [--dry-run]
  asla slurm submit --resume DIR [--dry-run]       (resubmits the unfinished agents)
  asla slurm status DIR [--json]
  asla stats DIR... [--json] [--csv FILE] [--threshold eV/atom] [--criterion honeycomb|five-seven] [--label NAME ...]
  asla molecules RUN_DIR... [--json] [--all] [--no-smiles] [--limit N]
  asla render RUN_DIR --episode E [--step T] [--format svg|png] [--out FILE]   (or --best, --energy, --relevance)
  asla report DIR [--out OUT] [--episodes E1,E2,...] [--stats STATS.json]
  asla serve DIR [--port P]
  asla explain RUN_DIR [--episode E] [--step T] [--action c,i0,i1] [--tau τ] [--json]   (layer-wise relevance)

problems: ${presetNames().join(', ')}; CONFIG is a YAML or JSON file (may start with 'preset: NAME')
calculators: ${CALCULATOR_NAMES.join(', ')}`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'run':
      return cmdRun(rest);
    case 'energy':
      return cmdEnergy(rest);
    case 'ensemble':
      return (await import('./ensemble.js')).cmdEnsemble(rest);
    case 'slurm':
      return (await import('./slurm.js')).cmdSlurm(rest);
    case 'stats':
      return (await import('./stats.js')).cmdStats(rest);
    case 'explain':
      return (await import('./explain.js')).cmdExplain(rest);
    case 'molecules':
      return (await import('./molecules.js')).cmdMolecules(rest);
    case 'render':
      return (await import('./render.js')).cmdRender(rest);
    case 'report':
      return (await import('./report.js')).cmdReport(rest);
    case 'serve':
      return (await import('./serve.js')).cmdServe(rest);
    case 'presets':
      for (const n of presetNames()) process.stdout.write(`${n}\n`);
      return 0;
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(USAGE + '\n');
      return command === undefined ? 2 : 0;
    default:
      throw new InputError(`unknown command '${command}' (see 'asla --help')`);
  }
}

type FlagOptions = NonNullable<NonNullable<Parameters<typeof parseArgs>[0]>['options']>;

function parse(args: string[], options: FlagOptions, positionals: number) {
  const parsed = parseFlags({ args, options, allowPositionals: true, strict: true });
  if (parsed.positionals.length > positionals) {
    throw new InputError(`unexpected argument '${parsed.positionals[positionals]}'`);
  }
  return parsed;
}


async function cmdRun(args: string[]): Promise<number> {
  const { values, positionals } = parse(
    args,
    {
      episodes: { type: 'string' },
      seed: { type: 'string' },
      out: { type: 'string' },
      calculator: { type: 'string' },
      policy: { type: 'string' },
      threads: { type: 'string' },
      set: { type: 'string', multiple: true },
      resume: { type: 'string' },
      quiet: { type: 'boolean' },
      from: { type: 'string' },
      dashboard: { type: 'boolean' },
      port: { type: 'string' },
      'until-solved': { type: 'boolean' },
      'until-learned': { type: 'boolean' },
      'keep-saturated': { type: 'boolean' },
    },
    1,
  );
  const episodes = intFlag(values.episodes, '--episodes');
  // every flag is checked before Run.open creates the run directory
  const port = intFlag(values.port, '--port') ?? 0;
  let run: Run;
  if (values.resume !== undefined) {
    if (positionals.length > 0) throw new InputError('give either PROBLEM or --resume DIR, not both');
    if (values.from !== undefined) throw new InputError('--from starts a new run from another run\'s network; a resumed run continues its own', '--from');
    run = await Run.open({ dir: values.resume as string, resume: true });
  } else {
    if (positionals.length === 0) throw new InputError(`missing PROBLEM or CONFIG (problems: ${presetNames().join(', ')})`);
    const { raw, where } = loadProblem(positionals[0]);
    const sets = [...((values.set as string[] | undefined) ?? [])];
    if (values.seed !== undefined) sets.push(`run.seed=${intFlag(values.seed, '--seed')}`);
    if (episodes !== undefined) sets.push(`run.episodes=${episodes}`);
    if (values.policy !== undefined) sets.push(`run.policy=${values.policy}`);
    if (values.threads !== undefined) sets.push(`training.threads=${intFlag(values.threads, '--threads', 1)}`);
    if (values.calculator !== undefined) sets.push(`calculator.name=${values.calculator}`, 'calculator.options={}');
    // --from RUN_DIR: transfer learning from that run's trained network (src/agent/transfer.ts)
    const withFrom = values.from !== undefined ? mergeConfig(applySets(raw, sets), { transfer: { from: values.from as string } }) : applySets(raw, sets);
    const config: ProblemConfig = validateProblem(withFrom, where);
    const out = (values.out as string | undefined) ?? `runs/${config.name}-${config.run.policy}-s${config.run.seed}`;
    run = await Run.open({ dir: out, config });
  }
  const total = episodes ?? run.config.run.episodes;
  // --dashboard: the live page of `asla serve` for this run, while it runs
  const dashboard = values.dashboard
    ? await (await import('../report/server.js')).startLiveServer({ dir: run.dir, port })
    : null;
  if (dashboard) process.stderr.write(`asla: live page at ${dashboard.url}\n`);
  const progress = new Progress(run, total, Boolean(values.quiet));
  const controller = new AbortController();
  const stop = () => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write('\nstopping after this episode (Ctrl-C again to quit now; resume with --resume)\n');
    controller.abort();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  try {
    const summary = await run.run({ episodes: total, onEpisode: (r) => progress.episode(r), signal: controller.signal, untilSolved: values['until-solved'] === true, untilLearned: values['until-learned'] === true, keepSaturated: values['keep-saturated'] === true });
    progress.done();
    process.stdout.write(JSON.stringify({ dir: run.dir, ...summary }, null, 2) + '\n');
  } finally {
    await run.close();
    await dashboard?.close();
  }
  return 0;
}

class Progress {
  private readonly tty = process.stderr.isTTY === true;
  private readonly started = performance.now();
  private readonly first: number;
  constructor(private run: Run, private total: number, private quiet: boolean) {
    this.first = run.agent.episode;
    if (!quiet) {
      const ref = run.agent.referenceEnergy;
      process.stderr.write(
        `asla: ${run.config.name}, ${run.config.run.policy} policy, seed ${run.config.run.seed}, ` +
          `${run.agent.atomsPerStructure} atoms, calculator ${run.agent.calculator.name}` +
          (ref !== null ? `, reference ${(ref / run.agent.atomsPerStructure).toFixed(3)} eV/atom` : '') +
          ` → ${run.dir}\n`,
      );
    }
  }
  episode(r: EpisodeRecord): void {
    if (this.quiet) return;
    const n = this.run.agent.atomsPerStructure;
    const done = r.episode - this.first;
    const rate = done / ((performance.now() - this.started) / 1000);
    const eta = rate > 0 ? (this.total - r.episode) / rate : 0;
    const e = r.energy === null ? `failed (${r.failure?.kind})` : `${(r.energy / n).toFixed(3)}`;
    const best = r.bestEnergy === null ? '-' : (r.bestEnergy / n).toFixed(3);
    const reached = this.run.agent.firstReferenceEpisode;
    const line =
      `episode ${r.episode}/${this.total}${r.greedy ? ' greedy' : '       '}  E ${e} eV/atom  best ${best}` +
      `  reference ${reached === null ? 'not yet' : `built at ${reached}`}  ${rate.toFixed(2)} ep/s  ETA ${formatSeconds(eta)}`;
    if (this.tty) process.stderr.write(`\r${line}\x1b[K`);
    else process.stderr.write(line + '\n');
  }
  done(): void {
    if (this.tty && !this.quiet) process.stderr.write('\n');
  }
}

function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(Math.floor(s % 60)).padStart(2, '0')}s`;
}

async function cmdEnergy(args: string[]): Promise<number> {
  const { values, positionals } = parse(
    args,
    { calculator: { type: 'string' }, params: { type: 'string' }, json: { type: 'boolean' } },
    1,
  );
  if (positionals.length === 0) throw new InputError('missing FILE.extxyz');
  const frames = readExtxyz(positionals[0]);
  const options: Record<string, unknown> = {};
  if (values.params !== undefined) options.params = values.params;
  const calc = await createCalculator((values.calculator as string | undefined) ?? 'tersoff', options);
  try {
    const results = [];
    for (const [i, atoms] of frames.entries()) {
      const r = await evaluate(calc, atoms);
      results.push(
        r.ok
          ? { frame: i, atoms: atoms.length, energy: r.energy, energyPerAtom: r.energy / atoms.length }
          : { frame: i, atoms: atoms.length, energy: null, failure: r.kind, message: r.message },
      );
    }
    if (values.json) {
      process.stdout.write(JSON.stringify({ file: basename(positionals[0]), calculator: calc.name, frames: results }, null, 2) + '\n');
    } else {
      for (const r of results) {
        process.stdout.write(
          r.energy === null
            ? `${r.frame}\t${r.atoms}\tfailed (${r.failure}): ${r.message}\n`
            : `${r.frame}\t${r.atoms}\t${r.energy.toFixed(6)} eV\t${r.energyPerAtom!.toFixed(6)} eV/atom\n`,
        );
      }
    }
  } finally {
    await calc.close?.();
  }
  return 0;
}

/** File-system errors a user fixes outside asla (EX_IOERR, 74). */
const IO_ERRORS: Record<string, string> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EIO: 'input/output error',
};

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    const io = e as NodeJS.ErrnoException;
    if (isUserFacing(e)) {
      process.stderr.write(`asla: ${e.message.split('\n')[0]}\n`);
      process.exitCode = 2;
    } else if (io?.code !== undefined && IO_ERRORS[io.code] !== undefined) {
      // the disk filled, a quota or permission stopped a write: one line, no stack; a run stays resumable (src/search/run.ts)
      process.stderr.write(`asla: ${IO_ERRORS[io.code]} (${io.code}${io.syscall ? ` in ${io.syscall}` : ''})${io.path ? `: ${io.path}` : ''}; a run continues from its last intact checkpoint with 'asla run --resume DIR'\n`);
      process.exitCode = 74;
    } else {
      process.stderr.write(`asla: internal error: ${(e as Error)?.stack ?? e}\n`);
      process.exitCode = 70;
    }
  },
);
