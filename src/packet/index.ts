/**
 * Pure packet helpers: parse and build `tun_pi` and `virtio_net_hdr`, IP and MAC
 * addresses, checksums, ICMP echo and UDP packets, and one-line packet descriptions.
 * Exported from the package as the `packet` namespace. No I/O.
 *
 * @example
 * ```ts
 * import { packet } from 'tunctl';
 * const req = packet.buildIcmp4EchoRequest({ src: '198.18.0.2', dst: '198.18.0.1', id: 1, seq: 1 });
 * console.log(packet.describePacket(req)); // IPv4 198.18.0.2 > 198.18.0.1 ICMP echo request id=1 seq=1 len=28
 * ```
 * @module
 */
export * from './tunPi.js';
export * from './virtioNetHdr.js';
export * from './ipAddress.js';
export * from './mac.js';
export * from './checksum.js';
export * from './ipPacket.js';
export * from './icmpEcho.js';
export * from './udp.js';
export * from './describePacket.js';
