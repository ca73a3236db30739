/**
 * `tunctl monitor NAME`: attach a reader to an existing device and show live packet
 * and byte rates and a per-protocol count; `tunctl monitor [NAME] --events`: print the
 * kernel's link, address and route events (see `monitorEvents.ts`).
 *
 * @module
 */
import { performance } from 'node:perf_hooks';
import type { Tuncer } from '../actors/tuncer.js';
import * as tunctl from '../tunctl/index.js';
import type { CliOutput } from './cliOutput.js';
import { defineCommand, type CommandContext } from './commandSpec.js';
import { EXIT, reportFailure } from './exitCodes.js';
import { monitorEvents } from './monitorEvents.js';
import { MonitorStats, monitorLine, monitorLines } from './monitorStats.js';
import { booleanOption, expectPositionals, parseIfname, parseIntArg, stringOption, type CommandLine } from './parseCommandLine.js';
import { UsageError } from './cliError.js';
import { attachOptions, tunFlags } from './readTunDevice.js';

/**
 * Arguments of {@link monitorCommand}.
 *
 * @example
 * ```ts
 * const args: MonitorArgs = { name: 'tun0', events: false, json: false, intervalMs: 500, count: 10 };
 * ```
 */
export interface MonitorArgs {
  /** The device to read packets from, or whose events to print; events of all interfaces when undefined. */
  readonly name: string | undefined;
  /** Print the kernel's link, address and route events instead of packet rates. */
  readonly events: boolean;
  /** Events: one JSON object per line. */
  readonly json: boolean;
  /** Milliseconds between updates (packets). */
  readonly intervalMs: number;
  /** Stop after this many updates (packets) or events; undefined runs until Ctrl-C. */
  readonly count: number | undefined;
}

/**
 * `tunctl monitor --help`.
 *
 * @example
 * ```ts
 * printText(io, MONITOR_HELP);
 * ```
 */
export const MONITOR_HELP = `Usage: tunctl monitor NAME [--interval MS] [--count N]
       tunctl monitor [NAME] --events [--json] [--count N]

Packets (with NAME): attach to an existing TUN/TAP device (typically a
persistent one made with 'tunctl add') as its reader, and show the packets the
kernel sends into it: packet and byte rates per interval, totals, and a count
per protocol (icmp, icmp6, udp, tcp, arp, other). On a terminal the figures
update in place; otherwise one line is printed per interval.

Attaching takes packets away from whoever else reads the device: a single-queue
device that another process has open cannot be attached at all ("busy"), and on
a multi-queue device the kernel spreads packets over the queues, so this reader
sees only its share and the others miss those packets.

Events (--events, or no NAME): print the kernel's link, address and route
events, of NAME or of every interface, one line each, as they happen:
  link tun0 #7 up running mtu 1400      link tun0 #7 deleted
  addr add tun0 198.18.0.1/24           route add 198.18.8.0/24 dev tun0
Changes made by anyone show: 'ip link set tun0 down', a process exiting, this
tool. Nothing is attached to the device. Any interface works, not only TUN/TAP.

Ctrl-C stops: the reader closes; a persistent device stays, with its settings.

Options:
  --events            print link, address and route events instead of packets
  --json              events: one JSON object per line
  --interval MS       packets: time between updates, 10 to 3600000 ms (default: 1000)
  --count N           stop after N updates, or N events (default: run until Ctrl-C)
  -h, --help          show this help

Exit status: 0 stopped, 2 usage error, 69 no such TUN/TAP device (or, for
events, no such interface), 75 device in use, 77 no permission (needs
CAP_NET_ADMIN, or be the device's owner/group), 1 other failure.
`;

const OPTIONS = { interval: { type: 'string' }, count: { type: 'string' }, events: { type: 'boolean' }, json: { type: 'boolean' } } as const;

/**
 * Parse `monitor`'s command line.
 *
 * @example
 * ```ts
 * parseMonitorArgs(parseCommandLine(['tun0', '--count', '2'], monitorSpec.options));
 * // { name: 'tun0', events: false, json: false, intervalMs: 1000, count: 2 }
 * ```
 */
export function parseMonitorArgs(line: CommandLine): MonitorArgs {
  expectPositionals(line.positionals, [], 1);
  const name = line.positionals[0] === undefined ? undefined : parseIfname(line.positionals[0]);
  const events = booleanOption(line.values, 'events') || name === undefined;
  const json = booleanOption(line.values, 'json');
  const interval = stringOption(line.values, 'interval');
  const count = stringOption(line.values, 'count');
  if (events && interval !== undefined) throw new UsageError('--interval is for packets; events are printed as they come');
  if (!events && json) throw new UsageError('--json is for --events');
  return {
    name,
    events,
    json,
    intervalMs: interval === undefined ? 1000 : parseIntArg(interval, '--interval', 10, 3_600_000),
    count: count === undefined ? undefined : parseIntArg(count, '--count', 1, Number.MAX_SAFE_INTEGER),
  };
}

/** Draws samples: in place on a terminal, one line each otherwise. */
class MonitorView {
  #drawn = 0;
  constructor(
    private readonly io: CliOutput,
    private readonly name: string,
  ) {}

  draw(stats: MonitorStats): void {
    const sample = stats.sample(performance.now());
    if (!this.io.isTTY) {
      this.io.out(monitorLine(this.name, sample));
      return;
    }
    const lines = monitorLines(sample);
    // Move up over the previous block and clear it, then write the new one.
    const prefix = this.#drawn > 0 ? `\x1b[${this.#drawn}A\x1b[J` : '';
    lines.forEach((line, i) => this.io.out(i === 0 ? prefix + line : line));
    this.#drawn = lines.length;
  }
}

/**
 * Attach a `Tuncer` in active mode to the device and report its traffic every
 * `intervalMs` until `count` updates were shown, `ctx.signal` aborts (Ctrl-C), or the
 * device fails. The reader is destroyed at the end; a persistent device stays. With
 * `events` (or no name), print the kernel's events instead ({@link monitorEvents}).
 *
 * @returns 0, or the exit status of the failure (reported on `io.err`).
 *
 * @example
 * ```ts
 * const ac = new AbortController();
 * process.once('SIGINT', () => ac.abort());
 * await monitorCommand({ name: 'tun0', events: false, json: false, intervalMs: 1000, count: undefined }, io, { signal: ac.signal });
 * ```
 */
export async function monitorCommand(args: MonitorArgs, io: CliOutput, ctx: CommandContext = {}): Promise<number> {
  if (args.events || args.name === undefined) return monitorEvents(args, io, ctx);
  const name = args.name;
  let tun: Tuncer | undefined;
  try {
    const opts = attachOptions(tunFlags(name));
    // Loaded here, not at the top: the other commands start faster without rxjs, xstate and pino.
    const { Tuncer } = await import('../actors/tuncer.js');
    tun = await Tuncer.create({
      name,
      mode: opts.mode ?? 'tap',
      noPi: opts.noPi ?? true,
      vnetHdr: opts.vnetHdr ?? false,
      multiQueue: opts.multiQueue ?? false,
      active: true,
    });
    const attached = tun;
    const skip = (opts.noPi ? 0 : 4) + (opts.vnetHdr ? tunctl.vnetHdrSize(attached.getfd()) : 0);
    const stats = new MonitorStats({ skip, ethernet: opts.mode === 'tap' }, performance.now());
    const view = new MonitorView(io, name);
    if (io.isTTY) io.out(`monitor ${name} (${opts.mode}), every ${args.intervalMs} ms; Ctrl-C to stop`);
    const failure = await new Promise<unknown>((resolve) => {
      let shown = 0;
      const sub = attached.packets$.subscribe({ next: (p) => stats.add(p), error: () => undefined });
      const finish = (result: unknown): void => {
        clearInterval(timer);
        sub.unsubscribe();
        ctx.signal?.removeEventListener('abort', onAbort);
        resolve(result);
      };
      const onAbort = (): void => {
        view.draw(stats); // the last, partial interval
        finish(undefined);
      };
      const timer = setInterval(() => {
        view.draw(stats);
        shown += 1;
        if (args.count !== undefined && shown >= args.count) finish(undefined);
      }, args.intervalMs);
      if (ctx.signal?.aborted) onAbort();
      else ctx.signal?.addEventListener('abort', onAbort, { once: true });
      void attached.exit.then((reason) => finish(reason instanceof Error ? reason : new Error(`${name}: the reader ended (${reason})`)));
    });
    if (failure !== undefined) return reportFailure('monitor', failure, io);
    return EXIT.OK;
  } catch (err) {
    return reportFailure('monitor', err, io);
  } finally {
    await tun?.destroy();
  }
}

/**
 * The `monitor` subcommand.
 *
 * @example
 * ```ts
 * await monitorSpec.execute(['tun0', '--count', '5'], io, { signal });
 * ```
 */
export const monitorSpec = defineCommand<MonitorArgs>({
  name: 'monitor',
  synopsis: 'monitor [NAME] [--events] [--count N]',
  summary: 'live packet rates of a device, or link/address/route events',
  help: MONITOR_HELP,
  options: OPTIONS,
  parse: parseMonitorArgs,
  run: monitorCommand,
});
