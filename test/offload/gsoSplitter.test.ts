import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { GsoSplitter } from '../../src/offload/gsoSplitter.js';
import { SegmentBuffer } from '../../src/offload/segmentBuffer.js';
import { OffloadError } from '../../src/offload/offloadError.js';
import { buildPacket, buildSuperPacket, checkPacket, copiesOf, FLOW4, flowArb, naiveSum, streamBytes, type Flow } from './helpers.js';

const flow4 = FLOW4;
const flow6: Flow = {
  ...flow4, v6: true, src: Buffer.from('fd000000000000000000000000000001', 'hex'), dst: Buffer.from('fd000000000000000000000000000002', 'hex'), flowLabel: 0x12345,
};

describe('GsoSplitter', () => {
  it('splits a TCPv4 super-packet like the kernel: lengths, id + 1, seq + gso_size, PSH/FIN on the last, CWR on the first', () => {
    const payload = streamBytes(4000, 7);
    const sp = buildSuperPacket(flow4, payload, 1448, { seq: 0xfffff000, flags: 0x10 | 0x08 | 0x01 | 0x80, id: 0xfffe });
    const out = new SegmentBuffer();
    expect(new GsoSplitter().split(sp, out)).toBe(3);
    const segs = copiesOf(out).map(checkPacket);
    expect(segs.map((s) => s.payload.length)).toEqual([1448, 1448, 1104]);
    expect(segs.map((s) => s.id)).toEqual([0xfffe, 0xffff, 0]);
    expect(segs.map((s) => s.seq)).toEqual([0xfffff000, (0xfffff000 + 1448) >>> 0, (0xfffff000 + 2896) >>> 0]);
    expect(segs.map((s) => s.flags)).toEqual([0x90, 0x10, 0x19]);
    expect(Buffer.concat(segs.map((s) => s.payload))).toEqual(payload);
  });

  it('splits TCPv6 and UDP (USO) super-packets, keeping IPv6 extension headers', () => {
    const out = new SegmentBuffer();
    const s = new GsoSplitter();
    expect(s.split(buildSuperPacket(flow6, streamBytes(3000, 1), 1000), out)).toBe(3);
    const udp: Flow = { ...flow4, tcp: false };
    expect(s.split(buildSuperPacket(udp, streamBytes(2500, 2), 1200), out)).toBe(3);
    const all = copiesOf(out).map(checkPacket);
    expect(all.map((x) => [x.v6, x.tcp, x.payload.length])).toEqual([
      [true, true, 1000], [true, true, 1000], [true, true, 1000],
      [false, false, 1200], [false, false, 1200], [false, false, 100],
    ]);
    // A hop-by-hop header (8 bytes of padding options) between IPv6 and TCP.
    const sp = buildSuperPacket(flow6, streamBytes(2000, 3), 1000);
    const ip = sp.subarray(10);
    const withExt = Buffer.concat([sp.subarray(0, 10), ip.subarray(0, 40), Buffer.from([6, 0, 1, 4, 0, 0, 0, 0]), ip.subarray(40)]);
    withExt[10 + 6] = 0; // next header: hop-by-hop
    withExt.writeUInt16BE(ip.length - 40 + 8, 10 + 4);
    withExt.writeUInt16LE(48, 6); // csum_start
    out.clear();
    expect(s.split(withExt, out)).toBe(2);
    for (const seg of copiesOf(out)) {
      expect(seg[6]).toBe(0);
      expect(naiveSum(seg, 48, seg.length, naiveSum(seg, 8, 40) + 6 + seg.length - 48)).toBe(0xffff);
    }
  });

  it('copies a packet that is not GSO, completing a partial checksum (NEEDS_CSUM) as the kernel does', () => {
    const pkt = buildPacket({ ...flow4, tcp: false }, streamBytes(100, 4));
    const partial = Buffer.from(pkt);
    partial.writeUInt16BE(naiveSum(Buffer.alloc(0), 0, 0, naiveSum(pkt, 12, 20) + 17 + pkt.length - 20), 26);
    const hdr = Buffer.from([1, 0, 0, 0, 0, 0, 20, 0, 6, 0]);
    const out = new SegmentBuffer();
    const s = new GsoSplitter({ outHdrSize: 10 });
    expect(s.split(Buffer.concat([hdr, partial]), out)).toBe(1);
    expect(s.split(Buffer.concat([Buffer.alloc(10), pkt]), out)).toBe(1);
    expect(out.packet(0)).toEqual(Buffer.concat([Buffer.alloc(10), pkt]));
    expect(out.packet(1)).toEqual(Buffer.concat([Buffer.alloc(10), pkt]));
  });

  it('reads packets in place from a record batch and from 12-byte headers', () => {
    const sp = buildSuperPacket(flow4, streamBytes(3000, 5), 1400);
    const in12 = Buffer.concat([sp.subarray(0, 10), Buffer.from([1, 0]), sp.subarray(10)]);
    const src = new SegmentBuffer(4, 1 << 17);
    let at = src.end;
    in12.copy(src.data, at + 4);
    at = src.commit(at, in12.length);
    in12.copy(src.data, at + 4);
    src.commit(at, in12.length);
    const out = new SegmentBuffer();
    expect(new GsoSplitter({ vnetHdrSize: 12 }).splitBatch(src, out)).toBe(6);
    expect(copiesOf(out).map((x) => checkPacket(x).payload.length)).toEqual([1400, 1400, 200, 1400, 1400, 200]);
  });

  it('refuses bad headers with typed errors and a code', () => {
    const s = new GsoSplitter();
    const out = new SegmentBuffer();
    const sp = buildSuperPacket(flow4, streamBytes(3000, 6), 1400);
    const code = (mutate: (b: Buffer) => Buffer | void): string => {
      const b = Buffer.from(sp);
      const r = mutate(b) ?? b;
      try {
        s.split(r, out);
      } catch (err) {
        expect(err).toBeInstanceOf(OffloadError);
        expect(err).toBeInstanceOf(RangeError);
        return (err as OffloadError).code;
      }
      return 'none';
    };
    expect(code((b) => b.subarray(0, 9))).toBe('TRUNCATED');
    expect(code((b) => void b.writeUInt16LE(0, 4))).toBe('BAD_GSO_SIZE');
    expect(code((b) => void b.writeUInt16LE(65500, 4))).toBe('BAD_GSO_SIZE');
    expect(code((b) => void b.writeUInt16LE(b.length, 2))).toBe('BAD_HDR_LEN');
    expect(code((b) => void (b[1] = 2))).toBe('BAD_GSO_TYPE');
    expect(code((b) => void (b[1] = 3))).toBe('UNSUPPORTED_GSO_TYPE');
    expect(code((b) => void (b[1] = 4))).toBe('BAD_PACKET');
    expect(code((b) => void b.writeUInt16LE(24, 6))).toBe('BAD_CSUM');
    expect(code((b) => void b.writeUInt16LE(6, 8))).toBe('BAD_CSUM');
    expect(code((b) => b.subarray(0, 1000))).toBe('TRUNCATED');
    expect(code((b) => void (b[10 + 9] = 17))).toBe('BAD_PACKET');
    expect(code((b) => void (b[10 + 6] = 0x20))).toBe('BAD_PACKET');
    expect(code((b) => void (b[10] = 0x35))).toBe('BAD_PACKET');
    expect(code((b) => void (b[10 + 32] = 0x20))).toBe('BAD_PACKET');
    expect(code((b) => void (b[0] = 0))).toBe('none'); // no NEEDS_CSUM: checksums are recomputed anyway
    expect(() => s.split(sp, new SegmentBuffer(2))).toThrow(expect.objectContaining({ code: 'NO_ROOM' }));
    expect(() => s.split('x' as unknown as Uint8Array, out)).toThrow(TypeError);
    expect(() => s.splitAt(sp, 10, sp.length, out)).toThrow(RangeError);
    expect(() => s.split(sp, {} as SegmentBuffer)).toThrow(TypeError);
    expect(() => new GsoSplitter({ vnetHdrSize: 11 as 10 })).toThrow(RangeError);
  });

  it('leaves the output as it was when a packet does not fit', () => {
    const out = new SegmentBuffer(5);
    const s = new GsoSplitter();
    s.split(buildSuperPacket(flow4, streamBytes(2000, 1), 1000), out);
    expect(() => s.split(buildSuperPacket(flow4, streamBytes(6000, 1), 1000), out)).toThrow(OffloadError);
    expect(out.count).toBe(2);
  });

  it('property: every segment verifies, fits gso_size, and the payloads make the stream again', () => {
    let cases = 0;
    fc.assert(
      fc.property(
        fc.oneof(flowArb({ tcp: true }), flowArb({ tcp: false })),
        fc.integer({ min: 1, max: 9000 }),
        fc.integer({ min: 0, max: 70000 }),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.boolean(),
        (flow, gsoSize, size, seq, big) => {
          const hdr = (flow.v6 ? 40 : 20) + (flow.tcp ? 20 + flow.options.length : 8);
          const payload = streamBytes(Math.min(size, 0xffff - hdr, 4096 * gsoSize, big ? Infinity : 3 * gsoSize), seq);
          const out = new SegmentBuffer(4096, 8 << 20);
          const n = new GsoSplitter().split(buildSuperPacket(flow, payload, gsoSize, { seq, flags: 0x18, id: seq & 0xffff }), out);
          expect(n).toBe(Math.max(1, Math.ceil(payload.length / gsoSize)));
          const got = copiesOf(out).map(checkPacket);
          // One comparison per case (an expect per segment would dominate the run time).
          const faults = got.flatMap((g, i) => {
            const f: string[] = [];
            if (g.payload.length > gsoSize || (i < n - 1 && g.payload.length !== gsoSize)) f.push(`${i}: ${g.payload.length} bytes`);
            if (!flow.v6 && g.id !== ((seq + i) & 0xffff)) f.push(`${i}: id ${g.id}`);
            if (flow.tcp && g.seq !== (seq + i * gsoSize) >>> 0) f.push(`${i}: seq ${g.seq}`);
            if (flow.tcp && g.flags !== (i === n - 1 ? 0x18 : 0x10)) f.push(`${i}: flags ${g.flags}`);
            return f;
          });
          expect(faults).toEqual([]);
          expect(Buffer.concat(got.map((g) => g.payload)).equals(payload)).toBe(true);
          cases++;
        },
      ),
      { numRuns: 300 },
    );
    expect(cases).toBe(300);
  });
});
