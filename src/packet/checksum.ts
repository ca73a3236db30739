/**
 * The Internet checksum (RFC 1071) and the pseudo-header sums that UDP, TCP and
 * ICMPv6 fold into theirs.
 *
 * @module
 */
import { describeValue, requireBytes, requireUint } from './requireBytes.js';

function requireSum(initial: unknown, name: string): number {
  if (typeof initial !== 'number') throw new TypeError(`${name} must be a number, got ${describeValue(initial)}`);
  if (!Number.isSafeInteger(initial) || initial < 0) {
    throw new RangeError(`${name} must be a non-negative integer (a partial ones'-complement sum), got ${initial}`);
  }
  return initial;
}

function fold(sum: number): number {
  while (sum > 0xffff) sum = (sum % 0x10000) + Math.floor(sum / 0x10000);
  return sum;
}

function sumWords(buf: Uint8Array, sum: number): number {
  const n = buf.length;
  const even = n & ~1;
  for (let i = 0; i < even; i += 2) sum += (buf[i]! << 8) | buf[i + 1]!;
  // An odd trailing byte is summed as if followed by a zero byte.
  if (n !== even) sum += buf[even]! << 8;
  return sum;
}

/**
 * The 16-bit ones'-complement sum of `buf` as big-endian words, not yet complemented.
 * Feed it to the next call as `initial` to checksum data in pieces; only the last piece
 * may have an odd length.
 *
 * @param buf - the bytes to sum
 * @param initial - a partial sum to continue from, e.g. from {@link pseudoHeaderSum4}
 * @returns 0 to 0xffff
 * @throws TypeError/RangeError when `buf` is not bytes or `initial` is not a non-negative integer
 * @example
 * ```ts
 * onesComplementSum(Uint8Array.of(0x00, 0x01, 0xf2, 0x03)); // 0xf204
 * ```
 */
export function onesComplementSum(buf: Uint8Array, initial = 0): number {
  requireBytes(buf, 'onesComplementSum(buf)');
  return fold(sumWords(buf, requireSum(initial, 'onesComplementSum(buf, initial)')));
}

/**
 * The Internet checksum of `buf` (RFC 1071): the complement of the ones'-complement sum
 * of its 16-bit big-endian words, an odd last byte padded with zero.
 *
 * Computed over data that already holds a correct checksum, it returns 0.
 *
 * @param buf - the bytes to checksum, with the checksum field zeroed (or filled, to verify)
 * @param initial - a partial sum to fold in, e.g. {@link pseudoHeaderSum4} for UDP/TCP
 * @returns the checksum, 0 to 0xffff, to store big-endian
 * @throws TypeError/RangeError when `buf` is not bytes or `initial` is not a non-negative integer
 * @example
 * ```ts
 * const header = Buffer.from('450000730000400040110000c0a80001c0a800c7', 'hex');
 * internetChecksum(header); // 0xb861
 * ```
 */
export function internetChecksum(buf: Uint8Array, initial = 0): number {
  requireBytes(buf, 'internetChecksum(buf)');
  return ~fold(sumWords(buf, requireSum(initial, 'internetChecksum(buf, initial)'))) & 0xffff;
}

function requireAddr(addr: unknown, size: 4 | 16, name: string): Uint8Array {
  requireBytes(addr, name);
  const bytes = addr as Uint8Array;
  if (bytes.length !== size) throw new RangeError(`${name} must be ${size} bytes, got ${bytes.length}`);
  return bytes;
}

/**
 * The partial sum of the IPv4 pseudo-header (source, destination, zero, protocol,
 * upper-layer length) that UDP and TCP checksums cover.
 *
 * @param src - source address, 4 bytes
 * @param dst - destination address, 4 bytes
 * @param protocol - IP protocol number, e.g. 17 for UDP
 * @param length - upper-layer length (header plus data), 0 to 65535
 * @returns a partial sum to pass as `initial` to {@link internetChecksum}
 * @throws TypeError/RangeError on wrong-sized addresses or out-of-range numbers
 * @example
 * ```ts
 * const sum = pseudoHeaderSum4(src, dst, 17, udp.length);
 * udp.writeUInt16BE(internetChecksum(udp, sum) || 0xffff, 6);
 * ```
 */
export function pseudoHeaderSum4(src: Uint8Array, dst: Uint8Array, protocol: number, length: number): number {
  requireAddr(src, 4, 'pseudoHeaderSum4(src)');
  requireAddr(dst, 4, 'pseudoHeaderSum4(dst)');
  requireUint(protocol, 0xff, 'pseudoHeaderSum4(protocol)');
  requireUint(length, 0xffff, 'pseudoHeaderSum4(length)');
  return fold(sumWords(dst, sumWords(src, protocol + length)));
}

/**
 * The partial sum of the IPv6 pseudo-header (RFC 8200 section 8.1: source,
 * destination, 32-bit upper-layer length, zeros, next header) that UDP, TCP and
 * ICMPv6 checksums cover.
 *
 * @param src - source address, 16 bytes
 * @param dst - destination address, 16 bytes
 * @param nextHeader - upper-layer protocol, e.g. 58 for ICMPv6
 * @param length - upper-layer length (header plus data), 0 to 2^32 - 1
 * @returns a partial sum to pass as `initial` to {@link internetChecksum}
 * @throws TypeError/RangeError on wrong-sized addresses or out-of-range numbers
 * @example
 * ```ts
 * const sum = pseudoHeaderSum6(src, dst, 58, icmp.length);
 * icmp.writeUInt16BE(internetChecksum(icmp, sum), 2);
 * ```
 */
export function pseudoHeaderSum6(src: Uint8Array, dst: Uint8Array, nextHeader: number, length: number): number {
  requireAddr(src, 16, 'pseudoHeaderSum6(src)');
  requireAddr(dst, 16, 'pseudoHeaderSum6(dst)');
  requireUint(nextHeader, 0xff, 'pseudoHeaderSum6(nextHeader)');
  requireUint(length, 0xffffffff, 'pseudoHeaderSum6(length)');
  return fold(sumWords(dst, sumWords(src, nextHeader + Math.floor(length / 0x10000) + (length % 0x10000))));
}
