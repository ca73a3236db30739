/**
 * `tunctl addr [add] NAME ADDR[/PREFIX] [peer PEER]... [--nodad]` and
 * `tunctl addr del NAME ADDR[/PREFIX]...`: add or remove interface addresses (rtnetlink).
 *
 * @module
 */
import * as tunctl from '../tunctl/index.js';
import { UsageError } from './cliError.js';
import type { CliOutput } from './cliOutput.js';
import { defineCommand } from './commandSpec.js';
import { EXIT, reportFailure } from './exitCodes.js';
import { booleanOption, expectPositionals, parseAddressArg, parseIfname, type AddressArg, type CommandLine } from './parseCommandLine.js';

/**
 * One address of `tunctl addr`, with its point-to-point peer.
 *
 * @example
 * ```ts
 * const a: AddrItem = { address: 'fd00::1', family: 6, prefix: 128, peer: 'fd00::2' };
 * ```
 */
export interface AddrItem extends AddressArg {
  readonly peer: string | undefined;
}

/**
 * Arguments of {@link addrCommand}.
 *
 * @example
 * ```ts
 * const args: AddrArgs = { op: 'add', name: 'tun0', addresses: [{ address: 'fd00::1', family: 6, prefix: 64, peer: undefined }], nodad: false };
 * ```
 */
export interface AddrArgs {
  readonly op: 'add' | 'del';
  readonly name: string;
  readonly addresses: readonly AddrItem[];
  /** IPv6: skip duplicate-address detection. */
  readonly nodad: boolean;
}

/**
 * `tunctl addr --help`.
 *
 * @example
 * ```ts
 * printText(io, ADDR_HELP);
 * ```
 */
export const ADDR_HELP = `Usage: tunctl addr [add] NAME ADDR[/PREFIX] [peer PEER]... [--nodad]
       tunctl addr del NAME ADDR[/PREFIX]...

Add addresses to an interface, keeping those it has: IPv4 and IPv6, any number
of each (run it again for more). The prefix defaults to /24 for IPv4 and /64
for IPv6. 'peer PEER' after an address makes it point-to-point: PEER is the
far end (same family) and the prefix applies to it. The link may be down:
nothing is brought up, and the addresses are there when it comes up.

'addr del' removes addresses; without a prefix, whatever prefix the address has.
(An interface called 'add' or 'del' needs the explicit 'addr add NAME ...'.)

Addresses are checked before anything is changed; they are then added in order,
and a failure stops there (the ones before it stay).

IPv6 needs an MTU of at least 1280: on a link below that, adding an IPv6 address
fails and says so.

Examples:
  tunctl addr tun0 198.18.0.1/24 198.18.1.1/24 fd00::1/64
  tunctl addr tun0 fd00::1/128 peer fd00::2
  tunctl addr del tun0 198.18.1.1

Options:
  --nodad             IPv6: skip duplicate-address detection (usable at once)
  -h, --help          show this help

Exit status: 0 done, 2 usage error, 69 no such interface, 73 the address is
there already (EEXIST), 77 no permission (needs CAP_NET_ADMIN), 1 other failure
(such as removing an address the interface does not have).
`;

/**
 * Parse `addr`'s command line.
 *
 * @example
 * ```ts
 * parseAddrArgs(parseCommandLine(['del', 'tun0', 'fd00::1'], addrSpec.options)).op; // 'del'
 * ```
 */
export function parseAddrArgs(line: CommandLine): AddrArgs {
  const words = [...line.positionals];
  const op = words[0] === 'add' || words[0] === 'del' ? (words.shift() as 'add' | 'del') : 'add';
  expectPositionals(words, ['NAME', 'ADDR'], Infinity);
  const name = parseIfname(words.shift()!);
  const addresses: AddrItem[] = [];
  while (words.length > 0) {
    const a = parseAddressArg(words.shift()!);
    let peer: string | undefined;
    if (words[0] === 'peer') {
      if (op === 'del') throw new UsageError("'peer' is for adding; 'addr del' finds the address by its own address");
      words.shift();
      const text = words.shift();
      if (text === undefined) throw new UsageError(`missing PEER after 'peer'`);
      const p = parseAddressArg(text);
      if (p.prefix !== undefined) throw new UsageError(`PEER ${JSON.stringify(text)} takes no prefix: give it on the address (${a.address}/${p.prefix})`);
      if (p.family !== a.family) throw new UsageError(`PEER ${JSON.stringify(text)} is IPv${p.family}, but ${a.address} is IPv${a.family}`);
      peer = p.address;
    }
    addresses.push({ ...a, peer });
  }
  return { op, name, addresses, nodad: booleanOption(line.values, 'nodad') };
}

/**
 * Add the addresses (`tunctl.addAddress`) or remove them (`tunctl.removeAddress`), in order.
 *
 * @returns 0, or the exit status of the failure (reported on `io.err`).
 *
 * @example
 * ```ts
 * addrCommand({ op: 'del', name: 'tun0', addresses: [{ address: 'fd00::1', family: 6, prefix: 64, peer: undefined }], nodad: false }, io);
 * ```
 */
export function addrCommand(args: AddrArgs, io: CliOutput): number {
  try {
    for (const a of args.addresses) {
      const cidr = a.prefix === undefined ? a.address : `${a.address}/${a.prefix}`;
      if (args.op === 'del') tunctl.removeAddress(args.name, a.address, a.prefix);
      else tunctl.addAddress(args.name, cidr, { ...(a.peer === undefined ? {} : { peer: a.peer }), ...(args.nodad ? { nodad: true } : {}) });
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
  synopsis: 'addr [add|del] NAME ADDR[/PREFIX]...',
  summary: 'add or remove addresses (any number)',
  help: ADDR_HELP,
  options: { nodad: { type: 'boolean' } },
  parse: parseAddrArgs,
  run: addrCommand,
});
