#!/usr/bin/env node
// The br example end to end, in private network namespaces made (and removed) here:
//
//   ns n1: brport0 198.18.60.1/24 fd00:60::1/64 ─┐
//   ns n2: brport0 198.18.60.2/24 fd00:60::2/64 ─┼── br.mjs (in ns sw): a learning switch of taps
//   ns n3: brport0 198.18.60.3/24 fd00:60::3/64 ─┘
//
// br.mjs creates each tap directly inside its namespace (the `netns` option) and switches
// frames between them. Then n1 reaches n2 and n3 (ping, or a UDP echo without ping(8)),
// and n2 reaches n3, over IPv4 and IPv6: ARP requests and IPv6 neighbour solicitations
// are flooded, the replies and the rest go out of one port.
// Exits 0 when all of it worked, 1 when something failed, 77 when it cannot run here.
//
//   sudo node examples/br/run.mjs [--ports 3]
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Lab, hasPing, requirePrerequisites } from '../lib/lab.mjs';

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

async function check(what, proc) {
  const code = await proc.result();
  if (code !== 0) throw new Error(`${what} failed (exit code ${code})`);
  console.log(`ok: ${what}`);
}

async function reach(from, fromNs, to) {
  for (const [addr, target] of [[`198.18.60.${to}`, `198.18.60.${to}:7`], [`fd00:60::${to}`, `[fd00:60::${to}]:7`]]) {
    if (hasPing()) await check(`ping ${addr} from n${from}`, lab.exec(`n${from} ping`, fromNs, 'ping', ['-c', '3', '-i', '0.2', '-W', '2', addr]));
    await check(`udp ping ${addr} from n${from}`, lab.node(`n${from} udp-ping`, fromNs, probe, ['udp-ping', '--to', target, '--count', '3']));
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
  await sw0.waitFor(/switching between/);

  const echoes = hosts.slice(1).map((ns, i) => lab.node(`n${i + 2} echo`, ns, probe, ['udp-echo', '--port', '7']));
  await Promise.all(echoes.flatMap((e) => [e.waitFor(/udp4 port/), e.waitFor(/udp6 port/)]));
  if (!hasPing()) console.log('ping(8) is not installed (apt-get install iputils-ping): using a UDP echo instead');

  for (let to = 2; to <= n; to++) await reach(1, hosts[0], to);
  if (n >= 3) await reach(2, hosts[1], 3);
  ok = true;
} catch (err) {
  console.error(`FAILED: ${err.message}`);
} finally {
  await lab.cleanup();
}
console.log(ok ? 'br example: all checks passed' : 'br example: FAILED');
process.exit(ok ? 0 : 1);
