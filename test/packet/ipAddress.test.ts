import { describe, expect, it } from 'vitest';
import {
  broadcast4,
  checkPrefix,
  formatIp,
  ipBytes,
  netmaskToPrefix4,
  network4,
  parseCidr,
  parseIp,
  prefixToNetmask4,
} from '../../src/packet/ipAddress.js';
import { expectThrows, prng } from './helpers.js';

const v6 = (text: string): number[] => [...parseIp(text).bytes];

describe('parseIp: IPv4', () => {
  it('parses dotted quads', () => {
    expect(parseIp('198.18.0.1')).toEqual({ family: 4, bytes: Uint8Array.of(198, 18, 0, 1) });
    expect([...parseIp('0.0.0.0').bytes]).toEqual([0, 0, 0, 0]);
    expect([...parseIp('255.255.255.255').bytes]).toEqual([255, 255, 255, 255]);
  });

  it('rejects leading zeros, which some tools read as octal', () => {
    expectThrows(() => parseIp('010.0.0.1'), RangeError, /"010\.0\.0\.1"/, /leading zeros/);
    expectThrows(() => parseIp('1.2.3.00'), RangeError, /"00"/);
  });

  it('rejects numbers over 255 and wrong part counts', () => {
    expectThrows(() => parseIp('256.1.1.1'), RangeError, /256 is over 255/);
    expectThrows(() => parseIp('1.2.3'), RangeError, /4 dot-separated/, /got 3/);
    expectThrows(() => parseIp('1.2.3.4.5'), RangeError, /got 5/);
  });

  it('rejects whitespace, signs, empty parts and non-numbers', () => {
    for (const bad of [' 1.2.3.4', '1.2.3.4 ', '+1.2.3.4', '1..2.3', '1.2.3.x', '0x1.2.3.4', '1e2.0.0.1', '']) {
      expect(() => parseIp(bad), bad).toThrow(RangeError);
    }
    expectThrows(() => parseIp('localhost'), RangeError, /"localhost"/, /IPv4 like 192\.0\.2\.1 or IPv6 like fd00::1/);
  });
});

describe('parseIp: IPv6', () => {
  it('parses full and compressed forms', () => {
    expect(parseIp('::').bytes).toEqual(new Uint8Array(16));
    expect(v6('::1')).toEqual([...new Array(15).fill(0), 1]);
    expect(v6('fd00::1')).toEqual([0xfd, 0, ...new Array(13).fill(0), 1]);
    expect(v6('1::')).toEqual([0, 1, ...new Array(14).fill(0)]);
    expect(v6('2001:db8:0:0:1:0:0:1')).toEqual(v6('2001:db8::1:0:0:1'));
    expect(v6('1:2:3:4:5:6:7:8')).toEqual([0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8]);
    expect(v6('1:2:3:4:5:6:7::')).toEqual([0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 0]);
    expect(v6('::2:3:4:5:6:7:8')).toEqual([0, 0, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8]);
    expect(parseIp('fd00::1').family).toBe(6);
  });

  it('is case-insensitive and allows 1-4 digit groups', () => {
    expect(v6('FE80::ABCD')).toEqual(v6('fe80::abcd'));
    expect(v6('0fe8:0:0:0:0:0:0:0001')).toEqual(v6('fe8::1'));
  });

  it('parses an embedded IPv4 tail', () => {
    expect(v6('::ffff:1.2.3.4')).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4]);
    expect(v6('64:ff9b::192.0.2.33').slice(12)).toEqual([192, 0, 2, 33]);
    expect(v6('1:2:3:4:5:6:1.2.3.4')).toEqual([0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 1, 2, 3, 4]);
    expectThrows(() => parseIp('::ffff:1.2.3.256'), RangeError, /over 255/);
    expectThrows(() => parseIp('::1.2.3.4:5'), RangeError, /"1\.2\.3\.4"/);
    expectThrows(() => parseIp('1.2.3.4::'), RangeError);
  });

  it('rejects a "::" that stands for no groups, a second "::", and wrong group counts', () => {
    expectThrows(() => parseIp('1:2:3:4:5:6:7::8'), RangeError, /8 groups besides "::"/);
    expectThrows(() => parseIp('1::2::3'), RangeError, /only once/);
    expectThrows(() => parseIp(':::'), RangeError);
    expectThrows(() => parseIp('1:2:3:4:5:6:7'), RangeError, /8 groups/, /got 7/);
    expectThrows(() => parseIp('1:2:3:4:5:6:7:8:9'), RangeError, /got 9/);
  });

  it('rejects bad groups', () => {
    expectThrows(() => parseIp('12345::'), RangeError, /"12345"/, /1-4 hex digits/);
    expectThrows(() => parseIp('g::1'), RangeError, /"g"/);
    expectThrows(() => parseIp(':1::2'), RangeError, /empty group/);
    expectThrows(() => parseIp('1::2:'), RangeError, /empty group/);
    expectThrows(() => parseIp('[::1]'), RangeError);
  });

  it('rejects zone ids with a clear message', () => {
    expectThrows(() => parseIp('fe80::1%eth0'), RangeError, /"fe80::1%eth0"/, /zone ids/, /not supported/);
  });

  it('points to parseCidr when given a prefix', () => {
    expectThrows(() => parseIp('10.0.0.1/8'), RangeError, /parseCidr/);
  });

  it('throws TypeError for non-strings', () => {
    expectThrows(() => parseIp(0x7f000001 as unknown as string), TypeError, /string/, /number 2130706433/);
    expectThrows(() => parseIp(undefined as unknown as string), TypeError, /undefined/);
  });
});

describe('formatIp', () => {
  it('formats IPv4', () => {
    expect(formatIp(Uint8Array.of(198, 18, 0, 1))).toBe('198.18.0.1');
    expect(formatIp(Buffer.from([0, 0, 0, 0]))).toBe('0.0.0.0');
  });

  it('follows RFC 5952', () => {
    const cases: Array<[string, string]> = [
      ['2001:0db8:0000:0000:0000:0000:0002:0001', '2001:db8::2:1'], // 4.1 leading zeros, 4.2.1 longest run
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // 4.2.2 a lone zero group is not compressed
      ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'], // 4.2.3 the longest run wins
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // 4.2.3 ties go to the first run
      ['2001:DB8::AB', '2001:db8::ab'], // 4.3 lower case
      ['0:0:0:0:0:0:0:0', '::'],
      ['0:0:0:0:0:0:0:1', '::1'],
      ['1:0:0:0:0:0:0:0', '1::'],
      ['fe80:0:0:0:0:0:0:1', 'fe80::1'],
      ['1:2:3:4:5:6:7:0', '1:2:3:4:5:6:7:0'],
      ['0:1:2:3:4:5:6:7', '0:1:2:3:4:5:6:7'],
      ['::ffff:c000:0201', '::ffff:192.0.2.1'], // section 5: IPv4-mapped in mixed notation
      ['64:ff9b::c000:221', '64:ff9b::c000:221'],
    ];
    for (const [input, canonical] of cases) expect(formatIp(parseIp(input).bytes), input).toBe(canonical);
  });

  it('round-trips random addresses, biased towards zero runs', () => {
    const rand = prng(5952);
    for (let n = 0; n < 2000; n++) {
      const bytes = new Uint8Array(16);
      for (let g = 0; g < 8; g++) {
        if (rand() < 0.5) continue; // leave the group zero
        const value = rand() < 0.3 ? Math.floor(rand() * 16) : Math.floor(rand() * 0x10000);
        bytes[2 * g] = value >> 8;
        bytes[2 * g + 1] = value & 0xff;
      }
      const text = formatIp(bytes);
      expect(parseIp(text).bytes, text).toEqual(bytes);
      expect(text).not.toMatch(/::.*::|(^|:)0[0-9a-f]|[A-F]/);
      expect(formatIp(parseIp(text).bytes)).toBe(text);
    }
  });

  it('rejects other lengths and non-bytes', () => {
    expectThrows(() => formatIp(new Uint8Array(5)), RangeError, /4 bytes .* or 16 bytes/, /got 5/);
    expectThrows(() => formatIp('1.2.3.4' as unknown as Uint8Array), TypeError, /Uint8Array/);
  });
});

describe('parseCidr', () => {
  it('parses address/prefix', () => {
    expect(parseCidr('198.18.0.1/24')).toEqual({ family: 4, bytes: Uint8Array.of(198, 18, 0, 1), prefix: 24 });
    const c = parseCidr('fd00::1/64');
    expect(c.family).toBe(6);
    expect(c.prefix).toBe(64);
    expect(formatIp(c.bytes)).toBe('fd00::1');
    expect(parseCidr('0.0.0.0/0').prefix).toBe(0);
    expect(parseCidr('::/128').prefix).toBe(128);
  });

  it('returns prefix undefined without a slash', () => {
    const c = parseCidr('10.1.2.3');
    expect(c.prefix).toBeUndefined();
    expect('prefix' in c).toBe(true);
    expect([...c.bytes]).toEqual([10, 1, 2, 3]);
  });

  it('rejects bad prefixes with the accepted range', () => {
    expectThrows(() => parseCidr('10.0.0.1/33'), RangeError, /0 to 32/, /33/);
    expectThrows(() => parseCidr('fd00::/129'), RangeError, /0 to 128/);
    expectThrows(() => parseCidr('10.0.0.1/'), RangeError, /prefix length ""/);
    expectThrows(() => parseCidr('10.0.0.1/024'), RangeError, /"024"/);
    expectThrows(() => parseCidr('10.0.0.1/-1'), RangeError);
    expectThrows(() => parseCidr('10.0.0.1/24/8'), RangeError, /"24\/8"/);
    expectThrows(() => parseCidr('10.0.0/24'), RangeError, /4 dot-separated/);
    expectThrows(() => parseCidr(24 as unknown as string), TypeError);
  });
});

describe('checkPrefix', () => {
  it('accepts integers in range and returns them', () => {
    expect(checkPrefix(4, 0)).toBe(0);
    expect(checkPrefix(4, 32)).toBe(32);
    expect(checkPrefix(6, 128)).toBe(128);
  });

  it('rejects out-of-range, fractional and non-number prefixes', () => {
    expectThrows(() => checkPrefix(4, 33), RangeError, /IPv4/, /0 to 32/, /got 33/);
    expectThrows(() => checkPrefix(6, 129), RangeError, /IPv6/, /0 to 128/);
    expectThrows(() => checkPrefix(6, 1.5), RangeError, /1\.5/);
    expectThrows(() => checkPrefix(4, -1), RangeError);
    expectThrows(() => checkPrefix(4, Number.NaN), RangeError);
    expectThrows(() => checkPrefix(4, '24' as unknown as number), TypeError, /string "24"/);
    expectThrows(() => checkPrefix(5 as 4, 1), RangeError, /family/, /got 5/);
  });
});

describe('IPv4 netmasks', () => {
  it('converts prefixes to netmasks', () => {
    expect(formatIp(prefixToNetmask4(0))).toBe('0.0.0.0');
    expect(formatIp(prefixToNetmask4(1))).toBe('128.0.0.0');
    expect(formatIp(prefixToNetmask4(20))).toBe('255.255.240.0');
    expect(formatIp(prefixToNetmask4(31))).toBe('255.255.255.254');
    expect(formatIp(prefixToNetmask4(32))).toBe('255.255.255.255');
    expect(() => prefixToNetmask4(33)).toThrow(RangeError);
  });

  it('round-trips every prefix', () => {
    for (let p = 0; p <= 32; p++) expect(netmaskToPrefix4(prefixToNetmask4(p))).toBe(p);
  });

  it('accepts text netmasks', () => {
    expect(netmaskToPrefix4('255.255.255.0')).toBe(24);
  });

  it('rejects non-contiguous masks', () => {
    expectThrows(() => netmaskToPrefix4('255.0.255.0'), RangeError, /255\.0\.255\.0/, /not contiguous/);
    expectThrows(() => netmaskToPrefix4(Uint8Array.of(0, 255, 255, 255)), RangeError, /not contiguous/);
    expectThrows(() => netmaskToPrefix4(Uint8Array.of(255, 255, 255, 253)), RangeError);
  });

  it('rejects IPv6 and wrong-sized masks', () => {
    expectThrows(() => netmaskToPrefix4('ffff::'), RangeError, /IPv6/, /IPv4 is needed/);
    expectThrows(() => netmaskToPrefix4(new Uint8Array(3)), RangeError, /got 3 bytes/);
  });
});

describe('broadcast4 and network4', () => {
  it('sets or clears the host bits', () => {
    expect(formatIp(broadcast4('198.18.0.1', 24))).toBe('198.18.0.255');
    expect(formatIp(broadcast4(Uint8Array.of(10, 1, 2, 3), 8))).toBe('10.255.255.255');
    expect(formatIp(broadcast4('10.1.2.3', 32))).toBe('10.1.2.3');
    expect(formatIp(broadcast4('10.1.2.3', 0))).toBe('255.255.255.255');
    expect(formatIp(broadcast4('172.16.5.4', 20))).toBe('172.16.15.255');
    expect(formatIp(network4('198.18.0.77', 24))).toBe('198.18.0.0');
    expect(formatIp(network4('172.16.5.4', 20))).toBe('172.16.0.0');
    expect(formatIp(network4('10.1.2.3', 0))).toBe('0.0.0.0');
  });

  it('rejects IPv6 and bad prefixes', () => {
    expectThrows(() => broadcast4('fd00::1', 64), RangeError, /IPv6/);
    expectThrows(() => broadcast4('10.0.0.1', 33), RangeError, /0 to 32/);
  });
});

describe('ipBytes', () => {
  it('resolves text and passes bytes through', () => {
    const b = Uint8Array.of(1, 2, 3, 4);
    expect(ipBytes(b)).toBe(b);
    expect([...ipBytes('1.2.3.4', 4)]).toEqual([1, 2, 3, 4]);
  });

  it('names the address and both families on a mismatch', () => {
    expectThrows(() => ipBytes('fd00::1', 4, 'src'), RangeError, /^src "fd00::1" is IPv6, but IPv4 is needed$/);
    expectThrows(() => ipBytes(new Uint8Array(4), 6, 'dst'), RangeError, /dst is IPv4, but IPv6 is needed/);
    expectThrows(() => ipBytes(new Uint8Array(8)), RangeError, /got 8 bytes/);
    expectThrows(() => ipBytes(7 as unknown as string), TypeError, /number 7/);
  });
});
