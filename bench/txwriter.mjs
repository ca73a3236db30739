// A Node writer for the tx scenario, with the same line protocol as bench/c/txwrite.c:
//   node bench/txwriter.mjs KIND IFNAME COUNT PAYLOAD
// KIND: write (tunctl.write loop on an fd), tuncer (Tuncer.trySend, `await send` when the ring
// is full) or sendBatch (Tuncer.sendBatch of CHUNK packets at a time, one wake-up of the worker
// per call, `await sendAll(rest)` when the ring is full). Timed until the kernel has taken all
// COUNT packets (the device's rx_packets counter, since a packet written into a tun is received
// by the device).
import { createInterface } from 'node:readline';
import { readFileSync } from 'node:fs';
import { loadLib, loadUdp } from './lib.mjs';
const { tunctl, Tuncer } = await loadLib();
const { buildUdp4 } = await loadUdp();

const [kind, ifname, countArg, payloadArg] = process.argv.slice(2);
const count = Number(countArg);
const pkt = buildUdp4({ src: '198.18.80.2', dst: '198.18.80.1', srcPort: 40000, dstPort: 9000, payload: Buffer.alloc(Number(payloadArg), 0xab) });
const rxPackets = () => Number(readFileSync(`/sys/class/net/${ifname}/statistics/rx_packets`, 'utf8'));
const now = () => process.hrtime.bigint();
const go = new Promise((resolve) => {
  const rl = createInterface({ input: process.stdin });
  rl.once('line', () => {
    rl.close();
    resolve();
  });
});

if (kind === 'write') {
  const { fd } = tunctl.create(ifname, { mode: 'tun' });
  console.log('ready');
  await go;
  let errors = 0;
  const t0 = now();
  for (let i = 0; i < count; i++) {
    try {
      tunctl.write(fd, pkt);
    } catch {
      errors++;
    }
  }
  const ns = now() - t0;
  console.log(JSON.stringify({ packets: count - errors, errors, ns: Number(ns) }));
  tunctl.close(fd);
  process.exit(0);
}

const tun = await Tuncer.create({ name: ifname, mode: 'tun' });
console.log('ready');
await go;
const base = rxPackets();
const t0 = now();
let full = 0;
if (kind === 'tuncer') {
  for (let i = 0; i < count; i++) {
    if (!tun.trySend(pkt)) {
      full++;
      await tun.send(pkt);
    }
  }
} else if (kind === 'sendBatch') {
  const CHUNK = 256;
  const chunk = new Array(CHUNK).fill(pkt);
  for (let left = count; left > 0; ) {
    const list = left >= CHUNK ? chunk : chunk.slice(0, left);
    const taken = tun.sendBatch(list);
    if (taken < list.length) {
      full++;
      await tun.sendAll(list.slice(taken));
    }
    left -= list.length;
  }
} else {
  throw new Error(`unknown writer ${kind}`);
}
const queued = now() - t0;
// Bounded wait for the worker to hand everything to the kernel (10 s at most).
const deadline = Date.now() + 10_000;
while (rxPackets() - base < count && Date.now() < deadline) await new Promise((r) => setImmediate(r));
const ns = now() - t0;
const st = await tun.stats();
console.log(JSON.stringify({ packets: rxPackets() - base, errors: st.txErrors, ns: Number(ns), queuedNs: Number(queued), ringFull: full }));
await tun.destroy();
process.exit(0);
