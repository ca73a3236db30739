/**
 * `tunctl route add|del NAME CIDR [via GW] [metric N] [table N]` and
 * `tunctl route show [NAME] [--json] [--table N|all]`: routes through an interface (rtnetlink).
 *
 * @module
 */
import type { RouteInfo } from '../netlink/routeMessage.js';
import * as tunctl from '../tunctl/index.js';
import { routeDestination } from '../tunctl/routes.js';
import { UsageError } from './cliError.js';
import type { CliOutput } from './cliOutput.js';
import { defineCommand } from './commandSpec.js';
import { EXIT, reportFailure } from './exitCodes.js';
import { formatTable } from './format.js';
import { booleanOption, expectPositionals, parseAddressArg, parseIfname, parseIntArg, stringOption, type CommandLine } from './parseCommandLine.js';

/**
 * Arguments of {@link routeCommand}.
 *
 * @example
 * ```ts
 * const add: RouteArgs = { op: 'add', route: { dst: '198.18.8.0/24', dev: 'tun0', metric: 50 } };
 * const show: RouteArgs = { op: 'show', dev: undefined, json: true, table: 'all' };
 * ```
 */
export type RouteArgs =
  | { readonly op: 'add' | 'del'; readonly route: tunctl.RouteSpec }
  | { readonly op: 'show'; readonly dev: string | undefined; readonly json: boolean; readonly table: number | 'all' | undefined };

/**
 * `tunctl route --help`.
 *
 * @example
 * ```ts
 * printText(io, ROUTE_HELP);
 * ```
 */
export const ROUTE_HELP = `Usage: tunctl route add NAME CIDR [via GW] [metric N] [table N]
       tunctl route del NAME CIDR [via GW] [metric N] [table N]
       tunctl route show [NAME] [--json] [--table N|all]

Add or remove a route to the network CIDR (ADDRESS/PREFIX with the host bits
clear; no prefix is one host) through the interface NAME, optionally via the
gateway GW (same family, reachable through NAME), with a metric (lower wins)
and in a routing table (default: main, 254). 'del' removes the route that
matches what is given. 'show' lists the main table's routes (or another
table's, or all), of every interface or through NAME.

Examples:
  tunctl route add tun0 198.18.8.0/24
  tunctl route add tun0 fd00:8::/64 via fd00::2 metric 10
  tunctl route del tun0 198.18.8.0/24
  tunctl route show tun0 --json

Options:
  --json              show: print a JSON array
  --table N|all       show: the routing table (default main)
  -h, --help          show this help

Exit status: 0 done, 2 usage error, 69 no such interface, 73 the route exists
(EEXIST), 77 no permission (needs CAP_NET_ADMIN), 1 other failure (such as
removing a route that is not there, ESRCH, or an unreachable gateway).
`;

const TABLE_NAMES: Record<string, number> = { main: 254, local: 255, default: 253 };

function parseTable(text: string): number {
  return TABLE_NAMES[text] ?? parseIntArg(text, 'table', 1, 0xffffffff);
}

/**
 * Parse `route`'s command line.
 *
 * @example
 * ```ts
 * parseRouteArgs(parseCommandLine(['add', 'tun0', '198.18.8.0/24', 'metric', '5'], routeSpec.options));
 * // { op: 'add', route: { dst: '198.18.8.0/24', dev: 'tun0', metric: 5 } }
 * ```
 */
export function parseRouteArgs(line: CommandLine): RouteArgs {
  const [op, ...words] = line.positionals;
  if (op === 'show') {
    expectPositionals(words, [], 1);
    const table = stringOption(line.values, 'table');
    return {
      op,
      dev: words[0] === undefined ? undefined : parseIfname(words[0]),
      json: booleanOption(line.values, 'json'),
      table: table === undefined ? undefined : table === 'all' ? 'all' : parseTable(table),
    };
  }
  if (op !== 'add' && op !== 'del') throw new UsageError(op === undefined ? 'missing add, del or show' : `unknown route command ${JSON.stringify(op)}; use add, del or show`);
  if (line.values.json !== undefined || line.values.table !== undefined) throw new UsageError("--json and --table are for 'route show'; give 'table N' after the route");
  expectPositionals(words, ['NAME', 'CIDR'], Infinity);
  const dev = parseIfname(words.shift()!);
  const dstText = words.shift()!;
  let family: 4 | 6;
  try {
    family = routeDestination(dstText).family;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const route: tunctl.RouteSpec = { dst: dstText, dev };
  while (words.length > 0) {
    const key = words.shift()!;
    const value = words.shift();
    if (key !== 'via' && key !== 'metric' && key !== 'table') throw new UsageError(`unexpected ${JSON.stringify(key)}; after CIDR come 'via GW', 'metric N', 'table N'`);
    if (value === undefined) throw new UsageError(`missing a value after '${key}'`);
    if (route[key] !== undefined) throw new UsageError(`'${key}' given twice`);
    if (key === 'via') {
      const gw = parseAddressArg(value);
      if (gw.prefix !== undefined) throw new UsageError(`GW ${JSON.stringify(value)} is an address, without a prefix`);
      if (gw.family !== family) throw new UsageError(`GW ${JSON.stringify(value)} is IPv${gw.family}, but ${dstText} is IPv${family}`);
      route.via = gw.address;
    } else if (key === 'metric') {
      route.metric = parseIntArg(value, 'metric', 0, 0xffffffff);
    } else {
      route.table = parseTable(value);
    }
  }
  return { op, route };
}

/**
 * The JSON form of a route in `tunctl route show --json`.
 *
 * @example
 * ```ts
 * const routes = JSON.parse(stdout) as RouteJson[];
 * ```
 */
export interface RouteJson {
  family: 4 | 6;
  dst: string;
  dev: string | null;
  via: string | null;
  src: string | null;
  metric: number;
  table: number;
  protocol: string;
  scope: string;
  type: string;
}

/**
 * The JSON form of a route.
 *
 * @example
 * ```ts
 * tunctl.routes({ dev: 'tun0' }).map(routeJson);
 * ```
 */
export function routeJson(r: RouteInfo): RouteJson {
  return {
    family: r.family, dst: r.dst, dev: r.dev ?? null, via: r.via ?? null, src: r.src ?? null, metric: r.metric, table: r.table,
    protocol: r.protocol, scope: r.scope, type: r.routeType,
  };
}

/**
 * The aligned text table of `tunctl route show`.
 *
 * @example
 * ```ts
 * routeTable(tunctl.routes().map(routeJson)).forEach((l) => console.log(l));
 * ```
 */
export function routeTable(routes: readonly RouteJson[]): string[] {
  const rows = [['DESTINATION', 'GATEWAY', 'DEV', 'METRIC', 'TABLE', 'PROTOCOL', 'SCOPE']];
  for (const r of routes) {
    const table = Object.entries(TABLE_NAMES).find(([, n]) => n === r.table)?.[0] ?? String(r.table);
    const dst = r.type === 'unicast' ? r.dst : `${r.type} ${r.dst}`;
    rows.push([dst, r.via ?? '-', r.dev ?? '-', String(r.metric), table, r.protocol, r.scope]);
  }
  return formatTable(rows);
}

/**
 * Add, remove or list routes.
 *
 * @returns 0, or the exit status of the failure (reported on `io.err`).
 *
 * @example
 * ```ts
 * routeCommand({ op: 'add', route: { dst: '198.18.8.0/24', dev: 'tun0' } }, io);
 * ```
 */
export function routeCommand(args: RouteArgs, io: CliOutput): number {
  try {
    if (args.op !== 'show') {
      (args.op === 'add' ? tunctl.addRoute : tunctl.removeRoute)(args.route);
    } else {
      const routes = tunctl.routes({ ...(args.dev === undefined ? {} : { dev: args.dev }), ...(args.table === undefined ? {} : { table: args.table }) }).map(routeJson);
      if (args.json) io.out(JSON.stringify(routes, null, 2));
      else if (routes.length > 0) for (const l of routeTable(routes)) io.out(l);
    }
    return EXIT.OK;
  } catch (err) {
    return reportFailure('route', err, io);
  }
}

/**
 * The `route` subcommand.
 *
 * @example
 * ```ts
 * await routeSpec.execute(['add', 'tun0', '198.18.8.0/24'], io, {});
 * ```
 */
export const routeSpec = defineCommand<RouteArgs>({
  name: 'route',
  synopsis: 'route add|del|show ...',
  summary: 'add, remove or list routes',
  help: ROUTE_HELP,
  options: { json: { type: 'boolean' }, table: { type: 'string' } },
  parse: parseRouteArgs,
  run: routeCommand,
});
