import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Supervisor, SupervisorError, type SupervisorEvent } from '../../src/supervisor/index.js';
import { flush, Harness } from './fakeChild.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

function recorder(): { events: SupervisorEvent[]; completed: () => boolean; observer: { next(e: SupervisorEvent): void; complete(): void } } {
  const events: SupervisorEvent[] = [];
  let done = false;
  return { events, completed: () => done, observer: { next: (e) => events.push(e), complete: () => (done = true) } };
}

describe('restart intensity', () => {
  it('more than `intensity` restarts in `period` stops all children in reverse order and exits with shutdown', async () => {
    const h = new Harness();
    const r = recorder();
    const sup = await Supervisor.start({
      strategy: 'one_for_one',
      intensity: 2,
      period: 5,
      children: [h.spec('a'), h.spec('b'), h.spec('c')],
      observer: r.observer,
    });
    h.last('b').crash();
    await flush();
    await vi.advanceTimersByTimeAsync(1000);
    h.last('b').crash();
    await flush();
    expect(h.count('b')).toBe(3);
    await vi.advanceTimersByTimeAsync(1000);
    const mark = h.log.length;
    h.last('b').crash();
    await flush();
    expect(h.since(mark)).toEqual(['stop:c', 'stop:a']);
    expect(h.count('b')).toBe(3);
    expect(await sup.exit).toBe('shutdown');
    expect(h.alive()).toEqual([]);
    const tail = r.events.slice(-4).map((e) => e.type);
    expect(tail).toEqual(['supervisor.max_intensity', 'child.exited', 'child.exited', 'supervisor.exited']);
    expect(r.events.at(-1)).toMatchObject({ type: 'supervisor.exited', reason: 'shutdown', cause: 'max_intensity' });
    expect(r.events.find((e) => e.type === 'supervisor.max_intensity')).toMatchObject({ id: 'b', intensity: 2, periodMs: 5000 });
    expect(r.completed()).toBe(true);
  });

  it('restarts spread wider than the period never add up', async () => {
    const h = new Harness();
    const sup = await Supervisor.start({ strategy: 'one_for_one', intensity: 1, period: 5, children: [h.spec('a')] });
    for (let i = 0; i < 4; i++) {
      h.last('a').crash();
      await flush();
      await vi.advanceTimersByTimeAsync(5000);
    }
    expect(h.count('a')).toBe(5);
    let exited = false;
    void sup.exit.then(() => (exited = true));
    await flush();
    expect(exited).toBe(false);
    // two inside one period: gives up
    h.last('a').crash();
    await flush();
    h.last('a').crash();
    await flush();
    expect(await sup.exit).toBe('shutdown');
  });

  it('a step of the wall clock does not move the intensity window (forward: still too many)', async () => {
    const h = new Harness();
    const sup = await Supervisor.start({ strategy: 'one_for_one', intensity: 1, period: 5, children: [h.spec('a')] });
    h.last('a').crash();
    await flush();
    vi.setSystemTime(Date.now() + 60_000); // NTP or an admin steps the clock a minute ahead
    h.last('a').crash();
    await flush();
    expect(h.count('a')).toBe(2);
    expect(await sup.exit).toBe('shutdown');
  });

  it('a step of the wall clock does not move the intensity window (backward: old restarts still expire)', async () => {
    const h = new Harness();
    const sup = await Supervisor.start({ strategy: 'one_for_one', intensity: 1, period: 5, children: [h.spec('a')] });
    h.last('a').crash();
    await flush();
    vi.setSystemTime(Date.now() - 3_600_000); // stepped an hour back
    await vi.advanceTimersByTimeAsync(5000); // a full period later
    h.last('a').crash();
    await flush();
    expect(h.count('a')).toBe(3);
    let exited = false;
    void sup.exit.then(() => (exited = true));
    await flush();
    expect(exited).toBe(false);
    await sup.stop();
  });

  it('default intensity is 1 restart per 5 s', async () => {
    const h = new Harness();
    const sup = await Supervisor.start({ strategy: 'one_for_one', children: [h.spec('a')] });
    h.last('a').crash();
    await flush();
    expect(h.count('a')).toBe(2);
    await vi.advanceTimersByTimeAsync(4999);
    h.last('a').crash();
    await flush();
    expect(h.count('a')).toBe(2);
    expect(await sup.exit).toBe('shutdown');
  });

  it('a failed restart attempt counts toward intensity', async () => {
    const h = new Harness();
    const r = recorder();
    const sup = await Supervisor.start({ strategy: 'one_for_one', intensity: 1, children: [h.spec('a')], observer: r.observer });
    h.failNext('a');
    h.last('a').crash();
    await flush();
    expect(h.log).toEqual(['start:a', 'start_failed:a']);
    expect(await sup.exit).toBe('shutdown');
    expect(r.events.map((e) => e.type)).toContain('supervisor.max_intensity');
  });

  it('a failed restart attempt is retried while intensity allows', async () => {
    const h = new Harness();
    const sup = await Supervisor.start({ strategy: 'one_for_one', intensity: 3, children: [h.spec('a')] });
    h.failNext('a', 2);
    h.last('a').crash();
    await flush();
    expect(h.log).toEqual(['start:a', 'start_failed:a', 'start_failed:a', 'start:a']);
    expect(sup.whichChildren()[0]?.child).toBe(h.last('a'));
    await sup.stop();
  });
});

describe('failed start', () => {
  it('stops the children already started, in reverse order, and rejects with ESTART', async () => {
    const h = new Harness();
    const r = recorder();
    h.failNext('c');
    const err = await Supervisor.start({
      strategy: 'one_for_one',
      children: [h.spec('a'), h.spec('b'), h.spec('c'), h.spec('d')],
      observer: r.observer,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SupervisorError);
    expect(err).toMatchObject({ code: 'ESTART', childId: 'c' });
    expect(((err as SupervisorError).cause as Error).message).toBe('c failed to start');
    expect(h.log).toEqual(['start:a', 'start:b', 'start_failed:c', 'stop:b', 'stop:a']);
    expect(h.alive()).toEqual([]);
    expect(r.events.at(-1)).toMatchObject({
      type: 'supervisor.exited',
      cause: 'start_failed',
      reason: { shutdown: { failed_to_start_child: 'c' } },
    });
    expect(r.completed()).toBe(true);
  });

  it('a start that resolves to something that is not a Child is a failed start', async () => {
    const err = await Supervisor.start({
      strategy: 'one_for_one',
      children: [{ id: 'bad', start: async () => ({ nope: true }) as never }],
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ESTART', childId: 'bad' });
    expect((err as SupervisorError).cause).toBeInstanceOf(TypeError);
  });

  it('bad options reject with EINVAL', async () => {
    const h = new Harness();
    const codeOf = (p: Promise<unknown>) => p.then(() => 'ok', (e: unknown) => (e instanceof SupervisorError ? e.code : 'other'));
    expect(await codeOf(Supervisor.start({ strategy: 'one_for_one', children: [h.spec('a'), h.spec('a')] }))).toBe('EINVAL');
    expect(await codeOf(Supervisor.start({ strategy: 'simple_one_for_one', children: [] }))).toBe('EINVAL');
    expect(await codeOf(Supervisor.start({ strategy: 'one_for_one', intensity: -1, children: [] }))).toBe('EINVAL');
    expect(await codeOf(Supervisor.start({ strategy: 'one_for_one', period: 0, children: [] }))).toBe('EINVAL');
    expect(await codeOf(Supervisor.start({ strategy: 'one_for_one', backoff: { minMs: 5, maxMs: 1 }, children: [] }))).toBe('EINVAL');
    expect(await codeOf(Supervisor.start({ strategy: 'bogus' as never, children: [] }))).toBe('EINVAL');
    expect(h.log).toEqual([]);
  });
});

describe('shutdown specs', () => {
  it('N ms: stop, then kill after exactly N ms a child that ignores stop', async () => {
    const h = new Harness();
    const r = recorder();
    const sup = await Supervisor.start({
      strategy: 'one_for_one',
      children: [h.spec('slow', { ignoreStop: true, shutdown: 1000 })],
      observer: r.observer,
    });
    let exited = false;
    void sup.stop().then(() => (exited = true));
    await flush();
    expect(h.log).toEqual(['start:slow', 'stop:slow']);
    await vi.advanceTimersByTimeAsync(999);
    expect(h.log).toEqual(['start:slow', 'stop:slow']);
    expect(exited).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await flush();
    expect(h.log).toEqual(['start:slow', 'stop:slow', 'kill:slow']);
    expect(exited).toBe(true);
    expect(r.events.find((e) => e.type === 'child.exited')).toMatchObject({ id: 'slow', reason: 'killed', by: 'supervisor', abnormal: true });
  });

  it('default worker shutdown is 5000 ms', async () => {
    const h = new Harness();
    const sup = await Supervisor.start({ strategy: 'one_for_one', children: [h.spec('slow', { ignoreStop: true })] });
    void sup.stop();
    await vi.advanceTimersByTimeAsync(4999);
    expect(h.log).not.toContain('kill:slow');
    await vi.advanceTimersByTimeAsync(1);
    expect(h.log).toContain('kill:slow');
  });

  it('brutal_kill: kill() only', async () => {
    const h = new Harness();
    const r = recorder();
    const sup = await Supervisor.start({ strategy: 'one_for_one', children: [h.spec('b', { shutdown: 'brutal_kill' })], observer: r.observer });
    await sup.stop();
    expect(h.log).toEqual(['start:b', 'kill:b']);
    expect(r.events.find((e) => e.type === 'child.exited')).toMatchObject({ reason: 'killed', abnormal: false });
  });

  it('infinity: stop() and wait, with no kill however long it takes', async () => {
    const h = new Harness();
    const sup = await Supervisor.start({ strategy: 'one_for_one', children: [h.spec('i', { ignoreStop: true, shutdown: 'infinity' })] });
    let exited = false;
    void sup.stop().then(() => (exited = true));
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(exited).toBe(false);
    expect(h.log).toEqual(['start:i', 'stop:i']);
    h.last('i').crash('shutdown');
    await flush();
    expect(exited).toBe(true);
    expect(h.log).toEqual(['start:i', 'stop:i']);
  });

  it('children are stopped one after the other in reverse order, each per its own spec', async () => {
    const h = new Harness();
    const sup = await Supervisor.start({
      strategy: 'one_for_one',
      children: [h.spec('a', { stopDelayMs: 100 }), h.spec('b', { ignoreStop: true, shutdown: 50 }), h.spec('c', { shutdown: 'brutal_kill' })],
    });
    void sup.stop();
    await flush();
    expect(h.since(3)).toEqual(['kill:c', 'stop:b']);
    await vi.advanceTimersByTimeAsync(50);
    expect(h.since(3)).toEqual(['kill:c', 'stop:b', 'kill:b', 'stop:a']);
    await vi.advanceTimersByTimeAsync(100);
    expect(await sup.exit).toBe('shutdown');
  });
});

describe('kill', () => {
  it('kills every child at once and exits with killed', async () => {
    const h = new Harness();
    const sup = await Supervisor.start({ strategy: 'one_for_one', children: [h.spec('a', { shutdown: 'infinity' }), h.spec('b')] });
    await sup.kill();
    expect(await sup.exit).toBe('killed');
    expect(h.since(2).sort()).toEqual(['kill:a', 'kill:b']);
    expect(h.alive()).toEqual([]);
  });

  it('kill during a graceful stop stuck on an infinity child ends it promptly', async () => {
    const h = new Harness();
    const sup = await Supervisor.start({ strategy: 'one_for_one', children: [h.spec('a', { ignoreStop: true, shutdown: 'infinity' }), h.spec('b')] });
    void sup.stop();
    await flush();
    expect(h.since(2)).toEqual(['stop:b', 'stop:a']);
    await sup.kill();
    expect(h.since(2)).toEqual(['stop:b', 'stop:a', 'kill:a']);
    expect(await sup.exit).toBe('killed');
  });
});

describe('events and logs', () => {
  it('events$ reports the life of a child and completes when the supervisor exits', async () => {
    const h = new Harness();
    const r = recorder();
    const sup = await Supervisor.start({ name: 'net', strategy: 'one_for_one', children: [h.spec('a')], observer: r.observer });
    const later: SupervisorEvent[] = [];
    let laterDone = false;
    sup.events$.subscribe({ next: (e) => later.push(e), complete: () => (laterDone = true) });
    const boom = new Error('boom');
    h.last('a').crash(boom);
    await flush();
    await sup.stop();
    expect(r.events).toEqual([
      { type: 'child.started', supervisor: 'net', id: 'a', childType: 'worker', restart: false },
      { type: 'child.exited', supervisor: 'net', id: 'a', childType: 'worker', reason: boom, by: 'self', abnormal: true },
      { type: 'child.restarting', supervisor: 'net', id: 'a', delayMs: 0, ids: ['a'] },
      { type: 'child.started', supervisor: 'net', id: 'a', childType: 'worker', restart: true },
      { type: 'child.exited', supervisor: 'net', id: 'a', childType: 'worker', reason: 'shutdown', by: 'supervisor', abnormal: false },
      { type: 'supervisor.exited', supervisor: 'net', reason: 'shutdown', cause: 'stop' },
    ]);
    expect(later).toEqual(r.events.slice(1));
    expect(laterDone).toBe(true);
  });

  it('writes one pino line per event at OTP-like levels', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const stream = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        cb();
      },
    });
    const logger = pino({ level: 'debug' }, stream);
    const h = new Harness();
    const sup = await Supervisor.start({ name: 'net', strategy: 'one_for_one', intensity: 1, children: [h.spec('a')], logger });
    h.last('a').crash(new Error('boom'));
    await flush();
    h.last('a').crash(new Error('boom again'));
    await sup.exit;
    await flush();
    const summary = lines.map((l) => [l.level, l.event, l.report]);
    expect(summary).toEqual([
      [30, 'child.started', 'progress'],
      [50, 'child.exited', 'child_terminated'],
      [40, 'child.restarting', undefined],
      [30, 'child.started', 'progress'],
      [50, 'child.exited', 'child_terminated'],
      [50, 'supervisor.max_intensity', 'reached_max_restart_intensity'],
      [50, 'supervisor.exited', undefined],
    ]);
    expect(lines[1]).toMatchObject({ supervisor: 'net', child: 'a', err: { message: 'boom' } });
  });
});
