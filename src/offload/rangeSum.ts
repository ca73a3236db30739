/**
 * The ones'-complement sum of a byte range, fast enough for checksumming at line rate in
 * JavaScript: it adds 32-bit words in host order (a `Uint32Array` over the whole
 * `ArrayBuffer`, cached while the buffer stays the same) and turns the result into the
 * big-endian sum at the end, which RFC 1071 allows since the sum does not depend on byte
 * order. Any alignment works: the few bytes before the first and after the last whole word
 * are added one by one.
 *
 * These are building blocks of the offload engine, not part of the public API.
 *
 * @internal
 * @module
 */

const HOST_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

let cachedBuffer: ArrayBufferLike | undefined;
let cachedWords: Uint32Array<ArrayBufferLike> = new Uint32Array(0);

function wordsOf(buffer: ArrayBufferLike): Uint32Array<ArrayBufferLike> {
  if (buffer !== cachedBuffer) {
    cachedWords = new Uint32Array(buffer, 0, buffer.byteLength >>> 2);
    cachedBuffer = buffer;
  }
  return cachedWords;
}

/**
 * Folds a non-negative sum of 16-bit words to 16 bits (end-around carry).
 *
 * @param sum - a sum below 2^53
 * @returns 0 to 0xffff
 * @example
 * ```ts
 * fold16(0x1fffe); // 0xffff
 * ```
 * @internal
 */
export function fold16(sum: number): number {
  while (sum > 0xffff) sum = (sum % 0x10000) + Math.floor(sum / 0x10000);
  return sum;
}

/**
 * The ones'-complement sum of `bytes[start, end)` read as big-endian 16-bit words, the byte
 * at `start` being the high byte of the first word (an odd last byte is padded with zero),
 * plus `initial`. The caller has checked `0 <= start <= end <= bytes.length`.
 *
 * @param bytes - the bytes; a view of any `ArrayBuffer` or `SharedArrayBuffer`
 * @param start - first byte
 * @param end - one past the last byte
 * @param initial - a partial sum to add, e.g. a pseudo-header's
 * @returns the folded sum, 0 to 0xffff (not complemented)
 * @example
 * ```ts
 * rangeSum(Uint8Array.of(0x00, 0x01, 0xf2, 0x03), 0, 4, 0); // 0xf204
 * ```
 * @internal
 */
export function rangeSum(bytes: Uint8Array, start: number, end: number, initial: number): number {
  const base = bytes.byteOffset;
  const from = base + start;
  const to = base + end;
  // Host-order sum: a byte at an even address of the ArrayBuffer is the low byte of its
  // 16-bit word on a little-endian host.
  const oddShift = HOST_LE ? 8 : 0;
  const evenShift = HOST_LE ? 0 : 8;
  if (end - start < 64) {
    // Short ranges (headers, addresses): big-endian pairs directly, no swap needed.
    let s = initial;
    let i = start;
    for (; i + 1 < end; i += 2) s += (bytes[i]! << 8) | bytes[i + 1]!;
    if (i < end) s += bytes[i]! << 8;
    return fold16(s);
  }
  let sum = 0;
  let a = from;
  const firstWord = (from + 3) & ~3;
  for (; a < firstWord; a++) sum += bytes[a - base]! << ((a & 1) === 1 ? oddShift : evenShift);
  const words = wordsOf(bytes.buffer);
  const lastWord = to >>> 2;
  let w = a >>> 2;
  let s0 = 0;
  let s1 = 0;
  for (; w + 3 < lastWord; w += 4) {
    s0 += words[w]! + words[w + 1]!;
    s1 += words[w + 2]! + words[w + 3]!;
  }
  for (; w < lastWord; w++) s0 += words[w]!;
  sum += s0 + s1;
  for (a = lastWord << 2; a < to; a++) sum += bytes[a - base]! << ((a & 1) === 1 ? oddShift : evenShift);
  // 32-bit words fold into 16-bit ones; bytes at even addresses are then the low bytes.
  let folded = fold16(sum);
  // The range's first byte is the high byte of a big-endian word: swap when the host put
  // it in the low byte, i.e. when it sits at an address of the parity the host reads low.
  const startsLow = ((from & 1) === 0) === HOST_LE;
  if (startsLow) folded = ((folded & 0xff) << 8) | (folded >>> 8);
  return fold16(folded + initial);
}

/**
 * Writes a 16-bit big-endian value.
 *
 * @param bytes - where to write
 * @param at - offset of the high byte
 * @param value - 0 to 0xffff
 * @example
 * ```ts
 * put16(packet, 2, totalLength);
 * ```
 * @internal
 */
export function put16(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = value >>> 8;
  bytes[at + 1] = value & 0xff;
}

/**
 * Reads a 16-bit big-endian value.
 *
 * @param bytes - where to read
 * @param at - offset of the high byte
 * @returns 0 to 0xffff
 * @example
 * ```ts
 * const totalLength = get16(packet, 2);
 * ```
 * @internal
 */
export function get16(bytes: Uint8Array, at: number): number {
  return (bytes[at]! << 8) | bytes[at + 1]!;
}

/**
 * Reads a 32-bit big-endian value (unsigned).
 *
 * @param bytes - where to read
 * @param at - offset of the first byte
 * @returns 0 to 2^32 - 1
 * @example
 * ```ts
 * const seq = get32(packet, l4 + 4);
 * ```
 * @internal
 */
export function get32(bytes: Uint8Array, at: number): number {
  return ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;
}

/**
 * Writes a 32-bit big-endian value.
 *
 * @param bytes - where to write
 * @param at - offset of the first byte
 * @param value - 0 to 2^32 - 1
 * @example
 * ```ts
 * put32(segment, l4 + 4, (seq + i * mss) >>> 0);
 * ```
 * @internal
 */
export function put32(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = value >>> 24;
  bytes[at + 1] = (value >>> 16) & 0xff;
  bytes[at + 2] = (value >>> 8) & 0xff;
  bytes[at + 3] = value & 0xff;
}

/**
 * Recomputes the header checksum of the IPv4 header at `ip` (`ihl` bytes).
 *
 * @param bytes - the packet's bytes
 * @param ip - offset of the IPv4 header
 * @param ihl - its length in bytes
 * @example
 * ```ts
 * put16(seg, ip + 2, totalLength);
 * setIpv4Checksum(seg, ip, 20);
 * ```
 * @internal
 */
export function setIpv4Checksum(bytes: Uint8Array, ip: number, ihl: number): void {
  bytes[ip + 10] = 0;
  bytes[ip + 11] = 0;
  put16(bytes, ip + 10, ~rangeSum(bytes, ip, ip + ihl, 0) & 0xffff);
}

/**
 * The partial sum of the addresses of an IPv4 (bytes 12 to 19) or IPv6 (8 to 39) header:
 * add the protocol and the transport length to get the pseudo-header sum.
 *
 * @param bytes - the packet's bytes
 * @param ip - offset of the IP header
 * @param v6 - an IPv6 header
 * @returns 0 to 0xffff
 * @example
 * ```ts
 * const pseudo = fold16(addressSum(pkt, ip, false) + IPPROTO_TCP + l4Length);
 * ```
 * @internal
 */
export function addressSum(bytes: Uint8Array, ip: number, v6: boolean): number {
  return v6 ? rangeSum(bytes, ip + 8, ip + 40, 0) : rangeSum(bytes, ip + 12, ip + 20, 0);
}
