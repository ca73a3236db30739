/**
 * Interface addresses over rtnetlink: any number of IPv4 and IPv6 addresses per
 * interface, with a prefix and an optional point-to-point peer (which the ioctls cannot
 * give IPv6), on a link that is up or down.
 *
 * @module
 */
import { decodeAddress, encodeAddress, encodeGetAddresses, type InterfaceAddress } from '../netlink/addressMessage.js';
import { withNetlink, type NetlinkSocket } from '../netlink/netlinkSocket.js';
import { IFA } from '../netlink/rtnetlinkConstants.js';
import { tunErrorFromCode } from '../native/tunError.js';
import { checkPrefix, formatIp, ipBytes, parseCidr, parseIp } from '../packet/ipAddress.js';
import { lookupLink, linkNames, netnsOf, type NetnsOption } from './links.js';
import { DEFAULT_PREFIX } from './defaultPrefix.js';
import { assertBool, assertIfname } from './validate.js';

/**
 * The smallest MTU IPv6 works with (RFC 8200): below it the kernel turns IPv6 off on the
 * link and drops its IPv6 addresses.
 *
 * @example
 * ```ts
 * if (tunctl.mtu('tun0') < tunctl.IPV6_MIN_MTU) tunctl.setMtu('tun0', tunctl.IPV6_MIN_MTU);
 * ```
 */
export const IPV6_MIN_MTU = 1280;

/**
 * Options of {@link addAddress}.
 *
 * @example
 * ```ts
 * const opts: AddAddressOptions = { peer: 'fd00::2', nodad: true };
 * ```
 */
export interface AddAddressOptions extends NetnsOption {
  /** The far end of a point-to-point link (same family): the prefix then applies to it. */
  peer?: string;
  /** IPv6: skip duplicate-address detection, so the address is usable at once (IFA_F_NODAD). */
  nodad?: boolean;
}

/**
 * Options of {@link addresses}.
 *
 * @example
 * ```ts
 * tunctl.addresses('tun0', { family: 6 });
 * ```
 */
export interface AddressesOptions extends NetnsOption {
  /** Only IPv4 or only IPv6. */
  family?: 4 | 6;
}

function ipv6MtuError(syscall: string, name: string, mtu: number): Error {
  return tunErrorFromCode(
    'EINVAL',
    syscall,
    name,
    `IPv6 needs an MTU of at least ${IPV6_MIN_MTU}, and ${name} has ${mtu}, so the kernel has IPv6 off on it; raise the MTU first (tunctl.setMtu)`,
  );
}

/**
 * Add an address to an interface (`ip addr add`), keeping the ones it has: call it again
 * for more. The prefix defaults to {@link DEFAULT_PREFIX} (/24, /64). The link may be
 * down: the address is there when it comes up. An address the interface already has is
 * an `EEXIST` error.
 *
 * @param cidr - `ADDRESS[/PREFIX]`, IPv4 or IPv6
 * @throws TypeError / RangeError for a malformed address, prefix or option, before any system call
 * @throws TunError `ENODEV` (no such interface), `EEXIST`, `EINVAL` for IPv6 on a link whose
 *   MTU is under 1280 (the message says so), `EPERM`
 * @example
 * ```ts
 * tunctl.addAddress('tun0', '198.18.0.1/24');
 * tunctl.addAddress('tun0', '198.18.1.1/24');            // a second IPv4 address
 * tunctl.addAddress('tun0', 'fd00::1/128', { peer: 'fd00::2' });
 * ```
 */
export function addAddress(name: string, cidr: string, opts?: AddAddressOptions): void {
  assertIfname(name);
  const { family, bytes, prefix } = parseCidr(cidr);
  const netns = netnsOf(opts, 'addAddress option', ['peer', 'nodad', 'netns']);
  const peer = opts?.peer === undefined ? undefined : ipBytes(opts.peer, family, 'peer');
  if (opts?.nodad !== undefined) assertBool(opts.nodad, 'nodad');
  const flags = opts?.nodad === true && family === 6 ? IFA.F_NODAD : 0;
  withNetlink(netns, (sock) => {
    const link = lookupLink(sock, name);
    if (family === 6 && link.mtu < IPV6_MIN_MTU) throw ipv6MtuError('netlink(RTM_NEWADDR)', name, link.mtu);
    const spec = { ifindex: link.ifindex, family, local: bytes, prefix: prefix ?? DEFAULT_PREFIX[family], peer, flags };
    sock.request(encodeAddress('add', spec), () => undefined, { ifname: name });
  });
}

/**
 * Remove an address from an interface (`ip addr del`), IPv4 or IPv6, primary or not.
 * With a prefix, only the address with that prefix; without one (undefined or null),
 * whatever its prefix.
 *
 * @param addr - the address, without a prefix
 * @throws TypeError / RangeError for a malformed address or prefix, before any system call
 * @throws TunError `EADDRNOTAVAIL` when the interface has no such address, `ENODEV`
 * @example
 * ```ts
 * tunctl.removeAddress('tun0', 'fd00::1', 64);
 * tunctl.removeAddress('tun0', '198.18.1.1');
 * ```
 */
export function removeAddress(name: string, addr: string, prefix?: number | null, opts?: NetnsOption): void {
  assertIfname(name);
  const { family, bytes } = parseIp(addr);
  if (prefix !== undefined && prefix !== null) checkPrefix(family, prefix);
  const netns = netnsOf(opts, 'removeAddress option', ['netns']);
  const text = formatIp(bytes);
  withNetlink(netns, (sock) => {
    const link = lookupLink(sock, name);
    const found = dumpAddresses(sock).find(
      (a) => a.ifindex === link.ifindex && a.family === family && a.address === text && (prefix === undefined || prefix === null || a.prefix === prefix),
    );
    const shown = prefix === undefined || prefix === null ? text : `${text}/${prefix}`;
    if (found === undefined) throw tunErrorFromCode('EADDRNOTAVAIL', 'netlink(RTM_DELADDR)', name, `${name} has no address ${shown}`);
    const peer = found.peer === undefined ? undefined : parseIp(found.peer).bytes;
    sock.request(encodeAddress('del', { ifindex: link.ifindex, family, local: bytes, prefix: found.prefix, peer }), () => undefined, { ifname: name });
  });
}

function dumpAddresses(sock: NetlinkSocket): InterfaceAddress[] {
  return sock.request(encodeGetAddresses(), decodeAddress);
}

/**
 * The addresses of one interface, or of all (`ip addr`), each with its interface's name.
 *
 * @throws TunError `ENODEV` when `name` is given and no interface has it
 * @example
 * ```ts
 * tunctl.addresses('tun0').map((a) => `${a.address}/${a.prefix}`); // ['198.18.0.1/24', 'fd00::1/64', 'fe80::.../64']
 * ```
 */
export function addresses(name?: string, opts?: AddressesOptions): InterfaceAddress[] {
  if (name !== undefined) assertIfname(name);
  const netns = netnsOf(opts, 'addresses option', ['family', 'netns']);
  const family = opts?.family;
  if (family !== undefined && family !== 4 && family !== 6) throw new RangeError(`family must be 4 or 6, got ${String(family)}`);
  return withNetlink(netns, (sock) => {
    const only = name === undefined ? undefined : lookupLink(sock, name).ifindex;
    const names = linkNames(sock);
    return dumpAddresses(sock)
      .filter((a) => (only === undefined || a.ifindex === only) && (family === undefined || a.family === family))
      .map((a) => ({ ...a, name: names.get(a.ifindex) ?? a.name }));
  });
}

/**
 * Whether the interface has IPv6 addresses of its own (not only the automatic fe80::
 * link-local one): lowering its MTU under {@link IPV6_MIN_MTU} would drop them.
 *
 * @internal
 * @example
 * ```ts
 * if (mtu < IPV6_MIN_MTU && configuredIpv6(name).length > 0) warn();
 * ```
 */
export function configuredIpv6(name: string): InterfaceAddress[] {
  return addresses(name, { family: 6 }).filter((a) => a.scope !== 'link');
}
