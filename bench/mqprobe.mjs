// Memory of an idle multi-queue interface, in a fresh process: `node --expose-gc bench/mqprobe.mjs Q`.
// Resident set before and after creating one idle tun Tuncer with Q queues (the worker pool's
// spare counted in both), per queue. Prints one JSON line.
import { loadLib, settledRss, sleep } from './lib.mjs';
const { Tuncer, warmWorkerPool, configureWorkerPool } = await loadLib();
configureWorkerPool?.({ spares: 1 });

const q = Number(process.argv[2]);
const settle = settledRss;
await warmWorkerPool?.();
const rss0 = await settle();
const t = await Tuncer.create({ name: 'bmqm0', mode: 'tun', queues: q, addresses: ['198.18.83.1/24'] });
await sleep(300);
const rss1 = await settle();
await t.destroy();
const rss2 = await settle();
console.log(JSON.stringify({ queues: q, rss0MB: rss0 / 2 ** 20, rss1MB: rss1 / 2 ** 20, rss2MB: rss2 / 2 ** 20, perQueueMB: (rss1 - rss0) / q / 2 ** 20 }));
process.exit(0);
