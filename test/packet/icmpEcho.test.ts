import { describe, expect, it } from 'vitest';
import { internetChecksum, pseudoHeaderSum6 } from '../../src/packet/checksum.js';
import {
  buildIcmp4EchoReply,
  buildIcmp4EchoRequest,
  buildIcmp6EchoReply,
  buildIcmp6EchoRequest,
  echoReplyFor,
  ICMP6_ECHO_REPLY,
  ICMP6_ECHO_REQUEST,
  ICMP_ECHO_REPLY,
  ICMP_ECHO_REQUEST,
  parseIcmpEcho,
} from '../../src/packet/icmpEcho.js';
import { parseIp } from '../../src/packet/ipAddress.js';
import { buildIpv4Packet, buildIpv6Packet } from '../../src/packet/ipPacket.js';
import { buildUdp4 } from '../../src/packet/udp.js';
import { expectThrows, hex } from './helpers.js';

// `ping -c1 localhost` as captured by `tcpdump -i lo -X`:
// "IP localhost > localhost: ICMP echo request, id 21780, seq 1, length 64" and its reply.
const PING_PAYLOAD = '2d08 f460 0000 0000 6c83 0d00 0000 0000 1011 1213 1415 1617 1819 1a1b 1c1d 1e1f 2021 2223 2425 2627 2829 2a2b 2c2d 2e2f 3031 3233 3435 3637';
const TCPDUMP_REQUEST = hex(`4500 0054 9210 4000 4001 aa96 7f00 0001 7f00 0001 0800 492b 5514 0001 ${PING_PAYLOAD}`);
const TCPDUMP_REPLY = hex(`4500 0054 9211 0000 4001 ea95 7f00 0001 7f00 0001 0000 512b 5514 0001 ${PING_PAYLOAD}`);

function icmp6ChecksumOk(packet: Buffer): boolean {
  const body = packet.subarray(40);
  return internetChecksum(body, pseudoHeaderSum6(packet.subarray(8, 24), packet.subarray(24, 40), 58, body.length)) === 0;
}

describe('ICMP type constants', () => {
  it('match RFC 792 and RFC 4443', () => {
    expect([ICMP_ECHO_REQUEST, ICMP_ECHO_REPLY, ICMP6_ECHO_REQUEST, ICMP6_ECHO_REPLY]).toEqual([8, 0, 128, 129]);
  });
});

describe('buildIcmp4EchoRequest', () => {
  it('reproduces the ICMP bytes of a real ping, checksum included', () => {
    const built = buildIcmp4EchoRequest({ src: '127.0.0.1', dst: '127.0.0.1', id: 21780, seq: 1, payload: hex(PING_PAYLOAD) });
    expect(built.length).toBe(84);
    expect(built.subarray(20).toString('hex')).toBe(TCPDUMP_REQUEST.subarray(20).toString('hex'));
    expect(built.readUInt16BE(22)).toBe(0x492b);
  });

  it('writes an IPv4 header with a correct checksum', () => {
    const p = buildIcmp4EchoRequest({ src: '198.18.0.2', dst: Uint8Array.of(198, 18, 0, 1), id: 1, seq: 3, ttl: 7 });
    expect(p.length).toBe(28);
    expect(p[0]).toBe(0x45);
    expect(p.readUInt16BE(2)).toBe(28);
    expect(p[8]).toBe(7);
    expect(p[9]).toBe(1);
    expect([...p.subarray(12, 20)]).toEqual([198, 18, 0, 2, 198, 18, 0, 1]);
    expect(internetChecksum(p.subarray(0, 20))).toBe(0);
    expect(internetChecksum(p.subarray(20))).toBe(0);
  });

  it('checksums an odd-length payload correctly', () => {
    const p = buildIcmp4EchoRequest({ src: '10.0.0.1', dst: '10.0.0.2', id: 0xffff, seq: 0xffff, payload: Buffer.from('odd') });
    expect(internetChecksum(p.subarray(20))).toBe(0);
    expect(p[8]).toBe(64);
  });

  it('computes the hand-worked checksum of an empty request', () => {
    // 0x0800 + id 0 + seq 0 sums to 0x0800, so the checksum is ~0x0800.
    const p = buildIcmp4EchoRequest({ src: '0.0.0.0', dst: '0.0.0.0', id: 0, seq: 0 });
    expect(p.readUInt16BE(22)).toBe(0xf7ff);
  });

  it('rejects IPv6 addresses, bad numbers and bad options', () => {
    expectThrows(() => buildIcmp4EchoRequest({ src: 'fd00::1', dst: '10.0.0.1', id: 1, seq: 1 }), RangeError, /buildIcmp4EchoRequest: src "fd00::1" is IPv6, but IPv4 is needed/);
    expectThrows(() => buildIcmp4EchoRequest({ src: '10.0.0.1', dst: 'fd00::1', id: 1, seq: 1 }), RangeError, /dst/);
    expectThrows(() => buildIcmp4EchoRequest({ src: '10.0.0.1', dst: '10.0.0.2', id: 70000, seq: 1 }), RangeError, /id/, /0 to 65535/, /70000/);
    expectThrows(() => buildIcmp4EchoRequest({ src: '10.0.0.1', dst: '10.0.0.2', id: 1, seq: -1 }), RangeError, /seq/);
    expectThrows(() => buildIcmp4EchoRequest({ src: '10.0.0.1', dst: '10.0.0.2', id: 1, seq: 1, ttl: 256 }), RangeError, /ttl/);
    expectThrows(() => buildIcmp4EchoRequest({ src: '10.0.0.1', dst: '10.0.0.2', id: 1, seq: 1, payload: 'hi' as unknown as Uint8Array }), TypeError, /payload/);
    expectThrows(() => buildIcmp4EchoRequest(null as unknown as never), TypeError, /options object/);
    expectThrows(() => buildIcmp4EchoRequest({ src: '10.0.0.1', dst: '10.0.0.256', id: 1, seq: 1 }), RangeError, /over 255/);
  });
});

describe('buildIcmp4EchoReply', () => {
  it('reproduces the ICMP bytes of a real reply', () => {
    const built = buildIcmp4EchoReply({ src: '127.0.0.1', dst: '127.0.0.1', id: 21780, seq: 1, payload: hex(PING_PAYLOAD) });
    expect(built.subarray(20).toString('hex')).toBe(TCPDUMP_REPLY.subarray(20).toString('hex'));
  });
});

describe('buildIcmp6EchoRequest', () => {
  it('computes the hand-worked checksum for ::1 > ::1', () => {
    // Pseudo-header: 1 + 1 + length 8 + next header 58; message: 0x8000. ~0x8044 = 0x7fbb.
    const p = buildIcmp6EchoRequest({ src: '::1', dst: '::1', id: 0, seq: 0 });
    expect(p.length).toBe(48);
    expect(p.readUInt16BE(42)).toBe(0x7fbb);
  });

  it('matches an independently computed checksum', () => {
    // Computed with a separate Python implementation of RFC 8200 section 8.1.
    const p = buildIcmp6EchoRequest({ src: 'fd00::2', dst: 'fd00::1', id: 0x1234, seq: 1, payload: Buffer.from('ping') });
    expect(p.readUInt16BE(42)).toBe(0x94ae);
  });

  it('writes an IPv6 header and a checksum that verifies over the pseudo-header', () => {
    const payload = Buffer.from('hello, tun');
    const p = buildIcmp6EchoRequest({ src: 'fd00::2', dst: 'fd00::1', id: 9, seq: 4, payload, hopLimit: 3 });
    expect(p[0]! >> 4).toBe(6);
    expect(p.readUInt16BE(4)).toBe(8 + payload.length);
    expect(p[6]).toBe(58);
    expect(p[7]).toBe(3);
    expect([...p.subarray(8, 24)]).toEqual([...parseIp('fd00::2').bytes]);
    expect(p[40]).toBe(128);
    expect(icmp6ChecksumOk(p)).toBe(true);
    // The pseudo-header matters: the same message checksummed alone would not verify.
    expect(internetChecksum(p.subarray(40))).not.toBe(0);
  });

  it('rejects IPv4 addresses', () => {
    expectThrows(() => buildIcmp6EchoRequest({ src: 'fd00::2', dst: '198.18.0.1', id: 1, seq: 1 }), RangeError, /dst "198\.18\.0\.1" is IPv4, but IPv6 is needed/);
    expectThrows(() => buildIcmp6EchoRequest({ src: new Uint8Array(4), dst: 'fd00::1', id: 1, seq: 1 }), RangeError, /src is IPv4/);
  });
});

describe('parseIcmpEcho', () => {
  it('parses a real tcpdump request and reply', () => {
    const req = parseIcmpEcho(TCPDUMP_REQUEST)!;
    expect(req).toMatchObject({ family: 4, type: 'request', src: '127.0.0.1', dst: '127.0.0.1', id: 21780, seq: 1 });
    expect(req.payload.toString('hex')).toBe(hex(PING_PAYLOAD).toString('hex'));
    expect(parseIcmpEcho(TCPDUMP_REPLY)).toMatchObject({ type: 'reply', id: 21780, seq: 1 });
  });

  it('round-trips every builder', () => {
    const payload = Buffer.from([1, 2, 3]);
    expect(parseIcmpEcho(buildIcmp4EchoRequest({ src: '198.18.0.2', dst: '198.18.0.1', id: 7, seq: 3, payload }))).toEqual({
      family: 4,
      type: 'request',
      src: '198.18.0.2',
      dst: '198.18.0.1',
      id: 7,
      seq: 3,
      payload,
    });
    expect(parseIcmpEcho(buildIcmp4EchoReply({ src: '198.18.0.1', dst: '198.18.0.2', id: 7, seq: 3 }))).toMatchObject({ family: 4, type: 'reply' });
    expect(parseIcmpEcho(buildIcmp6EchoRequest({ src: 'fd00::2', dst: 'fd00::1', id: 65535, seq: 0, payload }))).toEqual({
      family: 6,
      type: 'request',
      src: 'fd00::2',
      dst: 'fd00::1',
      id: 65535,
      seq: 0,
      payload,
    });
    expect(parseIcmpEcho(buildIcmp6EchoReply({ src: 'fd00::1', dst: 'fd00::2', id: 1, seq: 2 }))).toMatchObject({ family: 6, type: 'reply', src: 'fd00::1' });
  });

  it('returns the payload as a view', () => {
    const p = buildIcmp4EchoRequest({ src: '10.0.0.1', dst: '10.0.0.2', id: 1, seq: 1, payload: Buffer.from('abc') });
    const echo = parseIcmpEcho(p)!;
    p[28] = 0x7a;
    expect(echo.payload.toString()).toBe('zbc');
  });

  it('finds ICMPv6 after a hop-by-hop header', () => {
    const direct = buildIcmp6EchoRequest({ src: 'fd00::2', dst: 'fd00::1', id: 5, seq: 6 });
    const withHbh = buildIpv6Packet({ src: 'fd00::2', dst: 'fd00::1', nextHeader: 0, payload: Buffer.concat([hex('3a00 0104 0000 0000'), direct.subarray(40)]) });
    expect(parseIcmpEcho(withHbh)).toMatchObject({ family: 6, id: 5, seq: 6 });
  });

  it('returns null for everything that is not a whole echo', () => {
    const echo = buildIcmp4EchoRequest({ src: '10.0.0.1', dst: '10.0.0.2', id: 1, seq: 1, payload: Buffer.from('abcd') });
    const unreachable = buildIpv4Packet({ src: '10.0.0.1', dst: '10.0.0.2', protocol: 1, payload: hex('0303 0000 0000 0000') });
    const fragment = Buffer.from(echo);
    fragment.writeUInt16BE(0x2000, 6);
    const icmpInV6 = buildIpv6Packet({ src: 'fd00::1', dst: 'fd00::2', nextHeader: 1, payload: echo.subarray(20) });
    const icmp6InV4 = buildIpv4Packet({ src: '10.0.0.1', dst: '10.0.0.2', protocol: 58, payload: hex('8000 0000 0001 0001') });
    const shortIcmp = buildIpv4Packet({ src: '10.0.0.1', dst: '10.0.0.2', protocol: 1, payload: hex('0800 f7ff 0000') });
    const cases: Array<[string, Uint8Array]> = [
      ['UDP', buildUdp4({ src: '10.0.0.1', dst: '10.0.0.2', srcPort: 1, dstPort: 2 })],
      ['destination unreachable', unreachable],
      ['truncated', echo.subarray(0, echo.length - 1)],
      ['fragment', fragment],
      ['ICMP in IPv6', icmpInV6],
      ['ICMPv6 in IPv4', icmp6InV4],
      ['short ICMP', shortIcmp],
      ['empty', new Uint8Array(0)],
      ['garbage', Buffer.from('not a packet at all, really')],
    ];
    for (const [name, packet] of cases) expect(parseIcmpEcho(packet), name).toBeNull();
  });

  it('throws TypeError for non-bytes', () => {
    expectThrows(() => parseIcmpEcho('45' as unknown as Uint8Array), TypeError, /parseIcmpEcho/);
  });
});

describe('echoReplyFor', () => {
  it('answers an IPv4 request with swapped addresses and the same data', () => {
    const reply = echoReplyFor(TCPDUMP_REQUEST)!;
    expect(reply.subarray(20).toString('hex')).toBe(TCPDUMP_REPLY.subarray(20).toString('hex'));
    const req = buildIcmp4EchoRequest({ src: '198.18.0.2', dst: '198.18.0.1', id: 4, seq: 9, payload: Buffer.from('x') });
    expect(parseIcmpEcho(echoReplyFor(req)!)).toMatchObject({ type: 'reply', src: '198.18.0.1', dst: '198.18.0.2', id: 4, seq: 9 });
  });

  it('answers an IPv6 request with a verifying checksum', () => {
    const reply = echoReplyFor(buildIcmp6EchoRequest({ src: 'fd00::2', dst: 'fd00::1', id: 4, seq: 9 }))!;
    expect(parseIcmpEcho(reply)).toMatchObject({ family: 6, type: 'reply', src: 'fd00::1', dst: 'fd00::2' });
    expect(icmp6ChecksumOk(reply)).toBe(true);
  });

  it('returns null for replies and non-echo packets', () => {
    expect(echoReplyFor(TCPDUMP_REPLY)).toBeNull();
    expect(echoReplyFor(buildUdp4({ src: '10.0.0.1', dst: '10.0.0.2', srcPort: 1, dstPort: 2 }))).toBeNull();
  });
});
