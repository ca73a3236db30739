import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { addressSum, fold16, get16, get32, put16, put32, rangeSum, setIpv4Checksum } from '../../src/offload/rangeSum.js';
import { naiveSum } from './helpers.js';

describe('rangeSum', () => {
  it('matches the RFC 1071 example and odd lengths', () => {
    expect(rangeSum(Uint8Array.of(0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7), 0, 8, 0)).toBe(0xddf2);
    expect(rangeSum(Uint8Array.of(0xab), 0, 1, 0)).toBe(0xab00);
    expect(fold16(0x1fffe)).toBe(0xffff);
  });

  it('property: equals a naive sum for any range of any view, shared or not, at any alignment', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 3000 }),
        fc.nat(7),
        fc.nat(3000),
        fc.nat(3000),
        fc.boolean(),
        fc.integer({ min: 0, max: 0x3ffff }),
        (bytes, shift, x, y, shared, initial) => {
          const ab = shared ? new SharedArrayBuffer(bytes.length + 8) : new ArrayBuffer(bytes.length + 8);
          const view = new Uint8Array(ab, shift, bytes.length);
          view.set(bytes);
          const start = Math.min(x, y, bytes.length);
          const end = Math.min(Math.max(x, y), bytes.length);
          expect(rangeSum(view, start, end, initial)).toBe(naiveSum(bytes, start, end, initial));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('reads and writes big-endian fields and the IPv4 header checksum', () => {
    const b = new Uint8Array(40);
    put16(b, 2, 0xbeef);
    put32(b, 4, 0xdeadbeef);
    expect([get16(b, 2), get32(b, 4)]).toEqual([0xbeef, 0xdeadbeef]);
    const ip = Buffer.from('450000730000400040110000c0a80001c0a800c7', 'hex');
    setIpv4Checksum(ip, 0, 20);
    expect(ip.readUInt16BE(10)).toBe(0xb861);
    expect(addressSum(ip, 0, false)).toBe(naiveSum(ip, 12, 20));
  });
});
