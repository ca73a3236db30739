#!/usr/bin/env node
// The br example end to end, in private network namespaces made (and removed) here:
//
//   ns n1: brport0 198.18.60.1/24 fd00:60::1/64 ─┐
//   ns n2: brport0 198.18.60.2/24 fd00:60::2/64 ─┼── br.mjs (in ns sw): a learning switch of taps
//   ns n3: brport0 198.18.60.3/24 fd00:60::3/64 ─┘
//
// br.mjs creates each tap directly inside its namespace (the `netns` option) and switches
// frames between them. Once every port's IPv6 addresses are past duplicate address
// detection, n1 reaches n2 and n3 with ping(8), and n2 reaches n3, over IPv4 and IPv6: ARP
// requests and IPv6 neighbour solicitations are flooded, the replies and the rest go out of
// one port. Without ping(8) a UDP echo stands in (under CI=true a missing ping is a failure).
// Exits 0 when all of it worked, 1 when something failed, 77 when it cannot run here.
//
//   sudo node examples/br/run.mjs [--ports 3]
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Lab, check, finish, pingArgs, requirePrerequisites, usePing, waitForDad } from '../lib/lab.mjs';

requirePrerequisites('the br example');
const { values: opt } = parseArgs({ options: { ports: { type: 'string', default: '3' } } });
const n = Number(opt.ports);
if (!Number.isInteger(n) || n < 2 || n > 250) {
  console.error('--ports is 2 to 250');
  process.exit(2);
}
const br = fileURLToPath(new URL('./br.mjs', import.meta.url));
const probe = fileURLToPath(new URL('../lib/probe.mjs', import.meta.url));

const lab = new Lab('br');
lab.trapSignals();

let ping = false;

async function reach(from, fromNs, to) {
  for (const [addr, target] of [[`198.18.60.${to}`, `198.18.60.${to}:7`], [`fd00:60::${to}`, `[fd00:60::${to}]:7`]]) {
    if (ping) await check(`ping ${addr} from n${from}`, lab.exec(`n${from} ping`, fromNs, 'ping', pingArgs(addr)));
    else await check(`udp ping ${addr} from n${from}`, lab.node(`n${from} udp-ping`, fromNs, probe, ['udp-ping', '--to', target, '--count', '3']));
  }
}

let ok = false;
try {
  const sw = lab.netns('sw');
  const hosts = [];
  for (let i = 1; i <= n; i++) hosts.push(lab.netns(`n${i}`));
  console.log(`switch in ${sw}; hosts ${hosts.join(', ')}`);

  const ports = hosts.flatMap((ns, i) => ['--port', `${ns}=198.18.60.${i + 1}/24,fd00:60::${i + 1}/64`]);
  const sw0 = lab.node('br', sw, br, [...ports, '--verbose']);
  // One tap after another, each a worker thread made in its namespace: on a busy machine a
  // few seconds each.
  await sw0.waitFor(/switching between/, 10_000 + 3_000 * n);

  // A tap does duplicate address detection: until it is done, the IPv6 addresses are
  // tentative and a ping may leave from ::1 and never be answered. Wait it out (the
  // switch carries the probes).
  const dad = await Promise.all(hosts.map((ns) => waitForDad(ns, 'brport0')));
  console.log(`IPv6 addresses usable (duplicate address detection done in ${Math.max(...dad)} ms)`);

  ping = usePing();
  if (!ping) {
    const echoes = hosts.slice(1).map((ns, i) => lab.node(`n${i + 2} echo`, ns, probe, ['udp-echo', '--port', '7']));
    await Promise.all(echoes.flatMap((e) => [e.waitFor(/udp4 port/), e.waitFor(/udp6 port/)]));
  }

  for (let to = 2; to <= n; to++) await reach(1, hosts[0], to);
  if (n >= 3) await reach(2, hosts[1], 3);
  ok = true;
} catch (err) {
  console.error(`FAILED: ${err.message}`);
} finally {
  await lab.cleanup();
}
finish('br', ok);
