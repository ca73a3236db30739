/**
 * What `tunctl show` and friends know of a TUN/TAP device, all from rtnetlink (as
 * `ip -d link` and `ip addr` read it): the tun driver reports its mode, flags, owner and
 * group there, so no sysfs or procfs is read, and the answer is always this network
 * namespace's.
 *
 * @module
 */
import { loadNative } from '../native/binding.js';
import { TunError } from '../native/tunError.js';
import type { LinkInfo, TunLinkInfo } from '../netlink/linkMessage.js';
import * as tunctl from '../tunctl/index.js';
import type { CreateOptions } from '../tunctl/create.js';
import { CliError } from './cliError.js';
import { EXIT } from './exitCodes.js';

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
  /** The far end of a point-to-point address. */
  readonly peer?: string;
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
export interface TunDeviceInfo extends Omit<TunLinkInfo, 'queues' | 'disabledQueues'> {
  readonly name: string;
  /** The `IFF_*` word the device's netlink attributes add up to (as sysfs `tun_flags`, without the NAPI bits). */
  readonly tunFlags: number;
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

/**
 * Names of the TUN/TAP devices of this network namespace, sorted.
 *
 * @example
 * ```ts
 * listTunDevices(); // ['tap0', 'tun0']
 * ```
 */
export function listTunDevices(): string[] {
  return tunctl.links().filter((l) => l.tun !== undefined).map((l) => l.name).sort();
}

/** The link called `name`, which must be a TUN/TAP device. */
function tunLink(name: string): LinkInfo & { tun: TunLinkInfo } {
  const link = tunctl.linkInfo(name); // TunError ENODEV when there is none
  if (link.tun === undefined) throw new CliError(`${name} is not a TUN/TAP device`, EXIT.UNAVAILABLE);
  return link as LinkInfo & { tun: TunLinkInfo };
}

function flagsOf(t: TunLinkInfo): number {
  const c = loadNative().constants;
  return (
    (t.mode === 'tap' ? c.IFF_TAP : c.IFF_TUN) |
    (t.pi ? 0 : c.IFF_NO_PI) |
    (t.vnetHdr ? c.IFF_VNET_HDR : 0) |
    (t.multiQueue ? c.IFF_MULTI_QUEUE : 0) |
    (t.persist ? c.IFF_PERSIST : 0)
  );
}

/**
 * Check that `name` is a TUN/TAP device, and return its `IFF_*` flags (mode, packet
 * information, vnet header, multi-queue, persist).
 *
 * @throws TunError ENODEV when no interface has that name; CliError (exit 69) when it is
 *   not a TUN/TAP device
 *
 * @example
 * ```ts
 * const flags = tunFlags('tun0'); // 0x1001
 * ```
 */
export function tunFlags(name: string): number {
  return flagsOf(tunLink(name).tun);
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
  const link = tunLink(name);
  const t = link.tun;
  const addrs = tunctl.addresses(name).map((a) => ({ family: a.family, info: { address: a.address, prefix: a.prefix, ...(a.peer === undefined ? {} : { peer: a.peer }) } }));
  return {
    name,
    mode: t.mode,
    tunFlags: flagsOf(t),
    pi: t.pi,
    vnetHdr: t.vnetHdr,
    multiQueue: t.multiQueue,
    persist: t.persist,
    owner: t.owner,
    group: t.group,
    mtu: link.mtu,
    mac: t.mode === 'tap' ? link.address : null,
    up: link.up,
    // The carrier as it is now: IFF_RUNNING lags a detach by a moment (linkwatch).
    running: link.up && (link.carrier ?? link.running),
    ipv4: addrs.filter((a) => a.family === 4).map((a) => a.info),
    ipv6: addrs.filter((a) => a.family === 6).map((a) => a.info),
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
