#!/usr/bin/env node
// The tunctl benchmark: `node bench/run.mjs [--quick] [--only rx,tx,...] [--repeat N] [--opts JSON] [--use-dist]` (`--help`: all flags)
// Run as root. It builds the C references (bench/c/*.c -> bench/bin/), re-executes itself in a
// private network + mount namespace (unshare --net --mount), runs every scenario as a child
// process several times, prints a table and writes bench/results.json. See bench/README.md.
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync, readFileSync, rmSync, copyFileSync } from 'node:fs';
import { cpus, release } from 'node:os';
import { join } from 'node:path';
import { BENCH, BIN } from './lib.mjs';

const ROOT = join(BENCH, '..');
const argv = process.argv.slice(2);
const flag = (name) => argv.includes(name);
const value = (name) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const quick = flag('--quick');
const ALL = ['rx', 'tx', 'latency', 'footprint', 'forward', 'peer', 'offload', 'mq', 'vpwn', 'tunnel'];
const USAGE = `usage: node bench/run.mjs [--quick] [--only ${ALL.join(',')}] [--repeat N] [--opts JSON] [--use-dist]
  --quick      shorter scenarios, 3 runs each (default 5)
  --only LIST  these scenarios only (default: all of them, about 25 minutes)
  --repeat N   runs of each scenario
  --opts JSON  scenario options, e.g. '{"n":50000}'
  --use-dist   measure dist/ as it is, not a fresh snapshot of src/
See bench/README.md.`;
const WITH_VALUE = ['--only', '--repeat', '--opts'];
const unknown = argv.find((a, i) => a.startsWith('-') && !['--quick', '--use-dist', ...WITH_VALUE].includes(a) && !WITH_VALUE.includes(argv[i - 1] ?? ''));
if (flag('--help') || flag('-h')) {
  console.log(USAGE);
  process.exit(0);
}
if (unknown) {
  // A full run takes about 25 minutes: a mistyped flag must not start one.
  console.error(`bench: unknown option ${unknown}\n${USAGE}`);
  process.exit(2);
}
const only = (value('--only')?.split(',') ?? ALL).filter(Boolean);
const extra = JSON.parse(value('--opts') ?? '{}'); // scenario options, e.g. '{"n":50000,"flood":false}'
const repeat = Number(value('--repeat') ?? (quick ? 3 : 5));
for (const s of only) if (!ALL.includes(s)) throw new Error(`unknown scenario ${s}; known: ${ALL.join(', ')}`);

if (process.env.TUNCTL_BENCH_NS !== '1') {
  // ---- outside: checks, build, then re-exec in private namespaces ----
  if (process.getuid?.() !== 0) {
    console.error('bench: run as root (it creates tun devices and network namespaces)');
    process.exit(1);
  }
  mkdirSync(BIN, { recursive: true });
  const env = { ...process.env, TUNCTL_BENCH_NS: '1' };
  if (!flag('--use-dist')) {
    // A private build of the library for this run, so that others rebuilding dist/ meanwhile
    // cannot change (or half-write) what is measured.
    const pkg = join(BIN, 'pkg');
    rmSync(pkg, { recursive: true, force: true });
    try {
      execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json', '--outDir', join(pkg, 'dist')], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      mkdirSync(join(pkg, 'build', 'Release'), { recursive: true });
      copyFileSync(join(ROOT, 'build', 'Release', 'tunctl.node'), join(pkg, 'build', 'Release', 'tunctl.node'));
      env.TUNCTL_BENCH_DIST = join(pkg, 'dist');
    } catch (err) {
      console.error(`bench: could not build a snapshot of src/ (${String(err.stdout ?? err).split('\n')[0]}); using dist/`);
    }
  }
  if (!env.TUNCTL_BENCH_DIST && !existsSync(join(ROOT, 'dist', 'index.js'))) {
    console.error('bench: dist/ is missing; run `npx tsc -p tsconfig.build.json` first');
    process.exit(1);
  }
  if (only.includes('peer')) installPeers();
  for (const f of readdirSync(join(BENCH, 'c')).filter((f) => f.endsWith('.c'))) {
    const out = join(BIN, f.slice(0, -2));
    execFileSync('cc', ['-O2', '-Wall', '-o', out, join(BENCH, 'c', f), '-lpthread'], { stdio: 'inherit' });
  }
  const p = spawn('unshare', ['--net', '--mount', '--propagation', 'private', '--', process.execPath, ...process.execArgv, process.argv[1], ...argv], {
    stdio: 'inherit',
    env,
  });
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => p.kill(sig));
  p.on('exit', (code, sig) => process.exit(code ?? (sig ? 1 : 0)));
} else {
  await inside();
}

async function inside() {
  // ---- inside the private namespaces ----
  const run = (cmd, ...a) => execFileSync(cmd, a, { stdio: ['ignore', 'pipe', 'pipe'] });
  run('mount', '-t', 'sysfs', 'sysfs', '/sys'); // /sys/class/net of this namespace
  mkdirSync('/run/netns', { recursive: true });
  run('mount', '-t', 'tmpfs', 'bench-netns', '/run/netns'); // `ip netns add` leaves nothing outside
  run('ip', 'link', 'set', 'lo', 'up');
  for (const k of ['all', 'default']) writeFileSync(`/proc/sys/net/ipv6/conf/${k}/disable_ipv6`, '1'); // no stray RS/MLD

  const machine = {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    kernel: release(),
    node: process.version,
    date: new Date().toISOString(),
    tunctl: JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version,
  };
  console.log(`tunctl bench: ${machine.cpu}, ${machine.cores} cores, Linux ${machine.kernel}, Node ${machine.node}; ${repeat} runs${quick ? ' (quick)' : ''}`);

  const runs = {}; // metric id -> [{ run, value, extra }]
  const notes = [];
  const errors = [];
  for (const s of only) {
    for (let i = 0; i < repeat; i++) {
      process.stdout.write(`  ${s} run ${i + 1}/${repeat} ... `);
      const t0 = Date.now();
      const res = await runScenario(s, { ...extra, quick, run: i });
      process.stdout.write(`${((Date.now() - t0) / 1000).toFixed(1)} s${res.error ? ' FAILED' : ''}\n`);
      if (res.error) errors.push({ scenario: s, run: i, error: res.error });
      for (const n of res.notes ?? []) notes.push(`${s} run ${i + 1}: ${n}`);
      for (const m of res.metrics ?? []) (runs[m.id] ??= []).push({ run: i, value: m.value, unit: m.unit, extra: m.extra });
    }
  }

  const metrics = {};
  for (const [id, rs] of Object.entries(runs)) {
    const vs = rs.map((r) => r.value).filter(Number.isFinite);
    const mid = rs.find((r) => r.value === median(vs)) ?? rs[0];
    metrics[id] = { unit: rs[0].unit, median: median(vs), min: Math.min(...vs), max: Math.max(...vs), iqr: iqr(vs), n: vs.length, values: vs, extra: mid?.extra };
  }
  const ratios = [];
  for (const id of Object.keys(metrics)) {
    const t = target(id);
    if (!t) continue;
    if (t.ref) {
      const ref = runs[t.ref];
      if (!ref) continue;
      // Each ratio against the reference measured in the same run (NaN when it was not; a
      // target may define its own ratio, e.g. for counts that can be 0 on both sides).
      const ratioOf = t.ratio ?? ((v, refValue) => v / refValue);
      const per = runs[id].map((r) => ratioOf(r.value, ref.find((x) => x.run === r.run)?.value ?? NaN)).filter((x) => !Number.isNaN(x));
      // No finite ratio (the reference was not measured, e.g. a peer that could not be built):
      // n/a, neither ok nor MISS.
      const r = median(per);
      ratios.push({ id, ref: t.ref, ratio: r, min: Math.min(...per), max: Math.max(...per), target: t.text, ok: t.ok && per.length ? t.ok(r) : undefined });
    } else {
      const v = metrics[id].median;
      ratios.push({ id, value: v, target: t.text, ok: t.ok(v) });
    }
  }

  printTable(metrics, ratios);
  if (notes.length) console.log('\nnotes:\n' + [...new Set(notes)].map((n) => '  ' + n).join('\n'));
  if (errors.length) console.log('\nerrors:\n' + errors.map((e) => `  ${e.scenario} run ${e.run + 1}: ${e.error.split('\n')[0]}`).join('\n'));
  const file = join(BENCH, 'results.json');
  writeFileSync(file, JSON.stringify({ machine, options: { quick, repeat, only }, metrics, ratios, notes, errors }, null, 2) + '\n');
  console.log(`\nwrote ${file}`);
  process.exit(errors.length ? 1 : 0);
}

/**
 * The other Node TUN libraries of the peer scenario. They go into a folder of their own,
 * bench/peer/ (gitignored), never into tunctl's dependencies; installed outside the namespace,
 * where the registry is reachable, with --ignore-scripts (their install scripts would fetch or
 * pick prebuilt binaries), then built from source with node-gyp against this Node's headers.
 */
function installPeers() {
  // (Constants inside: this runs before module-level constants below it are initialised.)
  const PEERS = [
    { pkg: '@xiaobaidadada/node-tuntap2-wintun', version: '3.0.2' },
    // The most used TUN addon on npm; links OpenSSL statically (libssl-dev's libssl.a/libcrypto.a).
    { pkg: 'appium-ios-tuntap', version: '2.0.5' },
  ];
  const PEER_DIR = join(BENCH, 'peer');
  const peerDir = (pkg) => join(PEER_DIR, 'node_modules', ...pkg.split('/'));
  /** Where a failed install or build of a peer is written down for the peer scenario to report. */
  const peerErrorFile = (pkg) => join(PEER_DIR, `${pkg.replace(/[@/]/g, '_')}.error`);
  const isBuilt = (pkg) => existsSync(join(peerDir(pkg), 'build', 'Release')) && readdirSync(join(peerDir(pkg), 'build', 'Release')).some((f) => f.endsWith('.node'));
  const missing = PEERS.filter((p) => !isBuilt(p.pkg));
  if (missing.length === 0) return;
  mkdirSync(PEER_DIR, { recursive: true });
  // Never overwritten: it lists the peers installed so far, so that installing one does not
  // prune another.
  if (!existsSync(join(PEER_DIR, 'package.json'))) writeFileSync(join(PEER_DIR, 'package.json'), '{ "name": "tunctl-bench-peer", "private": true }\n');
  // The lines of a failed command's stderr that say what went wrong, without node-gyp's stack.
  const tail = (err) => {
    const lines = String(err.stderr ?? '').trim().split('\n').filter((l) => l.trim() && !/^gyp (ERR!|info) (stack|System|command|cwd|node -v|node-gyp -v|not ok)/.test(l));
    const said = lines.filter((l) => /error|ERR!|not found|fatal|cannot|missing/i.test(l));
    return (said.length ? said : lines).slice(-8).join('\n') || String(err.message ?? err);
  };
  const fail = (pkg, what, err) => {
    const msg = `${what}: ${tail(err)}`;
    writeFileSync(peerErrorFile(pkg), msg + '\n');
    console.error(`bench: ${pkg}: ${msg}\nbench: the peer scenario will report ${pkg} as not measured`);
  };
  try {
    // Every peer in one install (those already there are kept as they are).
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', ...PEERS.map((p) => `${p.pkg}@${p.version}`)], { cwd: PEER_DIR, stdio: ['ignore', 'inherit', 'pipe'] });
  } catch (err) {
    for (const p of missing) fail(p.pkg, `npm install ${p.pkg}@${p.version} failed`, err);
    return;
  }
  // node-gyp: the one installed with the peers, or the one that comes with npm.
  const gyp = [join(PEER_DIR, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'), join(process.execPath, '..', '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js')].find((f) => existsSync(f));
  for (const p of missing) {
    rmSync(peerErrorFile(p.pkg), { force: true });
    if (!gyp) {
      fail(p.pkg, 'no node-gyp found', new Error('neither bench/peer/node_modules/node-gyp nor npm\'s own'));
      continue;
    }
    try {
      execFileSync(process.execPath, [gyp, 'rebuild', '--release', `--nodedir=${process.env.npm_config_nodedir ?? '/usr'}`], { cwd: peerDir(p.pkg), stdio: ['ignore', 'ignore', 'pipe'] });
      if (!isBuilt(p.pkg)) throw new Error('node-gyp rebuild left no build/Release/*.node');
    } catch (err) {
      fail(p.pkg, `node-gyp rebuild of ${p.pkg} failed`, err);
    }
  }
}

/** Run one scenario once as a child process; a crash there is an error here, not the end. */
function runScenario(name, opts) {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [join(BENCH, `${name}.mjs`), JSON.stringify(opts)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => p.kill('SIGTERM'), 900_000);
    p.on('exit', (code, sig) => {
      clearTimeout(timer);
      const last = out.trim().split('\n').reverse().find((l) => l.startsWith('{"metrics"'));
      let res = {};
      try {
        res = last ? JSON.parse(last) : {};
      } catch {
        /* reported below */
      }
      if (!last) res.error = `exited ${sig ?? code} without results: ${err.trim().split('\n').slice(-5).join(' | ')}`;
      resolve(res);
    });
  });
}

function median(vs) {
  if (vs.length === 0) return NaN;
  const s = [...vs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function iqr(vs) {
  const s = [...vs].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * (s.length - 1) + 0.5))];
  return s.length ? q(0.75) - q(0.25) : NaN;
}

/** What each figure is compared with, and the target (issue #11; see README). */
function target(id) {
  // Ratios to the C reference of the same run. (Inside the function: inside() runs before
  // module-level constants below the top-level await would be initialised.)
  const RX_DRAIN_TARGET = { passive: 0.9, active: 0.9, batch: 0.9, tuncerBatch: 1.0 };
  const TX_TARGET = { tuncer: 0.9, sendBatch: 1.0 };
  const FORWARD_TARGET = 0.8;
  const p = id.split('.');
  const atLeast = (x) => ({ text: `>= ${x.toFixed(1)} x C`, ok: (r) => r >= x });
  // Multi-queue (issue 17): against the C reader with as many queues and threads, same run.
  if (p[0] === 'rx' && p[1] === 'drain' && /^mq\d+$/.test(p[3] ?? '')) {
    if (p[4] === 'scaling') return { text: '>= 1.5 x mq1', ok: (v) => v >= 1.5 };
    if (p[4] === 'c') return undefined;
    const ref = `rx.${p[1]}.${p[2]}.${p[3]}.c`;
    return p[3] === 'mq2' && p[4] === 'tuncerBatch' ? { ref, ...atLeast(0.8) } : { ref, text: '(info)' };
  }
  if (id === 'rx.order.mq2.reordered') return { text: '= 0', ok: (v) => v === 0 };
  if (id.startsWith('footprint.mq.rssPerQueue.')) return { text: '<= 10 MB', ok: (v) => v <= 10 };
  if (p[0] === 'rx' && p[3] !== 'c') {
    const ref = `rx.${p[1]}.${p[2]}.c`;
    if (p[1] === 'drain' && RX_DRAIN_TARGET[p[3]] !== undefined) return { ref, ...atLeast(RX_DRAIN_TARGET[p[3]]) };
    return { ref, text: '(info)' };
  }
  if (p[0] === 'tx' && p[2] !== 'c') {
    const ref = `tx.${p[1]}.c`;
    return TX_TARGET[p[2]] !== undefined ? { ref, ...atLeast(TX_TARGET[p[2]]) } : { ref, text: '(info)' };
  }
  const atMost = (x) => ({ text: `<= ${x} x C`, ok: (r) => r <= x });
  if (p[0] === 'latency' && p[1] !== 'c') {
    // latency.tuncer.{p50,p99,mean} back to back, latency.tuncer.idle.{p50,p99,mean} with pauses
    const ref = ['latency', 'c', ...p.slice(2)].join('.');
    const q = p.at(-1);
    if (p[1] === 'floor') return { ref, text: '(info: Node floor)' };
    return q === 'p50' ? { ref, ...atMost(1.5) } : q === 'p99' ? { ref, ...atMost(2) } : { ref, text: '(info)' };
  }
  if (id === 'idle.cpu.tuncer') return { text: '< 1 % of a core', ok: (v) => v < 1 };
  // vpwn: the tuncer pair against the C pair (a 'mixed' pair, when asked for, is for information).
  if (p[0] === 'vpwn' && p[1] === 'rtt' && p[2] === 'tuncer') {
    const ref = `vpwn.rtt.c.${p[3]}`;
    return p[3] === 'p50' ? { ref, ...atMost(1.5) } : { ref, text: '(info)' };
  }
  if (p[0] === 'vpwn' && (p[1] === 'plain' || p[1] === 'reverse') && p[2] === 'tuncer') return { ref: `vpwn.${p[1]}.c`, ...atLeast(0.7) };
  // The floor pair (Node and the addon with no library logic) against C: information.
  if (p[0] === 'vpwn' && p[1] === 'rtt' && p[2] === 'floor') return { ref: `vpwn.rtt.c.${p[3]}`, text: '(info: Node floor)' };
  if (p[0] === 'vpwn' && (p[1] === 'plain' || p[1] === 'reverse') && p[2] === 'floor') return { ref: `vpwn.${p[1]}.c`, text: '(info: Node floor)' };
  // Offload (issue 13): each tunnel with offload against itself without, same run.
  const timesPlain = (ref) => ({ ref, text: '>= 2.5 x plain', ok: (r) => r >= 2.5 });
  if (id === 'vpwn.offload.tuncer') return timesPlain('vpwn.plain.tuncer');
  if (id === 'tunnel.udp.offload.tuncer') return timesPlain('tunnel.udp.plain.tuncer');
  // What node:dgram alone carries over the same veth: a bound on both tunnel modes.
  if (id === 'tunnel.udp.dgram.ceiling' || id.startsWith('tunnel.udp.c.')) return { ref: 'tunnel.udp.plain.tuncer', text: '(info: x plain)' };
  if (p[0] === 'vpwn' && p[1] === 'retrans' && p[2] === 'tuncer') {
    // Retransmits can be 0: 0 against 0 is a ratio of 1, any against 0 is infinite (a MISS).
    const ratio = (v, c) => (!Number.isFinite(c) || !Number.isFinite(v) ? NaN : c === 0 ? (v === 0 ? 1 : Infinity) : v / c);
    return { ref: ['vpwn', 'retrans', 'c', ...p.slice(3)].join('.'), ratio, ...atMost(2) };
  }
  if (p[0] === 'forward' && p[2] !== 'c') return { ref: `forward.${p[1]}.c`, ...atLeast(FORWARD_TARGET) };
  if (p[0] === 'peer' && p[3] === 'active') return { ref: `peer.${p[1]}.${p[2]}.peer`, text: '>= 10 x peer', ok: (r) => r >= 10 };
  if (p[0] === 'peer' && p[3] === 'tuncerBatch') {
    const ref = `peer.${p[1]}.${p[2]}.appium`;
    return p[2] === '64' ? { ref, text: '>= 2.5 x appium', ok: (r) => r >= 2.5 } : { ref, text: '(info)' };
  }
  if (id.startsWith('footprint.rssPerIf.')) return { text: '<= 10 MB', ok: (v) => v <= 10 };
  if (id === 'footprint.create.p50') return { text: '<= 10 ms', ok: (v) => v <= 10 };
  if (id === 'footprint.create.p99') return { text: '<= 30 ms', ok: (v) => v <= 30 };
  if (id === 'footprint.destroy.p50') return { text: '<= 5 ms', ok: (v) => v <= 5 };
  if (id === 'footprint.restart.p50') return { text: '<= 30 ms', ok: (v) => v <= 30 };
  return undefined;
}

function fmt(v, unit) {
  if (!Number.isFinite(v)) return 'n/a';
  if (unit === 'pps') return v >= 1e6 ? `${(v / 1e6).toFixed(3)} M` : `${(v / 1e3).toFixed(1)} k`;
  if (Math.abs(v) >= 100) return v.toFixed(0);
  return v.toFixed(2);
}

function printTable(metrics, ratios) {
  const byId = new Map(ratios.map((r) => [r.id, r]));
  const rows = [['figure', 'unit', 'median', 'min', 'max', 'ratio (min-max)', 'target', '']];
  for (const [id, m] of Object.entries(metrics)) {
    const r = byId.get(id);
    const ratio = r && r.ratio !== undefined ? (Number.isNaN(r.ratio) ? 'n/a' : `${r.ratio.toFixed(2)} (${r.min.toFixed(2)}-${r.max.toFixed(2)})`) : '';
    rows.push([id, m.unit, fmt(m.median, m.unit), fmt(m.min, m.unit), fmt(m.max, m.unit), ratio, r?.target ?? '', r?.ok === undefined ? '' : r.ok ? 'ok' : 'MISS']);
  }
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  console.log('');
  rows.forEach((r, k) => {
    console.log(r.map((c, i) => (i >= 2 && i <= 4 ? c.padStart(w[i]) : c.padEnd(w[i]))).join('  ').trimEnd());
    if (k === 0) console.log(w.map((n) => '-'.repeat(n)).join('  '));
  });
}
