/**
 * Routes (`RTM_NEWROUTE` / `RTM_DELROUTE` / `RTM_GETROUTE`, `struct rtmsg`), including the
 * next hops of a multipath route (`RTA_MULTIPATH`, a list of `struct rtnexthop`).
 *
 * @module
 */
import { formatIp } from '../packet/ipAddress.js';
import { AF, NL, PROTOCOL_NAMES, ROUTE_TYPE_NAMES, RTA, RTM, SCOPE_NAMES, nameOf } from './rtnetlinkConstants.js';
import {
  HOST_LE, NetlinkBuilder, NetlinkParseError, align4, changeRequest, attrBytes, attrU32, fixedHeader, parseAttributes,
  type NetlinkMessage,
} from './netlinkMessage.js';

/**
 * One next hop of a multipath route.
 *
 * @example
 * ```ts
 * route.nexthops?.map((h) => h.via);
 * ```
 */
export interface RouteNexthop {
  readonly ifindex: number;
  /** The interface's name, in listings (undefined in events). */
  readonly dev: string | undefined;
  readonly via: string | undefined;
  /** `ip route`'s weight: rtnh_hops + 1. */
  readonly weight: number;
}

/**
 * One route (`ip route`).
 *
 * @example
 * ```ts
 * for (const r of tunctl.routes({ dev: 'tun0' })) console.log(r.dst, r.via ?? 'direct', r.metric);
 * ```
 */
export interface RouteInfo {
  readonly family: 4 | 6;
  /** The destination network as `address/prefix` (`0.0.0.0/0`, `::/0` for a default route). */
  readonly dst: string;
  readonly prefix: number;
  /** The output interface's index, when the route has one. */
  readonly ifindex: number | undefined;
  /** The output interface's name, in listings (undefined in events). */
  readonly dev: string | undefined;
  /** The gateway. */
  readonly via: string | undefined;
  /** The preferred source address (RTA_PREFSRC). */
  readonly src: string | undefined;
  /** The metric (RTA_PRIORITY); 0 when the kernel reports none (IPv4's default). */
  readonly metric: number;
  /** The routing table: 254 is `main`, 255 `local`. */
  readonly table: number;
  /** Who added it: `'kernel'`, `'boot'` (`ip route add`'s default, and this library's), `'static'`, `'ra'`... */
  readonly protocol: string;
  /** `'global'`, `'link'` (directly reachable), `'host'`. */
  readonly scope: string;
  /** `'unicast'`, `'local'`, `'broadcast'`, `'multicast'`, `'blackhole'`, `'unreachable'`... (`ip route`'s type) */
  readonly routeType: string;
  /** The next hops of a multipath route. */
  readonly nexthops: readonly RouteNexthop[] | undefined;
}

function decodeNexthops(bytes: Uint8Array, size: number): RouteNexthop[] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: RouteNexthop[] = [];
  let off = 0;
  while (off < bytes.length) {
    const left = bytes.length - off;
    if (left < RTA.NH_LEN) throw new NetlinkParseError(`${left} bytes left in RTA_MULTIPATH, too few for a next hop`, off);
    const len = dv.getUint16(off, HOST_LE);
    if (len < RTA.NH_LEN || len > left) throw new NetlinkParseError(`next hop length ${len} does not fit the ${left} bytes left`, off);
    const a = parseAttributes(bytes.subarray(off, off + len), RTA.NH_LEN);
    const via = attrBytes(a, RTA.GATEWAY, size, 'RTA_GATEWAY');
    out.push({ ifindex: dv.getInt32(off + 4, HOST_LE), dev: undefined, via: via === undefined ? undefined : formatIp(via), weight: dv.getUint8(off + 3) + 1 });
    off += align4(len);
  }
  return out;
}

/**
 * Decode an `RTM_NEWROUTE` / `RTM_DELROUTE` message; `undefined` for families other than
 * IPv4 and IPv6.
 *
 * @throws NetlinkParseError when it is malformed or an address has the wrong size
 * @example
 * ```ts
 * const route = decodeRoute(msg);
 * ```
 */
export function decodeRoute(msg: NetlinkMessage): RouteInfo | undefined {
  const dv = fixedHeader(msg.payload, RTA.MSGLEN, 'struct rtmsg');
  const af = dv.getUint8(0);
  if (af !== AF.INET && af !== AF.INET6) return undefined;
  const family = af === AF.INET ? 4 : 6;
  const size = family === 4 ? 4 : 16;
  const prefix = dv.getUint8(1);
  if (prefix > size * 8) throw new NetlinkParseError(`IPv${family} route prefix ${prefix} is over ${size * 8}`, 1);
  const a = parseAttributes(msg.payload, RTA.MSGLEN);
  const dst = attrBytes(a, RTA.DST, size, 'RTA_DST') ?? new Uint8Array(size);
  const via = attrBytes(a, RTA.GATEWAY, size, 'RTA_GATEWAY');
  const src = attrBytes(a, RTA.PREFSRC, size, 'RTA_PREFSRC');
  const multipath = a.get(RTA.MULTIPATH);
  return {
    family,
    dst: `${formatIp(dst)}/${prefix}`,
    prefix,
    ifindex: attrU32(a, RTA.OIF, 'RTA_OIF'),
    dev: undefined,
    via: via === undefined ? undefined : formatIp(via),
    src: src === undefined ? undefined : formatIp(src),
    metric: attrU32(a, RTA.PRIORITY, 'RTA_PRIORITY') ?? 0,
    // Tables over 255 only fit in RTA_TABLE (rtm_table then says RT_TABLE_COMPAT).
    table: attrU32(a, RTA.TABLE, 'RTA_TABLE') ?? dv.getUint8(4),
    protocol: nameOf(PROTOCOL_NAMES, dv.getUint8(5)),
    scope: nameOf(SCOPE_NAMES, dv.getUint8(6)),
    routeType: nameOf(ROUTE_TYPE_NAMES, dv.getUint8(7)),
    nexthops: multipath === undefined ? undefined : decodeNexthops(multipath, size),
  };
}

/**
 * What {@link encodeRoute} sends.
 *
 * @example
 * ```ts
 * const spec: RouteRequest = { family: 4, dst: parseIp('198.18.5.0').bytes, prefix: 24, ifindex: 7, table: 254 };
 * ```
 */
export interface RouteRequest {
  readonly family: 4 | 6;
  /** The network address (host bits clear), 4 or 16 bytes. */
  readonly dst: Uint8Array;
  readonly prefix: number;
  readonly ifindex?: number | undefined;
  readonly via?: Uint8Array | undefined;
  readonly metric?: number | undefined;
  readonly table: number;
}

/**
 * `RTM_NEWROUTE` (fails with EEXIST when the same route is there; protocol `boot` and the
 * scope `ip route add` picks: `link` for an IPv4 route without a gateway) or
 * `RTM_DELROUTE` (matching on whatever is given).
 *
 * @example
 * ```ts
 * sock.request(encodeRoute('add', spec));
 * ```
 */
export function encodeRoute(op: 'add' | 'del', spec: RouteRequest): NetlinkBuilder {
  const add = op === 'add';
  const b = changeRequest(op, RTM.NEWROUTE, RTM.DELROUTE);
  const dv = b.fixed(RTA.MSGLEN);
  dv.setUint8(0, spec.family === 4 ? AF.INET : AF.INET6);
  dv.setUint8(1, spec.prefix);
  dv.setUint8(4, spec.table < 256 ? spec.table : RTA.TABLE_COMPAT);
  if (add) {
    dv.setUint8(5, RTA.PROT_BOOT);
    dv.setUint8(6, spec.family === 4 && spec.via === undefined ? RTA.SCOPE_LINK : RTA.SCOPE_UNIVERSE);
    dv.setUint8(7, RTA.TYPE_UNICAST);
  } else {
    dv.setUint8(6, RTA.SCOPE_NOWHERE); // any scope
  }
  if (spec.prefix > 0) b.attr(RTA.DST, spec.dst);
  if (spec.via !== undefined) b.attr(RTA.GATEWAY, spec.via);
  if (spec.ifindex !== undefined) b.attrU32(RTA.OIF, spec.ifindex);
  if (spec.metric !== undefined) b.attrU32(RTA.PRIORITY, spec.metric);
  b.attrU32(RTA.TABLE, spec.table);
  return b;
}

/**
 * The request for every route of one family (all tables; the caller filters).
 *
 * @example
 * ```ts
 * const v6 = sock.dump(encodeGetRoutes(6), decodeRoute);
 * ```
 */
export function encodeGetRoutes(family: 4 | 6): NetlinkBuilder {
  const b = new NetlinkBuilder(RTM.GETROUTE, NL.F_REQUEST | NL.F_DUMP);
  b.fixed(RTA.MSGLEN).setUint8(0, family === 4 ? AF.INET : AF.INET6);
  return b;
}
