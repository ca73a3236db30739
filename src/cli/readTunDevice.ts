/**
 * What `tunctl show` and friends know of a TUN/TAP device, gathered without running any
 * program: sysfs (`/sys/class/net/NAME/tun_flags`, `owner`, `group`, `mtu`, `address`),
 * interface ioctls (flags, primary IPv4 address) and procfs (`/proc/self/net/if_inet6`).
 *
 * Limits:
 * - sysfs shows the devices of the network namespace it was mounted in. Inside another
 *   namespace, mount sysfs again (as `ip netns exec` and `npm test` do); a device seen by
 *   ioctl but not in sysfs (or with another ifindex there) is reported as such.
 * - IPv4: the interface ioctls see only the primary address; the others (added with
 *   `ip addr add`) come from `os.networkInterfaces()`, which lists an interface only
 *   while it is up and running (for a tun/tap: while a reader is attached).
 * - IPv6 addresses come from `/proc/self/net/if_inet6`, which lists them all; the kernel
 *   removes them when the link goes down.
 *
 * @module
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { loadNative } from '../native/binding.js';
import { TunError } from '../native/tunError.js';
import { formatIp } from '../packet/ipAddress.js';
import * as tunctl from '../tunctl/index.js';
import type { CreateOptions, TunMode } from '../tunctl/create.js';
import { CliError } from './cliError.js';
import { EXIT } from './exitCodes.js';

const SYS_NET = '/sys/class/net';

/**
 * An interface address with its prefix length.
 *
 * @example
 * ```ts
 * const a: AddressInfo = { address: '198.18.0.1', prefix: 24 };
 * ```
 */
export interface AddressInfo {
  readonly address: string;
  readonly prefix: number;
}

/**
 * One TUN/TAP device as `tunctl show` reports it.
 *
 * @example
 * ```ts
 * const dev: TunDeviceInfo = readTunDevice('tap0');
 * if (dev.mode === 'tap') console.log(dev.mac);
 * ```
 */
export interface TunDeviceInfo {
  readonly name: string;
  readonly mode: TunMode;
  /** The raw `IFF_*` word of sysfs `tun_flags`. */
  readonly tunFlags: number;
  /** Packets carry the 4-byte `tun_pi` header (no IFF_NO_PI). */
  readonly pi: boolean;
  /** Packets carry a `virtio_net_hdr` (IFF_VNET_HDR). */
  readonly vnetHdr: boolean;
  /** IFF_MULTI_QUEUE. */
  readonly multiQueue: boolean;
  /** IFF_PERSIST: the device outlives its last fd. */
  readonly persist: boolean;
  /** The uid that may attach without CAP_NET_ADMIN, or null. */
  readonly owner: number | null;
  /** The gid that may attach without CAP_NET_ADMIN, or null. */
  readonly group: number | null;
  readonly mtu: number;
  /** The MAC address of a tap; null for a tun. */
  readonly mac: string | null;
  /** IFF_UP: administratively up. */
  readonly up: boolean;
  /** Up with carrier (a tun/tap has carrier while a reader is attached). */
  readonly running: boolean;
  readonly ipv4: readonly AddressInfo[];
  readonly ipv6: readonly AddressInfo[];
}

function readAttr(name: string, attr: string): string {
  return readFileSync(`${SYS_NET}/${name}/${attr}`, 'utf8').trim();
}

/**
 * The carrier as the driver has it now. IFF_RUNNING follows the operstate, which the kernel
 * updates later (linkwatch), so just after a reader detaches it can still say "running".
 * The sysfs attribute can only be read while the link is up.
 */
function carrier(name: string): boolean {
  try {
    return readAttr(name, 'carrier') === '1';
  } catch {
    return false;
  }
}

function optionalId(text: string): number | null {
  const n = Number(text);
  return Number.isInteger(n) && n >= 0 ? n : null;
}

/**
 * Names of the TUN/TAP devices sysfs shows (those with a `tun_flags` attribute), sorted.
 *
 * @example
 * ```ts
 * listTunDevices(); // ['tap0', 'tun0']
 * ```
 */
export function listTunDevices(): string[] {
  let names: string[];
  try {
    names = readdirSync(SYS_NET);
  } catch {
    return [];
  }
  return names.filter((d) => existsSync(`${SYS_NET}/${d}/tun_flags`)).sort();
}

/**
 * The IPv6 addresses of `name` in `/proc/net/if_inet6` format text (`<32 hex> <ifindex>
 * <prefix> <scope> <flags> <name>` per line).
 *
 * @example
 * ```ts
 * parseIfInet6('fd000000000000000000000000000001 05 40 00 80 tun0\n', 'tun0');
 * // [{ address: 'fd00::1', prefix: 64 }]
 * ```
 */
export function parseIfInet6(text: string, name: string): AddressInfo[] {
  const out: AddressInfo[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 6 || f[5] !== name || !/^[0-9a-f]{32}$/i.test(f[0]!)) continue;
    const bytes = Uint8Array.from(f[0]!.match(/../g)!.map((h) => parseInt(h, 16)));
    out.push({ address: formatIp(bytes), prefix: parseInt(f[2]!, 16) });
  }
  return out;
}

function addUnique(list: AddressInfo[], a: AddressInfo): void {
  if (!list.some((x) => x.address === a.address)) list.push(a);
}

function addresses(name: string): { ipv4: AddressInfo[]; ipv6: AddressInfo[] } {
  const ipv4: AddressInfo[] = [];
  const ipv6: AddressInfo[] = [];
  const primary = tunctl.ipv4(name);
  if (primary.address !== null && primary.prefix !== null) ipv4.push({ address: primary.address, prefix: primary.prefix });
  try {
    for (const a of parseIfInet6(readFileSync('/proc/self/net/if_inet6', 'utf8'), name)) addUnique(ipv6, a);
  } catch {
    /* no IPv6 in this kernel */
  }
  for (const a of networkInterfaces()[name] ?? []) {
    const family = String(a.family);
    const prefix = Number(a.cidr?.split('/')[1]);
    if (!Number.isInteger(prefix)) continue;
    if (family === 'IPv4' || family === '4') addUnique(ipv4, { address: a.address, prefix });
    else addUnique(ipv6, { address: a.address.replace(/%.*$/, ''), prefix });
  }
  return { ipv4, ipv6 };
}

/**
 * Check that `name` is a TUN/TAP device this process can see, and return its sysfs
 * `tun_flags`.
 *
 * @throws TunError ENODEV when no interface has that name; CliError (exit 69) when it is
 *   not a TUN/TAP device or sysfs belongs to another network namespace.
 *
 * @example
 * ```ts
 * const flags = tunFlags('tun0'); // 0x1001
 * ```
 */
export function tunFlags(name: string): number {
  const dir = `${SYS_NET}/${name}`;
  if (!existsSync(dir)) {
    tunctl.ifindex(name); // throws ENODEV when the interface does not exist here
    throw new CliError(`${name} exists, but ${SYS_NET} does not show it: sysfs is mounted for another network namespace (mount it again in this one, as \`ip netns exec\` does)`, EXIT.UNAVAILABLE);
  }
  let text: string;
  try {
    text = readAttr(name, 'tun_flags');
  } catch {
    throw new CliError(`${name} is not a TUN/TAP device`, EXIT.UNAVAILABLE);
  }
  const index = tunctl.ifindex(name);
  if (Number(readAttr(name, 'ifindex')) !== index) {
    throw new CliError(`${SYS_NET}/${name} belongs to another network namespace (mount sysfs again in this one)`, EXIT.UNAVAILABLE);
  }
  const flags = Number.parseInt(text, 16);
  if (!Number.isInteger(flags)) throw new CliError(`${dir}/tun_flags holds ${JSON.stringify(text)}, not a hex number`, EXIT.FAILURE);
  return flags;
}

/**
 * Everything `tunctl show` reports of one TUN/TAP device.
 *
 * @throws as {@link tunFlags}
 *
 * @example
 * ```ts
 * const dev = readTunDevice('tun0');
 * console.log(dev.mode, dev.persist, dev.ipv4);
 * ```
 */
export function readTunDevice(name: string): TunDeviceInfo {
  const flags = tunFlags(name);
  const c = loadNative().constants;
  const f = tunctl.decodeFeatures(flags);
  const mode: TunMode = f.tap ? 'tap' : 'tun';
  const ifFlags = tunctl.ifFlags(name);
  return {
    name,
    mode,
    tunFlags: flags,
    pi: !f.noPi,
    vnetHdr: f.vnetHdr,
    multiQueue: f.multiQueue,
    persist: (flags & c.IFF_PERSIST) !== 0,
    owner: optionalId(readAttr(name, 'owner')),
    group: optionalId(readAttr(name, 'group')),
    mtu: Number(readAttr(name, 'mtu')),
    mac: mode === 'tap' ? readAttr(name, 'address') : null,
    up: (ifFlags & c.IFF_UP) !== 0,
    running: (ifFlags & c.IFF_UP) !== 0 && carrier(name),
    ...addresses(name),
  };
}

/**
 * The `tunctl.create` options that attach to an existing device without changing its
 * flags: the kernel would otherwise take the attaching fd's packet-information and
 * vnet-header choice for the whole device.
 *
 * @example
 * ```ts
 * const { fd } = tunctl.create('tun0', attachOptions(tunFlags('tun0')));
 * ```
 */
export function attachOptions(flags: number): CreateOptions {
  const f = tunctl.decodeFeatures(flags);
  return { mode: f.tap ? 'tap' : 'tun', noPi: f.noPi, vnetHdr: f.vnetHdr, multiQueue: f.multiQueue };
}

/**
 * True when `err` says the interface does not exist (ENODEV), e.g. it went away while
 * being listed.
 *
 * @example
 * ```ts
 * try { readTunDevice(name); } catch (err) { if (!isNoDevice(err)) throw err; }
 * ```
 */
export function isNoDevice(err: unknown): boolean {
  return err instanceof TunError && (err.code === 'ENODEV' || err.code === 'ENXIO');
}

/**
 * Does an interface of this name exist in this network namespace (by ioctl, whatever
 * sysfs shows)?
 *
 * @example
 * ```ts
 * interfaceExists('lo'); // true
 * ```
 */
export function interfaceExists(name: string): boolean {
  try {
    tunctl.ifindex(name);
    return true;
  } catch (err) {
    if (isNoDevice(err)) return false;
    throw err;
  }
}
