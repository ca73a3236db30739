import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { GroCoalescer, GRO_MAX_SEGMENTS } from '../../src/offload/groCoalescer.js';
import { GsoSplitter } from '../../src/offload/gsoSplitter.js';
import { SegmentBuffer } from '../../src/offload/segmentBuffer.js';
import { OffloadError } from '../../src/offload/offloadError.js';
import { buildPacket, buildSuperPacket, checkPacket, copiesOf, FLOW4, flowArb, naiveSum, streamBytes, type Flow } from './helpers.js';

const flow4: Flow = { ...FLOW4, ack: 777, options: Uint8Array.of(1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2) };
const udp4: Flow = { ...flow4, tcp: false, options: new Uint8Array(0) };

/** Segments of one TCP stream: `sizes` payload bytes each, from `seq`, PSH on the last. */
function stream(flow: Flow, sizes: number[], seq = 1000, seed = 1): Buffer[] {
  let s = seq;
  return sizes.map((n, i) => {
    const p = buildPacket(flow, streamBytes(n, seed + i), { seq: s, flags: i === sizes.length - 1 ? 0x18 : 0x10, id: 100 + i });
    s = (s + n) >>> 0;
    return p;
  });
}

function coalesce(packets: Buffer[], opts: ConstructorParameters<typeof GroCoalescer>[0] = {}): SegmentBuffer {
  const out = new SegmentBuffer(4096, 16 << 20);
  new GroCoalescer(opts).coalesce(packets, out);
  return out;
}

/** The packets a coalesced batch stands for: each GSO packet split again, the rest stripped of its header. */
function expand(out: SegmentBuffer): Buffer[] {
  const again = new SegmentBuffer(4096, 16 << 20);
  new GsoSplitter().splitBatch(out, again);
  return copiesOf(again);
}

const sameList = (a: Buffer[], b: Buffer[]): boolean => a.length === b.length && a.every((x, i) => x.equals(b[i]!));

describe('GroCoalescer', () => {
  it('coalesces contiguous TCP segments into one super-packet with the header the kernel expects', () => {
    const segs = stream(flow4, [1448, 1448, 1448, 700]);
    const out = coalesce(segs);
    expect(out.count).toBe(1);
    const sp = Buffer.from(out.packet(0));
    expect([...sp.subarray(0, 10)]).toEqual([1, 1, 52, 0, 1448 & 0xff, 1448 >> 8, 20, 0, 16, 0]);
    const ip = sp.subarray(10);
    expect(ip.length).toBe(20 + 32 + 3 * 1448 + 700);
    expect(ip.readUInt16BE(2)).toBe(ip.length);
    expect(naiveSum(ip, 0, 20)).toBe(0xffff);
    expect(ip[20 + 13]).toBe(0x18); // the last segment's PSH
    // The checksum field holds the pseudo-header sum over the whole TCP length, not complemented.
    expect(ip.readUInt16BE(36)).toBe(naiveSum(Buffer.alloc(0), 0, 0, naiveSum(ip, 12, 20) + 6 + ip.length - 20));
    expect(sameList(expand(out), segs)).toBe(true);
  });

  it('passes through, unchanged, what must not coalesce', () => {
    const base = stream(flow4, [1000, 1000]);
    const second = (flags: number): Buffer => buildPacket(flow4, streamBytes(1000, 2), { seq: 2000, flags });
    const variants: [string, Buffer[]][] = [
      ['a different ack', [base[0]!, buildPacket({ ...flow4, ack: 778 }, streamBytes(1000, 2), { seq: 2000 })]],
      ['a gap in seq', [base[0]!, buildPacket(flow4, streamBytes(1000, 2), { seq: 2001 })]],
      ['SYN', [base[0]!, second(0x12)]],
      ['FIN', [base[0]!, second(0x11)]],
      ['RST', [base[0]!, second(0x14)]],
      ['URG', [base[0]!, second(0x30)]],
      ['CWR', [base[0]!, second(0x90)]],
      ['PSH on the first', [buildPacket(flow4, streamBytes(1000, 1), { seq: 1000, flags: 0x18 }), base[1]!]],
      ['other options', [base[0]!, buildPacket({ ...flow4, options: Uint8Array.of(1, 1, 8, 10, 0, 0, 0, 9, 0, 0, 0, 2) }, streamBytes(1000, 2), { seq: 2000 })]],
      ['another TTL', [base[0]!, buildPacket({ ...flow4, ttl: 63 }, streamBytes(1000, 2), { seq: 2000 })]],
      ['another ToS', [base[0]!, buildPacket({ ...flow4, tos: 4 }, streamBytes(1000, 2), { seq: 2000 })]],
      ['no DF', [base[0]!, buildPacket({ ...flow4, df: false }, streamBytes(1000, 2), { seq: 2000 })]],
      ['another window', [base[0]!, buildPacket({ ...flow4, window: 9 }, streamBytes(1000, 2), { seq: 2000 })]],
      ['a larger one after', stream(flow4, [1000, 1001])],
      ['after a smaller one', stream(flow4, [1000, 500, 500])],
      ['a bad TCP checksum', [base[0]!, corrupt(base[1]!, 100)]],
      ['a bad first checksum', [corrupt(base[0]!, 100), base[1]!]],
      ['a bad IPv4 header checksum', [base[0]!, corrupt(base[1]!, 10)]],
      ['pure ACKs', stream(flow4, [0, 0, 0])],
      ['UDP without udp: true', [buildPacket(udp4, streamBytes(500, 1)), buildPacket(udp4, streamBytes(500, 2))]],
    ];
    for (const [what, packets] of variants) {
      const out = coalesce(packets);
      const got = copiesOf(out);
      const want = what === 'after a smaller one' ? 2 : packets.length;
      expect(out.count, what).toBe(want);
      if (want === packets.length) expect(sameList(got, packets.map((p) => Buffer.concat([Buffer.alloc(10), p]))), what).toBe(true);
    }
  });

  it('keeps each flow in order: a packet joins only the latest group of its flow', () => {
    const a = stream(flow4, [1000, 1000, 1000, 1000]);
    const b = stream({ ...flow4, sport: 40001 }, [1000, 1000], 5);
    const ack = buildPacket(flow4, new Uint8Array(0), { seq: 3000 }); // a pure ACK of flow a, between its segments
    const batch = [a[0]!, b[0]!, a[1]!, ack, b[1]!, a[2]!, a[3]!];
    const out = coalesce(batch);
    expect(out.count).toBe(4); // a0+a1, b0+b1, ack, a2+a3
    const back = expand(out);
    const ofFlow = (list: Buffer[], port: number): Buffer[] => list.filter((p) => p.readUInt16BE(20) === port);
    expect(sameList(ofFlow(back, 40000), [a[0]!, a[1]!, ack, a[2]!, a[3]!])).toBe(true);
    expect(sameList(ofFlow(back, 40001), b)).toBe(true);
  });

  it('coalesces UDP datagrams of one flow (USO), equal sizes with a shorter last, keeping their boundaries', () => {
    const dgrams = [1200, 1200, 1200, 300].map((n, i) => buildPacket(udp4, streamBytes(n, i), { id: i }));
    const out = coalesce([...dgrams, buildPacket(udp4, streamBytes(1200, 9))], { udp: true });
    expect(out.count).toBe(2); // nothing follows a shorter datagram
    const sp = out.packet(0);
    expect([sp[0], sp[1], sp.readUInt16LE(2), sp.readUInt16LE(4), sp.readUInt16LE(6), sp.readUInt16LE(8)]).toEqual([1, 5, 28, 1200, 20, 6]);
    expect(sp.readUInt16BE(10 + 24)).toBe(sp.length - 30); // the UDP length covers the whole
    expect(sameList(expand(out).slice(0, 4), dgrams)).toBe(true);
    const zero = Buffer.from(dgrams[0]!);
    zero.writeUInt16BE(0, 26); // "no checksum": cannot be checked, so it is not coalesced
    expect(coalesce([zero, dgrams[1]!], { udp: true }).count).toBe(2);
  });

  it('stops at 64 segments and at 65535 bytes', () => {
    expect(coalesce(stream(flow4, Array(130).fill(100))).count).toBe(3);
    expect(GRO_MAX_SEGMENTS).toBe(64);
    const big = coalesce(stream(flow4, Array(50).fill(1448)));
    expect(big.count).toBe(2);
    expect(big.lengthOf(0) - 10).toBeLessThanOrEqual(0xffff);
  });

  it('reads record batches in place, and refuses what is not a batch', () => {
    const segs = stream(flow4, [1000, 1000, 1000]);
    const src = new SegmentBuffer(8, 1 << 17);
    let at = src.end;
    for (const s of segs) {
      s.copy(src.data, at + 4);
      at = src.commit(at, s.length);
    }
    const out = new SegmentBuffer();
    const gro = new GroCoalescer({ vnetHdrSize: 12 });
    expect(gro.coalesce(src, out)).toBe(1);
    expect(out.packet(0).readUInt16LE(10)).toBe(0); // num_buffers
    expect(gro.stats).toEqual({ superPackets: 1, merged: 3 });
    expect(() => gro.coalesce([segs[0]!, 'x' as unknown as Buffer], out)).toThrow(TypeError);
    expect(() => gro.coalesce({} as unknown as Buffer[], out)).toThrow(TypeError);
    expect(() => gro.coalesce([Buffer.alloc(0)], out)).toThrow(RangeError);
    expect(() => gro.coalesce(segs, [] as unknown as SegmentBuffer)).toThrow(TypeError);
    expect(() => new GroCoalescer({ udp: 1 as unknown as boolean })).toThrow(TypeError);
    const small = new SegmentBuffer(1);
    expect(() => gro.coalesce([...segs, buildPacket(udp4, streamBytes(10, 1))], small)).toThrow(OffloadError);
    expect(small.count).toBe(0);
  });

  it('property: split, coalesce, split again gives the same packets, byte for byte (TCP v4/v6, UDP)', () => {
    let cases = 0;
    fc.assert(
      fc.property(
        fc.oneof(flowArb({ tcp: true }), flowArb({ tcp: false })),
        fc.integer({ min: 1, max: 4000 }),
        fc.array(fc.integer({ min: 0, max: 70000 }), { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 0, max: 0xffffffff }),
        (flow, gsoSize, sizes, seq) => {
          const hdr = (flow.v6 ? 40 : 20) + (flow.tcp ? 20 + flow.options.length : 8);
          const split = new GsoSplitter();
          const segs = new SegmentBuffer(4096, 16 << 20);
          let s = seq;
          let id = seq & 0xffff; // continued across super-packets, as a sender's would be
          let payloadBytes = 0;
          for (const size of sizes) {
            const payload = streamBytes(Math.min(size, 0xffff - hdr, 600 * gsoSize), s);
            id += split.split(buildSuperPacket(flow, payload, gsoSize, { seq: s, flags: 0x18, id: id & 0xffff }), segs);
            s = (s + payload.length) >>> 0;
            payloadBytes += payload.length;
          }
          const original = Array.from({ length: segs.count }, (_, i) => Buffer.from(segs.packet(i)));
          original.forEach(checkPacket);
          const out = new SegmentBuffer(4096, 16 << 20);
          const n = new GroCoalescer({ tcp: true, udp: true }).coalesce(segs, out);
          // Every super-packet's segments come back as one write each (64 at most).
          const full = (pk: number): number => Math.max(1, Math.ceil(pk / gsoSize));
          const expected = sizes.reduce((sum, size) => sum + Math.ceil(full(Math.min(size, 0xffff - hdr, 600 * gsoSize)) / 64), 0);
          // TCP groups end at each super-packet's PSH; UDP ones may run on into the next.
          if (gsoSize * 64 + hdr <= 0xffff) {
            if (flow.tcp) expect(n).toBe(expected);
            else expect(n).toBeLessThanOrEqual(expected);
          }
          const back = expand(out);
          expect(sameList(back, original)).toBe(true);
          expect(Buffer.concat(back.map((p) => checkPacket(p).payload)).length).toBe(payloadBytes);
          cases++;
        },
      ),
      { numRuns: 250 },
    );
    expect(cases).toBe(250);
  });

  it('property: interleaved flows, ACKs and junk come back in the order of each flow', () => {
    let cases = 0;
    let coalesced = 0;
    fc.assert(
      fc.property(
        fc.array(fc.oneof(flowArb({ tcp: true }), flowArb({ tcp: false })), { minLength: 1, maxLength: 4 }),
        fc.array(fc.tuple(fc.nat(), fc.constantFrom('data', 'data', 'data', 'ack', 'junk', 'small')), { minLength: 1, maxLength: 120 }),
        (flows, plan) => {
          const seqs = flows.map((_, i) => i * 7919);
          const batch: Buffer[] = [];
          const flowOf: number[] = [];
          for (const [pick, what] of plan) {
            const f = pick % flows.length;
            const flow = { ...flows[f]!, sport: 1000 + f }; // distinct flows
            if (what === 'junk') {
              batch.push(streamBytes(1 + (pick % 300), pick));
              flowOf.push(-1);
              continue;
            }
            const size = what === 'ack' ? 0 : what === 'small' ? 1 + (pick % 500) : 1000;
            batch.push(buildPacket(flow, streamBytes(size, pick), { seq: seqs[f]!, flags: 0x10 }));
            flowOf.push(f);
            seqs[f] = (seqs[f]! + size) >>> 0;
          }
          const out = coalesce(batch, { udp: true });
          expect(out.count).toBeLessThanOrEqual(batch.length);
          if (out.count < batch.length) coalesced++;
          const back = expand(out);
          const key = (p: Buffer): string => {
            const at = p[0]! >> 4 === 6 ? 40 : p[0]! >> 4 === 4 ? (p[0]! & 15) * 4 : p.length;
            return at + 2 <= p.length ? `${p.readUInt16BE(at)}` : 'x';
          };
          for (let f = -1; f < flows.length; f++) {
            const want = batch.filter((_, i) => flowOf[i] === f);
            if (f === -1) continue; // junk keeps its bytes but may share a "port" with a flow
            const got = back.filter((p) => key(p) === `${1000 + f}`);
            // Headers carry the ids of a re-split; compare payloads and TCP sequence numbers.
            const view = (list: Buffer[]): string[] => list.map((p) => {
              const c = checkPacket(p);
              return `${c.seq}:${c.payload.toString('hex')}`;
            });
            expect(view(got)).toEqual(view(want));
          }
          const junkIn = batch.filter((_, i) => flowOf[i] === -1).map((p) => p.toString('hex')).sort();
          const all = new Set(back.map((p) => p.toString('hex')));
          for (const j of junkIn) expect(all.has(j)).toBe(true);
          cases++;
        },
      ),
      { numRuns: 250 },
    );
    expect(cases).toBe(250);
    expect(coalesced).toBeGreaterThan(50); // the cases did exercise coalescing
  });
});

function corrupt(p: Buffer, at: number): Buffer {
  const q = Buffer.from(p);
  q[at] = q[at]! ^ 0x40;
  return q;
}
