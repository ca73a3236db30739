// Crash to serving, in a fresh process: `node bench/restartprobe.mjs N`. A supervised tun
// (198.18.84.1/24) answers ICMP echoes sent through its TuncerHandle; N times, its worker is
// crashed (injectFault('throw')) and the time until an echo sent through the same handle is
// answered again is measured. The pool is warm before each crash (a spare ready, as in a
// service that has been running). Prints one JSON line: {"restart":[ms, ...], "phases":{...}}:
// per restart, from the crash's injection, when the old instance's exit was seen (its thread
// gone, so its fd closed and the device unregistered), when the supervisor had the new
// instance running, and when the first echo was answered.
import { loadLib, loadIcmp } from './lib.mjs';
const { Supervisor, tuncerChild, warmWorkerPool, configureWorkerPool } = await loadLib();
configureWorkerPool?.({ spares: 1 });
const { buildIcmp4EchoRequest, parseIcmpEcho } = await loadIcmp();

const n = Number(process.argv[2] ?? 20);
const now = () => Number(process.hrtime.bigint()) / 1e6;
let startedAt = 0;
const sup = await Supervisor.start({
  observer: { next: (e) => e.type === 'child.started' && (startedAt = now()) },
  strategy: 'one_for_one',
  intensity: n + 5,
  period: 3600,
  children: [tuncerChild({ name: 'brs0', mode: 'tun', addresses: ['198.18.84.1/24'] })],
});
const tun = sup.child('brs0');
let seq = 0;
/** Send echoes through the handle until one is answered (each try bounded at 20 ms). */
async function served() {
  for (;;) {
    const id = ++seq & 0xffff;
    try {
      await tun.send(buildIcmp4EchoRequest({ src: '198.18.84.2', dst: '198.18.84.1', id: 7, seq: id }), AbortSignal.timeout(2000));
      const signal = AbortSignal.timeout(20);
      for (;;) {
        const e = parseIcmpEcho(await tun.recv({ signal }));
        if (e?.type === 'reply' && e.seq === id) return;
      }
    } catch {
      /* not serving yet (restarting, or the echo was lost with the old instance) */
    }
  }
}
const restart = [];
const phases = { exited: [], running: [] };
try {
  await served();
  for (let i = 0; i < n; i++) {
    await warmWorkerPool?.();
    const current = await sup.whenRunning('brs0');
    const t0 = now();
    await current.injectFault('throw');
    await current.exit;
    phases.exited.push(now() - t0);
    await sup.whenRunning('brs0');
    phases.running.push(startedAt - t0);
    await served();
    restart.push(now() - t0);
  }
  console.log(JSON.stringify({ restart, phases }));
} finally {
  await sup.stop();
}
process.exit(0);
