// A throw-away lab for the example run scripts: private network namespaces, processes
// started inside them, and a cleanup that removes all of it (also on SIGINT/SIGTERM).
//
// Only 198.18.0.0/15 and fd00::/8 addresses are used, and only inside namespaces made here.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

/** Exit code for "cannot run here" (the automake/TAP convention for a skipped test). */
export const EX_UNAVAILABLE = 77;

function hasCap(bit) {
  try {
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? (BigInt(`0x${m[1]}`) & (1n << BigInt(bit))) !== 0n : false;
  } catch {
    return false;
  }
}

function which(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** What stops the lab from running here, as a list of plain sentences (empty: all good). */
export function missingPrerequisites() {
  const missing = [];
  if (process.platform !== 'linux') missing.push(`Linux is required (this is ${process.platform})`);
  if (!hasCap(12)) missing.push('CAP_NET_ADMIN is required to create network devices: run as root');
  if (!hasCap(21)) missing.push('CAP_SYS_ADMIN is required to create network namespaces: run as root');
  if (!existsSync('/dev/net/tun')) missing.push('/dev/net/tun does not exist (try `modprobe tun`)');
  if (!which('ip')) missing.push('ip(8) is missing (install iproute2)');
  return missing;
}

/** Print what is missing and exit 77, or return when the lab can run. */
export function requirePrerequisites(what) {
  const missing = missingPrerequisites();
  if (missing.length === 0) return;
  console.error(`${what} cannot run here:`);
  for (const m of missing) console.error(`  - ${m}`);
  process.exit(EX_UNAVAILABLE);
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Run a program, return its stdout; throw with its stderr on failure. */
export function run(cmd, args) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const stderr = err.stderr?.toString().trim();
    throw new Error(`${cmd} ${args.join(' ')} failed${stderr ? `: ${stderr}` : ''}`);
  }
}

/** A process started in a namespace, with its output echoed line by line under a label. */
class Proc {
  lines = [];
  #watchers = new Set();
  constructor(label, child) {
    this.label = label;
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    this.done = false;
    void this.exited.then(() => {
      this.done = true;
      for (const w of this.#watchers) w();
    });
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        this.lines.push(line);
        console.log(`[${label}] ${line}`);
        for (const w of this.#watchers) w();
      });
    }
  }

  /** Wait until a line matches `re`; reject on timeout or if the process ends first. */
  waitFor(re, timeoutMs = 10_000) {
    return new Promise((resolve, reject) => {
      const check = () => {
        const hit = this.lines.find((l) => re.test(l));
        if (hit !== undefined) finish(() => resolve(hit));
        else if (this.done) finish(() => reject(new Error(`${this.label} exited before printing ${re}`)));
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`${this.label} did not print ${re} within ${timeoutMs} ms`))), timeoutMs);
      const finish = (f) => {
        clearTimeout(timer);
        this.#watchers.delete(check);
        f();
      };
      this.#watchers.add(check);
      check();
    });
  }

  /** Wait for the process to end; its exit code (a signal counts as failure). */
  async result(timeoutMs = 30_000) {
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const { code, signal } = await this.exited;
    clearTimeout(timer);
    return signal ? 128 : code;
  }
}

/**
 * Namespaces and processes of one run. Names carry the pid, so runs never collide.
 * `cleanup()` is idempotent; `trapSignals()` makes SIGINT/SIGTERM clean up and exit.
 */
export class Lab {
  #namespaces = [];
  #procs = new Set();
  #cleaning;

  constructor(tag) {
    this.tag = `${tag}${process.pid}`;
  }

  /** Create a namespace `<tag><pid><suffix>` with its loopback up; returns its name. */
  netns(suffix) {
    const name = `${this.tag}${suffix}`;
    run('ip', ['netns', 'add', name]);
    this.#namespaces.push(name);
    run('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
    return name;
  }

  /** `ip -n NS ...` */
  ip(ns, ...args) {
    return run('ip', ['-n', ns, ...args]);
  }

  /** A veth pair `dev` in `nsA` <-> `dev` in `nsB`, with addresses, both up. */
  veth(nsA, addrA, nsB, addrB, dev = 'veth0') {
    this.ip(nsA, 'link', 'add', dev, 'type', 'veth', 'peer', 'name', dev, 'netns', nsB);
    this.ip(nsA, 'addr', 'add', addrA, 'dev', dev);
    this.ip(nsB, 'addr', 'add', addrB, 'dev', dev);
    this.ip(nsA, 'link', 'set', dev, 'up');
    this.ip(nsB, 'link', 'set', dev, 'up');
  }

  /** Start `node script args...` inside `ns` (or here, when ns is null). */
  node(label, ns, script, args = []) {
    const argv = ns ? ['netns', 'exec', ns, process.execPath, script, ...args] : [script, ...args];
    const child = spawn(ns ? 'ip' : process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    const p = new Proc(label, child);
    this.#procs.add(p);
    void p.exited.then(() => this.#procs.delete(p));
    return p;
  }

  /** Run a program inside `ns`, output echoed; resolves with its exit code. */
  exec(label, ns, cmd, args) {
    const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const p = new Proc(label, child);
    this.#procs.add(p);
    void p.exited.then(() => this.#procs.delete(p));
    return p;
  }

  /** Stop every process (SIGTERM, then SIGKILL after 3 s), then delete the namespaces. */
  cleanup() {
    this.#cleaning ??= (async () => {
      const procs = [...this.#procs];
      for (const p of procs) p.child.kill('SIGTERM');
      await Promise.race([Promise.all(procs.map((p) => p.exited)), sleep(3000)]);
      for (const p of procs) if (!p.done) p.child.kill('SIGKILL');
      await Promise.all(procs.map((p) => p.exited));
      for (const ns of this.#namespaces.splice(0).reverse()) {
        try {
          run('ip', ['netns', 'del', ns]);
        } catch (err) {
          console.error(`cleanup: ${err.message}`);
        }
      }
    })();
    return this.#cleaning;
  }

  /** On SIGINT/SIGTERM: clean up, then exit 130/143. */
  trapSignals() {
    for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143]]) {
      process.once(sig, () => {
        console.error(`\n${sig}: cleaning up`);
        void this.cleanup().finally(() => process.exit(code));
      });
    }
  }
}

/** Is `ping` installed? */
export const hasPing = () => which('ping');

/**
 * Use ping(8) for the reachability checks? Yes when it is installed. Without it the run
 * scripts fall back to a UDP echo (Node cannot send ICMP), except under `CI=true`, where CI
 * must have installed it (`.ci/run` does): there a missing ping is an error, not a fallback.
 */
export function usePing() {
  if (hasPing()) return true;
  if (process.env.CI === 'true') throw new Error('ping(8) is not installed, and under CI=true there is no fallback (apt-get install iputils-ping)');
  console.log('ping(8) is not installed (apt-get install iputils-ping): using a UDP echo instead');
  return false;
}

/**
 * `ping` arguments: `count` echo replies 200 ms apart, at most `deadline` s in all. With both
 * -c and -w, ping exits 0 only once `count` replies came back (with -c alone it exits 0 on the
 * first reply), and it keeps sending until then, so the one request a neighbour lookup may
 * still hold up is not a failure.
 */
export const pingArgs = (addr, { count = 3, deadline = 5 } = {}) => [...(addr.includes(':') ? ['-6'] : []), '-c', String(count), '-i', '0.2', '-w', String(deadline), addr];

/**
 * Wait until `dev` in `ns` has no tentative IPv6 address left (duplicate address detection
 * done, about 1-2 s after the link came up), so that pings leave with the address given and
 * not with another source (a ping sent meanwhile may leave from ::1 and never be answered).
 * On a tun (IFF_NOARP) DAD ends at once, but from a kernel workqueue, so even there an
 * address can be tentative for a moment after the interface is ready. Throws if DAD failed.
 */
export async function waitForDad(ns, dev, timeoutMs = 10_000) {
  const t0 = Date.now();
  for (;;) {
    const text = run('ip', ['-n', ns, '-6', 'addr', 'show', 'dev', dev]);
    if (/dadfailed/.test(text)) throw new Error(`${ns} ${dev}: duplicate address detection failed:\n${text}`);
    if (!/tentative/.test(text)) return Date.now() - t0;
    if (Date.now() - t0 > timeoutMs) throw new Error(`${ns} ${dev}: addresses still tentative after ${timeoutMs} ms:\n${text}`);
    await sleep(50);
  }
}

/** Wait for `proc` (a {@link Lab} child) to exit; throw unless it exited 0, else print `ok: what`. */
export async function check(what, proc) {
  const code = await proc.result();
  if (code !== 0) throw new Error(`${what} failed (exit code ${code})`);
  console.log(`ok: ${what}`);
}

/**
 * --chaos: a TCP transfer (`probe.mjs tcp-send` from namespace `ns` to `to`) during which the
 * interface worker of `end` (a tunnel end started by the lab) is crashed with SIGUSR2; the
 * supervisor must bring the interface back and the transfer complete with its digest.
 */
export async function transferAcrossCrash(lab, { ns, probe, end, to, bytes }) {
  const transfer = lab.node('A tcp-send', ns, probe, ['tcp-send', '--to', to, '--bytes', bytes]);
  await transfer.waitFor(/connected to/);
  await sleep(100); // let it get going
  console.log('--chaos: crashing the interface worker of A during a transfer');
  end.child.kill('SIGUSR2');
  await end.waitFor(/interface restarted by the supervisor/);
  await check(`tcp transfer of ${bytes} bytes across the restart`, transfer);
}

/** Print the example's verdict and exit with it (0 or 1). */
export function finish(name, ok) {
  console.log(ok ? `${name} example: all checks passed` : `${name} example: FAILED`);
  process.exit(ok ? 0 : 1);
}
