/**
 * UDP datagrams in whole IP packets, for writing test and benchmark traffic into a TUN
 * interface and reading it back.
 *
 * @module
 */
import { internetChecksum, pseudoHeaderSum4, pseudoHeaderSum6 } from './checksum.js';
import { formatIp, ipBytes } from './ipAddress.js';
import { buildIpv4Packet, buildIpv6Packet, IPPROTO_UDP, ipPacket } from './ipPacket.js';
import { describeValue, requireBytes, requireUint } from './requireBytes.js';

/**
 * Options for {@link buildUdp4} and {@link buildUdp6}.
 *
 * @example
 * ```ts
 * const opts: UdpOptions = { src: '198.18.0.2', dst: '198.18.0.1', srcPort: 40000, dstPort: 9, payload: Buffer.from('hi') };
 * ```
 */
export interface UdpOptions {
  /** Source address, as text or bytes of the builder's family. */
  src: string | Uint8Array;
  /** Destination address, as text or bytes of the builder's family. */
  dst: string | Uint8Array;
  /** 0 to 65535. */
  srcPort: number;
  /** 0 to 65535. */
  dstPort: number;
  /** Datagram data; default empty. */
  payload?: Uint8Array;
  /** TTL (IPv4) or hop limit (IPv6); default 64. */
  ttl?: number;
}

/**
 * A UDP datagram found by {@link parseUdp}.
 *
 * @example
 * ```ts
 * const d: UdpDatagram | null = parseUdp(buf);
 * if (d) console.log(`${d.src}:${d.srcPort} sent ${d.payload.length} bytes`);
 * ```
 */
export interface UdpDatagram {
  family: 4 | 6;
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  /** Datagram data; shares memory with the input. */
  payload: Buffer;
}

function udpSegment(name: string, options: UdpOptions, maxPayload: number): Buffer {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`${name} needs an options object { src, dst, srcPort, dstPort, payload }, got ${describeValue(options)}`);
  }
  const srcPort = requireUint(options.srcPort, 0xffff, `${name}: srcPort`);
  const dstPort = requireUint(options.dstPort, 0xffff, `${name}: dstPort`);
  const payload = options.payload === undefined ? new Uint8Array(0) : requireBytes(options.payload, `${name}: payload`);
  if (payload.length > maxPayload) {
    throw new RangeError(`${name}: payload of ${payload.length} bytes is too big; at most ${maxPayload} fit`);
  }
  const udp = Buffer.alloc(8 + payload.length);
  udp.writeUInt16BE(srcPort, 0);
  udp.writeUInt16BE(dstPort, 2);
  udp.writeUInt16BE(udp.length, 4);
  udp.set(payload, 8);
  return udp;
}

/**
 * Builds a whole IPv4 packet carrying a UDP datagram, with correct IP header and UDP
 * checksums.
 *
 * @param options - IPv4 addresses, ports, data and TTL
 * @returns a new buffer to write to a TUN fd (`IFF_NO_PI`)
 * @throws TypeError/RangeError when an address is not IPv4, a port is out of range or the payload is over 65507 bytes
 * @example
 * ```ts
 * fd.write(buildUdp4({ src: '198.18.0.2', dst: '198.18.0.1', srcPort: 40000, dstPort: 9, payload: Buffer.from('hi') }));
 * ```
 */
export function buildUdp4(options: UdpOptions): Buffer {
  const udp = udpSegment('buildUdp4', options, 0xffff - 28);
  const src = ipBytes(options.src, 4, 'buildUdp4: src');
  const dst = ipBytes(options.dst, 4, 'buildUdp4: dst');
  // A computed 0 goes on the wire as 0xffff: 0 means "no checksum" (RFC 768).
  udp.writeUInt16BE(internetChecksum(udp, pseudoHeaderSum4(src, dst, IPPROTO_UDP, udp.length)) || 0xffff, 6);
  return buildIpv4Packet({ src, dst, protocol: IPPROTO_UDP, payload: udp, ttl: options.ttl ?? 64 });
}

/**
 * Builds a whole IPv6 packet carrying a UDP datagram, with the (mandatory) UDP checksum.
 *
 * @param options - IPv6 addresses, ports, data and hop limit (`ttl`)
 * @returns a new buffer to write to a TUN fd (`IFF_NO_PI`)
 * @throws TypeError/RangeError when an address is not IPv6, a port is out of range or the payload is over 65527 bytes
 * @example
 * ```ts
 * fd.write(buildUdp6({ src: 'fd00::2', dst: 'fd00::1', srcPort: 40000, dstPort: 9 }));
 * ```
 */
export function buildUdp6(options: UdpOptions): Buffer {
  const udp = udpSegment('buildUdp6', options, 0xffff - 8);
  const src = ipBytes(options.src, 6, 'buildUdp6: src');
  const dst = ipBytes(options.dst, 6, 'buildUdp6: dst');
  udp.writeUInt16BE(internetChecksum(udp, pseudoHeaderSum6(src, dst, IPPROTO_UDP, udp.length)) || 0xffff, 6);
  return buildIpv6Packet({ src, dst, nextHeader: IPPROTO_UDP, payload: udp, hopLimit: options.ttl ?? 64 });
}

/**
 * Recognises a UDP datagram in an IPv4 or IPv6 packet. Checksums are not verified.
 *
 * @param packet - an IP packet (no `tun_pi`, no Ethernet header)
 * @returns the datagram, or `null` when the packet is not UDP, is a fragment, or is cut short
 * @throws TypeError when `packet` is not a `Uint8Array`
 * @example
 * ```ts
 * parseUdp(buildUdp4({ src: '198.18.0.2', dst: '198.18.0.1', srcPort: 1, dstPort: 2 }))?.dstPort; // 2
 * ```
 */
export function parseUdp(packet: Uint8Array): UdpDatagram | null {
  requireBytes(packet, 'parseUdp(packet)');
  const ip = ipPacket(packet);
  if (ip === null || ip.protocol !== IPPROTO_UDP || ip.truncated || ip.fragmentOffset !== 0 || ip.moreFragments) return null;
  const udp = ip.payload;
  if (udp.length < 8) return null;
  const length = (udp[4]! << 8) | udp[5]!;
  if (length < 8 || length > udp.length) return null;
  return {
    family: ip.family,
    src: formatIp(ip.src),
    dst: formatIp(ip.dst),
    srcPort: (udp[0]! << 8) | udp[1]!,
    dstPort: (udp[2]! << 8) | udp[3]!,
    payload: udp.subarray(8, length),
  };
}
