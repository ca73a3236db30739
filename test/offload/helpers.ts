/**
 * Packets for the offload tests, built and checked with routines of their own (a plain
 * byte-by-byte RFC 1071 sum), so the engine is never checked against itself.
 */
import fc from 'fast-check';
import type { SegmentBuffer } from '../../src/offload/segmentBuffer.js';

/** The Internet checksum's ones'-complement sum, naively: big-endian byte pairs. */
export function naiveSum(b: Uint8Array, from = 0, to = b.length, initial = 0): number {
  let s = initial;
  for (let i = from; i < to; i += 2) s += (b[i]! << 8) + (i + 1 < to ? b[i + 1]! : 0);
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return s;
}

function pseudo(ip: Uint8Array, v6: boolean, proto: number, l4len: number): number {
  const addr = v6 ? naiveSum(ip, 8, 40) : naiveSum(ip, 12, 20);
  return addr + proto + Math.floor(l4len / 0x10000) + (l4len & 0xffff);
}

/** A TCP or UDP flow: addresses, ports and IP header fields. */
export interface Flow {
  v6: boolean;
  tcp: boolean;
  src: Uint8Array;
  dst: Uint8Array;
  sport: number;
  dport: number;
  ttl: number;
  tos: number;
  df: boolean;
  flowLabel: number;
  /** TCP only. */
  ack: number;
  window: number;
  /** TCP options, a multiple of 4 bytes (0 to 40). */
  options: Uint8Array;
}

/** One packet of `flow`. `flags` is TCP's flag byte; `id` the IPv4 identification. */
export function buildPacket(flow: Flow, payload: Uint8Array, fields: { seq?: number; flags?: number; id?: number } = {}): Buffer {
  const ipLen = flow.v6 ? 40 : 20;
  const l4h = flow.tcp ? 20 + flow.options.length : 8;
  const total = ipLen + l4h + payload.length;
  const p = Buffer.alloc(total);
  if (flow.v6) {
    p.writeUInt32BE(((6 << 28) | (flow.tos << 20) | flow.flowLabel) >>> 0, 0);
    p.writeUInt16BE(total - 40, 4);
    p[6] = flow.tcp ? 6 : 17;
    p[7] = flow.ttl;
    p.set(flow.src, 8);
    p.set(flow.dst, 24);
  } else {
    p[0] = 0x45;
    p[1] = flow.tos;
    p.writeUInt16BE(total, 2);
    p.writeUInt16BE(fields.id ?? 0, 4);
    p.writeUInt16BE(flow.df ? 0x4000 : 0, 6);
    p[8] = flow.ttl;
    p[9] = flow.tcp ? 6 : 17;
    p.set(flow.src, 12);
    p.set(flow.dst, 16);
    p.writeUInt16BE(~naiveSum(p, 0, 20) & 0xffff, 10);
  }
  const t = ipLen;
  p.writeUInt16BE(flow.sport, t);
  p.writeUInt16BE(flow.dport, t + 2);
  if (flow.tcp) {
    p.writeUInt32BE((fields.seq ?? 0) >>> 0, t + 4);
    p.writeUInt32BE(flow.ack >>> 0, t + 8);
    p[t + 12] = (l4h / 4) << 4;
    p[t + 13] = fields.flags ?? 0x10;
    p.writeUInt16BE(flow.window, t + 14);
    p.set(flow.options, t + 20);
  } else {
    p.writeUInt16BE(l4h + payload.length, t + 4);
  }
  p.set(payload, t + l4h);
  const at = t + (flow.tcp ? 16 : 6);
  const c = ~naiveSum(p, t, total, pseudo(p, flow.v6, flow.tcp ? 6 : 17, total - t)) & 0xffff;
  p.writeUInt16BE(flow.tcp ? c : c || 0xffff, at);
  return p;
}

/**
 * A GSO super-packet as a tun with TSO/USO hands it out: the virtio header (NEEDS_CSUM, the
 * gso type, `gso_size`, csum_start/offset, and `hdrLen` as given: the kernel's is a hint),
 * then one packet whose transport checksum field holds the pseudo-header sum.
 */
export function buildSuperPacket(flow: Flow, payload: Uint8Array, gsoSize: number, fields: { seq?: number; flags?: number; id?: number; hdrLen?: number; ecn?: boolean } = {}): Buffer {
  const pkt = buildPacket(flow, payload, fields);
  const l4 = flow.v6 ? 40 : 20;
  const at = l4 + (flow.tcp ? 16 : 6);
  pkt.writeUInt16BE(naiveSum(Buffer.alloc(0), 0, 0, pseudo(pkt, flow.v6, flow.tcp ? 6 : 17, pkt.length - l4)), at);
  const hdr = Buffer.alloc(10);
  hdr[0] = 1;
  hdr[1] = (flow.tcp ? (flow.v6 ? 4 : 1) : 5) | (fields.ecn ? 0x80 : 0);
  hdr.writeUInt16LE(fields.hdrLen ?? l4 + (flow.tcp ? 20 + flow.options.length : 8), 2);
  hdr.writeUInt16LE(gsoSize, 4);
  hdr.writeUInt16LE(l4, 6);
  hdr.writeUInt16LE(flow.tcp ? 16 : 6, 8);
  return Buffer.concat([hdr, pkt]);
}

/** What {@link checkPacket} finds in a packet whose checksums all verify. */
export interface Checked {
  v6: boolean;
  tcp: boolean;
  ipHeader: number;
  l4Header: number;
  seq: number;
  flags: number;
  id: number;
  payload: Buffer;
}

/** Verifies every length and checksum of a plain IP packet with TCP or UDP; throws on any fault. */
export function checkPacket(p: Uint8Array): Checked {
  const b = Buffer.from(p.buffer, p.byteOffset, p.length);
  const v6 = b[0]! >> 4 === 6;
  let ipHeader = 40;
  let proto: number;
  if (v6) {
    if (b.readUInt16BE(4) + 40 !== b.length) throw new Error(`IPv6 payload length ${b.readUInt16BE(4)} for ${b.length} bytes`);
    proto = b[6]!;
  } else {
    ipHeader = (b[0]! & 15) * 4;
    if (b.readUInt16BE(2) !== b.length) throw new Error(`IPv4 total length ${b.readUInt16BE(2)} for ${b.length} bytes`);
    if (naiveSum(b, 0, ipHeader) !== 0xffff) throw new Error('bad IPv4 header checksum');
    proto = b[9]!;
  }
  const tcp = proto === 6;
  if (!tcp && proto !== 17) throw new Error(`protocol ${proto}`);
  const l4len = b.length - ipHeader;
  if (naiveSum(b, ipHeader, b.length, pseudo(b, v6, proto, l4len)) !== 0xffff) throw new Error(`bad ${tcp ? 'TCP' : 'UDP'} checksum`);
  const l4Header = tcp ? (b[ipHeader + 12]! >> 4) * 4 : 8;
  if (!tcp && b.readUInt16BE(ipHeader + 4) !== l4len) throw new Error('bad UDP length');
  if (!tcp && b.readUInt16BE(ipHeader + 6) === 0) throw new Error('UDP checksum 0');
  return {
    v6,
    tcp,
    ipHeader,
    l4Header,
    seq: tcp ? b.readUInt32BE(ipHeader + 4) : 0,
    flags: tcp ? b[ipHeader + 13]! : 0,
    id: v6 ? 0 : b.readUInt16BE(4),
    payload: b.subarray(ipHeader + l4Header),
  };
}

/** A flow's fields, for fast-check. */
export function flowArb(kind: { tcp: boolean; v6?: boolean }): fc.Arbitrary<Flow> {
  return fc.record({
    v6: kind.v6 === undefined ? fc.boolean() : fc.constant(kind.v6),
    tcp: fc.constant(kind.tcp),
    seed: fc.integer({ min: 0, max: 0xffff }),
    sport: fc.integer({ min: 1, max: 0xffff }),
    dport: fc.integer({ min: 1, max: 0xffff }),
    ttl: fc.integer({ min: 1, max: 255 }),
    tos: fc.integer({ min: 0, max: 255 }),
    df: fc.boolean(),
    flowLabel: fc.integer({ min: 0, max: 0xfffff }),
    ack: fc.integer({ min: 0, max: 0xffffffff }),
    window: fc.integer({ min: 0, max: 0xffff }),
    optionWords: fc.constantFrom(0, 3, 10),
  }).map((r) => {
    const size = r.v6 ? 16 : 4;
    const src = Uint8Array.from({ length: size }, (_, i) => (r.v6 && i === 0 ? 0xfd : (r.seed * (i + 7)) & 0xff));
    const dst = Uint8Array.from({ length: size }, (_, i) => (r.v6 && i === 0 ? 0xfd : (r.seed * (i + 3) + 1) & 0xff));
    // Options: NOP NOP TIMESTAMP (12 bytes), or 40 bytes of NOPs ending in a timestamp.
    const options = new Uint8Array(r.optionWords * 4).fill(1);
    if (options.length >= 12) options.set([8, 10, 0, 0, r.seed >> 8, r.seed & 0xff, 0, 0, 0, 9], options.length - 10);
    return { v6: r.v6, tcp: r.tcp, src, dst, sport: r.sport, dport: r.dport, ttl: r.ttl, tos: r.tos, df: r.df, flowLabel: r.flowLabel, ack: r.ack, window: r.window, options };
  });
}

/** `n` bytes from a seed, cheaply. */
export function streamBytes(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  let x = seed | 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

/**
 * Recomputes the IPv4 header checksum and the TCP/UDP checksum of a packet from its own
 * (possibly nonsensical) header fields, so that a mutated packet still looks valid to a
 * checksum test; does nothing where a field to fill lies outside the packet.
 */
export function fixChecksums(p: Buffer): Buffer {
  const v6 = p.length >= 40 && p[0]! >> 4 === 6;
  const l4 = v6 ? 40 : p.length >= 20 && p[0]! >> 4 === 4 ? (p[0]! & 15) * 4 : -1;
  if (l4 < 0 || l4 > p.length) return p;
  if (!v6) {
    p.writeUInt16BE(0, 10);
    p.writeUInt16BE(~naiveSum(p, 0, l4) & 0xffff, 10);
  }
  const proto = v6 ? p[6]! : p[9]!;
  const at = l4 + (proto === 6 ? 16 : 6);
  if ((proto !== 6 && proto !== 17) || at + 2 > p.length) return p;
  p.writeUInt16BE(0, at);
  p.writeUInt16BE(~naiveSum(p, l4, p.length, pseudo(p, v6, proto, p.length - l4)) & 0xffff, at);
  return p;
}

/** Copies of the packets in `out`, in order. */
export function copiesOf(out: SegmentBuffer): Buffer[] {
  return Array.from({ length: out.count }, (_, i) => Buffer.from(out.packet(i)));
}

/** A TCP over IPv4 flow from 198.18.0.1:40000 to 198.18.0.2:5201, for examples to vary. */
export const FLOW4: Flow = {
  v6: false, tcp: true, src: Uint8Array.of(198, 18, 0, 1), dst: Uint8Array.of(198, 18, 0, 2), sport: 40000, dport: 5201,
  ttl: 64, tos: 0, df: true, flowLabel: 0, ack: 12345, window: 502, options: new Uint8Array(0),
};
