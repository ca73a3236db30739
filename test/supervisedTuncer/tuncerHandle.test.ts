/**
 * TuncerHandle's delivery modes across restarts, on fake instances (the kernel version is in
 * test/integration/supervisor.test.ts).
 */
import { BehaviorSubject, Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { ActiveMode, ChildHost, SupervisorEvent, Tuncer, TunEvent } from '../../src/index.js';
import { TuncerHandle, type TuncerHandleEvent } from '../../src/supervisedTuncer/index.js';

/** Just what the handle touches of a Tuncer. */
class FakeTun {
  state: 'active' | 'passive' = 'passive';
  readonly modes: ActiveMode[] = [];
  readonly packets$ = new Subject<Buffer>();
  readonly batches$ = new Subject<unknown>();
  readonly events$ = new Subject<TunEvent>();
  readonly sent: [Uint8Array, number | undefined][] = [];

  async send(packet: Uint8Array, flow?: number): Promise<void> {
    this.sent.push([packet, flow]);
  }

  constructor(active: ActiveMode = false) {
    if (active !== false && active !== 0) this.state = 'active';
  }

  setopt({ active }: { active: ActiveMode }): void {
    this.modes.push(active);
    this.state = active === false || active === 0 ? 'passive' : 'active';
  }
}

/** A supervisor with one child `tun0`, driven by hand. */
class FakeHost {
  readonly instances = new BehaviorSubject<FakeTun | undefined>(undefined);
  readonly sup = new Subject<SupervisorEvent>();
  readonly host: ChildHost<Tuncer> = {
    events$: this.sup,
    instance$: () => this.instances as unknown as BehaviorSubject<Tuncer | undefined>,
    whenRunning: () => {
      this.waits += 1;
      const t = this.instances.value;
      return t ? Promise.resolve(t as unknown as Tuncer) : Promise.reject(new Error('none runs'));
    },
  };
  waits = 0;

  /** A restart: the old instance goes, the supervisor reports it, the new one comes. */
  restart(next: FakeTun): void {
    this.instances.next(undefined);
    this.sup.next({ type: 'child.restarting', supervisor: 's', id: 'tun0', delayMs: 0, ids: ['tun0'] });
    this.sup.next({ type: 'child.started', supervisor: 's', id: 'tun0', childType: 'worker', restart: true });
    this.instances.next(next);
  }
}

function setup(options?: { active?: ActiveMode }): { h: FakeHost; handle: TuncerHandle; events: string[] } {
  const h = new FakeHost();
  const handle = new TuncerHandle(h.host, 'tun0', options);
  const events: string[] = [];
  handle.events$.subscribe((e: TuncerHandleEvent) => events.push(e.type));
  return { h, handle, events };
}

/** The consumer sets `mode` on the running instance, then the interface restarts. */
function setThenRestart(mode: ActiveMode): { handle: TuncerHandle; first: FakeTun; second: FakeTun; events: string[] } {
  const { h, handle, events } = setup();
  const first = new FakeTun();
  h.instances.next(first);
  handle.setopt({ active: mode });
  const second = new FakeTun();
  h.restart(second);
  return { handle, first, second, events };
}

describe('TuncerHandle delivery modes across restarts', () => {
  it('true and false are applied again to each new instance', () => {
    for (const mode of [true, false]) {
      const { first, second, events } = setThenRestart(mode);
      expect(first.modes).toEqual([mode]);
      expect(second.modes).toEqual([mode]);
      expect(events).not.toContain('passive');
    }
  });

  it.each([5, 'once'] as const)('credits (%s) go to one instance: the next is left passive, with a passive event after restarted', (credits) => {
    const { handle, first, second, events } = setThenRestart(credits);
    expect(first.modes).toEqual([credits]);
    expect(second.modes).toEqual([]);
    expect(second.state).toBe('passive');
    expect(events).toEqual(['restarting', 'restarted', 'passive']);
    handle.setopt({ active: 2 }); // the consumer re-arms
    expect(second.modes).toEqual([2]);
  });

  it('credits given while no instance runs go to the next one only', () => {
    const { h, handle, events } = setup();
    handle.setopt({ active: 3 });
    const first = new FakeTun();
    h.instances.next(first);
    const second = new FakeTun();
    h.restart(second);
    expect(first.modes).toEqual([3]);
    expect(second.modes).toEqual([]);
    expect(events).toEqual(['restarting', 'restarted', 'passive']);
  });

  it("the spec's credits (tuncerChild's active: N) are not renewed by a restart either", () => {
    const { h, events } = setup({ active: 4 });
    const first = new FakeTun(4); // created with them
    h.instances.next(first);
    const second = new FakeTun(4); // created with them again
    h.restart(second);
    expect(first.modes).toEqual([]);
    expect(second.modes).toEqual([false]);
    expect(second.state).toBe('passive');
    expect(events).toEqual(['restarting', 'restarted', 'passive']);
  });

  it('batches$ follows whichever instance runs, across a restart', () => {
    const { h, handle } = setup();
    const got: unknown[] = [];
    handle.batches$.subscribe((b) => got.push(b));
    const first = new FakeTun();
    h.instances.next(first);
    first.batches$.next('b1');
    const second = new FakeTun();
    h.restart(second);
    first.batches$.next('stale'); // the old instance's stream is dropped
    second.batches$.next('b2');
    expect(got).toEqual(['b1', 'b2']);
  });

  it('send takes a signal or options with a flow key, and checks them before it waits', async () => {
    const { h, handle } = setup();
    const t = new FakeTun();
    h.instances.next(t);
    const p = new Uint8Array(20);
    await handle.send(p);
    await handle.send(p, AbortSignal.timeout(1000));
    await handle.send(p, { flow: 7 });
    expect(t.sent.map(([, flow]) => flow)).toEqual([undefined, undefined, 7]);
    const waits = h.waits;
    await expect(handle.send(p, { flow: -1 })).rejects.toThrow(RangeError);
    await expect(handle.send(p, { queue: 1 } as object)).rejects.toThrow(/send option/);
    expect(h.waits).toBe(waits);
  });
});
