/**
 * The one error the offload engine raises for bad input: a packet or virtio header it
 * cannot split or coalesce, or an output buffer without room.
 *
 * @module
 */

/**
 * What was wrong, as a stable code to branch on:
 *
 * | code | meaning |
 * |---|---|
 * | `TRUNCATED` | the packet is shorter than its virtio header or IP/TCP/UDP headers say |
 * | `BAD_GSO_TYPE` | `gso_type` is not one of NONE, TCPV4, UDP, TCPV6, UDP_L4 |
 * | `UNSUPPORTED_GSO_TYPE` | `VIRTIO_NET_HDR_GSO_UDP` (UFO: IP fragmentation), which the engine does not do |
 * | `BAD_GSO_SIZE` | `gso_size` is 0, or a segment of that size would not fit in an IP packet |
 * | `BAD_HDR_LEN` | `hdr_len` points past the end of the packet |
 * | `BAD_CSUM` | `csum_start`/`csum_offset` point outside the packet, or not at the transport checksum |
 * | `BAD_PACKET` | not IPv4/IPv6, a protocol that does not match `gso_type`, a fragment, or inconsistent header lengths |
 * | `NO_ROOM` | the output buffer has too few bytes or packet slots left; nothing was written |
 *
 * @example
 * ```ts
 * const code: OffloadErrorCode = 'BAD_GSO_SIZE';
 * ```
 */
export type OffloadErrorCode =
  | 'TRUNCATED'
  | 'BAD_GSO_TYPE'
  | 'UNSUPPORTED_GSO_TYPE'
  | 'BAD_GSO_SIZE'
  | 'BAD_HDR_LEN'
  | 'BAD_CSUM'
  | 'BAD_PACKET'
  | 'NO_ROOM';

/**
 * A packet the offload engine refuses, with a {@link OffloadErrorCode}. It is a
 * `RangeError`, so code that already handles the packet helpers' `RangeError`s handles it.
 * Batch calls set {@link index} to the packet that failed; what came before it was done.
 *
 * @example
 * ```ts
 * try {
 *   splitter.split(packet, out);
 * } catch (err) {
 *   if (err instanceof OffloadError && err.code !== 'NO_ROOM') dropped++;
 *   else throw err;
 * }
 * ```
 */
export class OffloadError extends RangeError {
  /** What was wrong. */
  readonly code: OffloadErrorCode;
  /** In a batch call, the index of the packet that failed. */
  index: number | undefined;

  /**
   * @param code - what was wrong
   * @param message - the details: which field, its value, and what was expected
   */
  constructor(code: OffloadErrorCode, message: string) {
    super(`${code}: ${message}`);
    this.name = 'OffloadError';
    this.code = code;
    this.index = undefined;
  }
}
