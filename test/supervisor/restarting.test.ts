import { firstValueFrom, toArray } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Supervisor, SupervisorError, type SupervisorEvent } from '../../src/supervisor/index.js';
import { flush, Harness, type FakeChild } from './fakeChild.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

const delays = (events: SupervisorEvent[]): number[] =>
  events.flatMap((e) => (e.type === 'child.restarting' ? [e.delayMs] : []));

describe('backoff', () => {
  it('waits min*2^n before each restart, and resets after resetAfterMs of stability', async () => {
    const h = new Harness();
    const events: SupervisorEvent[] = [];
    const sup = await Supervisor.start({
      strategy: 'one_for_one',
      intensity: 100,
      period: 60,
      backoff: { minMs: 100, maxMs: 1000, randomFactor: 0, resetAfterMs: 500 },
      children: [h.spec('a')],
      observer: { next: (e) => events.push(e) },
    });
    for (const expected of [100, 200, 400, 800, 1000]) {
      h.last('a').crash();
      await flush();
      const n = h.count('a');
      await vi.advanceTimersByTimeAsync(expected - 1);
      expect(h.count('a')).toBe(n);
      expect(sup.whichChildren()[0]?.child).toBe('restarting');
      await vi.advanceTimersByTimeAsync(1);
      await flush();
      expect(h.count('a')).toBe(n + 1);
    }
    expect(delays(events)).toEqual([100, 200, 400, 800, 1000]);
    await vi.advanceTimersByTimeAsync(499);
    h.last('a').crash();
    await flush();
    expect(delays(events).at(-1)).toBe(1000);
    await vi.advanceTimersByTimeAsync(1000);
    await vi.advanceTimersByTimeAsync(500);
    h.last('a').crash();
    await flush();
    expect(delays(events).at(-1)).toBe(100);
    await sup.stop();
  });

  it('applies jitter from the injected random source', async () => {
    const h = new Harness();
    const events: SupervisorEvent[] = [];
    const sup = await Supervisor.start({
      strategy: 'one_for_one',
      backoff: { minMs: 100, maxMs: 1000, randomFactor: 0.5 },
      random: () => 0.5,
      children: [h.spec('a')],
      observer: { next: (e) => events.push(e) },
    });
    h.last('a').crash();
    await flush();
    expect(delays(events)).toEqual([125]);
    await vi.advanceTimersByTimeAsync(125);
    expect(h.count('a')).toBe(2);
    await sup.stop();
  });

  it('one_for_all: siblings go down at once, the whole group comes back after the delay', async () => {
    const h = new Harness();
    const sup = await Supervisor.start({
      strategy: 'one_for_all',
      backoff: { minMs: 100, maxMs: 1000 },
      children: [h.spec('a'), h.spec('b')],
    });
    h.last('a').crash();
    await flush();
    expect(h.since(2)).toEqual(['stop:b']);
    expect(sup.whichChildren().map((c) => c.child)).toEqual(['restarting', 'restarting']);
    await vi.advanceTimersByTimeAsync(100);
    expect(h.since(2)).toEqual(['stop:b', 'start:a', 'start:b']);
    await sup.stop();
  });

  it('a failed start is retried after the next, longer delay', async () => {
    const h = new Harness();
    const events: SupervisorEvent[] = [];
    const sup = await Supervisor.start({
      strategy: 'one_for_one',
      intensity: 5,
      backoff: { minMs: 100, maxMs: 1000 },
      children: [h.spec('a')],
      observer: { next: (e) => events.push(e) },
    });
    h.failNext('a');
    h.last('a').crash();
    await vi.advanceTimersByTimeAsync(100);
    expect(h.log).toEqual(['start:a', 'start_failed:a']);
    await vi.advanceTimersByTimeAsync(199);
    expect(h.count('a')).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(h.log).toEqual(['start:a', 'start_failed:a', 'start:a']);
    expect(delays(events)).toEqual([100, 200]);
    await sup.stop();
  });
});

describe('stop while a restart is in progress', () => {
  it('during a backoff delay: the restart is cancelled and nothing is left running', async () => {
    const h = new Harness();
    const sup = await Supervisor.start({
      strategy: 'one_for_one',
      backoff: { minMs: 1000, maxMs: 1000 },
      children: [h.spec('a'), h.spec('b')],
    });
    h.last('a').crash();
    await flush();
    await vi.advanceTimersByTimeAsync(500);
    await sup.stop();
    expect(await sup.exit).toBe('shutdown');
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(h.log).toEqual(['start:a', 'start:b', 'stop:b']);
    expect(h.alive()).toEqual([]);
  });

  it('during an in-flight start: the late child is stopped when it arrives, before exit resolves', async () => {
    const h = new Harness();
    const events: SupervisorEvent[] = [];
    const sup = await Supervisor.start({ strategy: 'one_for_one', children: [h.spec('a')], observer: { next: (e) => events.push(e) } });
    const gate = h.gate('a');
    h.last('a').crash();
    await flush();
    let exited = false;
    void sup.stop().then(() => (exited = true));
    await flush();
    expect(exited).toBe(false);
    gate.open();
    await flush();
    expect(exited).toBe(true);
    expect(h.log).toEqual(['start:a', 'start:a', 'stop:a']);
    expect(h.alive()).toEqual([]);
    expect(sup.whichChildren()[0]?.child).toBeUndefined();
    expect(events.at(-2)).toMatchObject({ type: 'child.exited', id: 'a', by: 'supervisor' });
  });

  it('kill during an in-flight start exits only once the late child has arrived and been killed', async () => {
    const h = new Harness();
    const sup = await Supervisor.start({ strategy: 'one_for_one', children: [h.spec('a'), h.spec('b')] });
    const gate = h.gate('a');
    h.last('a').crash();
    await flush();
    let logAtExit: string[] | undefined;
    void sup.exit.then(() => (logAtExit = [...h.log]));
    void sup.kill();
    await flush();
    expect(h.log).toEqual(['start:a', 'start:b', 'kill:b']);
    expect(logAtExit).toBeUndefined(); // the start of a is still in flight
    gate.open();
    expect(await sup.exit).toBe('killed');
    expect(logAtExit).toEqual(['start:a', 'start:b', 'kill:b', 'start:a', 'kill:a']);
    expect(h.alive()).toEqual([]);
  });

  it('startChild whose start is in flight when the supervisor stops rejects with ENOPROC and leaves nothing', async () => {
    const h = new Harness();
    const sup = await Supervisor.start({ strategy: 'one_for_one', children: [] });
    const gate = h.gate('x');
    const r = sup.startChild(h.spec('x')).catch((e: unknown) => e);
    await flush();
    const stopped = sup.stop();
    gate.open();
    expect(await r).toMatchObject({ code: 'ENOPROC' });
    await stopped;
    expect(h.log).toEqual(['start:x', 'stop:x']);
  });

  it('terminateChild during a backoff delay cancels that restart', async () => {
    const h = new Harness();
    const sup = await Supervisor.start({ strategy: 'one_for_one', backoff: { minMs: 100, maxMs: 100 }, children: [h.spec('a')] });
    h.last('a').crash();
    await flush();
    expect(await sup.restartChild('a')).toEqual({ ok: false, error: 'restarting' });
    expect(await sup.deleteChild('a')).toEqual({ ok: false, error: 'restarting' });
    expect(await sup.terminateChild('a')).toEqual({ ok: true });
    await vi.advanceTimersByTimeAsync(1000);
    expect(h.count('a')).toBe(1);
    expect(sup.whichChildren()).toEqual([{ id: 'a', child: undefined, type: 'worker' }]);
    const r = await sup.restartChild('a');
    expect(r.ok).toBe(true);
    expect(h.count('a')).toBe(2);
    await sup.stop();
  });
});

describe('instance$ and whenRunning', () => {
  it('instance$ emits each instance and undefined while down; completes when the supervisor exits', async () => {
    const h = new Harness();
    const sup = await Supervisor.start({ strategy: 'one_for_one', backoff: { minMs: 100, maxMs: 100 }, children: [h.spec('a')] });
    const all = firstValueFrom(sup.instance$('a').pipe(toArray()));
    const first = h.last('a');
    first.crash();
    await flush();
    await vi.advanceTimersByTimeAsync(100);
    const second = h.last('a');
    expect(second).not.toBe(first);
    await sup.stop();
    expect(await all).toEqual([first, undefined, second, undefined]);
  });

  it('whenRunning resolves with the current child, or the next one after a pending restart', async () => {
    const h = new Harness();
    const sup = await Supervisor.start({ strategy: 'one_for_one', backoff: { minMs: 100, maxMs: 100 }, children: [h.spec('a')] });
    expect(await sup.whenRunning('a')).toBe(h.last('a'));
    h.last('a').crash();
    await flush(); // the exit is noticed one microtask after it resolves
    let got: FakeChild | undefined;
    void sup.whenRunning('a').then((c) => (got = c));
    await flush();
    expect(got).toBeUndefined();
    await vi.advanceTimersByTimeAsync(100);
    await flush();
    expect(got).toBe(h.last('a'));
    expect(h.count('a')).toBe(2);
    await sup.stop();
  });

  it('whenRunning waits through failed restart attempts', async () => {
    const h = new Harness();
    const sup = await Supervisor.start({ strategy: 'one_for_one', intensity: 5, children: [h.spec('a')] });
    h.failNext('a', 2);
    const gate = h.gate('a');
    h.last('a').crash();
    await flush();
    const p = sup.whenRunning('a');
    gate.open();
    await flush();
    expect(await p).toBe(h.last('a'));
    expect(h.count('a')).toBe(2);
    expect(h.log).toEqual(['start:a', 'start_failed:a', 'start_failed:a', 'start:a']);
    await sup.stop();
  });

  it('whenRunning rejects with ENOCHILD when no instance will come', async () => {
    const h = new Harness();
    const sup = await Supervisor.start({
      strategy: 'one_for_one',
      backoff: { minMs: 100, maxMs: 100 },
      children: [h.spec('t', { restart: 'transient' }), h.spec('p')],
    });
    await expect(sup.whenRunning('nope')).rejects.toMatchObject({ code: 'ENOCHILD', childId: 'nope' });
    h.last('t').crash('normal');
    await flush();
    await expect(sup.whenRunning('t')).rejects.toBeInstanceOf(SupervisorError);
    h.last('p').crash();
    await flush();
    const pending = sup.whenRunning('p').catch((e: unknown) => e);
    await flush();
    await sup.stop();
    expect(await pending).toMatchObject({ code: 'ENOCHILD', childId: 'p' });
    await expect(sup.whenRunning('p')).rejects.toMatchObject({ code: 'ENOCHILD' });
  });

  it('a pending whenRunning is rejected when the child is terminated, and by its abort signal', async () => {
    const h = new Harness();
    const sup = await Supervisor.start({
      strategy: 'one_for_one',
      intensity: 5,
      backoff: { minMs: 100, maxMs: 100 },
      children: [h.spec('a'), h.spec('b')],
    });
    h.last('a').crash();
    h.last('b').crash();
    await flush();
    const byTerminate = sup.whenRunning('a').catch((e: unknown) => e);
    const ac = new AbortController();
    const byAbort = sup.whenRunning('b', ac.signal).catch((e: unknown) => e);
    await sup.terminateChild('a');
    const reason = new Error('gave up waiting');
    ac.abort(reason);
    expect(await byTerminate).toMatchObject({ code: 'ENOCHILD', childId: 'a' });
    expect(await byAbort).toBe(reason);
    await sup.stop();
  });

  it('instance$ completes when the spec is deleted; unknown ids give undefined and complete', async () => {
    const h = new Harness();
    const sup = await Supervisor.start({ strategy: 'one_for_one', children: [h.spec('a')] });
    const all = firstValueFrom(sup.instance$('a').pipe(toArray()));
    const a = h.last('a');
    await sup.terminateChild('a');
    await sup.deleteChild('a');
    expect(await all).toEqual([a, undefined]);
    expect(await firstValueFrom(sup.instance$('zz').pipe(toArray()))).toEqual([undefined]);
    await sup.stop();
  });
});

describe('child management API', () => {
  it('startChild: ok, already_started, already_present, start_failed', async () => {
    const h = new Harness();
    const sup = await Supervisor.start({ strategy: 'one_for_one', children: [h.spec('a')] });
    const r = await sup.startChild(h.spec('b'));
    expect(r).toEqual({ ok: true, id: 'b', child: h.last('b') });
    expect(await sup.startChild(h.spec('b'))).toEqual({ ok: false, error: 'already_started', child: h.last('b') });
    await sup.terminateChild('b');
    expect(await sup.startChild(h.spec('b'))).toEqual({ ok: false, error: 'already_present' });
    h.failNext('c');
    const failed = await sup.startChild(h.spec('c'));
    expect(failed).toMatchObject({ ok: false, error: 'start_failed' });
    expect(!failed.ok && failed.error === 'start_failed' && (failed.cause as Error).message).toBe('c failed to start');
    expect(sup.whichChildren().map((c) => c.id)).toEqual(['a', 'b']);
    await sup.stop();
    expect(h.since(0)).toEqual(['start:a', 'start:b', 'stop:b', 'start_failed:c', 'stop:a']);
  });

  it('terminateChild stops a permanent child without restarting it; restartChild brings it back', async () => {
    const h = new Harness();
    const sup = await Supervisor.start({ strategy: 'one_for_one', children: [h.spec('a'), h.spec('b')] });
    expect(await sup.restartChild('a')).toEqual({ ok: false, error: 'running' });
    expect(await sup.terminateChild('a')).toEqual({ ok: true });
    await flush();
    expect(h.log).toEqual(['start:a', 'start:b', 'stop:a']);
    expect(sup.countChildren()).toEqual({ specs: 2, active: 1, supervisors: 0, workers: 2 });
    const r = await sup.restartChild('a');
    expect(r).toEqual({ ok: true, child: h.last('a') });
    expect(h.count('a')).toBe(2);
    expect(await sup.restartChild('zz')).toEqual({ ok: false, error: 'not_found' });
    expect(await sup.terminateChild('zz')).toEqual({ ok: false, error: 'not_found' });
    await sup.stop();
  });

  it('restartChild of a failing start: start_failed, and the spec stays down', async () => {
    const h = new Harness();
    const sup = await Supervisor.start({ strategy: 'one_for_one', children: [h.spec('a')] });
    await sup.terminateChild('a');
    h.failNext('a');
    expect(await sup.restartChild('a')).toMatchObject({ ok: false, error: 'start_failed' });
    expect(sup.whichChildren()).toEqual([{ id: 'a', child: undefined, type: 'worker' }]);
    await sup.stop();
  });

  it('deleteChild: running, then ok once terminated, then not_found', async () => {
    const h = new Harness();
    const sup = await Supervisor.start({ strategy: 'one_for_one', children: [h.spec('a')] });
    expect(await sup.deleteChild('a')).toEqual({ ok: false, error: 'running' });
    await sup.terminateChild('a');
    expect(await sup.deleteChild('a')).toEqual({ ok: true });
    expect(await sup.deleteChild('a')).toEqual({ ok: false, error: 'not_found' });
    expect(sup.whichChildren()).toEqual([]);
    await sup.stop();
  });

  it('terminating a temporary child drops its spec', async () => {
    const h = new Harness();
    const sup = await Supervisor.start({ strategy: 'one_for_one', children: [h.spec('t', { restart: 'temporary' })] });
    await sup.terminateChild('t');
    expect(sup.whichChildren()).toEqual([]);
    await sup.stop();
  });

  it('a crash noticed just before a queued terminateChild is not restarted', async () => {
    const h = new Harness();
    const sup = await Supervisor.start({ strategy: 'one_for_one', intensity: 5, children: [h.spec('a'), h.spec('b')] });
    h.last('a').crash();
    const r1 = sup.terminateChild('a');
    const r2 = sup.terminateChild('b');
    h.last('b').crash();
    expect(await r1).toEqual({ ok: true });
    expect(await r2).toEqual({ ok: true });
    await flush();
    expect(h.log).toEqual(['start:a', 'start:b']);
    expect(sup.whichChildren().map((c) => c.child)).toEqual([undefined, undefined]);
    await sup.stop();
  });

  it('calls on a stopped supervisor reject with ENOPROC', async () => {
    const h = new Harness();
    const sup = await Supervisor.start({ strategy: 'one_for_one', children: [h.spec('a')] });
    await sup.stop();
    await expect(sup.startChild(h.spec('b'))).rejects.toMatchObject({ code: 'ENOPROC' });
    await expect(sup.terminateChild('a')).rejects.toMatchObject({ code: 'ENOPROC' });
    await expect(sup.restartChild('a')).rejects.toMatchObject({ code: 'ENOPROC' });
    await expect(sup.deleteChild('a')).rejects.toMatchObject({ code: 'ENOPROC' });
    expect(sup.countChildren().active).toBe(0);
    await sup.stop(); // idempotent
    expect(await sup.exit).toBe('shutdown');
  });
});
