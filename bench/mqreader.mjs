// The Node reader of the mq scenario, with the line protocol of bench/c/rxdrainmq.c:
//   node bench/mqreader.mjs IFNAME EXPECT QUEUES drain|order [WARM]
// It attaches a Tuncer with QUEUES queues to the persistent multi-queue tun, prints "ready",
// waits for a line on stdin, then reads passively with batches() (views, no copy):
//  drain: until EXPECT packets or the queues are empty for 2 s; prints {"packets","bytes","ns"}.
//  order: while a sender runs, until EXPECT packets or 2 s of silence; checks that within each
//         flow (bench/c/udpflows: flow and seq in the first 8 payload bytes) every seq is higher
//         than the one before; prints {"packets","reordered","gaps","flows","ns"}.
import { loadLib, stdinLines } from './lib.mjs';
const { Tuncer } = await loadLib();

const [ifname, expectArg, queuesArg, mode = 'drain', warmArg] = process.argv.slice(2);
const expect = Number(expectArg);
const queues = Number(queuesArg);
const warm = Number(warmArg ?? 0);
const now = () => process.hrtime.bigint();

const nextLine = stdinLines();

const tun = await Tuncer.create({ name: ifname, mode: 'tun', multiQueue: true, queues });
console.log('ready');
await nextLine();
if (warm) {
  let w = 0;
  for await (const batch of tun.batches({ max: 1024 })) if ((w += batch.length) >= warm) break;
  console.log(JSON.stringify({ warm: w }));
  await nextLine();
}

let count = 0;
let bytes = 0;
let seen = -1;
let first = 0n;
// Stop by itself: no progress for 2 s (10 s before the first packet) ends the read.
const t0 = now();
const watchdog = setInterval(() => {
  if (count === seen && (count > 0 || Number(now() - t0) > 10e9)) void tun.destroy();
  seen = count;
}, 2000);

const u32 = (d, i) => ((d[i] << 24) | (d[i + 1] << 16) | (d[i + 2] << 8) | d[i + 3]) >>> 0;
const last = new Float64Array(4096).fill(-1);
let reordered = 0;
let gaps = 0;
let last0 = now();
try {
  for await (const batch of tun.batches({ max: 1024 })) {
    if (count === 0) first = now();
    count += batch.length;
    bytes += batch.bytes;
    if (mode === 'order') {
      const d = batch.data;
      for (let i = 0; i < batch.length; i++) {
        const at = batch.offset(i);
        // IPv4 (IHL 5) + UDP: payload at 28.
        if (batch.lengthOf(i) < 36 || d[at] !== 0x45 || d[at + 9] !== 17) continue;
        const f = u32(d, at + 28);
        const s = u32(d, at + 32);
        if (f >= last.length) continue;
        if (s <= last[f]) reordered += 1;
        else if (s !== last[f] + 1) gaps += 1;
        last[f] = s;
      }
    }
    last0 = now();
    if (count >= expect) break;
  }
} catch {
  /* destroyed by the watchdog */
}
const end = mode === 'order' ? last0 : now();
clearInterval(watchdog);
const stats = await tun.stats().catch(() => undefined);
const flows = mode === 'order' ? last.filter((x) => x >= 0).length : undefined;
process.stdout.write(
  JSON.stringify({ packets: count, bytes, ns: Number(end - (mode === 'order' ? first : t0)), reordered, gaps, flows, perQueue: stats?.queues?.map((q) => q.rxPackets) }) + '\n',
);
await tun.destroy();
process.exit(0);
