/**
 * The kernel's link, address and route events, read without blocking: a netlink socket
 * bound to the rtnetlink groups, watched by the addon's uv_poll on the calling thread's
 * event loop (the main thread or a worker), in that thread's network namespace or the one
 * at `netns`.
 *
 * @module
 */
import { loadNative } from '../native/binding.js';
import { TunError, sys } from '../native/tunError.js';
import { decodeEvent, type NetlinkEvent, type NetlinkEventKind } from '../netlink/netlinkEvent.js';
import { parseMessages } from '../netlink/netlinkMessage.js';
import { NetlinkSocket, parseFailure, withNetlink } from '../netlink/netlinkSocket.js';
import { RTMGRP } from '../netlink/rtnetlinkConstants.js';
import { lookupLink, netnsOf, type NetnsOption } from './links.js';
import { assertIfname, assertInt } from './validate.js';

/**
 * Options of {@link watchLinks}.
 *
 * @example
 * ```ts
 * const opts: WatchLinksOptions = { link: 'tun0', kinds: ['link', 'addr'], onError: (err) => log.error(err) };
 * ```
 */
export interface WatchLinksOptions extends NetnsOption {
  /** Which events (default all three). */
  kinds?: readonly NetlinkEventKind[];
  /**
   * Only the events of this interface: an index, or a name looked up once, when the watch
   * starts (a link deleted and made again under that name has another index).
   */
  link?: string | number;
  /**
   * Called once if the watch fails (the socket fails, a message does not parse); the watch
   * is closed by then. Without it the error is thrown from the event loop, as an
   * `'error'` event without a listener is.
   */
  onError?: (err: unknown) => void;
}

/**
 * A running watch.
 *
 * @example
 * ```ts
 * const w: LinkWatch = tunctl.watchLinks(console.log);
 * w.close();
 * ```
 */
export interface LinkWatch {
  /** Stop: the poll handle and the socket are closed. Again: no effect. */
  close(): void;
  readonly closed: boolean;
  /** The index of the watched interface, when `link` was given. */
  readonly ifindex: number | undefined;
}

const KINDS: Record<NetlinkEventKind, number> = {
  link: RTMGRP.LINK,
  addr: RTMGRP.IPV4_IFADDR | RTMGRP.IPV6_IFADDR,
  route: RTMGRP.IPV4_ROUTE | RTMGRP.IPV6_ROUTE,
};

/** A notification is at most a page or two; 64 KiB takes a batch of them. */
const RECV_BYTES = 64 * 1024;

/**
 * Check {@link WatchLinksOptions} and give the rtnetlink groups they ask for.
 *
 * @internal
 * @example
 * ```ts
 * const { groups } = checkWatchOptions({ kinds: ['link'] }); // RTMGRP_LINK
 * ```
 */
export function checkWatchOptions(opts: WatchLinksOptions | undefined): { groups: number; netns: string | undefined } {
  const netns = netnsOf(opts, 'watchLinks option', ['kinds', 'link', 'onError', 'netns']);
  const kinds = opts?.kinds ?? (Object.keys(KINDS) as NetlinkEventKind[]);
  if (!Array.isArray(kinds) || kinds.length === 0) throw new TypeError(`kinds must be a non-empty array of 'link', 'addr', 'route'`);
  let groups = 0;
  for (const k of kinds as unknown[]) {
    if (typeof k !== 'string' || !Object.hasOwn(KINDS, k)) throw new RangeError(`kinds holds ${JSON.stringify(k)}; known: link, addr, route`);
    groups |= KINDS[k as NetlinkEventKind];
  }
  const link = opts?.link;
  if (typeof link === 'number') assertInt(link, 'link', 1, 0x7fffffff);
  else if (link !== undefined) assertIfname(link, 'link');
  if (opts?.onError !== undefined && typeof opts.onError !== 'function') throw new TypeError('onError must be a function');
  return { groups, netns };
}

function concerns(e: NetlinkEvent, ifindex: number): boolean {
  if (e.type === 'overrun') return true;
  if (e.type === 'route') return e.ifindex === ifindex || e.nexthops?.some((h) => h.ifindex === ifindex) === true;
  return e.ifindex === ifindex;
}

/**
 * Watch the kernel's link, address and route events. The listener runs on this thread's
 * event loop, one call per event, in the order the kernel sent them. While it runs, the
 * watch keeps the thread's event loop alive, as a server does: close it when done.
 *
 * An `overrun` event says events were lost: read the state again. A listener that throws
 * does not stop the watch (the exception is reported as uncaught).
 *
 * Events are the kernel's view, so a change made by this process arrives too.
 *
 * @throws TypeError / RangeError for bad options; TunError when the socket cannot be
 *   opened or `link` names no interface (ENODEV)
 * @example
 * ```ts
 * const watch = tunctl.watchLinks((e) => {
 *   if (e.type === 'link' && e.op === 'del') console.log(`${e.name} is gone`);
 *   else if (e.type === 'link') console.log(e.name, e.up ? 'up' : 'down', e.mtu);
 * }, { link: 'tun0' });
 * // ...
 * watch.close();
 * ```
 */
export function watchLinks(listener: (event: NetlinkEvent) => void, opts?: WatchLinksOptions): LinkWatch {
  if (typeof listener !== 'function') throw new TypeError('watchLinks(listener) takes a function');
  const { groups, netns } = checkWatchOptions(opts);
  const onError = opts?.onError;
  const n = loadNative();
  // Bound to the groups first, so nothing that happens after the lookup below is missed.
  const sock = NetlinkSocket.open(netns, groups);
  let ifindex: number | undefined;
  let pollId = -1;
  let closed = false;
  const buf = new Uint8Array(RECV_BYTES);
  const close = (): void => {
    if (closed) return;
    closed = true;
    if (pollId >= 0) n.pollStop(pollId);
    sock.close();
  };
  const fail = (err: unknown): void => {
    close();
    if (onError === undefined) throw err;
    onError(err);
  };
  const deliver = (events: NetlinkEvent[]): void => {
    for (const e of events) {
      if (closed) return; // closed by an earlier call of the listener
      if (ifindex !== undefined && !concerns(e, ifindex)) continue;
      try {
        listener(e);
      } catch (err) {
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  };
  const drain = (): void => {
    while (!closed) {
      const events: NetlinkEvent[] = [];
      let datagram: Uint8Array | null;
      try {
        datagram = sock.receive(buf, 0);
        if (datagram === null) return;
        for (const msg of parseMessages(datagram)) {
          const e = decodeEvent(msg);
          if (e !== undefined) events.push(e);
        }
      } catch (err) {
        if (err instanceof TunError && err.code === 'ENOBUFS') {
          deliver([{ type: 'overrun' }]);
          continue;
        }
        fail(parseFailure(err, 'recvmsg(AF_NETLINK)'));
        return;
      }
      deliver(events);
    }
  };
  try {
    const link = opts?.link;
    if (typeof link === 'string') ifindex = withNetlink(netns, (s) => lookupLink(s, link).ifindex);
    else ifindex = link;
    pollId = sys(() =>
      n.pollStart(sock.fd, n.constants.POLLIN, (status) => {
        if (closed) return;
        if (status < 0) fail(new Error(`tunctl: polling the netlink socket failed with libuv status ${status}`));
        else drain();
      }),
    );
  } catch (err) {
    close();
    throw err;
  }
  return {
    close,
    get closed() {
      return closed;
    },
    ifindex,
  };
}
