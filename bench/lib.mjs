// Helpers shared by the benchmark scenarios (bench/*.mjs). Everything here assumes it runs
// inside the private network namespace that bench/run.mjs sets up.
import { spawn, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

export const BENCH = dirname(fileURLToPath(import.meta.url));
export const BIN = join(BENCH, 'bin');
export const bin = (name) => join(BIN, name);

/** Refuse to run outside the bench's own namespace. */
export function assertPrivateNetns() {
  if (process.env.TUNCTL_BENCH_NS !== '1') {
    throw new Error('bench scenarios run only inside `node bench/run.mjs` (private network namespace)');
  }
}

/** Run a command (no shell), return stdout; throws on failure. */
export function sh(cmd, ...args) {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Like sh, but ignore failures (teardown). */
export function shq(cmd, ...args) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return '';
  }
}

/** Counter of a device from sysfs (the bench remounts /sys in its namespace). */
export function devStat(dev, name) {
  return Number(readFileSync(`/sys/class/net/${dev}/statistics/${name}`, 'utf8'));
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The resident set after three GC passes 100 ms apart (run the process with --expose-gc). */
export async function settledRss() {
  for (let i = 0; i < 3; i++) {
    globalThis.gc?.();
    await sleep(100);
  }
  return process.memoryUsage().rss;
}

/** The next line on stdin, as a Promise; lines that come before they are asked for wait their turn. */
export function stdinLines() {
  const rl = createInterface({ input: process.stdin });
  const lines = [];
  let waiting;
  rl.on('line', (l) => (waiting ? (waiting(l), (waiting = undefined)) : lines.push(l)));
  return () => (lines.length ? Promise.resolve(lines.shift()) : new Promise((r) => (waiting = r)));
}

/** A command in network namespace `ns` (`ip netns exec`); its stdout. */
export const nsx = (ns, ...cmd) => sh('ip', 'netns', 'exec', ns, ...cmd);

/**
 * Two namespaces `a` and `b`, IPv4 only (no router solicitations or MLD reports crossing a
 * tunnel meanwhile), joined by a veth `veth0` with `addrA`/`addrB` (/30) at its ends.
 */
export function vethPair(a, b, addrA, addrB) {
  for (const ns of [a, b]) {
    sh('ip', 'netns', 'add', ns);
    nsx(ns, 'ip', 'link', 'set', 'lo', 'up');
    nsx(ns, 'sh', '-c', 'echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6; echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6');
  }
  sh('ip', '-n', a, 'link', 'add', 'veth0', 'type', 'veth', 'peer', 'name', 'veth0', 'netns', b);
  sh('ip', '-n', a, 'addr', 'add', `${addrA}/30`, 'dev', 'veth0');
  sh('ip', '-n', b, 'addr', 'add', `${addrB}/30`, 'dev', 'veth0');
  for (const ns of [a, b]) sh('ip', '-n', ns, 'link', 'set', 'veth0', 'up');
}
/** A client in namespace `ns`, killed after timeoutMs; its stdout. */
export const client = (ns, timeoutMs, ...cmd) => execFileSync('ip', ['netns', 'exec', ns, ...cmd], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs, killSignal: 'SIGKILL' });

/** Lines of a child (from {@link child}) until one matches `re` (the others are dropped). */
export async function waitLine(c, re, ms) {
  const end = Date.now() + ms;
  for (;;) {
    const l = await c.line(Math.max(1, end - Date.now()));
    if (re.test(l)) return l;
  }
}

/**
 * A child process speaking the bench's line protocol: it prints "ready" once set up, takes
 * lines on stdin, and prints JSON lines as results. Every child is killed on teardown.
 */
const children = new Set();
export function child(cmd, args, { timeoutMs = 60_000 } = {}) {
  const p = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  children.add(p);
  let buf = '';
  let err = '';
  const lines = [];
  const waiters = [];
  let exited = null;
  p.stdout.setEncoding('utf8');
  p.stderr.setEncoding('utf8');
  p.stderr.on('data', (d) => (err += d));
  const flush = () => {
    while (waiters.length && (lines.length || exited)) {
      const w = waiters.shift();
      clearTimeout(w.timer);
      if (lines.length) w.resolve(lines.shift());
      else w.reject(new Error(`${cmd.split('/').pop()} exited (${exited}) ${err.trim()}`));
    }
  };
  p.stdout.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      lines.push(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
    flush();
  });
  p.on('exit', (code, sig) => {
    exited = sig ?? code;
    children.delete(p);
    flush();
  });
  p.on('error', (e) => {
    exited = e.message;
    flush();
  });
  p.stdin.on('error', () => {});
  const line = (ms = timeoutMs) =>
    new Promise((resolve, reject) => {
      const w = { resolve, reject, timer: setTimeout(() => reject(new Error(`${cmd} gave no answer in ${ms} ms; stderr: ${err.trim()}`)), ms) };
      waiters.push(w);
      flush();
    });
  return {
    proc: p,
    line,
    async json(ms) {
      for (;;) {
        const l = await line(ms);
        if (l.startsWith('{')) return JSON.parse(l);
      }
    },
    async ready(ms) {
      const l = await line(ms);
      if (l !== 'ready') throw new Error(`expected ready, got ${l}`);
    },
    send(s) {
      p.stdin.write(s + '\n');
    },
    kill() {
      if (exited === null) p.kill('SIGKILL');
    },
    exited: () => new Promise((r) => (exited !== null ? r(exited) : p.once('exit', (c, s) => r(s ?? c)))),
  };
}

export function killChildren() {
  for (const p of children) p.kill('SIGKILL');
}

/** Run the scenario body; print its metrics as the last JSON line; tear down on any ending. */
export async function scenario(body, teardown) {
  assertPrivateNetns();
  const out = { metrics: [], notes: [] };
  const done = () => {
    killChildren();
    try {
      teardown?.();
    } catch {
      /* best effort */
    }
  };
  process.on('SIGTERM', () => {
    done();
    process.exit(143);
  });
  const watchdog = setTimeout(() => {
    console.error('scenario watchdog: giving up');
    done();
    process.exit(124);
  }, Number(process.env.TUNCTL_BENCH_TIMEOUT_MS ?? 600_000));
  watchdog.unref();
  try {
    await body(out);
  } catch (err) {
    out.error = String(err?.stack ?? err);
  } finally {
    done();
  }
  process.stdout.write(`\n${JSON.stringify(out)}\n`);
  process.exit(out.error ? 1 : 0);
}

/** Scenario arguments: `node bench/x.mjs '{"quick":true}'`. */
export function args() {
  try {
    return JSON.parse(process.argv[2] ?? '{}');
  } catch {
    return {};
  }
}

export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

/**
 * The library under test: the snapshot run.mjs compiled into bench/bin/pkg/dist at start (so
 * concurrent rebuilds of dist/ cannot change it mid-run), or ../dist with --use-dist.
 */
export const DIST = process.env.TUNCTL_BENCH_DIST ?? join(BENCH, '..', 'dist');
export const loadLib = () => import(pathToFileURL(join(DIST, 'index.js')).href);
export const loadUdp = () => import(pathToFileURL(join(DIST, 'packet', 'udp.js')).href);
export const loadIcmp = () => import(pathToFileURL(join(DIST, 'packet', 'icmpEcho.js')).href);
/**
 * Turn a received IPv4 packet (its first `n` bytes of `p`) into its answer in place: the
 * addresses swapped, and the ports too for UDP and TCP (the checksums stay valid). False,
 * and `p` untouched, for anything else. The latency scenario's two Node reflectors.
 */
export function swapEnds(p, n) {
  if (n < 20 || p[0] >> 4 !== 4) return false;
  for (let i = 0; i < 4; i++) {
    const t = p[12 + i];
    p[12 + i] = p[16 + i];
    p[16 + i] = t;
  }
  const ihl = (p[0] & 15) * 4;
  if ((p[9] === 17 || p[9] === 6) && n >= ihl + 4) {
    const a = p[ihl], b = p[ihl + 1];
    p[ihl] = p[ihl + 2];
    p[ihl + 1] = p[ihl + 3];
    p[ihl + 2] = a;
    p[ihl + 3] = b;
  }
  return true;
}
/** The addon's binding in the snapshot, for the floor programs (`floorreflector.mjs`, `vpwnfloor.mjs`) alone. */
export const loadNative = async () => (await import(pathToFileURL(join(DIST, 'native', 'binding.js')).href)).loadNative();
