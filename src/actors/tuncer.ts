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
import { Subject, type Observable } from 'rxjs';
import { createActor, type Actor } from 'xstate';
import { pino, type Logger } from 'pino';
import { PacketRing } from './packetRing.js';
import { tuncerMachine, CLOSE_BOUND_MS, type TuncerExitReason } from './tuncerMachine.js';
import { checkActive, queueConfig, receiveLimit, resolveTuncerOptions, DEFAULT_BATCH_MAX, type ActiveMode, type TuncerConfig, type TuncerOptions } from './tuncerOptions.js';
import type { MainReader } from './mainReader.js';
import { RxDelivery, type ModeEvent } from './rxDelivery.js';
import { demandDriven } from './activeCredits.js';
import { TxQueue } from './txQueue.js';
import { MergedDelivery } from './mergedDelivery.js';
import { QueueSet, type TxPort } from './queueSet.js';
import { QueueGroup, type QueuePort } from './queueGroup.js';
import { flowLayout } from './flowHash.js';
import { TuncerClosedError } from './tuncerClosedError.js';
import { untilClosed } from './readLoops.js';
import { NO_WORKER_STATS, queueStats, type TunStats, type TuncerStats } from './tuncerStats.js';
import type { PacketBatch } from './packetBatch.js';
import { WorkerLink } from './workerLink.js';
import { TuncerControls } from './tuncerControls.js';
import type { TunEvent, TuncerState } from './tunEvent.js';
import type { FaultKind, FdOp, NameOp, SpecialOp, WorkerStats } from './messages.js';
import { assertInt, assertOptions } from '../tunctl/validate.js';
import { MAX_PACKET } from '../tunctl/packetIo.js';
import { tunErrorFromCode } from '../native/tunError.js';

export { checkActive, type ActiveMode, type TuncerOptions } from './tuncerOptions.js';
export type { TunEvent, TuncerState } from './tunEvent.js';
export { TuncerClosedError } from './tuncerClosedError.js';
export type { TunStats, QueueStats, TuncerStats } from './tuncerStats.js';

const silent = pino({ level: 'silent' });
const NO_RECV_OPTS: { size?: number; signal?: AbortSignal } = Object.freeze({});
const NO_BATCH_OPTS: { max?: number; signal?: AbortSignal } = Object.freeze({});

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
export class Tuncer extends TuncerControls implements AsyncDisposable {
  readonly #cfg: TuncerConfig;
  #log: Logger;
  #name: string;
  readonly #link: WorkerLink;
  readonly #rxRing: PacketRing;
  readonly #txRing: PacketRing;
  /** What the interface delivers: this queue's own delivery, or the merge of every queue's. */
  readonly #rx: RxDelivery | MergedDelivery;
  /** This queue's own delivery off its rx ring. */
  readonly #queueRx: RxDelivery;
  /** Reads on this thread while traffic is sparse (single-queue interfaces). */
  readonly #reader: MainReader | undefined;
  readonly #tx: TxQueue;
  /** Where packets are sent: this queue alone, or every queue of the interface by flow. */
  #sender: QueueSet;
  /** Every queue of a multi-queue interface (this one is queue 0), once `create` attaches them. */
  #group: QueueGroup | undefined;
  /** This queue's index; queues other than 0 are internal to queue 0's interface. */
  readonly #queueIndex: number;
  readonly #events = new Subject<TunEvent>();
  readonly #actor: Actor<typeof tuncerMachine>;
  #state: TuncerState = 'starting';
  #ran = false;
  #started!: { resolve: () => void; reject: (e: Error) => void };
  readonly #startedP: Promise<void>;
  #exitResolve!: (r: TuncerExitReason) => void;
  #lastStats: WorkerStats = NO_WORKER_STATS;

  /** Resolves once, when the interface has ended (its thread and fd are gone), with the reason. Never rejects. */
  readonly exit: Promise<TuncerExitReason>;
  /** Packets in active mode, each its own copy. Hot; completes when the interface ends normally, errors with the cause if it fails. */
  readonly packets$: Observable<Buffer>;
  /**
   * Packets in active mode as {@link PacketBatch}es of views into the ring: no copy, one
   * emission per batch. A batch is valid until the subscriber's callback returns. Credits
   * (`active: N`) count packets; a batch never holds more than are left. With subscribers on
   * both, `packets$` gets copies of the same packets.
   */
  readonly batches$: Observable<PacketBatch>;
  /** Lifecycle events: state changes, up/down, active/passive, exit. Completes after `exit`. */
  readonly events$: Observable<TunEvent>;

  private constructor(cfg: TuncerConfig, queueIndex = 0) {
    super();
    this.#cfg = cfg;
    this.#queueIndex = queueIndex;
    this.#name = cfg.name;
    this.#log = cfg.logger ?? silent;
    this.#rxRing = new PacketRing(cfg.rx);
    this.#txRing = new PacketRing(cfg.tx);
    const { active: _a, timeoutMs: _t, logger: _l, queues: _q, ...workerConfig } = cfg;
    this.#link = new WorkerLink(workerConfig, {
      onCrash: (err) => this.#log.error({ err }, 'interface worker crashed'),
      onLog: (level, msg, data) => this.#log[level](data, msg),
      onEvent: (e) => this.#events.next(e),
    });
    this.#queueRx = new RxDelivery(this.#rxRing, () => this.#name, (e) => this.#modeChanged(e), cfg.poisonReleased);
    if (cfg.queues > 1) {
      // The queues' own deliveries stay passive; the merge owns the interface's mode.
      this.#queueRx.init(false);
      this.#rx = new MergedDelivery(() => this.#name, (e) => this.#modeChanged(e));
    } else {
      this.#rx = this.#queueRx;
    }
    // Sparse traffic is read on this thread once the worker hands the reads over (single-queue interfaces only).
    this.#reader = cfg.queues === 1 && queueIndex === 0 ? this.#queueRx.readHere(this.#txRing, cfg.maxRecord, cfg.batch) : undefined;
    this.#rx.init(cfg.active);
    this.#tx = new TxQueue(this.#txRing, () => this.#checkRunning(), cfg.timeoutMs, () => this.#name);
    this.#sender = new QueueSet([this.#txPort()], flowLayout(cfg.create));
    this.exit = new Promise((resolve) => (this.#exitResolve = resolve));
    this.#startedP = new Promise((resolve, reject) => (this.#started = { resolve, reject }));
    const pump = (): void => this.#rx.pump();
    this.packets$ = demandDriven(this.#rx.packets, pump);
    this.batches$ = demandDriven(this.#rx.batches, pump);
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
    const cfg = resolveTuncerOptions(opts);
    const t = new Tuncer(cfg);
    await t.#startedP;
    if (cfg.queues > 1) await t.#attachQueues(cfg);
    return t;
  }

  /**
   * Queue 0 runs (the device exists, configured): attach queues 1..N-1, each a queue of
   * its own with its own worker and rings, then merge them. One that fails to attach ends
   * the interface, and create rejects with its error.
   */
  async #attachQueues(cfg: TuncerConfig): Promise<void> {
    const extra = Array.from({ length: cfg.queues - 1 }, (_, i) => new Tuncer(queueConfig(cfg, this.#name, i + 1), i + 1));
    const fail = (error: Error): void => {
      if (this.#actor.getSnapshot().status === 'active') this.#actor.send({ type: 'FAILED', error });
    };
    const group = new QueueGroup([this, ...extra].map((q) => q.#port()), flowLayout(cfg.create), () => this.#name, fail);
    this.#group = group;
    this.#sender = group.sender;
    const failed = await group.attached();
    const snap = this.#actor.getSnapshot();
    if (failed || snap.status !== 'active' || !snap.matches({ alive: 'running' })) {
      // As a failed start does: queue 0's worker undoes what it made (a device it created
      // persistent is un-persisted) and closes its fd, then every queue is ended.
      await this.#link.call('abandon', [], Math.min(this.#cfg.timeoutMs, CLOSE_BOUND_MS)).catch(() => undefined);
      await this.kill();
      const reason = this.#actor.getSnapshot().context.reason;
      throw failed ?? (reason instanceof Error ? reason : this.#closedError());
    }
    (this.#rx as MergedDelivery).setSources(group.sources());
  }

  /** This queue as the group of a multi-queue interface sees it. */
  #port(): QueuePort {
    return {
      index: this.#queueIndex,
      started: this.#startedP,
      exit: this.exit,
      running: () => this.#running(),
      tx: this.#txPort(),
      recvBatch: (max, signal) => (this.#running() ? this.#queueRx.recvBatch(max, signal) : Promise.reject(this.#closedError())),
      stats: () => this.#queueStats(),
      destroy: () => this.destroy(),
      kill: () => this.kill(),
      fault: (kind) => this.injectFault(kind),
    };
  }

  /** This queue's send side, as a set of queues sends through it. */
  #txPort(): TxPort {
    return { tx: this.#tx, ring: this.#txRing, check: () => this.#checkRunning() };
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
   * The fd number (on a multi-queue interface, queue 0's), owned by the worker thread, while the interface runs; throws a
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
      const done = (): void => {
        this.#setState(snap.value === 'failed' ? 'failed' : 'stopped');
        this.#settle(snap.context.reason ?? 'normal');
      };
      // A multi-queue interface has ended when every queue's thread (and fd) is gone.
      if (this.#group) {
        this.#setState('stopping');
        void this.#group.end(snap.context.reason).then(done);
      } else {
        done();
      }
      return;
    }
    if (snap.matches({ alive: 'running' })) {
      if (!this.#ran) {
        this.#ran = true;
        this.#name = snap.context.name;
        this.#log = this.#log.child({ ifname: this.#name });
        this.#log.info({ flags: snap.context.flags }, 'interface ready');
        this.#tx.useFd(snap.context.fd);
        this.#reader?.useFd(snap.context.fd);
      }
      this.#setState(this.#rx.active ? 'active' : 'passive');
      this.#started.resolve();
    } else if (!snap.matches({ alive: 'starting' })) {
      this.#setState('stopping');
      void this.#group?.end(snap.context.reason);
    }
  }

  #setState(s: TuncerState): void {
    if (s === this.#state) return;
    this.#state = s;
    this.#events.next({ type: 'state', state: s });
  }

  #modeChanged(e: ModeEvent | null): void {
    if (this.#running()) this.#setState(this.#rx.active ? 'active' : 'passive');
    if (e) this.#events.next(e);
  }

  /** The machine reached a final state: the thread has exited, so its fd is closed. */
  #settle(reason: TuncerExitReason): void {
    const closed = new TuncerClosedError(this.#name, reason);
    this.#rxRing.close();
    this.#txRing.close();
    this.#rx.close(closed);
    if (this.#queueRx !== this.#rx) this.#queueRx.close(closed);
    this.#link.rejectAll(closed);
    if (!this.#ran) {
      this.#started.reject(reason instanceof Error ? reason : closed);
    } else if (reason instanceof Error) {
      this.#log.error({ err: reason }, 'interface failed');
      this.#rx.packets.error(reason);
      this.#rx.batches.error(reason);
    } else {
      this.#log.info({ reason }, 'interface stopped');
      this.#rx.packets.complete();
      this.#rx.batches.complete();
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
    if (!this.#running() || this.#txRing.closed) throw this.#closedError();
  }

  /** The interface runs (active or passive). */
  #running(): boolean {
    return this.#state === 'active' || this.#state === 'passive';
  }

  // ---- control calls ----

  /** A control request to the worker, while the interface runs. */
  protected override control<T>(op: FdOp | NameOp | SpecialOp, args: unknown[]): Promise<T> {
    if (!this.#running()) return Promise.reject(this.#closedError());
    return this.#link.call<T>(op, args, this.#cfg.timeoutMs, () => this.#closedError());
  }

  protected override emit(e: TunEvent): void {
    this.#events.next(e);
  }

  /**
   * Counters: packets and bytes each way, tx errors, ring pauses, packets delivered and
   * still queued. After the interface ended: the last counters read. On a multi-queue
   * interface, the totals and `queues`, each queue's own counters.
   *
   * @example
   * ```ts
   * const { rxPackets, txPackets } = await tun.stats();
   * ```
   */
  async stats(): Promise<TuncerStats> {
    return this.#group ? this.#group.stats(this.#rx.delivered) : this.#queueStats();
  }

  /** This queue's counters (after it ended: the last read). */
  async #queueStats(): Promise<TunStats> {
    if (this.#running()) {
      try {
        this.#lastStats = await this.control<WorkerStats>('stats', []);
      } catch (err) {
        // A queue other than 0 that ended meanwhile: its last counters.
        if (this.#queueIndex === 0 || !(err instanceof TuncerClosedError)) throw err;
      }
    }
    return queueStats(this.#lastStats, this.#tx, this.#queueRx.delivered, this.#reader);
  }

  /**
   * Fault injection for tests and chaos drills: `'throw'` raises an uncaught exception in
   * the worker, `'hang'` spins it forever (only terminate ends it), `'exit'` ends its thread,
   * `'fatal'` takes the worker's own fatal-error path (as a failed read would). On a
   * multi-queue interface, `queue` picks the queue whose worker takes the fault (default 0);
   * any queue's failure fails the interface.
   *
   * @example
   * ```ts
   * await tun.injectFault('throw'); // the interface fails; a supervisor restarts it
   * await mq.injectFault('exit', { queue: 1 }); // queue 1's worker ends: the interface fails
   * ```
   */
  async injectFault(kind: FaultKind, opts: { queue?: number } = {}): Promise<void> {
    assertOptions(opts, 'injectFault option', ['queue']);
    const queue = opts.queue ?? 0;
    assertInt(queue, 'queue', 0, (this.#group?.size ?? 1) - 1);
    if (queue > 0 && this.#group) return this.#group.port(queue).fault(kind);
    try {
      await this.control('fault', [kind]);
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
    const size = opts === NO_RECV_OPTS ? MAX_PACKET : receiveLimit(opts, 'recv');
    if (typeof size !== 'number') return Promise.reject(size);
    return this.#refusal(opts.signal) ?? this.#rx.recv(size, opts.signal);
  }

  /** Why a passive receive cannot start now, as a rejection (aborted, active mode: EINVAL, ended), or undefined. */
  #refusal(signal: AbortSignal | undefined): Promise<never> | undefined {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const s = this.#state;
    if (s === 'active') return Promise.reject(tunErrorFromCode('EINVAL', 'recv', this.#name));
    if (s !== 'passive') return Promise.reject(this.#closedError());
    return undefined;
  }

  /**
   * The next batch of up to `max` packets (default 1024), in passive mode: whatever the
   * ring holds, or, when it is empty, the next packets the worker reads. The packets are
   * views into the ring, valid until the batch is released (`batch.release()`, or the next
   * `recv`/`recvBatch` call). Rejects as {@link recv} does.
   *
   * @example
   * ```ts
   * const batch = await tun.recvBatch({ max: 256 });
   * for (const p of batch) other.trySend(p);
   * batch.release();
   * ```
   */
  recvBatch(opts: { max?: number; signal?: AbortSignal } = NO_BATCH_OPTS): Promise<PacketBatch> {
    const max = opts === NO_BATCH_OPTS ? DEFAULT_BATCH_MAX : receiveLimit(opts, 'recvBatch');
    if (typeof max !== 'number') return Promise.reject(max);
    return this.#refusal(opts.signal) ?? this.#rx.recvBatch(max, opts.signal);
  }

  /**
   * Read passively in batches until the interface ends; each batch is released when the
   * loop asks for the next one.
   *
   * @example
   * ```ts
   * for await (const batch of tun.batches({ max: 256 })) for (const p of batch) handle(p);
   * ```
   */
  async *batches(opts: { max?: number } = {}): AsyncGenerator<PacketBatch, void, undefined> {
    const max = receiveLimit(opts, 'batches');
    if (typeof max !== 'number') throw max;
    yield* untilClosed(() => this.recvBatch({ max }), (batch) => batch.release());
  }

  /**
   * Read passively until the interface ends.
   *
   * @example
   * ```ts
   * for await (const packet of tun) console.log(packet.length);
   * ```
   */
  [Symbol.asyncIterator](): AsyncGenerator<Buffer, void, undefined> {
    return untilClosed(() => this.recv());
  }

  // ---- sending ----

  /**
   * Queue one packet for the kernel without waiting: false when the tx ring is full
   * (counted in `stats().txRingFull`). The worker writes queued packets in batches; a
   * packet the kernel rejects is counted in `stats().txErrors`. Throws a
   * {@link TuncerClosedError} once the interface has ended or its worker has failed.
   * On a multi-queue interface the packet goes to the queue of its flow (see `flowHash`), or
   * of `flow` (an unsigned 32-bit key, `flow % queues`) if given; with one queue, `flow` is
   * checked and changes nothing.
   *
   * @example
   * ```ts
   * if (!tun.trySend(packet)) await tun.send(packet);
   * tun.trySend(packet, connectionId); // on a multi-queue interface: the queue of this key
   * ```
   */
  trySend(packet: Uint8Array, flow?: number): boolean {
    return this.#sender.trySend(packet, flow);
  }

  /**
   * Send one packet, waiting for room in the tx ring if it is full (the ring of its queue,
   * chosen as for {@link trySend}).
   *
   * @example
   * ```ts
   * await tun.send(packet);
   * ```
   */
  send(packet: Uint8Array, flow?: number): Promise<void> {
    return this.#sender.send(packet, flow);
  }

  /**
   * Queue as many packets as fit in the tx ring, in order, with one wake-up of the worker:
   * the number taken (the rest count in `stats().txRingFull`). Takes an array of packets, or
   * a received {@link PacketBatch}. When nothing is queued, a received batch is written from
   * its own ring on this thread, up to 1 MiB a call (forwarding copies nothing in user space;
   * `stats().txDirect` counts these, `txErrors` what the kernel refused); otherwise it is
   * copied into the tx ring in whole when it fits.
   * Every packet is checked before any is queued. On a multi-queue interface each packet
   * goes to its flow's queue (all to the queue of `flow` if given), and the count is the
   * prefix taken: it stops at the first packet whose queue is full.
   *
   * @example
   * ```ts
   * const taken = tun.sendBatch(packets);
   * if (taken < packets.length) await tun.sendAll(packets.slice(taken));
   * ```
   */
  sendBatch(packets: readonly Uint8Array[] | PacketBatch, flow?: number): number {
    return this.#sender.sendBatch(packets, flow);
  }

  /**
   * Queue all packets, in order, waiting for room in the tx ring as often as needed (each
   * wait bounded by `timeoutMs`). A {@link PacketBatch} must stay unreleased until this settles.
   * Queues are chosen as for {@link sendBatch}; each flow's packets keep their order.
   *
   * @example
   * ```ts
   * for await (const batch of a.batches()) await b.sendAll(batch);
   * ```
   */
  sendAll(packets: readonly Uint8Array[] | PacketBatch, flow?: number): Promise<void> {
    return this.#sender.sendAll(packets, flow);
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
