import { describe, expect, it } from 'vitest';
import { createActor, SimulatedClock } from 'xstate';
import { ABANDON_GRACE_MS, CLOSE_BOUND_MS, tuncerMachine } from '../../src/actors/tuncerMachine.js';
import type { WorkerCommand, WorkerLink, WorkerLinkEvent } from '../../src/actors/workerLink.js';

/** A stand-in for the worker thread: records the machine's commands, lets the test report events. */
function fakeLink() {
  const commands: WorkerCommand['type'][] = [];
  let send: (e: WorkerLinkEvent) => void = () => {};
  let disposed = false;
  const link = {
    start: (s: (e: WorkerLinkEvent) => void) => (send = s),
    command: (c: WorkerCommand) => commands.push(c.type),
    dispose: () => (disposed = true),
  };
  return { link: link as unknown as WorkerLink, commands, report: (e: WorkerLinkEvent) => send(e), disposed: () => disposed };
}

function run(timeoutMs = 1000) {
  const clock = new SimulatedClock();
  const w = fakeLink();
  const actor = createActor(tuncerMachine, { input: { link: w.link, timeoutMs, name: 'tun0' }, clock });
  actor.start();
  const ready = (): void => w.report({ type: 'READY', name: 'tun0', flags: 0x1001, fd: 21, created: true });
  return { actor, clock, ...w, ready, snap: () => actor.getSnapshot() };
}

describe('tuncerMachine', () => {
  it('starts, runs, closes, terminates, and ends only when the thread has exited', () => {
    const m = run();
    expect(m.snap().matches({ alive: 'starting' })).toBe(true);
    m.ready();
    expect(m.snap().matches({ alive: 'running' })).toBe(true);
    expect(m.snap().context).toMatchObject({ name: 'tun0', flags: 0x1001, fd: 21 });
    m.actor.send({ type: 'STOP', reason: 'shutdown' });
    expect(m.snap().matches({ alive: { stopping: 'closing' } })).toBe(true);
    expect(m.commands).toEqual(['CLOSE']);
    m.report({ type: 'CLOSE_DONE' });
    expect(m.commands).toEqual(['CLOSE', 'TERMINATE']);
    expect(m.snap().status).toBe('active'); // not ended while the thread lives
    m.report({ type: 'EXITED', code: 1 });
    expect(m.snap().value).toBe('stopped');
    expect(m.snap().context.reason).toBe('shutdown');
    expect(m.disposed()).toBe(true);
  });

  it('terminates a worker that does not answer close within the bound', () => {
    const m = run(60_000);
    m.ready();
    m.actor.send({ type: 'STOP', reason: 'normal' });
    m.clock.increment(CLOSE_BOUND_MS - 1);
    expect(m.commands).toEqual(['CLOSE']);
    m.clock.increment(1);
    expect(m.commands).toEqual(['CLOSE', 'TERMINATE']);
  });

  it('a kill while closing terminates at once and says killed', () => {
    const m = run();
    m.ready();
    m.actor.send({ type: 'STOP', reason: 'normal' });
    m.actor.send({ type: 'KILL' });
    expect(m.commands).toEqual(['CLOSE', 'TERMINATE']);
    m.report({ type: 'EXITED', code: 1 });
    expect(m.snap().value).toBe('stopped');
    expect(m.snap().context.reason).toBe('killed');
  });

  it('a failure while running terminates the thread and ends failed with the error', () => {
    const m = run();
    m.ready();
    const err = new Error('read failed');
    m.report({ type: 'FAILED', error: err });
    expect(m.snap().matches({ alive: 'failing' })).toBe(true);
    expect(m.commands).toEqual(['TERMINATE']);
    m.report({ type: 'EXITED', code: 1 });
    expect(m.snap().value).toBe('failed');
    expect(m.snap().context.reason).toBe(err);
  });

  it('a thread that exits on its own while running ends failed, with its exit code', () => {
    const m = run();
    m.ready();
    m.report({ type: 'EXITED', code: 3 });
    expect(m.snap().value).toBe('failed');
    expect(String(m.snap().context.reason)).toContain('code 3');
  });

  it('a failed start ends failed with the error of that step', () => {
    const m = run();
    const err = new Error('EBUSY');
    m.report({ type: 'START_FAILED', error: err });
    expect(m.commands).toEqual(['TERMINATE']);
    m.report({ type: 'EXITED', code: 1 });
    expect(m.snap().value).toBe('failed');
    expect(m.snap().context.reason).toBe(err);
  });

  it('a start that times out is abandoned: a late READY is undone, then the thread is terminated', () => {
    const m = run(1000);
    m.clock.increment(1000);
    expect(m.snap().matches({ alive: { abandoning: 'waiting' } })).toBe(true);
    expect(m.commands).toEqual([]); // never terminated part-way through its ioctls
    m.ready();
    expect(m.snap().matches({ alive: { abandoning: 'undoing' } })).toBe(true);
    expect(m.commands).toEqual(['ABANDON']);
    m.report({ type: 'UNDONE' });
    expect(m.commands).toEqual(['ABANDON', 'TERMINATE']);
    m.report({ type: 'EXITED', code: 1 });
    expect(m.snap().value).toBe('failed');
    expect(String(m.snap().context.reason)).toContain('did not start within 1000 ms');
  });

  it('an abandoned start that never reports is terminated after the grace period', () => {
    const m = run(1000);
    m.actor.send({ type: 'KILL' });
    expect(m.snap().matches({ alive: { abandoning: 'waiting' } })).toBe(true);
    m.clock.increment(ABANDON_GRACE_MS);
    expect(m.commands).toEqual(['TERMINATE']);
    m.report({ type: 'EXITED', code: 1 });
    expect(m.snap().value).toBe('stopped');
    expect(m.snap().context.reason).toBe('killed');
  });
});
