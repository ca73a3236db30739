/**
 * Model-based fuzzing of the packet ring that carries every packet between an interface's
 * worker and the main thread: random sequences of writes and reads of random sizes, checked
 * against a plain FIFO. A packet must come out once, whole, in order; a refused write must
 * change nothing; and a ring as small as `Tuncer` allows must still take the largest packet.
 */
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { PacketRing, recordSize } from '../../src/actors/packetRing.js';
import { MAX_PACKET } from '../../src/tunctl/packetIo.js';

let inputs = 0;
afterAll(() => {
  console.log(`[fuzz] packet ring (pure, model-based): ${inputs} operation sequences tried`);
});

type Op = { kind: 'write'; size: number } | { kind: 'read'; count: number };

/** A packet whose bytes say which packet it is. */
function packet(seq: number, size: number): Buffer {
  const b = Buffer.alloc(size, seq & 0xff);
  if (size >= 4) b.writeUInt32LE(seq, 0);
  return b;
}

describe('PacketRing against a FIFO model', () => {
  it('delivers every accepted packet exactly once, whole and in order; a refused write changes nothing', () => {
    const opArb: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ kind: fc.constant('write' as const), size: fc.oneof(fc.integer({ min: 0, max: 64 }), fc.integer({ min: 0, max: 3000 })) }),
      fc.record({ kind: fc.constant('read' as const), count: fc.integer({ min: 1, max: 5 }) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 256, max: 2048 }).map((w) => w * 4), fc.array(opArb, { maxLength: 200 }), (capacity, ops) => {
        inputs += 1;
        const sab = PacketRing.allocate(capacity);
        const producer = new PacketRing(sab);
        const consumer = new PacketRing(sab);
        const model: Buffer[] = [];
        let seq = 0;
        for (const op of ops) {
          if (op.kind === 'write') {
            const p = packet(seq, op.size);
            const wasEmpty = model.length === 0;
            if (producer.tryWrite(p)) {
              model.push(p);
              seq += 1;
              producer.publish();
            } else {
              // Refused: only when it could not fit, and never when an empty ring has room for it.
              expect(recordSize(op.size) > (capacity - 4) / 2 || !wasEmpty, `empty ring of ${capacity} refused ${op.size} bytes`).toBe(true);
            }
          } else {
            for (let i = 0; i < op.count; i++) {
              const got = consumer.shift();
              const want = model.shift();
              if (want === undefined) {
                expect(got).toBeNull();
                break;
              }
              expect(got, 'a packet was lost or duplicated').not.toBeNull();
              expect(got!.equals(want), `packet ${want.length >= 4 ? want.readUInt32LE(0) : '?'} came out changed`).toBe(true);
              consumer.ack();
            }
          }
          expect(consumer.isEmpty()).toBe(model.length === 0);
        }
        // Drain: exactly what the model holds, nothing more.
        for (const want of model) expect(consumer.shift()?.equals(want)).toBe(true);
        expect(consumer.shift()).toBeNull();
      }),
      { numRuns: 1500 },
    );
  });

  it('an empty tx ring of the smallest size Tuncer accepts (txRingBytes = 2 * MAX_PACKET) takes a packet of MAX_PACKET bytes', () => {
    // validate() in src/actors/tuncer.ts accepts txRingBytes >= 2 * MAX_PACKET and rounds down to 4.
    const capacity = (2 * MAX_PACKET) & ~3;
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: MAX_PACKET }), { minLength: 1, maxLength: 6 }), (sizes) => {
        inputs += 1;
        const sab = PacketRing.allocate(capacity);
        const producer = new PacketRing(sab);
        const consumer = new PacketRing(sab);
        for (const size of sizes) {
          // The worker writes each queued packet and releases it: the ring is empty again.
          if (producer.tryWrite(Buffer.alloc(size))) {
            producer.publish();
            expect(consumer.shift()?.length).toBe(size);
            consumer.ack();
          }
          expect(consumer.isEmpty()).toBe(true);
          // An empty ring must take the largest packet; send() otherwise waits for an ack that never comes.
          expect(producer.tryWrite(Buffer.alloc(MAX_PACKET)), `after a ${size}-byte packet`).toBe(true);
          expect(consumer.shift()?.length).toBe(MAX_PACKET);
          consumer.ack();
        }
      }),
      // 65544 bytes leaves the write position at 65548, where neither the tail (65552 bytes)
      // nor the head (65544 bytes) has room for a 65556-byte record.
      { numRuns: 300, examples: [[[65544]], [[65548]], [[65552, 1]]] },
    );
  });
});
