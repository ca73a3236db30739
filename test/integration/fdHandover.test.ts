/**
 * The privileged-helper pattern end to end: root creates and configures a tun and passes
 * its fd to a process of another uid with no capabilities (`setpriv`), which listens with
 * `tunctl.receiveFd`, adopts the fd with `Tuncer.create({ fd })`, and gets the kernel's
 * answer to an ICMP echo through it. The unprivileged side never opens /dev/net/tun.
 * Once with the library's `sendFd`, once with `tunctl add ... --send-fd` as the helper.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { tunctl } from '../../src/index.js';
import { buildIcmp4EchoRequest } from '../../src/packet/icmpEcho.js';
import { describeKernel, devExists, ifname } from '../helpers/kernel.js';

const U = 4331;
const index = new URL('../../dist/index.js', import.meta.url).href;
const cliMain = new URL('../../dist/cli/main.js', import.meta.url).pathname;
let dir: string;

interface Receiver {
  /** Resolves when the child listens on its socket. */
  readonly listening: Promise<void>;
  /** What the child reported, once it ended. */
  readonly result: Promise<Record<string, unknown>>;
}

/**
 * A child node as uid U (gid U, no groups, no capabilities at all) that receives an fd at
 * `path`, runs a Tuncer on it and pings 198.18.<net>.1 from .2 through it.
 */
function unprivilegedReceiver(path: string, net: number): Receiver {
  const echo = [...buildIcmp4EchoRequest({ src: `198.18.${net}.2`, dst: `198.18.${net}.1`, id: 9, seq: 1 })];
  const script = `import(${JSON.stringify(index)}).then(async ({ tunctl, Tuncer }) => {
    const out = { uid: process.getuid(), capEff: /CapEff:\\s*(\\S+)/.exec(require('node:fs').readFileSync('/proc/self/status', 'utf8'))[1] };
    const err = (e) => ({ name: e.name, code: e.code, syscall: e.syscall });
    try {
      const pending = tunctl.receiveFd(${JSON.stringify(path)}, { timeoutMs: 15000 });
      console.log('listening');
      const got = await pending;
      out.received = { name: got.name, mode: got.mode, meta: got.meta, peerUid: got.peer.uid };
      const tun = await Tuncer.create({ fd: got.fd });
      out.devname = tun.devname;
      out.info = (await tun.info()).name;
      try { await tun.setMtu(1400); out.setMtu = 'set'; } catch (e) { out.setMtu = err(e); }
      try { await tun.up('198.18.${net}.9', 24); out.up = 'set'; } catch (e) { out.up = err(e); }
      await tun.send(Buffer.from(${JSON.stringify(echo)}));
      for (let i = 0; i < 20 && !out.reply; i++) {
        const p = await tun.recv({ signal: AbortSignal.timeout(3000) });
        if (p[9] === 1 && p[20] === 0) out.reply = [...p.subarray(12, 16)].join('.');
      }
      await tun.destroy();
    } catch (e) { out.unexpected = { ...err(e), message: e.message }; }
    console.log(JSON.stringify(out));
    process.exit(0);
  });`;
  const child = spawn('setpriv', [`--reuid=${U}`, `--regid=${U}`, '--clear-groups', '--inh-caps=-all', '--bounding-set=-all', process.execPath, '-e', script], {
    cwd: '/',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const lines: string[] = [];
  let onListening: () => void = () => {};
  const listening = new Promise<void>((resolve) => (onListening = resolve));
  createInterface({ input: child.stdout }).on('line', (line) => {
    lines.push(line);
    if (line === 'listening') onListening();
  });
  const result = new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 25_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      onListening();
      if (stderr !== '' || code !== 0) reject(new Error(`receiver exited ${code}: ${stderr}`));
      else resolve(JSON.parse(lines.at(-1) ?? '{}') as Record<string, unknown>);
    });
  });
  return { listening, result };
}

/** What the unprivileged side must have seen, whoever sent the fd. */
function expectServed(out: Record<string, unknown>, name: string, net: number): void {
  expect(out.unexpected).toBeUndefined();
  expect(out.uid).toBe(U);
  expect(BigInt(`0x${String(out.capEff)}`), 'no capabilities at all').toBe(0n);
  expect(out).toMatchObject({ received: { name, mode: 'tun', peerUid: 0 }, devname: name, info: name });
  expect(out.reply, 'the kernel answered the echo sent through the adopted Tuncer').toBe(`198.18.${net}.1`);
  // Packet I/O needs no capability; configuring the device still does.
  expect(out.setMtu).toMatchObject({ name: 'TunError', code: 'EPERM' });
  expect(out.up).toMatchObject({ name: 'TunError', code: 'EPERM' });
}

describeKernel('fd handover from root to an unprivileged uid (no capabilities)', () => {
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tunctl-handover-'));
    chownSync(dir, U, U); // the service's own directory: it makes the socket there
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('tunctl.sendFd from this (root) process; the device lives while the receiver holds the fd', async () => {
    const net = 74;
    const name = ifname('ho');
    const path = join(dir, 'tun.sock');
    const receiver = unprivilegedReceiver(path, net);
    const h = tunctl.create(name, { mode: 'tun' });
    try {
      tunctl.up(name, `198.18.${net}.1`, 24);
      await receiver.listening;
      await tunctl.sendFd(path, h.fd, { from: 'root' });
    } finally {
      tunctl.close(h.fd); // ours; the receiver has its own
    }
    const out = await receiver.result;
    expectServed(out, name, net);
    expect(out.received).toMatchObject({ meta: { from: 'root' } });
    expect(devExists(name), 'the receiver closed the last fd').toBe(false);
  });

  it('`tunctl add NAME --mode tun --addr ... --send-fd SOCKET` as the helper; a failed handover leaves no device', async () => {
    const net = 75;
    const name = ifname('ho');
    const path = join(dir, 'tun.sock');
    const receiver = unprivilegedReceiver(path, net);
    await receiver.listening;
    const add = spawnSync(process.execPath, [cliMain, 'add', name, '--mode', 'tun', '--addr', `198.18.${net}.1/24`, '--send-fd', path], { encoding: 'utf8', timeout: 20_000 });
    expect(add.stderr).toBe('');
    expect(add.status).toBe(0);
    expect(add.stdout).toBe(`${name}\n`);
    const out = await receiver.result;
    expectServed(out, name, net);
    expect(out.received).toMatchObject({ meta: { name } });
    expect(devExists(name), 'not persistent: gone with the receiver').toBe(false);

    const nobody = spawnSync(process.execPath, [cliMain, 'add', name, '--mode', 'tun', '--send-fd', path], { encoding: 'utf8', timeout: 20_000 });
    expect(nobody.status, nobody.stderr).toBe(69);
    expect(nobody.stderr).toContain(`connect(${path})`);
    expect(devExists(name)).toBe(false);
  });
});
