// UdpSocket against the kernel, over loopback in the private namespace of `npm test`: one
// UDP_SEGMENT send becomes MTU-size datagrams, UDP_GRO joins them again, bytes intact; bad
// input and kernel refusals are typed and leave no fd behind.
import { afterEach, beforeEach, expect, it } from 'vitest';
import { createSocket } from 'node:dgram';
import { UdpSocket, TunError, type UdpMessage } from '../../src/index.js';
import { describeKernel, openFds, sh, untilSteady } from '../helpers/kernel.js';

const open: UdpSocket[] = [];
let fds = 0;
beforeEach(() => {
  fds = openFds();
});
afterEach(() => {
  for (const s of open.splice(0)) s.close();
  expect(openFds()).toBe(fds);
});

function sock(opts: Parameters<typeof UdpSocket.open>[0]): UdpSocket {
  const s = UdpSocket.open(opts);
  open.push(s);
  return s;
}

function pattern(n: number, seed = 0): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + seed) & 0xff;
  return b;
}

/** Everything `rx` receives until `bytes` have come (copies: a message's view is reused). */
async function collect(rx: UdpSocket, bytes: number): Promise<{ data: Uint8Array; segmentSize: number; address: string; port: number }[]> {
  const got: { data: Uint8Array; segmentSize: number; address: string; port: number }[] = [];
  let total = 0;
  await new Promise<void>((resolve, reject) => {
    rx.listen((m: UdpMessage) => {
      got.push({ ...m, data: m.data.slice() });
      total += m.data.length;
      if (total >= bytes) resolve();
    }, reject);
  });
  return got;
}

describeKernel('UdpSocket against the kernel', () => {
  it('one segmented send arrives as one joined receive (UDP_GRO), cut where it was sent, bytes intact', async () => {
    const rx = sock({ bind: '127.0.0.1:0', gro: true });
    const tx = sock({ bind: '127.0.0.1:0', connect: `127.0.0.1:${rx.local.port}` });
    const data = pattern(20 * 1400 + 300);
    expect(tx.trySend(data, { segmentSize: 1400 })).toBe(true);
    const got = await collect(rx, data.length);
    const joined = Buffer.concat(got.map((m) => m.data));
    expect(Buffer.compare(joined, data)).toBe(0);
    expect(got.some((m) => m.segmentSize === 1400)).toBe(true);
    expect(got.every((m) => m.address === '127.0.0.1' && m.port === tx.local.port)).toBe(true);
  });

  it('without gro the same send arrives as separate datagrams of segmentSize bytes (the wire never sees more)', async () => {
    const rx = sock({ bind: '127.0.0.1:0' });
    const tx = sock({ bind: '127.0.0.1:0' });
    const data = pattern(5 * 1000 + 10, 3);
    expect(tx.trySend(data, { segmentSize: 1000, to: `127.0.0.1:${rx.local.port}` })).toBe(true);
    const got = await collect(rx, data.length);
    expect(got.map((m) => m.data.length)).toEqual([1000, 1000, 1000, 1000, 1000, 10]);
    expect(got.every((m) => m.segmentSize === 0)).toBe(true);
    expect(Buffer.compare(Buffer.concat(got.map((m) => m.data)), data)).toBe(0);
  });

  it('a node:dgram peer hears the segments as ordinary datagrams; IPv6 works the same', async () => {
    const peer = createSocket('udp6');
    await new Promise<void>((r) => peer.bind(0, '::1', r));
    const sizes: number[] = [];
    const heard = new Promise<void>((resolve) => peer.on('message', (m) => sizes.push(m.length) === 3 && resolve()));
    const tx = sock({ bind: '[::1]:0', connect: `[::1]:${peer.address().port}` });
    expect(tx.family).toBe(6);
    await tx.send(pattern(2 * 1200 + 1), { segmentSize: 1200 });
    await heard;
    peer.close();
    expect(sizes).toEqual([1200, 1200, 1]);
  });

  it('tryRecv returns null when nothing waits; writable() resolves when there is room', async () => {
    const s = sock({ bind: '127.0.0.1:0', bufferBytes: 1 << 20 });
    expect(s.tryRecv()).toBeNull();
    await expect(s.writable()).resolves.toBeUndefined();
  });

  it('bad input is refused before any syscall, with typed errors and no fd left', () => {
    const before = openFds();
    expect(() => UdpSocket.open({ bind: 'nowhere' })).toThrow(TypeError);
    expect(() => UdpSocket.open({ bind: '127.0.0.1:70000' })).toThrow(RangeError);
    expect(() => UdpSocket.open({ bind: '127.0.0.1:0', connect: '[::1]:5' })).toThrow(/one family/);
    expect(() => UdpSocket.open({ bind: '127.0.0.1:0', gro: 1 } as never)).toThrow(TypeError);
    expect(() => UdpSocket.open({ bind: '127.0.0.1:0', port: 5 } as never)).toThrow(/UdpSocket option/);
    const s = sock({ bind: '127.0.0.1:0' });
    expect(() => s.trySend(new Uint8Array(65536))).toThrow(RangeError);
    expect(() => s.trySend(new Uint8Array(100 * 10), { segmentSize: 10 })).toThrow(/at most 64/);
    expect(() => s.trySend('x' as never)).toThrow(TypeError);
    expect(openFds()).toBe(before + 1);
  });

  it('kernel refusals are TunErrors with the errno name and syscall, and close the half-made socket', () => {
    const a = sock({ bind: '127.0.0.1:0' });
    const before = openFds();
    let err: unknown;
    try {
      UdpSocket.open({ bind: `127.0.0.1:${a.local.port}` });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TunError);
    expect(err).toMatchObject({ code: 'EADDRINUSE', syscall: 'bind', errno: expect.any(Number) });
    expect(() => UdpSocket.open({ bind: '198.18.255.1:0' })).toThrow(expect.objectContaining({ code: 'EADDRNOTAVAIL' }));
    expect(openFds()).toBe(before);
  });

  it('close is idempotent, stops listening, and later calls fail with EBADF', async () => {
    const rx = sock({ bind: '127.0.0.1:0' });
    const seen: number[] = [];
    rx.listen((m) => seen.push(m.data.length));
    expect(() => rx.listen(() => undefined)).toThrow(expect.objectContaining({ code: 'EBUSY' }));
    const tx = sock({ bind: '127.0.0.1:0', connect: `127.0.0.1:${rx.local.port}` });
    tx.trySend(new Uint8Array(10));
    await untilSteady(() => seen.length === 1, 2000);
    rx.close();
    rx.close();
    expect(rx.closed).toBe(true);
    expect(() => rx.tryRecv()).toThrow(expect.objectContaining({ code: 'EBADF' }));
    tx.trySend(new Uint8Array(10)); // to a closed port: nobody hears it
    await new Promise((r) => setTimeout(r, 50));
    expect(seen).toEqual([10]);
  });

  it('a peer not up yet (ICMP port unreachable) is reported to onError and listening goes on', async () => {
    // A free port, then nobody on it: a connected socket's send there comes back as ECONNREFUSED.
    const probe = UdpSocket.open({ bind: '127.0.0.1:0' });
    const port = probe.local.port;
    probe.close();
    const a = sock({ bind: '127.0.0.1:0', connect: `127.0.0.1:${port}` });
    const errors: string[] = [];
    const got: number[] = [];
    a.listen((m) => got.push(m.data.length), (err) => errors.push((err as { code?: string }).code ?? String(err)));
    a.trySend(new Uint8Array(8));
    await untilSteady(() => errors.length > 0, 2000);
    expect(errors).toEqual(['ECONNREFUSED']);
    const b = sock({ bind: `127.0.0.1:${port}`, connect: `127.0.0.1:${a.local.port}` });
    b.trySend(new Uint8Array(33));
    await untilSteady(() => got.length > 0, 2000);
    expect(got).toEqual([33]);
  });

  it('a listening socket can wait for room: writable() and send() share its one poll handle; close() rejects waiters', async () => {
    // A veth whose far side has no address: datagrams to an unresolved neighbour wait in the
    // kernel, so a small send buffer fills and sends return EAGAIN.
    sh('ip', ['link', 'add', 'udpfa', 'type', 'veth', 'peer', 'name', 'udpfb']);
    try {
      sh('ip', ['addr', 'add', '198.18.77.1/24', 'dev', 'udpfa']);
      sh('ip', ['link', 'set', 'udpfa', 'up']);
      sh('ip', ['link', 'set', 'udpfb', 'up']);
      const s = sock({ bind: '198.18.77.1:0', connect: '198.18.77.99:9', bufferBytes: 4096 });
      const errors: string[] = [];
      s.listen(() => undefined, (e) => errors.push((e as { code?: string }).code ?? ''));
      const pkt = new Uint8Array(1400);
      let sent = 0;
      while (s.trySend(pkt) && sent < 10_000) sent++;
      expect(sent).toBeLessThan(10_000); // the buffer filled: EAGAIN
      const waiting = s.send(pkt); // waits for room, on the handle listen() polls with
      const outcome = await Promise.race([waiting.then(() => 'sent', (e: { code?: string }) => e.code), new Promise((r) => setTimeout(() => r('pending'), 200))]);
      expect(outcome).toBe('pending'); // not EEXIST: room never comes (the neighbour never answers)
      expect(() => s.listen(() => undefined)).toThrow(expect.objectContaining({ code: 'EBUSY' }));
      s.close();
      await expect(waiting).rejects.toMatchObject({ code: 'EBADF' });
      await expect(s.writable()).rejects.toMatchObject({ code: 'EBADF' }); // a rejection, not a throw
      expect(errors).toEqual([]);
    } finally {
      sh('ip', ['link', 'del', 'udpfa']);
    }
  });

  it('an onError that closes the socket hears nothing more', async () => {
    const probe = UdpSocket.open({ bind: '127.0.0.1:0' });
    const port = probe.local.port;
    probe.close();
    const a = sock({ bind: '127.0.0.1:0', connect: `127.0.0.1:${port}` });
    const errors: string[] = [];
    a.listen(() => undefined, (err) => {
      errors.push((err as { code?: string }).code ?? '');
      a.close();
    });
    a.trySend(new Uint8Array(8));
    await untilSteady(() => errors.length > 0, 2000);
    await new Promise((r) => setTimeout(r, 50));
    expect(errors).toEqual(['ECONNREFUSED']);
  });
});
