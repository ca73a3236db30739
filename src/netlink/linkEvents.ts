/**
 * The kernel's link, address and route events as an RxJS Observable.
 *
 * @module
 */
import { Observable } from 'rxjs';
import { checkWatchOptions, watchLinks, type WatchLinksOptions } from '../tunctl/watchLinks.js';
import type { NetlinkEvent } from './netlinkEvent.js';

/**
 * The kernel's link, address and route events ({@link watchLinks}) as a cold Observable:
 * each subscription opens its own netlink socket on the subscribing thread (the main
 * thread or a worker) and closes it on unsubscribe; a failure of the socket is the
 * Observable's error. Options are checked at once.
 *
 * @throws TypeError / RangeError for bad options
 * @example
 * ```ts
 * import { linkEvents } from 'tunctl';
 * const sub = linkEvents({ link: 'tun0', kinds: ['link'] }).subscribe((e) => console.log(e));
 * // ip link set tun0 mtu 1400  →  { type: 'link', op: 'new', name: 'tun0', mtu: 1400, up: ..., running: ... }
 * sub.unsubscribe();
 * ```
 */
export function linkEvents(opts?: Omit<WatchLinksOptions, 'onError'>): Observable<NetlinkEvent> {
  if (opts !== undefined && opts !== null && typeof opts === 'object' && 'onError' in opts) {
    throw new TypeError('linkEvents takes no onError: errors end the Observable');
  }
  checkWatchOptions(opts);
  return new Observable<NetlinkEvent>((subscriber) => {
    const watch = watchLinks((e) => subscriber.next(e), { ...opts, onError: (err) => subscriber.error(err) });
    return () => watch.close();
  });
}
