import { describe, expect, it } from 'vitest';
import { describePacket, packetProtocol } from '../../src/packet/describePacket.js';
import { buildIcmp4EchoRequest, buildIcmp6EchoReply, buildIcmp6EchoRequest } from '../../src/packet/icmpEcho.js';
import { parseIp } from '../../src/packet/ipAddress.js';
import { buildIpv4Packet, buildIpv6Packet } from '../../src/packet/ipPacket.js';
import { parseMac } from '../../src/packet/mac.js';
import { buildUdp4, buildUdp6 } from '../../src/packet/udp.js';
import { expectThrows, hex, prng, randomBytesFrom } from './helpers.js';

const A4 = '198.18.0.2';
const B4 = '198.18.0.1';
const A6 = 'fd00::2';
const B6 = 'fd00::1';

function tcp4(flags: number, srcPort = 1234, dstPort = 80): Buffer {
  const tcp = Buffer.alloc(20);
  tcp.writeUInt16BE(srcPort, 0);
  tcp.writeUInt16BE(dstPort, 2);
  tcp[12] = 5 << 4;
  tcp[13] = flags;
  return buildIpv4Packet({ src: A4, dst: B4, protocol: 6, payload: tcp });
}

function icmp6(type: number, body: Uint8Array = new Uint8Array(4), src = 'fe80::1', dst = 'ff02::2'): Buffer {
  return buildIpv6Packet({ src, dst, nextHeader: 58, payload: Buffer.concat([Uint8Array.of(type, 0, 0, 0), body]) });
}

function ethernet(dst: string, src: string, type: number, payload: Uint8Array, vlan?: number): Buffer {
  const tag = vlan === undefined ? Buffer.alloc(0) : Buffer.from([0x81, 0x00, vlan >> 8, vlan & 0xff]);
  const typeBytes = Buffer.from([type >> 8, type & 0xff]);
  return Buffer.concat([parseMac(dst), parseMac(src), tag, typeBytes, payload]);
}

function arp(op: number, senderMac: string, senderIp: string, targetMac: string, targetIp: string): Buffer {
  return Buffer.concat([hex('0001 0800 06 04'), Uint8Array.of(0, op), parseMac(senderMac), parseIp(senderIp).bytes, parseMac(targetMac), parseIp(targetIp).bytes]);
}

describe('describePacket: IP', () => {
  it('describes ICMP echo like the demo expects', () => {
    const p = buildIcmp4EchoRequest({ src: A4, dst: B4, id: 1, seq: 3, payload: Buffer.alloc(56) });
    expect(describePacket(p)).toBe('IPv4 198.18.0.2 > 198.18.0.1 ICMP echo request id=1 seq=3 len=84');
  });

  it('describes ICMPv6 echo', () => {
    expect(describePacket(buildIcmp6EchoReply({ src: A6, dst: B6, id: 9, seq: 4 }))).toBe('IPv6 fd00::2 > fd00::1 ICMPv6 echo reply id=9 seq=4 len=48');
    expect(describePacket(buildIcmp6EchoRequest({ src: A6, dst: B6, id: 1, seq: 2 }))).toBe('IPv6 fd00::2 > fd00::1 ICMPv6 echo request id=1 seq=2 len=48');
  });

  it('describes UDP over both families', () => {
    expect(describePacket(buildUdp4({ src: A4, dst: B4, srcPort: 5353, dstPort: 53, payload: Buffer.alloc(12) }))).toBe(
      'IPv4 198.18.0.2 > 198.18.0.1 UDP 5353 > 53 len=40',
    );
    expect(describePacket(buildUdp6({ src: A6, dst: B6, srcPort: 1, dstPort: 2 }))).toBe('IPv6 fd00::2 > fd00::1 UDP 1 > 2 len=48');
  });

  it('describes TCP with tcpdump flag letters', () => {
    expect(describePacket(tcp4(0x02))).toBe('IPv4 198.18.0.2 > 198.18.0.1 TCP 1234 > 80 [S] len=40');
    expect(describePacket(tcp4(0x12))).toMatch(/TCP 1234 > 80 \[S\.\] /);
    expect(describePacket(tcp4(0x18))).toMatch(/\[P\.\]/);
    expect(describePacket(tcp4(0x11))).toMatch(/\[F\.\]/);
    expect(describePacket(tcp4(0x04))).toMatch(/\[R\]/);
    expect(describePacket(tcp4(0xc2))).toMatch(/\[SEW\]/);
    expect(describePacket(tcp4(0x00))).toMatch(/\[none\]/);
  });

  it('names ICMPv6 neighbour discovery and MLD', () => {
    expect(describePacket(icmp6(133))).toBe('IPv6 fe80::1 > ff02::2 ICMPv6 router solicitation len=48');
    expect(describePacket(icmp6(134, new Uint8Array(12)))).toMatch(/ICMPv6 router advertisement len=56$/);
    const target = Buffer.concat([new Uint8Array(4), parseIp('fd00::1').bytes]);
    expect(describePacket(icmp6(135, target, '::', 'ff02::1:ff00:1'))).toBe('IPv6 :: > ff02::1:ff00:1 ICMPv6 neighbour solicitation who-has fd00::1 len=64');
    expect(describePacket(icmp6(136, target))).toMatch(/ICMPv6 neighbour advertisement fd00::1 len=64$/);
    expect(describePacket(icmp6(130))).toMatch(/ICMPv6 MLD query/);
    expect(describePacket(icmp6(131))).toMatch(/ICMPv6 MLD report/);
    expect(describePacket(icmp6(132))).toMatch(/ICMPv6 MLD done/);
    expect(describePacket(icmp6(2, hex('0000 0500')))).toMatch(/ICMPv6 packet too big mtu=1280/);
    expect(describePacket(icmp6(200))).toMatch(/ICMPv6 type=200 code=0/);
  });

  it('finds MLDv2 reports behind the hop-by-hop router-alert header, as the kernel sends them', () => {
    const mld = Buffer.concat([Uint8Array.of(143, 0, 0, 0), new Uint8Array(4)]);
    const p = buildIpv6Packet({ src: 'fe80::1', dst: 'ff02::16', nextHeader: 0, hopLimit: 1, payload: Buffer.concat([hex('3a00 0502 0000 0100'), mld]) });
    expect(describePacket(p)).toBe('IPv6 fe80::1 > ff02::16 ICMPv6 MLDv2 report len=56');
    expect(packetProtocol(p)).toBe('icmp6');
  });

  it('describes other ICMP messages', () => {
    const unreachable = buildIpv4Packet({ src: A4, dst: B4, protocol: 1, payload: hex('0303 0000 0000 0000') });
    expect(describePacket(unreachable)).toBe('IPv4 198.18.0.2 > 198.18.0.1 ICMP destination unreachable (port unreachable) len=28');
    const fragNeeded = buildIpv4Packet({ src: A4, dst: B4, protocol: 1, payload: hex('0304 0000 0000 05dc') });
    expect(describePacket(fragNeeded)).toMatch(/ICMP destination unreachable \(fragmentation needed, mtu=1500\)/);
    const timeExceeded = buildIpv4Packet({ src: A4, dst: B4, protocol: 1, payload: hex('0b00 0000 0000 0000') });
    expect(describePacket(timeExceeded)).toMatch(/ICMP time exceeded len=28$/);
    expect(describePacket(buildIpv4Packet({ src: A4, dst: B4, protocol: 1, payload: hex('2a01 0000') }))).toMatch(/ICMP type=42 code=1/);
  });

  it('names or numbers other protocols', () => {
    expect(describePacket(buildIpv4Packet({ src: A4, dst: B4, protocol: 47, payload: Buffer.alloc(4) }))).toBe('IPv4 198.18.0.2 > 198.18.0.1 GRE len=24');
    expect(describePacket(buildIpv4Packet({ src: A4, dst: B4, protocol: 253 }))).toBe('IPv4 198.18.0.2 > 198.18.0.1 proto 253 len=20');
  });

  it('marks fragments', () => {
    const later = buildUdp4({ src: A4, dst: B4, srcPort: 1, dstPort: 2 });
    later.writeUInt16BE(185, 6);
    expect(describePacket(later)).toBe('IPv4 198.18.0.2 > 198.18.0.1 UDP fragment offset=1480 len=28');
    const first = buildUdp4({ src: A4, dst: B4, srcPort: 1, dstPort: 2 });
    first.writeUInt16BE(0x2000, 6);
    expect(describePacket(first)).toBe('IPv4 198.18.0.2 > 198.18.0.1 UDP 1 > 2 len=28 (first fragment)');
  });

  it('reports truncation instead of throwing', () => {
    const p = buildIcmp4EchoRequest({ src: A4, dst: B4, id: 1, seq: 3, payload: Buffer.alloc(56) });
    expect(describePacket(p.subarray(0, 12))).toBe('IPv4 truncated (12 bytes)');
    expect(describePacket(p.subarray(0, 30))).toBe('IPv4 198.18.0.2 > 198.18.0.1 ICMP echo request id=1 seq=3 len=84 (truncated: 30 of 84 bytes)');
    expect(describePacket(p.subarray(0, 24))).toMatch(/ICMP echo request truncated len=84/);
    expect(describePacket(p.subarray(0, 22))).toMatch(/ICMP truncated/);
    expect(describePacket(buildUdp4({ src: A4, dst: B4, srcPort: 1, dstPort: 2 }).subarray(0, 25))).toMatch(/UDP truncated/);
    expect(describePacket(tcp4(2).subarray(0, 30))).toMatch(/TCP truncated/);
    expect(describePacket(buildUdp6({ src: A6, dst: B6, srcPort: 1, dstPort: 2 }).subarray(0, 30))).toBe('IPv6 truncated (30 bytes)');
  });

  it('reports malformed headers and unknown data', () => {
    const badIhl = buildUdp4({ src: A4, dst: B4, srcPort: 1, dstPort: 2 });
    badIhl[0] = 0x43;
    expect(describePacket(badIhl)).toBe('IPv4 malformed (28 bytes)');
    expect(describePacket(new Uint8Array(12))).toBe('unknown (12 bytes)');
    expect(describePacket(new Uint8Array(0))).toBe('unknown (0 bytes)');
    expect(describePacket(Buffer.from('xyz garbage!'))).toBe('unknown (12 bytes)'); // first nibble 7
    expect(describePacket(Buffer.from('GET / HTTP/1.1'))).toBe('IPv4 truncated (14 bytes)'); // 'G' is 0x47
  });
});

describe('describePacket: Ethernet', () => {
  const me = '02:00:00:00:00:01';
  const peer = '02:00:00:00:00:02';

  it('describes ARP requests and replies', () => {
    const request = ethernet('ff:ff:ff:ff:ff:ff', me, 0x0806, arp(1, me, B4, '00:00:00:00:00:00', A4));
    expect(describePacket(request, { ethernet: true })).toBe('02:00:00:00:00:01 > ff:ff:ff:ff:ff:ff ARP who-has 198.18.0.2 tell 198.18.0.1');
    const reply = ethernet(me, peer, 0x0806, arp(2, peer, A4, me, B4));
    expect(describePacket(reply, { ethernet: true })).toBe('02:00:00:00:00:02 > 02:00:00:00:00:01 ARP reply 198.18.0.2 is-at 02:00:00:00:00:02');
    expect(describePacket(ethernet(me, peer, 0x0806, arp(3, peer, A4, me, B4)), { ethernet: true })).toMatch(/ARP op=3 198\.18\.0\.2 > 198\.18\.0\.1$/);
    expect(describePacket(ethernet(me, peer, 0x0806, hex('0006 0800 0604 0001')), { ethernet: true })).toMatch(/ARP op=1 htype=6 ptype=0x0800$/);
    expect(describePacket(ethernet(me, peer, 0x0806, arp(1, me, B4, peer, A4).subarray(0, 20)), { ethernet: true })).toMatch(/ARP truncated \(20 bytes\)$/);
  });

  it('describes IP inside Ethernet, ignoring the minimum-frame padding', () => {
    const udp = buildUdp4({ src: A4, dst: B4, srcPort: 5353, dstPort: 53 });
    const frame = ethernet(peer, me, 0x0800, Buffer.concat([udp, Buffer.alloc(18)]));
    expect(describePacket(frame, { ethernet: true })).toBe('02:00:00:00:00:01 > 02:00:00:00:00:02 IPv4 198.18.0.2 > 198.18.0.1 UDP 5353 > 53 len=28');
    const v6 = ethernet('33:33:00:00:00:01', me, 0x86dd, buildIcmp6EchoRequest({ src: A6, dst: B6, id: 1, seq: 1 }));
    expect(describePacket(v6, { ethernet: true })).toBe('02:00:00:00:00:01 > 33:33:00:00:00:01 IPv6 fd00::2 > fd00::1 ICMPv6 echo request id=1 seq=1 len=48');
  });

  it('shows VLAN tags', () => {
    const frame = ethernet(peer, me, 0x0800, buildUdp4({ src: A4, dst: B4, srcPort: 1, dstPort: 2 }), 42);
    expect(describePacket(frame, { ethernet: true })).toBe('02:00:00:00:00:01 > 02:00:00:00:00:02 vlan 42 IPv4 198.18.0.2 > 198.18.0.1 UDP 1 > 2 len=28');
    expect(packetProtocol(frame, { ethernet: true })).toBe('udp');
  });

  it('names unknown ethertypes and mismatched or cut-short frames', () => {
    expect(describePacket(ethernet('01:80:c2:00:00:0e', me, 0x88cc, Buffer.alloc(46)), { ethernet: true })).toBe(
      '02:00:00:00:00:01 > 01:80:c2:00:00:0e ethertype 0x88cc (46 bytes)',
    );
    expect(describePacket(new Uint8Array(10), { ethernet: true })).toBe('Ethernet truncated (10 bytes)');
    const mismatched = ethernet(peer, me, 0x0800, buildUdp6({ src: A6, dst: B6, srcPort: 1, dstPort: 2 }));
    expect(describePacket(mismatched, { ethernet: true })).toMatch(/IPv4 malformed \(version 6, 48 bytes\)$/);
    expect(describePacket(ethernet(peer, me, 0x0800, new Uint8Array(0)), { ethernet: true })).toMatch(/IPv4 malformed \(version missing, 0 bytes\)$/);
    expect(describePacket(ethernet(peer, me, 0x8100, hex('00')), { ethernet: true })).toMatch(/VLAN truncated/);
  });
});

describe('describePacket: robustness', () => {
  it('never throws, and never falls back to its catch-all, on random or mangled input', () => {
    const rand = prng(2024);
    const seeds = [
      buildIcmp4EchoRequest({ src: A4, dst: B4, id: 1, seq: 1, payload: Buffer.alloc(16) }),
      buildIcmp6EchoRequest({ src: A6, dst: B6, id: 1, seq: 1 }),
      buildUdp6({ src: A6, dst: B6, srcPort: 1, dstPort: 2 }),
      tcp4(0x12),
      icmp6(135, Buffer.concat([new Uint8Array(4), parseIp('fd00::1').bytes])),
      buildIpv6Packet({ src: A6, dst: B6, nextHeader: 0, payload: hex('2c00 0000 0000 0000 3a00 0001 0000 0000 8000 0000 0000 0000') }),
    ];
    const frames = seeds.map((p) => ethernet('02:00:00:00:00:02', '02:00:00:00:00:01', p[0]! >> 4 === 4 ? 0x0800 : 0x86dd, p));
    frames.push(ethernet('ff:ff:ff:ff:ff:ff', '02:00:00:00:00:01', 0x0806, arp(1, '02:00:00:00:00:01', B4, '00:00:00:00:00:00', A4)));
    for (let n = 0; n < 5000; n++) {
      let input: Buffer;
      const pick = rand();
      if (pick < 0.3) {
        input = randomBytesFrom(rand, Math.floor(rand() * 80));
        if (rand() < 0.5 && input.length > 0) input[0] = rand() < 0.5 ? 0x45 : 0x60;
      } else {
        const list = pick < 0.65 ? seeds : frames;
        input = Buffer.from(list[Math.floor(rand() * list.length)]!);
        for (let flips = Math.floor(rand() * 4); flips > 0; flips--) input[Math.floor(rand() * input.length)] = Math.floor(rand() * 256);
        input = input.subarray(0, Math.floor(rand() * (input.length + 1)));
      }
      for (const ethernetMode of [false, true]) {
        let text = '';
        expect(() => {
          text = describePacket(input, { ethernet: ethernetMode });
        }).not.toThrow();
        expect(text.length).toBeGreaterThan(0);
        expect(text).not.toMatch(/^malformed/);
        expect(['icmp', 'icmp6', 'udp', 'tcp', 'arp', 'other']).toContain(packetProtocol(input, { ethernet: ethernetMode }));
      }
    }
  });

  it('throws TypeError only for a wrong argument type', () => {
    expectThrows(() => describePacket('packet' as unknown as Uint8Array), TypeError, /describePacket\(buf\)/, /string/);
    expectThrows(() => describePacket(new Uint8Array(1), true as unknown as object), TypeError, /\{ ethernet: true \}/, /boolean true/);
    expectThrows(() => packetProtocol(undefined as unknown as Uint8Array), TypeError, /packetProtocol/);
  });
});

describe('packetProtocol', () => {
  it('labels IP packets by transport protocol', () => {
    expect(packetProtocol(buildIcmp4EchoRequest({ src: A4, dst: B4, id: 1, seq: 1 }))).toBe('icmp');
    expect(packetProtocol(buildIcmp6EchoRequest({ src: A6, dst: B6, id: 1, seq: 1 }))).toBe('icmp6');
    expect(packetProtocol(buildUdp4({ src: A4, dst: B4, srcPort: 1, dstPort: 2 }))).toBe('udp');
    expect(packetProtocol(buildUdp6({ src: A6, dst: B6, srcPort: 1, dstPort: 2 }))).toBe('udp');
    expect(packetProtocol(tcp4(2))).toBe('tcp');
    expect(packetProtocol(buildIpv4Packet({ src: A4, dst: B4, protocol: 47 }))).toBe('other');
  });

  it('looks past IPv6 extension headers', () => {
    const p = buildIpv6Packet({ src: A6, dst: B6, nextHeader: 60, payload: Buffer.concat([hex('0600 0104 0000 0000'), Buffer.alloc(20)]) });
    expect(packetProtocol(p)).toBe('tcp');
  });

  it('labels Ethernet frames, ARP included', () => {
    const me = '02:00:00:00:00:01';
    expect(packetProtocol(ethernet('ff:ff:ff:ff:ff:ff', me, 0x0806, arp(1, me, B4, '00:00:00:00:00:00', A4)), { ethernet: true })).toBe('arp');
    expect(packetProtocol(ethernet('ff:ff:ff:ff:ff:ff', me, 0x0800, buildUdp4({ src: A4, dst: B4, srcPort: 1, dstPort: 2 })), { ethernet: true })).toBe('udp');
    expect(packetProtocol(ethernet('ff:ff:ff:ff:ff:ff', me, 0x86dd, buildUdp4({ src: A4, dst: B4, srcPort: 1, dstPort: 2 })), { ethernet: true })).toBe('other');
    expect(packetProtocol(ethernet('ff:ff:ff:ff:ff:ff', me, 0x88cc, Buffer.alloc(46)), { ethernet: true })).toBe('other');
  });

  it('says other for garbage and for Ethernet frames read as IP', () => {
    expect(packetProtocol(new Uint8Array(0))).toBe('other');
    expect(packetProtocol(Buffer.alloc(19, 0x45))).toBe('other');
    expect(packetProtocol(Buffer.alloc(13), { ethernet: true })).toBe('other');
    expect(packetProtocol(hex('4300 0014 0000 0000 4011 0000 0000 0000 0000 0000'))).toBe('other'); // IHL 3
  });
});
