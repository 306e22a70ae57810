/**
 * Errors a user can act on. The CLI prints `message` as one line, exits non-zero
 * and never shows a stack trace for these (see src/cli). `where` names the file,
 * field or line that is at fault, e.g. "graphene.yaml: field 'epsilon'" or
 * "frames.extxyz:12".
 */
export class InputError extends Error {
  constructor(message: string, readonly where?: string) {
    super(where ? `${where}: ${message}` : message);
    this.name = 'InputError';
  }
}

/** True for errors that should be reported as one line without a stack trace. */
export function isUserFacing(e: unknown): e is Error {
  return e instanceof InputError || (e instanceof Error && (e as { userFacing?: boolean }).userFacing === true);
}
