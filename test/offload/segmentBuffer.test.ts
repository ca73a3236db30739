import { describe, expect, it } from 'vitest';
import { SegmentBuffer, recordBytes } from '../../src/offload/segmentBuffer.js';
import { OffloadError } from '../../src/offload/offloadError.js';
import { BatchBuffer } from '../../src/tunctl/batchBuffer.js';

describe('SegmentBuffer', () => {
  it('appends records in the BatchBuffer layout, and clear() starts over', () => {
    const out = new SegmentBuffer(4, 1 << 17);
    expect(out).toBeInstanceOf(BatchBuffer);
    expect(out.end).toBe(0);
    let at = out.end;
    Buffer.from('hello').copy(out.data, at + 4);
    at = out.commit(at, 5);
    expect(at).toBe(recordBytes(5));
    expect(out.end).toBe(12);
    Buffer.from('abcd').copy(out.data, at + 4);
    out.commit(at, 4);
    expect(out.count).toBe(2);
    expect(out.packet(0).toString()).toBe('hello');
    expect(out.packet(1).toString()).toBe('abcd');
    expect(out.data.readUInt32LE(0)).toBe(5); // host order, as the addon reads it (x86, arm64)
    out.clear();
    expect([out.count, out.end]).toEqual([0, 0]);
  });

  it('requireRoom refuses, with NO_ROOM, what does not fit in packets or bytes', () => {
    const out = new SegmentBuffer(2, 65552);
    expect(() => out.requireRoom(3, 12, 'three packets')).toThrow(OffloadError);
    expect(() => out.requireRoom(1, 65553, 'a big one')).toThrow(/NO_ROOM: a big one need 1 packets in 65553 bytes/);
    expect(() => out.requireRoom(2, 65552, 'two')).not.toThrow();
  });
});
