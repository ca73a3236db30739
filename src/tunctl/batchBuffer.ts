/**
 * A caller-owned buffer for `tunctl.readBatch`: packets are read into it as records, with
 * no allocation per packet, and stay there until the next read into the same buffer.
 *
 * ```
 *  data:    [len|packet 0..pad][len|packet 1..pad] ... (the addon's record layout)
 *  offsets: [off0, len0, off1, len1, ...]   count = packets of the last read
 * ```
 * @module
 */
import { assertInt } from './validate.js';

/** Bytes of a record: a u32 length, the packet, padding to 4. */
const recordSize = (len: number): number => 4 + ((len + 3) & ~3);

/**
 * Room for the packets of one `tunctl.readBatch(fd, max, into)`.
 *
 * @example
 * ```ts
 * const buf = new BatchBuffer(256);
 * const n = tunctl.readBatch(fd, 256, buf);
 * for (let i = 0; i < n; i++) handle(buf.data, buf.offset(i), buf.lengthOf(i));
 * ```
 */
export class BatchBuffer {
  /** The records of the last read. */
  readonly data: Buffer;
  /** Most packets one read can hold. */
  readonly maxPackets: number;
  /** Packets of the last read. */
  count = 0;
  readonly #words: Uint32Array;
  readonly #offsets: Int32Array;

  /**
   * @param maxPackets most packets a read may return (1..4096)
   * @param bytes size of the data area (default: room for 64 KiB packets, which a read
   *   needs free before each packet, plus 2 KiB per packet; at least 4 × 64 KiB)
   */
  constructor(maxPackets = 256, bytes = Math.max(4 * 65552, 65552 + 2048 * maxPackets)) {
    assertInt(maxPackets, 'maxPackets', 1, 4096);
    assertInt(bytes, 'bytes', 65552, 1 << 30);
    this.maxPackets = maxPackets;
    this.data = Buffer.allocUnsafeSlow(bytes & ~3);
    this.#words = new Uint32Array(this.data.buffer, this.data.byteOffset, this.data.byteLength >> 2);
    this.#offsets = new Int32Array(maxPackets * 2);
  }

  /** Offset of packet `i` of the last read in {@link data}. */
  offset(i: number): number {
    return this.#offsets[i << 1] as number;
  }

  /** Length of packet `i` of the last read. */
  lengthOf(i: number): number {
    return this.#offsets[(i << 1) + 1] as number;
  }

  /** Packet `i` of the last read, as a view (valid until the next read into this buffer). */
  packet(i: number): Buffer {
    if (!Number.isInteger(i) || i < 0 || i >= this.count) throw new RangeError(`packet index ${i} is out of range 0..${this.count - 1}`);
    const off = this.#offsets[i << 1] as number;
    return this.data.subarray(off, off + (this.#offsets[(i << 1) + 1] as number));
  }

  /** @internal After the addon stored `packets` records from `start`, index them. */
  index(start: number, packets: number): number {
    let pos = start;
    let n = this.count;
    const words = this.#words;
    const offsets = this.#offsets;
    for (let i = 0; i < packets; i++, n++) {
      const len = words[pos >> 2] as number;
      offsets[n << 1] = pos + 4;
      offsets[(n << 1) + 1] = len;
      pos += recordSize(len);
    }
    this.count = n;
    return pos;
  }
}
