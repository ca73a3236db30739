import { describe, expect, it } from 'vitest';
import { internetChecksum, pseudoHeaderSum4, pseudoHeaderSum6 } from '../../src/packet/checksum.js';
import { buildIpv4Packet } from '../../src/packet/ipPacket.js';
import { buildUdp4, buildUdp6, parseUdp } from '../../src/packet/udp.js';
import { expectThrows } from './helpers.js';

function udp4ChecksumOk(p: Buffer): boolean {
  const udp = p.subarray(20);
  return internetChecksum(udp, pseudoHeaderSum4(p.subarray(12, 16), p.subarray(16, 20), 17, udp.length)) === 0;
}

function udp6ChecksumOk(p: Buffer): boolean {
  const udp = p.subarray(40);
  return internetChecksum(udp, pseudoHeaderSum6(p.subarray(8, 24), p.subarray(24, 40), 17, udp.length)) === 0;
}

describe('buildUdp4', () => {
  it('matches an independently built packet byte for byte', () => {
    // Built with a separate Python implementation (struct + RFC 1071).
    const p = buildUdp4({ src: '198.18.0.2', dst: '198.18.0.1', srcPort: 40000, dstPort: 9, payload: Buffer.from('hi') });
    expect(p.toString('hex')).toBe('4500001e000000004011eea7c6120002c61200019c400009000a6eff6869');
  });

  it('writes lengths, ports and verifying checksums', () => {
    const payload = Buffer.alloc(1001, 0x5a);
    const p = buildUdp4({ src: '10.0.0.1', dst: '10.0.0.2', srcPort: 5353, dstPort: 53, payload, ttl: 2 });
    expect(p.length).toBe(20 + 8 + 1001);
    expect(p[8]).toBe(2);
    expect(p[9]).toBe(17);
    expect(p.readUInt16BE(20)).toBe(5353);
    expect(p.readUInt16BE(22)).toBe(53);
    expect(p.readUInt16BE(24)).toBe(8 + 1001);
    expect(internetChecksum(p.subarray(0, 20))).toBe(0);
    expect(udp4ChecksumOk(p)).toBe(true);
  });

  it('sends a computed checksum of 0 as 0xffff', () => {
    const base = { src: '10.0.0.1', dst: '10.0.0.2', srcPort: 1000, dstPort: 2000 };
    // Pick the two payload bytes that make the ones'-complement sum 0xffff.
    const rest = ~buildUdp4({ ...base, payload: Uint8Array.of(0, 0) }).readUInt16BE(26) & 0xffff;
    const word = 0xffff - rest;
    const p = buildUdp4({ ...base, payload: Uint8Array.of(word >> 8, word & 0xff) });
    expect(p.readUInt16BE(26)).toBe(0xffff);
    expect(udp4ChecksumOk(p)).toBe(true);
  });

  it('accepts address bytes and a missing payload', () => {
    const p = buildUdp4({ src: Uint8Array.of(1, 2, 3, 4), dst: Uint8Array.of(5, 6, 7, 8), srcPort: 0, dstPort: 65535 });
    expect(p.length).toBe(28);
    expect(udp4ChecksumOk(p)).toBe(true);
  });

  it('rejects bad ports, families and sizes', () => {
    const base = { src: '10.0.0.1', dst: '10.0.0.2', srcPort: 1, dstPort: 2 };
    expectThrows(() => buildUdp4({ ...base, srcPort: 65536 }), RangeError, /buildUdp4: srcPort/, /0 to 65535/, /65536/);
    expectThrows(() => buildUdp4({ ...base, dstPort: '53' as unknown as number }), TypeError, /dstPort/);
    expectThrows(() => buildUdp4({ ...base, src: 'fd00::1' }), RangeError, /src "fd00::1" is IPv6, but IPv4 is needed/);
    expectThrows(() => buildUdp4({ ...base, payload: Buffer.alloc(65508) }), RangeError, /65508 bytes/, /at most 65507/);
    expect(buildUdp4({ ...base, payload: Buffer.alloc(65507) }).length).toBe(65535);
    expectThrows(() => buildUdp4(42 as unknown as never), TypeError, /options object/);
  });
});

describe('buildUdp6', () => {
  it('writes a verifying checksum over the IPv6 pseudo-header', () => {
    const p = buildUdp6({ src: 'fd00::2', dst: 'fd00::1', srcPort: 40000, dstPort: 9, payload: Buffer.from('hi') });
    expect(p.length).toBe(50);
    expect(p[6]).toBe(17);
    expect(p.readUInt16BE(4)).toBe(10);
    expect(p.readUInt16BE(46)).toBe(0x0123); // from the same Python implementation
    expect(udp6ChecksumOk(p)).toBe(true);
  });

  it('rejects IPv4 addresses', () => {
    expectThrows(() => buildUdp6({ src: '10.0.0.1', dst: 'fd00::1', srcPort: 1, dstPort: 2 }), RangeError, /buildUdp6: src/, /IPv6 is needed/);
  });
});

describe('parseUdp', () => {
  it('round-trips both families', () => {
    const payload = Buffer.from('datagram');
    expect(parseUdp(buildUdp4({ src: '198.18.0.2', dst: '198.18.0.1', srcPort: 1234, dstPort: 53, payload }))).toEqual({
      family: 4,
      src: '198.18.0.2',
      dst: '198.18.0.1',
      srcPort: 1234,
      dstPort: 53,
      payload,
    });
    expect(parseUdp(buildUdp6({ src: 'fd00::2', dst: 'fd00::1', srcPort: 1, dstPort: 2, payload }))).toMatchObject({ family: 6, src: 'fd00::2', payload });
  });

  it('uses the UDP length, not what follows it', () => {
    const udp = Buffer.from('0001000200090000' + '41' + '4242', 'hex'); // UDP length 9 followed by 2 stray bytes
    const p = buildIpv4Packet({ src: '10.0.0.1', dst: '10.0.0.2', protocol: 17, payload: udp });
    expect(parseUdp(p)?.payload.toString()).toBe('A');
  });

  it('returns null for non-UDP, cut-short and inconsistent packets', () => {
    const good = buildUdp4({ src: '10.0.0.1', dst: '10.0.0.2', srcPort: 1, dstPort: 2, payload: Buffer.from('abc') });
    const badLength = Buffer.from(good);
    badLength.writeUInt16BE(100, 24);
    const tinyLength = Buffer.from(good);
    tinyLength.writeUInt16BE(7, 24);
    const fragment = Buffer.from(good);
    fragment.writeUInt16BE(1, 6);
    expect(parseUdp(good.subarray(0, good.length - 1))).toBeNull();
    expect(parseUdp(badLength)).toBeNull();
    expect(parseUdp(tinyLength)).toBeNull();
    expect(parseUdp(fragment)).toBeNull();
    expect(parseUdp(buildIpv4Packet({ src: '10.0.0.1', dst: '10.0.0.2', protocol: 6, payload: good.subarray(20) }))).toBeNull();
    expect(parseUdp(new Uint8Array(3))).toBeNull();
  });
});
