/**
 * The main thread's end of one interface's worker thread: it starts the thread, turns
 * what the thread says and does (messages, `'error'`, `'exit'`) into events for the
 * interface's state machine, carries out the machine's commands (close, abandon,
 * terminate), and carries control calls as request/reply messages. It decides nothing:
 * the machine does.
 *
 * ```
 *  tuncerMachine ──command──▶ WorkerLink ──postMessage / terminate()──▶ worker thread
 *        ▲                        │
 *        └──────── event ─────────┘ ◀── 'message' (ready, fatal, reply), 'error', 'exit'
 * ```
 * @module
 */
import type { Worker } from 'node:worker_threads';
import { fromWire, type DeviceEvent, type FdOp, type NameOp, type SpecialOp, type WorkerConfig, type WorkerInbound, type WorkerMessage } from './messages.js';
import { workerPool } from './workerPool.js';
import { PacketRing } from './packetRing.js';

/**
 * What the link reports to the machine.
 *
 * @example
 * ```ts
 * actor.send({ type: 'EXITED', code: 1 } satisfies WorkerLinkEvent);
 * ```
 */
export type WorkerLinkEvent =
  | { type: 'READY'; name: string; flags: number; fd: number; created: boolean }
  | { type: 'START_FAILED'; error: Error }
  | { type: 'FAILED'; error: Error }
  | { type: 'CLOSE_DONE' }
  | { type: 'RELEASED' }
  | { type: 'UNDONE' }
  | { type: 'EXITED'; code: number | null };

/**
 * What the machine asks of the link.
 *
 * @example
 * ```ts
 * link.command({ type: 'CLOSE', timeoutMs: 2000 });
 * ```
 */
export type WorkerCommand = { type: 'CLOSE'; timeoutMs: number } | { type: 'ABANDON'; timeoutMs: number } | { type: 'TERMINATE' };

/**
 * What the link reports beside the machine's events: crashes, log lines, device events.
 *
 * @example
 * ```ts
 * const hooks: WorkerLinkHooks = { onCrash: console.error, onLog: () => {}, onEvent: console.log };
 * ```
 */
export interface WorkerLinkHooks {
  onCrash(err: Error): void;
  onLog(level: 'info' | 'warn', msg: string, data: Record<string, unknown>): void;
  onEvent(e: DeviceEvent): void;
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  timer: NodeJS.Timeout;
}

/**
 * One worker thread and the control calls in flight to it.
 *
 * @example
 * ```ts
 * const link = new WorkerLink(workerConfig, { onCrash: (err) => log.error({ err }), onLog: () => {}, onEvent: (e) => console.log(e) });
 * link.start((event) => actor.send(event)); // READY … EXITED
 * const mtu = await link.call<number>('mtu', [], 1000);
 * ```
 */
export class WorkerLink {
  readonly #config: WorkerConfig;
  readonly #hooks: WorkerLinkHooks;
  #worker: Worker | undefined;
  /** Set once the machine asked for the thread's end: from then on it is never handed back to the pool. */
  #terminating = false;
  #send: (e: WorkerLinkEvent) => void = () => {};
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;

  constructor(config: WorkerConfig, hooks: WorkerLinkHooks) {
    this.#config = config;
    this.#hooks = hooks;
  }

  /** Start the thread. Everything it does from now on arrives as events; this never throws. */
  start(send: (e: WorkerLinkEvent) => void): void {
    this.#send = send;
    let worker: Worker;
    try {
      worker = workerPool.acquire();
    } catch (err) {
      // No thread was made: report a failed start and an exit, as a thread would.
      queueMicrotask(() => {
        send({ type: 'START_FAILED', error: err as Error });
        send({ type: 'EXITED', code: null });
      });
      return;
    }
    this.#worker = worker;
    // An 'error' listener is what keeps a worker's crash from taking the process down.
    worker.on('error', this.#onError);
    worker.on('exit', this.#onExit);
    worker.on('message', this.#onMessage);
    worker.postMessage({ type: 'start', config: this.#config } satisfies WorkerInbound);
  }

  #onError = (err: Error): void => {
    this.#hooks.onCrash(err);
    this.#send({ type: 'FAILED', error: err });
  };

  #onExit = (code: number): void => {
    this.#worker = undefined;
    this.#send({ type: 'EXITED', code });
  };

  /**
   * Hand a worker whose session closed cleanly back to the pool; false if the pool has no room
   * (it is then terminated as usual), or if its end was asked for meanwhile: a KILL (or the
   * close timeout) overtook the close's reply, so the thread is being terminated and the
   * machine waits for its `'exit'`. Handing it over would take that listener away, and the
   * interface would never end.
   */
  #release(): boolean {
    const worker = this.#worker;
    if (!worker || this.#terminating || !workerPool.hasRoom()) return false;
    worker.off('error', this.#onError);
    worker.off('exit', this.#onExit);
    worker.off('message', this.#onMessage);
    this.#worker = undefined;
    workerPool.release(worker);
    return true;
  }

  #onMessage = (msg: WorkerMessage): void => {
    switch (msg.type) {
      case 'ready':
        this.#send({ type: 'READY', name: msg.name, flags: msg.flags, fd: msg.fd, created: msg.created });
        return;
      case 'log':
        this.#hooks.onLog(msg.level, msg.msg, msg.data);
        return;
      case 'event':
        this.#hooks.onEvent(msg.event);
        return;
      case 'fatal': {
        const error = fromWire(msg.error);
        this.#send(msg.phase === 'start' ? { type: 'START_FAILED', error } : { type: 'FAILED', error });
        return;
      }
      case 'reply': {
        const p = this.#pending.get(msg.id);
        if (!p) return;
        this.#pending.delete(msg.id);
        clearTimeout(p.timer);
        if (msg.ok) p.resolve(msg.value);
        else p.reject(fromWire(msg.error));
      }
    }
  };

  /** Carry out a command of the machine. */
  command(cmd: WorkerCommand): void {
    switch (cmd.type) {
      case 'CLOSE':
        // The worker closes its fd and says whether it holds nothing more: then the thread
        // goes back to the pool instead of being terminated.
        this.call<{ reusable: boolean }>('close', [], cmd.timeoutMs).then(
          (r) => this.#send(r.reusable && this.#release() ? { type: 'RELEASED' } : { type: 'CLOSE_DONE' }),
          () => this.#send({ type: 'CLOSE_DONE' }),
        );
        return;
      case 'ABANDON':
        this.call('abandon', [], cmd.timeoutMs).then(
          () => this.#send({ type: 'UNDONE' }),
          () => this.#send({ type: 'UNDONE' }),
        );
        return;
      case 'TERMINATE':
        this.#terminate();
    }
  }

  /**
   * A control request to the worker; resolves with its answer. Rejects with `closed()` when
   * no worker runs, with ETIMEDOUT after `timeoutMs`, and with a `TypeError` when the
   * arguments cannot be cloned to the thread.
   */
  call<T>(op: FdOp | NameOp | SpecialOp, args: readonly unknown[], timeoutMs: number, closed?: () => Error): Promise<T> {
    const worker = this.#worker;
    if (!worker) return Promise.reject(closed ? closed() : new Error(`${op}: the interface's worker is not running`));
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(Object.assign(new Error(`${op} on ${this.#config.name || '(new)'} got no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' }));
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

  /** Reject every call still waiting for an answer. */
  rejectAll(err: Error): void {
    for (const [id, p] of this.#pending) {
      clearTimeout(p.timer);
      p.reject(err);
      this.#pending.delete(id);
    }
  }

  /** The machine is done with this link: nothing it reports matters any more. */
  dispose(): void {
    this.#send = () => {};
    // Only reached with a live thread if the machine itself was stopped from outside.
    this.#terminate();
  }

  /**
   * End the thread (once booted: a thread cut short while it loads its modules leaks their
   * fds). Its teardown closes the fd at any moment from then on, so first close the tx ring,
   * which ends the main thread's direct writes on that fd (TxQueue).
   */
  #terminate(): void {
    this.#terminating = true;
    new PacketRing(this.#config.tx).close();
    if (this.#worker) workerPool.end(this.#worker);
  }
}
