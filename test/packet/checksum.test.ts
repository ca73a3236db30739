import { describe, expect, it } from 'vitest';
import { internetChecksum, onesComplementSum, pseudoHeaderSum4, pseudoHeaderSum6 } from '../../src/packet/checksum.js';
import { expectThrows, hex, prng, randomBytesFrom } from './helpers.js';

/** Word-at-a-time reference that folds the carry after every addition. */
function referenceChecksum(data: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < data.length; i += 2) {
    sum += (data[i]! << 8) | (i + 1 < data.length ? data[i + 1]! : 0);
    sum = (sum & 0xffff) + (sum >>> 16);
  }
  return ~sum & 0xffff;
}

describe('internetChecksum', () => {
  it('matches the RFC 1071 section 3 example', () => {
    const data = hex('0001 f203 f4f5 f6f7');
    expect(onesComplementSum(data)).toBe(0xddf2);
    expect(internetChecksum(data)).toBe(0x220d);
  });

  it('computes a known IPv4 header checksum, and 0 over the filled-in header', () => {
    const header = hex('4500 0073 0000 4000 4011 0000 c0a8 0001 c0a8 00c7');
    expect(internetChecksum(header)).toBe(0xb861);
    header.writeUInt16BE(0xb861, 10);
    expect(internetChecksum(header)).toBe(0);
  });

  it('pads an odd last byte with zero', () => {
    expect(internetChecksum(Uint8Array.of(0x01))).toBe(0xfeff);
    expect(internetChecksum(Uint8Array.of(0x12, 0x34, 0x56))).toBe(~(0x1234 + 0x5600) & 0xffff);
  });

  it('is 0xffff for no data', () => {
    expect(internetChecksum(new Uint8Array(0))).toBe(0xffff);
  });

  it('agrees with a reference on random data of every parity, including large buffers', () => {
    const rand = prng(1071);
    for (let n = 0; n < 300; n++) {
      const data = randomBytesFrom(rand, Math.floor(rand() * 3000));
      expect(internetChecksum(data)).toBe(referenceChecksum(data));
    }
    const big = Buffer.alloc(1 << 20, 0xff);
    expect(internetChecksum(big)).toBe(referenceChecksum(big));
  });

  it('continues from a partial sum', () => {
    const rand = prng(7);
    const a = randomBytesFrom(rand, 64);
    const b = randomBytesFrom(rand, 33);
    expect(internetChecksum(b, onesComplementSum(a))).toBe(internetChecksum(Buffer.concat([a, b])));
    expect(internetChecksum(b, 0x1ffff)).toBe(internetChecksum(b, 1)); // unfolded initial sums fold
  });

  it('works on a view into a larger buffer', () => {
    const backing = hex('ffff 0001 f203 f4f5 f6f7 ffff');
    expect(internetChecksum(new Uint8Array(backing.buffer, backing.byteOffset + 2, 8))).toBe(0x220d);
  });

  it('rejects bad arguments', () => {
    expectThrows(() => internetChecksum([1, 2] as unknown as Uint8Array), TypeError, /Uint8Array/);
    expectThrows(() => internetChecksum(new Uint8Array(2), -1), RangeError, /non-negative integer/, /-1/);
    expectThrows(() => internetChecksum(new Uint8Array(2), 0.5), RangeError);
    expectThrows(() => onesComplementSum(new Uint8Array(2), '1' as unknown as number), TypeError, /string "1"/);
  });
});

describe('pseudo-header sums', () => {
  it('sums the IPv4 pseudo-header', () => {
    const sum = pseudoHeaderSum4(Uint8Array.of(10, 0, 0, 1), Uint8Array.of(10, 0, 0, 2), 17, 8);
    expect(sum).toBe(0x0a00 + 0x0001 + 0x0a00 + 0x0002 + 17 + 8);
  });

  it('equals the checksum over an explicit IPv4 pseudo-header', () => {
    const src = Uint8Array.of(192, 168, 200, 1);
    const dst = Uint8Array.of(255, 255, 255, 255);
    const segment = randomBytesFrom(prng(4), 41);
    const explicit = Buffer.concat([src, dst, Uint8Array.of(0, 6, 0, 41), segment]);
    expect(internetChecksum(segment, pseudoHeaderSum4(src, dst, 6, 41))).toBe(internetChecksum(explicit));
  });

  it('equals the checksum over an explicit IPv6 pseudo-header, 32-bit length included', () => {
    const rand = prng(8200);
    const src = randomBytesFrom(rand, 16);
    const dst = randomBytesFrom(rand, 16);
    const segment = randomBytesFrom(rand, 27);
    for (const length of [27, 0x10000, 0x1234567]) {
      const lengthBytes = Buffer.alloc(4);
      lengthBytes.writeUInt32BE(length);
      const explicit = Buffer.concat([src, dst, lengthBytes, Uint8Array.of(0, 0, 0, 58), segment]);
      expect(internetChecksum(segment, pseudoHeaderSum6(src, dst, 58, length))).toBe(internetChecksum(explicit));
    }
  });

  it('rejects wrong-sized addresses and out-of-range numbers', () => {
    expectThrows(() => pseudoHeaderSum4(new Uint8Array(16), new Uint8Array(4), 17, 8), RangeError, /src/, /4 bytes/, /got 16/);
    expectThrows(() => pseudoHeaderSum6(new Uint8Array(16), new Uint8Array(4), 58, 8), RangeError, /dst/, /16 bytes/);
    expectThrows(() => pseudoHeaderSum4(new Uint8Array(4), new Uint8Array(4), 256, 8), RangeError, /protocol/);
    expectThrows(() => pseudoHeaderSum4(new Uint8Array(4), new Uint8Array(4), 17, 0x10000), RangeError, /length/);
    expectThrows(() => pseudoHeaderSum6(new Uint8Array(16), new Uint8Array(16), 58, -1), RangeError, /length/);
  });
});
