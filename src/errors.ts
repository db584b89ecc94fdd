/**
 * Errors a user can cause carry a code, a one-line message that names the bad value and the fix,
 * and the exit code the CLI should use. Anything else is a bug and prints its stack under --debug.
 */
/** Marks perfmon's errors by a registered symbol rather than by class: the CLI's bundle and the
 *  bundles `watch` and `serve` load each carry their own copy of this class. */
const BRAND = Symbol.for('perfmon.PerfmonError');

export class PerfmonError extends Error {
  override readonly name = 'PerfmonError';
  readonly [BRAND] = true;
  constructor(
    readonly code: string,
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

export function isPerfmonError(e: unknown): e is PerfmonError {
  return typeof e === 'object' && e !== null && (e as { [BRAND]?: unknown })[BRAND] === true;
}
