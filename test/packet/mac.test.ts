import { describe, expect, it } from 'vitest';
import { formatMac, isMulticastMac, parseMac, randomLocalMac } from '../../src/packet/mac.js';
import { expectThrows } from './helpers.js';

describe('parseMac', () => {
  it('accepts colon and dash forms in any case', () => {
    const expected = Uint8Array.of(0xaa, 0xbb, 0xcc, 0x0d, 0xee, 0xff);
    expect(parseMac('aa:bb:cc:0d:ee:ff')).toEqual(expected);
    expect(parseMac('AA-BB-CC-0D-EE-FF')).toEqual(expected);
    expect(parseMac('aA:Bb:cC:0d:Ee:fF')).toEqual(expected);
  });

  it('copies a 6-byte array', () => {
    const input = Buffer.from([2, 0, 0, 0, 0, 1]);
    const out = parseMac(input);
    expect(out).not.toBe(input);
    expect([...out]).toEqual([2, 0, 0, 0, 0, 1]);
    input[5] = 9;
    expect(out[5]).toBe(1);
  });

  it('rejects malformed text with an example of the accepted form', () => {
    for (const bad of ['aa:bb:cc:dd:ee', 'aa:bb:cc:dd:ee:ff:00', 'aa:bb-cc:dd:ee:ff', 'a:b:c:d:e:f', 'aa:bb:cc:dd:ee:fg', 'aabbccddeeff', 'aa.bb.cc.dd.ee.ff', ' aa:bb:cc:dd:ee:ff', '']) {
      expectThrows(() => parseMac(bad), RangeError, /is not a MAC address/, /02:00:00:00:00:01/);
    }
  });

  it('rejects wrong-sized arrays and other types', () => {
    expectThrows(() => parseMac(new Uint8Array(5)), RangeError, /6 bytes/, /got 5/);
    expectThrows(() => parseMac(0xaabbccddeeff as unknown as string), TypeError, /number/);
  });
});

describe('formatMac', () => {
  it('writes lower-case, zero-padded, colon-separated bytes', () => {
    expect(formatMac(Uint8Array.of(2, 0, 0x5e, 0x10, 0xa, 0xff))).toBe('02:00:5e:10:0a:ff');
  });

  it('round-trips with parseMac', () => {
    expect(formatMac(parseMac('DE-AD-BE-EF-00-01'))).toBe('de:ad:be:ef:00:01');
  });

  it('rejects other lengths and non-bytes', () => {
    expectThrows(() => formatMac(new Uint8Array(7)), RangeError, /6 bytes/, /got 7/);
    expectThrows(() => formatMac('aa:bb:cc:dd:ee:ff' as unknown as Uint8Array), TypeError);
  });
});

describe('isMulticastMac', () => {
  it('checks the I/G bit', () => {
    expect(isMulticastMac('01:00:5e:00:00:01')).toBe(true);
    expect(isMulticastMac('33:33:00:00:00:01')).toBe(true);
    expect(isMulticastMac('ff:ff:ff:ff:ff:ff')).toBe(true);
    expect(isMulticastMac('02:00:00:00:00:01')).toBe(false);
    expect(isMulticastMac(Uint8Array.of(0x03, 0, 0, 0, 0, 0))).toBe(true);
    expect(isMulticastMac(Uint8Array.of(0xfe, 0, 0, 0, 0, 0))).toBe(false);
  });

  it('validates its input', () => {
    expect(() => isMulticastMac(new Uint8Array(2))).toThrow(RangeError);
    expect(() => isMulticastMac('nope')).toThrow(RangeError);
  });
});

describe('randomLocalMac', () => {
  it('is always locally administered unicast', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 500; i++) {
      const mac = randomLocalMac();
      expect(mac).toBeInstanceOf(Uint8Array);
      expect(mac.length).toBe(6);
      expect(mac[0]! & 0x02).toBe(0x02);
      expect(mac[0]! & 0x01).toBe(0);
      expect(isMulticastMac(mac)).toBe(false);
      seen.add(formatMac(mac));
    }
    // 46 random bits: 500 draws colliding more than once would mean the randomness is broken.
    expect(seen.size).toBeGreaterThan(498);
  });
});
