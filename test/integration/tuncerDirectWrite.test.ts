// trySend's direct write against the kernel: a lone packet goes out from the main thread on
// the worker's fd (no thread wake-up), bursts keep their order through the ring, and no
// packet ever lands on a number the worker closed and something else reused.
import { expect, it } from 'vitest';
import { closeSync, mkdtempSync, openSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tuncer } from '../../src/index.js';
import { buildIcmp4EchoRequest, parseIcmpEcho } from '../../src/packet/icmpEcho.js';
import { describeKernel, ifname, liveInterfaces, quieten } from '../helpers/kernel.js';

const live = liveInterfaces<Tuncer>();
async function make(): Promise<Tuncer> {
  const t = await Tuncer.create({ mode: 'tun', name: ifname('d'), addresses: ['198.18.23.1/24'] });
  live.push(t);
  await quieten(t.devname, t.getfd());
  return t;
}
const echo = (seq: number): Buffer => buildIcmp4EchoRequest({ src: '198.18.23.2', dst: '198.18.23.1', id: 6, seq });
const seqOf = (p: Buffer): number => parseIcmpEcho(p)?.seq ?? -1;
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describeKernel('trySend writes a lone packet from the main thread', () => {
  it('an echo request sent directly gets the kernel reply; stats count it once', async () => {
    const t = await make();
    const reply = t.recv({ signal: AbortSignal.timeout(2000) });
    expect(t.trySend(echo(1))).toBe(true);
    expect(seqOf(await reply)).toBe(1);
    const s = await t.stats();
    expect(s.txDirect).toBe(1);
    expect(s.txPackets).toBe(1); // the worker wrote nothing: counted once, here
  });

  it('packets sent one a tick and in bursts arrive in the order they were sent', async () => {
    const t = await make();
    const n = 600;
    const seqs: number[] = [];
    const got = (async () => {
      while (seqs.length < n) seqs.push(seqOf(await t.recv({ signal: AbortSignal.timeout(5000) })));
    })();
    let i = 0;
    while (i < n) {
      // 1, 2, 3, ... packets a tick: the first of each tick may go direct, the rest queue.
      const burst = (i % 7) + 1;
      for (let k = 0; k < burst && i < n; k++, i++) if (!t.trySend(echo(i))) await t.send(echo(i));
      await tick();
    }
    await got;
    expect(seqs).toEqual([...Array(n).keys()]);
    const s = await t.stats();
    expect(s.txDirect).toBeGreaterThan(0);
    expect(s.txDirect).toBeLessThan(n); // bursts took the ring
    expect(s.txPackets).toBe(n);
  });

  it('after the worker crashes, nothing is written to its fd number once reused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tunctl-direct-'));
    try {
      let reused = 0;
      for (let round = 0; round < 10; round++) {
        const t = await make();
        const fd = t.getfd();
        await t.injectFault('throw'); // the worker throws just after answering
        // This thread stays busy, so it hears nothing of the crash, while the worker's
        // teardown closes the fd. Take numbers until the old one comes back, then send.
        const held: number[] = [];
        let path = '';
        const deadline = Date.now() + 3000;
        while (Date.now() < deadline) {
          const p = join(dir, `${round}-${held.length}`);
          const f = openSync(p, 'w');
          if (f === fd) {
            path = p;
            held.push(f);
            try {
              t.trySend(echo(round));
            } catch {
              /* refused: the rings were closed before the fd */
            }
            break;
          }
          if (f < fd) held.push(f); // a hole below: keep it filled
          else closeSync(f);
        }
        for (const f of held) closeSync(f);
        if (path) {
          reused += 1;
          expect(statSync(path).size, `round ${round}: a packet went to the reused fd ${fd}`).toBe(0);
        }
        await t.exit;
        live.splice(live.indexOf(t), 1);
      }
      expect(reused).toBeGreaterThan(0); // the race was really run
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
