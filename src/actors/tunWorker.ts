/**
 * The worker thread that owns one interface's fd.
 *
 * ```
 *  kernel ──read()──▶ [uv_poll: readable] ─readRecords─▶ rx ring ──publish──▶ main thread
 *  kernel ◀─write()── [waitAsync: tx SEQ] ◀writeRecords─ tx ring ◀──trySend── main thread
 *                      parentPort: control requests and replies only
 * ```
 * The fd is opened here (or adopted: handed over by the main thread) and closed here: on `close`, and otherwise by the addon's
 * environment cleanup hook when this thread ends for any reason (terminate, an
 * uncaught exception), so no path leaks it.
 *
 * A thread serves one interface at a time, a *session*: it boots, waits for a `start`
 * message (so a pool can boot it ahead of need), and after a clean `close` it can serve
 * another. Each session has its own rings and counters; callbacks of an ended session
 * check `gen` and do nothing. A thread that entered another network namespace is never
 * reused, and `close` says whether anything (fd, poll handle) is left in the addon.
 *
 * @module
 */
import { parentPort } from 'node:worker_threads';
import { readFileSync } from 'node:fs';
import { loadNative } from '../native/binding.js';
import { sys, tunErrorFromCode } from '../native/tunError.js';
import * as fdControl from '../tunctl/fdControl.js';
import * as netif from '../tunctl/netif.js';
import { create } from '../tunctl/create.js';
import { addAddress, removeAddress } from '../tunctl/addresses.js';
import { addRoute } from '../tunctl/routes.js';
import { watchLinks, type LinkWatch } from '../tunctl/watchLinks.js';
import { DEFAULT_PREFIX } from '../tunctl/defaultPrefix.js';
import { offloadNeedsProbes, setupOffloadUnprobed } from '../tunctl/offloadSetting.js';
import { PacketRing } from './packetRing.js';
import {
  FD_OPS, NAME_OPS, toWire,
  type FdOp, type NameOp, type WorkerConfig, type WorkerInbound, type WorkerStart, type WorkerMessage, type WorkerRequest, type WorkerStats,
} from './messages.js';

if (!parentPort) throw new Error('tunWorker runs only as a worker thread');
const port = parentPort;
const native = loadNative();
const c = native.constants;
const out = new Int32Array(5);
// What this thread calls of tunctl, module by module: a worker's memory is the interface's
// cost, and the whole namespace (fd passing, the offload engine, ...) adds megabytes to each.
const tunctl = { ...fdControl, ...netif, create, addAddress, removeAddress, addRoute, watchLinks, DEFAULT_PREFIX };
/** `probeOffload.ts`, which brings the offload engine: loaded by the first session that asks for offloads. */
let probes: typeof import('../tunctl/probeOffload.js') | undefined;

// The session: set by beginSession, one interface at a time.
let gen = 0;
let cfg: WorkerConfig;
let rx: PacketRing;
let tx: PacketRing;
let stats: Omit<WorkerStats, 'kernelDrops'>;
let fd = -1;
let name = '';
let pollId = -1;
/** No session, or the session is ending: requests other than close/stats are refused. */
let closing = true;
/** This start created the device (it did not exist before). */
let createdHere = false;
/** This thread entered another network namespace once: it stays there, so it is never reused. */
let movedNetns = false;
/** The rtnetlink watch of the device, while a session runs. */
let watch: LinkWatch | undefined;

function post(msg: WorkerMessage): void {
  port.postMessage(msg);
}

function deviceExists(ifname: string): boolean {
  if (ifname === '' || ifname.includes('%')) return false;
  try {
    native.ifGetInt(ifname, c.SIOCGIFINDEX);
    return true;
  } catch {
    return false;
  }
}

/** Add an address or route; one that exists already (EEXIST) is what was asked for. */
function unlessThere(add: () => void): void {
  try {
    add();
  } catch (err) {
    if ((err as { code?: string }).code !== 'EEXIST') throw err;
  }
}

/**
 * Report what the kernel says changed on the device: link state and MTU, addresses. The
 * device deleted, or moved out of this namespace, ends the interface with ENODEV.
 */
function watchDevice(): void {
  watch = tunctl.watchLinks(
    (e) => {
      if (closing) return;
      if (e.type === 'link') {
        if (e.op === 'del') fatal(tunErrorFromCode('ENODEV', 'rtnetlink(RTM_DELLINK)', name, 'the interface was deleted, or moved out of its namespace'));
        else post({ type: 'event', event: { type: 'link', up: e.up, running: e.running, mtu: e.mtu } });
      } else if (e.type === 'addr') {
        post({ type: 'event', event: { type: 'address', op: e.op, address: e.address, prefix: e.prefix } });
      }
    },
    {
      link: name,
      kinds: ['link', 'addr'],
      onError: (err) => post({ type: 'log', level: 'warn', msg: 'the device watch failed; outside changes are no longer reported', data: { err: String(err) } }),
    },
  );
}

/** Open and configure; on failure undo what we did (a device we made persistent is un-persisted). */
function start(): boolean {
  let created = false;
  try {
    if (cfg.adoptFd !== undefined) {
      // Handed over by the main thread, which no longer tracks it: ours from now on, closed
      // below on failure and by this environment's teardown otherwise. First, before
      // anything can throw. (A blocking fd is fine: uv_poll_init makes it non-blocking.)
      fd = cfg.adoptFd;
      native.trackFd(fd);
    }
    if (cfg.netns !== undefined) {
      const path = cfg.netns;
      // This thread only: the device, its name and every ioctl then live in that namespace.
      movedNetns = true;
      sys(() => native.enterNetns(path));
    }
    if (fd >= 0) {
      name = tunctl.info(fd).name;
    } else {
      created = !deviceExists(cfg.name);
      createdHere = created;
      const h = tunctl.create(cfg.name, cfg.create);
      fd = h.fd;
      name = h.name;
    }
    if (cfg.owner !== undefined) tunctl.owner(fd, cfg.owner);
    if (cfg.group !== undefined) tunctl.group(fd, cfg.group);
    if (cfg.hwaddr !== undefined) tunctl.setHwaddr(name, cfg.hwaddr);
    if (cfg.mtu !== undefined) tunctl.setMtu(name, cfg.mtu);
    if (cfg.txqueuelen !== undefined) tunctl.setTxqueuelen(name, cfg.txqueuelen);
    // Over netlink, so any number of each; one already there (a re-attached persistent
    // device keeps its own) is fine. A tun has no link layer, so no duplicate to detect: its
    // IPv6 addresses skip DAD, which would leave them tentative (packets to them dropped)
    // for a moment after ready.
    const nodad = (tunctl.info(fd).flags & c.IFF_TUN) !== 0 ? { nodad: true } : undefined;
    for (const a of cfg.addresses) {
      const prefix = a.prefix ?? tunctl.DEFAULT_PREFIX[a.address.includes(':') ? 6 : 4];
      unlessThere(() => tunctl.addAddress(name, `${a.address}/${prefix}`, nodad));
    }
    if (cfg.up) tunctl.link(name, true);
    for (const r of cfg.routes) unlessThere(() => tunctl.addRoute({ ...r, dev: name }));
    setUpOffload();
    // Last, so a start that fails or is cut short leaves a device it created non-persistent.
    if (cfg.persist !== undefined) tunctl.persist(fd, cfg.persist);
    const info = tunctl.info(fd);
    post({ type: 'ready', name, flags: info.flags, fd, created });
    return true;
  } catch (err) {
    if (fd >= 0) {
      try {
        if (created && cfg.persist) tunctl.persist(fd, false);
      } catch {
        /* the close below still happens */
      }
      native.close(fd);
      fd = -1;
    }
    post({ type: 'fatal', phase: 'start', error: toWire(err) });
    return false;
  }
}

/**
 * The `offload` option, after the link is up (the GRO write probe needs it) and before
 * anything is read: a stale mask on a device without a vnet header is cleared in any case.
 */
function setUpOffload(): void {
  const r = setupOffloadUnprobed(fd, cfg.offload) ?? (probes ?? notLoaded()).setupOffload(fd, cfg.offload);
  const data = { ifname: name, mask: r.mask, read: r.read, write: r.write };
  for (const w of r.warnings) post({ type: 'log', level: 'warn', msg: `offload: ${w}`, data });
  if (cfg.offload !== undefined && cfg.offload !== false) post({ type: 'log', level: 'info', msg: ['offload set up', ...r.notes].join('; '), data });
}

function notLoaded(): never {
  throw new Error('offload probes were not loaded before the start');
}

// ---- rx: kernel → ring ----

/** Batches read per readiness event before the worker's event loop gets a turn. */
const READS_PER_WAKE = 4;

/** The consumer's ACK when the worker last committed a batch: has it taken anything since? */
let ackAtCommit = 0;

/**
 * Read only on demand, as gen_tcp's `{active, false}`: while the main thread consumes
 * (its ACK moved since the last batch) or waits for data. Otherwise stop at most one batch
 * ahead and leave packets in the kernel's queue, where `read(getfd())` finds them.
 */
function onReadable(status: number): void {
  if (closing) return;
  if (status < 0) {
    fatal(new Error(`poll on ${name} failed with libuv status ${status}`));
    return;
  }
  // Up to READS_PER_WAKE batches per readiness event: fewer trips through the event loop.
  // A consumer that is busy sees each batch as it is committed. One that sleeps is woken
  // once the batches read add up to an eighth of the ring, or after the event's last batch:
  // small packets wake it once per READS_PER_WAKE batches, not per batch (a 2-queue
  // interface has 3 threads on this machine's 2 cores, and each wake-up took CPU from the
  // readers), while large ones are published a batch at a time, before the ring can fill.
  let unpublished = 0;
  const publishAt = rx.capacity >> 3;
  try {
    for (let round = 0; round < READS_PER_WAKE; round++) {
      if (rx.ackCount() === ackAtCommit && !rx.consumerWaiting()) {
        // No demand: stop polling before a first batch; after one, that batch is the one ahead.
        if (round === 0) pauseRx(ackAtCommit, false);
        return;
      }
      const seen = rx.ackCount();
      if (!rx.reserve(4 + cfg.maxRecord)) {
        pauseRx(seen, true); // what was read is published below, waking the consumer to make room
        return;
      }
      try {
        native.readRecords(fd, rx.data, rx.regionStart, rx.regionEnd, cfg.maxRecord, cfg.batch, out);
      } catch (err) {
        fatal(err);
        return;
      }
      const bytes = out[0] as number;
      const packets = out[1] as number;
      const drained = out[2] === 1 || packets === 0;
      // Read empty while the main thread offers to read: it takes over (one thread wake-up per
      // packet instead of two while traffic is sparse) until it reads a full batch.
      const park = drained && rx.mainReadsOffered();
      if (park) native.pollUpdate(pollId, 0);
      if (packets > 0) {
        rx.commit(rx.regionStart + bytes);
        stats.rxPackets += packets;
        stats.rxBytes += bytes - 4 * packets; // includes padding: close enough for a rate
        ackAtCommit = rx.ackCount();
        unpublished += bytes;
        if (unpublished >= publishAt) {
          rx.publish();
          unpublished = 0;
        }
      }
      if (park) {
        rx.handOver();
        rx.publish(); // a consumer waiting learns of the handover too
        unpublished = 0;
        parkRx();
        return;
      }
      if (drained) return;
    }
  } finally {
    if (unpublished > 0 && !closing) rx.publish();
  }
}

/** The main thread reads now (polling stopped): wait until it hands the reads back. */
function parkRx(): void {
  stats.rxHandovers += 1;
  const session = gen;
  const back = rx.waitHandBack();
  if (back) void back.then(() => resumeRx(session));
  else resumeRx(session);
}

/**
 * Stop polling until the consumer acts: it acks (room, or progress) or starts waiting. When
 * the ring is `full`, the kernel's queue, not memory, takes the backlog.
 */
function pauseRx(seenAck: number, full: boolean): void {
  native.pollUpdate(pollId, 0);
  if (full) stats.rxPauses += 1;
  rx.setPaused(true);
  // PAUSED is set before WAITING is looked at: a consumer that starts waiting after this
  // look sees PAUSED and pokes ACK (PacketRing.want).
  const wait = !full && rx.consumerWaiting() ? undefined : rx.waitAck(seenAck);
  const session = gen;
  if (wait) void wait.then(() => resumeRx(session));
  else resumeRx(session);
}

function resumeRx(session: number): void {
  if (session !== gen || closing) return;
  rx.setPaused(false);
  native.pollUpdate(pollId, c.POLLIN);
}

// ---- tx: ring → kernel ----

/**
 * The most bytes of records written between two acks: a sender waiting for room wakes after
 * this much, not after the whole ring, and refills while the rest is written. (One ack per
 * readable run kept a full 256 KiB ring's sender and this thread taking turns: trySend at
 * 1400 B ran at 0.6 x C, each side idle while the other worked.)
 */
const TX_ACK_BYTES = 64 * 1024;

function drainTx(session: number): void {
  while (session === gen && !closing && tx.readable()) {
    native.writeRecords(fd, tx.data, tx.readStart, tx.chunkEnd(TX_ACK_BYTES), out);
    const consumed = out[0] as number;
    stats.txPackets += out[1] as number;
    stats.txErrors += out[2] as number;
    stats.txBytes += consumed - 4 * ((out[1] as number) + (out[2] as number));
    tx.release(tx.readStart + consumed);
    tx.ack();
    if (out[3] === 1) {
      // The driver pushed back (it hardly ever does): try again on the next turn.
      setImmediate(() => {
        try {
          drainTx(session);
        } catch (err) {
          if (session === gen) fatal(err);
        }
      });
      return;
    }
  }
}

function txLoop(session: number): void {
  if (session !== gen || closing) return;
  const seen = tx.seqCount();
  try {
    drainTx(session);
  } catch (err) {
    fatal(err);
    return;
  }
  const wait = tx.waitData(seen);
  if (wait) void wait.then(() => txLoop(session));
  else setImmediate(() => txLoop(session));
}

// ---- control ----

/**
 * Packets the kernel dropped because nobody read them fast enough: the device's tx_dropped,
 * from /proc/thread-self/net/dev (this thread's namespace, unlike /sys/class/net, which shows
 * the namespace that mounted sysfs). -1 if it cannot be read.
 */
function kernelDrops(): number {
  try {
    const line = readFileSync('/proc/thread-self/net/dev', 'utf8')
      .split('\n')
      .find((l) => l.trimStart().startsWith(`${name}:`));
    if (!line) return -1;
    const f = line.slice(line.indexOf(':') + 1).trim().split(/\s+/);
    return Number(f[11] ?? -1); // rx: bytes packets errs drop fifo frame compressed multicast | tx: bytes packets errs drop
  } catch {
    return -1;
  }
}

function fatal(err: unknown): void {
  if (closing) return;
  // Rings closed first: from here on the main thread's trySend refuses, before the message arrives.
  shutdown();
  post({ type: 'fatal', phase: 'run', error: toWire(err) });
}

function shutdown(): void {
  closing = true;
  watch?.close();
  watch = undefined;
  if (pollId >= 0) native.pollStop(pollId);
  pollId = -1;
  rx?.close(); // undefined before the first session
  tx?.close();
  // The main thread may be inside a direct write on the fd (TxQueue): let it finish first.
  tx?.awaitFdUsers();
  if (fd >= 0) native.close(fd);
  fd = -1;
}

type Fn = (...args: unknown[]) => unknown;
const api = tunctl as unknown as Record<FdOp | NameOp, Fn>;
for (const op of [...FD_OPS, ...NAME_OPS]) if (typeof api[op] !== 'function') throw new Error(`tunWorker: no tunctl.${op}`);

function handle(req: WorkerRequest): unknown {
  if ((FD_OPS as readonly string[]).includes(req.op)) return api[req.op as FdOp](fd, ...req.args);
  if ((NAME_OPS as readonly string[]).includes(req.op)) return api[req.op as NameOp](name, ...req.args);
  switch (req.op) {
    case 'stats':
      return { ...stats, kernelDrops: fd >= 0 ? kernelDrops() : -1 };
    case 'abandon':
      // The main thread gave up on this start: leave no persistent device that we made.
      if (createdHere && cfg.persist && fd >= 0) tunctl.persist(fd, false);
      shutdown();
      return true;
    case 'fault':
      return injectFault(req.args[0]);
    default:
      throw new TypeError(`unknown request ${String(req.op)}`);
  }
}

/**
 * Faults for tests and chaos drills: the failures the design must survive. `'fatal'` is the
 * worker's own fatal-error path (fd closed, rings closed, then reported).
 */
function injectFault(kind: unknown): true {
  switch (kind) {
    case 'throw':
      setImmediate(() => {
        throw new Error(`injected fault in the worker of ${name}`);
      });
      return true;
    case 'hang':
      setImmediate(() => {
        for (;;) {
          /* a worker stuck in JavaScript: only terminate() ends it */
        }
      });
      return true;
    case 'exit':
      setImmediate(() => process.exit(3));
      return true;
    case 'fatal':
      setImmediate(() => fatal(new Error(`injected fatal error in the worker of ${name}`)));
      return true;
    default:
      throw new RangeError(`fault must be 'throw', 'hang', 'exit' or 'fatal', got ${String(kind)}`);
  }
}

/** Start serving the interface `config` describes: rings, counters, device, polling. */
function beginSession(config: WorkerConfig): void {
  gen += 1;
  cfg = config;
  rx = new PacketRing(config.rx);
  tx = new PacketRing(config.tx);
  stats = { rxPackets: 0, rxBytes: 0, txPackets: 0, txBytes: 0, txErrors: 0, rxPauses: 0, rxHandovers: 0 };
  fd = -1;
  name = config.name;
  pollId = -1;
  closing = false;
  createdHere = false;
  ackAtCommit = rx.ackCount();
  if (!start()) {
    closing = true;
    return;
  }
  pollId = native.pollStart(fd, c.POLLIN, onReadable);
  pauseRx(ackAtCommit, false); // nothing is read until the main thread wants a packet
  txLoop(gen);
  if (!cfg.watch) return;
  try {
    watchDevice();
  } catch (err) {
    post({ type: 'log', level: 'warn', msg: 'outside changes to the device will not be reported', data: { err: String(err) } });
  }
}

/**
 * Answer `close` once the poll handle's close has completed (uv_close finishes in the
 * close phase, after this turn's immediates): whether this thread holds nothing more and
 * may serve another interface.
 */
function replyClosed(id: number): void {
  setTimeout(() => {
    const reusable = !movedNetns && native.openHandles() === 0;
    post({ type: 'reply', id, ok: true, value: { reusable } });
  }, 0);
}

/** Messages that arrived while the offload probes loaded: handled, in order, once they have. */
let deferred: WorkerInbound[] | undefined;

function onMessage(msg: WorkerInbound): void {
  if (deferred) deferred.push(msg);
  else receive(msg);
}
port.on('message', onMessage);

/**
 * A start that asks for offloads first loads the probes (asynchronously: the only wait in a
 * start); whatever arrives meanwhile (a close, an abandon) waits for the start, as it would
 * behind a synchronous one.
 */
function loadProbesThen(start: WorkerStart): void {
  const waiting: WorkerInbound[] = (deferred = []);
  // An adopted fd is this thread's from now on: tracked at once, so that a teardown while
  // the import runs closes it, and closed here if the import fails.
  const adopted = start.config.adoptFd;
  if (adopted !== undefined) native.trackFd(adopted);
  // Terminating a thread while it reads module files leaks their fds (Node 20): the pool waits for `loaded`.
  post({ type: 'loading' });
  const flush = (ok: boolean): void => {
    deferred = undefined;
    if (ok) receive(start);
    for (const m of waiting) onMessage(m);
  };
  import('../tunctl/probeOffload.js').then(
    (m) => {
      probes = m;
      post({ type: 'loaded' });
      flush(true);
    },
    (err: unknown) => {
      post({ type: 'loaded' });
      if (adopted !== undefined) native.close(adopted);
      post({ type: 'fatal', phase: 'start', error: toWire(err) });
      flush(false);
    },
  );
}

function receive(msg: WorkerInbound): void {
  if ('type' in msg) {
    if (closing && !probes && offloadNeedsProbes(msg.config.offload)) return loadProbesThen(msg);
    if (closing) beginSession(msg.config);
    else post({ type: 'fatal', phase: 'start', error: { name: 'Error', message: `this worker already serves ${name}` } });
    return;
  }
  const req = msg;
  if (req.op === 'close') {
    shutdown();
    replyClosed(req.id);
    return;
  }
  if (closing && req.op !== 'stats') {
    post({ type: 'reply', id: req.id, ok: false, error: { name: 'Error', message: `${name} is closed` } });
    return;
  }
  try {
    const value = handle(req);
    post({ type: 'reply', id: req.id, ok: true, value });
  } catch (err) {
    post({ type: 'reply', id: req.id, ok: false, error: toWire(err) });
  }
}

// An uncaught exception or process.exit(): mark the rings closed, so the main thread refuses
// packets at once instead of queueing them for a thread that is gone.
// The addon's teardown then closes the fd, once no direct write of the main thread is inside it.
process.on('exit', () => {
  rx?.close();
  tx?.close();
  tx?.awaitFdUsers();
});

post({ type: 'booted' }); // for a pool: this thread is ready for a `start`
