/**
 * Reading and writing packets on a TUN/TAP fd. Each read or write moves exactly one
 * packet; the fd is non-blocking, so a read with nothing waiting returns null.
 *
 * @module
 */
import { loadNative } from '../native/binding.js';
import { sys, tunErrorFromCode } from '../native/tunError.js';
import { assertBytes, assertFd, assertInt } from './validate.js';
import { BatchBuffer } from './batchBuffer.js';

/** The largest packet a TUN/TAP read can return: 64 KiB plus a 12-byte vnet header and a 4-byte tun_pi. */
export const MAX_PACKET = 65535 + 12 + 4;

let scratch: Buffer | undefined;
function scratchBuffer(): Buffer {
  scratch ??= Buffer.allocUnsafeSlow(MAX_PACKET);
  return scratch;
}

/**
 * Read one packet, or null when none is waiting. The result is a copy of exactly the
 * packet's size (at most `size` bytes: a longer packet is truncated by the kernel).
 *
 * @example
 * ```ts
 * const packet = tunctl.read(fd);
 * if (packet) console.log(packet.length);
 * ```
 */
export function read(fd: number, size: number = MAX_PACKET): Buffer | null {
  assertFd(fd);
  assertInt(size, 'size', 1, MAX_PACKET);
  const buf = scratchBuffer();
  const n = loadNative();
  const len = sys(() => n.read(fd, buf, 0, size));
  if (len < 0) return null;
  return Buffer.from(buf.subarray(0, len));
}

/**
 * Read one packet into `buf` at `offset`, without allocating. Returns its length, or
 * -1 when none is waiting.
 *
 * @example
 * ```ts
 * const buf = Buffer.alloc(2048);
 * const n = tunctl.readInto(fd, buf);
 * ```
 */
export function readInto(fd: number, buf: Uint8Array, offset = 0): number {
  assertFd(fd);
  assertBytes(buf, 'buf');
  assertInt(offset, 'offset', 0, buf.length - 1);
  const n = loadNative();
  return sys(() => n.read(fd, buf, offset, buf.length - offset));
}

/**
 * Read up to `max` waiting packets with as few calls into native code as possible
 * (one for the whole batch). Returns an array of copies (empty when none is waiting), or,
 * given a {@link BatchBuffer} `into`, reads into it with no allocation per packet and
 * returns the count (packets stay in `into` until its next read).
 *
 * @example
 * ```ts
 * for (const packet of tunctl.readBatch(fd, 64)) handle(packet);
 * const buf = new tunctl.BatchBuffer(256);
 * const n = tunctl.readBatch(fd, 256, buf); // buf.packet(0) .. buf.packet(n - 1)
 * ```
 */
export function readBatch(fd: number, max?: number): Buffer[];
export function readBatch(fd: number, max: number, into: BatchBuffer): number;
export function readBatch(fd: number, max = 64, into?: BatchBuffer): Buffer[] | number {
  assertFd(fd);
  assertInt(max, 'max', 1, 4096);
  if (into !== undefined) {
    if (!(into instanceof BatchBuffer)) throw new TypeError('readBatch: into must be a tunctl.BatchBuffer');
    return readBatchInto(fd, Math.min(max, into.maxPackets), into);
  }
  const n = loadNative();
  const out = batchOut;
  const { area, words } = batchArea();
  const packets: Buffer[] = [];
  while (packets.length < max) {
    sys(() => n.readRecords(fd, area, 0, area.length, MAX_PACKET, max - packets.length, out));
    let pos = 0;
    for (let i = 0; i < (out[1] ?? 0); i++) {
      const len = words[pos >> 2] as number; // host byte order, as the addon stores it
      packets.push(Buffer.from(area.subarray(pos + 4, pos + 4 + len)));
      pos += 4 + ((len + 3) & ~3);
    }
    if (out[2] === 1 || out[1] === 0) break;
  }
  return packets;
}

function readBatchInto(fd: number, max: number, into: BatchBuffer): number {
  const n = loadNative();
  const out = batchOut;
  const data = into.data;
  into.count = 0;
  let pos = 0;
  while (into.count < max && data.length - pos >= 4 + MAX_PACKET) {
    const start = pos;
    sys(() => n.readRecords(fd, data, start, data.length, MAX_PACKET, max - into.count, out));
    const got = out[1] ?? 0;
    pos = into.index(start, got);
    if (out[2] === 1 || got === 0) break;
  }
  return into.count;
}

const batchOut = new Int32Array(4);
let batch: { area: Buffer; words: Uint32Array } | undefined;
function batchArea(): { area: Buffer; words: Uint32Array } {
  if (!batch) {
    const area = Buffer.allocUnsafeSlow(256 * 1024);
    batch = { area, words: new Uint32Array(area.buffer, area.byteOffset, area.byteLength >> 2) };
  }
  return batch;
}

/**
 * Write one packet (a whole IP packet for a tun, an Ethernet frame for a tap, after
 * the tun_pi or vnet header if the device has one). Returns the bytes written.
 *
 * @throws TunError, for instance `EINVAL` for a malformed packet or `EIO` when the
 *   device is down.
 * @example
 * ```ts
 * tunctl.write(fd, packet);
 * ```
 */
export function write(fd: number, buf: Uint8Array): number {
  assertFd(fd);
  assertBytes(buf, 'packet');
  if (buf.length === 0) throw new RangeError('a packet must not be empty');
  if (buf.length > MAX_PACKET) throw new RangeError(`a packet is at most ${MAX_PACKET} bytes, got ${buf.length}`);
  const n = loadNative();
  const written = sys(() => n.write(fd, buf, 0, buf.length));
  if (written < 0) {
    // The TUN driver does not block writers; EAGAIN here is out of the ordinary.
    throw tunErrorFromCode('EAGAIN', 'write');
  }
  return written;
}

/**
 * Close the fd; a device that is not persistent goes away with its last fd.
 *
 * @example
 * ```ts
 * tunctl.close(fd);
 * ```
 */
export function close(fd: number): void {
  assertFd(fd);
  const n = loadNative();
  sys(() => n.close(fd));
}
