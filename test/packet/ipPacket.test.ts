import { describe, expect, it } from 'vitest';
import { internetChecksum } from '../../src/packet/checksum.js';
import { formatIp } from '../../src/packet/ipAddress.js';
import {
  buildIpv4Packet,
  buildIpv6Packet,
  IPPROTO_ICMP,
  IPPROTO_ICMPV6,
  IPPROTO_TCP,
  IPPROTO_UDP,
  ipPacket,
} from '../../src/packet/ipPacket.js';
import { expectThrows, hex } from './helpers.js';

const data = Buffer.from('payload!');

describe('protocol numbers', () => {
  it('match IANA', () => {
    expect([IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMPV6]).toEqual([1, 6, 17, 58]);
  });
});

describe('buildIpv4Packet', () => {
  it('writes a correct 20-byte header', () => {
    const p = buildIpv4Packet({ src: '198.18.0.2', dst: '198.18.0.1', protocol: 253, payload: data });
    expect(p.length).toBe(28);
    // version/IHL, TOS, total length 28, id 0, no flags, TTL 64, protocol 253
    expect(p.subarray(0, 10).toString('hex')).toBe('4500001c0000000040fd');
    expect(internetChecksum(p.subarray(0, 20))).toBe(0);
    expect([...p.subarray(12, 20)]).toEqual([198, 18, 0, 2, 198, 18, 0, 1]);
    expect(p.subarray(20).toString()).toBe('payload!');
  });

  it('sets optional fields', () => {
    const p = buildIpv4Packet({ src: '10.0.0.1', dst: '10.0.0.2', protocol: 17, ttl: 1, identification: 0xabcd, dontFragment: true, tos: 0xb8 });
    expect(p[1]).toBe(0xb8);
    expect(p.readUInt16BE(4)).toBe(0xabcd);
    expect(p.readUInt16BE(6)).toBe(0x4000);
    expect(p[8]).toBe(1);
    expect(internetChecksum(p)).toBe(0);
  });

  it('rejects IPv6 addresses, bad fields and oversize payloads', () => {
    expectThrows(() => buildIpv4Packet({ src: 'fd00::1', dst: '10.0.0.1', protocol: 17 }), RangeError, /src "fd00::1" is IPv6, but IPv4 is needed/);
    expectThrows(() => buildIpv4Packet({ src: '10.0.0.1', dst: '10.0.0.2', protocol: 256 }), RangeError, /protocol/, /0 to 255/);
    expectThrows(() => buildIpv4Packet({ src: '10.0.0.1', dst: '10.0.0.2', protocol: 17, ttl: 300 }), RangeError, /ttl/);
    expectThrows(
      () => buildIpv4Packet({ src: '10.0.0.1', dst: '10.0.0.2', protocol: 17, payload: Buffer.alloc(65516) }),
      RangeError,
      /65516 bytes/,
      /at most 65515/,
    );
    expect(buildIpv4Packet({ src: '10.0.0.1', dst: '10.0.0.2', protocol: 17, payload: Buffer.alloc(65515) }).length).toBe(65535);
    expectThrows(() => buildIpv4Packet(undefined as unknown as never), TypeError, /options object/);
    expectThrows(() => buildIpv4Packet({ src: '10.0.0.1', dst: '10.0.0.2', protocol: 17, payload: 'x' as unknown as Uint8Array }), TypeError, /payload/);
  });
});

describe('buildIpv6Packet', () => {
  it('writes a correct 40-byte header', () => {
    const p = buildIpv6Packet({ src: 'fd00::2', dst: 'fd00::1', nextHeader: 59, payload: data, trafficClass: 0xab, flowLabel: 0x12345, hopLimit: 255 });
    expect(p.length).toBe(48);
    expect(p.subarray(0, 8).toString('hex')).toBe('6ab12345' + '0008' + '3b' + 'ff');
    expect(formatIp(p.subarray(8, 24))).toBe('fd00::2');
    expect(formatIp(p.subarray(24, 40))).toBe('fd00::1');
  });

  it('rejects IPv4 addresses and out-of-range fields', () => {
    expectThrows(() => buildIpv6Packet({ src: 'fd00::1', dst: '10.0.0.1', nextHeader: 58 }), RangeError, /dst "10\.0\.0\.1" is IPv4, but IPv6 is needed/);
    expectThrows(() => buildIpv6Packet({ src: 'fd00::1', dst: 'fd00::2', nextHeader: 58, flowLabel: 0x100000 }), RangeError, /flowLabel/);
    expectThrows(() => buildIpv6Packet({ src: 'fd00::1', dst: 'fd00::2', nextHeader: 58, payload: Buffer.alloc(65536) }), RangeError, /65536 bytes/);
  });
});

describe('ipPacket', () => {
  it('parses IPv4 and returns views, not copies', () => {
    const p = buildIpv4Packet({ src: '198.18.0.2', dst: '198.18.0.1', protocol: IPPROTO_UDP, payload: data, ttl: 9 });
    const ip = ipPacket(p)!;
    expect(ip).toMatchObject({ family: 4, protocol: 17, ttl: 9, headerLength: 20, length: 28, truncated: false, fragmentOffset: 0, moreFragments: false });
    expect(formatIp(ip.src)).toBe('198.18.0.2');
    expect(formatIp(ip.dst)).toBe('198.18.0.1');
    expect(ip.payload.toString()).toBe('payload!');
    p[20] = 0x50; // 'P'
    expect(ip.payload.toString()).toBe('Payload!');
  });

  it('ignores link-layer padding after the total length', () => {
    const p = buildIpv4Packet({ src: '10.0.0.1', dst: '10.0.0.2', protocol: 1, payload: data });
    const ip = ipPacket(Buffer.concat([p, Buffer.alloc(18)]))!;
    expect(ip.payload.length).toBe(8);
    expect(ip.truncated).toBe(false);
  });

  it('flags a packet cut shorter than its total length', () => {
    const p = buildIpv4Packet({ src: '10.0.0.1', dst: '10.0.0.2', protocol: 1, payload: data });
    const ip = ipPacket(p.subarray(0, 24))!;
    expect(ip.truncated).toBe(true);
    expect(ip.length).toBe(28);
    expect(ip.payload.length).toBe(4);
  });

  it('skips IPv4 options', () => {
    const p = buildIpv4Packet({ src: '10.0.0.1', dst: '10.0.0.2', protocol: 6, payload: Buffer.concat([hex('01010100'), data]) });
    p[0] = 0x46; // IHL 6: the first 4 payload bytes become options (NOP NOP NOP EOL)
    const ip = ipPacket(p)!;
    expect(ip.headerLength).toBe(24);
    expect(ip.payload.toString()).toBe('payload!');
  });

  it('reads IPv4 fragment fields', () => {
    const p = buildIpv4Packet({ src: '10.0.0.1', dst: '10.0.0.2', protocol: 17, payload: data });
    p.writeUInt16BE(0x2000 | 185, 6); // MF, offset 185 * 8
    expect(ipPacket(p)).toMatchObject({ fragmentOffset: 1480, moreFragments: true });
  });

  it('returns null for non-IP and inconsistent headers', () => {
    const p = buildIpv4Packet({ src: '10.0.0.1', dst: '10.0.0.2', protocol: 17, payload: data });
    expect(ipPacket(new Uint8Array(0))).toBeNull();
    expect(ipPacket(p.subarray(0, 19))).toBeNull();
    const badIhl = Buffer.from(p);
    badIhl[0] = 0x44;
    expect(ipPacket(badIhl)).toBeNull();
    const bigIhl = Buffer.from(p);
    bigIhl[0] = 0x4f; // 60-byte header in a 28-byte packet
    expect(ipPacket(bigIhl)).toBeNull();
    const shortTotal = Buffer.from(p);
    shortTotal.writeUInt16BE(19, 2);
    expect(ipPacket(shortTotal)).toBeNull();
    const v5 = Buffer.from(p);
    v5[0] = 0x55;
    expect(ipPacket(v5)).toBeNull();
    expect(ipPacket(Buffer.alloc(39, 0x60))).toBeNull();
  });

  it('parses IPv6', () => {
    const p = buildIpv6Packet({ src: 'fe80::1', dst: 'ff02::1', nextHeader: IPPROTO_ICMPV6, payload: data, hopLimit: 1 });
    const ip = ipPacket(p)!;
    expect(ip).toMatchObject({ family: 6, protocol: 58, ttl: 1, headerLength: 40, length: 48, truncated: false });
    expect(formatIp(ip.src)).toBe('fe80::1');
    expect(formatIp(ip.dst)).toBe('ff02::1');
    expect(ip.payload.toString()).toBe('payload!');
  });

  it('walks IPv6 extension headers to the transport protocol', () => {
    const hopByHop = hex('3c00 0502 0000 0100'); // next: dest opts; router alert + PadN
    const destOpts = hex('2c01 0000 0000 0000 0000 0000 0000 0000'); // next: fragment, 16 bytes
    const fragment = hex('1100 0001 1234 5678'); // next: UDP, offset 0, M=1
    const p = buildIpv6Packet({ src: 'fd00::1', dst: 'fd00::2', nextHeader: 0, payload: Buffer.concat([hopByHop, destOpts, fragment, data]) });
    const ip = ipPacket(p)!;
    expect(ip).toMatchObject({ protocol: IPPROTO_UDP, headerLength: 40 + 8 + 16 + 8, fragmentOffset: 0, moreFragments: true });
    expect(ip.payload.toString()).toBe('payload!');
  });

  it('stops at a non-first IPv6 fragment and counts AH length in 4-byte units', () => {
    const later = buildIpv6Packet({ src: 'fd00::1', dst: 'fd00::2', nextHeader: 44, payload: Buffer.concat([hex('1100 05c8 1234 5678'), data]) });
    expect(ipPacket(later)).toMatchObject({ protocol: 17, fragmentOffset: 1480, moreFragments: false, headerLength: 48 });
    const ah = hex('0604 0000 0000 0001 0000 0001 0000 0000 0000 0000 0000 0000'); // 24 bytes: (4 + 2) * 4
    const withAh = buildIpv6Packet({ src: 'fd00::1', dst: 'fd00::2', nextHeader: 51, payload: Buffer.concat([ah, data]) });
    expect(ipPacket(withAh)).toMatchObject({ protocol: IPPROTO_TCP, headerLength: 64 });
  });

  it('stops at an IPv6 extension header that does not fit', () => {
    const p = buildIpv6Packet({ src: 'fd00::1', dst: 'fd00::2', nextHeader: 0, payload: hex('3aff 0000') });
    expect(ipPacket(p)).toMatchObject({ protocol: 0, headerLength: 40 });
  });

  it('throws TypeError for non-bytes', () => {
    expectThrows(() => ipPacket({} as Uint8Array), TypeError, /ipPacket/, /Object/);
  });
});
