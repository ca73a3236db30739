/**
 * The batches the offload engine takes: an array of packets, or any record batch that says
 * where each packet lies in one shared byte area (a `PacketBatch` from `Tuncer.recvBatch`,
 * a `tunctl.BatchBuffer` from `tunctl.readBatch`, a {@link SegmentBuffer}), read without
 * a view per packet.
 *
 * @module
 */
import { describeValue } from '../packet/requireBytes.js';

/**
 * Packets laid out in one byte area, as `PacketBatch`, `tunctl.BatchBuffer` and
 * {@link SegmentBuffer} have them: packet `i` is `data[offset(i), offset(i) + lengthOf(i))`.
 * The number of packets is `length` (a `PacketBatch`) or `count` (a `BatchBuffer`).
 *
 * @example
 * ```ts
 * const records: PacketRecords = await tun.recvBatch();
 * ```
 */
export interface PacketRecords {
  readonly data: Uint8Array;
  offset(i: number): number;
  lengthOf(i: number): number;
  readonly length?: number;
  readonly count?: number;
}

/**
 * What {@link GsoSplitter.splitBatch} and {@link GroCoalescer.coalesce} take.
 *
 * @example
 * ```ts
 * const batch: PacketSource = [packetA, packetB];
 * ```
 */
export type PacketSource = readonly Uint8Array[] | PacketRecords;

/**
 * Throws a `TypeError` unless `source` is a {@link PacketSource}, and returns its number of
 * packets.
 *
 * @param source - the batch
 * @param name - how the argument is named in the error message
 * @returns the number of packets
 * @example
 * ```ts
 * const n = sourceCount(batch, 'coalesce(packets)');
 * ```
 * @internal
 */
export function sourceCount(source: unknown, name: string): number {
  if (Array.isArray(source)) return source.length;
  const s = source as PacketRecords | null;
  if (s !== null && typeof s === 'object' && s.data instanceof Uint8Array && typeof s.offset === 'function' && typeof s.lengthOf === 'function') {
    const n = typeof s.length === 'number' ? s.length : s.count;
    if (typeof n === 'number' && Number.isInteger(n) && n >= 0) return n;
  }
  throw new TypeError(
    `${name} must be an array of Uint8Array packets or a record batch ({ data, offset(i), lengthOf(i), length | count }), got ${describeValue(source)}`,
  );
}

/**
 * Checks that `[offset, offset + length)` lies inside `data` (the packet `index` of a batch,
 * or one packet given alone). The message is built only on failure: no string per packet.
 *
 * @param data - the byte area
 * @param offset - where the packet starts
 * @param length - its bytes
 * @param name - how the argument is named in the error message, e.g. `'coalesce(packets)'`
 * @param index - the packet's index in a batch, or -1 for a packet given alone
 * @throws TypeError when `data` is not a Uint8Array; RangeError when the range does not fit
 * @example
 * ```ts
 * checkRange(batch.data, batch.offset(i), batch.lengthOf(i), 'coalesce(packets)', i);
 * ```
 * @internal
 */
export function checkRange(data: unknown, offset: unknown, length: unknown, name: string, index = -1): void {
  if (data instanceof Uint8Array && typeof offset === 'number' && typeof length === 'number' && Number.isInteger(offset) && Number.isInteger(length)) {
    if (offset >= 0 && length >= 0 && offset + length <= data.length) return;
  }
  const what = index < 0 ? name : `${name}[${index}]`;
  if (!(data instanceof Uint8Array)) throw new TypeError(`${what} must be a Uint8Array or Buffer, got ${describeValue(data)}`);
  if (typeof offset !== 'number' || typeof length !== 'number' || !Number.isInteger(offset) || !Number.isInteger(length)) {
    throw new TypeError(`${what}: offset and length must be integers, got ${describeValue(offset)} and ${describeValue(length)}`);
  }
  throw new RangeError(`${what}: bytes [${offset}, ${offset + length}) lie outside the ${data.length} bytes given`);
}
