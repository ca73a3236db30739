// One footprint measurement in a fresh process: `node --expose-gc bench/footprintprobe.mjs K`.
// Creates K idle tun Tuncers one after another (timing each create until ready, each with a
// warm spare worker: the pool is warmed, untimed, before each), measures the resident set
// before and after (the pool's spare counted in "after"), then destroys them (timing each).
// Then, for comparison with destroy, K plain tun fds made with tunctl in this thread and
// closed (timing each close(): the kernel unregisters the device there). Prints one JSON line.
import { loadLib, settledRss, sleep } from './lib.mjs';
const { Tuncer, warmWorkerPool, configureWorkerPool, tunctl } = await loadLib();
configureWorkerPool?.({ spares: 1 });

const k = Number(process.argv[2]);
const settle = settledRss;
const now = () => Number(process.hrtime.bigint()) / 1e6;

const rss0 = await settle();
const tuns = [];
const create = [];
const destroy = [];
try {
  for (let i = 0; i < k; i++) {
    await warmWorkerPool?.();
    const t0 = now();
    tuns.push(await Tuncer.create({ name: `bfp${i}`, mode: 'tun' }));
    create.push(now() - t0);
  }
  await sleep(300);
  const rss1 = await settle();
  for (const t of tuns.splice(0)) {
    const t0 = now();
    await t.destroy();
    destroy.push(now() - t0);
  }
  const rss2 = await settle();
  const kernelClose = [];
  for (let i = 0; i < k; i++) {
    const { fd } = tunctl.create(`bfp${i}`, { mode: 'tun' });
    const t0 = now();
    tunctl.close(fd);
    kernelClose.push(now() - t0);
  }
  console.log(JSON.stringify({ k, rss0, rss1, rss2, perIfMB: (rss1 - rss0) / k / 2 ** 20, create, destroy, kernelClose }));
} finally {
  await Promise.allSettled(tuns.map((t) => t.destroy()));
}
process.exit(0);
