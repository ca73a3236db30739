/**
 * `tunctl addr NAME ADDR[/PREFIX]... [--del]`: add or remove interface addresses.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { loadNative } from '../native/binding.js';
import { formatIp, parseIp } from '../packet/ipAddress.js';
import * as tunctl from '../tunctl/index.js';
import type { CliOutput } from './cliOutput.js';
import { defineCommand } from './commandSpec.js';
import { EXIT, reportFailure } from './exitCodes.js';
import { booleanOption, expectPositionals, parseAddressArgs, parseIfname, type AddressArg, type CommandLine } from './parseCommandLine.js';
import { parseIfInet6 } from './readTunDevice.js';

/**
 * Arguments of {@link addrCommand}.
 *
 * @example
 * ```ts
 * const args: AddrArgs = { name: 'tun0', addresses: [{ address: 'fd00::1', family: 6, prefix: 64 }], del: false };
 * ```
 */
export interface AddrArgs {
  readonly name: string;
  readonly addresses: readonly AddressArg[];
  /** Remove the addresses instead of adding them. */
  readonly del: boolean;
}

/**
 * `tunctl addr --help`.
 *
 * @example
 * ```ts
 * printText(io, ADDR_HELP);
 * ```
 */
export const ADDR_HELP = `Usage: tunctl addr NAME ADDR[/PREFIX]... [--del]

Add addresses to an interface (at most one IPv4: it becomes the primary address
and replaces the previous one), or remove them with --del. The prefix defaults
to /24 for IPv4 and /64 for IPv6; with --del and no prefix, an IPv6 address is
removed with the prefix it has.

Unlike 'up', adding an IPv4 address leaves a down link down. An IPv6 address
needs an up link (the kernel drops IPv6 addresses when a link goes down), so
adding one brings the link up, with a note on stderr.

Options:
  --del               remove the addresses
  -h, --help          show this help

Exit status: 0 done, 2 usage error, 69 no such interface,
77 no permission (needs CAP_NET_ADMIN), 1 other failure (such as removing an
address the interface does not have).
`;

/**
 * Parse `addr`'s command line.
 *
 * @example
 * ```ts
 * parseAddrArgs(parseCommandLine(['tun0', 'fd00::1', '--del'], addrSpec.options)).del; // true
 * ```
 */
export function parseAddrArgs(line: CommandLine): AddrArgs {
  expectPositionals(line.positionals, ['NAME', 'ADDR'], Infinity);
  const [name, ...addresses] = line.positionals;
  return { name: parseIfname(name!), addresses: parseAddressArgs(addresses), del: booleanOption(line.values, 'del') };
}

function currentPrefix6(name: string, address: string): number | undefined {
  try {
    const want = formatIp(parseIp(address).bytes);
    return parseIfInet6(readFileSync('/proc/self/net/if_inet6', 'utf8'), name).find((a) => a.address === want)?.prefix;
  } catch {
    return undefined;
  }
}

/**
 * Add the addresses (`tunctl.up`, putting a down link back down after an IPv4-only
 * change) or remove them (`tunctl.removeAddress`).
 *
 * @returns 0, or the exit status of the failure (reported on `io.err`).
 *
 * @example
 * ```ts
 * addrCommand({ name: 'tun0', addresses: [{ address: 'fd00::1', family: 6, prefix: 64 }], del: true }, io);
 * ```
 */
export function addrCommand(args: AddrArgs, io: CliOutput): number {
  try {
    if (args.del) {
      for (const a of args.addresses) {
        const prefix = a.prefix ?? (a.family === 6 ? currentPrefix6(args.name, a.address) : undefined);
        tunctl.removeAddress(args.name, a.address, prefix);
      }
      return EXIT.OK;
    }
    const wasUp = (tunctl.ifFlags(args.name) & loadNative().constants.IFF_UP) !== 0;
    for (const a of args.addresses) tunctl.up(args.name, a.address, a.prefix);
    if (!wasUp) {
      if (args.addresses.some((a) => a.family === 6)) {
        io.err(`tunctl: addr: note: ${args.name} is now up (an IPv6 address needs an up link)`);
      } else {
        tunctl.down(args.name);
      }
    }
    return EXIT.OK;
  } catch (err) {
    return reportFailure('addr', err, io);
  }
}

/**
 * The `addr` subcommand.
 *
 * @example
 * ```ts
 * await addrSpec.execute(['tun0', '198.18.0.1/24'], io, {});
 * ```
 */
export const addrSpec = defineCommand<AddrArgs>({
  name: 'addr',
  synopsis: 'addr NAME ADDR[/PREFIX]... [--del]',
  summary: 'add or remove addresses',
  help: ADDR_HELP,
  options: { del: { type: 'boolean' } },
  parse: parseAddrArgs,
  run: addrCommand,
});
