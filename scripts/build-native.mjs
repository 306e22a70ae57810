#!/usr/bin/env node
/**
 * Builds the optional native kernels of the network engine (native/asla_kernels.c:
 * channel products, FFT stages, 2-D transforms) into build/asla_kernels.node
 * with the machine's C compiler and Node's own headers.
 * Run by `npm install` / `npm ci` (the package's install script) and by hand:
 *   node scripts/build-native.mjs [--require]
 * Without a compiler or headers it prints one line and exits 0: the TypeScript
 * kernels are used instead (the same results bit for bit, about 2.7× slower
 * training). -ffp-contract=off keeps the compiler from fusing multiply-adds,
 * which would round differently from TypeScript.
 * --require (CI): exit 1 when the build fails. ASLA_NATIVE=0 skips the build.
 * CC picks the compiler (default: cc, then gcc, then clang).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const required = process.argv.includes('--require');
const source = join(root, 'native', 'asla_kernels.c');
const target = join(root, 'build', 'asla_kernels.node');

function done(message, ok) {
  process.stderr.write(`asla: ${message}\n`);
  process.exit(ok || !required ? 0 : 1);
}

if (process.env.ASLA_NATIVE === '0') done('ASLA_NATIVE=0: native kernels not built; the TypeScript kernels will be used', !required);
if (process.platform === 'win32') done('native kernels are not built on Windows; the TypeScript kernels will be used', false);
if (!existsSync(source)) done(`native kernels not built: ${source} is missing`, false);

const headerDirs = [join(dirname(process.execPath), '..', 'include', 'node')];
if (process.env.npm_config_nodedir) headerDirs.push(join(process.env.npm_config_nodedir, 'include', 'node'));
const include = headerDirs.find((d) => existsSync(join(d, 'node_api.h')));
if (!include) done(`native kernels not built: node_api.h not found in ${headerDirs.join(', ')}; the TypeScript kernels will be used`, false);

function works(cc) {
  try {
    execFileSync(cc, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const cc = [process.env.CC, 'cc', 'gcc', 'clang'].find((c) => c && works(c));
if (!cc) done('native kernels not built: no C compiler (cc, gcc, clang; or set CC); the TypeScript kernels will be used', false);

// the module carries a hash of its sources; src/nn/native.ts computes the same
// and refuses a module built from other sources (a checkout updated without
// rebuilding), falling back to the TypeScript kernels with a message
const hash = createHash('sha256');
for (const name of readdirSync(join(root, 'native')).sort()) hash.update(name + '\0').update(readFileSync(join(root, 'native', name)));
const sourceHash = hash.digest('hex');

mkdirSync(dirname(target), { recursive: true });
const temp = `${target}.${process.pid}.tmp`;
const flags = ['-std=c11', '-O3', '-ffp-contract=off', '-fPIC', '-shared', '-Wall', `-I${include}`, `-DASLA_SOURCE_HASH="${sourceHash}"`, '-o', temp, source];
if (process.platform === 'darwin') flags.unshift('-undefined', 'dynamic_lookup');
try {
  execFileSync(cc, flags, { stdio: ['ignore', 'ignore', 'pipe'] });
  renameSync(temp, target); // never leave a half-written module behind
} catch (e) {
  rmSync(temp, { force: true });
  const detail = String(e.stderr ?? e.message).trim().split('\n')[0];
  done(`native kernels not built (${cc}: ${detail}); the TypeScript kernels will be used`, false);
}
done(`native kernels built: ${target}`, true);
