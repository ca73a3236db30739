/**
 * A UDP socket for tunnels, with the kernel's segmentation offloads that `node:dgram` does
 * not offer: one send of many same-size datagrams (UDP_SEGMENT) and one receive of many
 * datagrams of a flow (UDP_GRO). What crosses the wire is ordinary datagrams either way;
 * the saving is per-datagram work in the kernel and in JavaScript, as in wireguard-go.
 *
 * ```
 *  trySend(64 KiB, { segmentSize: 1400 }) ──sendmsg(UDP_SEGMENT)──▶ 47 datagrams on the wire
 *  listen(cb) ◀── recvmsg: up to 64 KiB of datagrams joined (UDP_GRO), cut at segmentSize
 * ```
 * Works on the thread that opens it (main thread or worker), on that thread's event loop.
 * @module
 */
import { loadNative, type NativeBinding } from '../native/binding.js';
import { sys, tunErrorFromCode } from '../native/tunError.js';
import { formatIp, parseIp } from '../packet/ipAddress.js';
import { assertBool, assertInt, assertOptions, assertString } from '../tunctl/validate.js';

/**
 * How to open a {@link UdpSocket}.
 *
 * @example
 * ```ts
 * const opts: UdpSocketOptions = { bind: '198.18.0.1:5000', connect: '198.18.0.2:5000', gro: true };
 * ```
 */
export interface UdpSocketOptions {
  /** Local address and port, `'198.18.0.1:5000'` or `'[fd00::1]:5000'` (port 0: any free one). */
  bind: string;
  /** A peer to connect to (same forms): sends without `to` go there, and only it is heard. */
  connect?: string;
  /** Join the received datagrams of a flow (UDP_GRO, Linux 5.0): one receive may hold several, cut at its `segmentSize`. Default false. */
  gro?: boolean;
  /** Send and receive buffer sizes in bytes (SO_SNDBUF/SO_RCVBUF, past the sysctl limit when privileged). Default: the kernel's. */
  bufferBytes?: number;
}

/**
 * One receive: a view of the socket's buffer, valid until the next receive on the socket.
 *
 * @example
 * ```ts
 * sock.listen((m: UdpMessage) => { for (let o = 0; o < m.data.length; o += m.segmentSize || m.data.length) handle(m.data.subarray(o, o + (m.segmentSize || m.data.length))); });
 * ```
 */
export interface UdpMessage {
  /** The datagram, or with UDP_GRO several datagrams back to back. */
  readonly data: Uint8Array;
  /** The size the joined datagrams were cut at (each but the last is this long); 0 for one datagram. */
  readonly segmentSize: number;
  /** The sender's address. */
  readonly address: string;
  /** The sender's port. */
  readonly port: number;
}

/** Most bytes one send or receive takes: what fits in one IP packet's length field. */
const MAX_BYTES = 65535;
/** Receives per readiness before the event loop gets a turn. */
const RECVS_PER_WAKE = 64;
/** Errors the kernel reports from ICMP about earlier sends: about the peer, not this socket. */
const PEER_ERRORS = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN']);

interface Endpoint {
  readonly bytes: Uint8Array;
  readonly family: 4 | 6;
  readonly port: number;
}

function endpoint(text: unknown, what: string): Endpoint {
  assertString(text, what);
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  if (!m) throw new TypeError(`${what} must be 'address:port' or '[ipv6]:port', got ${JSON.stringify(text)}`);
  const ip = parseIp((m[1] ?? m[2]) as string);
  const port = Number(m[3]);
  assertInt(port, `${what} port`, 0, 65535);
  return { bytes: ip.bytes, family: ip.family, port };
}

/**
 * A non-blocking UDP socket with UDP_SEGMENT sends and UDP_GRO receives. Errors are
 * `TunError`s with the errno name, `errno` and `syscall`.
 *
 * @example
 * ```ts
 * const sock = UdpSocket.open({ bind: '198.18.0.1:5000', connect: '198.18.0.2:5000', gro: true });
 * sock.listen((m) => console.log(m.data.length, m.segmentSize));
 * sock.trySend(segments, { segmentSize: 1400 }); // segments: equal-size datagrams back to back
 * sock.close();
 * ```
 */
export class UdpSocket {
  /** The socket's fd (closed by {@link close}, or at the thread's teardown). */
  readonly fd: number;
  /** 4 or 6. */
  readonly family: 4 | 6;
  readonly #native: NativeBinding;
  readonly #buf = new Uint8Array(MAX_BYTES);
  readonly #out = new Int32Array(2);
  readonly #from = new Uint8Array(16);
  /** The socket's one poll handle (libuv takes one per fd), made on first need; -1: none now. */
  #pollId = -1;
  /** What `listen` was given, while it listens. */
  #listener: { onMessage: (m: UdpMessage) => void; onError: ((err: Error) => void) | undefined } | undefined;
  /** Callers of {@link writable} waiting for room. */
  #waiters: { resolve: () => void; reject: (err: Error) => void }[] = [];
  #closed = false;

  private constructor(native: NativeBinding, fd: number, family: 4 | 6) {
    this.#native = native;
    this.fd = fd;
    this.family = family;
  }

  /**
   * Open, bind and (with `connect`) connect a socket. Throws a `TypeError`/`RangeError` for
   * bad options before any syscall, and a `TunError` (EADDRINUSE, EADDRNOTAVAIL, ...) from
   * the kernel, leaving no socket open.
   *
   * @example
   * ```ts
   * const sock = UdpSocket.open({ bind: '[fd00::1]:0' });
   * ```
   */
  static open(opts: UdpSocketOptions): UdpSocket {
    assertOptions(opts, 'UdpSocket option', ['bind', 'connect', 'gro', 'bufferBytes']);
    const local = endpoint(opts.bind, 'bind');
    const peer = opts.connect === undefined ? undefined : endpoint(opts.connect, 'connect');
    if (peer && peer.family !== local.family) throw new TypeError(`connect (IPv${peer.family}) and bind (IPv${local.family}) must be of one family`);
    if (opts.gro !== undefined) assertBool(opts.gro, 'gro');
    if (opts.bufferBytes !== undefined) assertInt(opts.bufferBytes, 'bufferBytes', 4096, 1 << 30);
    const n = loadNative();
    const c = n.constants;
    const fd = sys(() => n.udpOpen(local.family));
    try {
      if (opts.bufferBytes !== undefined) {
        for (const [force, plain] of [[c.SO_SNDBUFFORCE, c.SO_SNDBUF], [c.SO_RCVBUFFORCE, c.SO_RCVBUF]] as const) {
          try {
            n.udpSetInt(fd, c.SOL_SOCKET, force, opts.bufferBytes);
          } catch {
            sys(() => n.udpSetInt(fd, c.SOL_SOCKET, plain, opts.bufferBytes as number)); // unprivileged: up to the sysctl limit
          }
        }
      }
      if (opts.gro) sys(() => n.udpSetInt(fd, c.SOL_UDP, c.UDP_GRO, 1));
      sys(() => n.udpBind(fd, local.bytes, local.port));
      if (peer) sys(() => n.udpConnect(fd, peer.bytes, peer.port));
    } catch (err) {
      n.close(fd);
      throw err;
    }
    return new UdpSocket(n, fd, local.family);
  }

  /** The bound address and port (the port the kernel chose for port 0). */
  get local(): { address: string; port: number } {
    const bytes = new Uint8Array(16);
    const v = sys(() => this.#native.udpLocal(this.fd, bytes));
    return { address: formatIp(bytes.subarray(0, this.family === 4 ? 4 : 16)), port: v & 0xffff };
  }

  /** True once {@link close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Send `data` without waiting: as one datagram, or, with `segmentSize`, as datagrams of
   * that many bytes (the last may be shorter; the kernel allows up to 64 of them). To the
   * connected peer, or to `to`. False when the socket's send buffer is full (EAGAIN).
   *
   * @example
   * ```ts
   * if (!sock.trySend(packet)) await sock.writable();
   * ```
   */
  trySend(data: Uint8Array, opts?: { segmentSize?: number; to?: string }): boolean {
    this.#check();
    if (!(data instanceof Uint8Array)) throw new TypeError('data must be a Uint8Array');
    if (data.length > MAX_BYTES) throw new RangeError(`data must hold at most ${MAX_BYTES} bytes, got ${data.length}`);
    let seg = 0;
    let to: Endpoint | undefined;
    if (opts !== undefined) {
      assertOptions(opts, 'trySend option', ['segmentSize', 'to']);
      if (opts.segmentSize !== undefined) seg = assertSegment(opts.segmentSize, data.length);
      if (opts.to !== undefined) to = endpoint(opts.to, 'to');
    }
    const n = sys(() => this.#native.udpSend(this.fd, data, 0, data.length, seg, to ? to.bytes : null, to ? to.port : 0));
    return n >= 0;
  }

  /**
   * Send as {@link trySend} does, waiting for room in the send buffer when it is full.
   *
   * @example
   * ```ts
   * await sock.send(segments, { segmentSize: 1400 });
   * ```
   */
  async send(data: Uint8Array, opts?: { segmentSize?: number; to?: string }): Promise<void> {
    while (!this.trySend(data, opts)) await this.writable();
  }

  /**
   * Resolves when the send buffer has room again (or at once if it has); rejects once the
   * socket is closed.
   *
   * @example
   * ```ts
   * await sock.writable();
   * ```
   */
  writable(): Promise<void> {
    if (this.#closed) return Promise.reject(this.#closedError());
    return new Promise((resolve, reject) => {
      this.#waiters.push({ resolve, reject });
      try {
        this.#poll();
      } catch (err) {
        this.#waiters.pop();
        reject(err);
      }
    });
  }

  /**
   * Receive one datagram (or, with `gro`, one run of them) without waiting; null when none
   * waits. The message's `data` is valid until the next receive.
   *
   * @example
   * ```ts
   * const m = sock.tryRecv();
   * ```
   */
  tryRecv(): UdpMessage | null {
    this.#check();
    const n = sys(() => this.#native.udpRecv(this.fd, this.#buf, 0, MAX_BYTES, this.#out, this.#from));
    if (n < 0) return null;
    const from = this.#out[1] as number;
    const family = from >> 16 === 6 ? 6 : 4;
    return {
      data: this.#buf.subarray(0, Math.min(n, MAX_BYTES)),
      segmentSize: this.#out[0] as number,
      address: formatIp(this.#from.subarray(0, family === 4 ? 4 : 16)),
      port: from & 0xffff,
    };
  }

  /**
   * Receive as datagrams arrive, on this thread's event loop: `onMessage` for each receive
   * (its `data` valid during the call), until {@link close}. An ICMP error the kernel queued
   * for an earlier send (ECONNREFUSED, EHOSTUNREACH, ENETUNREACH: a peer not up yet) goes to
   * `onError` and listening goes on; any other receive error goes to `onError` (default:
   * thrown) and listening stops.
   *
   * @example
   * ```ts
   * sock.listen((m) => tun.trySend(m.data));
   * ```
   */
  listen(onMessage: (m: UdpMessage) => void, onError?: (err: Error) => void): void {
    this.#check();
    if (typeof onMessage !== 'function') throw new TypeError('listen(onMessage) takes a function');
    if (this.#listener) throw tunErrorFromCode('EBUSY', 'listen', undefined, 'this socket is listening already');
    this.#listener = { onMessage, onError };
    try {
      this.#poll();
    } catch (err) {
      this.#listener = undefined;
      throw err;
    }
  }

  /**
   * Close the socket: listening stops, waiters of {@link writable} (and so `send`) reject with
   * EBADF, the fd is closed. Idempotent.
   *
   * @example
   * ```ts
   * sock.close();
   * ```
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#listener = undefined;
    this.#stopPolling();
    const closed = this.#closedError();
    for (const w of this.#waiters.splice(0)) w.reject(closed);
    this.#native.close(this.fd);
  }

  // ---- readiness: one poll handle, POLLIN while listening, POLLOUT while someone waits ----

  /** Start, change or stop polling to match what is wanted now. */
  #poll(): void {
    const n = this.#native;
    const events = (this.#listener ? n.constants.POLLIN : 0) | (this.#waiters.length > 0 ? n.constants.POLLOUT : 0);
    if (events === 0) return this.#stopPolling();
    if (this.#pollId < 0) this.#pollId = sys(() => n.pollStart(this.fd, events, this.#onPoll));
    else sys(() => n.pollUpdate(this.#pollId, events));
  }

  #stopPolling(): void {
    if (this.#pollId >= 0) this.#native.pollStop(this.#pollId);
    this.#pollId = -1;
  }

  #onPoll = (status: number, events: number): void => {
    if (this.#closed) return;
    const c = this.#native.constants;
    if (status < 0) {
      // libuv reports POLLERR as EBADF and stops the handle: on a UDP socket that is an ICMP
      // error waiting to be taken. A receive (listening) or a send (a waiter retrying) takes it.
      this.#stopPolling();
      events = c.POLLIN | c.POLLOUT;
    }
    try {
      if (events & c.POLLOUT) for (const w of this.#waiters.splice(0)) w.resolve();
      if (events & c.POLLIN && this.#listener) this.#drain(this.#listener);
    } finally {
      if (!this.#closed) this.#poll();
    }
  };

  /** Receive for a turn's worth of datagrams, or until nothing waits. */
  #drain(l: { onMessage: (m: UdpMessage) => void; onError: ((err: Error) => void) | undefined }): void {
    for (let i = 0; i < RECVS_PER_WAKE && this.#listener === l; i++) {
      let m: UdpMessage | null;
      try {
        m = this.tryRecv();
      } catch (err) {
        if (!PEER_ERRORS.has((err as { code?: string }).code ?? '')) {
          this.#listener = undefined; // listening stops
          if (l.onError) l.onError(err as Error);
          else throw err;
          return;
        }
        l.onError?.(err as Error); // the socket's pending error, now taken: go on
        continue;
      }
      if (!m) return;
      l.onMessage(m);
    }
  }

  #closedError(): Error {
    return tunErrorFromCode('EBADF', 'udp', undefined, 'the socket is closed');
  }

  #check(): void {
    if (this.#closed) throw this.#closedError();
  }
}

/** A `segmentSize` for `length` bytes: 1..65535, at most 64 segments (the kernel's UDP_MAX_SEGMENTS). */
function assertSegment(size: unknown, length: number): number {
  assertInt(size, 'segmentSize', 1, MAX_BYTES);
  if (Math.ceil(length / size) > 64) throw new RangeError(`segmentSize ${size} cuts ${length} bytes into ${Math.ceil(length / size)} datagrams; the kernel takes at most 64`);
  return size;
}
