/**
 * ICMP and ICMPv6 echo ("ping") packets: building whole IP packets to write into a
 * TUN interface, and recognising the ones read from it.
 *
 * @module
 */
import { internetChecksum, pseudoHeaderSum6 } from './checksum.js';
import { formatIp, ipBytes } from './ipAddress.js';
import { buildIpv4Packet, buildIpv6Packet, IPPROTO_ICMP, IPPROTO_ICMPV6, ipPacket } from './ipPacket.js';
import { describeValue, requireBytes, requireUint } from './requireBytes.js';

/** ICMP type of an echo request. @example `icmp[0] === ICMP_ECHO_REQUEST` */
export const ICMP_ECHO_REQUEST = 8;
/** ICMP type of an echo reply. @example `icmp[0] === ICMP_ECHO_REPLY` */
export const ICMP_ECHO_REPLY = 0;
/** ICMPv6 type of an echo request. @example `icmp6[0] === ICMP6_ECHO_REQUEST` */
export const ICMP6_ECHO_REQUEST = 128;
/** ICMPv6 type of an echo reply. @example `icmp6[0] === ICMP6_ECHO_REPLY` */
export const ICMP6_ECHO_REPLY = 129;

/**
 * Options for {@link buildIcmp4EchoRequest} and {@link buildIcmp4EchoReply}.
 *
 * @example
 * ```ts
 * const opts: Icmp4EchoOptions = { src: '198.18.0.2', dst: '198.18.0.1', id: 1, seq: 1 };
 * ```
 */
export interface Icmp4EchoOptions {
  /** Source IPv4 address, as text or 4 bytes. */
  src: string | Uint8Array;
  /** Destination IPv4 address, as text or 4 bytes. */
  dst: string | Uint8Array;
  /** Identifier, 0 to 65535. */
  id: number;
  /** Sequence number, 0 to 65535. */
  seq: number;
  /** Echo data; default empty. */
  payload?: Uint8Array;
  /** Default 64. */
  ttl?: number;
}

/**
 * Options for {@link buildIcmp6EchoRequest} and {@link buildIcmp6EchoReply}.
 *
 * @example
 * ```ts
 * const opts: Icmp6EchoOptions = { src: 'fd00::2', dst: 'fd00::1', id: 1, seq: 1 };
 * ```
 */
export interface Icmp6EchoOptions {
  /** Source IPv6 address, as text or 16 bytes. */
  src: string | Uint8Array;
  /** Destination IPv6 address, as text or 16 bytes. */
  dst: string | Uint8Array;
  /** Identifier, 0 to 65535. */
  id: number;
  /** Sequence number, 0 to 65535. */
  seq: number;
  /** Echo data; default empty. */
  payload?: Uint8Array;
  /** Default 64. */
  hopLimit?: number;
}

/**
 * An echo request or reply found by {@link parseIcmpEcho}.
 *
 * @example
 * ```ts
 * const echo: IcmpEcho | null = parseIcmpEcho(buf);
 * if (echo?.type === 'reply') console.log(`reply from ${echo.src} seq=${echo.seq}`);
 * ```
 */
export interface IcmpEcho {
  family: 4 | 6;
  type: 'request' | 'reply';
  src: string;
  dst: string;
  id: number;
  seq: number;
  /** Echo data; shares memory with the input. */
  payload: Buffer;
}

function echoMessage(name: string, type: number, options: { id: number; seq: number; payload?: Uint8Array }): Buffer {
  const id = requireUint(options.id, 0xffff, `${name}: id`);
  const seq = requireUint(options.seq, 0xffff, `${name}: seq`);
  const payload = options.payload === undefined ? new Uint8Array(0) : requireBytes(options.payload, `${name}: payload`);
  const icmp = Buffer.alloc(8 + payload.length);
  icmp[0] = type;
  icmp.writeUInt16BE(id, 4);
  icmp.writeUInt16BE(seq, 6);
  icmp.set(payload, 8);
  return icmp;
}

function requireOptions(options: unknown, name: string): void {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`${name} needs an options object { src, dst, id, seq }, got ${describeValue(options)}`);
  }
}

function build4(name: string, type: number, options: Icmp4EchoOptions): Buffer {
  requireOptions(options, name);
  const src = ipBytes(options.src, 4, `${name}: src`);
  const dst = ipBytes(options.dst, 4, `${name}: dst`);
  const icmp = echoMessage(name, type, options);
  icmp.writeUInt16BE(internetChecksum(icmp), 2);
  return buildIpv4Packet({ src, dst, protocol: IPPROTO_ICMP, payload: icmp, ttl: options.ttl ?? 64 });
}

function build6(name: string, type: number, options: Icmp6EchoOptions): Buffer {
  requireOptions(options, name);
  const src = ipBytes(options.src, 6, `${name}: src`);
  const dst = ipBytes(options.dst, 6, `${name}: dst`);
  const icmp = echoMessage(name, type, options);
  icmp.writeUInt16BE(internetChecksum(icmp, pseudoHeaderSum6(src, dst, IPPROTO_ICMPV6, icmp.length)), 2);
  return buildIpv6Packet({ src, dst, nextHeader: IPPROTO_ICMPV6, payload: icmp, hopLimit: options.hopLimit ?? 64 });
}

/**
 * Builds a whole IPv4 packet carrying an ICMP echo request, with correct IP header and
 * ICMP checksums.
 *
 * @param options - IPv4 addresses, identifier, sequence number, optional data and TTL
 * @returns a new buffer to write to a TUN fd (`IFF_NO_PI`)
 * @throws TypeError/RangeError when an address is not IPv4 or a number is out of range
 * @example
 * ```ts
 * fd.write(buildIcmp4EchoRequest({ src: '198.18.0.2', dst: '198.18.0.1', id: 1, seq: 1 }));
 * ```
 */
export function buildIcmp4EchoRequest(options: Icmp4EchoOptions): Buffer {
  return build4('buildIcmp4EchoRequest', ICMP_ECHO_REQUEST, options);
}

/**
 * Builds a whole IPv4 packet carrying an ICMP echo reply; see {@link buildIcmp4EchoRequest}.
 *
 * @param options - IPv4 addresses, identifier, sequence number, optional data and TTL
 * @returns a new buffer to write to a TUN fd (`IFF_NO_PI`)
 * @throws TypeError/RangeError when an address is not IPv4 or a number is out of range
 * @example
 * ```ts
 * const req = parseIcmpEcho(buf);
 * if (req?.family === 4 && req.type === 'request') {
 *   fd.write(buildIcmp4EchoReply({ src: req.dst, dst: req.src, id: req.id, seq: req.seq, payload: req.payload }));
 * }
 * ```
 */
export function buildIcmp4EchoReply(options: Icmp4EchoOptions): Buffer {
  return build4('buildIcmp4EchoReply', ICMP_ECHO_REPLY, options);
}

/**
 * Builds a whole IPv6 packet carrying an ICMPv6 echo request, with the ICMPv6 checksum
 * computed over the IPv6 pseudo-header.
 *
 * @param options - IPv6 addresses, identifier, sequence number, optional data and hop limit
 * @returns a new buffer to write to a TUN fd (`IFF_NO_PI`)
 * @throws TypeError/RangeError when an address is not IPv6 or a number is out of range
 * @example
 * ```ts
 * fd.write(buildIcmp6EchoRequest({ src: 'fd00::2', dst: 'fd00::1', id: 1, seq: 1 }));
 * ```
 */
export function buildIcmp6EchoRequest(options: Icmp6EchoOptions): Buffer {
  return build6('buildIcmp6EchoRequest', ICMP6_ECHO_REQUEST, options);
}

/**
 * Builds a whole IPv6 packet carrying an ICMPv6 echo reply; see {@link buildIcmp6EchoRequest}.
 *
 * @param options - IPv6 addresses, identifier, sequence number, optional data and hop limit
 * @returns a new buffer to write to a TUN fd (`IFF_NO_PI`)
 * @throws TypeError/RangeError when an address is not IPv6 or a number is out of range
 * @example
 * ```ts
 * fd.write(buildIcmp6EchoReply({ src: 'fd00::1', dst: 'fd00::2', id: 1, seq: 1 }));
 * ```
 */
export function buildIcmp6EchoReply(options: Icmp6EchoOptions): Buffer {
  return build6('buildIcmp6EchoReply', ICMP6_ECHO_REPLY, options);
}

/**
 * Recognises an ICMP or ICMPv6 echo request or reply in an IP packet. Checksums are not
 * verified.
 *
 * @param packet - an IP packet (no `tun_pi`, no Ethernet header)
 * @returns the echo fields, or `null` when the packet is anything else, a fragment, or cut short
 * @throws TypeError when `packet` is not a `Uint8Array`
 * @example
 * ```ts
 * const echo = parseIcmpEcho(buildIcmp4EchoRequest({ src: '198.18.0.2', dst: '198.18.0.1', id: 7, seq: 3 }));
 * // { family: 4, type: 'request', src: '198.18.0.2', dst: '198.18.0.1', id: 7, seq: 3, payload: <Buffer > }
 * ```
 */
export function parseIcmpEcho(packet: Uint8Array): IcmpEcho | null {
  requireBytes(packet, 'parseIcmpEcho(packet)');
  const ip = ipPacket(packet);
  if (ip === null || ip.truncated || ip.fragmentOffset !== 0 || ip.moreFragments) return null;
  const icmp = ip.payload;
  if (icmp.length < 8) return null;
  let type: IcmpEcho['type'];
  if (ip.family === 4 && ip.protocol === IPPROTO_ICMP && icmp[0] === ICMP_ECHO_REQUEST) type = 'request';
  else if (ip.family === 4 && ip.protocol === IPPROTO_ICMP && icmp[0] === ICMP_ECHO_REPLY) type = 'reply';
  else if (ip.family === 6 && ip.protocol === IPPROTO_ICMPV6 && icmp[0] === ICMP6_ECHO_REQUEST) type = 'request';
  else if (ip.family === 6 && ip.protocol === IPPROTO_ICMPV6 && icmp[0] === ICMP6_ECHO_REPLY) type = 'reply';
  else return null;
  return {
    family: ip.family,
    type,
    src: formatIp(ip.src),
    dst: formatIp(ip.dst),
    id: (icmp[4]! << 8) | icmp[5]!,
    seq: (icmp[6]! << 8) | icmp[7]!,
    payload: icmp.subarray(8),
  };
}

/**
 * The echo reply a host would send back for an echo request: addresses swapped, same
 * identifier, sequence number and data. Handy for a TUN demo that answers pings.
 *
 * @param packet - an IP packet
 * @returns a new reply packet, or `null` when `packet` is not an echo request
 * @throws TypeError when `packet` is not a `Uint8Array`
 * @example
 * ```ts
 * for await (const packet of packets) {
 *   const reply = echoReplyFor(packet);
 *   if (reply) fd.write(reply);
 * }
 * ```
 */
export function echoReplyFor(packet: Uint8Array): Buffer | null {
  const echo = parseIcmpEcho(packet);
  if (echo === null || echo.type !== 'request') return null;
  const options = { src: echo.dst, dst: echo.src, id: echo.id, seq: echo.seq, payload: echo.payload };
  return echo.family === 4 ? buildIcmp4EchoReply(options) : buildIcmp6EchoReply(options);
}
