/**
 * `tunctl show [NAME] [--json]`: list TUN/TAP devices and their configuration.
 *
 * @module
 */
import type { CliOutput } from './cliOutput.js';
import { CliError } from './cliError.js';
import { defineCommand } from './commandSpec.js';
import { EXIT, reportFailure } from './exitCodes.js';
import { formatTable } from './format.js';
import { booleanOption, expectPositionals, parseIfname, type CommandLine } from './parseCommandLine.js';
import { isNoDevice, listTunDevices, readTunDevice, type TunDeviceInfo } from './readTunDevice.js';
import { idName } from './resolveId.js';

/**
 * Arguments of {@link showCommand}.
 *
 * @example
 * ```ts
 * const args: ShowArgs = { name: undefined, json: true };
 * ```
 */
export interface ShowArgs {
  /** One device, or all TUN/TAP devices when undefined. */
  readonly name: string | undefined;
  readonly json: boolean;
}

/**
 * `tunctl show --help`.
 *
 * @example
 * ```ts
 * printText(io, SHOW_HELP);
 * ```
 */
export const SHOW_HELP = `Usage: tunctl show [NAME] [--json]

List the TUN/TAP devices of this network namespace, or only NAME: mode, flags
(pi, vnet_hdr, multi_queue), owner, group, persistence, MTU, MAC (taps), state
and every address (IPv4 and IPv6, with point-to-point peers shown as
LOCAL->PEER/PREFIX). Needs no privileges.

State: 'up', 'down', or 'up,no-carrier' (up, but no process has the device open).

Everything comes from the kernel over rtnetlink, as 'ip -d link' and 'ip addr'
read it (the tun driver reports its own mode, flags, owner and group there), so
it is always this network namespace's view; nothing is read from sysfs or procfs.

Options:
  --json              print a JSON array, one object per device
  -h, --help          show this help

Exit status: 0 done, 2 usage error, 69 NAME is not a TUN/TAP device, 1 other.
`;

/**
 * Parse `show`'s command line.
 *
 * @example
 * ```ts
 * parseShowArgs(parseCommandLine(['--json'], showSpec.options)); // { name: undefined, json: true }
 * ```
 */
export function parseShowArgs(line: CommandLine): ShowArgs {
  expectPositionals(line.positionals, [], 1);
  const name = line.positionals[0];
  return { name: name === undefined ? undefined : parseIfname(name), json: booleanOption(line.values, 'json') };
}

/**
 * The JSON form of one device in `tunctl show --json`.
 *
 * @example
 * ```ts
 * const devices = JSON.parse(stdout) as ShowJson[]; // from `tunctl show --json`
 * devices.filter((d) => d.persist).map((d) => d.name);
 * ```
 */
export interface ShowJson {
  name: string;
  mode: 'tun' | 'tap';
  /** The sysfs `tun_flags` word, as hex text (`'0x1001'`). */
  tunFlags: string;
  flags: { pi: boolean; vnetHdr: boolean; multiQueue: boolean };
  persist: boolean;
  owner: number | null;
  ownerName: string | null;
  group: number | null;
  groupName: string | null;
  mtu: number;
  mac: string | null;
  state: 'up' | 'down';
  carrier: boolean;
  /** Addresses; `peer` only on a point-to-point address. */
  ipv4: { address: string; prefix: number; peer?: string }[];
  ipv6: { address: string; prefix: number; peer?: string }[];
}

/**
 * The JSON form of a device.
 *
 * @example
 * ```ts
 * JSON.stringify(showJson(readTunDevice('tun0')));
 * ```
 */
export function showJson(d: TunDeviceInfo): ShowJson {
  return {
    name: d.name,
    mode: d.mode,
    tunFlags: `0x${d.tunFlags.toString(16)}`,
    flags: { pi: d.pi, vnetHdr: d.vnetHdr, multiQueue: d.multiQueue },
    persist: d.persist,
    owner: d.owner,
    ownerName: d.owner === null ? null : idName('user', d.owner),
    group: d.group,
    groupName: d.group === null ? null : idName('group', d.group),
    mtu: d.mtu,
    mac: d.mac,
    state: d.up ? 'up' : 'down',
    carrier: d.running,
    ipv4: d.ipv4.map((a) => ({ ...a })),
    ipv6: d.ipv6.map((a) => ({ ...a })),
  };
}

function idCell(id: number | null, name: string | null): string {
  if (id === null) return '-';
  return name === null ? String(id) : `${id}(${name})`;
}

/**
 * The aligned text table of `tunctl show`.
 *
 * @example
 * ```ts
 * showTable([showJson(readTunDevice('tun0'))]).forEach((l) => console.log(l));
 * ```
 */
export function showTable(devices: readonly ShowJson[]): string[] {
  const rows = [['NAME', 'MODE', 'FLAGS', 'OWNER', 'GROUP', 'PERSIST', 'MTU', 'MAC', 'STATE', 'ADDRESSES']];
  for (const d of devices) {
    const flags = [d.flags.pi ? 'pi' : '', d.flags.vnetHdr ? 'vnet_hdr' : '', d.flags.multiQueue ? 'multi_queue' : ''].filter(Boolean);
    const addrs = [...d.ipv4, ...d.ipv6].map((a) => (a.peer === undefined ? `${a.address}/${a.prefix}` : `${a.address}->${a.peer}/${a.prefix}`));
    rows.push([
      d.name,
      d.mode,
      flags.length > 0 ? flags.join(',') : '-',
      idCell(d.owner, d.ownerName),
      idCell(d.group, d.groupName),
      d.persist ? 'yes' : 'no',
      String(d.mtu),
      d.mac ?? '-',
      d.state === 'down' ? 'down' : d.carrier ? 'up' : 'up,no-carrier',
      addrs.length > 0 ? addrs.join(' ') : '-',
    ]);
  }
  return formatTable(rows);
}

/**
 * Print the TUN/TAP devices (or one) as a table or JSON.
 *
 * @returns 0, or the exit status of the failure (reported on `io.err`).
 *
 * @example
 * ```ts
 * showCommand({ name: undefined, json: true }, io);
 * ```
 */
export function showCommand(args: ShowArgs, io: CliOutput): number {
  try {
    const devices: ShowJson[] = [];
    for (const name of args.name === undefined ? listTunDevices() : [args.name]) {
      try {
        devices.push(showJson(readTunDevice(name)));
      } catch (err) {
        // Listing everything: a device removed meanwhile is skipped.
        if (args.name !== undefined || !(isNoDevice(err) || err instanceof CliError)) throw err;
      }
    }
    if (args.json) io.out(JSON.stringify(devices, null, 2));
    else if (devices.length > 0) for (const line of showTable(devices)) io.out(line);
    return EXIT.OK;
  } catch (err) {
    return reportFailure('show', err, io);
  }
}

/**
 * The `show` subcommand.
 *
 * @example
 * ```ts
 * await showSpec.execute(['--json'], io, {});
 * ```
 */
export const showSpec = defineCommand<ShowArgs>({
  name: 'show',
  synopsis: 'show [NAME] [--json]',
  summary: 'list TUN/TAP devices',
  help: SHOW_HELP,
  options: { json: { type: 'boolean' } },
  parse: parseShowArgs,
  run: showCommand,
});
