/**
 * `tunctl down NAME`: take an interface down.
 *
 * @module
 */
import * as tunctl from '../tunctl/index.js';
import type { CliOutput } from './cliOutput.js';
import { defineCommand } from './commandSpec.js';
import { EXIT, reportFailure } from './exitCodes.js';
import { expectPositionals, parseIfname, type CommandLine } from './parseCommandLine.js';

/**
 * Arguments of {@link downCommand}.
 *
 * @example
 * ```ts
 * const args: DownArgs = { name: 'tun0' };
 * ```
 */
export interface DownArgs {
  readonly name: string;
}

/**
 * `tunctl down --help`.
 *
 * @example
 * ```ts
 * printText(io, DOWN_HELP);
 * ```
 */
export const DOWN_HELP = `Usage: tunctl down NAME

Take the interface down (clear IFF_UP). Its IPv4 address stays; the kernel
removes its IPv6 addresses.

Options:
  -h, --help          show this help

Exit status: 0 done, 2 usage error, 69 no such interface,
77 no permission (needs CAP_NET_ADMIN), 1 other failure.
`;

/**
 * Parse `down`'s command line.
 *
 * @example
 * ```ts
 * parseDownArgs(parseCommandLine(['tun0'], downSpec.options)); // { name: 'tun0' }
 * ```
 */
export function parseDownArgs(line: CommandLine): DownArgs {
  expectPositionals(line.positionals, ['NAME']);
  return { name: parseIfname(line.positionals[0]!) };
}

/**
 * Take the interface down.
 *
 * @returns 0, or the exit status of the failure (reported on `io.err`).
 *
 * @example
 * ```ts
 * downCommand({ name: 'tun0' }, io);
 * ```
 */
export function downCommand(args: DownArgs, io: CliOutput): number {
  try {
    tunctl.down(args.name);
    return EXIT.OK;
  } catch (err) {
    return reportFailure('down', err, io);
  }
}

/**
 * The `down` subcommand.
 *
 * @example
 * ```ts
 * await downSpec.execute(['tun0'], io, {});
 * ```
 */
export const downSpec = defineCommand<DownArgs>({
  name: 'down',
  synopsis: 'down NAME',
  summary: 'take an interface down',
  help: DOWN_HELP,
  options: {},
  parse: parseDownArgs,
  run: downCommand,
});
