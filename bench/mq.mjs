// mq scenario: multi-queue rx (issue 17). A persistent IFF_MULTI_QUEUE tun; bench/c/udpflows
// sends 16 UDP flows of 64 B into it (routed to 198.18.82.2).
//  drain: with the reader's queues attached but idle, the flood fills the kernel's per-queue
//         rings (txqueuelen 500000); then the reader is told to go, and reading every queue
//         empty is timed. Readers: c (bench/c/rxdrainmq, one thread per queue) and tuncerBatch
//         (a Tuncer with `queues`, batches() loop), each with 1 and 2 queues, in the same run:
//         rx.drain.64.mq{1,2}.{c,tuncerBatch}, and rx.drain.64.mq2.scaling = mq2 / mq1 tuncerBatch.
//  order: a 2-queue Tuncer reads while 1 M datagrams of 16 flows are sent; no flow may be
//         reordered (seq numbers in the payload): rx.order.mq2.reordered (count, must be 0).
//  The kernel puts a flow on a queue by a hash of its 5-tuple with a seed drawn at boot, so how
//  16 flows split over 2 queues is luck (11/5 caps 2 queues at 16/11 = 1.45 x one). The
//  scenario first picks a source port whose 16 flows split 8/8 (or the most even of 32 tried),
//  and every flood of the run uses it: C and Tuncer read the same split, and the scaling
//  figure measures the reader, not the hash. The split used is in the figures' extra.
//  memory: resident memory of an idle Tuncer with 4 queues, per queue (a fresh process):
//         footprint.mq.rssPerQueue.4.
import { scenario, args, sh, shq, child, bin, devStat, sleep, BENCH } from './lib.mjs';
import { join } from 'node:path';

const DEV = 'bmq0';
const opts = args();
const N = opts.n ?? 200_000;
const WARM = opts.warm ?? 20_000;
const ORDER_N = opts.orderN ?? (opts.quick ? 200_000 : 1_000_000);
const FLOWS = 16;
const PAYLOAD = 64;
const QUEUES = opts.queues ?? [1, 2];
const READERS = opts.readers ?? ['c', 'tuncerBatch'];

function spawnReader(kind, queues, expect, mode, warm = 0) {
  const a = [DEV, String(expect), String(queues), ...(kind === 'c' ? [] : [mode]), ...(warm ? [String(warm)] : [])];
  if (kind === 'c') return child(bin('rxdrainmq'), a);
  return child(process.execPath, [join(BENCH, 'mqreader.mjs'), ...a]);
}

let srcPort = 40000;
const flood = (n) => child(bin('udpflows'), ['198.18.82.2', '20000', String(FLOWS), String(PAYLOAD), String(n), String(srcPort)]).json(300_000);

/** Packets per queue of a 2-queue C drain of `n` datagrams sent from `port`. */
async function split(port, n) {
  srcPort = port;
  const r = spawnReader('c', 2, n, 'drain');
  await r.ready(30_000);
  await flood(n);
  await sleep(30);
  r.send('go');
  const res = await r.json(60_000);
  await r.exited();
  return res.perQueue;
}

/** A source port whose flows split most evenly over 2 queues. */
async function evenPort() {
  let best = { port: 40000, worst: Infinity, perQueue: [] };
  for (let port = 40000; port < 40032; port++) {
    const perQueue = await split(port, FLOWS * 10);
    const worst = Math.max(...perQueue);
    if (worst < best.worst) best = { port, worst, perQueue };
    if (worst <= (FLOWS * 10) / 2) break;
  }
  srcPort = best.port;
  return best;
}

await scenario(
  async (out) => {
    sh('ip', 'tuntap', 'add', 'dev', DEV, 'mode', 'tun', 'multi_queue');
    sh('ip', 'link', 'set', DEV, 'txqueuelen', '500000', 'up');
    sh('ip', 'addr', 'add', '198.18.82.1/24', 'dev', DEV);
    const even = opts.srcPort ? { port: (srcPort = opts.srcPort), perQueue: 'given' } : await evenPort();
    out.notes.push(`16 flows from source port ${even.port}: per queue of 2 ${JSON.stringify(even.perQueue)} (of ${FLOWS * 10})`);
    const pps = {};
    for (const q of QUEUES) {
      for (const kind of READERS) {
        const r = spawnReader(kind, q, N, 'drain', WARM);
        await r.ready(30_000);
        if (WARM) {
          await flood(WARM);
          await sleep(50);
          r.send('warm');
          await r.json(60_000);
        }
        const drop0 = devStat(DEV, 'tx_dropped');
        const sent = await flood(N);
        await sleep(100);
        const dropped = devStat(DEV, 'tx_dropped') - drop0;
        const queued = sent.sent - dropped;
        r.send('go');
        const res = await r.json(120_000);
        await r.exited();
        const id = `rx.drain.${PAYLOAD}.mq${q}.${kind}`;
        pps[id] = res.packets / (res.ns / 1e9);
        out.metrics.push({ id, value: pps[id], unit: 'pps', extra: { packets: res.packets, expected: queued, kernelDrops: dropped, perQueue: res.perQueue, ms: res.ns / 1e6 } });
        if (res.packets !== queued) out.notes.push(`${id}: read ${res.packets} of ${queued} queued (${dropped} dropped by the kernel)`);
      }
    }
    const one = pps[`rx.drain.${PAYLOAD}.mq1.tuncerBatch`];
    const two = pps[`rx.drain.${PAYLOAD}.mq2.tuncerBatch`];
    if (one && two) out.metrics.push({ id: `rx.drain.${PAYLOAD}.mq2.scaling`, value: two / one, unit: 'x' });

    if (opts.order !== false) {
      const r = spawnReader('tuncerBatch', 2, ORDER_N, 'order');
      await r.ready(30_000);
      r.send('go');
      await sleep(50);
      const drop0 = devStat(DEV, 'tx_dropped');
      const sent = await flood(ORDER_N);
      const res = await r.json(120_000);
      await r.exited();
      const dropped = devStat(DEV, 'tx_dropped') - drop0;
      out.metrics.push({
        id: 'rx.order.mq2.reordered', value: res.reordered, unit: 'packets',
        extra: { packets: res.packets, sent: sent.sent, kernelDrops: dropped, gaps: res.gaps, flows: res.flows, perQueue: res.perQueue, pps: res.packets / (res.ns / 1e9) },
      });
      if (res.flows !== FLOWS) out.notes.push(`rx.order.mq2: saw ${res.flows} of ${FLOWS} flows`);
    }

    if (opts.memory !== false) {
      const p = child(process.execPath, ['--expose-gc', join(BENCH, 'mqprobe.mjs'), '4']);
      const res = await p.json(120_000);
      out.metrics.push({ id: 'footprint.mq.rssPerQueue.4', value: res.perQueueMB, unit: 'MB', extra: res });
    }
  },
  () => {
    shq('ip', 'link', 'del', DEV);
    shq('ip', 'link', 'del', 'bmqm0');
  },
);
