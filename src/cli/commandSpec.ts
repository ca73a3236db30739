/**
 * The shape every `tunctl` subcommand has: its help, its options, a parser from the
 * command line to typed arguments, and a function that runs it against an output sink.
 *
 * @module
 */
import type { CliOutput } from './cliOutput.js';
import { parseCommandLine, type CommandLine, type OptionSpecs } from './parseCommandLine.js';

/**
 * What a command gets besides its arguments and output.
 *
 * @example
 * ```ts
 * const ac = new AbortController();
 * process.once('SIGINT', () => ac.abort());
 * await main(['monitor', 'tun0'], stdioOutput(), { signal: ac.signal });
 * ```
 */
export interface CommandContext {
  /** Aborted on Ctrl-C (SIGINT) or SIGTERM: long-running commands (`monitor`) stop cleanly. */
  readonly signal?: AbortSignal;
}

/**
 * The definition of one subcommand, with `A` its parsed arguments.
 *
 * @example
 * ```ts
 * const def: CommandDefinition<DownArgs> = { name: 'down', synopsis: 'down NAME', summary: 'take an interface down',
 *   help: DOWN_HELP, options: {}, parse: parseDownArgs, run: downCommand };
 * ```
 */
export interface CommandDefinition<A> {
  /** The word after `tunctl`. */
  readonly name: string;
  /** One line for the top-level help, e.g. `add NAME [options]`. */
  readonly synopsis: string;
  /** What it does, in a few words. */
  readonly summary: string;
  /** The full `--help` text. */
  readonly help: string;
  /** Its options (`-h`/`--help` is added). */
  readonly options: OptionSpecs;
  /** Turn the command line into arguments; throws `UsageError` (exit 2) or `CliError`. */
  parse(line: CommandLine): A;
  /** Run it; returns the exit status (and reports its own failures on `io.err`). */
  run(args: A, io: CliOutput, ctx: CommandContext): number | Promise<number>;
}

/**
 * A subcommand as the dispatcher sees it.
 *
 * @example
 * ```ts
 * const args = downSpec.parseArgv(['tun0']); // { name: 'tun0' }
 * const code = await downSpec.execute(['tun0'], io, {});
 * ```
 */
export interface CommandSpec<A = unknown> extends CommandDefinition<A> {
  /**
   * Parse `argv` (the words after the command name): the arguments, or null when
   * `-h`/`--help` was asked for.
   */
  parseArgv(argv: readonly string[]): A | null;
  /** Parse then run; parse errors are thrown, run failures returned as exit statuses. */
  execute(argv: readonly string[], io: CliOutput, ctx: CommandContext): Promise<number>;
}

/**
 * Make a {@link CommandSpec} from a definition.
 *
 * @example
 * ```ts
 * export const downSpec = defineCommand<DownArgs>({ name: 'down', synopsis: 'down NAME', summary: 'take a device down',
 *   help: DOWN_HELP, options: {}, parse: parseDownArgs, run: downCommand });
 * ```
 */
export function defineCommand<A>(def: CommandDefinition<A>): CommandSpec<A> {
  const parseArgv = (argv: readonly string[]): A | null => {
    const line = parseCommandLine(argv, def.options);
    return line.help ? null : def.parse(line);
  };
  return {
    ...def,
    parseArgv,
    async execute(argv, io, ctx) {
      const args = parseArgv(argv);
      if (args === null) {
        printText(io, def.help);
        return 0;
      }
      return def.run(args, io, ctx);
    },
  };
}

/**
 * Write multi-line text to `io.out`, one call per line.
 *
 * @example
 * ```ts
 * printText(io, 'Usage: tunctl down NAME\n');
 * ```
 */
export function printText(io: CliOutput, text: string, to: 'out' | 'err' = 'out'): void {
  const lines = text.replace(/\n$/, '').split('\n');
  for (const line of lines) io[to](line);
}
