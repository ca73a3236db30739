/**
 * Where the offload engine puts its output: a {@link BatchBuffer} (the record layout that
 * `tunctl.readBatch`, the packet rings and the addon's batched writes share) that packets
 * are appended to, until {@link SegmentBuffer.clear}.
 *
 * ```
 *  data:  [len|packet 0..pad][len|packet 1..pad] ... [len|packet count-1..pad] | free ... |
 *         0                                                                    end      data.length
 * ```
 * @module
 */
import { BatchBuffer } from '../tunctl/batchBuffer.js';
import { OffloadError } from './offloadError.js';

const HOST_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Bytes of a record holding a packet of `len` bytes: a u32 length, the packet, padding to 4.
 *
 * @example
 * ```ts
 * recordBytes(1500); // 1504
 * ```
 */
export const recordBytes = (len: number): number => 4 + ((len + 3) & ~3);

/**
 * A reusable output buffer for {@link GsoSplitter} and {@link GroCoalescer}: each call
 * appends packets (segments, or super-packets with their virtio header) after those already
 * there, with no allocation per packet. Read them with `packet(i)` (a view), or
 * `offset(i)`/`lengthOf(i)` over `data`; start over with `clear()`.
 *
 * @example
 * ```ts
 * const out = new SegmentBuffer(1024);
 * splitter.split(superPacket, out);
 * for (let i = 0; i < out.count; i++) socket.send(out.data.subarray(out.offset(i), out.offset(i) + out.lengthOf(i)));
 * out.clear();
 * ```
 */
export class SegmentBuffer extends BatchBuffer {
  /**
   * @param maxPackets - most packets it holds (1..4096; default 1024)
   * @param bytes - size of its data area (default 2 MiB: 1024 records of full-size
   *   1500-byte packets, or 30 of 64 KiB)
   */
  constructor(maxPackets = 1024, bytes = 2 << 20) {
    super(maxPackets, bytes);
  }

  /**
   * Where the next record goes: the bytes in use.
   *
   * @example
   * ```ts
   * const free = out.data.length - out.end;
   * ```
   */
  get end(): number {
    const n = this.count;
    return n === 0 ? 0 : this.offset(n - 1) - 4 + recordBytes(this.lengthOf(n - 1));
  }

  /**
   * Forget every packet, keeping the memory.
   *
   * @example
   * ```ts
   * out.clear(); // out.count === 0
   * ```
   */
  clear(): void {
    this.count = 0;
  }

  /**
   * Throws `NO_ROOM` unless `packets` more packets of `bytes` record bytes in all fit.
   *
   * @param packets - packets to add
   * @param bytes - their record bytes, from {@link recordBytes}
   * @param what - what is being written, for the message
   * @example
   * ```ts
   * out.requireRoom(segments, segments * recordBytes(1500), 'the segments of a 64 KiB packet');
   * ```
   * @internal
   */
  requireRoom(packets: number, bytes: number, what: string): void {
    const freePackets = this.maxPackets - this.count;
    const freeBytes = this.data.length - this.end;
    if (packets > freePackets || bytes > freeBytes) {
      throw new OffloadError(
        'NO_ROOM',
        `${what} need ${packets} packets in ${bytes} bytes, but the SegmentBuffer has room for ${freePackets} packets in ${freeBytes} bytes; clear() it or make it bigger`,
      );
    }
  }

  /**
   * Adds the record of a `len`-byte packet at `at` (from {@link end}), whose bytes the
   * caller has written at `at + 4`. The caller has checked the room.
   *
   * @param at - offset of the record: the `end` before writing
   * @param len - packet bytes
   * @returns where the next record goes
   * @example
   * ```ts
   * let at = out.end;
   * seg.copy(out.data, at + 4);
   * at = out.commit(at, seg.length);
   * ```
   * @internal
   */
  commit(at: number, len: number): number {
    const d = this.data;
    if (HOST_LE) {
      d[at] = len & 0xff;
      d[at + 1] = (len >>> 8) & 0xff;
      d[at + 2] = (len >>> 16) & 0xff;
      d[at + 3] = len >>> 24;
    } else {
      d[at] = len >>> 24;
      d[at + 1] = (len >>> 16) & 0xff;
      d[at + 2] = (len >>> 8) & 0xff;
      d[at + 3] = len & 0xff;
    }
    return this.index(at, 1);
  }
}
