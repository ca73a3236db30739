/**
 * `tunctl add NAME`: create a persistent TUN/TAP device, like `ip tuntap add`.
 *
 * @module
 */
import * as tunctl from '../tunctl/index.js';
import type { TunMode } from '../tunctl/create.js';
import { CliError, UsageError } from './cliError.js';
import type { CliOutput } from './cliOutput.js';
import { defineCommand } from './commandSpec.js';
import { EXIT, reportFailure } from './exitCodes.js';
import { booleanOption, expectPositionals, parseIfname, stringOption, type CommandLine } from './parseCommandLine.js';
import { interfaceExists } from './readTunDevice.js';
import { resolveId } from './resolveId.js';

/**
 * Arguments of {@link addCommand}.
 *
 * @example
 * ```ts
 * const args: AddArgs = { name: 'tun0', mode: 'tun', user: 1000, group: undefined, pi: false, vnetHdr: false, multiQueue: false };
 * ```
 */
export interface AddArgs {
  /** The device name; `%d` lets the kernel number it (`tun%d`). */
  readonly name: string;
  readonly mode: TunMode;
  /** uid allowed to attach without CAP_NET_ADMIN. */
  readonly user: number | undefined;
  /** gid allowed to attach without CAP_NET_ADMIN. */
  readonly group: number | undefined;
  /** Keep the 4-byte packet-information header (IFF_NO_PI off). */
  readonly pi: boolean;
  readonly vnetHdr: boolean;
  readonly multiQueue: boolean;
}

/**
 * `tunctl add --help`.
 *
 * @example
 * ```ts
 * printText(io, ADD_HELP);
 * ```
 */
export const ADD_HELP = `Usage: tunctl add NAME [--mode tun|tap] [--user USER] [--group GROUP] [options]

Create a TUN/TAP device and leave it behind: 'add' always makes the device
persistent (IFF_PERSIST), since this process exits right after creating it.
Prints the device's name (useful with a template such as 'tun%d').
Remove it with 'tunctl del NAME'.

Options:
  --mode tun|tap      tun: IP packets (layer 3); tap: Ethernet frames (default: tap)
  --user USER         user (name or uid) that may attach without CAP_NET_ADMIN
  --group GROUP       group (name or gid) that may attach without CAP_NET_ADMIN
                      (names are looked up in /etc/passwd and /etc/group only)
  --pi                keep the 4-byte packet-information header on each packet
                      (default: none, IFF_NO_PI)
  --vnet-hdr          prefix each packet with a virtio_net_hdr (IFF_VNET_HDR)
  --multi-queue       a multi-queue device (IFF_MULTI_QUEUE)
  --persist           accepted for compatibility: 'add' always persists
  -h, --help          show this help

The owner and group cannot be cleared again (a kernel limit); delete and re-add.

Exit status: 0 created, 2 usage error, 67 unknown user/group, 73 NAME exists,
77 no permission (needs CAP_NET_ADMIN), 1 other failure.
`;

const OPTIONS = {
  mode: { type: 'string' },
  user: { type: 'string' },
  group: { type: 'string' },
  pi: { type: 'boolean' },
  'vnet-hdr': { type: 'boolean' },
  'multi-queue': { type: 'boolean' },
  persist: { type: 'boolean' },
} as const;

/**
 * Parse `add`'s command line, resolving user and group names.
 *
 * @throws UsageError for bad arguments; CliError (exit 67) for unknown names.
 *
 * @example
 * ```ts
 * parseAddArgs(parseCommandLine(['tun0', '--mode', 'tun'], addSpec.options)).mode; // 'tun'
 * ```
 */
export function parseAddArgs(line: CommandLine): AddArgs {
  const { values, positionals } = line;
  expectPositionals(positionals, ['NAME']);
  const name = parseIfname(positionals[0]!, true);
  const mode = stringOption(values, 'mode') ?? 'tap';
  if (mode !== 'tun' && mode !== 'tap') throw new UsageError(`--mode must be 'tun' or 'tap', got ${JSON.stringify(mode)}`);
  const user = stringOption(values, 'user');
  const group = stringOption(values, 'group');
  return {
    name,
    mode,
    user: user === undefined ? undefined : resolveId('user', user),
    group: group === undefined ? undefined : resolveId('group', group),
    pi: booleanOption(values, 'pi'),
    vnetHdr: booleanOption(values, 'vnet-hdr'),
    multiQueue: booleanOption(values, 'multi-queue'),
  };
}

/**
 * Create a persistent device with the owner and group asked for, then close it.
 * Prints the device name on `io.out`.
 *
 * @returns 0, or the exit status of the failure (reported on `io.err`).
 *
 * @example
 * ```ts
 * addCommand({ name: 'tun0', mode: 'tun', user: 1000, group: undefined, pi: false, vnetHdr: false, multiQueue: false }, io);
 * ```
 */
export function addCommand(args: AddArgs, io: CliOutput): number {
  try {
    if (!args.name.includes('%') && interfaceExists(args.name)) {
      throw new CliError(`${args.name} already exists (remove it with 'tunctl del ${args.name}', or choose another name)`, EXIT.CANTCREAT);
    }
    const { fd, name } = tunctl.create(args.name, {
      mode: args.mode,
      noPi: !args.pi,
      vnetHdr: args.vnetHdr,
      multiQueue: args.multiQueue,
      exclusive: true,
    });
    try {
      if (args.user !== undefined) tunctl.owner(fd, args.user);
      if (args.group !== undefined) tunctl.group(fd, args.group);
      tunctl.persist(fd, true); // last: a failure before it leaves no device behind
    } finally {
      tunctl.close(fd);
    }
    io.out(name);
    return EXIT.OK;
  } catch (err) {
    return reportFailure('add', err, io);
  }
}

/**
 * The `add` subcommand.
 *
 * @example
 * ```ts
 * await addSpec.execute(['tun0', '--mode', 'tun'], io, {});
 * ```
 */
export const addSpec = defineCommand<AddArgs>({
  name: 'add',
  synopsis: 'add NAME [--mode tun|tap] [--user U] [--group G]',
  summary: 'create a persistent TUN/TAP device',
  help: ADD_HELP,
  options: OPTIONS,
  parse: parseAddArgs,
  run: addCommand,
});
