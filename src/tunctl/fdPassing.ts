/**
 * Handing an open TUN/TAP fd from one process to another over a Unix socket
 * (SCM_RIGHTS): a small privileged helper creates and configures the device, and an
 * unprivileged service receives the fd and moves packets on it with no capability.
 *
 * The receiver listens and the sender connects. The service makes the socket, so the
 * socket file is its own (mode from its umask: by default only its uid, and root,
 * may connect) and it is listening before it asks for the helper; root connects to any
 * path. One connection carries one `SOCK_SEQPACKET` message: the fd, and JSON
 * `{ "tunctl": 1, "meta": ... }`. The receiver checks that the fd is a TUN/TAP device
 * (TUNGETIFF) and answers with one byte; `sendFd` resolves only on that answer.
 *
 * Every wait is on the event loop (a uv_poll handle), never a blocking call.
 *
 * @module
 */
import { unlinkSync } from 'node:fs';
import { loadNative, type NativeBinding } from '../native/binding.js';
import { TunError, sys, toTunError, tunErrorFromCode } from '../native/tunError.js';
import type { TunMode } from './create.js';
import { info } from './fdControl.js';
import { assertFd, assertInt, assertOptions, assertString } from './validate.js';

/**
 * Any value JSON can carry: what `sendFd` may send along with the fd.
 *
 * @example
 * ```ts
 * const meta: FdMeta = { purpose: 'vpn', routes: ['198.18.0.0/15'] };
 * ```
 */
export type FdMeta = string | number | boolean | null | readonly FdMeta[] | { readonly [key: string]: FdMeta };

/**
 * Options of {@link sendFd} and {@link receiveFd}.
 *
 * @example
 * ```ts
 * const opts: FdPassingOptions = { timeoutMs: 30_000, signal: shutdown.signal };
 * ```
 */
export interface FdPassingOptions {
  /** Give up after this many milliseconds with an `ETIMEDOUT` {@link TunError} (sendFd: default 10 000; receiveFd: no limit). */
  timeoutMs?: number;
  /** Give up when this signal aborts (rejects with its reason); the socket is closed and removed. */
  signal?: AbortSignal;
}

/**
 * Who connected to {@link receiveFd}'s socket (SO_PEERCRED, as of its connect).
 *
 * @example
 * ```ts
 * const { peer } = await tunctl.receiveFd(path);
 * if (peer.uid !== 0) throw new Error(`an fd from uid ${peer.uid}, pid ${peer.pid}`);
 * ```
 */
export interface FdPeer {
  readonly pid: number;
  readonly uid: number;
  readonly gid: number;
}

/**
 * What {@link receiveFd} got: an fd this process now owns, and what came with it.
 *
 * @example
 * ```ts
 * const { fd, name, mode, meta } = await tunctl.receiveFd('/run/vpn/tun.sock');
 * ```
 */
export interface ReceivedFd {
  /** The fd: non-blocking as the sender's was, close-on-exec. Close it with `tunctl.close`, or give it to `Tuncer.create({ fd })`. */
  readonly fd: number;
  /** The device's name (TUNGETIFF). */
  readonly name: string;
  readonly mode: TunMode;
  /** The sender's `meta`, or undefined when it sent none. */
  readonly meta: FdMeta | undefined;
  /** The process that sent it. */
  readonly peer: FdPeer;
}

/**
 * Largest `meta`, JSON-encoded.
 *
 * @example
 * ```ts
 * if (JSON.stringify(meta).length > tunctl.MAX_FD_META_BYTES) meta = { ref: id };
 * ```
 */
export const MAX_FD_META_BYTES = 16 * 1024;
/** Longest socket path: `sun_path` holds 108 bytes with the NUL. */
const MAX_SOCKET_PATH_BYTES = 107;
const ACK = 0x06;
const SEND_TIMEOUT_MS = 10_000;
const OPTION_KEYS = ['timeoutMs', 'signal'] as const;

function checkPath(path: unknown): asserts path is string {
  assertString(path, 'socket path');
  const bytes = Buffer.byteLength(path);
  if (bytes > MAX_SOCKET_PATH_BYTES) {
    throw new RangeError(`socket path ${JSON.stringify(path)} is ${bytes} bytes long; a Unix socket path has at most ${MAX_SOCKET_PATH_BYTES}`);
  }
}

function checkOptions(opts: FdPassingOptions): void {
  assertOptions(opts, 'fd passing option', OPTION_KEYS);
  if (opts.timeoutMs !== undefined) assertInt(opts.timeoutMs, 'timeoutMs', 1, 0x7fffffff);
  if (opts.signal !== undefined && !(opts.signal instanceof AbortSignal)) throw new TypeError('signal must be an AbortSignal');
}

/** The payload: `{ "tunctl": 1, "meta": ... }` as UTF-8. */
function encodeMessage(meta: FdMeta | undefined): Buffer {
  let json: string | undefined;
  try {
    json = JSON.stringify(meta === undefined ? { tunctl: 1 } : { tunctl: 1, meta });
  } catch (err) {
    throw new TypeError(`meta must be a JSON value: ${(err as Error).message}`);
  }
  const data = Buffer.from(json, 'utf8');
  if (data.length > MAX_FD_META_BYTES + 32) {
    throw new RangeError(`meta is ${data.length} bytes as JSON; at most ${MAX_FD_META_BYTES} may go with an fd`);
  }
  return data;
}

/** Run a native call on a socket at `path`, naming the path in the error's syscall (`connect(/run/x.sock)`). */
function atPath<T>(fn: () => T, path: string, ifname?: string): T {
  try {
    return fn();
  } catch (err) {
    const e = toTunError(err, ifname);
    if (e instanceof TunError) throw new TunError(e.errno, `${e.syscall}(${path})`, ifname, { cause: err });
    throw e;
  }
}

function closeQuietly(n: NativeBinding, fd: number): void {
  try {
    n.close(fd);
  } catch {
    /* the fd is released by the kernel whatever close reports */
  }
}

/** When to give up waiting: an abort signal, a deadline (ms since the epoch), either or none. */
interface Wait {
  readonly signal: AbortSignal | undefined;
  readonly deadline: number | undefined;
}

/**
 * Resolve once `fd` is ready for `events` (POLLIN also on a hang-up), on this thread's
 * event loop; reject on abort or at the deadline (`ETIMEDOUT`, naming `syscall`).
 */
function ready(n: NativeBinding, fd: number, events: number, syscall: string, wait: Wait): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    let id = -1;
    const finish = (err?: unknown): void => {
      if (id < 0) return;
      n.pollStop(id);
      id = -1;
      clearTimeout(timer);
      wait.signal?.removeEventListener('abort', onAbort);
      if (err === undefined) resolve();
      else reject(err);
    };
    const onAbort = (): void => finish(wait.signal?.reason);
    if (wait.signal?.aborted) {
      reject(wait.signal.reason);
      return;
    }
    id = sys(() => n.pollStart(fd, events, (status) => finish(status < 0 ? new TunError(-status, 'poll') : undefined)));
    wait.signal?.addEventListener('abort', onAbort, { once: true });
    if (wait.deadline !== undefined) {
      timer = setTimeout(() => finish(tunErrorFromCode('ETIMEDOUT', syscall)), Math.max(0, wait.deadline - Date.now()));
    }
  });
}

/** Wait for and receive one message on `fd` (its data lands in `buf`). */
async function receiveMessage(n: NativeBinding, fd: number, buf: Buffer, syscall: string, wait: Wait): Promise<{ bytes: number; fds: readonly number[]; truncated: boolean }> {
  for (;;) {
    const msg = sys(() => n.recvMsg(fd, buf));
    if (msg) return msg;
    await ready(n, fd, n.constants.POLLIN, syscall, wait);
  }
}

function waitOf(opts: FdPassingOptions, defaultTimeoutMs: number | undefined): Wait {
  const timeoutMs = opts.timeoutMs ?? defaultTimeoutMs;
  return { signal: opts.signal, deadline: timeoutMs === undefined ? undefined : Date.now() + timeoutMs };
}

/**
 * Send an open TUN/TAP fd to the process listening at `socketPath` ({@link receiveFd}),
 * with `meta` (any JSON value). Resolves once the receiver has checked the fd and
 * taken it; this process keeps its own fd (close it then: the device stays while the
 * receiver holds its copy).
 *
 * @throws TypeError / RangeError for bad arguments, before anything is opened.
 * @throws TunError: `EBADF` (a closed fd), `ENOTTY` (not a TUN/TAP device) or `EBADFD`
 *   (a TUN/TAP fd with no device) from `ioctl(TUNGETIFF)`, checked before connecting;
 *   `ENOENT` or `ECONNREFUSED` from `connect(<path>)` when nobody listens there;
 *   `ECONNRESET` when the receiver closed without taking the fd; `ETIMEDOUT`.
 * @example
 * ```ts
 * const { fd, name } = tunctl.create('tun0', { mode: 'tun' });
 * tunctl.up(name, '198.18.0.1', 24);
 * await tunctl.sendFd('/run/vpn/tun.sock', fd, { purpose: 'vpn' });
 * tunctl.close(fd); // the receiver's copy keeps the device
 * ```
 */
export async function sendFd(socketPath: string, fd: number, meta?: FdMeta, opts: FdPassingOptions = {}): Promise<void> {
  checkPath(socketPath);
  assertFd(fd);
  checkOptions(opts);
  const data = encodeMessage(meta);
  const wait = waitOf(opts, SEND_TIMEOUT_MS);
  const { name } = info(fd);
  const n = loadNative();
  const sock = sys(() => n.unixSocket(), name);
  try {
    atPath(() => n.unixConnect(sock, socketPath), socketPath, name);
    // EAGAIN: the receiver's queue is full (it accepted but does not read yet).
    while (atPath(() => n.sendMsg(sock, data, fd), socketPath, name) < 0) {
      await ready(n, sock, n.constants.POLLOUT, `sendmsg(${socketPath})`, wait);
    }
    const answer = Buffer.alloc(16);
    const reply = await receiveMessage(n, sock, answer, `recvmsg(${socketPath})`, wait);
    for (const extra of reply.fds) closeQuietly(n, extra);
    if (reply.bytes < 1 || answer[0] !== ACK) throw tunErrorFromCode('ECONNRESET', `recvmsg(${socketPath})`, name);
  } finally {
    closeQuietly(n, sock);
  }
}

/**
 * Listen at `socketPath` for one {@link sendFd}, and resolve with the fd it passed: a
 * TUN/TAP device this process may read and write with no capability at all. The socket
 * exists (and listens) when this returns its promise, so start the sender after calling
 * it. The socket file is removed and every fd but the one returned is closed on every
 * outcome.
 *
 * @throws TypeError / RangeError for bad arguments.
 * @throws TunError: `EADDRINUSE` from `bind(<path>)` when a file is there; `ECONNRESET`
 *   when the peer closed without sending; `EBADMSG` for a message without exactly one fd;
 *   `EPROTO` for a message that is not from `sendFd`; `ENOTTY`/`EBADFD` when the fd is not
 *   a TUN/TAP device; `ETIMEDOUT`. An abort rejects with the signal's reason.
 * @example
 * ```ts
 * const pending = tunctl.receiveFd('/run/vpn/tun.sock', { signal: AbortSignal.timeout(30_000) });
 * // ... start the privileged helper: tunctl add tun0 --mode tun --addr 198.18.0.1/24 --send-fd /run/vpn/tun.sock
 * const { fd, name, peer } = await pending;
 * const tun = await Tuncer.create({ fd, active: true });
 * ```
 */
export function receiveFd(socketPath: string, opts: FdPassingOptions = {}): Promise<ReceivedFd> {
  try {
    checkPath(socketPath);
    checkOptions(opts);
    const n = loadNative();
    const listener = sys(() => n.unixSocket());
    try {
      atPath(() => n.unixBind(listener, socketPath), socketPath);
    } catch (err) {
      closeQuietly(n, listener);
      throw err;
    }
    const cleanup = (): void => {
      closeQuietly(n, listener);
      try {
        unlinkSync(socketPath);
      } catch {
        /* already gone */
      }
    };
    try {
      atPath(() => n.listen(listener, 1), socketPath);
    } catch (err) {
      cleanup();
      throw err;
    }
    return acceptFd(n, listener, socketPath, waitOf(opts, undefined)).finally(cleanup);
  } catch (err) {
    return Promise.reject(err);
  }
}

async function acceptFd(n: NativeBinding, listener: number, path: string, wait: Wait): Promise<ReceivedFd> {
  let conn: number;
  while ((conn = atPath(() => n.accept(listener), path)) < 0) await ready(n, listener, n.constants.POLLIN, `accept(${path})`, wait);
  try {
    const peer = sys(() => n.peerCred(conn));
    const buf = Buffer.alloc(MAX_FD_META_BYTES + 64);
    const msg = await receiveMessage(n, conn, buf, `recvmsg(${path})`, wait);
    const fd = takeOne(n, msg, path);
    try {
      const meta = parseMessage(buf.subarray(0, msg.bytes), path);
      const device = info(fd);
      // The answer is a courtesy: the fd is ours whether or not the sender is still there to read it.
      try {
        n.sendMsg(conn, Buffer.of(ACK), -1);
      } catch {
        /* the sender went away */
      }
      return { fd, name: device.name, mode: device.mode, meta, peer };
    } catch (err) {
      closeQuietly(n, fd);
      throw err;
    }
  } finally {
    closeQuietly(n, conn);
  }
}

/** The one fd of a message; anything else closes what came and throws. */
function takeOne(n: NativeBinding, msg: { bytes: number; fds: readonly number[]; truncated: boolean }, path: string): number {
  const [fd, ...extra] = msg.fds;
  if (fd !== undefined && extra.length === 0 && !msg.truncated) return fd;
  for (const f of msg.fds) closeQuietly(n, f);
  if (msg.bytes === 0 && msg.fds.length === 0) throw tunErrorFromCode('ECONNRESET', `recvmsg(${path})`);
  throw tunErrorFromCode('EBADMSG', `recvmsg(${path})`);
}

function parseMessage(data: Buffer, path: string): FdMeta | undefined {
  let body: unknown;
  try {
    body = JSON.parse(data.toString('utf8'));
  } catch {
    throw tunErrorFromCode('EPROTO', `recvmsg(${path})`);
  }
  if (body === null || typeof body !== 'object' || (body as { tunctl?: unknown }).tunctl !== 1) {
    throw tunErrorFromCode('EPROTO', `recvmsg(${path})`);
  }
  return (body as { meta?: FdMeta }).meta;
}
