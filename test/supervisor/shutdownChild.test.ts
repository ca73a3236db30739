import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { shutdownChild } from '../../src/supervisor/index.js';
import { FakeChild, flush } from './fakeChild.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('shutdownChild', () => {
  it('brutal_kill kills at once and never calls stop', async () => {
    const log: string[] = [];
    const child = new FakeChild('a', [], log);
    const outcome = await shutdownChild(child, 'brutal_kill');
    expect(outcome).toEqual({ reason: 'killed', killed: true });
    expect(log).toEqual(['kill:a']);
  });

  it('N ms: stop, then kill exactly after N ms if the child ignores stop', async () => {
    const log: string[] = [];
    const child = new FakeChild('a', [], log, { ignoreStop: true });
    let done: unknown;
    void shutdownChild(child, 1000).then((o) => (done = o));
    await flush();
    expect(log).toEqual(['stop:a']);
    await vi.advanceTimersByTimeAsync(999);
    expect(log).toEqual(['stop:a']);
    expect(done).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    await flush();
    expect(log).toEqual(['stop:a', 'kill:a']);
    expect(done).toEqual({ reason: 'killed', killed: true });
  });

  it('N ms: no kill when the child exits in time, and the timer is cleared', async () => {
    const log: string[] = [];
    const child = new FakeChild('a', [], log, { stopDelayMs: 300 });
    let done: unknown;
    void shutdownChild(child, 1000).then((o) => (done = o));
    await vi.advanceTimersByTimeAsync(300);
    await flush();
    expect(done).toEqual({ reason: 'shutdown', killed: false });
    expect(vi.getTimerCount()).toBe(0);
    expect(log).toEqual(['stop:a']);
  });

  it('infinity waits as long as it takes', async () => {
    const log: string[] = [];
    const child = new FakeChild('a', [], log, { ignoreStop: true });
    let done: unknown;
    void shutdownChild(child, 'infinity').then((o) => (done = o));
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(done).toBeUndefined();
    expect(log).toEqual(['stop:a']);
    child.crash('shutdown');
    await flush();
    expect(done).toEqual({ reason: 'shutdown', killed: false });
  });

  it('a throwing stop() is reported and the timeout still kills', async () => {
    const log: string[] = [];
    const child = new FakeChild('a', [], log);
    child.stop = () => {
      throw new Error('stop broke');
    };
    const errors: unknown[] = [];
    const p = shutdownChild(child, 50, undefined, (e, during) => errors.push([during, (e as Error).message]));
    await vi.advanceTimersByTimeAsync(50);
    expect(await p).toEqual({ reason: 'killed', killed: true });
    expect(errors).toEqual([['stop', 'stop broke']]);
  });

  it('returns the real reason of a child that had already exited', async () => {
    const child = new FakeChild('a', [], []);
    const crash = new Error('boom');
    child.crash(crash);
    expect(await shutdownChild(child, 1000)).toEqual({ reason: crash, killed: false });
  });
});
