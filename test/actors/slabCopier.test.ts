import { describe, expect, it } from 'vitest';
import { SlabCopier } from '../../src/actors/slabCopier.js';

describe('SlabCopier', () => {
  const shared = new Uint8Array(new SharedArrayBuffer(1 << 17));
  for (let i = 0; i < shared.length; i++) shared[i] = (i * 7) & 0xff;

  it('copies are exact, independent of the source, and never overlap each other', () => {
    const slabs = new SlabCopier();
    const copies: { c: Buffer; pos: number; len: number }[] = [];
    for (let i = 0, pos = 0; i < 300; i++, pos += 4 * (1 + (i % 5))) {
      const len = 1 + ((i * 97) % 1500);
      copies.push({ c: slabs.copy(shared, pos, len), pos, len });
    }
    for (const { c, pos, len } of copies) expect(c.equals(Buffer.from(shared.subarray(pos, pos + len)))).toBe(true);
    copies[0]!.c.fill(0); // a copy owns its bytes
    expect(shared[1]).toBe(7);
    expect(copies[1]!.c.equals(Buffer.from(shared.subarray(copies[1]!.pos, copies[1]!.pos + copies[1]!.len)))).toBe(true);
  });

  it('places each copy at its source offset mod 8, so V8 copies 8 bytes a step', () => {
    const slabs = new SlabCopier();
    const view = new Uint8Array(shared.buffer, 4); // a ring whose data starts 4 bytes in
    for (const [data, pos] of [[shared, 4], [shared, 8], [view, 0], [view, 4], [shared, 12], [shared, 1 << 16]] as const) {
      for (const len of [60, 1400, 40_000]) {
        const c = slabs.copy(data, pos, len);
        expect((c.byteOffset & 7) === ((data.byteOffset + pos) & 7), `pos ${pos} len ${len}`).toBe(true);
        expect(c.equals(Buffer.from(data.subarray(pos, pos + len)))).toBe(true);
      }
    }
  });
});
