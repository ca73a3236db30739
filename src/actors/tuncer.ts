/**
 * `Tuncer`: one TUN/TAP interface as an actor whose fd lives in its own worker thread.
 *
 * ```
 *   main thread                                      worker thread (tunWorker)
 *   ───────────                                      ─────────────────────────
 *   Tuncer ── xstate actor (tuncerMachine)            fd, uv_poll
 *     │  packets$ / recv() / for await  ◀── rx ring ◀── readRecords (batches)
 *     │  send() / trySend()              ──▶ tx ring ──▶ writeRecords (batches)
 *     └─ control calls (up, mtu, ...)    ──▶ postMessage ─▶ tunctl.* on the fd/name
 * ```
 * @module
 */
import { Worker } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Observable, Subject } from 'rxjs';
import { createActor, type Actor } from 'xstate';
import { pino, type Logger } from 'pino';
import { PacketRing, recordSize } from './packetRing.js';
import { tuncerMachine, type ActiveMode, type TuncerExitReason, type TuncerRuntime } from './tuncerMachine.js';
import {
  fromWire, parseAddressSpec,
  type AddressSpec, type FdOp, type NameOp, type SpecialOp, type WorkerConfig, type WorkerMessage, type WorkerStats,
} from './messages.js';
import { iffFlags, type CreateOptions } from '../tunctl/create.js';
import type { OffloadFlags, TunInfo, Ipv4Config } from '../tunctl/index.js';
import { offloadMask } from '../tunctl/fdControl.js';
import { assertBool, assertIfname, assertInt, assertOptions, assertBytes, assertString } from '../tunctl/validate.js';
import { MTU_RANGE } from '../tunctl/netif.js';
import { MAX_PACKET } from '../tunctl/packetIo.js';
import { parseIp, checkPrefix } from '../packet/ipAddress.js';
import { parseMac, isMulticastMac } from '../packet/mac.js';
import { tunErrorFromCode } from '../native/tunError.js';

/** Options of {@link Tuncer.create}. */
export interface TuncerOptions extends CreateOptions {
  /** Device name; empty or with `%d` lets the kernel choose. */
  name?: string;
  /** Keep the device after the interface ends (re-attached by name next time). */
  persist?: boolean;
  /** uid allowed to attach without CAP_NET_ADMIN. */
  owner?: number;
  /** gid allowed to attach without CAP_NET_ADMIN. */
  group?: number;
  mtu?: number;
  txqueuelen?: number;
  /** MAC address of a tap. */
  hwaddr?: string;
  /** Addresses to configure, e.g. `['198.18.0.1/24', 'fd00::1/64']`; giving any brings the link up. */
  addresses?: readonly AddressSpec[];
  /** Bring the link up even without addresses (default: true when addresses are given). */
  up?: boolean;
  /** Delivery mode (default `false`): see {@link Tuncer.setopt}. */
  active?: ActiveMode;
  /** A pino logger; each interface logs through a child with `{ ifname }`. Default: silent. */
  logger?: Logger;
  /** Bytes of shared memory for packets from the kernel (default 1 MiB). */
  rxRingBytes?: number;
  /** Bytes of shared memory for packets to the kernel (default 256 KiB). */
  txRingBytes?: number;
  /** How long start-up and each control call may take before failing (default 10 000 ms). */
  timeoutMs?: number;
}

const OPTION_KEYS = [
  'name', 'mode', 'noPi', 'vnetHdr', 'vnetHdrSize', 'multiQueue', 'exclusive', 'oneQueue', 'noCarrier', 'persist', 'owner', 'group',
  'netns', 'mtu', 'txqueuelen', 'hwaddr', 'addresses', 'up', 'active', 'logger', 'rxRingBytes', 'txRingBytes', 'timeoutMs',
] as const;

/** What {@link Tuncer.events$} reports. */
export type TunEvent =
  | { type: 'state'; state: TuncerState }
  | { type: 'up'; address?: string; prefix?: number }
  | { type: 'down' }
  | { type: 'active'; mode: ActiveMode }
  | { type: 'passive' }
  | { type: 'exit'; reason: TuncerExitReason };

/** Where an interface is in its life. */
export type TuncerState = 'starting' | 'passive' | 'active' | 'stopping' | 'stopped' | 'failed';

/** Counters of one interface. */
export interface TunStats extends WorkerStats {
  /** Packets taken off the rx ring by this thread (delivered or waiting in `recv`). */
  delivered: number;
  /** Packets read from the fd and not yet delivered (in the ring). */
  queued: number;
  /** Packets refused by `trySend` because the tx ring was full. */
  txRingFull: number;
}

/**
 * Raised to pending `recv`, `send` and control calls when the interface ends.
 *
 * @example
 * ```ts
 * try { await tun.recv(); } catch (e) { if (e instanceof TuncerClosedError) console.log('interface ended'); }
 * ```
 */
export class TuncerClosedError extends Error {
  readonly code = 'ERR_TUNCER_CLOSED';
  constructor(name: string, reason: TuncerExitReason) {
    super(`interface ${name} has ended (${reason instanceof Error ? reason.message : reason})`, { cause: reason instanceof Error ? reason : undefined });
    this.name = 'TuncerClosedError';
  }
}

interface Waiter {
  resolve: (p: Buffer) => void;
  reject: (e: unknown) => void;
  size: number;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  timer: NodeJS.Timeout;
}

const silent = pino({ level: 'silent' });

/** How long a start-up that was given up may still run before its worker is terminated. */
const ABANDON_GRACE_MS = 5000;

/**
 * Most bytes copied out of the rx ring in one allocation when delivering: under 4 KiB, so the
 * copy comes from Buffer's pool (a larger allocation is a fresh ArrayBuffer, which cost more
 * than it saved for 1400-byte packets in the benchmark). A larger packet gets its own.
 */
const DELIVERY_CHUNK = 4000;

const NO_RECV_OPTS: { size?: number; signal?: AbortSignal } = Object.freeze({});

/** The compiled worker: beside this file in `dist/`; from `src/` (tests) the built copy. */
function workerUrl(): URL {
  const url = new URL('./tunWorker.js', import.meta.url);
  if (import.meta.url.endsWith('.ts')) {
    const built = new URL(url.href.replace('/src/actors/', '/dist/actors/'));
    if (!existsSync(fileURLToPath(built))) throw new Error('tunctl: dist/ is missing; run `npm run build` first');
    return built;
  }
  return url;
}

function validate(opts: TuncerOptions): WorkerConfig & { active: ActiveMode; timeoutMs: number } {
  assertOptions(opts, 'Tuncer option', OPTION_KEYS);
  const name = opts.name ?? '';
  if (name !== '') assertIfname(name);
  const create: Omit<CreateOptions, 'netns'> = {
    mode: opts.mode ?? 'tap',
    noPi: opts.noPi ?? true,
    vnetHdr: opts.vnetHdr ?? false,
    multiQueue: opts.multiQueue ?? false,
    exclusive: opts.exclusive ?? false,
    oneQueue: opts.oneQueue ?? false,
    noCarrier: opts.noCarrier ?? false,
    ...(opts.vnetHdrSize !== undefined ? { vnetHdrSize: opts.vnetHdrSize } : {}),
  };
  iffFlags(create);
  if (opts.netns !== undefined) assertString(opts.netns, 'netns');
  if (opts.persist !== undefined) assertBool(opts.persist, 'persist');
  if (opts.owner !== undefined) assertInt(opts.owner, 'owner', 0, 0xfffffffe);
  if (opts.group !== undefined) assertInt(opts.group, 'group', 0, 0xfffffffe);
  if (opts.mtu !== undefined) assertInt(opts.mtu, 'mtu', MTU_RANGE.min, MTU_RANGE.max);
  if (opts.txqueuelen !== undefined) assertInt(opts.txqueuelen, 'txqueuelen', 0, 0x7fffffff);
  if (opts.hwaddr !== undefined && isMulticastMac(parseMac(opts.hwaddr))) {
    throw new RangeError(`hwaddr ${opts.hwaddr} is a multicast address; an interface needs a unicast MAC`);
  }
  if (opts.logger !== undefined) {
    const l = opts.logger as unknown as Record<string, unknown>;
    if (l === null || typeof l !== 'object' || typeof l.child !== 'function' || typeof l.info !== 'function' || typeof l.error !== 'function') {
      throw new TypeError('logger must be a pino logger (an object with child, info and error methods)');
    }
  }
  if (opts.addresses !== undefined && !Array.isArray(opts.addresses)) throw new TypeError('addresses must be an array');
  const addresses = (opts.addresses ?? []).map((spec) => {
    const a = parseAddressSpec(spec);
    const { family } = parseIp(a.address);
    if (a.prefix !== undefined) checkPrefix(family, a.prefix);
    return a;
  });
  if (opts.up !== undefined) assertBool(opts.up, 'up');
  const active = opts.active ?? false;
  checkActive(active);
  const rxBytes = opts.rxRingBytes ?? 1 << 20;
  const txBytes = opts.txRingBytes ?? 1 << 18;
  assertInt(rxBytes, 'rxRingBytes', 4 * MAX_PACKET, 1 << 30);
  assertInt(txBytes, 'txRingBytes', 2 * MAX_PACKET, 1 << 30);
  const timeoutMs = opts.timeoutMs ?? 10_000;
  assertInt(timeoutMs, 'timeoutMs', 1, 0x7fffffff);
  return {
    name,
    create,
    netns: opts.netns,
    persist: opts.persist,
    owner: opts.owner,
    group: opts.group,
    mtu: opts.mtu,
    txqueuelen: opts.txqueuelen,
    hwaddr: opts.hwaddr,
    addresses,
    up: opts.up ?? addresses.length > 0,
    rx: PacketRing.allocate(rxBytes & ~3),
    tx: PacketRing.allocate(txBytes & ~3),
    maxRecord: MAX_PACKET,
    batch: 256,
    active,
    timeoutMs,
  };
}

/**
 * Check a delivery mode: `true`, `false`, `'once'` or an integer from -32768 to 32767.
 *
 * @example
 * ```ts
 * checkActive('twice'); // throws RangeError
 * ```
 */
export function checkActive(mode: unknown): asserts mode is ActiveMode {
  if (mode === true || mode === false || mode === 'once') return;
  if (typeof mode === 'number' && Number.isInteger(mode) && mode >= -32768 && mode <= 32767) return;
  throw new RangeError(`active must be true, false, 'once' or an integer from -32768 to 32767, got ${JSON.stringify(mode)}`);
}

/**
 * One TUN/TAP interface: a device opened and owned by a worker thread, driven by an
 * xstate actor, with packets as an RxJS observable (active mode) or explicit reads
 * (passive mode), like the Erlang `tuncer` and `gen_tcp`.
 *
 * @example
 * ```ts
 * await using tun = await Tuncer.create({ name: 'tun0', mode: 'tun', addresses: ['198.18.0.1/24'] });
 * tun.setopt({ active: true });
 * tun.packets$.subscribe((p) => console.log(p.length));
 * ```
 */
export class Tuncer implements AsyncDisposable {
  readonly #cfg: ReturnType<typeof validate>;
  #log: Logger;
  readonly #rx: PacketRing;
  readonly #tx: PacketRing;
  readonly #packets = new Subject<Buffer>();
  readonly #events = new Subject<TunEvent>();
  readonly #actor: Actor<typeof tuncerMachine>;
  #worker: Worker | undefined;
  #ready!: { resolve: () => void; reject: (e: Error) => void };
  #exitResolve!: (r: TuncerExitReason) => void;
  #name: string;
  #credits = 0; // active mode: Infinity for true, remaining count otherwise
  #once = false;
  #armed = false;
  #flushQueued = false;
  #sendsWaiting = 0;
  #waiters: Waiter[] = [];
  #pending = new Map<number, Pending>();
  #nextId = 1;
  #delivered = 0;
  #txRingFull = 0;
  #lastStats: WorkerStats = { rxPackets: 0, rxBytes: 0, txPackets: 0, txBytes: 0, txErrors: 0, rxPauses: 0, kernelDrops: 0 };
  #closeTimer: NodeJS.Timeout | undefined;
  #finished = false;
  #readyDone = false;
  /** The worker said ready or fatal: its start-up run is over. */
  #startSettled = false;
  /** The start was given up (timeout, kill): when the worker reports, make it undo and end. */
  #abandonStart = false;
  #state: TuncerState = 'starting';
  #delivering = false;
  #workerGone: Promise<void> = Promise.resolve();

  /** Resolves once, when the interface has ended, with the reason. Never rejects. */
  readonly exit: Promise<TuncerExitReason>;
  /** Packets in active mode. Hot; completes when the interface ends normally, errors with the cause if it fails. */
  readonly packets$: Observable<Buffer>;
  /** Lifecycle events: state changes, up/down, active/passive, exit. Completes after `exit`. */
  readonly events$: Observable<TunEvent>;

  private constructor(cfg: ReturnType<typeof validate>, logger: Logger) {
    this.#cfg = cfg;
    this.#name = cfg.name;
    this.#log = logger;
    this.#rx = new PacketRing(cfg.rx);
    this.#tx = new PacketRing(cfg.tx);
    this.exit = new Promise((resolve) => (this.#exitResolve = resolve));
    this.packets$ = new Observable<Buffer>((subscriber) => {
      const sub = this.#packets.subscribe(subscriber);
      this.#pump(); // packets held back while nobody listened flow now
      return sub;
    });
    this.events$ = this.#events.asObservable();
    const runtime: TuncerRuntime = {
      spawn: () => this.#spawn(),
      close: (reason) => this.#requestClose(reason),
      kill: () => this.#kill(),
      finish: (reason) => this.#finish(reason),
    };
    this.#setCredits(cfg.active);
    this.#actor = createActor(tuncerMachine, { input: { runtime, name: cfg.name, active: cfg.active } });
    let last: TuncerState | undefined;
    this.#actor.subscribe({
      next: () => {
        const s = this.#stateOf();
        this.#state = s; // cached: the hot path reads it per batch
        if (s !== last) {
          last = s;
          this.#events.next({ type: 'state', state: s });
        }
      },
      error: (err) => this.#log.error({ err }, 'interface state machine failed'),
    });
  }

  /**
   * Create (or attach to) a device in a new worker thread and configure it. Resolves once
   * the device exists and is configured; rejects with the error of the step that failed
   * (a `TunError`, `TypeError` or `RangeError`), leaving no worker, fd or new device behind.
   *
   * @example
   * ```ts
   * const tun = await Tuncer.create({ mode: 'tun', addresses: ['198.18.0.1/24', 'fd00::1/64'] });
   * ```
   */
  static async create(opts: TuncerOptions = {}): Promise<Tuncer> {
    const cfg = validate(opts);
    const base = opts.logger ?? silent;
    const t = new Tuncer(cfg, base);
    const ready = new Promise<void>((resolve, reject) => (t.#ready = { resolve, reject }));
    t.#actor.start();
    await ready;
    return t;
  }

  /** The kernel's name for the device. */
  get devname(): string {
    return this.#name;
  }

  /** The device's `IFF_*` flags (TUNGETIFF at start). */
  get flags(): number {
    return this.#actor.getSnapshot().context.flags;
  }

  /** Where the interface is in its life. */
  get state(): TuncerState {
    return this.#state;
  }

  #stateOf(): TuncerState {
    const snap = this.#actor.getSnapshot();
    if (snap.matches({ running: 'active' })) return 'active';
    if (snap.matches('running')) return 'passive';
    return snap.value as TuncerState;
  }

  /** The xstate actor behind this interface (for inspection; send it nothing). */
  get actor(): Actor<typeof tuncerMachine> {
    return this.#actor;
  }

  /**
   * The fd number, owned by the worker thread. Use it only with `tunctl.read`/`write` while
   * the interface runs: the worker closes it when the interface ends.
   *
   * @example
   * ```ts
   * const packet = tunctl.read(tun.getfd());
   * ```
   */
  getfd(): number {
    return this.#actor.getSnapshot().context.fd;
  }

  // ---- lifecycle (worker side) ----

  #spawn(): void {
    const { active: _a, timeoutMs: _t, ...workerData } = this.#cfg;
    let worker: Worker;
    try {
      worker = new Worker(workerUrl(), { workerData, stdout: false, stderr: false });
    } catch (err) {
      queueMicrotask(() => this.#actor.send({ type: 'START_FAILED', error: err as Error }));
      return;
    }
    this.#worker = worker;
    this.#workerGone = new Promise((resolve) => worker.once('exit', () => resolve()));
    const startTimer = setTimeout(() => {
      this.#actor.send({ type: 'START_FAILED', error: new Error(`interface ${this.#cfg.name || '(new)'} did not start within ${this.#cfg.timeoutMs} ms`) });
    }, this.#cfg.timeoutMs);
    // An 'error' listener is what keeps a worker's crash from taking the process down.
    worker.on('error', (err) => {
      this.#log.error({ err }, 'interface worker crashed');
      this.#actor.send({ type: 'FAILED', error: err });
    });
    worker.on('exit', (code) => {
      clearTimeout(startTimer);
      this.#worker = undefined;
      const snap = this.#actor.getSnapshot();
      if (snap.matches('stopping')) this.#actor.send({ type: 'CLOSED' });
      else if (snap.status === 'active') this.#actor.send({ type: 'FAILED', error: new Error(`interface worker exited with code ${code}`) });
    });
    worker.on('message', (msg: WorkerMessage) => {
      switch (msg.type) {
        case 'ready': {
          clearTimeout(startTimer);
          this.#startSettled = true;
          if (this.#abandonStart) {
            // Too late: undo what this start did (a persistent device it created), then end.
            worker.postMessage({ id: 0, op: 'abandon', args: [] });
            return;
          }
          this.#name = msg.name;
          this.#log = this.#log.child({ ifname: msg.name });
          this.#readyDone = true;
          this.#actor.send({ type: 'READY', name: msg.name, flags: msg.flags, fd: msg.fd });
          this.#log.info({ flags: msg.flags, created: msg.created }, 'interface ready');
          this.#ready.resolve();
          return;
        }
        case 'fatal': {
          clearTimeout(startTimer);
          this.#startSettled = true;
          if (this.#abandonStart) {
            void worker.terminate();
            return;
          }
          const err = fromWire(msg.error);
          this.#actor.send(msg.phase === 'start' ? { type: 'START_FAILED', error: err } : { type: 'FAILED', error: err });
          return;
        }
        case 'reply': {
          if (msg.id === 0 && this.#abandonStart) {
            void worker.terminate(); // the abandoned start has been undone
            return;
          }
          const p = this.#pending.get(msg.id);
          if (!p) return;
          this.#pending.delete(msg.id);
          clearTimeout(p.timer);
          if (msg.ok) p.resolve(msg.value);
          else p.reject(fromWire(msg.error));
          return;
        }
      }
    });
  }

  #requestClose(_reason: TuncerExitReason): void {
    const worker = this.#worker;
    if (!worker) {
      queueMicrotask(() => this.#actor.send({ type: 'CLOSED' }));
      return;
    }
    const bound = Math.min(this.#cfg.timeoutMs, 2000);
    this.#closeTimer = setTimeout(() => this.#kill(), bound);
    this.#call('close', [], bound).then(
      () => this.#kill(),
      () => this.#kill(),
    );
  }

  #kill(): void {
    const worker = this.#worker;
    if (!worker) {
      if (this.#actor.getSnapshot().matches('stopping')) queueMicrotask(() => this.#actor.send({ type: 'CLOSED' }));
      return;
    }
    if (!this.#readyDone && !this.#startSettled) {
      // The worker's start-up is one synchronous run of ioctls: terminating it part-way could
      // leave a device it just made persistent. Let it finish (bounded), then have it undo.
      this.#abandonStart = true;
      setTimeout(() => void worker.terminate(), ABANDON_GRACE_MS).unref();
      return;
    }
    void worker.terminate();
  }

  #finish(reason: TuncerExitReason): void {
    if (this.#finished) return;
    this.#finished = true;
    clearTimeout(this.#closeTimer);
    this.#rx.close();
    this.#tx.close();
    const closed = new TuncerClosedError(this.#name, reason);
    for (const w of this.#waiters.splice(0)) {
      if (w.signal && w.onAbort) w.signal.removeEventListener('abort', w.onAbort);
      w.reject(closed);
    }
    for (const [id, p] of this.#pending) {
      clearTimeout(p.timer);
      p.reject(closed);
      this.#pending.delete(id);
    }
    // Settle only once the worker thread is gone, so "ended" means its fd is closed.
    void this.#workerGone.then(() => {
      if (!this.#readyDone) {
        this.#ready.reject(reason instanceof Error ? reason : closed);
      } else if (reason instanceof Error) {
        this.#log.error({ err: reason }, 'interface failed');
        this.#packets.error(reason);
      } else {
        this.#log.info({ reason }, 'interface stopped');
        this.#packets.complete();
      }
      this.#events.next({ type: 'exit', reason });
      this.#events.complete();
      this.#exitResolve(reason);
    });
  }


  // ---- control calls ----

  #call<T>(op: FdOp | NameOp | SpecialOp, args: unknown[], timeoutMs = this.#cfg.timeoutMs): Promise<T> {
    const worker = this.#worker;
    if (!worker || this.#finished) return Promise.reject(new TuncerClosedError(this.#name, this.#actor.getSnapshot().context.reason ?? 'normal'));
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(Object.assign(new Error(`${op} on ${this.#name} got no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' }));
      }, timeoutMs);
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      try {
        worker.postMessage({ id, op, args });
      } catch (err) {
        // An argument that cannot be cloned to the worker (a function, a symbol).
        clearTimeout(timer);
        this.#pending.delete(id);
        reject(new TypeError(`${op}: arguments cannot be sent to the worker (${(err as Error).message})`));
      }
    });
  }

  #running(): void {
    const s = this.state;
    if (s !== 'passive' && s !== 'active') throw new TuncerClosedError(this.#name, this.#actor.getSnapshot().context.reason ?? 'normal');
  }

  /**
   * Give the interface an address and bring it up (default prefix /24 or /64).
   *
   * @example
   * ```ts
   * await tun.up('198.18.0.1', 24);
   * ```
   */
  async up(addr: string, prefix?: number): Promise<void> {
    const { family } = parseIp(addr);
    if (prefix !== undefined) checkPrefix(family, prefix);
    await this.#call('up', prefix === undefined ? [addr] : [addr, prefix]);
    this.#events.next({ type: 'up', address: addr, ...(prefix !== undefined ? { prefix } : {}) });
  }

  /** Take the interface down. @example `await tun.down();` */
  async down(): Promise<void> {
    await this.#call('down', []);
    this.#events.next({ type: 'down' });
  }

  /** Keep the device after the interface ends (TUNSETPERSIST). @example `await tun.persist(true);` */
  async persist(on: boolean): Promise<void> {
    assertBool(on, 'persist');
    return this.#call('persist', [on]);
  }

  /** Let `uid` attach without privileges (TUNSETOWNER). @example `await tun.owner(1000);` */
  async owner(uid: number): Promise<void> {
    assertInt(uid, 'uid', 0, 0xfffffffe);
    return this.#call('owner', [uid]);
  }

  /** Let group `gid` attach without privileges (TUNSETGROUP). @example `await tun.group(1000);` */
  async group(gid: number): Promise<void> {
    assertInt(gid, 'gid', 0, 0xfffffffe);
    return this.#call('group', [gid]);
  }

  /** The MTU. @example `const n = await tun.mtu();` */
  async mtu(): Promise<number> {
    return this.#call('mtu', []);
  }

  /** Set the MTU (68..65535). @example `await tun.setMtu(1400);` */
  async setMtu(n: number): Promise<void> {
    assertInt(n, 'mtu', MTU_RANGE.min, MTU_RANGE.max);
    return this.#call('setMtu', [n]);
  }

  /** Set the IPv4 point-to-point peer. @example `await tun.dstaddr('198.18.0.2');` */
  async dstaddr(addr: string): Promise<void> {
    parseIp(addr);
    return this.#call('dstaddr', [addr]);
  }

  /** Set the IPv4 broadcast address. @example `await tun.broadcast('198.18.0.255');` */
  async broadcast(addr: string): Promise<void> {
    parseIp(addr);
    return this.#call('broadcast', [addr]);
  }

  /** The MAC address (taps). @example `const mac = await tun.hwaddr();` */
  async hwaddr(): Promise<string> {
    return this.#call('hwaddr', []);
  }

  /** Set the MAC address of a tap. @example `await tun.setHwaddr('02:00:00:00:00:01');` */
  async setHwaddr(mac: string): Promise<void> {
    parseMac(mac);
    return this.#call('setHwaddr', [mac]);
  }

  /** Turn the carrier on or off. @example `await tun.carrier(false);` */
  async carrier(on: boolean): Promise<void> {
    assertBool(on, 'carrier');
    return this.#call('carrier', [on]);
  }

  /** Set offloads (TUNSETOFFLOAD); see `tunctl.offload`. @example `await tun.offload({ csum: true, tso4: true });` */
  async offload(flags: OffloadFlags | number): Promise<number> {
    const mask = typeof flags === 'number' ? flags : offloadMask(flags);
    if (!Number.isInteger(mask) || mask < 0 || mask > 0xffff) throw new RangeError(`offload mask must be an integer from 0 to 65535, got ${mask}`);
    return this.#call('offload', [mask]);
  }

  /** TUNGETIFF: name and flags. @example `const { persist } = await tun.info();` */
  async info(): Promise<TunInfo> {
    return this.#call('info', []);
  }

  /** Primary IPv4 address, prefix, peer and broadcast. @example `const { address } = await tun.ipv4();` */
  ipv4(): Promise<Ipv4Config> {
    return this.#call('ipv4', []);
  }

  /**
   * Counters: packets and bytes each way, tx errors, ring pauses, packets delivered and
   * still queued.
   *
   * @example
   * ```ts
   * const { rxPackets, txPackets } = await tun.stats();
   * ```
   */
  async stats(): Promise<TunStats> {
    if (!this.#finished) this.#lastStats = await this.#call<WorkerStats>('stats', []);
    return { ...this.#lastStats, delivered: this.#delivered, queued: Math.max(0, this.#lastStats.rxPackets - this.#delivered), txRingFull: this.#txRingFull };
  }

  /**
   * Fault injection for tests and chaos drills: `'throw'` raises an uncaught exception in
   * the worker, `'hang'` spins it forever (only terminate ends it), `'exit'` ends its thread.
   *
   * @example
   * ```ts
   * await tun.injectFault('throw'); // the interface fails; a supervisor restarts it
   * ```
   */
  async injectFault(kind: 'throw' | 'hang' | 'exit'): Promise<void> {
    try {
      await this.#call('fault', [kind]);
    } catch (err) {
      // The fault can end the worker before its answer arrives: that is the fault working.
      if (!(err instanceof TuncerClosedError)) throw err;
    }
  }

  // ---- delivery modes ----

  /**
   * Choose how packets arrive, with `gen_tcp` semantics: `true` delivers every packet on
   * {@link packets$}; `'once'` delivers one, then turns passive; a number N adds to the
   * active counter (negative subtracts) and turns passive with a `passive` event at 0;
   * `false` stops delivery, and packets wait for {@link recv} (the rx ring, then the
   * kernel's queue, which drops when full, like any NIC).
   *
   * @example
   * ```ts
   * tun.setopt({ active: 10 });
   * tun.events$.pipe(filter((e) => e.type === 'passive')).subscribe(() => tun.setopt({ active: 10 }));
   * ```
   */
  setopt(opts: { active: ActiveMode }): void {
    assertOptions(opts, 'setopt option', ['active']);
    const mode = opts.active;
    checkActive(mode);
    this.#running();
    let next: ActiveMode = mode;
    if (typeof mode === 'number') {
      const current = this.state === 'active' && !this.#once && Number.isFinite(this.#credits) ? this.#credits : 0;
      next = Math.min(32767, Math.max(0, current + mode));
      if (next === 0) {
        const wasActive = this.state === 'active';
        this.#setCredits(false);
        this.#actor.send({ type: 'SETOPT', active: false });
        if (wasActive || mode <= 0) this.#events.next({ type: 'passive' });
        return;
      }
    }
    this.#setCredits(next);
    this.#actor.send({ type: 'SETOPT', active: next });
    this.#events.next({ type: 'active', mode: next });
    if (next !== false) {
      if (this.#waiters.length > 0) {
        // Pending reads were for passive mode.
        const err = tunErrorFromCode('EINVAL', 'recv', this.#name);
        for (const w of this.#waiters.splice(0)) w.reject(err);
      }
      this.#schedulePump();
    }
  }

  #pumpQueued = false;
  /** Deliver on the next microtask: setopt calls made in one tick take effect together. */
  #schedulePump(): void {
    if (this.#pumpQueued) return;
    this.#pumpQueued = true;
    queueMicrotask(() => {
      this.#pumpQueued = false;
      this.#pump();
    });
  }

  #setCredits(mode: ActiveMode): void {
    this.#once = mode === 'once';
    this.#credits = mode === true ? Infinity : mode === 'once' ? 1 : typeof mode === 'number' ? mode : 0;
  }

  /**
   * The next packet, in passive mode. Rejects with EINVAL in active mode (as the
   * original's `{error, einval}`), with the signal's reason when aborted, and with a
   * {@link TuncerClosedError} when the interface ends first.
   *
   * @example
   * ```ts
   * const packet = await tun.recv({ signal: AbortSignal.timeout(1000) });
   * ```
   */
  recv(opts: { size?: number; signal?: AbortSignal } = NO_RECV_OPTS): Promise<Buffer> {
    const size = opts?.size ?? MAX_PACKET;
    if (opts !== NO_RECV_OPTS) {
      try {
        assertOptions(opts, 'recv option', ['size', 'signal']);
        assertInt(size, 'size', 1, MAX_PACKET);
      } catch (err) {
        return Promise.reject(err);
      }
    }
    const signal = opts.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const s = this.state;
    if (s === 'active') return Promise.reject(tunErrorFromCode('EINVAL', 'recv', this.#name));
    if (s !== 'passive') return Promise.reject(new TuncerClosedError(this.#name, this.#actor.getSnapshot().context.reason ?? 'normal'));
    if (this.#waiters.length === 0) {
      const p = this.#take(size);
      if (p) return Promise.resolve(p);
    }
    return new Promise<Buffer>((resolve, reject) => {
      const w: Waiter = { resolve, reject, size, signal, onAbort: undefined };
      if (signal) {
        w.onAbort = () => {
          const i = this.#waiters.indexOf(w);
          if (i >= 0) this.#waiters.splice(i, 1);
          reject(signal.reason);
        };
        signal.addEventListener('abort', w.onAbort, { once: true });
      }
      this.#waiters.push(w);
      this.#pump();
    });
  }

  /**
   * Read passively until the interface ends.
   *
   * @example
   * ```ts
   * for await (const packet of tun) console.log(packet.length);
   * ```
   */
  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer, void, undefined> {
    for (;;) {
      try {
        yield await this.recv();
      } catch (err) {
        if (err instanceof TuncerClosedError) return;
        throw err;
      }
    }
  }

  /** Take one packet off the ring (copy), or null. */
  #take(size: number): Buffer | null {
    const rx = this.#rx;
    if (!rx.readable()) return null;
    const pos = rx.readStart;
    const len = rx.lengthAt(pos);
    const n = len < size ? len : size;
    const out = Buffer.allocUnsafe(n);
    out.set(rx.data.subarray(pos + 4, pos + 4 + n));
    rx.release(pos + recordSize(len));
    rx.ack();
    this.#delivered += 1;
    return out;
  }

  /** Deliver what the mode allows, then wait for more only if someone wants it. */
  #pump = (): void => {
    if (this.#delivering) {
      this.#schedulePump(); // called from a subscriber's callback: after the current delivery
      return;
    }
    for (;;) {
      if (this.#finished) return;
      const seen = this.#rx.seqCount();
      this.#deliver();
      if (!this.#wants()) return;
      if (!this.#rx.isEmpty()) continue;
      if (this.#armed) return; // a wake-up is already on its way
      const wait = this.#rx.waitData(seen);
      if (!wait) continue;
      this.#armed = true;
      void wait.then(this.#onWake);
      return;
    }
  };

  #onWake = (): void => {
    this.#armed = false;
    this.#pump();
  };

  #wants(): boolean {
    if (this.state === 'active') return this.#credits > 0 && this.#packets.observed;
    return this.#waiters.length > 0;
  }

  /** Deliver what the mode allows; re-entered from a subscriber's callback, it defers. */
  #deliver(): void {
    if (this.#delivering) {
      this.#schedulePump();
      return;
    }
    this.#delivering = true;
    try {
      this.#deliverRuns();
    } finally {
      this.#delivering = false;
    }
  }

  /** May this thread hand out one more packet now? */
  #canHandOut(): boolean {
    return this.#state === 'active' ? this.#credits > 0 && this.#packets.observed : this.#waiters.length > 0;
  }

  #deliverRuns(): void {
    const rx = this.#rx;
    while (rx.readable()) {
      let pos = rx.readStart;
      const end = rx.readEnd;
      let moved = false;
      while (pos < end && this.#canHandOut()) {
        // One copy (and one allocation) for a run of small records; packets are views of it.
        const budget = this.#state === 'active' ? this.#credits : this.#waiters.length;
        let stop = pos;
        let count = 0;
        do {
          stop += recordSize(rx.lengthAt(stop));
          count += 1;
        } while (stop < end && count < budget && stop - pos + recordSize(rx.lengthAt(stop)) <= DELIVERY_CHUNK);
        const chunk = Buffer.allocUnsafe(stop - pos);
        chunk.set(rx.data.subarray(pos, stop));
        let off = 0;
        while (off < chunk.length && this.#canHandOut()) {
          const len = rx.lengthAt(pos + off);
          const w = this.#state === 'active' ? undefined : this.#waiters.shift();
          const n = w && w.size < len ? w.size : len;
          const packet = chunk.subarray(off + 4, off + 4 + n);
          off += recordSize(len);
          // Released before it is handed out: a subscriber may recv() the next one.
          rx.release(pos + off);
          moved = true;
          this.#delivered += 1;
          if (w) {
            if (w.signal && w.onAbort) w.signal.removeEventListener('abort', w.onAbort);
            w.resolve(packet);
          } else {
            this.#credits -= 1;
            this.#packets.next(packet);
            if (this.#credits <= 0) this.#goPassive();
            // A subscriber that read from the ring itself moved the position: start over.
            if (rx.consumerPosition() !== pos + off) {
              off = -1;
              break;
            }
          }
        }
        if (off < 0) {
          pos = end + 1; // restart the outer loop from wherever the ring is now
          break;
        }
        pos += off;
        if (pos < stop) break; // the mode changed part-way through the run
      }
      if (moved) rx.ack();
      if (pos > end) continue;
      if (pos < end) return;
    }
  }

  #goPassive(): void {
    const once = this.#once;
    this.#setCredits(false);
    this.#actor.send({ type: 'PASSIVE' });
    if (!once) this.#events.next({ type: 'passive' });
  }

  // ---- sending ----

  /**
   * Queue one packet for the kernel without waiting: false when the tx ring is full
   * (counted in `stats().txRingFull`). The worker writes queued packets in batches; a
   * packet the kernel rejects is counted in `stats().txErrors`.
   *
   * @example
   * ```ts
   * if (!tun.trySend(packet)) await tun.send(packet);
   * ```
   */
  trySend(packet: Uint8Array): boolean {
    assertBytes(packet, 'packet');
    if (packet.length === 0 || packet.length > MAX_PACKET) throw new RangeError(`a packet is 1 to ${MAX_PACKET} bytes, got ${packet.length}`);
    this.#running();
    if (!this.#tx.tryWrite(packet)) {
      this.#txRingFull += 1;
      return false;
    }
    if (!this.#flushQueued) {
      this.#flushQueued = true;
      queueMicrotask(this.#flush);
    }
    return true;
  }

  #flush = (): void => {
    this.#flushQueued = false;
    this.#tx.publish();
  };

  /**
   * Send one packet, waiting for room in the tx ring if it is full.
   *
   * @example
   * ```ts
   * await tun.send(packet);
   * ```
   */
  async send(packet: Uint8Array): Promise<void> {
    for (;;) {
      const seen = this.#tx.ackCount();
      if (this.trySend(packet)) return;
      // Ask the worker to wake us when it makes room, for as long as any send() waits.
      if (this.#sendsWaiting++ === 0) this.#tx.setPaused(true);
      this.#flush();
      let result: unknown;
      try {
        const wait = this.#tx.waitAck(seen, this.#cfg.timeoutMs);
        result = wait ? await wait : 'ok';
      } finally {
        if (--this.#sendsWaiting === 0) this.#tx.setPaused(false);
      }
      if (result === 'timed-out') {
        throw Object.assign(new Error(`send on ${this.#name}: the worker took no packet for ${this.#cfg.timeoutMs} ms`), { code: 'ETIMEDOUT' });
      }
    }
  }

  // ---- ending ----

  /**
   * Close the device and end the worker. A non-persistent device disappears; a
   * persistent one stays with its configuration. Pending `recv`s reject at once.
   * Idempotent.
   *
   * @example
   * ```ts
   * await tun.destroy();
   * ```
   */
  async destroy(): Promise<void> {
    this.#end('normal');
    await this.exit;
  }

  /** Stop as asked by a supervisor (exit reason `'shutdown'`). @example `await tun.stop();` */
  async stop(): Promise<void> {
    this.#end('shutdown');
    await this.exit;
  }

  /** End at once: terminate the worker (its cleanup closes the fd). @example `await tun.kill();` */
  async kill(): Promise<void> {
    this.#actor.send({ type: 'KILL' });
    await this.exit;
  }

  #end(reason: 'normal' | 'shutdown'): void {
    const snap = this.#actor.getSnapshot();
    if (snap.matches('starting')) this.#actor.send({ type: 'KILL' });
    else this.#actor.send({ type: 'DESTROY', reason });
  }

  /** `await using tun = await Tuncer.create(...)` destroys it at the end of the block. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.destroy();
  }
}
