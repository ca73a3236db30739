import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Supervisor, SupervisorError, type SupervisorEvent } from '../../src/supervisor/index.js';
import { flush, Harness, type FakeChild } from './fakeChild.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('simple_one_for_one', () => {
  it('starts no child at first; startChild(args) starts one from the template with those args', async () => {
    const h = new Harness();
    const sup = await Supervisor.start({ strategy: 'simple_one_for_one', intensity: 5, children: [h.template('w')] });
    expect(h.log).toEqual([]);
    const r1 = await sup.startChild(['x']);
    const r2 = await sup.startChild(['y', 2]);
    expect(r1).toMatchObject({ ok: true, id: 'w#1' });
    expect(r2).toMatchObject({ ok: true, id: 'w#2' });
    expect(r1.ok && r1.child.args).toEqual(['x']);
    expect(h.log).toEqual(['start:w(x)', 'start:w(y,2)']);
    expect(sup.whichChildren().map((c) => c.id)).toEqual(['w#1', 'w#2']);
    expect(sup.countChildren()).toEqual({ specs: 1, active: 2, supervisors: 0, workers: 2 });
    await sup.stop();
  });

  it('restarts a dead child with the same args and id (one_for_one)', async () => {
    const h = new Harness();
    const sup = await Supervisor.start({ strategy: 'simple_one_for_one', intensity: 5, children: [h.template('w')] });
    await sup.startChild(['x']);
    await sup.startChild(['y']);
    h.last('w(x)').crash();
    await flush();
    expect(h.log).toEqual(['start:w(x)', 'start:w(y)', 'start:w(x)']);
    expect(sup.whichChildren()[0]).toMatchObject({ id: 'w#1', child: h.last('w(x)') });
    await sup.stop();
  });

  it('restartChild and deleteChild answer simple_one_for_one, as OTP', async () => {
    const h = new Harness();
    const sup = await Supervisor.start({ strategy: 'simple_one_for_one', children: [h.template('w')] });
    await sup.startChild(['x']);
    expect(await sup.restartChild('w#1')).toEqual({ ok: false, error: 'simple_one_for_one' });
    expect(await sup.deleteChild('w#1')).toEqual({ ok: false, error: 'simple_one_for_one' });
    await sup.stop();
  });

  it('terminateChild stops and removes a dynamic child', async () => {
    const h = new Harness();
    const sup = await Supervisor.start({ strategy: 'simple_one_for_one', children: [h.template('w')] });
    await sup.startChild(['x']);
    await sup.startChild(['y']);
    expect(await sup.terminateChild('w#1')).toEqual({ ok: true });
    expect(h.log).toEqual(['start:w(x)', 'start:w(y)', 'stop:w(x)']);
    expect(sup.whichChildren().map((c) => c.id)).toEqual(['w#2']);
    expect(await sup.terminateChild('w#1')).toEqual({ ok: false, error: 'not_found' });
    await sup.stop();
  });

  it('a transient dynamic child that exits normally is removed', async () => {
    const h = new Harness();
    const sup = await Supervisor.start({ strategy: 'simple_one_for_one', children: [h.template('w', { restart: 'transient' })] });
    await sup.startChild(['x']);
    h.last('w(x)').crash('normal');
    await flush();
    expect(sup.whichChildren()).toEqual([]);
    expect(h.count('w(x)')).toBe(1);
    await sup.stop();
  });

  it('a failed dynamic start keeps nothing', async () => {
    const h = new Harness();
    const sup = await Supervisor.start({ strategy: 'simple_one_for_one', children: [h.template('w')] });
    h.failNext('w(x)');
    const r = await sup.startChild(['x']);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toBe('start_failed');
    expect(sup.whichChildren()).toEqual([]);
    await sup.stop();
  });

  it('startChild with a spec is refused (EINVAL); static supervisors refuse argument lists', async () => {
    const h = new Harness();
    const dyn = await Supervisor.start({ strategy: 'simple_one_for_one', children: [h.template('w')] });
    await expect(dyn.startChild(h.spec('a'))).rejects.toMatchObject({ code: 'EINVAL' });
    const stat = await Supervisor.start({ strategy: 'one_for_one', children: [] });
    await expect(stat.startChild(['x'])).rejects.toMatchObject({ code: 'EINVAL' });
    await dyn.stop();
    await stat.stop();
  });

  it('stops its children in parallel', async () => {
    const h = new Harness();
    const sup = await Supervisor.start({ strategy: 'simple_one_for_one', children: [h.template('w')] });
    await sup.startChild(['x']);
    await sup.startChild(['y']);
    for (const c of [h.last('w(x)'), h.last('w(y)')]) {
      c.stop = () => {
        h.log.push(`stop:${c.id}`);
        setTimeout(() => c.end('shutdown'), 100);
      };
    }
    let exited = false;
    void sup.stop().then(() => (exited = true));
    await flush();
    expect(h.since(2).sort()).toEqual(['stop:w(x)', 'stop:w(y)']);
    await vi.advanceTimersByTimeAsync(100);
    await flush();
    expect(exited).toBe(true);
  });
});

describe('nested supervisors', () => {
  it("a child supervisor's give-up is one restart in its parent", async () => {
    const h = new Harness();
    const events: SupervisorEvent[] = [];
    const parent = await Supervisor.start<FakeChild | Supervisor<FakeChild>>({
      name: 'root',
      strategy: 'one_for_one',
      intensity: 5,
      children: [Supervisor.asChild({ id: 'inner', strategy: 'one_for_one', intensity: 0, children: [h.spec('w')] }), h.spec('p')],
      observer: { next: (e) => events.push(e) },
    });
    expect(h.log).toEqual(['start:w', 'start:p']);
    const info = parent.whichChildren()[0];
    expect(info?.type).toBe('supervisor');
    const inner = info?.child;
    if (!(inner instanceof Supervisor)) throw new Error('expected a Supervisor child');
    expect(inner.name).toBe('inner');
    h.last('w').crash();
    await flush();
    expect(await inner.exit).toBe('shutdown');
    expect(h.log).toEqual(['start:w', 'start:p', 'start:w']);
    const inner2 = parent.whichChildren()[0]?.child;
    expect(inner2).toBeInstanceOf(Supervisor);
    expect(inner2).not.toBe(inner);
    expect(events.filter((e) => e.type === 'child.restarting').map((e) => e.type === 'child.restarting' && e.id)).toEqual(['inner']);
    expect(parent.countChildren()).toEqual({ specs: 2, active: 2, supervisors: 1, workers: 1 });
    await parent.stop();
    expect(h.since(3)).toEqual(['stop:p', 'stop:w']);
    expect(h.alive()).toEqual([]);
  });

  it('a transient child supervisor that gives up stays down (it exits with shutdown)', async () => {
    const h = new Harness();
    const parent = await Supervisor.start({
      strategy: 'one_for_one',
      children: [Supervisor.asChild({ id: 'inner', restart: 'transient', strategy: 'one_for_one', intensity: 0, children: [h.spec('w')] })],
    });
    h.last('w').crash();
    await flush();
    expect(parent.whichChildren()).toEqual([{ id: 'inner', child: undefined, type: 'supervisor' }]);
    expect(h.count('w')).toBe(1);
    await parent.stop();
  });

  it('a child supervisor killed with a start in flight exits after its late child, so its successor never overlaps it', async () => {
    const h = new Harness();
    const parent = await Supervisor.start<Supervisor<FakeChild>>({
      strategy: 'one_for_one',
      intensity: 5,
      children: [Supervisor.asChild({ id: 'inner', strategy: 'one_for_one', intensity: 5, children: [h.spec('w')] })],
    });
    const inner = await parent.whenRunning('inner');
    const gate = h.gate('w');
    h.last('w').crash();
    await flush(); // inner is restarting w; that start waits at the gate
    const mark = h.log.length;
    void inner.kill();
    await flush();
    expect(h.since(mark)).toEqual([]); // inner has not exited: its parent has not restarted it yet
    gate.open();
    await flush();
    // The late w is killed before the new inner supervisor starts its own w: never two at once.
    expect(h.since(mark)).toEqual(['start:w', 'kill:w', 'start:w']);
    expect(h.alive()).toEqual(['w']);
    await parent.stop();
  });

  it('killing the parent kills the child supervisor and its children', async () => {
    const h = new Harness();
    const parent = await Supervisor.start({
      strategy: 'one_for_one',
      children: [Supervisor.asChild({ id: 'inner', strategy: 'one_for_one', children: [h.spec('w', { ignoreStop: true, shutdown: 'infinity' })] })],
    });
    await parent.kill();
    expect(h.log).toEqual(['start:w', 'kill:w']);
    expect(await parent.exit).toBe('killed');
  });
});

describe('autoShutdown with significant children', () => {
  it('any_significant: a significant child exiting on its own stops the supervisor', async () => {
    const h = new Harness();
    const events: SupervisorEvent[] = [];
    const sup = await Supervisor.start({
      strategy: 'one_for_one',
      autoShutdown: 'any_significant',
      children: [h.spec('a'), h.spec('s', { restart: 'transient', significant: true }), h.spec('c')],
      observer: { next: (e) => events.push(e) },
    });
    h.last('s').crash('normal');
    await flush();
    expect(await sup.exit).toBe('shutdown');
    expect(h.since(3)).toEqual(['stop:c', 'stop:a']);
    expect(events.at(-1)).toMatchObject({ type: 'supervisor.exited', cause: 'auto_shutdown' });
  });

  it('a significant transient child that crashes is restarted instead', async () => {
    const h = new Harness();
    const sup = await Supervisor.start({
      strategy: 'one_for_one',
      autoShutdown: 'any_significant',
      children: [h.spec('s', { restart: 'transient', significant: true })],
    });
    h.last('s').crash(new Error('boom'));
    await flush();
    expect(h.count('s')).toBe(2);
    expect(sup.countChildren().active).toBe(1);
    await sup.stop();
  });

  it('all_significant: only when the last significant child is gone', async () => {
    const h = new Harness();
    const sup = await Supervisor.start({
      strategy: 'one_for_one',
      autoShutdown: 'all_significant',
      children: [h.spec('a'), h.spec('s1', { restart: 'temporary', significant: true }), h.spec('s2', { restart: 'temporary', significant: true })],
    });
    let exited = false;
    void sup.exit.then(() => (exited = true));
    h.last('s1').crash('normal');
    await flush();
    expect(exited).toBe(false);
    expect(h.alive()).toEqual(['a', 's2']);
    h.last('s2').crash(new Error('x'));
    await flush();
    expect(exited).toBe(true);
    expect(h.alive()).toEqual([]);
  });

  it('terminateChild of a significant child does not trigger it', async () => {
    const h = new Harness();
    const sup = await Supervisor.start({
      strategy: 'one_for_one',
      autoShutdown: 'any_significant',
      children: [h.spec('a'), h.spec('s', { restart: 'transient', significant: true })],
    });
    await sup.terminateChild('s');
    await flush();
    expect(h.alive()).toEqual(['a']);
    expect(sup.countChildren().active).toBe(1);
    await sup.stop();
  });

  it('simple_one_for_one refuses an autoShutdown other than never, as OTP (bad_combination)', async () => {
    const h = new Harness();
    for (const autoShutdown of ['any_significant', 'all_significant'] as const) {
      const err = await Supervisor.start({ strategy: 'simple_one_for_one', autoShutdown, children: [h.template('w')] }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SupervisorError);
      expect(err).toMatchObject({ code: 'EINVAL' });
      expect((err as Error).message).toMatch(/simple_one_for_one.*autoShutdown/);
    }
    const ok = await Supervisor.start({ strategy: 'simple_one_for_one', autoShutdown: 'never', children: [h.template('w')] });
    await ok.stop();
  });

  it('a significant permanent child is refused', async () => {
    const h = new Harness();
    const err = await Supervisor.start({
      strategy: 'one_for_one',
      autoShutdown: 'any_significant',
      children: [h.spec('s', { significant: true })],
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SupervisorError);
    expect((err as SupervisorError).code).toBe('EINVAL');
    expect(h.log).toEqual([]);
  });
});
