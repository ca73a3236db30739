import { describe, expect, it } from 'vitest';
import {
  backoff,
  backoffDelay,
  checkBackoff,
  isChild,
  isNormalExit,
  planRestart,
  resolveChildSpec,
  restartIntensity,
  shouldRestart,
  SupervisorError,
} from '../../src/supervisor/index.js';

const kids = [
  { id: 'a', restart: 'permanent' },
  { id: 'b', restart: 'temporary' },
  { id: 'c', restart: 'transient' },
  { id: 'd', restart: 'permanent' },
] as const;

describe('planRestart', () => {
  it('one_for_one and simple_one_for_one restart only the failed child', () => {
    expect(planRestart('one_for_one', kids, 'c')).toEqual({ terminate: [], remove: [], start: ['c'] });
    expect(planRestart('simple_one_for_one', kids, 'a')).toEqual({ terminate: [], remove: [], start: ['a'] });
  });

  it('one_for_all stops all others in reverse order and restarts all but temporary ones', () => {
    expect(planRestart('one_for_all', kids, 'c')).toEqual({
      terminate: ['d', 'b', 'a'],
      remove: ['b'],
      start: ['a', 'c', 'd'],
    });
  });

  it('rest_for_one stops those started after it, in reverse order, and restarts it and them', () => {
    expect(planRestart('rest_for_one', kids, 'a')).toEqual({ terminate: ['d', 'c', 'b'], remove: ['b'], start: ['a', 'c', 'd'] });
    expect(planRestart('rest_for_one', kids, 'c')).toEqual({ terminate: ['d'], remove: [], start: ['c', 'd'] });
    expect(planRestart('rest_for_one', kids, 'd')).toEqual({ terminate: [], remove: [], start: ['d'] });
  });

  it('rejects an unknown child', () => {
    expect(() => planRestart('one_for_all', kids, 'zz')).toThrow(RangeError);
  });
});

describe('restartIntensity', () => {
  it('allows `intensity` restarts per period and refuses one more', () => {
    let v = restartIntensity([], 0, 2, 5000);
    expect(v.exceeded).toBe(false);
    v = restartIntensity(v.restarts, 1000, 2, 5000);
    expect(v.exceeded).toBe(false);
    v = restartIntensity(v.restarts, 4999, 2, 5000);
    expect(v).toEqual({ restarts: [4999, 1000, 0], exceeded: true });
  });

  it('forgets restarts older than the period (sliding window)', () => {
    const v = restartIntensity([1000, 0], 5000, 2, 5000);
    expect(v).toEqual({ restarts: [5000, 1000], exceeded: false });
  });

  it('intensity 0 refuses the first restart', () => {
    expect(restartIntensity([], 0, 0, 5000).exceeded).toBe(true);
  });

  it('is pure', () => {
    const window = [10];
    restartIntensity(window, 20, 5, 1000);
    expect(window).toEqual([10]);
  });
});

describe('backoff', () => {
  const o = { minMs: 100, maxMs: 1000, randomFactor: 0.5 };

  it('doubles from minMs up to maxMs', () => {
    expect([0, 1, 2, 3, 4, 10].map((n) => backoffDelay(n, o, () => 0))).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it('applies jitter as (1 + random * randomFactor), possibly above maxMs', () => {
    expect(backoffDelay(0, o, () => 0.5)).toBe(125);
    expect(backoffDelay(10, o, () => 0.999)).toBeCloseTo(1499.5);
  });

  it('counts consecutive restarts and resets after resetAfterMs of uptime', () => {
    const r = { minMs: 100, maxMs: 1000, resetAfterMs: 5000 };
    expect(backoff(0, 10, r, () => 0)).toEqual({ delayMs: 100, attempt: 1 });
    expect(backoff(1, 4999, r, () => 0)).toEqual({ delayMs: 200, attempt: 2 });
    expect(backoff(2, undefined, r, () => 0)).toEqual({ delayMs: 400, attempt: 3 });
    expect(backoff(3, 5000, r, () => 0)).toEqual({ delayMs: 100, attempt: 1 });
  });

  it('resets after minMs by default (Akka)', () => {
    expect(backoff(4, 100, { minMs: 100, maxMs: 1000 }, () => 0).delayMs).toBe(100);
    expect(backoff(4, 99, { minMs: 100, maxMs: 1000 }, () => 0).delayMs).toBe(1000);
  });

  it('checks options', () => {
    expect(checkBackoff(o)).toBeUndefined();
    expect(checkBackoff({ minMs: 10, maxMs: 5 })).toMatch(/maxMs/);
    expect(checkBackoff({ minMs: -1, maxMs: 5 })).toMatch(/minMs/);
  });
});

describe('child spec helpers', () => {
  it('isNormalExit follows OTP', () => {
    expect(isNormalExit('normal')).toBe(true);
    expect(isNormalExit('shutdown')).toBe(true);
    expect(isNormalExit({ shutdown: 'bye' })).toBe(true);
    expect(isNormalExit('killed')).toBe(false);
    expect(isNormalExit(new Error('x'))).toBe(false);
    expect(isNormalExit(undefined)).toBe(false);
    expect(isNormalExit({ other: 1 })).toBe(false);
  });

  it('shouldRestart follows the restart type', () => {
    expect(shouldRestart('permanent', 'normal')).toBe(true);
    expect(shouldRestart('transient', 'normal')).toBe(false);
    expect(shouldRestart('transient', { shutdown: 1 })).toBe(false);
    expect(shouldRestart('transient', 'killed')).toBe(true);
    expect(shouldRestart('temporary', new Error('x'))).toBe(false);
  });

  it('resolveChildSpec fills OTP defaults', () => {
    const start = async () => ({ exit: new Promise(() => {}), stop() {}, kill() {} });
    expect(resolveChildSpec({ id: 'w', start })).toMatchObject({ restart: 'permanent', shutdown: 5000, type: 'worker', significant: false });
    expect(resolveChildSpec({ id: 's', start, type: 'supervisor' }).shutdown).toBe('infinity');
  });

  it('resolveChildSpec refuses bad specs with EINVAL', () => {
    const start = async () => ({ exit: new Promise(() => {}), stop() {}, kill() {} });
    const bad = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e instanceof SupervisorError ? e.code : 'other';
      }
      return 'no error';
    };
    expect(bad(() => resolveChildSpec({ id: '', start }))).toBe('EINVAL');
    expect(bad(() => resolveChildSpec({ id: 'x', start, shutdown: -1 }))).toBe('EINVAL');
    expect(bad(() => resolveChildSpec({ id: 'x', start, significant: true, restart: 'transient' }, 'never'))).toBe('EINVAL');
    expect(bad(() => resolveChildSpec({ id: 'x', start, significant: true }, 'any_significant'))).toBe('EINVAL');
    expect(bad(() => resolveChildSpec({ id: 'x', start, significant: true, restart: 'temporary' }, 'any_significant'))).toBe('no error');
  });

  it('isChild recognises the contract', () => {
    expect(isChild({ exit: Promise.resolve('normal'), stop() {}, kill() {} })).toBe(true);
    expect(isChild({ exit: 1, stop() {}, kill() {} })).toBe(false);
    expect(isChild({ exit: Promise.resolve(), stop() {} })).toBe(false);
    expect(isChild(null)).toBe(false);
  });
});
