// A Node reader for the rx scenario, with the same line protocol as bench/c/rxdrain.c:
//   node bench/rxreader.mjs KIND IFNAME EXPECT drain|flood
// KIND: read (tunctl.read loop), batch (tunctl.readBatch into a BatchBuffer), passive (Tuncer
// recv loop), active (Tuncer packets$ subscriber), tuncerBatch (Tuncer batches() loop, counting
// with batch.length / batch.bytes). It attaches to the persistent tun, prints "ready", waits for
// a line on stdin, reads, and prints {"packets","bytes","ns","preRead"}. The batch readers count
// from the batch's own figures: no Buffer or array per packet.
import { loadLib, stdinLines } from './lib.mjs';
const { tunctl, Tuncer } = await loadLib();

const [kind, ifname, expectArg, mode = 'drain', warmArg] = process.argv.slice(2);
const warm = Number(warmArg ?? 0); // with WARM, a first line drains WARM packets untimed (JIT warm-up)
const expect = Number(expectArg);
const flood = mode === 'flood';
const now = () => process.hrtime.bigint();

const nextLine = stdinLines();
let go = nextLine();

function report(packets, bytes, ns, extra = {}) {
  process.stdout.write(JSON.stringify({ packets, bytes, ns: Number(ns), ...extra }) + '\n');
}

if (kind === 'read' || kind === 'batch') {
  const { fd } = tunctl.create(ifname, { mode: 'tun' });
  // readBatch into a caller-owned buffer: packets stay in buf.data, indexed by offset/length.
  const buf = kind === 'batch' ? new tunctl.BatchBuffer(256) : undefined;
  console.log('ready');
  await go;
  if (warm) {
    let w = 0;
    while (w < warm) {
      const got = kind === 'read' ? (tunctl.read(fd) ? 1 : 0) : tunctl.readBatch(fd, 256, buf);
      if (got === 0) break;
      w += got;
    }
    console.log(JSON.stringify({ warm: w }));
    await nextLine();
  }
  let count = 0;
  let bytes = 0;
  const t0 = now();
  if (kind === 'read') {
    while (count < expect) {
      const p = tunctl.read(fd);
      if (p === null) break;
      count++;
      bytes += p.length;
    }
  } else {
    while (count < expect) {
      const n = tunctl.readBatch(fd, 256, buf);
      if (n === 0) break;
      count += n;
      for (let i = 0; i < n; i++) bytes += buf.lengthOf(i);
    }
  }
  report(count, bytes, now() - t0);
  tunctl.close(fd);
  rl.close();
  process.exit(0);
}

const tun = await Tuncer.create({ name: ifname, mode: 'tun' });
console.log('ready');
await go;
if (warm) {
  let w = 0;
  // A warm-up that stops making progress says so on stderr (the scenario's error shows it),
  // with the interface's counters: read from the fd (rxPackets) vs handed to the loop.
  let wSeen = -1;
  const warmGuard = setInterval(async () => {
    if (w === wSeen) process.stderr.write(`${kind} warm-up stalled at ${w} of ${warm}: ${JSON.stringify(await tun.stats().catch(String))}\n`);
    wSeen = w;
  }, 5000);
  if (kind === 'passive') while (w < warm) (await tun.recv(), w++);
  else if (kind === 'tuncerBatch') {
    for await (const batch of tun.batches({ max: 1024 })) if ((w += batch.length) >= warm) break;
  } else {
    await new Promise((resolve) => {
      const sub = tun.packets$.subscribe(() => {
        if (++w >= warm) {
          sub.unsubscribe();
          tun.setopt({ active: false });
          resolve();
        }
      });
      tun.setopt({ active: true });
    });
  }
  clearInterval(warmGuard);
  console.log(JSON.stringify({ warm: w }));
  await nextLine();
}
const preRead = (await tun.stats()).rxPackets;
let count = 0;
let bytes = 0;
let first = 0n;
let last = 0n;
let stalled = false;
// Stop by itself: no progress for 2 s (10 s before the first packet) ends the read.
let seen = -1;
const watchdog = setInterval(() => {
  if (count === seen && (count > 0 || Number(now() - t0) > 10e9)) {
    stalled = true;
    void tun.destroy();
  }
  seen = count;
}, 2000);
const t0 = now();
if (kind === 'passive') {
  try {
    while (count < expect) {
      const p = await tun.recv();
      if (count === 0) first = now();
      count++;
      bytes += p.length;
    }
  } catch {
    /* destroyed by the watchdog */
  }
  last = now();
} else if (kind === 'tuncerBatch') {
  // Each batch is a view into the rx ring, released when the loop asks for the next one; the
  // watchdog's destroy() ends the loop (batches() returns when the interface ends).
  try {
    for await (const batch of tun.batches({ max: 1024 })) {
      if (count === 0) first = now();
      count += batch.length;
      bytes += batch.bytes;
      if (count >= expect) break;
    }
  } catch {
    /* destroyed by the watchdog */
  }
  last = now();
} else if (kind === 'active') {
  await new Promise((resolve) => {
    const sub = tun.packets$.subscribe({
      next: (p) => {
        if (count === 0) first = now();
        count++;
        bytes += p.length;
        if (count >= expect) {
          last = now();
          sub.unsubscribe();
          resolve();
        }
      },
      error: resolve,
      complete: resolve,
    });
    tun.setopt({ active: true });
  });
  if (last === 0n) last = now();
} else {
  throw new Error(`unknown reader ${kind}`);
}
clearInterval(watchdog);
const stats = await tun.stats().catch(() => undefined);
report(count, bytes, flood ? last - first : last - t0, { preRead, stalled, rxPauses: stats?.rxPauses });
await tun.destroy();
process.exit(0);
