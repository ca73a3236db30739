/**
 * Routes over rtnetlink: add, remove and list IPv4 and IPv6 routes, through an interface
 * and/or a gateway, with a metric and a routing table.
 *
 * @module
 */
import { encodeGetRoutes, encodeRoute, decodeRoute, type RouteInfo, type RouteRequest } from '../netlink/routeMessage.js';
import { withNetlink, type NetlinkSocket } from '../netlink/netlinkSocket.js';
import { RTA } from '../netlink/rtnetlinkConstants.js';
import { formatIp, ipBytes, parseCidr } from '../packet/ipAddress.js';
import { linkNames, lookupLink, netnsOf, type NetnsOption } from './links.js';
import { assertIfname, assertInt } from './validate.js';

/**
 * The main routing table, where routes go when no table is given (`ip route`'s default).
 *
 * @example
 * ```ts
 * tunctl.routes({ table: tunctl.MAIN_TABLE });
 * ```
 */
export const MAIN_TABLE = RTA.TABLE_MAIN;

/**
 * A route to add or remove.
 *
 * @example
 * ```ts
 * const r: RouteSpec = { dst: '198.18.8.0/24', dev: 'tun0', metric: 50 };
 * ```
 */
export interface RouteSpec extends NetnsOption {
  /** The destination network, `ADDRESS[/PREFIX]` with the host bits clear (no prefix: one host). `0.0.0.0/0` and `::/0` are default routes. */
  dst: string;
  /** The output interface. A route needs `dev`, `via`, or both. */
  dev?: string;
  /** The gateway, of the same family as `dst`. */
  via?: string;
  /** The metric (preference; lower wins), 0 to 2^32-1. Default: the kernel's (0 for IPv4, 1024 for IPv6). */
  metric?: number;
  /** The routing table, 1 to 2^32-1 (default {@link MAIN_TABLE}, 254). */
  table?: number;
}

/**
 * Which routes {@link routes} lists.
 *
 * @example
 * ```ts
 * tunctl.routes({ dev: 'tun0', family: 6 });
 * ```
 */
export interface RouteFilter extends NetnsOption {
  /** Only routes through this interface. */
  dev?: string;
  family?: 4 | 6;
  /** One table (default {@link MAIN_TABLE}), or `'all'`. */
  table?: number | 'all';
}

const SPEC_KEYS = ['dst', 'dev', 'via', 'metric', 'table', 'netns'] as const;

function networkOf(bytes: Uint8Array, prefix: number): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) {
    const bits = Math.min(Math.max(prefix - 8 * i, 0), 8);
    out[i] = bytes[i]! & ((0xff00 >> bits) & 0xff);
  }
  return out;
}

/**
 * Parse a route's destination, `ADDRESS[/PREFIX]` (no prefix: one host), which must be a
 * network address: no bits set after the prefix.
 *
 * @internal
 * @throws TypeError when `dst` is not a string; RangeError when it is malformed or has host bits set
 * @example
 * ```ts
 * routeDestination('198.18.8.0/24'); // { family: 4, bytes: Uint8Array [198, 18, 8, 0], prefix: 24 }
 * routeDestination('198.18.8.1/24'); // throws RangeError: ... the network is 198.18.8.0/24
 * ```
 */
export function routeDestination(dst: string): { family: 4 | 6; bytes: Uint8Array; prefix: number } {
  if (typeof dst !== 'string') throw new TypeError(`dst must be a string such as '198.18.8.0/24', got ${typeof dst}`);
  const { family, bytes, prefix: given } = parseCidr(dst);
  const prefix = given ?? (family === 4 ? 32 : 128);
  const network = networkOf(bytes, prefix);
  if (network.some((b, i) => b !== bytes[i])) {
    throw new RangeError(`dst ${JSON.stringify(dst)} has host bits set: the network is ${formatIp(network)}/${prefix}`);
  }
  return { family, bytes: network, prefix };
}

interface CheckedRoute {
  readonly request: Omit<RouteRequest, 'ifindex'>;
  readonly dev: string | undefined;
  readonly netns: string | undefined;
  readonly shown: string;
}

/** Every check of a route, before any system call. */
function checkRoute(spec: RouteSpec, what: string): CheckedRoute {
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) throw new TypeError(`${what} takes a route object such as { dst: '198.18.8.0/24', dev: 'tun0' }`);
  const netns = netnsOf(spec, `${what} field`, SPEC_KEYS);
  const { family, bytes: network, prefix } = routeDestination(spec.dst);
  if (spec.dev !== undefined) assertIfname(spec.dev, 'dev');
  const via = spec.via === undefined ? undefined : ipBytes(spec.via, family, 'via');
  if (spec.dev === undefined && via === undefined) throw new RangeError(`${what} needs dev, via or both`);
  if (spec.metric !== undefined) assertInt(spec.metric, 'metric', 0, 0xffffffff);
  if (spec.table !== undefined) assertInt(spec.table, 'table', 1, 0xffffffff);
  return {
    request: { family, dst: network, prefix, via, metric: spec.metric, table: spec.table ?? MAIN_TABLE },
    dev: spec.dev,
    netns,
    shown: `${formatIp(network)}/${prefix}`,
  };
}

/**
 * Check a route before any system call (TypeError/RangeError), as {@link addRoute} would.
 *
 * @example
 * ```ts
 * checkRouteSpec({ dst: '198.18.8.1/24', dev: 'tun0' }); // RangeError: host bits set
 * ```
 */
export function checkRouteSpec(spec: RouteSpec, what = 'route'): void {
  checkRoute(spec, what);
}

function change(op: 'add' | 'del', spec: RouteSpec, what: string): void {
  const route = checkRoute(spec, what);
  withNetlink(route.netns, (sock) => {
    const ifindex = route.dev === undefined ? undefined : lookupLink(sock, route.dev).ifindex;
    sock.request(encodeRoute(op, { ...route.request, ifindex }), () => undefined, { ifname: route.dev });
  });
}

/**
 * Add a route (`ip route add`). A route that exists already (same destination, table and
 * metric) is an `EEXIST` error.
 *
 * @throws TypeError / RangeError for a malformed destination (host bits set, too), gateway,
 *   metric, table or device name, before any system call
 * @throws TunError `ENODEV` (no such `dev`), `EEXIST`, `ENETUNREACH` (the gateway is not
 *   reachable), `EINVAL` with the kernel's reason
 * @example
 * ```ts
 * tunctl.addRoute({ dst: '198.18.8.0/24', dev: 'tun0' });
 * tunctl.addRoute({ dst: 'fd00:8::/64', via: 'fd00::2', metric: 10 });
 * ```
 */
export function addRoute(spec: RouteSpec): void {
  change('add', spec, 'addRoute');
}

/**
 * Remove a route (`ip route del`). The kernel removes the first route that matches what is
 * given (destination and table always; `dev`, `via` and `metric` when given).
 *
 * @throws TunError `ESRCH` when no route matches, `ENODEV` for an unknown `dev`
 * @example
 * ```ts
 * tunctl.removeRoute({ dst: '198.18.8.0/24', dev: 'tun0' });
 * ```
 */
export function removeRoute(spec: RouteSpec): void {
  change('del', spec, 'removeRoute');
}

function dumpRoutes(sock: NetlinkSocket, family: 4 | 6 | undefined): RouteInfo[] {
  const families: (4 | 6)[] = family === undefined ? [4, 6] : [family];
  return families.flatMap((f) => sock.request(encodeGetRoutes(f), decodeRoute));
}

/**
 * The routes of the main table (or another, or all), optionally only one family's or
 * those through one interface (`ip route show`, `ip -6 route show`), each with its
 * interface's name.
 *
 * @throws TunError `ENODEV` when `dev` is given and no interface has it
 * @example
 * ```ts
 * tunctl.routes({ dev: 'tun0' }).map((r) => r.dst); // ['198.18.0.0/24', 'fd00::/64', 'fe80::/64']
 * ```
 */
export function routes(filter?: RouteFilter): RouteInfo[] {
  const netns = netnsOf(filter, 'routes option', ['dev', 'family', 'table', 'netns']);
  const f = filter ?? {};
  if (f.dev !== undefined) assertIfname(f.dev, 'dev');
  if (f.family !== undefined && f.family !== 4 && f.family !== 6) throw new RangeError(`family must be 4 or 6, got ${String(f.family)}`);
  if (f.table !== undefined && f.table !== 'all') assertInt(f.table, 'table', 1, 0xffffffff);
  const table = f.table ?? MAIN_TABLE;
  return withNetlink(netns, (sock) => {
    const only = f.dev === undefined ? undefined : lookupLink(sock, f.dev).ifindex;
    const names = linkNames(sock);
    const name = (i: number | undefined): string | undefined => (i === undefined ? undefined : names.get(i));
    return dumpRoutes(sock, f.family)
      .filter((r) => (table === 'all' || r.table === table) && (only === undefined || r.ifindex === only || r.nexthops?.some((h) => h.ifindex === only) === true))
      .map((r) => ({ ...r, dev: name(r.ifindex), nexthops: r.nexthops?.map((h) => ({ ...h, dev: name(h.ifindex) })) }));
  });
}
