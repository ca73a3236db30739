/**
 * The IP layer: finding the transport payload of an IPv4/IPv6 packet, and wrapping a
 * transport payload in an IP header.
 *
 * @module
 */
import { internetChecksum } from './checksum.js';
import { ipBytes } from './ipAddress.js';
import { asBuffer, describeValue, requireBytes, requireUint } from './requireBytes.js';

/** IP protocol number of ICMP. @example `ip.protocol === IPPROTO_ICMP` */
export const IPPROTO_ICMP = 1;
/** IP protocol number of TCP. @example `ip.protocol === IPPROTO_TCP` */
export const IPPROTO_TCP = 6;
/** IP protocol number of UDP. @example `ip.protocol === IPPROTO_UDP` */
export const IPPROTO_UDP = 17;
/** IP protocol number of ICMPv6. @example `ip.protocol === IPPROTO_ICMPV6` */
export const IPPROTO_ICMPV6 = 58;

/**
 * The IP layer of a packet, as found by {@link ipPacket}. Byte fields are views of the
 * input, not copies.
 *
 * @example
 * ```ts
 * const ip: IpPacket | null = ipPacket(buf);
 * if (ip?.protocol === IPPROTO_UDP) handleUdp(ip.payload);
 * ```
 */
export interface IpPacket {
  family: 4 | 6;
  /** Source address, 4 or 16 bytes. */
  src: Uint8Array;
  /** Destination address, 4 or 16 bytes. */
  dst: Uint8Array;
  /** Transport protocol; for IPv6, the one after any extension headers that were skipped. */
  protocol: number;
  /** TTL (IPv4) or hop limit (IPv6). */
  ttl: number;
  /** Offset of {@link payload} in the input: IP header, options and IPv6 extension headers. */
  headerLength: number;
  /** Packet length according to the header (IPv4 total length; 40 + IPv6 payload length). */
  length: number;
  /** Transport bytes, cut to {@link length} (dropping link-layer padding) and to the input. */
  payload: Buffer;
  /** The input is shorter than {@link length}: the payload is incomplete. */
  truncated: boolean;
  /** Fragment offset in bytes; when not 0 the payload does not start with a transport header. */
  fragmentOffset: number;
  /** More fragments follow this one. */
  moreFragments: boolean;
}

const IPV6_HOP_BY_HOP = 0;
const IPV6_ROUTING = 43;
const IPV6_FRAGMENT = 44;
const IPV6_AUTH = 51;
const IPV6_DEST_OPTS = 60;

function parseIpv4(buf: Uint8Array): IpPacket | null {
  if (buf.length < 20) return null;
  const headerLength = (buf[0]! & 0x0f) * 4;
  const length = (buf[2]! << 8) | buf[3]!;
  if (headerLength < 20 || buf.length < headerLength || length < headerLength) return null;
  const frag = (buf[6]! << 8) | buf[7]!;
  const end = Math.min(length, buf.length);
  return {
    family: 4,
    src: buf.subarray(12, 16),
    dst: buf.subarray(16, 20),
    protocol: buf[9]!,
    ttl: buf[8]!,
    headerLength,
    length,
    payload: asBuffer(buf, headerLength, end),
    truncated: buf.length < length,
    fragmentOffset: (frag & 0x1fff) * 8,
    moreFragments: (frag & 0x2000) !== 0,
  };
}

function parseIpv6(buf: Uint8Array): IpPacket | null {
  if (buf.length < 40) return null;
  const length = 40 + ((buf[4]! << 8) | buf[5]!);
  const end = Math.min(length, buf.length);
  let next = buf[6]!;
  let at = 40;
  let fragmentOffset = 0;
  let moreFragments = false;
  // Skip extension headers; stop at anything else, or at one that does not fit.
  for (;;) {
    if (next === IPV6_FRAGMENT) {
      if (at + 8 > end) break;
      const off = (buf[at + 2]! << 8) | buf[at + 3]!;
      fragmentOffset = off & 0xfff8;
      moreFragments = (off & 1) !== 0;
      next = buf[at]!;
      at += 8;
      if (fragmentOffset !== 0) break;
    } else if (next === IPV6_HOP_BY_HOP || next === IPV6_ROUTING || next === IPV6_DEST_OPTS || next === IPV6_AUTH) {
      if (at + 2 > end) break;
      // AH counts its length in 4-byte units minus 2; the others in 8-byte units minus 1.
      const size = next === IPV6_AUTH ? (buf[at + 1]! + 2) * 4 : (buf[at + 1]! + 1) * 8;
      if (at + size > end) break;
      next = buf[at]!;
      at += size;
    } else {
      break;
    }
  }
  return {
    family: 6,
    src: buf.subarray(8, 24),
    dst: buf.subarray(24, 40),
    protocol: next,
    ttl: buf[7]!,
    headerLength: at,
    length,
    payload: asBuffer(buf, at, Math.max(at, end)),
    truncated: buf.length < length,
    fragmentOffset,
    moreFragments,
  };
}

/**
 * Finds the IP header fields and the transport payload of an IPv4 or IPv6 packet (the
 * version is taken from the first nibble). IPv6 hop-by-hop, routing, fragment,
 * destination-options and AH headers are skipped. Nothing is copied.
 *
 * @param buf - an IP packet, e.g. read from a TUN fd opened with `IFF_NO_PI`
 * @returns the IP layer, or `null` when `buf` is not an IPv4/IPv6 packet or its header is cut short or inconsistent
 * @throws TypeError when `buf` is not a `Uint8Array`
 * @example
 * ```ts
 * const ip = ipPacket(buf);
 * if (ip && ip.protocol === IPPROTO_ICMP) console.log(formatIp(ip.src), 'sent ICMP');
 * ```
 */
export function ipPacket(buf: Uint8Array): IpPacket | null {
  requireBytes(buf, 'ipPacket(buf)');
  const version = buf.length === 0 ? 0 : buf[0]! >> 4;
  if (version === 4) return parseIpv4(buf);
  if (version === 6) return parseIpv6(buf);
  return null;
}

/**
 * Options for {@link buildIpv4Packet}.
 *
 * @example
 * ```ts
 * const opts: Ipv4PacketOptions = { src: '198.18.0.2', dst: '198.18.0.1', protocol: 17, payload: udp };
 * ```
 */
export interface Ipv4PacketOptions {
  /** Source address, as text or 4 bytes. */
  src: string | Uint8Array;
  /** Destination address, as text or 4 bytes. */
  dst: string | Uint8Array;
  /** IP protocol number, e.g. {@link IPPROTO_UDP}. */
  protocol: number;
  /** Transport bytes (header and data); default empty. */
  payload?: Uint8Array;
  /** Default 64. */
  ttl?: number;
  /** Identification field; default 0. */
  identification?: number;
  /** Set the DF bit; default false. */
  dontFragment?: boolean;
  /** Type-of-service (DSCP/ECN) byte; default 0. */
  tos?: number;
}

/**
 * Options for {@link buildIpv6Packet}.
 *
 * @example
 * ```ts
 * const opts: Ipv6PacketOptions = { src: 'fd00::2', dst: 'fd00::1', nextHeader: 58, payload: icmp };
 * ```
 */
export interface Ipv6PacketOptions {
  /** Source address, as text or 16 bytes. */
  src: string | Uint8Array;
  /** Destination address, as text or 16 bytes. */
  dst: string | Uint8Array;
  /** Protocol of the payload, e.g. {@link IPPROTO_ICMPV6}. */
  nextHeader: number;
  /** Bytes after the fixed header; default empty. */
  payload?: Uint8Array;
  /** Default 64. */
  hopLimit?: number;
  /** Default 0. */
  trafficClass?: number;
  /** Default 0. */
  flowLabel?: number;
}

function requireOptions(options: unknown, name: string): void {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`${name} needs an options object, got ${describeValue(options)}`);
  }
}

function optionalPayload(payload: unknown, name: string): Uint8Array {
  return payload === undefined ? new Uint8Array(0) : requireBytes(payload, name);
}

/**
 * Wraps `payload` in a 20-byte IPv4 header (no options) with a correct header
 * checksum. Transport checksums are the caller's business.
 *
 * @param options - addresses, protocol, payload and header fields
 * @returns a new buffer holding the whole packet
 * @throws TypeError/RangeError when an address is not IPv4, a field is out of range, or the packet would exceed 65535 bytes
 * @example
 * ```ts
 * const packet = buildIpv4Packet({ src: '198.18.0.2', dst: '198.18.0.1', protocol: 253, payload: Buffer.from('hi') });
 * ```
 */
export function buildIpv4Packet(options: Ipv4PacketOptions): Buffer {
  requireOptions(options, 'buildIpv4Packet(options)');
  const src = ipBytes(options.src, 4, 'buildIpv4Packet: src');
  const dst = ipBytes(options.dst, 4, 'buildIpv4Packet: dst');
  const protocol = requireUint(options.protocol, 0xff, 'buildIpv4Packet: protocol');
  const payload = optionalPayload(options.payload, 'buildIpv4Packet: payload');
  const ttl = requireUint(options.ttl ?? 64, 0xff, 'buildIpv4Packet: ttl');
  const identification = requireUint(options.identification ?? 0, 0xffff, 'buildIpv4Packet: identification');
  const tos = requireUint(options.tos ?? 0, 0xff, 'buildIpv4Packet: tos');
  const length = 20 + payload.length;
  if (length > 0xffff) {
    throw new RangeError(`buildIpv4Packet: payload of ${payload.length} bytes is too big; at most ${0xffff - 20} fit in an IPv4 packet`);
  }
  const out = Buffer.alloc(length);
  out[0] = 0x45;
  out[1] = tos;
  out.writeUInt16BE(length, 2);
  out.writeUInt16BE(identification, 4);
  out.writeUInt16BE(options.dontFragment === true ? 0x4000 : 0, 6);
  out[8] = ttl;
  out[9] = protocol;
  out.set(src, 12);
  out.set(dst, 16);
  out.writeUInt16BE(internetChecksum(out.subarray(0, 20)), 10);
  out.set(payload, 20);
  return out;
}

/**
 * Wraps `payload` in a 40-byte IPv6 header. Transport checksums are the caller's business.
 *
 * @param options - addresses, next header, payload and header fields
 * @returns a new buffer holding the whole packet
 * @throws TypeError/RangeError when an address is not IPv6, a field is out of range, or the payload exceeds 65535 bytes
 * @example
 * ```ts
 * const packet = buildIpv6Packet({ src: 'fd00::2', dst: 'fd00::1', nextHeader: 59 }); // "no next header"
 * ```
 */
export function buildIpv6Packet(options: Ipv6PacketOptions): Buffer {
  requireOptions(options, 'buildIpv6Packet(options)');
  const src = ipBytes(options.src, 6, 'buildIpv6Packet: src');
  const dst = ipBytes(options.dst, 6, 'buildIpv6Packet: dst');
  const nextHeader = requireUint(options.nextHeader, 0xff, 'buildIpv6Packet: nextHeader');
  const payload = optionalPayload(options.payload, 'buildIpv6Packet: payload');
  const hopLimit = requireUint(options.hopLimit ?? 64, 0xff, 'buildIpv6Packet: hopLimit');
  const trafficClass = requireUint(options.trafficClass ?? 0, 0xff, 'buildIpv6Packet: trafficClass');
  const flowLabel = requireUint(options.flowLabel ?? 0, 0xfffff, 'buildIpv6Packet: flowLabel');
  if (payload.length > 0xffff) {
    throw new RangeError(`buildIpv6Packet: payload of ${payload.length} bytes is too big; at most 65535 fit without a jumbogram`);
  }
  const out = Buffer.alloc(40 + payload.length);
  out.writeUInt32BE(((6 << 28) | (trafficClass << 20) | flowLabel) >>> 0, 0);
  out.writeUInt16BE(payload.length, 4);
  out[6] = nextHeader;
  out[7] = hopLimit;
  out.set(src, 8);
  out.set(dst, 24);
  out.set(payload, 40);
  return out;
}
