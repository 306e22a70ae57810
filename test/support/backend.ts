/**
 * Optional backends (LAMMPS, ASE/GPAW, xtb, Open Babel, SLURM, Chromium): on a
 * user's machine without them their tests are skipped with a visible message;
 * in CI (CI=true) a missing backend is a failure, never a skip.
 *
 *   test('energies equal LAMMPS', { skip: backendSkip('lmp', hasCommand('lmp')) }, ...)
 */
import { spawnSync } from 'node:child_process';

export function hasCommand(cmd: string, args: string[] = ['--version']): boolean {
  try {
    const r = spawnSync(cmd, args, { stdio: 'ignore', timeout: 20000 });
    return r.error === undefined;
  } catch {
    return false;
  }
}

export function hasPythonModule(module: string, python = '/usr/bin/python3'): boolean {
  const r = spawnSync(python, ['-c', `import ${module}`], { stdio: 'ignore', timeout: 60000 });
  return r.error === undefined && r.status === 0;
}

/** false when the backend is there; a skip message otherwise; throws in CI. */
export function backendSkip(name: string, available: boolean): false | string {
  if (available) return false;
  if (process.env.CI) throw new Error(`backend ${name} is missing in CI: .ci/run must install it`);
  const msg = `${name} not installed: skipped (CI installs it)`;
  process.stderr.write(`# SKIP ${msg}\n`);
  return msg;
}
