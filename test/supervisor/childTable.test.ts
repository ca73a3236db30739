/**
 * Child handles (`sup.child(id)`): made by the spec's `handle` factory, one per child, and
 * let go when the child's record goes (removed, or the supervisor exited).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { Supervisor, SupervisorError, type ChildSpec } from '../../src/supervisor/index.js';
import { Harness, type FakeChild } from './fakeChild.js';

// A full collection on demand, without starting the whole run with --expose-gc.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** A handle as an adapter would make it: here just a tag that says whose it is. */
interface Tag {
  readonly id: string;
}

/** True once nothing holds the object behind `ref` any more. */
async function collected(ref: WeakRef<object>): Promise<boolean> {
  for (let i = 0; i < 20 && ref.deref() !== undefined; i++) {
    // WeakRef targets live at least to the end of the current job: end it, then collect.
    await new Promise((resolve) => setImmediate(resolve));
    gc();
  }
  return ref.deref() === undefined;
}

function tagged<A extends readonly unknown[]>(spec: ChildSpec<FakeChild, A>): ChildSpec<FakeChild, A, Tag> {
  return { ...spec, handle: (_sup, id) => ({ id }) };
}

/** The handle of `id`, checked to be the cached one, held only through a WeakRef. */
function weakHandle(sup: Supervisor<FakeChild, Tag>, id: string): WeakRef<Tag> {
  const handle = sup.child(id);
  expect(handle).toEqual({ id });
  expect(sup.child(id)).toBe(handle); // one handle per child while it exists
  return new WeakRef(handle);
}

describe('child handles', () => {
  it('a simple_one_for_one child removed by terminateChild lets its handle go', async () => {
    const h = new Harness();
    const sup = await Supervisor.start({ strategy: 'simple_one_for_one', children: [tagged(h.template('w'))] });
    const r = await sup.startChild(['x']);
    if (!r.ok) throw new Error('start failed');
    const ref = weakHandle(sup, r.id);
    expect(await sup.terminateChild(r.id)).toEqual({ ok: true });
    expect(await collected(ref)).toBe(true);
    expect(() => sup.child(r.id)).toThrow(SupervisorError);
    await sup.stop();
  });

  it('a simple_one_for_one child that exits for good lets its handle go', async () => {
    const h = new Harness();
    const sup = await Supervisor.start({ strategy: 'simple_one_for_one', children: [tagged(h.template('w', { restart: 'transient' }))] });
    const r = await sup.startChild(['x']);
    if (!r.ok) throw new Error('start failed');
    const ref = weakHandle(sup, r.id);
    h.last('w(x)').crash('normal');
    expect(await collected(ref)).toBe(true);
    expect(sup.whichChildren()).toEqual([]);
    await sup.stop();
  });

  it('the handles of a supervisor that has exited are let go, and child() answers ENOCHILD', async () => {
    const h = new Harness();
    const sup = await Supervisor.start({ strategy: 'one_for_one', children: [tagged(h.spec('a'))] });
    const ref = weakHandle(sup, 'a');
    await sup.stop();
    expect(await collected(ref)).toBe(true);
    expect(() => sup.child('a')).toThrow(expect.objectContaining({ code: 'ENOCHILD', childId: 'a' }));
  });

  it('a deleted static child loses its handle; a terminated one keeps it for its next instance', async () => {
    const h = new Harness();
    const sup = await Supervisor.start({ strategy: 'one_for_one', children: [tagged(h.spec('a')), tagged(h.spec('b'))] });
    const b = sup.child('b');
    await sup.terminateChild('b');
    expect(sup.child('b')).toBe(b);
    const ref = weakHandle(sup, 'a');
    await sup.terminateChild('a');
    await sup.deleteChild('a');
    expect(await collected(ref)).toBe(true);
    expect(() => sup.child('a')).toThrow(expect.objectContaining({ code: 'ENOCHILD' }));
    await sup.stop();
  });

  it('a child whose spec has no handle factory has no handle (EINVAL)', async () => {
    const h = new Harness();
    const sup = await Supervisor.start({ strategy: 'one_for_one', children: [h.spec('a')] });
    expect(() => sup.child('a')).toThrow(expect.objectContaining({ code: 'EINVAL', childId: 'a' }));
    await sup.stop();
  });
});
