/**
 * Errors the CLI raises itself, each carrying the exit status it stands for.
 *
 * @module
 */

/**
 * A failure found by the CLI (not a system call) with the exit status to report:
 * see `EXIT` in `exitCodes.ts`.
 *
 * @example
 * ```ts
 * throw new CliError('lo is not a TUN/TAP device', EXIT.UNAVAILABLE);
 * ```
 */
export class CliError extends Error {
  /** The process exit status this error maps to. */
  readonly exitCode: number;

  constructor(message: string, exitCode: number) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

/**
 * A bad command line: unknown option, missing or malformed argument. Exit status 2.
 *
 * @example
 * ```ts
 * throw new UsageError('missing NAME');
 * ```
 */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, 2);
    this.name = 'UsageError';
  }
}
