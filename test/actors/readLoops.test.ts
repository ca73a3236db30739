import { describe, expect, it } from 'vitest';
import { untilClosed } from '../../src/actors/readLoops.js';
import { TuncerClosedError } from '../../src/actors/tuncerClosedError.js';

describe('untilClosed', () => {
  it('yields until the interface ends, releasing each item when the next is asked for', async () => {
    const items = [1, 2, 3];
    const released: number[] = [];
    const got: number[] = [];
    const next = async () => {
      const v = items.shift();
      if (v === undefined) throw new TuncerClosedError('tun9', 'normal');
      return v;
    };
    for await (const v of untilClosed(next, (v) => released.push(v))) {
      got.push(v);
      expect(released).toEqual(got.slice(0, -1));
    }
    expect(got).toEqual([1, 2, 3]);
    expect(released).toEqual([1, 2, 3]);
  });

  it('throws other errors to the loop, and releases the item a loop leaves with', async () => {
    const released: number[] = [];
    await expect(async () => {
      for await (const _ of untilClosed(() => Promise.reject(new RangeError('bad')))) void _;
    }).rejects.toThrow(RangeError);
    for await (const v of untilClosed(async () => 7, (v) => released.push(v))) {
      expect(v).toBe(7);
      break;
    }
    expect(released).toEqual([7]);
  });
});
