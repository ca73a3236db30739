// rx scenario: packets/s taken off a tun.
//  drain: with a reader attached but idle, bench/c/udpflood fills the device queue
//         (txqueuelen 500000) with N datagrams to 198.18.80.2; then the reader is told to go
//         and reading the queue empty is timed.
//  flood: the reader runs while the flood is sent; rate from its first packet to its last.
// Two more C readers bound what a Node reader can reach (information rows): c2t, a reader
// thread and a consuming thread joined by a ring like tunctl's (bench/c/rxdrain2t.c), and
// curing, 16 reads per io_uring_enter (bench/c/rxdrainuring.c).
// One repetition of every reader per run; bench/run.mjs repeats runs and takes medians.
import { scenario, args, sh, shq, child, bin, devStat, sleep, BENCH } from './lib.mjs';
import { join } from 'node:path';

const DEV = 'brx0';
const opts = args();
const N = opts.n ?? 200_000;
const WARM = opts.warm ?? 20_000; // an untimed first flood: the Node readers' JIT warms up
const PAYLOADS = opts.payloads ?? [64, 1400];
const DRAIN_READERS = opts.readers ?? ['c', 'c2t', 'curing', 'read', 'batch', 'passive', 'active', 'tuncerBatch'];
const FLOOD_READERS = opts.floodReaders ?? ['c', 'passive', 'active'];

function spawnReader(kind, expect, mode, warm = 0) {
  const a = [DEV, String(expect), mode, ...(warm ? [String(warm)] : [])];
  if (kind === 'c') return child(bin('rxdrain'), a);
  if (kind === 'c2t') return child(bin('rxdrain2t'), a); // C with tunctl's two threads and ring
  if (kind === 'curing') return child(bin('rxdrainuring'), a); // C reading through io_uring
  return child(process.execPath, [join(BENCH, 'rxreader.mjs'), kind, ...a]);
}

async function flood(payload, n) {
  const f = child(bin('udpflood'), ['198.18.80.2', '9', String(payload), String(n)]);
  return f.json(120_000);
}

await scenario(
  async (out) => {
    sh('ip', 'tuntap', 'add', 'dev', DEV, 'mode', 'tun');
    sh('ip', 'link', 'set', DEV, 'txqueuelen', '500000', 'up');
    sh('ip', 'addr', 'add', '198.18.80.1/24', 'dev', DEV);
    for (const payload of PAYLOADS) {
      for (const kind of DRAIN_READERS) {
        const r = spawnReader(kind, N, 'drain', WARM);
        await r.ready(30_000);
        if (WARM) {
          await flood(payload, WARM);
          await sleep(50);
          r.send('warm');
          await r.json(60_000);
        }
        const drop0 = devStat(DEV, 'tx_dropped');
        const tx0 = devStat(DEV, 'tx_packets');
        const sent = await flood(payload, N);
        await sleep(100);
        const dropped = devStat(DEV, 'tx_dropped') - drop0;
        const queued = sent.sent - dropped;
        r.send('go');
        const res = await r.json(120_000);
        await r.exited();
        const read = devStat(DEV, 'tx_packets') - tx0;
        const id = `rx.drain.${payload}.${kind}`;
        out.metrics.push({
          id, value: res.packets / (res.ns / 1e9), unit: 'pps',
          extra: { packets: res.packets, expected: queued, kernelDrops: dropped, readByKernel: read, preRead: res.preRead ?? 0, ms: res.ns / 1e6 },
        });
        if (res.packets !== queued) out.notes.push(`${id}: read ${res.packets} of ${queued} queued (${dropped} dropped by the kernel)`);
        if (dropped > 0) out.notes.push(`${id}: kernel dropped ${dropped} of ${sent.sent}`);
      }
      if (opts.flood === false) continue;
      for (const kind of FLOOD_READERS) {
        const r = spawnReader(kind, N, 'flood');
        await r.ready(30_000);
        r.send('go');
        await sleep(50);
        const drop0 = devStat(DEV, 'tx_dropped');
        const sent = await flood(payload, N);
        const res = await r.json(120_000);
        await r.exited();
        const dropped = devStat(DEV, 'tx_dropped') - drop0;
        out.metrics.push({
          id: `rx.flood.${payload}.${kind}`, value: res.packets / (res.ns / 1e9), unit: 'pps',
          extra: { packets: res.packets, sent: sent.sent, kernelDrops: dropped, senderPps: sent.sent / (sent.ns / 1e9) },
        });
      }
    }
  },
  () => shq('ip', 'link', 'del', DEV),
);
