#!/usr/bin/env node
// Soak test of tunctl: create/destroy cycles across modes and options, injected worker
// crashes, terminate(), restart storms through supervisors, all while UDP and ICMP flood
// the interfaces; then checks that fds, devices, worker threads and memory came back.
//
//   node scripts/soak.mjs                      # full size (see DEFAULTS), as root
//   node scripts/soak.mjs --cycles 500 --lanes 4 --json /tmp/soak.json
//   node scripts/soak.mjs --help
//
// As root it builds dist/ (unless --no-build), then re-runs itself inside a private
// network and mount namespace (`unshare --net --mount`, sysfs mounted again), like
// scripts/test.mjs, so it never touches the host's network. Addresses: 198.18.0.0/15 only.
// test/integration/soak.test.ts runs the same engine (`runSoak`) at a reduced size.
import { spawnSync } from 'node:child_process';
import { readdirSync, existsSync, readFileSync, writeFileSync, readlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { createSocket } from 'node:dgram';
import v8 from 'node:v8';
import vm from 'node:vm';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Full size: what `node scripts/soak.mjs` runs with no flags. */
export const DEFAULTS = Object.freeze({
  cycles: 3000, // create → traffic → destroy (or un-persist), across 32 mode/option variants
  faults: 300, // injected worker crashes: 'throw', 'exit', 'hang' (then kill), in turn
  kills: 300, // kill() (worker.terminate()) in the middle of traffic
  storms: 300, // crashes injected into supervised interfaces (each answered by a restart)
  lanes: 8, // interfaces alive at once (one /24 each), plus 5 supervised ones
  burst: 8, // UDP datagrams per live subnet per flood tick (every 2 ms), and ICMP echoes per job
  rssBoundMiB: undefined, // allowed growth of RSS from start to end, after GC: default 64 MiB (see docs/RELIABILITY.md)
  rssTrendMiB: 64, // allowed growth of RSS from the peak of the first half of the run to the end, after GC
  heapBoundMiB: 16, // allowed growth of the JS heap (used) from start to end, after GC
  sampleEvery: 500, // create/destroy cycles between RSS samples (each after a GC)
  warmup: 30, // create/destroy cycles, one at a time, before the baseline is taken
});

const usage = `usage: node scripts/soak.mjs [--cycles N] [--faults N] [--kills N] [--storms N] [--lanes N]
                             [--burst N] [--rss-bound MiB] [--rss-trend MiB] [--sample-every N] [--warmup N] [--json FILE] [--no-build] [--quiet]
defaults: ${Object.entries(DEFAULTS).map(([k, v]) => `${k}=${v ?? '64×lanes'}`).join(' ')}`;

const threads = () => readdirSync('/proc/self/task').length;
const openFds = () => readdirSync('/proc/self/fd').length;
/** fd → what it refers to, for naming what leaked. */
function fdTable() {
  const t = new Map();
  for (const f of readdirSync('/proc/self/fd')) {
    try {
      t.set(f, readlinkSync(`/proc/self/fd/${f}`));
    } catch {
      /* the directory's own fd */
    }
  }
  return t;
}
const fdDiff = (a, b) => [...b].filter(([f, what]) => a.get(f) !== what).map(([f, what]) => `+${f} ${what}`).concat([...a].filter(([f, what]) => b.get(f) !== what).map(([f, what]) => `-${f} ${what}`));
const tunDevices = () => readdirSync('/sys/class/net').filter((d) => existsSync(`/sys/class/net/${d}/tun_flags`)).sort();
const devExists = (d) => existsSync(`/sys/class/net/${d}`);
const rssMiB = () => process.memoryUsage().rss / 2 ** 20;
const MiB = (n) => Number((n / 2 ** 20).toFixed(1));
function memory() {
  const m = process.memoryUsage();
  return { rss: MiB(m.rss), heapUsed: MiB(m.heapUsed), external: MiB(m.external), arrayBuffers: MiB(m.arrayBuffers) };
}

function getGc() {
  if (typeof globalThis.gc === 'function') return globalThis.gc;
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc');
}

/** Settle within `ms`, or reject with a "hung" error naming `what`. */
async function bounded(p, ms, what) {
  let timer;
  try {
    return await Promise.race([p, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms (hang)`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

async function until(cond, ms) {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) return false;
    await sleep(5);
  }
  return true;
}

/** The 32 mode/option combinations the cycles go through, in turn. */
const VARIANTS = [];
for (const mode of ['tun', 'tap'])
  for (const noPi of [true, false])
    for (const vnetHdr of [false, true])
      for (const multiQueue of [false, true])
        for (const persist of [false, true]) VARIANTS.push({ mode, noPi, vnetHdr, multiQueue, persist });

/**
 * Run the soak with the library `lib` ({ Tuncer, Supervisor, tuncerChild, tunctl, buildIcmp4EchoRequest }),
 * inside a private network namespace. Resolves with a report; `report.ok` is true when
 * every job ended as expected and nothing leaked.
 */
export async function runSoak(lib, options = {}, log = () => {}) {
  const o = { ...DEFAULTS, ...options };
  // The worker pool gives back what exited threads freed (malloc_trim after exits), so RSS
  // comes back to within a few tens of MiB of the start however many workers ran at once
  // (issue 14: at most 64 MiB over the full soak). The trend bound (rssTrendMiB) also holds.
  o.rssBoundMiB ??= 64;
  const { Tuncer, Supervisor, tuncerChild, tunctl, buildIcmp4EchoRequest } = lib;
  // The worker pool's spares are part of every count: compare them in its steady state (spares
  // booted, none booting, none let go still exiting), as test/helpers/kernel.ts does.
  const steady = lib.warmWorkerPool ?? (async () => {});
  const untilSteady = async (cond, ms) => {
    const deadline = Date.now() + ms;
    for (;;) {
      await steady();
      if (cond()) return true;
      if (Date.now() > deadline) return false;
      await sleep(20);
    }
  };
  const gc = getGc();
  const errors = [];
  const fail = (what) => {
    if (errors.length < 50) errors.push(what);
    log(`error: ${what}`);
  };
  const stats = {
    cycles: 0, variants: new Set(), faults: { throw: 0, exit: 0, hang: 0 }, kills: 0, persistCleanups: 0,
    storms: { injected: 0, restarts: 0, gaveUp: 0 }, udpSent: 0, icmpSent: 0, received: 0, sendRefused: 0,
  };
  const pid = process.pid % 1000;
  const started = Date.now();
  // Every interface object must be garbage collected once it has ended: count them.
  let made = 0;
  let collected = 0;
  const registry = new FinalizationRegistry(() => (collected += 1));
  const track = (t) => {
    made += 1;
    registry.register(t, undefined);
    return t;
  };

  // Warm-up: load the addon, start workers, start the libuv threadpool, before measuring.
  for (let i = 0; i < Math.max(1, o.warmup); i++) await (await Tuncer.create({ mode: 'tun' })).destroy();
  await import('node:fs/promises').then((fs) => fs.readFile('/proc/self/status'));
  await steady();
  await sleep(100);
  gc();
  await sleep(50);
  const base = { fds: openFds(), threads: threads(), devs: tunDevices(), rss: rssMiB(), memory: memory(), table: fdTable() };
  log(`baseline: ${base.fds} fds, ${base.threads} threads, ${base.devs.length} TUN/TAP devices, RSS ${base.rss.toFixed(1)} MiB`);
  let rssPeak = base.rss;

  // ---- the flood: UDP to every live subnet (unicast for a tun, broadcast for a tap) ----
  const live = new Map(); // subnet number → 'tun' | 'tap'
  const sock = createSocket('udp4');
  await new Promise((resolve) => sock.bind(0, '0.0.0.0', resolve));
  sock.setBroadcast(true);
  let seq = 0;
  const payload = Buffer.alloc(64);
  const flood = setInterval(() => {
    for (const [net, mode] of live) {
      for (let i = 0; i < o.burst; i++) {
        payload.writeUInt32BE(seq++ >>> 0, 0);
        const dst = mode === 'tap' ? `198.18.${net}.255` : `198.18.${net}.${2 + (seq % 250)}`;
        sock.send(payload, 9, dst, (err) => {
          if (!err) stats.udpSent += 1;
        });
      }
    }
  }, 2);

  /** An ICMP echo to the interface's own address, framed as this fd expects it. */
  function echo(v, net, n) {
    let p = buildIcmp4EchoRequest({ src: `198.18.${net}.2`, dst: `198.18.${net}.1`, id: net, seq: n & 0xffff });
    if (v.mode === 'tap') {
      const eth = Buffer.alloc(14, 0xff);
      eth.set([0x02, 0, 0, 0, 0, net & 0xff], 6);
      eth.writeUInt16BE(0x0800, 12);
      p = Buffer.concat([eth, p]);
    }
    if (v.vnetHdr) p = Buffer.concat([Buffer.alloc(10), p]);
    if (!v.noPi) p = Buffer.concat([Buffer.from([0, 0, 0x08, 0x00]), p]);
    return p;
  }

  /** Remove a persistent device left by a crash: re-attach with matching flags and un-persist. */
  function unpersist(name, v) {
    const h = tunctl.create(name, { mode: v.mode, multiQueue: v.multiQueue });
    tunctl.persist(h.fd, false);
    tunctl.close(h.fd);
    stats.persistCleanups += 1;
  }

  // ---- one lane: jobs one after another on its own subnet ----
  const jobs = [];
  for (let i = 0; i < o.cycles; i++) jobs.push('cycle');
  for (let i = 0; i < o.faults; i++) jobs.push(['throw', 'exit', 'hang'][i % 3]);
  for (let i = 0; i < o.kills; i++) jobs.push('kill');
  // Interleave the kinds so faults and kills happen all along, not at the end.
  for (let i = jobs.length - 1; i > 0; i--) {
    const j = (i * 7919) % (i + 1);
    [jobs[i], jobs[j]] = [jobs[j], jobs[i]];
  }
  let next = 0;
  let jobNo = 0;
  const samples = []; // RSS after GC every `sampleEvery` cycles

  async function lane(net) {
    for (;;) {
      const kind = jobs[next++];
      if (kind === undefined) return;
      const n = jobNo++;
      const v = VARIANTS[n % VARIANTS.length];
      const name = `sk${pid}l${net}j${n}`.slice(0, 15);
      try {
        await job(kind, v, net, name, n);
      } catch (err) {
        fail(`job ${n} (${kind}, ${JSON.stringify(v)}): ${err?.message ?? err}`);
      }
      live.delete(net);
      if (!(await until(() => !devExists(name), 3000))) {
        fail(`job ${n} (${kind}): device ${name} still exists after the interface ended`);
        try {
          unpersist(name, v);
        } catch {
          /* reported */
        }
      }
      if (kind === 'cycle' && stats.cycles >= (samples.length + 1) * o.sampleEvery) {
        gc();
        const rss = rssMiB();
        rssPeak = Math.max(rssPeak, rss);
        samples.push({ cycle: stats.cycles, job: n + 1, rss });
        log(`${stats.cycles} cycles (${n + 1}/${jobs.length} jobs, ${stats.storms.injected} supervised crashes), ${stats.received} packets received, RSS ${rss.toFixed(1)} MiB after GC (${(rss - base.rss >= 0 ? '+' : '') + (rss - base.rss).toFixed(1)}), ${threads()} threads`);
      }
    }
  }

  async function job(kind, v, net, name, n) {
    const opts = { name, ...v, addresses: [`198.18.${net}.1/24`], active: true, txqueuelen: 2000, timeoutMs: 10_000 };
    const t = track(await bounded(Tuncer.create(opts), 15_000, `create ${name}`));
    const queues = [t];
    if (v.multiQueue) queues.push(track(await bounded(Tuncer.create({ ...opts, addresses: [] }), 15_000, `second queue of ${name}`)));
    for (const q of queues) q.packets$.subscribe({ next: () => (stats.received += 1), error: () => {} });
    stats.variants.add(n % VARIANTS.length);
    live.set(net, v.mode);
    for (let i = 0; i < o.burst; i++) {
      if (t.trySend(echo(v, net, n * 64 + i))) stats.icmpSent += 1;
      else stats.sendRefused += 1;
    }
    // The flood goes on through the end of the interface (destroy, crash or kill) below.
    await sleep(2 + (n % 15));

    if (kind === 'cycle') {
      stats.cycles += 1;
      // Persistent: un-persist through the interface half the time, by re-attaching after destroy the other half.
      if (v.persist && n % 2 === 0) await bounded(t.persist(false), 5000, `persist(false) ${name}`);
      for (const q of queues) await bounded(q.destroy(), 5000, `destroy ${name}`);
      const reason = await t.exit;
      if (reason !== 'normal') fail(`job ${n}: destroy ended with ${reason}`);
      if (v.persist && n % 2 === 1) {
        if (!devExists(name)) fail(`job ${n}: persistent ${name} vanished on destroy`);
        unpersist(name, v);
      }
      return;
    }
    if (kind === 'kill') {
      stats.kills += 1;
      await bounded(t.kill(), 5000, `kill ${name}`);
      if ((await t.exit) !== 'killed') fail(`job ${n}: kill ended with ${await t.exit}`);
    } else {
      stats.faults[kind] += 1;
      await bounded(t.injectFault(kind), 5000, `injectFault(${kind}) ${name}`);
      if (kind === 'hang') {
        await sleep(5);
        await bounded(t.kill(), 5000, `kill of a hung ${name}`);
      }
      const reason = await bounded(t.exit, 5000, `exit after ${kind} ${name}`);
      if (kind === 'hang' ? reason !== 'killed' : !(reason instanceof Error)) fail(`job ${n}: ${kind} ended with ${reason}`);
    }
    for (const q of queues.slice(1)) await bounded(q.destroy(), 5000, `destroy queue ${name}`);
    if (v.persist) unpersist(name, v);
  }

  // ---- restart storms through two supervisors ----
  async function storm() {
    if (o.storms <= 0) return;
    const sups = [];
    const mk = async (strategy, nets) => {
      const restarts = new Map();
      const sup = await Supervisor.start({
        strategy,
        intensity: o.storms * 4 + 10,
        period: 1,
        children: nets.map((net) => tuncerChild({ id: `c${net}`, name: `sv${pid}n${net}`, mode: 'tun', addresses: [`198.18.${net}.1/24`], active: true, shutdown: 2000 })),
        observer: {
          next: (e) => {
            if (e.type === 'child.started' && e.restart) {
              restarts.set(e.id, (restarts.get(e.id) ?? 0) + 1);
              stats.storms.restarts += 1;
            }
            if (e.type === 'supervisor.max_intensity') stats.storms.gaveUp += 1;
          },
        },
      });
      for (const net of nets) {
        sup.child(`c${net}`).packets$.subscribe({ next: () => (stats.received += 1), error: () => {} });
        live.set(net, 'tun');
      }
      sups.push(sup);
      return { sup, nets, restarts };
    };
    const seen = new WeakSet();
    const a = await mk('one_for_one', [200, 201, 202]);
    const b = await mk('one_for_all', [203, 204]);
    for (let i = 0; i < o.storms; i++) {
      const { sup, nets, restarts } = i % 3 === 2 ? b : a;
      const id = `c${nets[i % nets.length]}`;
      const before = restarts.get(id) ?? 0;
      const t = await bounded(sup.whenRunning(id), 15_000, `whenRunning ${id}`);
      if (!seen.has(t)) {
        seen.add(t);
        track(t);
      }
      const how = ['throw', 'exit', 'kill'][i % 3];
      stats.storms.injected += 1;
      if (how === 'kill') await bounded(t.kill(), 5000, `kill supervised ${id}`);
      else await bounded(t.injectFault(how), 5000, `injectFault supervised ${id}`);
      if (!(await until(() => (restarts.get(id) ?? 0) > before, 15_000))) fail(`storm ${i}: ${id} was not restarted`);
      // Every few crashes, a burst: crash all children of the one_for_one supervisor at once.
      if (i % 25 === 24) {
        const all = await Promise.all(a.nets.map((net) => bounded(a.sup.whenRunning(`c${net}`), 15_000, 'whenRunning')));
        await Promise.all(all.map((c) => c.injectFault('throw')));
        stats.storms.injected += all.length;
      }
    }
    for (const { sup, nets } of [a, b]) {
      await bounded(sup.stop(), 15_000, 'supervisor stop');
      for (const net of nets) live.delete(net);
    }
  }

  const lanes = Array.from({ length: o.lanes }, (_, i) => lane(i + 1));
  const results = await Promise.allSettled([...lanes, storm()]);
  for (const r of results) if (r.status === 'rejected') fail(`runner: ${r.reason?.message ?? r.reason}`);
  clearInterval(flood);
  await new Promise((resolve) => sock.close(resolve));

  // ---- what is left ----
  const settled = await untilSteady(() => openFds() === base.fds && threads() === base.threads && tunDevices().join() === base.devs.join(), 10_000);
  for (let i = 0; i < 5 && collected < made; i++) {
    gc();
    await sleep(100);
  }
  gc();
  // The pool gives exited threads' memory back within a second of the last exit (malloc_trim).
  await sleep(1200);
  const end = { fds: openFds(), threads: threads(), devs: tunDevices(), rss: rssMiB(), memory: memory() };
  rssPeak = Math.max(rssPeak, end.rss);
  const leftDevs = end.devs.filter((d) => !base.devs.includes(d));
  const leaks = {
    fds: end.fds - base.fds,
    fdsChanged: fdDiff(base.table, fdTable()).slice(0, 40),
    threads: end.threads - base.threads,
    devices: leftDevs,
    rssGrowthMiB: Number((end.rss - base.rss).toFixed(1)),
    // Leak-sensitive: a per-job leak grows RSS between the middle and the end; allocator
    // retention after a concurrency peak does not.
    rssAfterFirstHalfMiB: Number((end.rss - Math.max(base.rss, ...samples.filter((x) => x.cycle <= o.cycles / 2).map((x) => x.rss))).toFixed(1)),
    heapGrowthMiB: Number((end.memory.heapUsed - base.memory.heapUsed).toFixed(1)),
    interfacesNotCollected: made - collected,
  };
  const ok = errors.length === 0 && settled && leaks.fds === 0 && leaks.threads === 0 && leftDevs.length === 0 && leaks.rssGrowthMiB <= o.rssBoundMiB && leaks.rssAfterFirstHalfMiB <= o.rssTrendMiB && leaks.heapGrowthMiB <= o.heapBoundMiB && leaks.interfacesNotCollected === 0 && stats.storms.gaveUp === 0;
  return {
    ok,
    options: o,
    durationS: Number(((Date.now() - started) / 1000).toFixed(1)),
    cycles: stats.cycles,
    variantsCovered: stats.variants.size,
    faults: stats.faults,
    kills: stats.kills,
    persistentCleanups: stats.persistCleanups,
    storms: stats.storms,
    packets: { udpSent: stats.udpSent, icmpSent: stats.icmpSent, received: stats.received, trySendRefused: stats.sendRefused },
    interfaces: { made, collected },
    baseline: { fds: base.fds, threads: base.threads, devices: base.devs.length, rssMiB: Number(base.rss.toFixed(1)), memory: base.memory },
    end: { fds: end.fds, threads: end.threads, devices: end.devs.length, rssMiB: Number(end.rss.toFixed(1)), rssPeakMiB: Number(rssPeak.toFixed(1)), memory: end.memory },
    leaks,
    rssSamples: samples.map((x) => [x.cycle, Number(x.rss.toFixed(1))]),
    env: { MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? null, spares: lib.workerPoolSpares ?? null },
    errors,
  };
}

// ---------------------------------------------------------------- command line

function parseArgs(argv) {
  const o = {};
  const flags = { build: true, quiet: false, json: undefined };
  const names = { '--cycles': 'cycles', '--faults': 'faults', '--kills': 'kills', '--storms': 'storms', '--lanes': 'lanes', '--burst': 'burst', '--rss-bound': 'rssBoundMiB', '--rss-trend': 'rssTrendMiB', '--sample-every': 'sampleEvery', '--warmup': 'warmup' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') {
      console.log(usage);
      process.exit(0);
    } else if (a === '--no-build') flags.build = false;
    else if (a === '--quiet') flags.quiet = true;
    else if (a === '--json') flags.json = argv[++i];
    else if (a in names) {
      const n = Number(argv[++i]);
      if (!Number.isInteger(n) || n < 0 || (a === '--lanes' && (n < 1 || n > 64)) || (a === '--sample-every' && n < 1)) {
        console.error(`${a} needs a non-negative integer${a === '--lanes' ? ' from 1 to 64' : a === '--sample-every' ? ' of at least 1' : ''}\n${usage}`);
        process.exit(2);
      }
      o[names[a]] = n;
    } else {
      console.error(`unknown argument ${a}\n${usage}`);
      process.exit(2);
    }
  }
  return { o, flags };
}

async function main() {
  const argv = process.argv.slice(2);
  const { o, flags } = parseArgs(argv);
  if (process.env.TUNCTL_SOAK_INSIDE !== '1') {
    if (process.getuid?.() !== 0) {
      console.error('soak: run as root: it creates devices inside a private network namespace it makes with unshare(1)');
      process.exit(2);
    }
    if (flags.build) {
      const b = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { stdio: 'inherit', cwd: root });
      if (b.status !== 0) process.exit(b.status ?? 1);
    }
    const r = spawnSync(
      'unshare',
      ['--net', '--mount', '--propagation', 'private', '--', 'sh', '-c', 'mount -t sysfs sysfs /sys && ip link set lo up && exec "$@"', 'sh', process.execPath, '--expose-gc', fileURLToPath(import.meta.url), ...argv],
      { stdio: 'inherit', env: { ...process.env, TUNCTL_SOAK_INSIDE: '1', TUNCTL_SOAK_HOST_NETNS: readlinkSync('/proc/self/ns/net') } },
    );
    if (r.error) throw r.error;
    process.exit(r.status ?? 1);
  }
  if (process.env.TUNCTL_SOAK_HOST_NETNS === readlinkSync('/proc/self/ns/net')) {
    console.error('soak: refusing to run in the host network namespace');
    process.exit(2);
  }
  const dist = (p) => pathToFileURL(join(root, 'dist', p)).href;
  const { Tuncer, Supervisor, tuncerChild, tunctl, warmWorkerPool, configureWorkerPool } = await import(dist('index.js'));
  if (process.env.TUNCTL_SOAK_SPARES !== undefined) configureWorkerPool({ spares: Number(process.env.TUNCTL_SOAK_SPARES) });
  const { buildIcmp4EchoRequest } = await import(dist('packet/icmpEcho.js'));
  const log = flags.quiet ? () => {} : (line) => console.log(`[soak ${new Date().toISOString().slice(11, 19)}] ${line}`);
  const { workerPool } = await import(dist('actors/workerPool.js'));
  const report = await runSoak({ Tuncer, Supervisor, tuncerChild, tunctl, buildIcmp4EchoRequest, warmWorkerPool, workerPoolSpares: workerPool.spares }, o, log);
  if (flags.json) writeFileSync(flags.json, `${JSON.stringify(report, null, 2)}\n`);
  const r = report;
  console.log(
    [
      `soak ${r.ok ? 'PASSED' : 'FAILED'} in ${r.durationS} s (node ${process.version}, ${readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim()})`,
      `  cycles: ${r.cycles} create/destroy across ${r.variantsCovered} mode/option variants (${r.persistentCleanups} persistent devices un-persisted)`,
      `  worker crashes: ${r.faults.throw} throw, ${r.faults.exit} exit, ${r.faults.hang} hang+kill; kill(): ${r.kills}`,
      `  supervised: ${r.storms.injected} crashes injected, ${r.storms.restarts} restarts, ${r.storms.gaveUp} give-ups`,
      `  packets: ${r.packets.udpSent} UDP + ${r.packets.icmpSent} ICMP sent, ${r.packets.received} received by interfaces`,
      `  fds ${r.baseline.fds} → ${r.end.fds}, threads ${r.baseline.threads} → ${r.end.threads}, devices ${r.baseline.devices} → ${r.end.devices}`,
      `  interface objects: ${r.interfaces.made} made, ${r.interfaces.collected} garbage-collected`,
      `  RSS after GC ${r.baseline.rssMiB} → ${r.end.rssMiB} MiB (growth ${r.leaks.rssGrowthMiB} MiB, bound ${r.options.rssBoundMiB}; ` +
        `${r.leaks.rssAfterFirstHalfMiB} MiB over the first half's peak, bound ${r.options.rssTrendMiB}; peak ${r.end.rssPeakMiB} MiB)`,
      `  RSS every ${r.options.sampleEvery} cycles (after GC): ${r.rssSamples.map(([c, m]) => `${c}: ${m}`).join(', ')} MiB (MALLOC_ARENA_MAX ${r.env.MALLOC_ARENA_MAX ?? 'unset'}, ${r.env.spares} spare${r.env.spares === 1 ? '' : 's'})`,
      `  JS heap ${r.baseline.memory.heapUsed} → ${r.end.memory.heapUsed} MiB, array buffers ${r.baseline.memory.arrayBuffers} → ${r.end.memory.arrayBuffers} MiB`,
      ...(r.leaks.fds !== 0 ? [`  fds that differ: ${r.leaks.fdsChanged.join(', ')}`] : []),
      ...(r.errors.length ? ['  errors:', ...r.errors.map((e) => `    ${e}`)] : []),
    ].join('\n'),
  );
  process.exit(r.ok ? 0 : 1);
}

if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
