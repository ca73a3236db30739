// footprint scenario: resident memory per idle Tuncer (1, 16 and 64 interfaces, each count in
// a fresh process, the worker pool's spare counted), create-to-ready (with a warm spare) and
// destroy latency (p50/p99 over all those interfaces), and crash-to-serving of a supervised
// interface (bench/restartprobe.mjs).
import { scenario, args, child, percentile, shq, BENCH } from './lib.mjs';
import { join } from 'node:path';

const opts = args();
const COUNTS = opts.counts ?? [1, 16, 64];

await scenario(
  async (out) => {
    const create = [];
    const destroy = [];
    const kernelClose = [];
    for (const k of COUNTS) {
      const p = child(process.execPath, ['--expose-gc', join(BENCH, 'footprintprobe.mjs'), String(k)]);
      const res = await p.json(300_000);
      out.metrics.push({ id: `footprint.rssPerIf.${k}`, value: res.perIfMB, unit: 'MB', extra: { rssBeforeMB: res.rss0 / 2 ** 20, rssAfterMB: res.rss1 / 2 ** 20, rssDestroyedMB: res.rss2 / 2 ** 20 } });
      create.push(...res.create);
      destroy.push(...res.destroy);
      kernelClose.push(...(res.kernelClose ?? []));
    }
    kernelClose.sort((a, b) => a - b);
    create.sort((a, b) => a - b);
    destroy.sort((a, b) => a - b);
    out.metrics.push({ id: 'footprint.create.p50', value: percentile(create, 0.5), unit: 'ms', extra: { n: create.length } });
    out.metrics.push({ id: 'footprint.create.p99', value: percentile(create, 0.99), unit: 'ms' });
    // kernelCloseP50: close() of a plain tun fd in the main thread, the kernel's unregistration alone.
    out.metrics.push({ id: 'footprint.destroy.p50', value: percentile(destroy, 0.5), unit: 'ms', extra: { kernelCloseP50: kernelClose.length ? percentile(kernelClose, 0.5) : undefined } });
    out.metrics.push({ id: 'footprint.destroy.p99', value: percentile(destroy, 0.99), unit: 'ms' });
    // Crash to serving: a supervised tun's worker crashes; until an echo through its handle is answered.
    const r = child(process.execPath, [join(BENCH, 'restartprobe.mjs'), String(opts.restarts ?? 20)]);
    const { restart, phases } = await r.json(300_000);
    restart.sort((a, b) => a - b);
    const p50 = (a) => (a?.length ? percentile([...a].sort((x, y) => x - y), 0.5) : undefined);
    out.metrics.push({ id: 'footprint.restart.p50', value: percentile(restart, 0.5), unit: 'ms', extra: { n: restart.length, exitedP50: p50(phases?.exited), runningP50: p50(phases?.running) } });
    out.metrics.push({ id: 'footprint.restart.p99', value: percentile(restart, 0.99), unit: 'ms' });
  },
  () => {
    for (let i = 0; i < 64; i++) shq('ip', 'link', 'del', `bfp${i}`);
    shq('ip', 'link', 'del', 'brs0');
  },
);
