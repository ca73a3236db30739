/**
 * Interface configuration by name (socket ioctls: SIOCSIFADDR and friends), in the
 * network namespace of the calling thread. Nothing here runs a program.
 *
 * @module
 */
import { loadNative } from '../native/binding.js';
import { sys, toTunError, tunErrorFromCode } from '../native/tunError.js';
import { parseIp, formatIp, checkPrefix, prefixToNetmask4, netmaskToPrefix4 } from '../packet/ipAddress.js';
import { parseMac, formatMac, isMulticastMac } from '../packet/mac.js';
import { configuredIpv6, IPV6_MIN_MTU } from './addresses.js';
import { DEFAULT_PREFIX } from './defaultPrefix.js';
import { assertIfname, assertInt } from './validate.js';


/** Smallest and largest MTU the TUN driver accepts (ETH_MIN_MTU, MAX_MTU). */
export const MTU_RANGE = { min: 68, max: 65535 } as const;

function parseAddr(addr: unknown): { family: 4 | 6; bytes: Uint8Array } {
  if (typeof addr !== 'string') throw new TypeError(`address must be a string, got ${typeof addr}`);
  return parseIp(addr);
}

function isErrno(err: unknown, errno: number): boolean {
  return (err as { errno?: number }).errno === errno;
}

/**
 * Interface flags (`IFF_UP` etc.) as SIOCGIFFLAGS reports them.
 *
 * @example
 * ```ts
 * const isUp = (tunctl.ifFlags('tun0') & 1) !== 0;
 * ```
 */
export function ifFlags(name: string): number {
  assertIfname(name);
  const n = loadNative();
  return sys(() => n.ifGetInt(name, n.constants.SIOCGIFFLAGS), name);
}

function setFlags(name: string, set: number, clear: number): void {
  const n = loadNative();
  const flags = sys(() => n.ifGetInt(name, n.constants.SIOCGIFFLAGS), name);
  const next = (flags | set) & ~clear & 0xffff;
  if (next !== flags) sys(() => n.ifSetInt(name, n.constants.SIOCSIFFLAGS, next), name);
}

/**
 * Bring the interface up (IFF_UP) without touching its addresses.
 *
 * @example
 * ```ts
 * tunctl.link('tun0', true);
 * ```
 */
export function link(name: string, up: boolean): void {
  assertIfname(name);
  const c = loadNative().constants;
  if (up) setFlags(name, c.IFF_UP | c.IFF_RUNNING, 0);
  else setFlags(name, 0, c.IFF_UP);
}

/**
 * Give the interface an address and bring it up. IPv4 sets the primary address and
 * its netmask; IPv6 adds the address. The prefix defaults to {@link DEFAULT_PREFIX}
 * (/24 or /64). An address the interface already has is not an error.
 *
 * @example
 * ```ts
 * tunctl.up('tun0', '198.18.0.1');        // 198.18.0.1/24
 * tunctl.up('tun0', 'fd00::1', 64);
 * ```
 */
export function up(name: string, addr: string, prefix?: number): void {
  assertIfname(name);
  const { family, bytes } = parseAddr(addr);
  const len = prefix ?? DEFAULT_PREFIX[family];
  checkPrefix(family, len);
  const n = loadNative();
  const c = n.constants;
  if (family === 4) {
    try {
      n.ifSetAddr4(name, c.SIOCSIFADDR, bytes);
    } catch (err) {
      if (!isErrno(err, 17 /* EEXIST */)) throw toTunError(err, name);
    }
    sys(() => n.ifSetAddr4(name, c.SIOCSIFNETMASK, prefixToNetmask4(len)), name);
    setFlags(name, c.IFF_UP | c.IFF_RUNNING, 0);
  } else {
    // Up first: the kernel drops IPv6 configuration of an interface that goes down.
    setFlags(name, c.IFF_UP | c.IFF_RUNNING, 0);
    try {
      n.ifAddr6(name, c.SIOCSIFADDR, bytes, len);
    } catch (err) {
      if (!isErrno(err, 17 /* EEXIST */)) throw toTunError(err, name);
    }
  }
}

/**
 * Take the interface down (clear IFF_UP). Its addresses stay (IPv4) or go (IPv6,
 * the kernel's choice).
 *
 * @example
 * ```ts
 * tunctl.down('tun0');
 * ```
 */
export function down(name: string): void {
  link(name, false);
}

function ipv4Only(name: string, addr: string, request: 'SIOCSIFDSTADDR' | 'SIOCSIFBRDADDR'): Uint8Array {
  assertIfname(name);
  const { family, bytes } = parseAddr(addr);
  if (family !== 4) throw tunErrorFromCode('EAFNOSUPPORT', `ioctl(${request})`, name);
  return bytes;
}

/**
 * Set the point-to-point peer address (SIOCSIFDSTADDR, IPv4): the kernel then routes
 * that one address through the interface, whatever the netmask.
 *
 * @example
 * ```ts
 * tunctl.up('tun0', '198.18.0.1', 32);
 * tunctl.dstaddr('tun0', '198.18.0.2');
 * ```
 */
export function dstaddr(name: string, addr: string): void {
  const bytes = ipv4Only(name, addr, 'SIOCSIFDSTADDR');
  const n = loadNative();
  sys(() => n.ifSetAddr4(name, n.constants.SIOCSIFDSTADDR, bytes), name);
}

/**
 * Set the IPv4 broadcast address (SIOCSIFBRDADDR).
 *
 * @example
 * ```ts
 * tunctl.broadcast('tap0', '198.18.0.255');
 * ```
 */
export function broadcast(name: string, addr: string): void {
  const bytes = ipv4Only(name, addr, 'SIOCSIFBRDADDR');
  const n = loadNative();
  sys(() => n.ifSetAddr4(name, n.constants.SIOCSIFBRDADDR, bytes), name);
}

/** The interface's primary IPv4 configuration; fields are null when not set. */
export interface Ipv4Config {
  readonly address: string | null;
  readonly prefix: number | null;
  readonly dstaddr: string | null;
  readonly broadcast: string | null;
}

/**
 * Read back the primary IPv4 address, prefix, peer and broadcast address.
 *
 * @example
 * ```ts
 * tunctl.ipv4('tun0'); // { address: '198.18.0.1', prefix: 24, dstaddr: null, broadcast: null }
 * ```
 */
export function ipv4(name: string): Ipv4Config {
  assertIfname(name);
  const n = loadNative();
  const c = n.constants;
  const get = (req: number): Uint8Array | null => sys(() => n.ifGetAddr4(name, req), name);
  const address = get(c.SIOCGIFADDR);
  const mask = address ? get(c.SIOCGIFNETMASK) : null;
  const dst = address ? get(c.SIOCGIFDSTADDR) : null;
  const brd = address ? get(c.SIOCGIFBRDADDR) : null;
  const nonzero = (b: Uint8Array | null): string | null => (b && b.some((x) => x !== 0) ? formatIp(b) : null);
  return {
    address: address ? formatIp(address) : null,
    prefix: mask ? netmaskToPrefix4(mask) : null,
    dstaddr: nonzero(dst),
    broadcast: nonzero(brd),
  };
}

/**
 * The IPv4 prefix length of the primary address (from SIOCGIFNETMASK), or null.
 *
 * @example
 * ```ts
 * tunctl.netmask('tun0'); // 24
 * ```
 */
export function netmask(name: string): number | null {
  return ipv4(name).prefix;
}

/**
 * Set the IPv4 netmask of the primary address, as a prefix length or a dotted mask.
 *
 * @example
 * ```ts
 * tunctl.setNetmask('tun0', 16);
 * tunctl.setNetmask('tun0', '255.255.0.0');
 * ```
 */
export function setNetmask(name: string, mask: number | string): void {
  assertIfname(name);
  let prefix: number;
  if (typeof mask === 'string') {
    const { family, bytes } = parseIp(mask);
    if (family !== 4) throw new RangeError(`a netmask is an IPv4 mask, got ${JSON.stringify(mask)}`);
    prefix = netmaskToPrefix4(bytes);
  } else {
    prefix = mask;
  }
  checkPrefix(4, prefix);
  const n = loadNative();
  sys(() => n.ifSetAddr4(name, n.constants.SIOCSIFNETMASK, prefixToNetmask4(prefix)), name);
}

/**
 * The interface's MTU (SIOCGIFMTU).
 *
 * @example
 * ```ts
 * tunctl.mtu('tun0'); // 1500
 * ```
 */
export function mtu(name: string): number {
  assertIfname(name);
  const n = loadNative();
  return sys(() => n.ifGetInt(name, n.constants.SIOCGIFMTU), name);
}

/**
 * The code of the warning {@link setMtu} emits (`process.emitWarning`) when an MTU under
 * 1280 drops IPv6 addresses.
 *
 * @example
 * ```ts
 * process.on('warning', (w) => { if ((w as { code?: string }).code === tunctl.IPV6_MTU_WARNING) log.warn(w.message); });
 * ```
 */
export const IPV6_MTU_WARNING = 'TUNCTL_IPV6_MTU';

/** Before an MTU under 1280: warn when that drops IPv6 addresses someone configured. */
function warnIpv6Drop(name: string, value: number): void {
  let dropped: string[];
  try {
    dropped = configuredIpv6(name).map((a) => `${a.address}/${a.prefix}`);
  } catch {
    return; // only a warning: the ioctl reports what really goes wrong
  }
  if (dropped.length === 0) return;
  process.emitWarning(
    `MTU ${value} on ${name} is under IPv6's minimum of ${IPV6_MIN_MTU}: the kernel turns IPv6 off on ${name} and drops its IPv6 addresses (${dropped.join(', ')}); they do not come back when the MTU is raised again`,
    { code: IPV6_MTU_WARNING },
  );
}

/**
 * Set the MTU (SIOCSIFMTU), 68 to 65535. Under 1280 the kernel turns IPv6 off on the
 * interface and drops its IPv6 addresses: the change is made, with a process warning
 * (code {@link IPV6_MTU_WARNING}) when the interface had IPv6 addresses besides its
 * automatic link-local one. (Adding an IPv6 address to such a link fails with a message
 * that says why.)
 *
 * @example
 * ```ts
 * tunctl.setMtu('tun0', 1400);
 * process.on('warning', (w) => { if ((w as { code?: string }).code === tunctl.IPV6_MTU_WARNING) log(w.message); });
 * ```
 */
export function setMtu(name: string, value: number): void {
  assertIfname(name);
  assertInt(value, 'mtu', MTU_RANGE.min, MTU_RANGE.max);
  if (value < IPV6_MIN_MTU) warnIpv6Drop(name, value);
  const n = loadNative();
  sys(() => n.ifSetInt(name, n.constants.SIOCSIFMTU, value), name);
}

/**
 * The transmit queue length (SIOCGIFTXQLEN): for a TUN/TAP device, how many packets
 * wait for the reader before the kernel drops.
 *
 * @example
 * ```ts
 * tunctl.txqueuelen('tun0'); // 500
 * ```
 */
export function txqueuelen(name: string): number {
  assertIfname(name);
  const n = loadNative();
  return sys(() => n.ifGetInt(name, n.constants.SIOCGIFTXQLEN), name);
}

/**
 * Set the transmit queue length (SIOCSIFTXQLEN).
 *
 * @example
 * ```ts
 * tunctl.setTxqueuelen('tun0', 10000);
 * ```
 */
export function setTxqueuelen(name: string, value: number): void {
  assertIfname(name);
  assertInt(value, 'txqueuelen', 0, 0x7fffffff);
  const n = loadNative();
  sys(() => n.ifSetInt(name, n.constants.SIOCSIFTXQLEN, value), name);
}

/**
 * The interface's MAC address, as `aa:bb:cc:dd:ee:ff` (SIOCGIFHWADDR). A tun has none
 * and reports `00:00:00:00:00:00`.
 *
 * @example
 * ```ts
 * tunctl.hwaddr('tap0'); // '2a:91:...'
 * ```
 */
export function hwaddr(name: string): string {
  assertIfname(name);
  const n = loadNative();
  return formatMac(sys(() => n.ifGetHwaddr(name), name));
}

/**
 * Set the MAC address of a tap (SIOCSIFHWADDR). A multicast address is refused.
 *
 * @example
 * ```ts
 * tunctl.setHwaddr('tap0', '02:00:5e:00:00:01');
 * ```
 */
export function setHwaddr(name: string, mac: string | Uint8Array): void {
  assertIfname(name);
  const bytes = parseMac(mac);
  if (isMulticastMac(bytes)) throw new RangeError(`${formatMac(bytes)} is a multicast address; an interface needs a unicast MAC`);
  const n = loadNative();
  sys(() => n.ifSetHwaddr(name, bytes), name);
}

/**
 * The interface index (SIOCGIFINDEX).
 *
 * @example
 * ```ts
 * tunctl.ifindex('tun0'); // 7
 * ```
 */
export function ifindex(name: string): number {
  assertIfname(name);
  const n = loadNative();
  return sys(() => n.ifGetInt(name, n.constants.SIOCGIFINDEX), name);
}
