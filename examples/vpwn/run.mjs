#!/usr/bin/env node
// The vpwn example end to end, in two private network namespaces made (and removed) here:
//
//   ns A                                            ns B
//   vpwn0 198.18.50.1/24, fd00:50::1/64             vpwn0 198.18.50.2/24, fd00:50::2/64
//     └─ vpwn.mjs --connect ─── TCP over veth0 ───▶ vpwn.mjs --listen
//        198.19.0.1/30  ◀──────────────────────▶  198.19.0.2/30
//
// Then: ping(8) from A to B over IPv4 and IPv6 through the tunnel (without ping(8), a UDP
// echo instead; under CI=true a missing ping is a failure), and a 5 MB TCP transfer from A to
// a server on 198.18.50.2 with its SHA-256 checked. With --chaos it then crashes A's
// interface worker (SIGUSR2) in the middle of a second transfer: the supervisor restarts the
// interface, TCP retransmits what was lost, and the transfer must still complete with the
// right checksum; then a ping again. With --offload both ends run `vpwn.mjs --offload`: TSO
// super-packets cross the tunnel whole (4-byte framing).
// Exits 0 when all of it worked, 1 when something failed, 77 when it cannot run here.
//
//   sudo node examples/vpwn/run.mjs [--bytes N] [--chaos] [--offload]
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Lab, check, finish, pingArgs, requirePrerequisites, transferAcrossCrash, usePing, waitForDad } from '../lib/lab.mjs';

requirePrerequisites('the vpwn example');
const { values: opt } = parseArgs({ options: { bytes: { type: 'string', default: String(5 * 1024 * 1024) }, chaos: { type: 'boolean', default: false }, offload: { type: 'boolean', default: false } } });
const mode = opt.offload ? ['--offload'] : [];
const vpwn = fileURLToPath(new URL('./vpwn.mjs', import.meta.url));
const probe = fileURLToPath(new URL('../lib/probe.mjs', import.meta.url));

const lab = new Lab('vpwn');
lab.trapSignals();

let ok = false;
try {
  const a = lab.netns('a');
  const b = lab.netns('b');
  lab.veth(a, '198.19.0.1/30', b, '198.19.0.2/30');
  console.log(`namespaces ${a} and ${b}, joined by veth0 198.19.0.1/30 <-> 198.19.0.2/30`);

  const endB = lab.node('B', b, vpwn, ['--listen', '198.19.0.2:7000', '--local', '198.18.50.2/24', '--local', 'fd00:50::2/64', '--name', 'vpwn0', ...mode]);
  await endB.waitFor(/listening on/, 20_000); // a supervisor and its tun first: seconds on a busy machine
  const endA = lab.node('A', a, vpwn, ['--connect', '198.19.0.2:7000', '--local', '198.18.50.1/24', '--local', 'fd00:50::1/64', '--name', 'vpwn0', ...mode]);
  await Promise.all([endA.waitFor(/connected to/, 20_000), endB.waitFor(/connected to/, 20_000)]);

  // On a tun (IFF_NOARP) duplicate address detection ends at once, but from a kernel
  // workqueue: on a busy machine an IPv6 address can still be tentative for a moment after
  // the interface is ready, and an echo request to it is dropped meanwhile.
  await Promise.all([waitForDad(a, 'vpwn0'), waitForDad(b, 'vpwn0')]);
  const sink = lab.node('B sink', b, probe, ['tcp-sink', '--bind', '198.18.50.2:9000']);
  await sink.waitFor(/listening/);

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
  await reach('198.18.50.2');
  await reach('fd00:50::2');
  await check(`tcp transfer of ${opt.bytes} bytes`, lab.node('A tcp-send', a, probe, ['tcp-send', '--to', '198.18.50.2:9000', '--bytes', opt.bytes]));

  if (opt.chaos) {
    await transferAcrossCrash(lab, { ns: a, probe, end: endA, to: '198.18.50.2:9000', bytes: opt.bytes });
    await reach('198.18.50.2', ' after the restart');
  }
  ok = true;
} catch (err) {
  console.error(`FAILED: ${err.message}`);
} finally {
  await lab.cleanup();
}
finish('vpwn', ok);
