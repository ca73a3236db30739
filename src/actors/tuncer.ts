/**
 * `Tuncer`: one TUN/TAP interface as an actor whose fd lives in its own worker thread.
 *
 * ```
 *   main thread                                           worker thread (tunWorker)
 *   ───────────                                           ─────────────────────────
 *   Tuncer ── tuncerMachine (lifecycle) ── WorkerLink ──▶ start, close, terminate
 *     │  packets$ / recv() / for await ◀── RxDelivery ◀── rx ring ◀── readRecords (on demand)
 *     │  send() / trySend()            ──▶ TxQueue    ──▶ tx ring ──▶ writeRecords
 *     └─ control calls (up, mtu, ...)  ──▶ WorkerLink ──▶ postMessage ─▶ tunctl.* on the fd/name
 * ```
 * This class is the public face and holds no lifecycle logic: the machine decides, the
 * link talks to the thread, the delivery owns the active mode, the queue owns sending.
 * @module
 */
import { Observable, Subject } from 'rxjs';
import { createActor, type Actor } from 'xstate';
import { pino, type Logger } from 'pino';
import { PacketRing } from './packetRing.js';
import { tuncerMachine, type TuncerExitReason } from './tuncerMachine.js';
import { checkActive, resolveTuncerOptions, type ActiveMode, type TuncerConfig, type TuncerOptions } from './tuncerOptions.js';
import { RxDelivery, type ModeEvent } from './rxDelivery.js';
import { TxQueue } from './txQueue.js';
import { WorkerLink } from './workerLink.js';
import type { FdOp, NameOp, SpecialOp, WorkerStats } from './messages.js';
import type { OffloadFlags, TunInfo, Ipv4Config } from '../tunctl/index.js';
import { offloadMask } from '../tunctl/fdControl.js';
import { assertBool, assertInt, assertOptions } from '../tunctl/validate.js';
import { MTU_RANGE } from '../tunctl/netif.js';
import { MAX_PACKET } from '../tunctl/packetIo.js';
import { parseIp, checkPrefix } from '../packet/ipAddress.js';
import { parseMac } from '../packet/mac.js';
import { tunErrorFromCode } from '../native/tunError.js';

export { checkActive, type ActiveMode, type TuncerOptions } from './tuncerOptions.js';

/** What {@link Tuncer.events$} reports. */
export type TunEvent =
  | { type: 'state'; state: TuncerState }
  | { type: 'up'; address?: string; prefix?: number }
  | { type: 'down' }
  | { type: 'active'; mode: ActiveMode }
  | { type: 'passive' }
  | { type: 'exit'; reason: TuncerExitReason };

/** Where an interface is in its life; `'active'`/`'passive'` are the running states. */
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
 * Raised to pending `recv`, `send` and control calls when the interface ends, and by
 * calls made after it ended (or while it stops).
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

type FaultKind = 'throw' | 'hang' | 'exit' | 'fatal';

const silent = pino({ level: 'silent' });
const NO_RECV_OPTS: { size?: number; signal?: AbortSignal } = Object.freeze({});

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
  readonly #cfg: TuncerConfig;
  #log: Logger;
  #name: string;
  readonly #link: WorkerLink;
  readonly #rxRing: PacketRing;
  readonly #txRing: PacketRing;
  readonly #rx: RxDelivery;
  readonly #tx: TxQueue;
  readonly #events = new Subject<TunEvent>();
  readonly #actor: Actor<typeof tuncerMachine>;
  #state: TuncerState = 'starting';
  #ran = false;
  #started!: { resolve: () => void; reject: (e: Error) => void };
  readonly #startedP: Promise<void>;
  #exitResolve!: (r: TuncerExitReason) => void;
  #lastStats: WorkerStats = { rxPackets: 0, rxBytes: 0, txPackets: 0, txBytes: 0, txErrors: 0, rxPauses: 0, kernelDrops: 0 };

  /** Resolves once, when the interface has ended (its thread and fd are gone), with the reason. Never rejects. */
  readonly exit: Promise<TuncerExitReason>;
  /** Packets in active mode. Hot; completes when the interface ends normally, errors with the cause if it fails. */
  readonly packets$: Observable<Buffer>;
  /** Lifecycle events: state changes, up/down, active/passive, exit. Completes after `exit`. */
  readonly events$: Observable<TunEvent>;

  private constructor(cfg: TuncerConfig) {
    this.#cfg = cfg;
    this.#name = cfg.name;
    this.#log = cfg.logger ?? silent;
    this.#rxRing = new PacketRing(cfg.rx);
    this.#txRing = new PacketRing(cfg.tx);
    const { active: _a, timeoutMs: _t, logger: _l, ...workerConfig } = cfg;
    this.#link = new WorkerLink(workerConfig, (err) => this.#log.error({ err }, 'interface worker crashed'));
    this.#rx = new RxDelivery(this.#rxRing, () => this.#name, (e) => this.#modeChanged(e));
    this.#rx.init(cfg.active);
    this.#tx = new TxQueue(this.#txRing, () => this.#checkRunning(), cfg.timeoutMs, () => this.#name);
    this.exit = new Promise((resolve) => (this.#exitResolve = resolve));
    this.#startedP = new Promise((resolve, reject) => (this.#started = { resolve, reject }));
    const rx = this.#rx;
    this.packets$ = new Observable<Buffer>((subscriber) => {
      const sub = rx.packets.subscribe(subscriber);
      rx.pump(); // packets held back while nobody listened flow now
      return () => {
        sub.unsubscribe();
        rx.pump(); // the last subscriber gone: no more demand
      };
    });
    this.events$ = this.#events.asObservable();
    this.#actor = createActor(tuncerMachine, { input: { link: this.#link, timeoutMs: cfg.timeoutMs, name: cfg.name } });
    this.#actor.subscribe({
      next: () => this.#follow(),
      error: (err) => this.#log.error({ err }, 'interface state machine failed'),
    });
    this.#actor.start();
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
    const t = new Tuncer(resolveTuncerOptions(opts));
    await t.#startedP;
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

  /** The xstate actor behind this interface (for inspection; send it nothing). */
  get actor(): Actor<typeof tuncerMachine> {
    return this.#actor;
  }

  /**
   * The fd number, owned by the worker thread, while the interface runs; throws a
   * {@link TuncerClosedError} once it stops, since the number may then belong to anyone.
   * In passive mode nothing reads the fd until `recv()` is called, so packets wait in the
   * kernel's queue for `tunctl.read(tun.getfd())`.
   *
   * @example
   * ```ts
   * const packet = tunctl.read(tun.getfd());
   * ```
   */
  getfd(): number {
    this.#checkRunning();
    return this.#actor.getSnapshot().context.fd;
  }

  // ---- following the machine ----

  #follow(): void {
    const snap = this.#actor.getSnapshot();
    if (snap.status === 'done') {
      this.#setState(snap.value === 'failed' ? 'failed' : 'stopped');
      this.#settle(snap.context.reason ?? 'normal');
      return;
    }
    if (snap.matches({ alive: 'running' })) {
      if (!this.#ran) {
        this.#ran = true;
        this.#name = snap.context.name;
        this.#log = this.#log.child({ ifname: this.#name });
        this.#log.info({ flags: snap.context.flags }, 'interface ready');
      }
      this.#setState(this.#rx.active ? 'active' : 'passive');
      this.#started.resolve();
    } else if (!snap.matches({ alive: 'starting' })) {
      this.#setState('stopping');
    }
  }

  #setState(s: TuncerState): void {
    if (s === this.#state) return;
    this.#state = s;
    this.#events.next({ type: 'state', state: s });
  }

  #modeChanged(e: ModeEvent | null): void {
    if (this.#state === 'active' || this.#state === 'passive') this.#setState(this.#rx.active ? 'active' : 'passive');
    if (e) this.#events.next(e);
  }

  /** The machine reached a final state: the thread has exited, so its fd is closed. */
  #settle(reason: TuncerExitReason): void {
    const closed = new TuncerClosedError(this.#name, reason);
    this.#rxRing.close();
    this.#txRing.close();
    this.#rx.close(closed);
    this.#link.rejectAll(closed);
    if (!this.#ran) {
      this.#started.reject(reason instanceof Error ? reason : closed);
    } else if (reason instanceof Error) {
      this.#log.error({ err: reason }, 'interface failed');
      this.#rx.packets.error(reason);
    } else {
      this.#log.info({ reason }, 'interface stopped');
      this.#rx.packets.complete();
    }
    this.#events.next({ type: 'exit', reason });
    this.#events.complete();
    this.#exitResolve(reason);
  }

  #closedError(): TuncerClosedError {
    return new TuncerClosedError(this.#name, this.#actor.getSnapshot().context.reason ?? 'normal');
  }

  /** Throws unless the interface runs and its worker has not closed the rings (a fatal error it has not reported yet). */
  #checkRunning(): void {
    const s = this.#state;
    if ((s !== 'passive' && s !== 'active') || this.#txRing.closed) throw this.#closedError();
  }

  // ---- control calls ----

  #call<T>(op: FdOp | NameOp | SpecialOp, args: unknown[]): Promise<T> {
    const s = this.#state;
    if (s !== 'passive' && s !== 'active') return Promise.reject(this.#closedError());
    return this.#link.call<T>(op, args, this.#cfg.timeoutMs, () => this.#closedError());
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
   * still queued. After the interface ended: the last counters read.
   *
   * @example
   * ```ts
   * const { rxPackets, txPackets } = await tun.stats();
   * ```
   */
  async stats(): Promise<TunStats> {
    if (this.#state === 'active' || this.#state === 'passive') this.#lastStats = await this.#call<WorkerStats>('stats', []);
    const delivered = this.#rx.delivered;
    return { ...this.#lastStats, delivered, queued: Math.max(0, this.#lastStats.rxPackets - delivered), txRingFull: this.#tx.ringFull };
  }

  /**
   * Fault injection for tests and chaos drills: `'throw'` raises an uncaught exception in
   * the worker, `'hang'` spins it forever (only terminate ends it), `'exit'` ends its thread,
   * `'fatal'` takes the worker's own fatal-error path (as a failed read would).
   *
   * @example
   * ```ts
   * await tun.injectFault('throw'); // the interface fails; a supervisor restarts it
   * ```
   */
  async injectFault(kind: FaultKind): Promise<void> {
    try {
      await this.#call('fault', [kind]);
    } catch (err) {
      // The fault can end the worker before its answer arrives: that is the fault working.
      if (!(err instanceof TuncerClosedError)) throw err;
    }
  }

  // ---- receiving ----

  /**
   * Choose how packets arrive, with `gen_tcp` semantics: `true` delivers every packet on
   * {@link packets$}; `'once'` delivers one, then turns passive; a number N adds to the
   * active counter (negative subtracts) and turns passive with a `passive` event at 0;
   * `false` stops delivery, and packets wait for {@link recv} in the kernel's queue (which
   * drops when full, like any NIC). A call made inside a `packets$` callback takes effect
   * at once and is final: no `passive` event follows for the credit that callback used.
   *
   * @example
   * ```ts
   * tun.setopt({ active: 10 });
   * tun.events$.pipe(filter((e) => e.type === 'passive')).subscribe(() => tun.setopt({ active: 10 }));
   * ```
   */
  setopt(opts: { active: ActiveMode }): void {
    assertOptions(opts, 'setopt option', ['active']);
    checkActive(opts.active);
    this.#checkRunning();
    this.#rx.setMode(opts.active);
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
    const s = this.#state;
    if (s === 'active') return Promise.reject(tunErrorFromCode('EINVAL', 'recv', this.#name));
    if (s !== 'passive') return Promise.reject(this.#closedError());
    return this.#rx.recv(size, signal);
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

  // ---- sending ----

  /**
   * Queue one packet for the kernel without waiting: false when the tx ring is full
   * (counted in `stats().txRingFull`). The worker writes queued packets in batches; a
   * packet the kernel rejects is counted in `stats().txErrors`. Throws a
   * {@link TuncerClosedError} once the interface has ended or its worker has failed.
   *
   * @example
   * ```ts
   * if (!tun.trySend(packet)) await tun.send(packet);
   * ```
   */
  trySend(packet: Uint8Array): boolean {
    return this.#tx.trySend(packet);
  }

  /**
   * Send one packet, waiting for room in the tx ring if it is full.
   *
   * @example
   * ```ts
   * await tun.send(packet);
   * ```
   */
  send(packet: Uint8Array): Promise<void> {
    return this.#tx.send(packet);
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
    this.#request({ type: 'STOP', reason: 'normal' });
    await this.exit;
  }

  /** Stop as asked by a supervisor (exit reason `'shutdown'`). @example `await tun.stop();` */
  async stop(): Promise<void> {
    this.#request({ type: 'STOP', reason: 'shutdown' });
    await this.exit;
  }

  /** End at once: terminate the worker (its cleanup closes the fd). @example `await tun.kill();` */
  async kill(): Promise<void> {
    this.#request({ type: 'KILL' });
    await this.exit;
  }

  /** Ask the machine to end the interface; once it has ended, asking again changes nothing. */
  #request(event: { type: 'STOP'; reason: 'normal' | 'shutdown' } | { type: 'KILL' }): void {
    if (this.#actor.getSnapshot().status === 'active') this.#actor.send(event);
  }

  /** `await using tun = await Tuncer.create(...)` destroys it at the end of the block. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.destroy();
  }
}
