/**
 * The examples end to end: vpwn (a tunnel over TCP between two namespaces, plain and with
 * --offload), udptunnel (a tunnel over UDP, plain and with --offload) and br (a learning
 * switch of taps in three namespaces). Each run script makes its own namespaces
 * (with `ip netns add`, inside the test's private namespace), checks the traffic itself and
 * removes everything; here we check its verdict, its output, and that nothing is left.
 */
import { expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { buildIcmp4EchoRequest, parseIcmpEcho } from '../../src/packet/icmpEcho.js';
import { fileURLToPath } from 'node:url';
import { describeKernel, tunDevices } from '../helpers/kernel.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Run `node <script> args` from the repository root; SIGTERM (then SIGKILL) after timeoutMs. */
function runNode(script: string, args: string[], timeoutMs: number): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const term = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    const kill = setTimeout(() => child.kill('SIGKILL'), timeoutMs + 5000);
    child.on('exit', (code) => {
      clearTimeout(term);
      clearTimeout(kill);
      resolve({ code, out });
    });
  });
}

/**
 * The run scripts check reachability with ping(8) when it is installed, and under CI=true
 * always (`.ci/run` installs it; there a missing ping fails the run script). Only outside CI
 * without ping do they fall back to a UDP echo, reported as "udp ping".
 */
const usesPing = process.env.CI === 'true' || spawnSync('sh', ['-c', 'command -v ping'], { stdio: 'ignore' }).status === 0;
const probe = usesPing ? 'ping' : 'udp ping';

/** Names from `ip netns list` (stdout only: a stale entry makes ip complain on stderr). */
function netnsList(): string[] {
  const r = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  return r.stdout
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((l) => l !== '')
    .sort();
}

// Bounds, not targets: each run script takes 5-10 s here, but on a loaded machine starting its
// processes and interfaces alone has taken over 10 s; 40 s, then SIGTERM (and SIGKILL 5 s later).
describeKernel('examples', () => {
  it(`vpwn: ${probe} over IPv4 and IPv6, a 5 MB TCP transfer, and one across a crash of the tun`, async () => {
    const before = { ns: netnsList(), devs: tunDevices() };
    const { code, out } = await runNode('examples/vpwn/run.mjs', ['--bytes', String(5 * 1024 * 1024), '--chaos'], 40_000);
    if (code !== 0) console.log(out);
    expect(code).toBe(0);
    // Both ends came up with their addresses and found each other over the veth pair.
    expect(out).toMatch(/\[B\] vpwn vpwn0: up, tun with 198\.18\.50\.2\/24, fd00:50::2\/64/);
    expect(out).toMatch(/\[A\] vpwn vpwn0: connected to 198\.19\.0\.2:7000/);
    if (usesPing) {
      // ping(8) itself, answered by B's kernel through the tunnel, from A's tunnel addresses.
      expect(out).toMatch(/\[A ping\] 64 bytes from 198\.18\.50\.2: icmp_seq=\d+ ttl=64/);
      expect(out).toMatch(/\[A ping\] 64 bytes from fd00:50::2: icmp_seq=\d+ ttl=64/);
      expect(out).toMatch(/\[A ping\] \d+ packets transmitted, 3 received/);
      expect(out).not.toContain('using a UDP echo instead');
    } else {
      expect(out).toMatch(/udp ping statistics: 3 transmitted, 3 received, 0% loss/);
    }
    expect(out).toContain(`ok: ${probe} 198.18.50.2`);
    expect(out).toContain(`ok: ${probe} fd00:50::2`);
    expect(out).toMatch(/tcp transfer ok: the far end got 5242880 bytes with the same sha256/);
    // --chaos: A's worker was crashed mid-transfer; the supervisor brought the tun back.
    expect(out).toMatch(/\[A\] vpwn vpwn0: interface exited: injected fault/);
    expect(out).toMatch(/\[A\] vpwn vpwn0: interface restarted by the supervisor/);
    expect(out).toContain('ok: tcp transfer of 5242880 bytes across the restart');
    expect(out).toContain(`ok: ${probe} 198.18.50.2 after the restart`);
    // The endpoints were stopped by the run script and reported their counters.
    expect(out).toMatch(/\[A\] vpwn vpwn0: stopped; packets to peer [1-9]\d*/);
    expect(out).toMatch(/\[B\] vpwn vpwn0: stopped; packets to peer [1-9]\d*/);
    expect(out).toContain('vpwn example: all checks passed');
    expect(netnsList()).toEqual(before.ns);
    expect(tunDevices()).toEqual(before.devs);
  }, 50_000);

  it(`vpwn --offload: ${probe} over IPv4 and IPv6, and TSO super-packets cross the TCP tunnel whole in a 5 MB transfer`, async () => {
    const before = { ns: netnsList(), devs: tunDevices() };
    const { code, out } = await runNode('examples/vpwn/run.mjs', ['--bytes', String(5 * 1024 * 1024), '--offload'], 40_000);
    if (code !== 0) console.log(out);
    expect(code).toBe(0);
    // Both ends set up their offloads (TSO taken by this kernel) and agreed on the framing.
    expect(out).toMatch(/\[A\] vpwn vpwn0: offload set up.*\(read tcp true/);
    expect(out).toMatch(/\[B\] vpwn vpwn0: offload set up.*\(read tcp true/);
    expect(out).toMatch(/\[B\] vpwn vpwn0: up, tun with 198\.18\.50\.2\/24, fd00:50::2\/64; offload: super-packets whole, 4-byte lengths/);
    expect(out).toMatch(/\[A\] vpwn vpwn0: connected to 198\.19\.0\.2:7000/);
    expect(out).not.toMatch(/is not a vpwn --offload end|warning:/);
    expect(out).toContain(`ok: ${probe} 198.18.50.2`);
    expect(out).toContain(`ok: ${probe} fd00:50::2`);
    expect(out).toMatch(/tcp transfer ok: the far end got 5242880 bytes with the same sha256/);
    // The sender's kernel handed out super-packets, and they crossed as they were.
    const sent = /\[A\] vpwn vpwn0: stopped; packets to peer (\d+), from peer \d+, super-packets to peer (\d+)/.exec(out);
    expect(sent).not.toBeNull();
    expect(Number(sent![2])).toBeGreaterThan(0);
    expect(Number(sent![1])).toBeLessThan(5242880 / 1448); // fewer packets than MTU-size segments
    expect(out).toContain('vpwn example: all checks passed');
    expect(netnsList()).toEqual(before.ns);
    expect(tunDevices()).toEqual(before.devs);
  }, 50_000);

  it(`udptunnel: ${probe} over IPv4 and IPv6, a 5 MB TCP transfer each way, one datagram a packet`, async () => {
    const before = { ns: netnsList(), devs: tunDevices() };
    const { code, out } = await runNode('examples/udptunnel/run.mjs', ['--bytes', String(5 * 1024 * 1024)], 40_000);
    if (code !== 0) console.log(out);
    expect(code).toBe(0);
    expect(out).toMatch(/\[A\] udptunnel udpt0: up, tun udpt0 mtu 1420 with 198\.18\.80\.1\/24, fd00:80::1\/64; udp 198\.19\.0\.1:7000 -> 198\.19\.0\.2:7000$/m);
    expect(out).not.toMatch(/offload set up/);
    if (usesPing) {
      expect(out).toMatch(/\[A ping\] 64 bytes from 198\.18\.80\.2: icmp_seq=\d+ ttl=64/);
      expect(out).toMatch(/\[A ping\] 64 bytes from fd00:80::2: icmp_seq=\d+ ttl=64/);
    }
    expect(out).toContain(`ok: ${probe} 198.18.80.2`);
    expect(out).toContain(`ok: ${probe} fd00:80::2`);
    expect(out).toContain('ok: tcp transfer of 5242880 bytes A -> B');
    expect(out).toContain('ok: tcp transfer of 5242880 bytes B -> A over IPv6');
    expect(out.match(/tcp transfer ok: the far end got 5242880 bytes with the same sha256/g)?.length).toBe(2);
    // Every datagram one packet: at least a datagram per 1380-byte segment of each transfer.
    for (const end of ['A', 'B']) {
      const m = new RegExp(`\\[${end}\\] udptunnel udpt0: stopped; datagrams to peer (\\d+), from peer (\\d+); dropped \\d+, refused by the engine 0, not IP 0`).exec(out);
      expect(m).not.toBeNull();
      expect(Number(m![1])).toBeGreaterThan(5242880 / 1420);
    }
    expect(out).toContain('udptunnel example: all checks passed');
    expect(netnsList()).toEqual(before.ns);
    expect(tunDevices()).toEqual(before.devs);
  }, 50_000);

  it(`udptunnel --offload: ${probe}, and 5 MB each way as super-packets split into MTU-size datagrams and coalesced back, across a crash of the tun`, async () => {
    const before = { ns: netnsList(), devs: tunDevices() };
    const { code, out } = await runNode('examples/udptunnel/run.mjs', ['--bytes', String(5 * 1024 * 1024), '--offload', '--chaos'], 40_000);
    if (code !== 0) console.log(out);
    expect(code).toBe(0);
    expect(out).toMatch(/\[A\] udptunnel udpt0: offload set up.*\(read tcp true, udp \w+; GRO writes tcp true/);
    expect(out).toMatch(/\[B\] udptunnel udpt0: offload set up.*\(read tcp true, udp \w+; GRO writes tcp true/);
    expect(out).toMatch(/\[A\] udptunnel udpt0: up, tun udpt0 mtu 1420 .*; offload: GSO split \+ UDP_SEGMENT, UDP_GRO \+ GRO coalesce/);
    expect(out).not.toMatch(/warning:/);
    expect(out).toContain(`ok: ${probe} 198.18.80.2`);
    expect(out).toContain(`ok: ${probe} fd00:80::2`);
    expect(out).toContain('ok: tcp transfer of 5242880 bytes A -> B');
    expect(out).toContain('ok: tcp transfer of 5242880 bytes B -> A over IPv6');
    expect(out).toContain('ok: tcp transfer of 5242880 bytes across the restart');
    expect(out).toContain(`ok: ${probe} 198.18.80.2 after the restart`);
    expect(out.match(/tcp transfer ok: the far end got 5242880 bytes with the same sha256/g)?.length).toBe(3);
    expect(out).toMatch(/\[A\] udptunnel udpt0: interface restarted by the supervisor/);
    // The restarted interface set its offloads up again (vnet header, TSO, GRO writes probed).
    expect(out.match(/\[A\] udptunnel udpt0: offload set up \(read tcp true/g)?.length).toBe(2);
    // Both ends read super-packets and split them (none refused by the engine), and both
    // coalesced datagrams into super-packets for the tun.
    for (const end of ['A', 'B']) {
      const m = new RegExp(
        `\\[${end}\\] udptunnel udpt0: stopped; datagrams to peer \\d+, from peer \\d+; super-packets read (\\d+) \\(split into (\\d+) datagrams\\), super-packets written (\\d+) \\(from (\\d+) datagrams\\); dropped \\d+, refused by the engine 0, not IP 0`,
      ).exec(out);
      expect(m).not.toBeNull();
      const [readSuper, split, written, merged] = m!.slice(1).map(Number);
      expect(readSuper).toBeGreaterThan(0);
      expect(split).toBeGreaterThan(readSuper!);
      expect(written).toBeGreaterThan(0);
      expect(merged).toBeGreaterThan(written!);
    }
    expect(out).toContain('udptunnel example: all checks passed');
    expect(netnsList()).toEqual(before.ns);
    expect(tunDevices()).toEqual(before.devs);
  }, 50_000);

  it('br: frames from one namespace reach the others through the switch (ARP, IPv4, IPv6)', async () => {
    const before = { ns: netnsList(), devs: tunDevices() };
    const { code, out } = await runNode('examples/br/run.mjs', ['--ports', '3'], 40_000);
    if (code !== 0) console.log(out);
    expect(code).toBe(0);
    // ARP was flooded by the switch and answered through it.
    expect(out).toMatch(/ff:ff:ff:ff:ff:ff ARP who-has 198\.18\.60\.2 tell 198\.18\.60\.1/);
    expect(out).toMatch(/ARP reply 198\.18\.60\.2 is-at/);
    // IPv6 only once duplicate address detection was over (else a ping may leave from ::1).
    expect(out).toMatch(/IPv6 addresses usable \(duplicate address detection done in \d+ ms\)/);
    for (const check of ['198.18.60.2 from n1', '198.18.60.3 from n1', '198.18.60.3 from n2', 'fd00:60::2 from n1', 'fd00:60::3 from n1', 'fd00:60::3 from n2']) {
      expect(out).toContain(`ok: ${probe} ${check}`);
    }
    if (usesPing) {
      expect(out).toMatch(/\[n1 ping\] 64 bytes from fd00:60::2: icmp_seq=\d+ ttl=64/);
      expect(out).toMatch(/\[n2 ping\] 64 bytes from fd00:60::3: icmp_seq=\d+ ttl=64/);
      expect(out).not.toContain('using a UDP echo instead');
    }
    // It learned one MAC per port, and forwarded known unicast instead of flooding it.
    expect(out).toMatch(/mac table \(3 entries\)/);
    expect(out.match(/br: learned [0-9a-f:]{17} on port \d/g)?.length).toBe(3);
    const stats = /br: stopped; frames (\d+), forwarded (\d+), flooded (\d+), filtered \d+, dropped (\d+)/.exec(out);
    expect(stats).not.toBeNull();
    expect(Number(stats![2])).toBeGreaterThan(0);
    expect(Number(stats![3])).toBeGreaterThan(0);
    expect(out).toContain('br example: all checks passed');
    expect(netnsList()).toEqual(before.ns);
    expect(tunDevices()).toEqual(before.devs);
  }, 50_000);

  it('udptunnel --offload: a stray empty or non-IP datagram from the peer is dropped and counted; the end goes on', async () => {
    // One end on loopback, and this test as its peer (same address and port the end sends to).
    const peer = createSocket('udp4');
    await new Promise<void>((r) => peer.bind(7401, '127.0.0.1', r));
    const end = spawn(process.execPath, ['examples/udptunnel/udptunnel.mjs', '--bind', '127.0.0.1:7400', '--peer', '127.0.0.1:7401', '--local', '198.18.81.1/24', '--name', 'udptx0', '--offload'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    end.stdout.on('data', (d: Buffer) => (out += d.toString()));
    end.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => end.on('exit', resolve));
    try {
      for (let i = 0; i < 300 && !/: up, tun/.test(out); i++) await new Promise((r) => setTimeout(r, 50));
      expect(out).toMatch(/: up, tun udptx0/);
      const reply = new Promise<boolean>((resolve) => peer.on('message', (m) => parseIcmpEcho(m)?.type === 'reply' && resolve(true)));
      peer.send(Buffer.alloc(0), 7400, '127.0.0.1');
      peer.send(Buffer.from([1, 2, 3]), 7400, '127.0.0.1');
      // Then a real packet: an echo request to the end's tun address; the kernel's reply comes back through the end.
      const ask = setInterval(() => peer.send(buildIcmp4EchoRequest({ src: '198.18.81.2', dst: '198.18.81.1', id: 81, seq: 1 }), 7400, '127.0.0.1'), 200);
      try {
        expect(await Promise.race([reply, new Promise((r) => setTimeout(() => r(false), 10_000))])).toBe(true);
      } finally {
        clearInterval(ask);
      }
    } finally {
      end.kill('SIGTERM');
      peer.close();
    }
    expect(await exited).toBe(0);
    expect(out).toMatch(/stopped; .*not IP 2,/);
  });
});
