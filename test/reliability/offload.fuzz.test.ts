/**
 * Malformed input against the offload engine. Packets are valid super-packets and segments
 * with random bytes, header fields and lengths changed, or plain noise. The engine may
 * refuse them only with an `OffloadError` (split) or pass them through (coalesce), never
 * with another error. And it must not read outside the packet it was given: each packet is
 * placed inside a larger buffer twice, between different random bytes, and the results must
 * be the same both times (any byte read past the packet's edges would make them differ).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { GsoSplitter } from '../../src/offload/gsoSplitter.js';
import { GroCoalescer } from '../../src/offload/groCoalescer.js';
import { SegmentBuffer } from '../../src/offload/segmentBuffer.js';
import { OffloadError } from '../../src/offload/offloadError.js';
import type { PacketRecords } from '../../src/offload/packetSource.js';
import { buildPacket, buildSuperPacket, copiesOf, fixChecksums, flowArb, streamBytes } from '../offload/helpers.js';

/** A change to a packet: set a byte, set a little-endian 16-bit header field, or cut it. */
const mutation = fc.oneof(
  fc.record({ kind: fc.constant('byte' as const), at: fc.oneof(fc.nat(60), fc.nat(120)), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('field' as const), at: fc.constantFrom(2, 4, 6, 8), value: fc.integer({ min: 0, max: 0xffff }) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat(4000), value: fc.constant(0) }),
);
type Mutation = { kind: 'byte' | 'field' | 'cut'; at: number; value: number };

function mutate(p: Buffer, ms: readonly Mutation[]): Buffer {
  let b = Buffer.from(p);
  for (const m of ms) {
    if (m.kind === 'cut') b = b.subarray(0, Math.min(b.length, m.at));
    else if (m.kind === 'field' && b.length >= m.at + 2) b.writeUInt16LE(m.value, m.at);
    else if (m.kind === 'byte' && m.at < b.length) b[m.at] = m.value;
  }
  return b;
}

/** `pkt` at `before` in a buffer of noise from `seed`, with `after` more bytes behind it. */
function embed(pkt: Uint8Array, before: number, after: number, seed: number): Buffer {
  const b = streamBytes(before + pkt.length + after, seed);
  b.set(pkt, before);
  return b;
}

/** The packets of `out` (not the padding between its records, which is never written). */
function packetsOf(out: SegmentBuffer): string {
  return copiesOf(out).map((p) => p.toString('hex')).join(' ');
}

describe('offload engine against malformed input', () => {
  it('split: only OffloadError, and nothing read outside the packet', () => {
    const codes = new Map<string, number>();
    let cases = 0;
    fc.assert(
      fc.property(
        fc.oneof(flowArb({ tcp: true }), flowArb({ tcp: false })),
        fc.integer({ min: 0, max: 3000 }),
        fc.integer({ min: 0, max: 2000 }),
        fc.array(mutation, { maxLength: 4 }),
        fc.boolean(),
        fc.integer({ min: 0, max: 9 }),
        (flow, size, gsoSize, ms, noise, before) => {
          const valid = buildSuperPacket(flow, streamBytes(size, size), gsoSize);
          const pkt = noise ? streamBytes(valid.length, size + gsoSize) : mutate(valid, ms);
          const run = (seed: number): string => {
            const buf = embed(pkt, before, 7, seed);
            const out = new SegmentBuffer(4096, 8 << 20);
            try {
              new GsoSplitter().splitAt(buf, before, pkt.length, out);
            } catch (err) {
              if (!(err instanceof OffloadError)) throw err;
              codes.set(err.code, (codes.get(err.code) ?? 0) + 1);
              return `error ${err.code}`;
            }
            return packetsOf(out);
          };
          expect(run(1)).toBe(run(2));
          cases++;
        },
      ),
      { numRuns: 1500 },
    );
    expect(cases).toBe(1500);
    // The inputs reached the checks: several kinds of refusal were seen.
    expect([...codes.keys()].length).toBeGreaterThanOrEqual(5);
  });

  it('coalesce: malformed packets pass through, never throw, and nothing is read outside them', () => {
    let cases = 0;
    fc.assert(
      fc.property(
        fc.oneof(flowArb({ tcp: true }), flowArb({ tcp: false })),
        fc.array(fc.tuple(fc.oneof(fc.nat(64), fc.nat(1500)), fc.array(mutation, { maxLength: 3 }), fc.boolean()), { minLength: 1, maxLength: 40 }),
        fc.option(fc.array(mutation, { minLength: 1, maxLength: 3 })),
        (flow, plan, shared) => {
          let seq = 1;
          const packets = plan.map(([size, ms, noise]) => {
            const p = buildPacket(flow, streamBytes(size, size), { seq, flags: 0x10 });
            seq += size;
            // Either each packet its own damage, or all the same damage with checksums made
            // valid again, so that damaged packets still look alike and may be grouped.
            const own = ms.map((x) => ({ ...x, at: x.kind === 'field' ? x.at + 10 : x.at }));
            const m = noise ? streamBytes(1 + (size % 200), size) : shared ? fixChecksums(mutate(p, shared)) : mutate(p, own);
            return m.length === 0 ? Buffer.of(0x45) : m;
          });
          const run = (seed: number): string => {
            // The batch as records in one buffer, with noise between the packets.
            const offsets: number[] = [];
            const parts: Buffer[] = [];
            let at = 0;
            for (const p of packets) {
              const gap = streamBytes(3, seed + at);
              parts.push(gap, p);
              offsets.push(at + 3);
              at += 3 + p.length;
            }
            parts.push(streamBytes(5, seed));
            const data = Buffer.concat(parts);
            const batch: PacketRecords = { data, length: packets.length, offset: (i) => offsets[i]!, lengthOf: (i) => packets[i]!.length };
            const out = new SegmentBuffer(4096, 8 << 20);
            const n = new GroCoalescer({ tcp: true, udp: true }).coalesce(batch, out);
            expect(n).toBeLessThanOrEqual(packets.length);
            return packetsOf(out);
          };
          expect(run(1)).toBe(run(2));
          cases++;
        },
      ),
      { numRuns: 600 },
    );
    expect(cases).toBe(600);
  });
});
