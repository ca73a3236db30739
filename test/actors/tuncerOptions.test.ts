import { describe, expect, it } from 'vitest';
import { DEFAULT_BATCH_MAX, queueConfig, receiveLimit, resolveTuncerOptions } from '../../src/actors/tuncerOptions.js';
import { MAX_PACKET } from '../../src/tunctl/packetIo.js';
import { PacketRing } from '../../src/actors/packetRing.js';

describe('resolveTuncerOptions', () => {
  // The fuzz test's counterexample: { noCarrier: null } fell through `??` to the default.
  it.each(['name', 'mode', 'noPi', 'vnetHdr', 'multiQueue', 'exclusive', 'oneQueue', 'noCarrier', 'active', 'rxRingBytes', 'txRingBytes', 'timeoutMs', 'queues'])(
    'refuses %s: null with a TypeError that names it, instead of taking the default',
    (key) => {
      expect(() => resolveTuncerOptions({ mode: 'tun', [key]: null } as never)).toThrow(new TypeError(`Tuncer option '${key}' must not be null: leave it out for its default`));
    },
  );
});

describe('receiveLimit', () => {
  it('defaults and checks size for recv, max for recvBatch and batches', () => {
    expect(receiveLimit({}, 'recv')).toBe(MAX_PACKET);
    expect(receiveLimit({ size: 100 }, 'recv')).toBe(100);
    expect(receiveLimit({}, 'recvBatch')).toBe(DEFAULT_BATCH_MAX);
    expect(receiveLimit({ max: 65536 }, 'batches')).toBe(65536);
    expect(receiveLimit({ size: 0 }, 'recv')).toBeInstanceOf(RangeError);
    expect(receiveLimit({ max: 65537 }, 'recvBatch')).toBeInstanceOf(RangeError);
    expect(receiveLimit({ max: 1.5 }, 'batches')).toBeInstanceOf(RangeError);
  });

  it('names options that do not belong, and is not thrown off by a non-object', () => {
    expect((receiveLimit({ max: 4 } as object, 'recv') as Error).message).toMatch(/recv option/);
    expect((receiveLimit({ signal: AbortSignal.timeout(1) } as object, 'batches') as Error).message).toMatch(/batches option/);
    expect(receiveLimit(null as unknown as object, 'recv')).toBeInstanceOf(TypeError);
  });
});

describe('queueConfig', () => {
  it('attaches by name as a multi-queue device, configures nothing device-wide, with rings of its own', () => {
    const cfg = resolveTuncerOptions({ mode: 'tun', queues: 2, exclusive: true, mtu: 1400, addresses: ['198.18.0.1/24'], persist: true, active: true });
    const q = queueConfig(cfg, 'tun7', 1);
    expect(q.name).toBe('tun7');
    expect(q.create.multiQueue).toBe(true);
    expect(q.create.exclusive).toBeUndefined();
    expect([q.mtu, q.persist, q.addresses, q.up, q.active, q.queues]).toEqual([undefined, undefined, [], false, false, 1]);
    expect(q.rx).not.toBe(cfg.rx);
    expect(new PacketRing(q.rx).capacity).toBe(new PacketRing(cfg.rx).capacity);
  });
});
