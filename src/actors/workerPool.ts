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
import { loadNative } from '../native/binding.js';

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

/**
 * How interface workers are started: their output is not piped through the main thread, and
 * their heap is small. A worker allocates next to nothing per packet (packets cross in
 * shared rings), but V8 sizes a new isolate's heap for a general program: with the young
 * generation capped at 2 MB and the old at 64 MB, an idle booted worker is resident at
 * 8.7 MB instead of 10.8 (Node 20, 8 workers averaged; 1 MB young saves nothing more, 4 MB
 * gives 1 MB back). A worker that outgrows 64 MB ends with ERR_WORKER_OUT_OF_MEMORY, as a
 * crash: its interface fails and its fd is closed.
 */
const WORKER_OPTIONS = { stdout: false, stderr: false, resourceLimits: { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 64 } } as const;

/**
 * glibc keeps the memory an exited thread freed (its isolate's and Node's own allocations) in
 * its arenas, so a process that churns workers grew by 250–313 MB over the soak
 * (docs/RELIABILITY.md). Give it back with `malloc_trim(0)` on a libuv pool thread (it takes
 * 8–14 ms, never on this one) once exits pause for 200 ms, and at least every second while
 * they go on.
 */
let trimTimer: NodeJS.Timeout | undefined;
let trimDue = 0;
function trimSoon(): void {
  const now = Date.now();
  if (trimTimer === undefined) trimDue = now + 1000;
  else clearTimeout(trimTimer);
  trimTimer = setTimeout(trimNow, Math.max(0, Math.min(200, trimDue - now)));
  trimTimer.unref();
}
function trimNow(): void {
  trimTimer = undefined;
  try {
    loadNative().mallocTrim().catch(() => undefined);
  } catch {
    /* no addon here: nothing to trim */
  }
}

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
   * Worker threads kept booted and idle, ready for the next interface (default 1; 0 turns
   * the pool off). Each costs a thread and its isolate, about 8.7 MB resident on Node 20,
   * and 4 fds (its event loop's epoll, eventfd and a pipe).
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
  #spares = 1;
  readonly #idle: Worker[] = [];
  /** The pool's own listeners on each spare, removed when the spare is handed out. */
  readonly #listeners = new Map<Worker, () => void>();
  /** Spares that have not said they booted yet. */
  readonly #booting = new Set<Worker>();
  /** Workers this pool started that said `booted` (their modules are loaded). */
  readonly #booted = new WeakSet<Worker>();
  /** Workers loading more modules after their boot (a start's offload probes), until they say `loaded`. */
  readonly #loading = new WeakSet<Worker>();
  /** Workers the pool terminated (extra, or replaced) that have not exited yet. */
  readonly #ending = new Set<Worker>();
  /** Checks of {@link settled} callers, run at every change of the above. */
  readonly #waiters = new Set<() => void>();
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

  /**
   * Change the number of spares (`spares` left out: the default, 1); extra ones are
   * terminated, missing ones boot in the background.
   *
   * @example
   * ```ts
   * workerPool.configure({ spares: 0 }); // off
   * ```
   */
  configure(opts: WorkerPoolOptions): void {
    if (opts === null || typeof opts !== 'object') throw new TypeError('worker pool options must be an object');
    const spares = opts.spares ?? 1;
    if (!Number.isInteger(spares) || spares < 0 || spares > 64) throw new RangeError(`spares must be an integer from 0 to 64, got ${String(spares)}`);
    this.#spares = spares;
    while (this.#idle.length > spares) {
      const w = this.#idle.pop() as Worker;
      this.#forget(w);
      this.#terminate(w);
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
    return this.#spawn();
  }

  /**
   * Terminate a worker: at once if it has booted and is not loading more modules, else as
   * soon as it is done (or after 5 s). Terminating a thread while it still loads modules
   * leaks the fds of the files it was reading (the reads finish on libuv's threadpool after
   * the thread's loop is gone; seen on Node 20), so a thread is never cut short there: not
   * in its boot, nor while a start loads the offload probes. `'exit'` follows in either case.
   *
   * @example
   * ```ts
   * workerPool.end(worker); // instead of worker.terminate()
   * ```
   */
  end(worker: Worker): void {
    if (worker.threadId < 0) return; // exited already
    const idle = (): boolean => this.#booted.has(worker) && !this.#loading.has(worker);
    if (idle()) {
      void worker.terminate();
      return;
    }
    const now = (): void => {
      clearTimeout(timer);
      worker.off('message', onMessage);
      void worker.terminate();
    };
    const onMessage = (m: { type?: string }): void => {
      if ((m?.type === 'booted' || m?.type === 'loaded') && idle()) now();
    };
    const timer = setTimeout(now, 5000);
    timer.unref();
    worker.on('message', onMessage);
    worker.once('exit', () => {
      clearTimeout(timer);
      worker.off('message', onMessage);
    });
  }

  /** A new thread; it says `booted` once its modules are loaded. */
  #spawn(): Worker {
    const worker = new Worker(workerUrl(), WORKER_OPTIONS);
    worker.once('exit', trimSoon);
    const booted = (m: { type?: string }): void => {
      if (m?.type !== 'booted') return;
      worker.off('message', booted);
      this.#booted.add(worker);
      if (this.#booting.delete(worker)) this.#changed();
    };
    worker.on('message', booted);
    // First of the thread's listeners: `end` reads this state when a `loaded` reaches it.
    worker.on('message', (m: { type?: string }) => {
      if (m?.type === 'loading') this.#loading.add(worker);
      else if (m?.type === 'loaded') this.#loading.delete(worker);
    });
    return worker;
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
        this.#terminate(worker);
        return;
      }
      const [cold] = this.#idle.splice(booting, 1) as [Worker];
      this.#forget(cold);
      this.#terminate(cold);
    }
    this.#keep(worker);
    this.#reused += 1;
  }

  /**
   * Resolves once the pool holds its spares, booted, and is {@link settled} (for tests and for
   * services that want their first interface fast). A spare that dies while booting is
   * replaced, up to 3 times.
   *
   * @example
   * ```ts
   * await workerPool.warm(); // workerPool.idle === workerPool.spares
   * ```
   */
  async warm(): Promise<void> {
    for (let attempt = 0; attempt < 3; attempt++) {
      this.#refill();
      await this.settled();
      if (this.#idle.length >= this.#spares) return;
    }
  }

  /**
   * Resolves once the pool is still: no spare booting or about to boot, and every worker the
   * pool terminated has exited (its thread, event loop and fds gone). The pool's threads and
   * fds are then exactly its {@link idle} booted spares, the same after every clean
   * create/destroy, which is what a leak check compares (see test/helpers/kernel.ts). The
   * returned promise keeps the process alive while it waits; the pool itself does not.
   *
   * @example
   * ```ts
   * await workerPool.settled();
   * const fds = readdirSync('/proc/self/fd').length; // no spare half-booted in this count
   * ```
   */
  settled(): Promise<void> {
    return new Promise((resolve) => {
      const keepAlive = setInterval(() => {}, 60_000);
      const check = (): void => {
        if (this.#warming || this.#booting.size > 0 || this.#ending.size > 0) return;
        this.#waiters.delete(check);
        clearInterval(keepAlive);
        resolve();
      };
      this.#waiters.add(check);
      check();
    });
  }

  #changed(): void {
    for (const check of [...this.#waiters]) check();
  }

  /** End a worker the pool no longer wants; {@link settled} waits for its exit. */
  #terminate(worker: Worker): void {
    if (worker.threadId < 0) return; // exited already
    this.#ending.add(worker);
    worker.on('error', () => {}); // whatever it was doing, its end is wanted
    worker.once('exit', () => {
      this.#ending.delete(worker);
      this.#changed();
    });
    this.end(worker);
  }

  #keep(worker: Worker): void {
    worker.unref();
    if (!this.#booted.has(worker)) this.#booting.add(worker);
    // An idle worker that dies leaves the pool; the listener also keeps its crash from
    // taking the process down.
    const gone = (): void => {
      const i = this.#idle.indexOf(worker);
      if (i >= 0) this.#idle.splice(i, 1);
      this.#forget(worker);
      this.#changed();
    };
    worker.on('error', gone);
    worker.on('exit', gone);
    this.#listeners.set(worker, gone);
    this.#idle.push(worker);
  }

  #forget(worker: Worker): void {
    if (this.#booting.delete(worker)) this.#changed();
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
      if (this.#idle.length < this.#spares) {
        try {
          this.#keep(this.#spawn());
          this.#refill();
        } catch {
          // No thread could be made now; acquire() will try again itself.
        }
      }
      this.#changed();
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
 * Set how many booted worker threads wait for the next interface (default 1; 0: off). A spare
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
