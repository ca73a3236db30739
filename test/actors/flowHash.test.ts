import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { flowHash, flowHashAt, flowLayout } from '../../src/actors/flowHash.js';
import { buildUdp4, buildUdp6 } from '../../src/packet/udp.js';
import { buildIpv4Packet, buildIpv6Packet } from '../../src/packet/ipPacket.js';
import { buildIcmp4EchoRequest } from '../../src/packet/icmpEcho.js';

const udp4 = (srcPort: number, dstPort: number, payload = Buffer.from('x'), src = '198.18.0.2', dst = '198.18.0.1'): Buffer =>
  buildUdp4({ src, dst, srcPort, dstPort, payload });
const udp6 = (srcPort: number, dstPort: number, payload = Buffer.from('x')): Buffer =>
  buildUdp6({ src: 'fd00::2', dst: 'fd00::1', srcPort, dstPort, payload });

/** A TCP segment header (only the ports matter to the hash). */
function tcp4(srcPort: number, dstPort: number, payload = 0): Buffer {
  const seg = Buffer.alloc(20 + payload);
  seg.writeUInt16BE(srcPort, 0);
  seg.writeUInt16BE(dstPort, 2);
  seg[12] = 5 << 4;
  return buildIpv4Packet({ src: '198.18.0.2', dst: '198.18.0.1', protocol: 6, payload: seg });
}

/** Set the IPv4 fragment fields (flags+offset word) of a packet, in place. */
function fragment4(p: Buffer, moreFragments: boolean, offset8: number): Buffer {
  p.writeUInt16BE((moreFragments ? 0x2000 : 0) | offset8, 6);
  return p;
}

describe('flowHash', () => {
  it('is the same for every packet of one UDP/TCP 5-tuple, whatever the payload', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 65535 }), fc.integer({ min: 1, max: 65535 }), fc.uint8Array({ maxLength: 200 }), fc.uint8Array({ maxLength: 200 }), (sp, dp, a, b) => {
        expect(flowHash(udp4(sp, dp, Buffer.from(a)))).toBe(flowHash(udp4(sp, dp, Buffer.from(b))));
        expect(flowHash(udp6(sp, dp, Buffer.from(a)))).toBe(flowHash(udp6(sp, dp, Buffer.from(b))));
        expect(flowHash(tcp4(sp, dp, a.length))).toBe(flowHash(tcp4(sp, dp, b.length)));
      }),
    );
  });

  it('tells flows apart by ports, addresses and protocol, and spreads them over the queues', () => {
    expect(flowHash(udp4(1000, 9))).not.toBe(flowHash(udp4(1001, 9)));
    expect(flowHash(udp4(1000, 9))).not.toBe(flowHash(udp4(9, 1000)));
    expect(flowHash(udp4(1000, 9))).not.toBe(flowHash(udp4(1000, 9, undefined, '198.18.0.3')));
    expect(flowHash(udp4(1000, 9))).not.toBe(flowHash(tcp4(1000, 9)));
    expect(flowHash(udp6(1000, 9))).not.toBe(flowHash(udp6(1001, 9)));
    // 16 flows over 2 queues: both get some; 1024 flows over 4 queues: each about a quarter.
    const two = new Set(Array.from({ length: 16 }, (_, i) => flowHash(udp4(40000 + i, 9)) % 2));
    expect(two.size).toBe(2);
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 1024; i++) counts[flowHash(udp4(20000 + i, 9)) % 4]! += 1;
    for (const c of counts) expect(c).toBeGreaterThan(180);
  });

  it('hashes every IPv4 fragment of a datagram the same, first included, without ports', () => {
    const whole = udp4(1000, 9, Buffer.alloc(100));
    const first = fragment4(udp4(1000, 9, Buffer.alloc(100)), true, 0);
    const middle = fragment4(buildIpv4Packet({ src: '198.18.0.2', dst: '198.18.0.1', protocol: 17, payload: Buffer.alloc(64, 0xab) }), true, 8);
    const last = fragment4(buildIpv4Packet({ src: '198.18.0.2', dst: '198.18.0.1', protocol: 17, payload: Buffer.alloc(8, 0xcd) }), false, 16);
    expect(flowHash(first)).toBe(flowHash(middle));
    expect(flowHash(middle)).toBe(flowHash(last));
    expect(flowHash(first)).not.toBe(flowHash(whole)); // the whole datagram hashes with its ports
    // Another datagram between the same hosts, other ports: its fragments go the same way.
    expect(flowHash(fragment4(udp4(2000, 53, Buffer.alloc(100)), true, 0))).toBe(flowHash(first));
  });

  it('hashes an IPv6 fragment on addresses and the fragmented protocol', () => {
    const frag = (nh: number, tag: number): Buffer => {
      const fh = Buffer.alloc(8 + 16, tag);
      fh[0] = nh; // the fragment header's next header
      fh[1] = 0;
      return buildIpv6Packet({ src: 'fd00::2', dst: 'fd00::1', nextHeader: 44, payload: fh });
    };
    expect(flowHash(frag(17, 1))).toBe(flowHash(frag(17, 2)));
    expect(flowHash(frag(17, 1))).not.toBe(flowHash(frag(6, 1)));
  });

  it('hashes other protocols on addresses and protocol; non-IP and short packets hash to 0', () => {
    const a = buildIcmp4EchoRequest({ src: '198.18.0.2', dst: '198.18.0.1', id: 1, seq: 1 });
    const b = buildIcmp4EchoRequest({ src: '198.18.0.2', dst: '198.18.0.1', id: 2, seq: 9 });
    expect(flowHash(a)).toBe(flowHash(b));
    expect(flowHash(a)).not.toBe(0);
    expect(flowHash(Buffer.from([0x45, 0, 0]))).toBe(0); // truncated IPv4
    expect(flowHash(Buffer.from([0x60, 0, 0, 0]))).toBe(0); // truncated IPv6
    expect(flowHash(Buffer.from([0x10, 1, 2, 3]))).toBe(0); // neither
    expect(flowHash(new Uint8Array(0))).toBe(0);
    // A UDP header cut short: the addresses still count, the ports cannot.
    const cut = udp4(1000, 9).subarray(0, 22);
    expect(flowHash(cut)).toBe(flowHash(fragment4(udp4(1, 2), true, 0)));
  });

  it('finds the IP header behind tun_pi, a vnet header and an Ethernet header with VLAN tags', () => {
    const ip = udp4(1000, 9);
    const want = flowHash(ip);
    expect(flowLayout({ mode: 'tun', noPi: true })).toEqual({ skip: 0, ethernet: false });
    const pi = Buffer.concat([Buffer.from([0, 0, 0x08, 0x00]), ip]);
    expect(flowHash(pi, flowLayout({ mode: 'tun', noPi: false }))).toBe(want);
    const vnet = Buffer.concat([Buffer.alloc(12), ip]);
    expect(flowHash(vnet, flowLayout({ mode: 'tun', noPi: true, vnetHdr: true, vnetHdrSize: 12 }))).toBe(want);
    const eth = Buffer.concat([Buffer.alloc(12, 0x02), Buffer.from([0x08, 0x00]), ip]);
    expect(flowHash(eth, flowLayout({ mode: 'tap' }))).toBe(want);
    const vlan = Buffer.concat([Buffer.alloc(12, 0x02), Buffer.from([0x81, 0x00, 0x00, 0x05, 0x08, 0x00]), ip]);
    expect(flowHash(vlan, flowLayout({ mode: 'tap' }))).toBe(want);
    const ip6 = udp6(1000, 9);
    const eth6 = Buffer.concat([Buffer.alloc(12, 0x02), Buffer.from([0x86, 0xdd]), ip6]);
    expect(flowHash(eth6, flowLayout({ mode: 'tap' }))).toBe(flowHash(ip6));
    const arp = Buffer.concat([Buffer.alloc(12, 0xff), Buffer.from([0x08, 0x06]), Buffer.alloc(28)]);
    expect(flowHash(arp, flowLayout({ mode: 'tap' }))).toBe(0);
  });

  it('reads a packet where it is, inside a larger buffer', () => {
    const ip = udp4(1234, 5678);
    const ring = new Uint8Array(256);
    ring.set(ip, 100);
    expect(flowHashAt(ring, 100, ip.length, { skip: 0, ethernet: false })).toBe(flowHash(ip));
  });
});
