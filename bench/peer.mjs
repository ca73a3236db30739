// peer scenario: the rx drain scenario for another Node TUN library a user might pick instead
// (@xiaobaidadada/node-tuntap2-wintun, the maintained fork of tuntap2), against a Tuncer active
// reader measured in the same run. The peer cannot attach to an existing device, so each side
// reads its own tun: N datagrams are queued on it by c/udpflood while nobody reads, then
// reading the queue empty is timed.
import { scenario, args, sh, shq, child, bin, devStat, sleep, BENCH } from './lib.mjs';
import { join } from 'node:path';

const OURS = 'bpr0';
const opts = args();
const N = opts.n ?? 100_000;
const PAYLOADS = opts.payloads ?? [64, 1400];
let peerDev = '';

async function flood(dst, payload, n) {
  return child(bin('udpflood'), [dst, '9', String(payload), String(n)]).json(120_000);
}

await scenario(
  async (out) => {
    sh('ip', 'tuntap', 'add', 'dev', OURS, 'mode', 'tun');
    sh('ip', 'link', 'set', OURS, 'txqueuelen', '500000', 'up');
    sh('ip', 'addr', 'add', '198.18.83.1/24', 'dev', OURS);
    for (const payload of PAYLOADS) {
      // ours: a Tuncer active reader, attached by name
      const r = child(process.execPath, [join(BENCH, 'rxreader.mjs'), 'active', OURS, String(N), 'drain']);
      await r.ready(30_000);
      const d0 = devStat(OURS, 'tx_dropped');
      const s1 = await flood('198.18.83.2', payload, N);
      await sleep(100);
      const queued = s1.sent - (devStat(OURS, 'tx_dropped') - d0);
      r.send('go');
      const a = await r.json(120_000);
      await r.exited();
      out.metrics.push({ id: `peer.drain.${payload}.active`, value: a.packets / (a.ns / 1e9), unit: 'pps', extra: { packets: a.packets, expected: queued } });

      // theirs
      const p = child(process.execPath, [join(BENCH, 'peerreader.mjs'), String(N)]);
      peerDev = (await p.json(30_000)).name;
      await p.ready(30_000);
      const pd0 = devStat(peerDev, 'tx_dropped');
      const s2 = await flood('198.18.82.2', payload, N);
      await sleep(100);
      const pqueued = s2.sent - (devStat(peerDev, 'tx_dropped') - pd0);
      p.send('go');
      const b = await p.json(120_000);
      await p.exited();
      out.metrics.push({ id: `peer.drain.${payload}.peer`, value: b.packets / (b.ns / 1e9), unit: 'pps', extra: { packets: b.packets, expected: pqueued, stalled: b.stalled } });
      if (b.packets !== pqueued) out.notes.push(`peer.drain.${payload}.peer: read ${b.packets} of ${pqueued} queued`);
    }
  },
  () => {
    shq('ip', 'link', 'del', OURS);
    if (peerDev) shq('ip', 'link', 'del', peerDev);
  },
);
