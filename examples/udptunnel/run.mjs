#!/usr/bin/env node
// The udptunnel example end to end, in two private network namespaces made (and removed) here:
//
//   ns A                                             ns B
//   udpt0 198.18.80.1/24, fd00:80::1/64              udpt0 198.18.80.2/24, fd00:80::2/64
//     └─ udptunnel.mjs ◀──── UDP datagrams over veth0 ────▶ udptunnel.mjs
//        198.19.0.1:7000  ◀──── MTU 1500 ────▶  198.19.0.2:7000
//
// Then: ping(8) from A to B over IPv4 and IPv6 through the tunnel (without ping(8), a UDP
// echo instead; under CI=true a missing ping is a failure), and a TCP transfer each way (A to
// a server in B, B to a server in A) with its SHA-256 checked at both ends. With --offload
// both ends run with a vnet header and the GSO/GRO engine. With --chaos it then crashes A's
// interface worker (SIGUSR2) during a third transfer: the supervisor restarts the interface,
// and the transfer must still complete with the right checksum.
// Exits 0 when all of it worked, 1 when something failed, 77 when it cannot run here.
//
//   sudo node examples/udptunnel/run.mjs [--offload] [--bytes N] [--chaos]
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Lab, check, finish, pingArgs, requirePrerequisites, transferAcrossCrash, usePing, waitForDad } from '../lib/lab.mjs';

requirePrerequisites('the udptunnel example');
const { values: opt } = parseArgs({
  options: {
    bytes: { type: 'string', default: String(5 * 1024 * 1024) },
    offload: { type: 'boolean', default: false },
    chaos: { type: 'boolean', default: false },
  },
});
const udptunnel = fileURLToPath(new URL('./udptunnel.mjs', import.meta.url));
const probe = fileURLToPath(new URL('../lib/probe.mjs', import.meta.url));

const lab = new Lab('udpt');
lab.trapSignals();

let ok = false;
try {
  const a = lab.netns('a');
  const b = lab.netns('b');
  lab.veth(a, '198.19.0.1/30', b, '198.19.0.2/30');
  console.log(`namespaces ${a} and ${b}, joined by veth0 198.19.0.1/30 <-> 198.19.0.2/30 (MTU 1500)${opt.offload ? '; both ends with --offload' : ''}`);

  const mode = opt.offload ? ['--offload'] : [];
  const endA = lab.node('A', a, udptunnel, ['--bind', '198.19.0.1:7000', '--peer', '198.19.0.2:7000', '--local', '198.18.80.1/24', '--local', 'fd00:80::1/64', ...mode]);
  const endB = lab.node('B', b, udptunnel, ['--bind', '198.19.0.2:7000', '--peer', '198.19.0.1:7000', '--local', '198.18.80.2/24', '--local', 'fd00:80::2/64', ...mode]);
  // A supervisor and its tun first: seconds on a busy machine.
  await Promise.all([endA.waitFor(/: up, tun/, 20_000), endB.waitFor(/: up, tun/, 20_000)]);
  await Promise.all([waitForDad(a, 'udpt0'), waitForDad(b, 'udpt0')]);
  const sinkB = lab.node('B sink', b, probe, ['tcp-sink', '--bind', '198.18.80.2:9000']);
  const sinkA = lab.node('A sink', a, probe, ['tcp-sink', '--bind', '[fd00:80::1]:9000']);
  await Promise.all([sinkA.waitFor(/listening/), sinkB.waitFor(/listening/)]);

  const ping = usePing();
  if (!ping) {
    const echo = lab.node('B echo', b, probe, ['udp-echo', '--port', '7']);
    await Promise.all([echo.waitFor(/udp4 port/), echo.waitFor(/udp6 port/)]);
  }
  /** A → `addr` through the tunnel: ping(8), or without it the UDP echo stand-in. */
  const reach = (addr, suffix = '') =>
    ping
      ? check(`ping ${addr}${suffix}`, lab.exec('A ping', a, 'ping', pingArgs(addr)))
      : check(`udp ping ${addr}${suffix}`, lab.node('A udp-ping', a, probe, ['udp-ping', '--to', addr.includes(':') ? `[${addr}]:7` : `${addr}:7`, '--count', '3']));
  await reach('198.18.80.2');
  await reach('fd00:80::2');
  await check(`tcp transfer of ${opt.bytes} bytes A -> B`, lab.node('A tcp-send', a, probe, ['tcp-send', '--to', '198.18.80.2:9000', '--bytes', opt.bytes]));
  await check(`tcp transfer of ${opt.bytes} bytes B -> A over IPv6`, lab.node('B tcp-send', b, probe, ['tcp-send', '--to', '[fd00:80::1]:9000', '--bytes', opt.bytes]));

  if (opt.chaos) {
    await transferAcrossCrash(lab, { ns: a, probe, end: endA, to: '198.18.80.2:9000', bytes: opt.bytes });
    await reach('198.18.80.2', ' after the restart');
  }
  ok = true;
} catch (err) {
  console.error(`FAILED: ${err.message}`);
} finally {
  await lab.cleanup();
}
finish('udptunnel', ok);
