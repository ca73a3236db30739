/**
 * A NETLINK_ROUTE socket: synchronous requests and dumps (the kernel answers them within
 * the `sendto`, so nothing waits), and the datagrams of an event socket. The addon makes
 * the system calls; everything here is TypeScript.
 *
 * A socket belongs to the network namespace it was opened in: the calling thread's, or
 * the one at `netns`.
 *
 * @module
 */
import { constants as osConstants } from 'node:os';
import { loadNative } from '../native/binding.js';
import { TunError, sys, tunErrorFromCode } from '../native/tunError.js';
import { NL, RTM_NAMES } from './rtnetlinkConstants.js';
import { NetlinkParseError, parseDone, parseError, parseMessages, type NetlinkBuilder, type NetlinkMessage } from './netlinkMessage.js';

/** A receive buffer: a dump part is at most 32 KiB, a notification far less. */
const RECV_BYTES = 64 * 1024;
/** How long a request waits for its answer. The kernel answers at once; this bounds a bug. */
const REPLY_TIMEOUT_MS = 5000;
/** How often a dump that the kernel marked inconsistent (NLM_F_DUMP_INTR) is tried again. */
const DUMP_TRIES = 5;

/** The buffer of synchronous requests: one per thread, as nothing yields while it is used. */
let requestBuffer: Uint8Array | undefined;

/**
 * Where an operation runs, and which interface it is about, for its {@link TunError}s.
 *
 * @example
 * ```ts
 * const what: RequestContext = { ifname: 'tun0' };
 * ```
 */
export interface RequestContext {
  readonly ifname?: string | undefined;
}

function syscallOf(type: number): string {
  return `netlink(${RTM_NAMES[type] ?? type})`;
}

/**
 * Turn a message that does not parse ({@link NetlinkParseError}) into a {@link TunError}
 * `EBADMSG`, so every failure of a netlink call has the one error type of the package;
 * anything else is returned unchanged.
 *
 * @example
 * ```ts
 * try { parseMessages(datagram); } catch (err) { throw parseFailure(err, 'recvmsg(AF_NETLINK)'); }
 * ```
 */
export function parseFailure(err: unknown, syscall: string, ifname?: string): unknown {
  if (!(err instanceof NetlinkParseError)) return err;
  return new TunError(osConstants.errno.EBADMSG, syscall, ifname, { cause: err, detail: `the kernel's answer does not parse: ${err.message}` });
}

/**
 * One NETLINK_ROUTE socket.
 *
 * @example
 * ```ts
 * const sock = NetlinkSocket.open();
 * try {
 *   const links = sock.dump(encodeGetLink('dump'), decodeLink);
 * } finally {
 *   sock.close();
 * }
 * ```
 */
export class NetlinkSocket {
  readonly fd: number;
  #seq = 0;
  #closed = false;
  readonly #out = new Uint32Array(2);

  private constructor(fd: number) {
    this.fd = fd;
  }

  /**
   * Open a socket in this thread's network namespace or the one at `netns`, bound to the
   * multicast `groups` (RTMGRP_* bits; 0 for requests), asking the kernel for its error
   * texts (extended acks) without echoing whole requests back.
   *
   * @throws TunError when the socket cannot be made (ENOENT for a missing `netns`, EPERM)
   */
  static open(netns?: string, groups = 0): NetlinkSocket {
    const n = loadNative();
    const fd = sys(() => n.netlinkOpen(netns ?? null, groups));
    const sock = new NetlinkSocket(fd);
    // Older kernels lack these options: the errors then only lose their texts.
    for (const option of [n.constants.NETLINK_EXT_ACK, n.constants.NETLINK_CAP_ACK]) {
      try {
        n.netlinkSetInt(fd, option, 1);
      } catch {
        /* ENOPROTOOPT */
      }
    }
    return sock;
  }

  /** Close the socket (again: no effect). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    loadNative().close(this.fd);
  }

  get closed(): boolean {
    return this.#closed;
  }

  #send(builder: NetlinkBuilder, ctx: RequestContext): number {
    if (this.#closed) throw tunErrorFromCode('EBADF', syscallOf(builder.type), ctx.ifname);
    this.#seq = (this.#seq + 1) >>> 0 || 1;
    const bytes = builder.finish(this.#seq);
    const n = loadNative();
    sys(() => n.netlinkSend(this.fd, bytes, bytes.length), ctx.ifname);
    return this.#seq;
  }

  /**
   * One datagram from the kernel (datagrams from any other sender are dropped), or null
   * when none comes within `timeoutMs`.
   *
   * @throws TunError ENOBUFS when the socket overflowed and messages were lost; EMSGSIZE
   *   when a datagram did not fit the buffer
   */
  receive(buf: Uint8Array, timeoutMs: number): Uint8Array | null {
    const n = loadNative();
    for (;;) {
      const len = sys(() => n.netlinkRecv(this.fd, buf, timeoutMs, this.#out));
      if (len < 0) return null;
      if (len > buf.length) throw tunErrorFromCode('EMSGSIZE', 'recvmsg(AF_NETLINK)', undefined, `a ${len}-byte datagram did not fit ${buf.length} bytes`);
      if (this.#out[0] === 0) return buf.subarray(0, len);
    }
  }

  /**
   * Send a request and read its answer up to the acknowledgement (or the end of a dump),
   * handing each answer message to `decode` at once (its bytes are reused after).
   *
   * @returns what `decode` returned, leaving out `undefined`s
   * @throws TunError with the kernel's errno (and its text, when it gave one)
   */
  request<T>(builder: NetlinkBuilder, decode: (msg: NetlinkMessage) => T | undefined, ctx: RequestContext = {}): T[] {
    const dump = (builder.flags & NL.F_DUMP) === NL.F_DUMP;
    for (let tries = 1; ; tries++) {
      const { results, interrupted } = this.#exchange(builder, decode, ctx);
      if (!dump || !interrupted) return results;
      if (tries === DUMP_TRIES) throw tunErrorFromCode('EAGAIN', syscallOf(builder.type), ctx.ifname, 'the table kept changing during the dump');
    }
  }

  #exchange<T>(builder: NetlinkBuilder, decode: (msg: NetlinkMessage) => T | undefined, ctx: RequestContext): { results: T[]; interrupted: boolean } {
    const syscall = syscallOf(builder.type);
    const seq = this.#send(builder, ctx);
    requestBuffer ??= new Uint8Array(RECV_BYTES);
    const results: T[] = [];
    let interrupted = false;
    for (;;) {
      const datagram = this.receive(requestBuffer, REPLY_TIMEOUT_MS);
      if (datagram === null) throw tunErrorFromCode('ETIMEDOUT', syscall, ctx.ifname, `no answer within ${REPLY_TIMEOUT_MS} ms`);
      try {
        for (const msg of parseMessages(datagram)) {
          if (msg.seq !== seq) continue; // a late answer to an earlier request
          if ((msg.flags & NL.F_DUMP_INTR) !== 0) interrupted = true;
          if (msg.type === NL.MSG_ERROR || msg.type === NL.MSG_DONE) {
            const status = msg.type === NL.MSG_ERROR ? parseError(msg) : parseDone(msg);
            if (status.errno !== 0) throw new TunError(status.errno, syscall, ctx.ifname, status.message === undefined ? undefined : { detail: `the kernel says "${status.message}"` });
            return { results, interrupted };
          }
          if (msg.type < NL.MIN_TYPE) continue; // NOOP, OVERRUN
          const value = decode(msg);
          if (value !== undefined) results.push(value);
        }
      } catch (err) {
        throw parseFailure(err, syscall, ctx.ifname);
      }
    }
  }
}

/**
 * Run `fn` with a request socket in this thread's namespace or the one at `netns`, closed
 * after, whatever happens.
 *
 * @example
 * ```ts
 * const links = withNetlink(undefined, (sock) => sock.request(encodeGetLink('dump'), decodeLink));
 * ```
 */
export function withNetlink<T>(netns: string | undefined, fn: (sock: NetlinkSocket) => T): T {
  const sock = NetlinkSocket.open(netns);
  try {
    return fn(sock);
  } finally {
    sock.close();
  }
}
