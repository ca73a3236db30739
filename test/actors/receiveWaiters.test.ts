import { describe, expect, it } from 'vitest';
import { ReceiveWaiters } from '../../src/actors/receiveWaiters.js';

describe('ReceiveWaiters', () => {
  it('serves receives in order; one taken can no longer be aborted', async () => {
    let changes = 0;
    const q = new ReceiveWaiters(() => (changes += 1));
    const ctl = new AbortController();
    const a = q.add<Buffer>(100, 0, ctl.signal);
    const b = q.add(0, 8, undefined);
    expect([q.length, changes, q.peek()?.size, q.peek()?.max]).toEqual([2, 2, 100, 0]);
    const w = q.take();
    ctl.abort(new Error('too late'));
    w.resolve(Buffer.from('x'));
    await expect(a).resolves.toEqual(Buffer.from('x'));
    expect([q.length, q.peek()?.max, changes]).toEqual([1, 8, 2]);
    q.rejectAll(new RangeError('ended'));
    await expect(b).rejects.toThrow('ended');
    expect(q.length).toBe(0);
  });

  it('an aborted receive leaves the queue, rejects with the reason, and says demand changed', async () => {
    let changes = 0;
    const q = new ReceiveWaiters(() => (changes += 1));
    const ctl = new AbortController();
    const p = q.add(10, 0, ctl.signal);
    ctl.abort(new Error('stop'));
    await expect(p).rejects.toThrow('stop');
    expect([q.length, changes]).toEqual([0, 2]);
  });

  it('turning active rejects the waiting receives with EINVAL, and builds no error when none waits', async () => {
    const q = new ReceiveWaiters(() => undefined);
    let asked = 0;
    const ifname = (): string => {
      asked += 1;
      return 'tun7';
    };
    q.rejectForActive(ifname);
    expect(asked).toBe(0); // nothing waited: no error, no stack trace
    const a = q.add(100, 0, undefined);
    const b = q.add(0, 4, undefined);
    q.rejectForActive(ifname);
    for (const p of [a, b]) await expect(p).rejects.toMatchObject({ code: 'EINVAL', syscall: 'recv', ifname: 'tun7' });
    expect([q.length, asked]).toEqual([0, 1]);
  });
});
