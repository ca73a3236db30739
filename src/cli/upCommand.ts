/**
 * `tunctl up NAME [ADDR[/PREFIX]...]`: bring an interface up, with addresses.
 *
 * @module
 */
import * as tunctl from '../tunctl/index.js';
import type { CliOutput } from './cliOutput.js';
import { defineCommand } from './commandSpec.js';
import { EXIT, reportFailure } from './exitCodes.js';
import { expectPositionals, parseAddressArgs, parseIfname, type AddressArg, type CommandLine } from './parseCommandLine.js';

/**
 * Arguments of {@link upCommand}.
 *
 * @example
 * ```ts
 * const args: UpArgs = { name: 'tun0', addresses: [{ address: '198.18.0.1', family: 4, prefix: undefined }] };
 * ```
 */
export interface UpArgs {
  readonly name: string;
  /** Addresses to give the interface; none just sets the link up. */
  readonly addresses: readonly AddressArg[];
}

/**
 * `tunctl up --help`.
 *
 * @example
 * ```ts
 * printText(io, UP_HELP);
 * ```
 */
export const UP_HELP = `Usage: tunctl up NAME [ADDR[/PREFIX]...]

Bring the interface up and give it the addresses listed (at most one IPv4, which
becomes its primary address and replaces the previous one; any number of IPv6).
The prefix defaults to /24 for IPv4 and /64 for IPv6, so the far end of a
two-ended tunnel is reachable through the device. With no address, only the
link goes up. An address the interface already has is not an error.

Examples:
  tunctl up tun0 198.18.0.1
  tunctl up tun0 198.18.0.1/30 fd00::1/64

Options:
  -h, --help          show this help

Exit status: 0 done, 2 usage error, 69 no such interface,
77 no permission (needs CAP_NET_ADMIN), 1 other failure.
`;

/**
 * Parse `up`'s command line.
 *
 * @example
 * ```ts
 * parseUpArgs(parseCommandLine(['tun0', '198.18.0.1/24'], upSpec.options)).addresses[0]?.prefix; // 24
 * ```
 */
export function parseUpArgs(line: CommandLine): UpArgs {
  expectPositionals(line.positionals, ['NAME'], Infinity);
  const [name, ...addresses] = line.positionals;
  return { name: parseIfname(name!), addresses: parseAddressArgs(addresses) };
}

/**
 * Give the interface its addresses and bring it up (`tunctl.up`), or only bring the
 * link up (`tunctl.link`) when no address is given.
 *
 * @returns 0, or the exit status of the failure (reported on `io.err`).
 *
 * @example
 * ```ts
 * upCommand({ name: 'tun0', addresses: [{ address: '198.18.0.1', family: 4, prefix: 24 }] }, io);
 * ```
 */
export function upCommand(args: UpArgs, io: CliOutput): number {
  try {
    if (args.addresses.length === 0) tunctl.link(args.name, true);
    for (const a of args.addresses) tunctl.up(args.name, a.address, a.prefix);
    return EXIT.OK;
  } catch (err) {
    return reportFailure('up', err, io);
  }
}

/**
 * The `up` subcommand.
 *
 * @example
 * ```ts
 * await upSpec.execute(['tun0', '198.18.0.1/24'], io, {});
 * ```
 */
export const upSpec = defineCommand<UpArgs>({
  name: 'up',
  synopsis: 'up NAME [ADDR[/PREFIX]...]',
  summary: 'bring an interface up, with addresses',
  help: UP_HELP,
  options: {},
  parse: parseUpArgs,
  run: upCommand,
});
