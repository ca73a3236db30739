/**
 * Pre-started interface worker threads. Booting a worker (a V8 isolate and Node's
 * bootstrap) is most of the time an interface takes to start; a warm spare makes
 * `Tuncer.create` a matter of the device's own syscalls.
 *
 * ```
 *  acquire() ──▶ a spare (booted, waiting for `start`) or a new thread ──▶ WorkerLink
 *      └──────▶ a replacement spare starts booting in the background
 *  release(w) ◀── a clean close (fd table empty, no namespace change) ── WorkerLink
 *      └──────▶ kept as a spare while there are fewer than `spares`, else terminated
 * ```
 * One pool per process, shared by every interface and supervisor. Spares are `unref()`ed:
 * the pool never keeps the process alive. A crashed, hung or terminated worker never
 * comes back: only `release` after a clean close does.
 *
 * @module
 */
import { Worker } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

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

/** How interface workers are started: their output is not piped through the main thread. */
const WORKER_OPTIONS = { stdout: false, stderr: false } as const;

/**
 * Options of {@link configureWorkerPool}.
 *
 * @example
 * ```ts
 * const opts: WorkerPoolOptions = { spares: 1 };
 * ```
 */
export interface WorkerPoolOptions {
  /**
   * Worker threads kept booted and idle, ready for the next interface (default 0: the pool
   * is off until configured). Each costs a thread and its isolate, about 10 MB resident:
   * as much as an idle interface.
   */
  spares?: number;
}

/**
 * The process's pool of interface workers.
 *
 * @example
 * ```ts
 * const w = workerPool.acquire(); // booted already if a spare was there
 * // ... the interface runs on w, and closes cleanly ...
 * workerPool.release(w);          // a spare again, or terminated
 * ```
 */
export class WorkerPool {
  #spares = 0;
  readonly #idle: Worker[] = [];
  /** The pool's own listeners on each spare, removed when the spare is handed out. */
  readonly #listeners = new Map<Worker, () => void>();
  /** Spares that have not said they booted yet. */
  readonly #booting = new Set<Worker>();
  #warming = false;
  #reused = 0;

  /** Spares kept (see {@link WorkerPoolOptions.spares}). */
  get spares(): number {
    return this.#spares;
  }

  /** Spares booted or booting now. */
  get idle(): number {
    return this.#idle.length;
  }

  /** Workers taken back after a clean close and kept as spares, since the process started. */
  get reused(): number {
    return this.#reused;
  }

  /** Change the number of spares; extra ones are terminated, missing ones boot in the background. */
  configure(opts: WorkerPoolOptions): void {
    if (opts === null || typeof opts !== 'object') throw new TypeError('worker pool options must be an object');
    const spares = opts.spares ?? 0;
    if (!Number.isInteger(spares) || spares < 0 || spares > 64) throw new RangeError(`spares must be an integer from 0 to 64, got ${String(spares)}`);
    this.#spares = spares;
    while (this.#idle.length > spares) {
      const w = this.#idle.pop() as Worker;
      this.#forget(w);
      void w.terminate();
    }
    this.#refill();
  }

  /** A worker for a new interface: a spare if there is one, else a new thread. Never throws for lack of spares. */
  acquire(): Worker {
    const spare = this.#idle.shift();
    this.#refill();
    if (spare) {
      this.#forget(spare);
      spare.ref();
      return spare;
    }
    return new Worker(workerUrl(), WORKER_OPTIONS);
  }

  /** Would {@link release} keep a worker now (room, or a spare still booting to replace)? */
  hasRoom(): boolean {
    return this.#idle.length < this.#spares || this.#idle.some((w) => this.#booting.has(w));
  }

  /**
   * Take back a worker whose interface closed cleanly (its listeners removed by the caller)
   * and keep it as a spare. Call only when {@link hasRoom}; otherwise it is terminated.
   */
  release(worker: Worker): void {
    if (this.#idle.length >= this.#spares) {
      // A spare still booting is worth less than this one, which is ready now.
      const booting = this.#idle.findIndex((w) => this.#booting.has(w));
      if (booting < 0) {
        void worker.terminate();
        return;
      }
      const [cold] = this.#idle.splice(booting, 1) as [Worker];
      this.#forget(cold);
      void cold.terminate();
    }
    this.#keep(worker);
    this.#reused += 1;
  }

  /**
   * Resolves once the pool holds its spares, booted (for tests and for services that want
   * their first interface fast).
   */
  async warm(): Promise<void> {
    this.#refill();
    while (this.#idle.length < this.#spares || this.#booting.size > 0) await new Promise((r) => setTimeout(r, 5));
  }

  #keep(worker: Worker, booting = false): void {
    worker.unref();
    if (booting) {
      this.#booting.add(worker);
      const booted = (m: { type?: string }): void => {
        if (m?.type !== 'booted') return;
        this.#booting.delete(worker);
        worker.off('message', booted);
      };
      worker.on('message', booted);
    }
    // An idle worker that dies leaves the pool; the listener also keeps its crash from
    // taking the process down.
    const gone = (): void => {
      const i = this.#idle.indexOf(worker);
      if (i >= 0) this.#idle.splice(i, 1);
      this.#forget(worker);
    };
    worker.on('error', gone);
    worker.on('exit', gone);
    this.#listeners.set(worker, gone);
    this.#idle.push(worker);
  }

  #forget(worker: Worker): void {
    this.#booting.delete(worker);
    const gone = this.#listeners.get(worker);
    if (!gone) return;
    this.#listeners.delete(worker);
    worker.off('error', gone);
    worker.off('exit', gone);
  }

  /** Boot spares up to the target, one per turn of the event loop, off the caller's path. */
  #refill(): void {
    if (this.#warming || this.#idle.length >= this.#spares) return;
    this.#warming = true;
    setImmediate(() => {
      this.#warming = false;
      if (this.#idle.length >= this.#spares) return;
      try {
        this.#keep(new Worker(workerUrl(), WORKER_OPTIONS), true);
      } catch {
        return; // no thread could be made now; acquire() will try again itself
      }
      this.#refill();
    }).unref();
  }
}

/**
 * The one pool of this process.
 *
 * @example
 * ```ts
 * await workerPool.warm();
 * ```
 */
export const workerPool = new WorkerPool();

/**
 * Set how many booted worker threads wait for the next interface (default 0: off). A spare
 * makes `Tuncer.create` take milliseconds instead of a thread's boot, and a worker whose
 * interface closed cleanly is kept as a spare while there is room.
 *
 * @example
 * ```ts
 * configureWorkerPool({ spares: 2 }); // a service that restarts interfaces often
 * configureWorkerPool({ spares: 0 }); // memory first: boot a thread per interface
 * ```
 */
export function configureWorkerPool(opts: WorkerPoolOptions): void {
  workerPool.configure(opts);
}

/**
 * Resolves once the pool holds its spares, booted: call it at start-up for a fast first
 * interface, or before timing `Tuncer.create` "with a warm spare".
 *
 * @example
 * ```ts
 * await warmWorkerPool();
 * const tun = await Tuncer.create({ mode: 'tun' }); // a few ms: no thread to boot
 * ```
 */
export function warmWorkerPool(): Promise<void> {
  return workerPool.warm();
}
