// The batch packet path against the kernel: recvBatch / batches() / batches$ (views into the
// rx ring), sendBatch / sendAll, and forwarding between two namespaces through batches.
import { afterEach, beforeEach, expect, it } from 'vitest';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { setTimeout as sleep } from 'node:timers/promises';
import { Tuncer, PacketBatch } from '../../src/index.js';
import { buildIcmp4EchoRequest, parseIcmpEcho } from '../../src/packet/icmpEcho.js';
import { describeKernel, expectNoLeak, ifname, leakBaseline, quieten, type LeakBaseline } from '../helpers/kernel.js';

const live: Tuncer[] = [];
const holders: ChildProcess[] = [];
async function make(opts: Parameters<typeof Tuncer.create>[0] = {}): Promise<Tuncer> {
  const t = await Tuncer.create({ mode: 'tun', name: ifname('b'), addresses: ['198.18.22.1/24'], ...opts });
  live.push(t);
  if (!opts.netns) await quieten(t.devname, t.getfd());
  return t;
}
const echo = (seq: number): Buffer => buildIcmp4EchoRequest({ src: '198.18.22.2', dst: '198.18.22.1', id: 5, seq });
const seqOf = (p: Buffer): number => parseIcmpEcho(p)?.seq ?? -1;

let baseline: LeakBaseline;
beforeEach(async () => {
  baseline = await leakBaseline();
});
afterEach(async () => {
  await Promise.all(live.splice(0).map((t) => t.destroy()));
  for (const h of holders.splice(0)) h.kill('SIGKILL');
  await expectNoLeak(baseline);
});

describeKernel('Tuncer batches against the kernel', () => {
  it('recvBatch returns the kernel replies as views into the ring, in order', async () => {
    const t = await make();
    expect(t.sendBatch(Array.from({ length: 20 }, (_, i) => echo(i)))).toBe(20);
    const seqs: number[] = [];
    while (seqs.length < 20) {
      const batch = await t.recvBatch({ max: 8, signal: AbortSignal.timeout(2000) });
      expect(batch).toBeInstanceOf(PacketBatch);
      expect(batch.length).toBeLessThanOrEqual(8);
      for (const p of batch) seqs.push(seqOf(p));
      batch.release();
    }
    expect(seqs).toEqual([...Array(20).keys()]);
    const s = await t.stats();
    expect(s.txPackets).toBe(20);
    expect(s.delivered).toBe(20);
  });

  it('for await over batches() releases each batch at the next step; sendAll waits for room', async () => {
    const t = await make({ txRingBytes: 2 * 65551, txqueuelen: 10000 });
    const n = 3000;
    const sending = t.sendAll(Array.from({ length: n }, (_, i) => echo(i)));
    const seqs: number[] = [];
    let previous: PacketBatch | undefined;
    for await (const batch of t.batches({ max: 100 })) {
      expect(previous?.released ?? true).toBe(true);
      previous = batch;
      for (let i = 0; i < batch.length; i++) seqs.push(seqOf(batch.packet(i)));
      if (seqs.length >= n) break;
    }
    await sending;
    expect(previous?.released).toBe(true); // break released the last one
    expect(seqs).toEqual([...Array(n).keys()]);
  });

  it('a view kept past its batch shows the poison with poisonReleased', async () => {
    const t = await make({ poisonReleased: true });
    await t.send(echo(1));
    const batch = await t.recvBatch({ signal: AbortSignal.timeout(2000) });
    const kept = batch.packet(0);
    expect(seqOf(kept)).toBe(1);
    batch.release();
    expect(kept.every((b) => b === 0xdb)).toBe(true);
    expect(() => batch.packet(0)).toThrow(/released/);
  });

  it('batches$ delivers views in active mode and counts credits per packet', async () => {
    const t = await make();
    const seqs: number[] = [];
    const passive = new Promise<void>((resolve) => t.events$.subscribe((e) => e.type === 'passive' && resolve()));
    t.batches$.subscribe((b) => {
      for (const p of b) seqs.push(seqOf(p));
    });
    t.sendBatch(Array.from({ length: 10 }, (_, i) => echo(i)));
    await sleep(50);
    t.setopt({ active: 6 });
    await passive;
    expect(seqs).toEqual([0, 1, 2, 3, 4, 5]);
    expect(t.state).toBe('passive');
    expect(seqOf(await t.recv({ signal: AbortSignal.timeout(2000) }))).toBe(6);
  });

  it('forwards UDP between two namespaces through batches, written straight from the other ring', async () => {
    const holder = (): string => {
      const h = spawn('unshare', ['--net', '--', 'sleep', '60'], { stdio: 'ignore' });
      holders.push(h);
      return `/proc/${h.pid}/ns/net`;
    };
    const nsA = holder();
    const nsB = holder();
    await sleep(100);
    const a = await make({ netns: nsA, addresses: ['198.18.23.1/24'] });
    const b = await make({ netns: nsB, addresses: ['198.18.23.2/24'] });
    const pump = async (from: Tuncer, to: Tuncer): Promise<void> => {
      for await (const batch of from.batches()) await to.sendAll(batch);
    };
    const pumps = [pump(a, b), pump(b, a)];
    const node = (ns: string, code: string): ChildProcess => {
      const c = spawn('nsenter', [`--net=${ns}`, process.execPath, '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
      holders.push(c);
      return c;
    };
    node(nsB, "const s=require('dgram').createSocket('udp4');s.on('message',(m,r)=>s.send(m,r.port,r.address));s.bind(7,'198.18.23.2');");
    await sleep(200);
    const client = node(
      nsA,
      "const s=require('dgram').createSocket('udp4');let got=0;s.on('message',()=>{if(++got===200){console.log(got);process.exit(0)}});" +
        "let i=0;const t=setInterval(()=>{for(let k=0;k<20&&i<200;k++,i++)s.send(Buffer.alloc(100,i),7,'198.18.23.2');if(i>=200)clearInterval(t)},5);" +
        'setTimeout(()=>{console.log(got);process.exit(1)},5000);',
    );
    let out = '';
    client.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve) => client.on('exit', resolve));
    expect(out.trim()).toBe('200');
    expect(code).toBe(0);
    const [sa, sb] = await Promise.all([a.stats(), b.stats()]);
    expect(sa.txPackets).toBeGreaterThanOrEqual(200); // echoes into A
    expect(sb.txPackets).toBeGreaterThanOrEqual(200); // requests into B
    expect(sa.txDirect + sb.txDirect).toBeGreaterThan(0); // batches written from this thread
    expect(sa.txErrors + sb.txErrors).toBe(0);
    await Promise.all([a.destroy(), b.destroy()]);
    await Promise.all(pumps);
  });

  it('a batch written straight to another interface: the kernel\'s rejections are counted, the rest arrive', async () => {
    // Frames off a tap go to a tun, which takes an IP packet: a frame whose first nibble is
    // 4 passes its check, one whose first byte is 0 is refused (EINVAL). Static neighbours
    // fix the destination MAC, so the frames are known.
    const tap = await make({ mode: 'tap', addresses: ['198.18.26.1/24'] });
    const tun = await make({ addresses: ['198.18.27.1/24'] });
    execFileSync('ip', ['neigh', 'replace', '198.18.26.2', 'lladdr', '00:00:5e:00:53:02', 'dev', tap.devname]);
    execFileSync('ip', ['neigh', 'replace', '198.18.26.3', 'lladdr', '46:00:5e:00:53:03', 'dev', tap.devname]);
    const sock = createSocket('udp4');
    for (let i = 0; i < 3; i++) {
      sock.send(Buffer.alloc(50, i), 9, '198.18.26.2');
      sock.send(Buffer.alloc(50, i), 9, '198.18.26.3');
    }
    const frames: number[] = [];
    let sent = 0;
    while (frames.length < 6) {
      const batch = await tap.recvBatch({ signal: AbortSignal.timeout(3000) });
      frames.push(...[...batch].map((f) => f[0] as number));
      sent += tun.sendBatch(batch);
      batch.release();
    }
    sock.close();
    expect(frames.sort()).toEqual([0x00, 0x00, 0x00, 0x46, 0x46, 0x46]);
    expect(sent).toBe(6);
    const s = await tun.stats();
    expect(s).toMatchObject({ txErrors: 3, txPackets: 3, txDirect: 3 });
  });
});
