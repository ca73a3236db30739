// The offload engine and probes against the kernel: TUNSETOFFLOAD fallbacks, GRO writes, and
// a TCP connection whose super-packets the engine splits on the way out and whose segments it
// coalesces on the way back, between two namespaces.
import { afterEach, beforeEach, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { Tuncer, tunctl } from '../../src/index.js';
import { GsoSplitter } from '../../src/offload/gsoSplitter.js';
import { GroCoalescer } from '../../src/offload/groCoalescer.js';
import { SegmentBuffer } from '../../src/offload/segmentBuffer.js';
import { describeKernel, expectNoLeak, ifname, leakBaseline, sh, type LeakBaseline } from '../helpers/kernel.js';

const opened: number[] = [];
const live: Tuncer[] = [];
const children: ChildProcess[] = [];
let baseline: LeakBaseline;
beforeEach(async () => {
  baseline = await leakBaseline();
});
afterEach(async () => {
  for (const fd of opened.splice(0)) tunctl.close(fd);
  await Promise.all(live.splice(0).map((t) => t.destroy()));
  for (const c of children.splice(0)) c.kill('SIGKILL');
  await expectNoLeak(baseline);
});

function tun(vnetHdr: boolean): { fd: number; name: string } {
  const h = tunctl.create(ifname('o'), { mode: 'tun', vnetHdr });
  opened.push(h.fd);
  return h;
}

/** A network namespace held by a sleeping process; its path. */
async function netns(): Promise<string> {
  const h = spawn('unshare', ['--net', '--', 'sleep', '120'], { stdio: 'ignore' });
  children.push(h);
  await sleep(100);
  return `/proc/${h.pid}/ns/net`;
}

/** Runs `code` with node inside `ns`; resolves with its stdout once it exits. */
function node(ns: string, code: string, args: string[]): { out: Promise<string>; proc: ChildProcess } {
  const proc = spawn('nsenter', [`--net=${ns}`, process.execPath, '-e', code, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(proc);
  let text = '';
  proc.stdout?.on('data', (d: Buffer) => (text += d.toString()));
  return { proc, out: new Promise((resolve) => proc.on('exit', () => resolve(text))) };
}

/** TCP checksum errors the kernel of `ns` counted (Tcp: InCsumErrors in /proc/net/snmp). */
function tcpCsumErrors(ns: string): number {
  const lines = sh('nsenter', [`--net=${ns}`, 'cat', '/proc/net/snmp']).split('\n').filter((l) => l.startsWith('Tcp:'));
  const names = lines[0]!.split(/\s+/);
  return Number(lines[1]!.split(/\s+/)[names.indexOf('InCsumErrors')]);
}

const SERVER = `
const net = require('net'), crypto = require('crypto');
const [n, m] = process.argv.slice(1).map(Number);
const srv = net.createServer((s) => {
  const h = crypto.createHash('sha256'); let got = 0;
  s.on('data', (d) => {
    h.update(d); got += d.length;
    if (got === n) {
      const data = crypto.randomBytes(m);
      const sent = crypto.createHash('sha256').update(data).digest('hex');
      s.end(data, () => { console.log(JSON.stringify({ got, received: h.digest('hex'), sent })); srv.close(); });
    }
  });
});
srv.listen(5201, '198.18.31.2', () => console.error('server ready'));
setTimeout(() => process.exit(3), 40000).unref();
`;

const CLIENT = `
const net = require('net'), crypto = require('crypto');
const [n] = process.argv.slice(1).map(Number);
const data = crypto.randomBytes(n);
const sent = crypto.createHash('sha256').update(data).digest('hex');
const h = crypto.createHash('sha256'); let got = 0;
const s = net.connect(5201, '198.18.31.2', () => s.write(data));
s.on('data', (d) => { h.update(d); got += d.length; });
s.on('end', () => { console.log(JSON.stringify({ sent, got, received: h.digest('hex') })); process.exit(0); });
s.on('error', (e) => { console.log(JSON.stringify({ error: String(e) })); process.exit(2); });
setTimeout(() => { console.log(JSON.stringify({ timeout: true, got })); process.exit(3); }, 40000);
`;

/** 8 MiB (or `size`) each way over TCP from A's namespace to B's; checks both digests. */
async function transfer(nsA: string, nsB: string, size: number): Promise<void> {
  const server = node(nsB, SERVER, [String(size), String(size)]);
  await sleep(300);
  const client = node(nsA, CLIENT, [String(size)]);
  const last = (text: string): Record<string, unknown> => {
    try {
      return JSON.parse(text.trim().split('\n').pop() ?? '') as Record<string, unknown>;
    } catch {
      return { output: text }; // a stalled transfer: the process timed out without a result
    }
  };
  const [c, s] = (await Promise.all([client.out, server.out])).map(last);
  expect(c).toMatchObject({ got: size });
  expect(s).toMatchObject({ got: size, received: c!.sent }); // A → B
  expect(c!.received).toBe(s!.sent); // B → A
}

/** A test logger: what the interface logged, as [level, msg, data]. */
function recordingLogger(lines: [string, string, Record<string, unknown>][]): Logger {
  const at = (level: string) => (data: Record<string, unknown> | string, msg?: string): void => {
    lines.push(typeof data === 'string' ? [level, data, {}] : [level, msg ?? '', data]);
  };
  const log = { info: at('info'), warn: at('warn'), error: at('error'), debug: at('debug'), child: () => log };
  return log as unknown as Logger;
}

describeKernel('offload against the kernel', () => {
  it('probeOffload sets the largest mask the kernel takes, and clears it without a vnet header', () => {
    const v = tun(true);
    const r = tunctl.probeOffload(v.fd);
    expect(r.tcp).toBe(true);
    expect(r.flags.csum && r.flags.tso4 && r.flags.tso6).toBe(true);
    // USO came with Linux 6.2: on older kernels the first mask is refused and TCP alone stays.
    const [major, minor] = sh('uname', ['-r']).split('.').map(Number);
    const uso = major! > 6 || (major === 6 && minor! >= 2);
    expect(r.udp).toBe(uso);
    expect(r.refused.length).toBe(uso ? 0 : 1);
    expect(tunctl.probeOffload(v.fd, { udp: false })).toMatchObject({ mask: 0x7, tcp: true, udp: false });
    const p = tun(false);
    tunctl.offload(p.fd, { csum: true, tso4: true }); // a mask left behind
    expect(tunctl.probeOffload(p.fd)).toMatchObject({ mask: 0, tcp: false, udp: false, reason: 'no vnet header' });
  });

  it('probeGroWrite: the kernel takes coalesced TCP and UDP writes on a link that is up', () => {
    const v = tun(true);
    expect(tunctl.probeGroWrite(v.fd)).toEqual({ tcp: false, udp: false, errors: {}, reason: 'the link is down' });
    tunctl.up(v.name, '198.18.32.1', 24);
    const r = tunctl.probeGroWrite(v.fd);
    expect(r.tcp).toBe(true);
    expect(r.errors.tcp).toBeUndefined();
    const [major, minor] = sh('uname', ['-r']).split('.').map(Number);
    expect(r.udp).toBe(major! > 6 || (major === 6 && minor! >= 2));
    expect(tunctl.probeGroWrite(v.fd, { udp: false })).toEqual({ tcp: true, udp: false, errors: {} });
    // Both probes went in as one write each and were dropped after parsing, not as errors.
    expect(Number(sh('cat', [`/sys/class/net/${v.name}/statistics/rx_packets`]))).toBeGreaterThanOrEqual(2);
    expect(Number(sh('cat', [`/sys/class/net/${v.name}/statistics/rx_frame_errors`]))).toBe(0);
    expect(tunctl.probeGroWrite(tun(false).fd)).toMatchObject({ tcp: false, reason: 'no vnet header' });
  });

  it('a TCP stream crosses the engine both ways: super-packets split, segments coalesced, digests equal', async () => {
    const nsA = await netns();
    const nsB = await netns();
    // A (the client's side) hands out TSO super-packets and takes GRO writes; B has no offload.
    const a = await Tuncer.create({ netns: nsA, name: ifname('oa'), mode: 'tun', vnetHdr: true, addresses: ['198.18.31.1/24'], txqueuelen: 10000 });
    live.push(a);
    const b = await Tuncer.create({ netns: nsB, name: ifname('ob'), mode: 'tun', addresses: ['198.18.31.2/24'], txqueuelen: 10000 });
    live.push(b);
    await a.offload({ csum: true, tso4: true, tso6: true });
    const splitter = new GsoSplitter();
    const gro = new GroCoalescer({ tcp: true });
    let superPackets = 0;
    const views = (out: SegmentBuffer): Buffer[] => Array.from({ length: out.count }, (_, i) => out.packet(i));
    const pumps = [
      (async () => {
        const out = new SegmentBuffer(4096, 8 << 20);
        for await (const batch of a.batches()) {
          for (let i = 0; i < batch.length; i++) {
            if (splitter.splitAt(batch.data, batch.offset(i), batch.lengthOf(i), out) > 1) superPackets++;
          }
          await b.sendAll(views(out));
          out.clear();
        }
      })(),
      (async () => {
        const out = new SegmentBuffer(4096, 8 << 20);
        for await (const batch of b.batches()) {
          gro.coalesce(batch, out);
          await a.sendAll(views(out));
          out.clear();
        }
      })(),
    ];
    await transfer(nsA, nsB, 8 << 20);
    expect(superPackets).toBeGreaterThan(0);
    expect(gro.stats.superPackets).toBeGreaterThan(0);
    expect(tcpCsumErrors(nsA) + tcpCsumErrors(nsB)).toBe(0);
    await Promise.all(live.splice(0).map((t) => t.destroy()));
    await Promise.all(pumps);
  }, 120_000);

  it("Tuncer offload: 'auto' sets what the kernel takes and logs it; a stale mask never reaches a reader without a vnet header", async () => {
    const nsA = await netns();
    const nsB = await netns();
    const lines: [string, string, Record<string, unknown>][] = [];
    const name = ifname('os');
    // A persistent device left with TSO on, as an earlier user with a vnet header would leave it.
    const first = await Tuncer.create({ netns: nsA, name, mode: 'tun', vnetHdr: true, persist: true, offload: 'auto', logger: recordingLogger(lines), addresses: ['198.18.33.1/24'] });
    await first.destroy();
    const set = lines.find(([, msg]) => msg.startsWith('offload set up'));
    expect(set?.[0]).toBe('info');
    expect(set?.[2]).toMatchObject({ ifname: name, read: { tcp: true }, write: { tcp: true } });
    expect(lines.filter(([level]) => level === 'warn')).toEqual([]);
    // Re-attached without a vnet header: the worker clears the mask before anything is read.
    const a = await Tuncer.create({ netns: nsA, name, mode: 'tun', persist: false, addresses: ['198.18.31.1/24'], txqueuelen: 10000 });
    live.push(a);
    const b = await Tuncer.create({ netns: nsB, name: ifname('ob'), mode: 'tun', addresses: ['198.18.31.2/24'], txqueuelen: 10000 });
    live.push(b);
    let largest = 0;
    const pump = async (from: Tuncer, to: Tuncer): Promise<void> => {
      for await (const batch of from.batches()) {
        for (let i = 0; i < batch.length; i++) largest = Math.max(largest, batch.lengthOf(i));
        await to.sendAll(batch);
      }
    };
    const pumps = [pump(a, b), pump(b, a)];
    await transfer(nsA, nsB, 4 << 20);
    expect(largest).toBeLessThanOrEqual(1500); // no super-packet was handed to a reader that cannot tell
    await Promise.all(live.splice(0).map((t) => t.destroy()));
    await Promise.all(pumps);
  }, 120_000);
});
