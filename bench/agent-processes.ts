/**
 * What the multi-agent benchmarks (learning, c3h4o2, transfer) share: each
 * agent is its own `asla run` process in its own directory, resumed when the
 * directory already holds a run, so a benchmark stopped at any moment (a
 * session's or a cluster job's time limit) continues where it stopped when
 * started again with the same output directory; and reading the agents' logs.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EpisodeRecord } from '../src/agent/agent.js';
import { readJsonFile } from '../src/util/json-file.js';
import { episodeRecords } from '../src/search/episode-log.js';

const CLI = resolve(fileURLToPath(import.meta.url), '../../src/cli/main.js');

/**
 * Runs one agent to `episodes` episodes in `dir`: `asla run --resume dir` when
 * it holds a run (config.json), else `asla run START… --out dir`; `flags` go to
 * either (e.g. --until-solved).
 */
export function runAgentProcess(dir: string, episodes: number, start: string[], flags: string[] = []): Promise<void> {
  const args = existsSync(join(dir, 'config.json'))
    ? [CLI, 'run', '--resume', dir, '--episodes', String(episodes), '--quiet', ...flags]
    : [CLI, 'run', ...start, '--out', dir, '--episodes', String(episodes), '--quiet', ...flags];
  return new Promise((res, rej) => {
    const p = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
    p.on('error', rej);
    p.on('exit', (code, signal) => (code === 0 ? res() : rej(new Error(`${dir}: asla run ended with ${signal ?? `exit ${code}`}`))));
  });
}

/**
 * Runs the jobs in order on `parallel` lanes. A failed job does not stop the
 * others; the failures are returned.
 */
export async function inLanes<T>(jobs: readonly T[], parallel: number, run: (job: T) => Promise<void>): Promise<Error[]> {
  const queue = [...jobs];
  const failures: Error[] = [];
  await Promise.all(
    Array.from({ length: Math.max(1, parallel) }, async () => {
      for (let job = queue.shift(); job !== undefined; job = queue.shift()) {
        try {
          await run(job);
        } catch (e) {
          failures.push(e as Error);
        }
      }
    }),
  );
  return failures;
}

/**
 * An agent's episode log (its run directory's episodes.jsonl), complete lines
 * only: while the agent runs, its last line may be half written. [] before
 * the agent has started.
 */
export function readEpisodeLog(dir: string): EpisodeRecord[] {
  return [...episodeRecords(dir)];
}

/** `--set key=value` arguments of `asla run`, one per entry. */
export function setArgs(list: readonly string[]): string[] {
  return list.flatMap((s) => ['--set', s]);
}

/** Atoms of a run's final structures: the template's (from its config.json) and the placed ones. */
export function atomsOfRun(dir: string, lines: readonly EpisodeRecord[]): number {
  const config = readJsonFile(join(dir, 'config.json')) as { template: unknown[] };
  return config.template.length + (lines[0]?.actions.length ?? 0);
}

/** Ends the benchmark with one line per failed agent and exit 1 (nothing when none failed). */
export function exitOnFailures(bench: string, failures: Error[]): void {
  if (failures.length === 0) return;
  for (const f of failures) process.stderr.write(`${bench}: ${f.message}\n`);
  process.exit(1);
}
