/**
 * `asla ensemble PROBLEM|CONFIG --agents N [--parallel P] [--out DIR] [--episodes E]
 *                [--seed-base S] [--set k=v ...] [--from RUN_DIR|ENSEMBLE_DIR] [--resume]`
 * `asla ensemble --resume DIR [--parallel P] [--agents N] [--episodes E]`
 *
 * N independent agents, P at a time as child processes, with one combined
 * progress display (a line per agent on a terminal, periodic plain lines
 * otherwise). With --resume, unfinished agents continue from their checkpoints;
 * --resume with PROBLEM starts the ensemble when DIR does not hold one yet.
 * --from: transfer learning; from an ensemble, agent i starts from its agent i.
 */
import { intFlag, parseFlags } from './args.js';
import { existsSync, statSync } from 'node:fs';
import { PRESETS } from '../agent/presets.js';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import {
  agentSlots,
  atomsOf,
  createEnsemble,
  readEnsembleConfig,
  readManifest,
  resolveTransferSource,
  runEnsemble,
  writeManifest,
  type AgentSlot,
  type EnsembleManifest,
} from '../search/ensemble.js';
import { InputError } from '../util/errors.js';

export const ENSEMBLE_USAGE = `usage: asla ensemble PROBLEM|CONFIG --agents N [--parallel P] [--out DIR] [--episodes E]
                     [--seed-base S] [--set key=value ...] [--from RUN_DIR|ENSEMBLE_DIR] [--until-solved|--until-learned] [--resume]
       asla ensemble --resume DIR [--parallel P] [--agents N] [--episodes E]`;

export async function cmdEnsemble(args: string[]): Promise<number> {
  const parsed = parseFlags({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      agents: { type: 'string' },
      parallel: { type: 'string' },
      out: { type: 'string' },
      episodes: { type: 'string' },
      'seed-base': { type: 'string' },
      set: { type: 'string', multiple: true },
      from: { type: 'string' },
      'until-solved': { type: 'boolean' },
      'until-learned': { type: 'boolean' },
      resume: { type: 'boolean' },
      quiet: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(ENSEMBLE_USAGE + '\n');
    return 0;
  }
  if (positionals.length > 1) throw new InputError(`unexpected argument '${positionals[1]}'`);
  const agents = intFlag(values.agents, '--agents', 1);
  const episodes = intFlag(values.episodes, '--episodes', 0);
  const seedBase = intFlag(values['seed-base'], '--seed-base', 0);
  const sets = (values.set as string[] | undefined) ?? [];
  const command = ['asla', 'ensemble', ...args];

  // `--resume DIR` names the ensemble; `PROBLEM --out DIR --resume` starts it or resumes it
  let dir: string;
  let manifest: EnsembleManifest;
  const spec = positionals[0];
  const problem = spec !== undefined && (!values.resume || isProblemSpec(spec)) ? spec : undefined;
  const defaultDir = problem && `runs/${problem.replace(/^.*\//, '').replace(/\.(ya?ml|json)$/, '')}-ensemble`;
  const target = problem === undefined ? spec : ((values.out as string | undefined) ?? defaultDir);
  if (values.resume && target !== undefined && existsSync(join(target, 'ensemble.json'))) {
    dir = target;
    manifest = readManifest(dir);
    if (manifest.kind !== 'local') throw new InputError(`is a ${manifest.kind} ensemble: use 'asla ${manifest.kind} ...'`, dir);
    if (sets.length > 0 || seedBase !== undefined) throw new InputError('--set and --seed-base apply to a new ensemble only (see its problem.json)');
    if (values.from !== undefined) throw new InputError('--from applies to a new ensemble only (see its ensemble.json)', '--from');
    for (const f of ['until-solved', 'until-learned'] as const) if (values[f]) throw new InputError(`--${f} applies to a new ensemble only (see its ensemble.json)`, `--${f}`);
    if (agents !== undefined && agents < manifest.agents) throw new InputError(`the ensemble has ${manifest.agents} agents; --agents may only add more`, '--agents');
    // added agents transfer like the others: from an ensemble, each needs its own source agent
    if (agents !== undefined && agents > manifest.agents && manifest.from?.perAgent) resolveTransferSource(manifest.from.dir, agents);
    manifest.agents = agents ?? manifest.agents;
    manifest.episodes = episodes ?? manifest.episodes;
    manifest.sessions.push({ time: new Date().toISOString(), command });
    writeManifest(dir, manifest);
  } else {
    if (problem === undefined) {
      throw new InputError(values.resume ? `${spec ?? 'DIR'}: not an ensemble directory (no ensemble.json)` : `missing PROBLEM or CONFIG\n${ENSEMBLE_USAGE}`);
    }
    if (agents === undefined) throw new InputError('missing --agents N');
    dir = target as string;
    manifest = createEnsemble(dir, { kind: 'local', problem, sets, agents, episodes, seedBase, command, from: values.from as string | undefined, untilSolved: values['until-solved'] === true, untilLearned: values['until-learned'] === true }).manifest;
  }
  const config = readEnsembleConfig(dir);
  const threads = config.training.threads;
  const parallel = intFlag(values.parallel, '--parallel', 1) ?? Math.max(1, Math.floor(availableParallelism() / threads));

  const display = new Display(dir, manifest, atomsOf(config), Boolean(values.quiet));
  const controller = new AbortController();
  const slots: AgentSlot[] = agentSlots(dir, manifest);
  display.slots = slots;
  let signals = 0;
  const stop = () => {
    signals++;
    if (signals === 1) {
      display.message(`stopping: each agent finishes its episode and checkpoints (again to kill them at once); resume with: asla ensemble --resume ${dir}`);
      controller.abort();
    } else {
      // killing is safe: a resumed agent continues from its last checkpoint (src/search/run.ts)
      for (const s of slots) if (s.pid !== null) process.kill(s.pid, 'SIGKILL');
    }
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  display.start();
  try {
    await runEnsemble({
      dir,
      manifest,
      parallel,
      slots,
      signal: controller.signal,
      onEvent: (e) =>
        display.event(e.type === 'start' ? `${label(e.agent)} ${e.resumed ? 'resumed' : 'started'} (pid ${e.agent.pid})` : exitText(e.agent)),
    });
  } finally {
    display.finish();
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
  const failed = slots.filter((s) => s.state === 'failed');
  const unfinished = slots.filter((s) => s.state !== 'done');
  process.stdout.write(
    JSON.stringify(
      {
        dir,
        agents: manifest.agents,
        episodes: manifest.episodes,
        done: slots.length - unfinished.length,
        unfinished: unfinished.map((s) => ({ agent: label(s), state: s.state, exit: s.exit })),
      },
      null,
      2,
    ) + '\n',
  );
  if (signals > 0) return 130;
  if (failed.length > 0) {
    process.stderr.write(`asla: ${failed.length} agent(s) failed (see their run.log); continue them with: asla ensemble --resume ${dir}\n`);
    return 1;
  }
  return 0;
}

/** A preset name or a config file (an ensemble is a directory). */
function isProblemSpec(spec: string): boolean {
  return spec in PRESETS || (existsSync(spec) && statSync(spec).isFile());
}

const label = (s: AgentSlot) => `agent-${String(s.index).padStart(3, '0')}`;

function exitText(s: AgentSlot): string {
  return s.state === 'done' ? `${label(s)} done` : `${label(s)} ${s.state}${s.exit ? ` (${s.exit})` : ''}`;
}

/** The combined progress of all agents, read from their episode logs. */
class Display {
  slots: AgentSlot[] = [];
  private readonly tty = process.stderr.isTTY === true;
  private timer: NodeJS.Timeout | null = null;
  private drawn = 0;
  private lastPlain = 0;
  private readonly started = Date.now();
  private startEpisodes = -1;

  constructor(
    private dir: string,
    private m: EnsembleManifest,
    private atoms: number,
    private quiet: boolean,
  ) {}

  start(): void {
    if (this.quiet) return;
    process.stderr.write(`asla ensemble: ${this.m.name}, ${this.m.agents} agents × ${this.m.episodes} episodes, seeds ${this.m.seedBase}…${this.m.seedBase + this.m.agents - 1} → ${this.dir}\n`);
    this.timer = setInterval(() => this.tick(), this.tty ? 1000 : 2000);
    this.timer.unref();
  }

  event(text: string): void {
    if (this.quiet) return;
    if (this.tty) this.tick(text);
    else process.stderr.write(`${text}\n`);
  }

  message(text: string): void {
    this.event(text);
  }

  finish(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.quiet) return;
    this.tick();
    if (!this.tty) process.stderr.write(this.summary() + '\n');
  }

  private summary(): string {
    let episodes = 0;
    let reached = 0;
    const counts: Record<string, number> = {};
    for (const s of this.slots) {
      const p = s.tail.poll();
      episodes += p.episode;
      if (p.firstReference !== null) reached++;
      counts[s.state] = (counts[s.state] ?? 0) + 1;
    }
    if (this.startEpisodes < 0) this.startEpisodes = episodes;
    const rate = (episodes - this.startEpisodes) / ((Date.now() - this.started) / 1000);
    const total = this.m.agents * this.m.episodes;
    const eta = rate > 0 ? (total - episodes) / rate : NaN;
    const states = Object.entries(counts)
      .map(([k, v]) => `${v} ${k}`)
      .join(', ');
    return `ensemble: ${states}; episodes ${episodes}/${total}; reference built by ${reached}/${this.m.agents}; ${rate.toFixed(2)} ep/s; ETA ${fmtSeconds(eta)}`;
  }

  private agentLine(s: AgentSlot): string {
    const p = s.tail.poll();
    const best = p.bestEnergy === null ? '      -' : (p.bestEnergy / this.atoms).toFixed(3).padStart(7);
    const ref = p.firstReference !== null ? `reference at ${p.firstReference}` : p.diedEpisode !== null ? `network died at ${p.diedEpisode}` : '';
    const state = s.state === 'failed' || s.state === 'stopped' ? `${s.state}${s.exit ? ` (${s.exit})` : ''}` : s.state;
    return `${label(s)}  ${state.padEnd(9)} ${String(p.episode).padStart(6)}/${this.m.episodes}  best ${best} eV/atom  ${ref}`;
  }

  private tick(event?: string): void {
    if (this.quiet) return;
    if (!this.tty) {
      // plain output: a summary line every 10 s (events are printed as they happen)
      if (Date.now() - this.lastPlain >= 10000) {
        this.lastPlain = Date.now();
        process.stderr.write(this.summary() + '\n');
      }
      return;
    }
    const rows = Math.max(5, (process.stderr.rows || 40) - 3);
    let shown = this.slots;
    if (shown.length > rows) shown = shown.filter((s) => s.state === 'running').slice(0, rows);
    const lines = [...shown.map((s) => this.agentLine(s)), this.summary()];
    let out = this.drawn > 0 ? `\x1b[${this.drawn}A` : '';
    if (event) out += `\r${event}\x1b[K\n`;
    const width = Math.max(40, (process.stderr.columns || 120) - 1);
    for (const l of lines) out += `\r${l.slice(0, width)}\x1b[K\n`;
    // lines left over from a longer previous frame
    for (let i = lines.length + (event ? 1 : 0); i < this.drawn; i++) out += '\r\x1b[K\n';
    const extra = Math.max(0, this.drawn - lines.length - (event ? 1 : 0));
    if (extra > 0) out += `\x1b[${extra}A`;
    process.stderr.write(out);
    this.drawn = lines.length;
  }
}

function fmtSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(Math.floor(s % 60)).padStart(2, '0')}s`;
}
