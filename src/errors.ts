/**
 * Errors a user can cause carry a code, a one-line message that names the bad value and the fix,
 * and the exit code the CLI should use. Anything else is a bug and prints its stack under --debug.
 */
export class PerfmonError extends Error {
  override readonly name = 'PerfmonError';
  constructor(
    readonly code: string,
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

export function isPerfmonError(e: unknown): e is PerfmonError {
  return e instanceof PerfmonError;
}
