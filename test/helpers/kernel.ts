/**
 * Gate for tests that touch the real kernel. They run only inside the private network
 * namespace that `npm test` (scripts/test.mjs) makes; anywhere else they are reported
 * as skipped with the reason, and under `CI=true` a skipped kernel test is a failure,
 * so CI can never go green on nothing.
 */
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { workerPool } from '../../src/actors/workerPool.js';
import { existsSync, readlinkSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { read } from '../../src/tunctl/packetIo.js';
import { execFileSync } from 'node:child_process';

function privateNetns(): boolean {
  try {
    const host = process.env.TUNCTL_HOST_NETNS;
    return host !== undefined && host !== '' && readlinkSync('/proc/self/ns/net') !== host;
  } catch {
    return false;
  }
}

function unavailable(): string | undefined {
  if (process.env.TUNCTL_KERNEL_UNAVAILABLE) return process.env.TUNCTL_KERNEL_UNAVAILABLE;
  if (!existsSync('/dev/net/tun')) return '/dev/net/tun does not exist';
  if (process.env.TUNCTL_PRIVATE_NETNS !== '1' || !privateNetns()) {
    return 'not inside the private network namespace that `npm test` makes (run the suite through `npm test`)';
  }
  return undefined;
}

/** Why kernel tests cannot run here, or undefined when they can. */
export const kernelUnavailable = unavailable();

/** `describe` for kernel tests: runs, skips with a reason, or fails under CI. */
export function describeKernel(name: string, body: () => void): void {
  if (!kernelUnavailable) {
    describe(name, () => {
      // A spare worker of the pool holds fds of its own: have any there before a baseline.
      beforeAll(() => workerPool.warm());
      body();
    });
  } else if (process.env.CI === 'true') {
    describe(name, () => {
      it('can reach the kernel (CI=true forbids skipping kernel tests)', () => {
        throw new Error(`kernel tests cannot run under CI: ${kernelUnavailable}`);
      });
    });
  } else {
    describe.skipIf(true)(`${name} [skipped: ${kernelUnavailable}]`, body);
  }
}

let seq = 0;
/** A fresh interface name, unique in this run: `<prefix><pid%1000>x<n>`, at most 15 bytes. */
export function ifname(prefix = 't'): string {
  seq += 1;
  return `${prefix}${process.pid % 10000}x${seq}`.slice(0, 15);
}

/** Run a program (tests only; library code never does). */
export function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Read a sysfs attribute of a network device, trimmed. */
export function sysfs(dev: string, attr: string): string {
  return readFileSync(`/sys/class/net/${dev}/${attr}`, 'utf8').trim();
}

/** Does a network device of this name exist in this namespace? */
export function devExists(dev: string): boolean {
  return existsSync(`/sys/class/net/${dev}`);
}

/** Names of the TUN/TAP devices in this namespace. */
export function tunDevices(): string[] {
  return readdirSync('/sys/class/net').filter((d) => existsSync(`/sys/class/net/${d}/tun_flags`)).sort();
}

/**
 * The nearest ancestor process in another `kind` namespace than this one: the `npm test`
 * process that made the private namespaces (undefined outside them).
 */
export function outsidePid(kind: 'mnt' | 'net'): number | undefined {
  const mine = readlinkSync(`/proc/self/ns/${kind}`);
  let pid = process.ppid;
  while (pid > 1) {
    try {
      if (readlinkSync(`/proc/${pid}/ns/${kind}`) !== mine) return pid;
      pid = Number(readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[1]);
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** Number of threads of this process (each worker thread is one, a pool's spares included). */
export function threadCount(): number {
  return readdirSync('/proc/self/task').length;
}

/**
 * The worker pool in its steady state: its spares booted, none booting, none it let go still
 * exiting (`workerPool.warm()`). Counts of fds and threads taken then are comparable.
 */
export function poolSteady(): Promise<void> {
  return workerPool.warm();
}

/**
 * Wait up to `ms` for `cond`, each time with the pool steady first (see {@link poolSteady}):
 * a count compared while a spare boots in the background would differ by the spare.
 */
export async function untilSteady(cond: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    await poolSteady();
    if (cond()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Number of open fds of this process. */
export function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

/** `ip -j addr show dev X` parsed. */
export function ipAddrs(dev: string): { family: string; local: string; prefixlen: number; address?: string }[] {
  const out = JSON.parse(sh('ip', ['-j', 'addr', 'show', 'dev', dev])) as { addr_info: { family: string; local: string; prefixlen: number; address?: string }[] }[];
  return out[0]?.addr_info ?? [];
}

/** This process's open fds and what each refers to (`/proc/self/fd/N`'s link). */
export function fdTable(): Map<number, string> {
  const table = new Map<number, string>();
  for (const f of readdirSync('/proc/self/fd')) {
    try {
      table.set(Number(f), readlinkSync(`/proc/self/fd/${f}`));
    } catch {
      table.set(Number(f), '?'); // closed between the listing and the read: the directory's own fd
    }
  }
  return table;
}

/** What differs between two fd tables, for a failure message: `+12 socket:[…]`, `-7 /dev/net/tun`. */
export function fdDiff(before: Map<number, string>, after: Map<number, string>): string {
  const out: string[] = [];
  for (const [fd, what] of after) if (before.get(fd) !== what) out.push(`+${fd} ${what}`);
  for (const [fd, what] of before) if (after.get(fd) !== what) out.push(`-${fd} ${what}`);
  return out.join(', ');
}

/** What a test starts from: open fds and TUN/TAP devices. */
export interface LeakBaseline {
  fds: number;
  devs: string[];
  table: Map<number, string>;
}

/**
 * Take the fds and devices a test starts from, with the worker pool in its steady state: its
 * spares booted, none booting, no worker it let go still exiting. The pool's share of the
 * count is then its spares, 4 fds each (a thread's event loop: epoll, eventfd, a pipe's two
 * ends); {@link expectNoLeak} waits for the same state, so the two compare like with like.
 */
export async function leakBaseline(): Promise<LeakBaseline> {
  await workerPool.warm();
  const table = fdTable();
  return { fds: table.size, devs: tunDevices(), table };
}

/**
 * Everything back where it started: the same fds and devices. Workers end asynchronously,
 * and the pool boots a replacement spare in the background, so wait (up to 3 s) for the pool
 * to be back in its steady state (see {@link leakBaseline}) and the counts to match before
 * asserting. Nothing is excused: an fd left open
 * by the main thread, by an interface's worker or by a worker kept as a spare is one more
 * than at the start.
 */
export async function expectNoLeak(baseline: LeakBaseline): Promise<void> {
  const deadline = Date.now() + 3000;
  for (;;) {
    await workerPool.warm();
    if (Date.now() >= deadline || (openFds() === baseline.fds && tunDevices().join() === baseline.devs.join())) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  expect(tunDevices()).toEqual(baseline.devs);
  expect(openFds(), `fds: ${fdDiff(baseline.table, fdTable())}`).toBe(baseline.fds);
}

/**
 * Interfaces a test file makes: push them on the returned array; after each test they are
 * destroyed and the fds and devices must be back where the test started.
 */
export function liveInterfaces<T extends { destroy(): Promise<void> }>(): T[] {
  const live: T[] = [];
  let baseline: LeakBaseline;
  beforeEach(async () => {
    baseline = await leakBaseline();
  });
  afterEach(async () => {
    await Promise.all(live.splice(0).map((t) => t.destroy()));
    await expectNoLeak(baseline);
  });
  return live;
}

/**
 * Quieten a fresh device of this namespace for a test that counts packets: IPv6 off (no
 * router solicitations or DAD), and what the kernel sent before that read off its `fd`.
 */
export async function quieten(dev: string, fd: number): Promise<void> {
  writeFileSync(`/proc/sys/net/ipv6/conf/${dev}/disable_ipv6`, '1');
  await sleep(50);
  while (read(fd));
}
