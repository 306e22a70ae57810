/**
 * `asla serve DIR [--port P]`: a read-only live page on 127.0.0.1 following a
 * running search (a run or an ensemble directory) until Ctrl-C.
 */
import { parseFlags } from './args.js';
import { InputError } from '../util/errors.js';
import { startLiveServer } from '../report/server.js';

export async function cmdServe(args: string[]): Promise<number> {
  const parsed = parseFlags({ args, allowPositionals: true, strict: true, options: { port: { type: 'string' } } });
  const { values, positionals } = parsed;
  if (positionals.length !== 1) throw new InputError('usage: asla serve DIR [--port P]');
  const port = values.port === undefined ? 8765 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InputError(`must be a port number 0..65535, got '${values.port}'`, '--port');
  let server;
  try {
    server = await startLiveServer({ dir: positionals[0], port });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new InputError(`port ${port} is in use: choose another with --port`, '--port');
    throw e;
  }
  process.stderr.write(`asla: serving ${positionals[0]} at ${server.url} (read-only; Ctrl-C to stop)\n`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await server.close();
  return 0;
}
