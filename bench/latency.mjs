// latency scenario: UDP round trips through a userspace reflector on a tun. A client socket
// bound on 198.18.81.1 (bench/c/udpping) sends 64-byte datagrams to 198.18.81.2:7, routed into
// the tun; the reflector swaps addresses and ports and writes the packet back. p50/p99 of
// COUNT round trips after a warm-up, C reflector (bench/c/reflect) vs a Tuncer reflector
// (active mode, bench/reflector.mjs), and, for information, the floor reflector
// (bench/floorreflector.mjs: Node and the addon's read/write, no library logic), which says
// how much of the gap to C is Node's own. For each reflector, in order:
//
// 1. back to back: COUNT round trips, each sent as soon as the previous echo is back
//    (latency.<kind>.{p50,p99,mean});
// 2. idle CPU: the interface is up and receives nothing for IDLE_MS; the reflector process's
//    CPU time over that window (every thread, from /proc/<pid>/task/*/schedstat), in % of one
//    core (idle.cpu.<kind>);
// 3. with pauses: IDLE_COUNT round trips with PAUSE_MS (50 ms) between them, so that each one
//    finds the reflector idle: the cold wake-up of issue #12 (latency.<kind>.idle.{p50,p99,mean}).
import { scenario, args, sh, shq, child, bin, BENCH, sleep } from './lib.mjs';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const DEV = 'blat0';
const opts = args();
const COUNT = opts.count ?? (opts.quick ? 3000 : 5000);
const IDLE_COUNT = opts.idleCount ?? (opts.quick ? 100 : 200);
const PAUSE_MS = opts.pauseMs ?? 50;
const IDLE_MS = opts.idleMs ?? 2000;
const REFLECTORS = opts.reflectors ?? ['c', 'floor', 'tuncer'];

/** CPU time (ns) of every thread of process `pid` so far: { total, threads: { "tid comm": ns } }. */
function cpuTime(pid) {
  const threads = {};
  let total = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const ns = Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      const comm = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      threads[`${tid} ${comm}`] = ns;
      total += ns;
    } catch {
      /* the thread ended meanwhile */
    }
  }
  return { total, threads };
}

/** % of one core that process `pid` used over the next `ms` ms, and its busiest threads. */
async function idleCpu(pid, ms) {
  const t0 = process.hrtime.bigint();
  const before = cpuTime(pid);
  await sleep(ms);
  const after = cpuTime(pid);
  const wall = Number(process.hrtime.bigint() - t0);
  const busiest = Object.entries(after.threads)
    .map(([t, ns]) => [t, ns - (before.threads[t] ?? 0)])
    .sort((a, b) => b[1] - a[1])
    .slice(0, 4)
    .map(([t, ns]) => `${t}: ${((100 * ns) / wall).toFixed(3)} %`);
  return { pct: (100 * (after.total - before.total)) / wall, wallMs: wall / 1e6, busiest };
}

function roundTrips(count, warmup, pauseUs) {
  return child(bin('udpping'), ['198.18.81.1', '198.18.81.2', '7', String(count), '64', String(warmup), String(pauseUs)]);
}

await scenario(
  async (out) => {
    sh('ip', 'tuntap', 'add', 'dev', DEV, 'mode', 'tun');
    sh('ip', 'link', 'set', DEV, 'up');
    sh('ip', 'addr', 'add', '198.18.81.1/24', 'dev', DEV);
    for (const kind of REFLECTORS) {
      const r = kind === 'c' ? child(bin('reflect'), [DEV]) : child(process.execPath, [join(BENCH, kind === 'floor' ? 'floorreflector.mjs' : 'reflector.mjs'), DEV]);
      await r.ready(30_000);
      const res = await roundTrips(COUNT, 500, 0).json(120_000);
      if (!res.n) throw new Error(`no echo through the ${kind} reflector (${res.lost} lost)`);
      for (const q of ['p50', 'p99', 'mean']) out.metrics.push({ id: `latency.${kind}.${q}`, value: res[q], unit: 'us', extra: { n: res.n, lost: res.lost, min: res.min } });
      if (res.lost) out.notes.push(`latency.${kind}: ${res.lost} round trips lost`);

      // Right after the traffic stops: whatever the reflector still does (spinning, timers) counts.
      const cpu = await idleCpu(r.proc.pid, IDLE_MS);
      out.metrics.push({ id: `idle.cpu.${kind}`, value: cpu.pct, unit: '%', extra: { wallMs: Math.round(cpu.wallMs), busiest: cpu.busiest } });

      const idle = await roundTrips(IDLE_COUNT, 10, PAUSE_MS * 1000).json(IDLE_COUNT * (PAUSE_MS + 1000) + 30_000);
      if (!idle.n) throw new Error(`no echo through the ${kind} reflector with pauses (${idle.lost} lost)`);
      for (const q of ['p50', 'p99', 'mean']) out.metrics.push({ id: `latency.${kind}.idle.${q}`, value: idle[q], unit: 'us', extra: { n: idle.n, lost: idle.lost, min: idle.min, pauseMs: PAUSE_MS } });
      if (idle.lost) out.notes.push(`latency.${kind}.idle: ${idle.lost} round trips lost`);

      r.proc.stdin.end();
      r.kill();
      await r.exited();
    }
  },
  () => shq('ip', 'link', 'del', DEV),
);
