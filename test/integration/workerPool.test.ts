// The worker pool against the kernel: a worker whose interface closed cleanly serves the
// next one; a crashed one, or one that entered another network namespace, never does.
import { afterEach, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { Tuncer } from '../../src/index.js';
import { WorkerPool, workerPool } from '../../src/actors/workerPool.js';
import { resolveTuncerOptions } from '../../src/actors/tuncerOptions.js';
import { buildIcmp4EchoRequest, parseIcmpEcho } from '../../src/packet/icmpEcho.js';
import { describeKernel, devExists, expectNoLeak, ifname, leakBaseline } from '../helpers/kernel.js';
import { bounded } from '../helpers/bounded.js';

afterEach(() => workerPool.configure({})); // back to the default

/** Block this thread (no event loop turns) for `ms`: the worker runs on, and its messages wait. */
function busyWait(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    /* nothing */
  }
}

/**
 * Create an interface on a thread of its own, then make the pool want two spares: a clean
 * close then has room (or a spare still booting to replace), whatever the boot timing.
 */
async function createThenWantSpares(opts: Parameters<typeof Tuncer.create>[0]): Promise<Tuncer> {
  workerPool.configure({ spares: 0 });
  const t = await Tuncer.create(opts);
  workerPool.configure({ spares: 2 });
  return t;
}

async function answers(t: Tuncer, seq: number): Promise<boolean> {
  await t.send(buildIcmp4EchoRequest({ src: '198.18.35.2', dst: '198.18.35.1', id: 35, seq }));
  const signal = AbortSignal.timeout(2000);
  for (;;) if (parseIcmpEcho(await t.recv({ signal }))?.type === 'reply') return true;
}

describeKernel('worker pool', () => {
  it('a cleanly closed interface gives its worker back, and that worker serves the next interface', async () => {
    const before = workerPool.reused;
    const a = await createThenWantSpares({ mode: 'tun', name: ifname('wp'), addresses: ['198.18.35.1/24'] });
    await a.destroy();
    expect(workerPool.reused).toBe(before + 1);
    expect(devExists(a.devname)).toBe(false);
    const b = await Tuncer.create({ mode: 'tun', name: ifname('wp'), addresses: ['198.18.35.1/24'] });
    expect(await answers(b, 1)).toBe(true);
    expect(b.state).toBe('passive');
    await b.destroy();
    expect(devExists(b.devname)).toBe(false);
  });

  it('a crashed worker is never given back', async () => {
    const before = workerPool.reused;
    const t = await createThenWantSpares({ mode: 'tun', name: ifname('wp') });
    await t.injectFault('throw');
    expect(await t.exit).toBeInstanceOf(Error);
    expect(workerPool.reused).toBe(before);
  });

  it('a kill that overtakes the reply to a clean close ends the interface: its worker is terminated, not given back', async () => {
    // A supervisor kills a child it is stopping (one_for_all restart, then kill): the close's
    // reply ("reusable") arrives after the kill asked for the thread's end. Given back then,
    // the thread lost the listener of its 'exit', and the interface never ended.
    const baseline = await leakBaseline();
    for (let i = 0; i < 4; i++) {
      const before = workerPool.reused;
      const t = await createThenWantSpares({ mode: 'tun', name: ifname('wp'), addresses: ['198.18.35.1/24'] });
      void t.stop(); // the close is on its way to the worker
      busyWait(50); // it answers meanwhile; this thread has not read the answer yet
      void t.kill();
      const ended = await bounded(t.exit, 3000, `exit after stop then kill (state ${t.state})`);
      expect(ended).toEqual({ ok: true, value: 'killed' });
      expect(workerPool.reused).toBe(before);
      expect(devExists(t.devname)).toBe(false);
    }
    workerPool.configure({});
    await expectNoLeak(baseline);
  });

  it('a worker that entered another network namespace is never given back', async () => {
    const holder = spawn('unshare', ['--net', '--', 'sleep', '30'], { stdio: 'ignore' });
    try {
      await sleep(100);
      const before = workerPool.reused;
      const t = await createThenWantSpares({ mode: 'tun', name: ifname('wp'), netns: `/proc/${holder.pid}/ns/net` });
      await t.destroy();
      expect(workerPool.reused).toBe(before);
    } finally {
      holder.kill('SIGKILL');
    }
  });

  it('keeps one spare by default', () => {
    const pool = new WorkerPool();
    expect(pool.spares).toBe(1);
    pool.configure({ spares: 3 });
    pool.configure({});
    expect(pool.spares).toBe(1);
    pool.configure({ spares: 0 }); // ends what the pool above started booting
  });

  it('a worker ended while it boots is terminated only once booted, and leaves no fd open', async () => {
    // Cut short while it loads its modules, a thread leaks the fds of the files it was reading.
    workerPool.configure({ spares: 0 });
    const baseline = await leakBaseline();
    const order: string[] = [];
    for (let i = 0; i < 16; i++) {
      const w = workerPool.acquire(); // spares 0: a new thread, booting
      let booted = false;
      w.on('message', (m: { type?: string }) => (booted ||= m?.type === 'booted'));
      const exited = new Promise<number>((resolve) => w.once('exit', resolve));
      if (i % 4) await sleep((i * 7) % 60);
      workerPool.end(w);
      const code = await exited;
      order.push(`${booted ? 'booted' : 'not booted'} then exit ${code}`);
    }
    expect(new Set(order)).toEqual(new Set(['booted then exit 1']));
    await expectNoLeak(baseline);
  }, 90_000);

  it('a worker ended while a start loads the offload probes is terminated once they are loaded; nothing is left', async () => {
    workerPool.configure({ spares: 0 });
    const baseline = await leakBaseline();
    const { active: _a, timeoutMs: _t, logger: _l, queues: _q, poisonReleased: _p, ...config } = resolveTuncerOptions({ mode: 'tun', name: ifname('wl'), vnetHdr: true, offload: 'auto' });
    const w = workerPool.acquire();
    const order: string[] = [];
    w.on('message', (m: { type?: string }) => m?.type && order.push(m.type));
    const exited = new Promise<void>((resolve) => w.once('exit', () => resolve(void order.push('exit'))));
    await new Promise<void>((resolve) => w.on('message', (m: { type?: string }) => m?.type === 'booted' && resolve()));
    w.postMessage({ type: 'start', config });
    await new Promise<void>((resolve) => w.on('message', (m: { type?: string }) => m?.type === 'loading' && resolve()));
    workerPool.end(w); // mid-import: it must wait for `loaded`
    await exited;
    expect(order.indexOf('loaded')).toBeGreaterThan(order.indexOf('loading'));
    expect(order.indexOf('exit')).toBeGreaterThan(order.indexOf('loaded'));
    expect(devExists(config.name)).toBe(false); // the device it made went with the thread's fd
    await expectNoLeak(baseline);
  });

  it('with spares 0 every interface boots its own thread and none is kept', async () => {
    workerPool.configure({ spares: 0 });
    const before = workerPool.reused;
    const t = await Tuncer.create({ mode: 'tun', name: ifname('wp') });
    await t.destroy();
    expect(workerPool.reused).toBe(before);
    expect(workerPool.idle).toBe(0);
    expect(() => workerPool.configure({ spares: -1 })).toThrow(RangeError);
  });
});
