/**
 * Where the `tunctl` command writes: a line-oriented sink, so commands can be called
 * (and tested) without spawning a process.
 *
 * @module
 */

/**
 * An output sink for the CLI commands: `out` for results (stdout), `err` for messages
 * (stderr). Each call is one line, written without its trailing newline.
 *
 * @example
 * ```ts
 * const io: CliOutput = { out: (l) => console.log(l), err: (l) => console.error(l), isTTY: false };
 * ```
 */
export interface CliOutput {
  /** Write one line of results. */
  out(line: string): void;
  /** Write one line of diagnostics. */
  err(line: string): void;
  /** True when `out` goes to a terminal (`monitor` then redraws in place). */
  readonly isTTY?: boolean;
}

/**
 * The process's stdout and stderr as a {@link CliOutput}.
 *
 * @example
 * ```ts
 * const code = await main(process.argv.slice(2), stdioOutput());
 * ```
 */
export function stdioOutput(): CliOutput {
  return {
    out: (line) => void process.stdout.write(`${line}\n`),
    err: (line) => void process.stderr.write(`${line}\n`),
    isTTY: process.stdout.isTTY === true,
  };
}

/**
 * A {@link CliOutput} that keeps what was written, for tests.
 *
 * @example
 * ```ts
 * const io: MemoryOutput = memoryOutput();
 * await main(['--help'], io);
 * io.stdout[0]; // 'Usage: tunctl <command> [options]'
 * ```
 */
export interface MemoryOutput extends CliOutput {
  readonly stdout: string[];
  readonly stderr: string[];
}

/**
 * A {@link CliOutput} that records lines in arrays instead of writing them.
 *
 * @example
 * ```ts
 * const io = memoryOutput();
 * await main(['--version'], io);
 * io.stdout; // ['0.1.0']
 * ```
 */
export function memoryOutput(isTTY = false): MemoryOutput {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, isTTY, out: (l) => void stdout.push(l), err: (l) => void stderr.push(l) };
}
