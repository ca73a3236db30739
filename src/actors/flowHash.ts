/**
 * Flow hashing for multi-queue interfaces: which queue a packet to the kernel is written
 * on. Every packet of one flow hashes the same, so a flow stays on one queue (one worker,
 * one tx ring) and is written in the order it was sent.
 *
 * ```
 *  IPv4/IPv6 + TCP/UDP (not a fragment):  hash(src addr, dst addr, proto, src port, dst port)
 *  IPv4/IPv6 fragment, other protocols:   hash(src addr, dst addr, proto)
 *  not IP (ARP on a tap, garbage):        0
 * ```
 * Every fragment of a datagram, the first included, hashes without ports (later fragments
 * carry none), so a fragmented datagram stays on one queue. IPv6 extension headers other
 * than a fragment header are not walked: such packets hash on addresses and the first next
 * header, which is the same for every packet of a flow that carries them.
 *
 * No allocation: the hash reads the packet's bytes where they are (a Uint8Array, or a
 * record in a ring).
 * @module
 */

const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;
const IPV6_FRAGMENT = 44;
const ETH_P_IP = 0x0800;
const ETH_P_IPV6 = 0x86dd;
const ETH_P_8021Q = 0x8100;
const ETH_P_8021AD = 0x88a8;

/**
 * Where the IP header of a packet starts, for one kind of interface: the bytes before it
 * (tun_pi, virtio_net_hdr) and whether an Ethernet header comes first (a tap).
 *
 * @example
 * ```ts
 * const layout: FlowLayout = { skip: 10, ethernet: true }; // a tap with a 10-byte vnet header
 * ```
 */
export interface FlowLayout {
  /** Bytes before the IP header (tun) or the Ethernet header (tap): 4 with tun_pi, plus the vnet header's size. */
  readonly skip: number;
  /** A tap: an Ethernet header (maybe VLAN-tagged) precedes the IP header. */
  readonly ethernet: boolean;
}

/** A tun without tun_pi or vnet header: the packet is the IP header and payload. */
const PLAIN_TUN: FlowLayout = Object.freeze({ skip: 0, ethernet: false });

/**
 * The layout of the packets of an interface created with these options.
 *
 * @example
 * ```ts
 * flowLayout({ mode: 'tun', noPi: true, vnetHdr: false }); // { skip: 0, ethernet: false }
 * ```
 */
export function flowLayout(create: { mode?: 'tun' | 'tap'; noPi?: boolean; vnetHdr?: boolean; vnetHdrSize?: number }): FlowLayout {
  const skip = (create.noPi === false ? 4 : 0) + (create.vnetHdr ? (create.vnetHdrSize ?? 10) : 0);
  return { skip, ethernet: create.mode !== 'tun' };
}

/** murmur3's 32-bit mixing step. */
function mix(h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** murmur3's finaliser: every input bit moves every output bit. */
function finish(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Big-endian u32 at `i` (the caller checked the bounds). */
function u32(d: Uint8Array, i: number): number {
  return ((d[i] as number) << 24) | ((d[i + 1] as number) << 16) | ((d[i + 2] as number) << 8) | (d[i + 3] as number);
}

/**
 * The flow hash of the packet in `data[start, start + length)`: see the module notes.
 * An unsigned 32-bit integer; 0 for a packet that is not IP.
 *
 * @example
 * ```ts
 * const h = flowHashAt(batch.data, batch.offset(0), batch.lengthOf(0), { skip: 0, ethernet: false });
 * ```
 */
export function flowHashAt(data: Uint8Array, start: number, length: number, layout: FlowLayout): number {
  let at = start + layout.skip;
  const end = start + length;
  let version: number;
  if (layout.ethernet) {
    if (at + 14 > end) return 0;
    let type = ((data[at + 12] as number) << 8) | (data[at + 13] as number);
    at += 14;
    // Up to two VLAN tags (802.1ad outside, 802.1Q inside).
    for (let tags = 0; (type === ETH_P_8021Q || type === ETH_P_8021AD) && tags < 2; tags++) {
      if (at + 4 > end) return 0;
      type = ((data[at + 2] as number) << 8) | (data[at + 3] as number);
      at += 4;
    }
    if (type === ETH_P_IP) version = 4;
    else if (type === ETH_P_IPV6) version = 6;
    else return 0;
  } else {
    if (at >= end) return 0;
    version = (data[at] as number) >> 4;
  }
  if (version === 4) {
    if (at + 20 > end || (data[at] as number) >> 4 !== 4) return 0;
    const ihl = ((data[at] as number) & 0x0f) * 4;
    const proto = data[at + 9] as number;
    let h = mix(mix(mix(0x7f4a7c15, u32(data, at + 12)), u32(data, at + 16)), proto);
    // More fragments, or a fragment offset: no ports (the later fragments have none).
    const fragment = (((data[at + 6] as number) & 0x3f) | (data[at + 7] as number)) !== 0;
    if (!fragment && (proto === IPPROTO_TCP || proto === IPPROTO_UDP) && ihl >= 20 && at + ihl + 4 <= end) {
      h = mix(h, u32(data, at + ihl));
    }
    return finish(h);
  }
  if (version === 6) {
    if (at + 40 > end || (data[at] as number) >> 4 !== 6) return 0;
    const next = data[at + 6] as number;
    let h = 0x3c6ef372;
    for (let i = 8; i < 40; i += 4) h = mix(h, u32(data, at + i));
    h = mix(h, next === IPV6_FRAGMENT ? (data[at + 40] as number) | 0 : next);
    if ((next === IPPROTO_TCP || next === IPPROTO_UDP) && at + 44 <= end) h = mix(h, u32(data, at + 40));
    return finish(h);
  }
  return 0;
}

/**
 * The flow hash of a packet (see the module notes): the same for every packet of one
 * TCP/UDP 5-tuple, or of one address pair and protocol for fragments and other protocols;
 * 0 for a packet that is not IP. The layout defaults to a plain tun (no tun_pi, no vnet
 * header).
 *
 * @example
 * ```ts
 * import { flowHash } from 'tunctl';
 * const queue = flowHash(packet) % 4;
 * ```
 */
export function flowHash(packet: Uint8Array, layout: FlowLayout = PLAIN_TUN): number {
  return flowHashAt(packet, 0, packet.length, layout);
}
