/**
 * Links over rtnetlink: every interface of a network namespace, or one by name, with its
 * index, flags, MTU, link-layer address and (for a TUN/TAP device) its mode and flags.
 *
 * @module
 */
import { decodeLink, encodeGetLink, type LinkInfo } from '../netlink/linkMessage.js';
import { withNetlink, type NetlinkSocket } from '../netlink/netlinkSocket.js';
import { tunErrorFromCode } from '../native/tunError.js';
import { assertIfname, assertOptions, assertString } from './validate.js';

/**
 * Where a netlink operation runs: the calling thread's network namespace, or the one at
 * `netns` (`/var/run/netns/NAME`, `/proc/PID/ns/net`), as {@link create}'s option.
 *
 * @example
 * ```ts
 * tunctl.links({ netns: '/var/run/netns/blue' });
 * ```
 */
export interface NetnsOption {
  /** Run in the network namespace at this path instead of the calling thread's. */
  netns?: string;
}

/**
 * Check an options object of a netlink call: only `keys`, and a valid `netns` path.
 *
 * @internal
 * @example
 * ```ts
 * const netns = netnsOf(opts, 'links option', ['netns']);
 * ```
 */
export function netnsOf(opts: unknown, what: string, keys: readonly string[]): string | undefined {
  assertOptions(opts, what, keys);
  const netns = (opts as NetnsOption | undefined)?.netns;
  if (netns !== undefined) assertString(netns, 'netns');
  return netns;
}

/**
 * The link called `name`, asked on an open socket.
 *
 * @internal
 * @throws TunError ENODEV when there is none
 * @example
 * ```ts
 * const { ifindex } = lookupLink(sock, 'tun0');
 * ```
 */
export function lookupLink(sock: NetlinkSocket, name: string): LinkInfo {
  const [link] = sock.request(encodeGetLink({ name }), decodeLink, { ifname: name });
  if (link === undefined) throw tunErrorFromCode('ENODEV', 'netlink(RTM_GETLINK)', name);
  return link;
}

/**
 * The name of every interface by index, asked on an open socket.
 *
 * @internal
 * @example
 * ```ts
 * const names = linkNames(sock); // Map { 1 => 'lo', 7 => 'tun0' }
 * ```
 */
export function linkNames(sock: NetlinkSocket): Map<number, string> {
  return new Map(sock.request(encodeGetLink('dump'), decodeLink).map((l) => [l.ifindex, l.name]));
}

/**
 * Every interface of the network namespace, in index order (`ip link`).
 *
 * @throws TunError when the netlink socket cannot be opened (ENOENT for a missing `netns`)
 * @example
 * ```ts
 * const tuns = tunctl.links().filter((l) => l.tun !== undefined);
 * ```
 */
export function links(opts?: NetnsOption): LinkInfo[] {
  const netns = netnsOf(opts, 'links option', ['netns']);
  return withNetlink(netns, (sock) => sock.request(encodeGetLink('dump'), decodeLink)).sort((a, b) => a.ifindex - b.ifindex);
}

/**
 * One interface by name (`ip link show dev NAME`).
 *
 * @throws TunError ENODEV when no interface has that name
 * @example
 * ```ts
 * const { up, running, mtu } = tunctl.linkInfo('tun0');
 * ```
 */
export function linkInfo(name: string, opts?: NetnsOption): LinkInfo {
  assertIfname(name);
  const netns = netnsOf(opts, 'linkInfo option', ['netns']);
  return withNetlink(netns, (sock) => lookupLink(sock, name));
}
