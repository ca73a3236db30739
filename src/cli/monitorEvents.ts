/**
 * `tunctl monitor [NAME] --events`: print the kernel's link, address and route events
 * (rtnetlink), one line each, until Ctrl-C or `--count` events.
 *
 * @module
 */
import type { NetlinkEvent } from '../netlink/netlinkEvent.js';
import * as tunctl from '../tunctl/index.js';
import type { CliOutput } from './cliOutput.js';
import type { CommandContext } from './commandSpec.js';
import { EXIT, reportFailure } from './exitCodes.js';

/**
 * What {@link monitorEvents} needs from `monitor`'s arguments.
 *
 * @example
 * ```ts
 * const args: MonitorEventsArgs = { name: 'tun0', count: 3, json: false };
 * ```
 */
export interface MonitorEventsArgs {
  /** Only this interface's events; all when undefined. */
  readonly name: string | undefined;
  /** Stop after this many events; undefined runs until Ctrl-C. */
  readonly count: number | undefined;
  /** One JSON object per line instead of text. */
  readonly json: boolean;
}

/**
 * One event as a line of text, with interface names from `names` (index to name).
 *
 * @example
 * ```ts
 * formatEvent({ type: 'addr', op: 'add', ifindex: 7, family: 4, address: '198.18.0.1', prefix: 24, ... }, new Map([[7, 'tun0']]));
 * // 'addr add tun0 198.18.0.1/24'
 * ```
 */
export function formatEvent(e: NetlinkEvent, names: ReadonlyMap<number, string>): string {
  const dev = (i: number | undefined): string => (i === undefined ? '-' : (names.get(i) ?? `#${i}`));
  switch (e.type) {
    case 'overrun':
      return 'overrun: events were lost (read the state again)';
    case 'link':
      if (e.op === 'del') return `link ${e.name} #${e.ifindex} deleted`;
      return `link ${e.name} #${e.ifindex} ${e.up ? 'up' : 'down'}${e.running ? ' running' : ''} mtu ${e.mtu}`;
    case 'addr':
      return `addr ${e.op} ${dev(e.ifindex)} ${e.peer === undefined ? e.address : `${e.address} peer ${e.peer}`}/${e.prefix}`;
    case 'route': {
      const parts = [`route ${e.op}`, e.routeType === 'unicast' ? e.dst : `${e.routeType} ${e.dst}`];
      if (e.via !== undefined) parts.push(`via ${e.via}`);
      parts.push(`dev ${dev(e.ifindex)}`);
      if (e.metric !== 0) parts.push(`metric ${e.metric}`);
      if (e.table !== tunctl.MAIN_TABLE) parts.push(`table ${e.table}`);
      return parts.join(' ');
    }
  }
}

/**
 * Watch the events (of one interface, or all) and print them until `count` were printed
 * or `ctx.signal` aborts.
 *
 * @returns 0, or the exit status of the failure (reported on `io.err`): 69 when `name`
 *   names no interface.
 *
 * @example
 * ```ts
 * await monitorEvents({ name: 'tun0', count: undefined, json: false }, io, { signal });
 * ```
 */
export async function monitorEvents(args: MonitorEventsArgs, io: CliOutput, ctx: CommandContext = {}): Promise<number> {
  let watch: tunctl.LinkWatch | undefined;
  try {
    const names = new Map<number, string>();
    const failure = await new Promise<unknown>((resolve) => {
      let shown = 0;
      const onAbort = (): void => finish(undefined);
      const finish = (result: unknown): void => {
        watch?.close();
        ctx.signal?.removeEventListener('abort', onAbort);
        resolve(result);
      };
      const print = (e: NetlinkEvent): void => {
        if (e.type === 'link') names.set(e.ifindex, e.name);
        const named = e.type === 'addr' || e.type === 'route' ? { ...e, dev: e.ifindex === undefined ? undefined : names.get(e.ifindex) } : e;
        io.out(args.json ? JSON.stringify(named) : formatEvent(e, names));
        if (e.type === 'link' && e.op === 'del') names.delete(e.ifindex);
        shown += 1;
        if (args.count !== undefined && shown >= args.count) finish(undefined);
      };
      try {
        // Watch first, then read the names, so no event falls between the two.
        watch = tunctl.watchLinks(print, { ...(args.name === undefined ? {} : { link: args.name }), onError: finish });
      } catch (err) {
        finish(err);
        return;
      }
      for (const l of tunctl.links()) if (!names.has(l.ifindex)) names.set(l.ifindex, l.name);
      if (io.isTTY) io.out(`monitor ${args.name ?? 'all interfaces'}: link, address and route events; Ctrl-C to stop`);
      if (ctx.signal?.aborted) onAbort();
      else ctx.signal?.addEventListener('abort', onAbort, { once: true });
    });
    if (failure !== undefined) return reportFailure('monitor', failure, io);
    return EXIT.OK;
  } catch (err) {
    return reportFailure('monitor', err, io);
  } finally {
    watch?.close();
  }
}
