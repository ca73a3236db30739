/**
 * The kernel's link, address and route notifications as typed events.
 *
 * @module
 */
import { decodeAddress, type InterfaceAddress } from './addressMessage.js';
import { decodeLink, type LinkInfo } from './linkMessage.js';
import type { NetlinkMessage } from './netlinkMessage.js';
import { decodeRoute, type RouteInfo } from './routeMessage.js';
import { RTM } from './rtnetlinkConstants.js';

/**
 * A link appeared or changed (`op: 'new'`: up/down, running, MTU, name, ...; the fields
 * are its state now), or went away (`op: 'del'`: deleted, or moved to another network
 * namespace).
 *
 * @example
 * ```ts
 * if (e.type === 'link' && e.op === 'new') console.log(e.name, e.up, e.running, e.mtu);
 * ```
 */
export type LinkEvent = { readonly type: 'link'; readonly op: 'new' | 'del' } & LinkInfo;

/**
 * An address was added or removed. `name` is the IPv4 label (the interface's name, or
 * `NAME:alias`) and `undefined` for IPv6: match on `ifindex`.
 *
 * @example
 * ```ts
 * if (e.type === 'addr') console.log(e.op, `${e.address}/${e.prefix}`, 'on', e.ifindex);
 * ```
 */
export type AddressEvent = { readonly type: 'addr'; readonly op: 'add' | 'del' } & InterfaceAddress;

/**
 * A route was added or removed. `dev` is `undefined`: match on `ifindex`.
 *
 * @example
 * ```ts
 * if (e.type === 'route') console.log(e.op, e.dst, e.via ?? 'direct');
 * ```
 */
export type RouteEvent = { readonly type: 'route'; readonly op: 'add' | 'del' } & RouteInfo;

/**
 * The socket's queue overflowed and events were lost (ENOBUFS): read the state again
 * (`tunctl.linkInfo`, `addresses`, `routes`). Events keep coming after it.
 *
 * @example
 * ```ts
 * if (e.type === 'overrun') resync();
 * ```
 */
export interface OverrunEvent {
  readonly type: 'overrun';
}

/**
 * Everything a link watch delivers.
 *
 * @example
 * ```ts
 * function onEvent(e: NetlinkEvent): void {
 *   switch (e.type) { case 'link': case 'addr': case 'route': case 'overrun': break; }
 * }
 * ```
 */
export type NetlinkEvent = LinkEvent | AddressEvent | RouteEvent | OverrunEvent;

/**
 * Which events to ask for.
 *
 * @example
 * ```ts
 * const kinds: NetlinkEventKind[] = ['link', 'addr'];
 * ```
 */
export type NetlinkEventKind = 'link' | 'addr' | 'route';

/**
 * Decode one notification; `undefined` for message types and families that are not
 * links, IPv4/IPv6 addresses or routes.
 *
 * @throws NetlinkParseError when it is malformed
 * @example
 * ```ts
 * const e = decodeEvent(msg);
 * ```
 */
export function decodeEvent(msg: NetlinkMessage): LinkEvent | AddressEvent | RouteEvent | undefined {
  switch (msg.type) {
    case RTM.NEWLINK:
    case RTM.DELLINK:
      return { type: 'link', op: msg.type === RTM.NEWLINK ? 'new' : 'del', ...decodeLink(msg) };
    case RTM.NEWADDR:
    case RTM.DELADDR: {
      const a = decodeAddress(msg);
      return a && { type: 'addr', op: msg.type === RTM.NEWADDR ? 'add' : 'del', ...a };
    }
    case RTM.NEWROUTE:
    case RTM.DELROUTE: {
      const r = decodeRoute(msg);
      return r && { type: 'route', op: msg.type === RTM.NEWROUTE ? 'add' : 'del', ...r };
    }
    default:
      return undefined;
  }
}
