/**
 * Counters and the text layout of `tunctl monitor`: packets, bytes and a per-protocol
 * count, sampled once per interval into rates. Pure: no device, no timers.
 *
 * @module
 */
import { packetProtocol, type PacketProtocol } from '../packet/describePacket.js';
import { formatByteRate, formatBytes, formatPacketRate, formatTable, ratePerSecond } from './format.js';

/**
 * The order protocols are listed in.
 *
 * @example
 * ```ts
 * PROTOCOL_ORDER.indexOf('udp'); // 2
 * ```
 */
export const PROTOCOL_ORDER: readonly PacketProtocol[] = ['icmp', 'icmp6', 'udp', 'tcp', 'arp', 'other'];

/**
 * One interval's view of the counters.
 *
 * @example
 * ```ts
 * const s: MonitorSample = stats.sample(performance.now());
 * console.log(`${s.packetRate} packets/s, ${s.protocols.get('udp') ?? 0} UDP so far`);
 * ```
 */
export interface MonitorSample {
  /** Length of this interval, ms. */
  readonly intervalMs: number;
  /** Time since monitoring began, ms. */
  readonly totalMs: number;
  /** Packets and bytes since monitoring began. */
  readonly packets: number;
  readonly bytes: number;
  /** Rates over this interval, per second. */
  readonly packetRate: number;
  readonly byteRate: number;
  /** Packets per protocol since monitoring began (only protocols seen). */
  readonly protocols: ReadonlyMap<PacketProtocol, number>;
}

/**
 * Counts the packets read from a device and turns them into per-interval samples.
 *
 * @example
 * ```ts
 * const stats = new MonitorStats({ skip: 0, ethernet: false }, performance.now());
 * tun.packets$.subscribe((p) => stats.add(p));
 * setInterval(() => console.log(monitorLine('tun0', stats.sample(performance.now()))), 1000);
 * ```
 */
export class MonitorStats {
  readonly #skip: number;
  readonly #ethernet: boolean;
  readonly #start: number;
  #last: number;
  #packets = 0;
  #bytes = 0;
  #lastPackets = 0;
  #lastBytes = 0;
  readonly #protocols = new Map<PacketProtocol, number>();

  /**
   * @param opts.skip - bytes of per-packet headers before the IP packet or frame
   *   (4 for `tun_pi`, plus the vnet header's size); not counted in the byte totals
   * @param opts.ethernet - packets are Ethernet frames (a tap)
   * @param now - the start time, ms (e.g. `performance.now()`)
   */
  constructor(opts: { skip: number; ethernet: boolean }, now: number) {
    this.#skip = opts.skip;
    this.#ethernet = opts.ethernet;
    this.#start = now;
    this.#last = now;
  }

  /** Count one packet as read from the device (headers included). */
  add(packet: Uint8Array): void {
    const body = this.#skip > 0 ? packet.subarray(Math.min(this.#skip, packet.length)) : packet;
    this.#packets += 1;
    this.#bytes += body.length;
    const proto = packetProtocol(body, { ethernet: this.#ethernet });
    this.#protocols.set(proto, (this.#protocols.get(proto) ?? 0) + 1);
  }

  /** Close the current interval at `now` (ms) and report it. */
  sample(now: number): MonitorSample {
    const intervalMs = now - this.#last;
    const s: MonitorSample = {
      intervalMs,
      totalMs: now - this.#start,
      packets: this.#packets,
      bytes: this.#bytes,
      packetRate: ratePerSecond(this.#packets - this.#lastPackets, intervalMs),
      byteRate: ratePerSecond(this.#bytes - this.#lastBytes, intervalMs),
      protocols: new Map(PROTOCOL_ORDER.filter((p) => this.#protocols.has(p)).map((p) => [p, this.#protocols.get(p)!])),
    };
    this.#last = now;
    this.#lastPackets = this.#packets;
    this.#lastBytes = this.#bytes;
    return s;
  }
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/**
 * The block `monitor` redraws on a terminal: rates, totals, one line per protocol.
 *
 * @example
 * ```ts
 * monitorLines(stats.sample(performance.now()));
 * // ['rate   2.00 pkt/s  168 B/s', 'total  4 packets  336 B  in 2.0 s', 'icmp   4']
 * ```
 */
export function monitorLines(s: MonitorSample): string[] {
  const rows = [
    ['rate', formatPacketRate(s.packetRate), formatByteRate(s.byteRate)],
    ['total', `${s.packets} packet${s.packets === 1 ? '' : 's'}`, `${formatBytes(s.bytes)}  in ${seconds(s.totalMs)}`],
  ];
  for (const [proto, n] of s.protocols) rows.push([proto, String(n)]);
  return formatTable(rows);
}

/**
 * The single line `monitor` prints per interval when stdout is not a terminal.
 *
 * @example
 * ```ts
 * monitorLine('tun0', sample);
 * // 'tun0 t=2.0s 2.00 pkt/s 168 B/s total 4 packets 336 B icmp=4'
 * ```
 */
export function monitorLine(name: string, s: MonitorSample): string {
  const protos = [...s.protocols].map(([p, n]) => `${p}=${n}`);
  return [
    name,
    `t=${(s.totalMs / 1000).toFixed(1)}s`,
    formatPacketRate(s.packetRate),
    formatByteRate(s.byteRate),
    `total ${s.packets} packets ${formatBytes(s.bytes)}`,
    ...protos,
  ].join(' ');
}
