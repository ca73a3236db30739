// forward scenario: one TCP stream (bench/c/tcpblast, fixed time) from network namespace bfa
// (198.18.90.1 on tun fwa) to bfb (198.18.90.2 on tun fwb) through a userspace forwarder that
// joins the two tuns: C (bench/c/fwd, a thread per direction) vs Tuncer (bench/forwarder.mjs,
// batches() -> sendAll per direction), plain and with vnetHdr + TSO offloads (super-packets
// passed through whole).
import { scenario, args, sh, shq, child, bin, BENCH } from './lib.mjs';
import { join } from 'node:path';

const opts = args();
const TXQ = opts.txqueuelen ?? 10_000; // the default 500 tail-drops TSO bursts: TCP then measures its loss recovery, not the forwarder
const SECS = opts.secs ?? (opts.quick ? 2 : 4);
const VARIANTS = opts.variants ?? ['plain', 'vnet'];
const FORWARDERS = opts.forwarders ?? ['c', 'tuncer'];
const hosts = [
  { ns: 'bfa', dev: 'fwa', addr: '198.18.90.1/24' },
  { ns: 'bfb', dev: 'fwb', addr: '198.18.90.2/24' },
];
const nsx = (ns, ...cmd) => sh('ip', 'netns', 'exec', ns, ...cmd);

await scenario(
  async (out) => {
    for (const h of hosts) {
      sh('ip', 'netns', 'add', h.ns);
      nsx(h.ns, 'ip', 'link', 'set', 'lo', 'up');
      nsx(h.ns, 'sh', '-c', 'echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6; echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6');
      nsx(h.ns, 'ip', 'tuntap', 'add', 'dev', h.dev, 'mode', 'tun');
      nsx(h.ns, 'ip', 'link', 'set', h.dev, 'txqueuelen', String(TXQ), 'up');
      nsx(h.ns, 'ip', 'addr', 'add', h.addr, 'dev', h.dev);
    }
    const fargs = ['/run/netns/bfa', 'fwa', '/run/netns/bfb', 'fwb'];
    let port = 5201;
    for (const variant of VARIANTS) {
      for (const kind of FORWARDERS) {
        const vnet = variant === 'vnet' ? '1' : '0';
        const f = kind === 'c' ? child(bin('fwd'), [...fargs, vnet]) : child(process.execPath, [join(BENCH, 'forwarder.mjs'), ...fargs, vnet]);
        await f.ready(30_000);
        port++;
        const rx = child('ip', ['netns', 'exec', 'bfb', bin('tcpblast'), 'recv', '198.18.90.2', String(port)]);
        await rx.ready(10_000);
        const tx = child('ip', ['netns', 'exec', 'bfa', bin('tcpblast'), 'send', '198.18.90.2', String(port), String(SECS)]);
        const res = await rx.json(SECS * 1000 + 30_000);
        await tx.exited();
        f.proc.stdin.end();
        await Promise.race([f.exited(), new Promise((r) => setTimeout(r, 3000))]);
        f.kill();
        out.metrics.push({ id: `forward.${variant}.${kind}`, value: res.gbps, unit: 'Gb/s', extra: { bytes: res.bytes, ms: res.ns / 1e6 } });
      }
    }
  },
  () => {
    for (const h of hosts) shq('ip', 'netns', 'del', h.ns);
  },
);
