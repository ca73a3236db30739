/**
 * `tunctl add NAME`: create a persistent TUN/TAP device, like `ip tuntap add`; or, with
 * `--send-fd`, the privileged helper's side of fd passing: create and configure a device
 * and hand its fd to an unprivileged process listening on a Unix socket.
 *
 * @module
 */
import * as tunctl from '../tunctl/index.js';
import type { TunMode } from '../tunctl/create.js';
import { CliError, UsageError } from './cliError.js';
import type { CliOutput } from './cliOutput.js';
import { defineCommand } from './commandSpec.js';
import { EXIT, reportFailure } from './exitCodes.js';
import {
  booleanOption, expectPositionals, parseAddressArgs, parseIfname, stringOption, type AddressArg, type CommandLine,
} from './parseCommandLine.js';
import { interfaceExists } from './readTunDevice.js';
import { resolveId } from './resolveId.js';

/**
 * Arguments of {@link addCommand}.
 *
 * @example
 * ```ts
 * const args: AddArgs = { name: 'tun0', mode: 'tun', user: 1000, group: undefined, pi: false, vnetHdr: false, multiQueue: false,
 *   addresses: [], sendFd: undefined, persist: false };
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
  /** Addresses to give it (which brings the link up). */
  readonly addresses: readonly AddressArg[];
  /** Hand the fd to the process listening on this Unix socket (`tunctl.receiveFd`) instead of persisting. */
  readonly sendFd: string | undefined;
  /** `--persist`: with `sendFd`, keep the device after the receiver closes it (without, 'add' always persists). */
  readonly persist: boolean;
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
       tunctl add NAME --mode tun --addr 198.18.0.1/24 --send-fd SOCKET

Create a TUN/TAP device and leave it behind: 'add' makes the device persistent
(IFF_PERSIST), since this process exits right after creating it.
Prints the device's name (useful with a template such as 'tun%d').
Remove it with 'tunctl del NAME'.

With --send-fd, 'add' is a privileged helper for an unprivileged service: it
creates and configures the device, then passes its open fd (SCM_RIGHTS) to the
process listening on the Unix socket SOCKET (tunctl.receiveFd), which then reads
and writes packets with no capability. The device is not persistent then: it
lives while that process holds the fd (add --persist to keep it anyway).

Options:
  --mode tun|tap      tun: IP packets (layer 3); tap: Ethernet frames (default: tap)
  --user USER         user (name or uid) that may attach without CAP_NET_ADMIN
  --group GROUP       group (name or gid) that may attach without CAP_NET_ADMIN
                      (names are looked up in /etc/passwd and /etc/group only)
  --pi                keep the 4-byte packet-information header on each packet
                      (default: none, IFF_NO_PI)
  --vnet-hdr          prefix each packet with a virtio_net_hdr (IFF_VNET_HDR)
  --multi-queue       a multi-queue device (IFF_MULTI_QUEUE)
  --addr ADDR[/P],... addresses to give it, comma-separated (at most one IPv4);
                      brings the link up
  --send-fd SOCKET    pass the device's fd to the process listening on SOCKET
  --persist           keep the device after --send-fd's receiver closes it
                      (without --send-fd, 'add' always persists)
  -h, --help          show this help

The owner and group cannot be cleared again (a kernel limit); delete and re-add.

Exit status: 0 created (and, with --send-fd, taken by the receiver), 2 usage
error, 67 unknown user/group, 69 nobody listens on SOCKET, 73 NAME exists,
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
  addr: { type: 'string' },
  'send-fd': { type: 'string' },
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
  const addr = stringOption(values, 'addr');
  const sendFd = stringOption(values, 'send-fd');
  if (sendFd !== undefined && (sendFd === '' || Buffer.byteLength(sendFd) > 107)) {
    throw new UsageError(`--send-fd must be a Unix socket path of 1 to 107 bytes, got ${JSON.stringify(sendFd)}`);
  }
  return {
    name,
    mode,
    user: user === undefined ? undefined : resolveId('user', user),
    group: group === undefined ? undefined : resolveId('group', group),
    pi: booleanOption(values, 'pi'),
    vnetHdr: booleanOption(values, 'vnet-hdr'),
    multiQueue: booleanOption(values, 'multi-queue'),
    addresses: addr === undefined ? [] : parseAddressArgs(addr.split(',')),
    sendFd,
    persist: booleanOption(values, 'persist'),
  };
}

/**
 * Create a device with the owner, group and addresses asked for; then make it persistent,
 * or pass its fd to the receiver at `args.sendFd`; then close it. Prints the device name
 * on `io.out`. A failure at any step leaves no device behind.
 *
 * @returns 0, or the exit status of the failure (reported on `io.err`).
 *
 * @example
 * ```ts
 * await addCommand({ name: 'tun0', mode: 'tun', user: 1000, group: undefined, pi: false, vnetHdr: false, multiQueue: false,
 *   addresses: [], sendFd: undefined, persist: false }, io);
 * ```
 */
export async function addCommand(args: AddArgs, io: CliOutput): Promise<number> {
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
      for (const a of args.addresses) tunctl.up(name, a.address, a.prefix);
      // Last: a failure before it leaves no device behind.
      if (args.sendFd === undefined || args.persist) tunctl.persist(fd, true);
      if (args.sendFd !== undefined) await tunctl.sendFd(args.sendFd, fd, { name });
    } catch (err) {
      // Not handed over: a device persisted for the receiver goes with our fd.
      if (args.sendFd !== undefined && args.persist) {
        try {
          tunctl.persist(fd, false);
        } catch {
          /* report the first failure */
        }
      }
      throw err;
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
  synopsis: 'add NAME [--mode tun|tap] [--user U] [--group G] [--send-fd SOCK]',
  summary: 'create a persistent TUN/TAP device',
  help: ADD_HELP,
  options: OPTIONS,
  parse: parseAddArgs,
  run: addCommand,
});
