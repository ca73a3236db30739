import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Supervisor, type SupervisorEvent } from '../../src/supervisor/index.js';
import { flush, Harness, type FakeChild } from './fakeChild.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('start and stop order', () => {
  it('starts children in order and stops them in reverse order', async () => {
    const h = new Harness();
    const sup = await Supervisor.start({ strategy: 'one_for_one', children: [h.spec('a'), h.spec('b'), h.spec('c')] });
    expect(h.log).toEqual(['start:a', 'start:b', 'start:c']);
    await sup.stop();
    expect(h.log).toEqual(['start:a', 'start:b', 'start:c', 'stop:c', 'stop:b', 'stop:a']);
    expect(await sup.exit).toBe('shutdown');
    expect(h.alive()).toEqual([]);
  });

  it('waits for each start before the next one', async () => {
    const h = new Harness();
    const gate = h.gate('a');
    let started = false;
    const p = Supervisor.start({ strategy: 'one_for_one', children: [h.spec('a'), h.spec('b')] }).then((s) => {
      started = true;
      return s;
    });
    await flush();
    expect(h.log).toEqual([]);
    gate.open();
    const sup = await p;
    expect(started).toBe(true);
    expect(h.log).toEqual(['start:a', 'start:b']);
    await sup.stop();
  });
});

/**
 * Children a, b, c under `strategy`; `crashed` crashes and from then on every start of b fails,
 * so the group restart is stuck retrying b (OTP try_again_restart) when this returns.
 */
async function stuckRestartingB(strategy: 'rest_for_one' | 'one_for_all', crashed: 'a' | 'b'): Promise<{ h: Harness; sup: Supervisor<FakeChild> }> {
  const h = new Harness();
  const sup = await Supervisor.start({ strategy, intensity: 1000, period: 10, children: [h.spec('a'), h.spec('b'), h.spec('c')] });
  h.failNext('b', 100_000);
  h.last(crashed).crash();
  await flush();
  return { h, sup };
}

describe('strategies restart exactly the right siblings, in the right order', () => {
  it('one_for_one restarts only the dead child', async () => {
    const h = new Harness();
    const sup = await Supervisor.start({ strategy: 'one_for_one', intensity: 5, children: [h.spec('a'), h.spec('b'), h.spec('c')] });
    const mark = h.log.length;
    const old = h.last('b');
    old.crash();
    await flush();
    expect(h.since(mark)).toEqual(['start:b']);
    expect(h.last('b')).not.toBe(old);
    expect(sup.whichChildren().map((c) => c.child)).toEqual([h.last('a'), h.last('b'), h.last('c')]);
    await sup.stop();
  });

  it('one_for_all stops the others in reverse order, then restarts all in order', async () => {
    const h = new Harness();
    const events: SupervisorEvent[] = [];
    const sup = await Supervisor.start({
      strategy: 'one_for_all',
      intensity: 5,
      children: [h.spec('a'), h.spec('b'), h.spec('c')],
      observer: { next: (e) => events.push(e) },
    });
    const mark = h.log.length;
    h.last('b').crash();
    await flush();
    expect(h.since(mark)).toEqual(['stop:c', 'stop:a', 'start:a', 'start:b', 'start:c']);
    expect(h.count('a')).toBe(2);
    expect(h.count('c')).toBe(2);
    expect(events.find((e) => e.type === 'child.restarting')).toMatchObject({ id: 'b', delayMs: 0, ids: ['a', 'b', 'c'] });
    expect(h.alive()).toEqual(['a', 'b', 'c']);
    await sup.stop();
  });

  it('rest_for_one restarts the dead child and those started after it', async () => {
    const h = new Harness();
    const sup = await Supervisor.start({
      strategy: 'rest_for_one',
      intensity: 5,
      children: [h.spec('a'), h.spec('b'), h.spec('c'), h.spec('d')],
    });
    const mark = h.log.length;
    const a = h.last('a');
    h.last('b').crash();
    await flush();
    expect(h.since(mark)).toEqual(['stop:d', 'stop:c', 'start:b', 'start:c', 'start:d']);
    expect(h.last('a')).toBe(a);
    expect(a.exited).toBe(false);
    await sup.stop();
  });

  it('one_for_all: siblings crashing together cause one group restart (the second exit is absorbed)', async () => {
    const h = new Harness();
    const events: SupervisorEvent[] = [];
    const sup = await Supervisor.start({
      strategy: 'one_for_all',
      intensity: 5,
      backoff: { minMs: 100, maxMs: 100 },
      children: [h.spec('a'), h.spec('b')],
      observer: { next: (e) => events.push(e) },
    });
    h.last('a').crash();
    h.last('b').crash();
    await flush();
    await vi.advanceTimersByTimeAsync(100);
    await flush();
    expect(events.filter((e) => e.type === 'child.restarting')).toHaveLength(1);
    expect(h.since(2)).toEqual(['start:a', 'start:b']);
    await sup.stop();
  });

  it('rest_for_one: the last child dying restarts only itself', async () => {
    const h = new Harness();
    const sup = await Supervisor.start({ strategy: 'rest_for_one', intensity: 5, children: [h.spec('a'), h.spec('b')] });
    const mark = h.log.length;
    h.last('b').crash();
    await flush();
    expect(h.since(mark)).toEqual(['start:b']);
    await sup.stop();
  });

  it('a temporary sibling taken down by one_for_all is dropped, not restarted', async () => {
    const h = new Harness();
    const sup = await Supervisor.start({
      strategy: 'one_for_all',
      intensity: 5,
      children: [h.spec('a'), h.spec('t', { restart: 'temporary' }), h.spec('c')],
    });
    const mark = h.log.length;
    h.last('a').crash();
    await flush();
    expect(h.since(mark)).toEqual(['stop:c', 'stop:t', 'start:a', 'start:c']);
    expect(sup.whichChildren().map((c) => c.id)).toEqual(['a', 'c']);
    await sup.stop();
  });

  it('one_for_all also restarts a sibling stopped with terminateChild (as OTP does)', async () => {
    const h = new Harness();
    const sup = await Supervisor.start({ strategy: 'one_for_all', intensity: 5, children: [h.spec('a'), h.spec('b')] });
    await sup.terminateChild('b');
    expect(sup.whichChildren()[1]?.child).toBeUndefined();
    const mark = h.log.length;
    h.last('a').crash();
    await flush();
    expect(h.since(mark)).toEqual(['start:a', 'start:b']);
    expect(sup.whichChildren()[1]?.child).toBe(h.last('b'));
    await sup.stop();
  });

  it('rest_for_one: a failed restart is retried from the failed child (try_again_restart)', async () => {
    const h = new Harness();
    const events: SupervisorEvent[] = [];
    const sup = await Supervisor.start({
      strategy: 'rest_for_one',
      intensity: 5,
      children: [h.spec('a'), h.spec('b'), h.spec('c')],
      observer: { next: (e) => events.push(e) },
    });
    h.failNext('c');
    const mark = h.log.length;
    h.last('b').crash();
    await flush();
    expect(h.since(mark)).toEqual(['stop:c', 'start:b', 'start_failed:c', 'start:c']);
    expect(events.filter((e) => e.type === 'child.restarting').map((e) => e.type === 'child.restarting' && e.id)).toEqual(['b', 'c']);
    expect(events.some((e) => e.type === 'child.start_failed' && e.id === 'c')).toBe(true);
    expect(h.alive()).toEqual(['a', 'b', 'c']);
    await sup.stop();
  });

  it('rest_for_one: terminating a child stuck in its restart loop leaves the rest of its group down (OTP hanging_restart_loop_rest_for_one)', async () => {
    const { h, sup } = await stuckRestartingB('rest_for_one', 'b');
    expect(await sup.restartChild('b')).toEqual({ ok: false, error: 'restarting' });
    expect(await sup.deleteChild('b')).toEqual({ ok: false, error: 'restarting' });
    const waiting = sup.whenRunning('c').catch((e: unknown) => e);
    expect(await sup.terminateChild('b')).toEqual({ ok: true });
    expect(sup.whichChildren().map((c) => c.child)).toEqual([h.last('a'), undefined, undefined]);
    expect(await waiting).toMatchObject({ code: 'ENOCHILD', childId: 'c' });
    await flush();
    expect(h.count('c')).toBe(1); // c was never started again
    expect(h.log.filter((l) => l.startsWith('start:'))).toEqual(['start:a', 'start:b', 'start:c']);
    h.failures.clear();
    expect(await sup.restartChild('b')).toEqual({ ok: true, child: h.last('b') });
    await flush();
    expect(sup.whichChildren().map((c) => c.child)).toEqual([h.last('a'), h.last('b'), undefined]);
    await sup.stop();
  });

  it('one_for_all: terminating the child whose restart keeps failing leaves the rest of its group down', async () => {
    const { h, sup } = await stuckRestartingB('one_for_all', 'a');
    expect(await sup.terminateChild('b')).toEqual({ ok: true });
    const starts = h.count('a');
    await flush();
    expect(h.count('a')).toBe(starts);
    expect(h.count('c')).toBe(1);
    expect(sup.whichChildren().map((c) => c.child)).toEqual([h.last('a'), undefined, undefined]);
    expect(h.alive()).toEqual(['a']);
    await sup.stop();
  });

  it('one_for_all: a failed restart restarts the whole group again', async () => {
    const h = new Harness();
    const sup = await Supervisor.start({ strategy: 'one_for_all', intensity: 5, children: [h.spec('a'), h.spec('b'), h.spec('c')] });
    h.failNext('b');
    const mark = h.log.length;
    h.last('a').crash();
    await flush();
    expect(h.since(mark)).toEqual(['stop:c', 'stop:b', 'start:a', 'start_failed:b', 'stop:a', 'start:a', 'start:b', 'start:c']);
    expect(h.alive()).toEqual(['a', 'b', 'c']);
    await sup.stop();
  });
});

describe('restart types', () => {
  it('permanent: restarted even after a normal exit', async () => {
    const h = new Harness();
    const sup = await Supervisor.start({ strategy: 'one_for_one', children: [h.spec('p')] });
    h.last('p').crash('normal');
    await flush();
    expect(h.count('p')).toBe(2);
    await sup.stop();
  });

  it('transient: not restarted after normal, shutdown or {shutdown}; restarted after a crash', async () => {
    const h = new Harness();
    const sup = await Supervisor.start({
      strategy: 'one_for_one',
      intensity: 5,
      children: [h.spec('n', { restart: 'transient' }), h.spec('s', { restart: 'transient' }), h.spec('x', { restart: 'transient' }), h.spec('e', { restart: 'transient' })],
    });
    h.last('n').crash('normal');
    h.last('s').crash('shutdown');
    h.last('x').crash({ shutdown: 'link down' });
    h.last('e').crash(new Error('boom'));
    await flush();
    expect([h.count('n'), h.count('s'), h.count('x'), h.count('e')]).toEqual([1, 1, 1, 2]);
    expect(sup.whichChildren()).toEqual([
      { id: 'n', child: undefined, type: 'worker' },
      { id: 's', child: undefined, type: 'worker' },
      { id: 'x', child: undefined, type: 'worker' },
      { id: 'e', child: h.last('e'), type: 'worker' },
    ]);
    await sup.stop();
  });

  it('transient: "killed" is abnormal and restarts it', async () => {
    const h = new Harness();
    const sup = await Supervisor.start({ strategy: 'one_for_one', children: [h.spec('t', { restart: 'transient' })] });
    h.last('t').crash('killed');
    await flush();
    expect(h.count('t')).toBe(2);
    await sup.stop();
  });

  it('temporary: never restarted, and dropped from the children when it exits', async () => {
    const h = new Harness();
    const sup = await Supervisor.start({ strategy: 'one_for_one', children: [h.spec('a'), h.spec('t', { restart: 'temporary' })] });
    h.last('t').crash(new Error('boom'));
    await flush();
    expect(h.count('t')).toBe(1);
    expect(sup.whichChildren().map((c) => c.id)).toEqual(['a']);
    expect(sup.countChildren()).toEqual({ specs: 1, active: 1, supervisors: 0, workers: 1 });
    await sup.stop();
  });
});
