import { describe, expect, it } from 'vitest';
import { formatByteRate, formatBytes, formatPacketRate, formatTable, ratePerSecond } from '../../src/cli/format.js';

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [1, '1 B'],
    [999, '999 B'],
    [999.4, '999 B'],
    [999.6, '1.00 kB'],
    [1000, '1.00 kB'],
    [1536, '1.54 kB'],
    [12_345, '12.3 kB'],
    [123_456, '123 kB'],
    [999_499, '999 kB'],
    [999_500, '1.00 MB'],
    [2_500_000, '2.50 MB'],
    [7.5e9, '7.50 GB'],
    [3e12, '3.00 TB'],
    [5e18, '5000 PB'],
  ])('%d bytes is %s', (n, text) => {
    expect(formatBytes(n)).toBe(text);
  });

  it('refuses negative and non-finite counts', () => {
    expect(() => formatBytes(-1)).toThrow(RangeError);
    expect(() => formatBytes(Number.NaN)).toThrow(RangeError);
    expect(() => formatBytes(Infinity)).toThrow(/finite/);
  });
});

describe('formatByteRate', () => {
  it('adds /s to the byte size', () => {
    expect(formatByteRate(0)).toBe('0 B/s');
    expect(formatByteRate(2_500_000)).toBe('2.50 MB/s');
  });
});

describe('formatPacketRate', () => {
  it.each([
    [0, '0 pkt/s'],
    [0.5, '0.50 pkt/s'],
    [2.5, '2.50 pkt/s'],
    [46.25, '46.3 pkt/s'],
    [840, '840 pkt/s'],
    [9999, '9999 pkt/s'],
    [12_345, '12.3k pkt/s'],
    [999_000, '999k pkt/s'],
    [12_000_000, '12.0M pkt/s'],
  ])('%d packets/s is %s', (n, text) => {
    expect(formatPacketRate(n)).toBe(text);
  });

  it('refuses negative rates', () => {
    expect(() => formatPacketRate(-0.1)).toThrow(RangeError);
  });
});

describe('ratePerSecond', () => {
  it('scales a delta over milliseconds to per second', () => {
    expect(ratePerSecond(50, 500)).toBe(100);
    expect(ratePerSecond(3, 1500)).toBe(2);
  });

  it('is 0 when no time passed', () => {
    expect(ratePerSecond(10, 0)).toBe(0);
  });
});

describe('formatTable', () => {
  it('pads every column but the last to its widest cell, two spaces apart', () => {
    expect(formatTable([['NAME', 'MODE', 'STATE'], ['tap10', 'tap', 'up'], ['t', 'tun', 'up,no-carrier']])).toEqual([
      'NAME   MODE  STATE',
      'tap10  tap   up',
      't      tun   up,no-carrier',
    ]);
  });

  it('leaves no trailing spaces on short rows', () => {
    const lines = formatTable([['a', 'bbbb', 'c'], ['aaaa', '']]);
    expect(lines).toEqual(['a     bbbb  c', 'aaaa']);
    for (const l of lines) expect(l).toBe(l.trimEnd());
  });

  it('returns nothing for no rows', () => {
    expect(formatTable([])).toEqual([]);
  });
});
