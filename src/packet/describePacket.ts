/**
 * One-line, tcpdump-like summaries of packets read from a TUN/TAP interface, for demos
 * and monitors, and a cheap protocol label for per-protocol counters.
 *
 * @module
 */
import { formatIp } from './ipAddress.js';
import { IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP, IPPROTO_UDP, ipPacket, type IpPacket } from './ipPacket.js';
import { formatMac } from './mac.js';
import { describeValue, requireBytes } from './requireBytes.js';
import { ETH_P_ARP, ETH_P_IP, ETH_P_IPV6 } from './tunPi.js';

/**
 * Options for {@link describePacket} and {@link packetProtocol}.
 *
 * @example
 * ```ts
 * const opts: DescribeOptions = { ethernet: true }; // a TAP interface
 * ```
 */
export interface DescribeOptions {
  /** The buffer starts with an Ethernet header (TAP); otherwise it is an IP packet (TUN, `IFF_NO_PI`). */
  ethernet?: boolean;
}

/**
 * The short labels {@link packetProtocol} returns.
 *
 * @example
 * ```ts
 * const counts: Record<PacketProtocol, number> = { icmp: 0, icmp6: 0, udp: 0, tcp: 0, arp: 0, other: 0 };
 * ```
 */
export type PacketProtocol = 'icmp' | 'icmp6' | 'udp' | 'tcp' | 'arp' | 'other';

const ETH_P_8021Q = 0x8100;
const ETH_P_8021AD = 0x88a8;

const IP_PROTOCOL_NAMES: Record<number, string> = {
  2: 'IGMP',
  4: 'IPIP',
  41: 'IPv6-in-IP',
  47: 'GRE',
  50: 'ESP',
  51: 'AH',
  59: 'no next header',
  89: 'OSPF',
  103: 'PIM',
  112: 'VRRP',
  132: 'SCTP',
};

const ICMP_TYPES: Record<number, string> = {
  0: 'echo reply',
  3: 'destination unreachable',
  4: 'source quench',
  5: 'redirect',
  8: 'echo request',
  9: 'router advertisement',
  10: 'router solicitation',
  11: 'time exceeded',
  12: 'parameter problem',
  13: 'timestamp request',
  14: 'timestamp reply',
};

const ICMP_UNREACHABLE: Record<number, string> = {
  0: 'net unreachable',
  1: 'host unreachable',
  2: 'protocol unreachable',
  3: 'port unreachable',
  4: 'fragmentation needed',
  13: 'administratively prohibited',
};

const ICMP6_TYPES: Record<number, string> = {
  1: 'destination unreachable',
  2: 'packet too big',
  3: 'time exceeded',
  4: 'parameter problem',
  128: 'echo request',
  129: 'echo reply',
  130: 'MLD query',
  131: 'MLD report',
  132: 'MLD done',
  133: 'router solicitation',
  134: 'router advertisement',
  135: 'neighbour solicitation',
  136: 'neighbour advertisement',
  137: 'redirect',
  143: 'MLDv2 report',
};

// Bit order of tcpdump's flag letters: FIN SYN RST PSH ACK URG ECE CWR.
const TCP_FLAG_LETTERS = ['F', 'S', 'R', 'P', '.', 'U', 'E', 'W'];

const u16 = (b: Uint8Array, i: number): number => (b[i]! << 8) | b[i + 1]!;

function protocolName(protocol: number): string {
  switch (protocol) {
    case IPPROTO_ICMP:
      return 'ICMP';
    case IPPROTO_ICMPV6:
      return 'ICMPv6';
    case IPPROTO_UDP:
      return 'UDP';
    case IPPROTO_TCP:
      return 'TCP';
    default:
      return IP_PROTOCOL_NAMES[protocol] ?? `proto ${protocol}`;
  }
}

function describeEcho(label: string, name: string, msg: Uint8Array): string {
  if (msg.length < 8) return `${label} ${name} truncated`;
  return `${label} ${name} id=${u16(msg, 4)} seq=${u16(msg, 6)}`;
}

function describeIcmp(msg: Uint8Array): string {
  if (msg.length < 4) return 'ICMP truncated';
  const type = msg[0]!;
  const code = msg[1]!;
  const name = ICMP_TYPES[type];
  if (name === undefined) return `ICMP type=${type} code=${code}`;
  if (type === 0 || type === 8) return describeEcho('ICMP', name, msg);
  if (type === 3) {
    const detail = ICMP_UNREACHABLE[code] ?? `code=${code}`;
    return code === 4 && msg.length >= 8 ? `ICMP ${name} (${detail}, mtu=${u16(msg, 6)})` : `ICMP ${name} (${detail})`;
  }
  return `ICMP ${name}`;
}

function describeIcmp6(msg: Uint8Array): string {
  if (msg.length < 4) return 'ICMPv6 truncated';
  const type = msg[0]!;
  const name = ICMP6_TYPES[type];
  if (name === undefined) return `ICMPv6 type=${type} code=${msg[1]!}`;
  if (type === 128 || type === 129) return describeEcho('ICMPv6', name, msg);
  if (type === 2 && msg.length >= 8) return `ICMPv6 ${name} mtu=${u16(msg, 4) * 0x10000 + u16(msg, 6)}`;
  if ((type === 135 || type === 136) && msg.length >= 24) {
    const target = formatIp(msg.subarray(8, 24));
    return type === 135 ? `ICMPv6 ${name} who-has ${target}` : `ICMPv6 ${name} ${target}`;
  }
  return `ICMPv6 ${name}`;
}

function describeTransport(ip: IpPacket): string {
  const name = protocolName(ip.protocol);
  if (ip.fragmentOffset !== 0) return `${name} fragment offset=${ip.fragmentOffset}`;
  const p = ip.payload;
  switch (ip.protocol) {
    case IPPROTO_ICMP:
      return describeIcmp(p);
    case IPPROTO_ICMPV6:
      return describeIcmp6(p);
    case IPPROTO_UDP:
      return p.length < 8 ? 'UDP truncated' : `UDP ${u16(p, 0)} > ${u16(p, 2)}`;
    case IPPROTO_TCP: {
      if (p.length < 14) return 'TCP truncated';
      const bits = p[13]!;
      let flags = '';
      for (let i = 0; i < 8; i++) if (bits & (1 << i)) flags += TCP_FLAG_LETTERS[i]!;
      return `TCP ${u16(p, 0)} > ${u16(p, 2)} [${flags === '' ? 'none' : flags}]`;
    }
    default:
      return name;
  }
}

function describeIp(buf: Uint8Array, expected?: 4 | 6): string {
  const version = buf.length === 0 ? undefined : buf[0]! >> 4;
  const label = expected ?? version;
  if (label !== 4 && label !== 6) return `unknown (${buf.length} bytes)`;
  if (version !== label) return `IPv${label} malformed (version ${version ?? 'missing'}, ${buf.length} bytes)`;
  const ip = ipPacket(buf);
  if (ip === null) {
    const minimum = label === 4 ? Math.max(20, (buf[0]! & 0x0f) * 4) : 40;
    return buf.length < minimum ? `IPv${label} truncated (${buf.length} bytes)` : `IPv${label} malformed (${buf.length} bytes)`;
  }
  let text = `IPv${label} ${formatIp(ip.src)} > ${formatIp(ip.dst)} ${describeTransport(ip)} len=${ip.length}`;
  if (ip.fragmentOffset === 0 && ip.moreFragments) text += ' (first fragment)';
  if (ip.truncated) text += ` (truncated: ${buf.length} of ${ip.length} bytes)`;
  return text;
}

function describeArp(arp: Uint8Array): string {
  if (arp.length < 8) return `ARP truncated (${arp.length} bytes)`;
  const op = u16(arp, 6);
  if (u16(arp, 0) !== 1 || u16(arp, 2) !== ETH_P_IP || arp[4] !== 6 || arp[5] !== 4) {
    return `ARP op=${op} htype=${u16(arp, 0)} ptype=0x${u16(arp, 2).toString(16).padStart(4, '0')}`;
  }
  if (arp.length < 28) return `ARP truncated (${arp.length} bytes)`;
  const senderIp = formatIp(arp.subarray(14, 18));
  const targetIp = formatIp(arp.subarray(24, 28));
  if (op === 1) return `ARP who-has ${targetIp} tell ${senderIp}`;
  if (op === 2) return `ARP reply ${senderIp} is-at ${formatMac(arp.subarray(8, 14))}`;
  return `ARP op=${op} ${senderIp} > ${targetIp}`;
}

/** Ethertype and payload offset after up to two VLAN tags, or undefined when cut short. */
function etherType(frame: Uint8Array): { type: number; at: number; vlans: number[] } | undefined {
  if (frame.length < 14) return undefined;
  let type = u16(frame, 12);
  let at = 14;
  const vlans: number[] = [];
  while ((type === ETH_P_8021Q || type === ETH_P_8021AD) && vlans.length < 2) {
    if (frame.length < at + 4) return undefined;
    vlans.push(u16(frame, at) & 0x0fff);
    type = u16(frame, at + 2);
    at += 4;
  }
  return { type, at, vlans };
}

function describeFrame(frame: Uint8Array): string {
  if (frame.length < 14) return `Ethernet truncated (${frame.length} bytes)`;
  let prefix = `${formatMac(frame.subarray(6, 12))} > ${formatMac(frame.subarray(0, 6))} `;
  const eth = etherType(frame);
  if (eth === undefined) return `${prefix}VLAN truncated (${frame.length} bytes)`;
  for (const vlan of eth.vlans) prefix += `vlan ${vlan} `;
  const inner = frame.subarray(eth.at);
  switch (eth.type) {
    case ETH_P_IP:
      return prefix + describeIp(inner, 4);
    case ETH_P_IPV6:
      return prefix + describeIp(inner, 6);
    case ETH_P_ARP:
      return prefix + describeArp(inner);
    default:
      return `${prefix}ethertype 0x${eth.type.toString(16).padStart(4, '0')} (${inner.length} bytes)`;
  }
}

function requireDescribeOptions(opts: unknown, name: string): boolean {
  if (opts === undefined) return false;
  if (typeof opts !== 'object' || opts === null) {
    throw new TypeError(`${name} options must be an object like { ethernet: true }, got ${describeValue(opts)}`);
  }
  return (opts as DescribeOptions).ethernet === true;
}

/**
 * A readable one-line summary of a packet, such as
 * `IPv4 198.18.0.2 > 198.18.0.1 ICMP echo request id=1 seq=3 len=84`. `len` is the IP
 * packet length from its header. With `ethernet: true` the summary starts with
 * `source MAC > destination MAC` and ARP is understood.
 *
 * Never throws on bad packet contents: garbage yields text such as
 * `unknown (12 bytes)` or `IPv4 truncated (12 bytes)`.
 *
 * @param buf - an IP packet (TUN with `IFF_NO_PI`) or, with `ethernet`, an Ethernet frame (TAP)
 * @param opts - `{ ethernet: true }` for Ethernet frames
 * @returns the summary
 * @throws TypeError only when `buf` is not a `Uint8Array` or `opts` is not an object
 * @example
 * ```ts
 * describePacket(buildUdp4({ src: '198.18.0.2', dst: '198.18.0.1', srcPort: 5353, dstPort: 53 }));
 * // 'IPv4 198.18.0.2 > 198.18.0.1 UDP 5353 > 53 len=28'
 * describePacket(frame, { ethernet: true });
 * // '02:00:00:00:00:01 > ff:ff:ff:ff:ff:ff ARP who-has 198.18.0.2 tell 198.18.0.1'
 * ```
 */
export function describePacket(buf: Uint8Array, opts?: DescribeOptions): string {
  requireBytes(buf, 'describePacket(buf)');
  const ethernet = requireDescribeOptions(opts, 'describePacket');
  try {
    return ethernet ? describeFrame(buf) : describeIp(buf);
  } catch {
    // Not expected to happen; a monitor must not die on one odd packet.
    return `malformed (${buf.length} bytes)`;
  }
}

function ipProtocolLabel(protocol: number): PacketProtocol {
  switch (protocol) {
    case IPPROTO_ICMP:
      return 'icmp';
    case IPPROTO_ICMPV6:
      return 'icmp6';
    case IPPROTO_UDP:
      return 'udp';
    case IPPROTO_TCP:
      return 'tcp';
    default:
      return 'other';
  }
}

function ipLabel(buf: Uint8Array, at: number): PacketProtocol {
  if (buf.length <= at) return 'other';
  const version = buf[at]! >> 4;
  if (version === 4) {
    if (buf.length < at + 20 || (buf[at]! & 0x0f) < 5) return 'other';
    return ipProtocolLabel(buf[at + 9]!);
  }
  if (version === 6) {
    if (buf.length < at + 40) return 'other';
    const next = buf[at + 6]!;
    const label = ipProtocolLabel(next);
    // Only extension headers need the full walk; the common case allocates nothing.
    if (label !== 'other' || !(next === 0 || next === 43 || next === 44 || next === 51 || next === 60)) return label;
    const ip = ipPacket(at === 0 ? buf : buf.subarray(at));
    return ip === null ? 'other' : ipProtocolLabel(ip.protocol);
  }
  return 'other';
}

/**
 * A short protocol label for per-protocol counters: `'icmp'`, `'icmp6'`, `'udp'`,
 * `'tcp'`, `'arp'` (Ethernet frames only) or `'other'` (including anything
 * unparseable). For IPv6 it looks past extension headers. Allocation-free in the
 * common case and never throws on bad packet contents.
 *
 * @param buf - an IP packet or, with `ethernet`, an Ethernet frame
 * @param opts - `{ ethernet: true }` for Ethernet frames
 * @returns the label
 * @throws TypeError only when `buf` is not a `Uint8Array` or `opts` is not an object
 * @example
 * ```ts
 * counts[packetProtocol(packet)]++;
 * ```
 */
export function packetProtocol(buf: Uint8Array, opts?: DescribeOptions): PacketProtocol {
  requireBytes(buf, 'packetProtocol(buf)');
  if (!requireDescribeOptions(opts, 'packetProtocol')) return ipLabel(buf, 0);
  if (buf.length < 14) return 'other';
  let type = u16(buf, 12);
  let at = 14;
  for (let tags = 0; (type === ETH_P_8021Q || type === ETH_P_8021AD) && tags < 2; tags++) {
    if (buf.length < at + 4) return 'other';
    type = u16(buf, at + 2);
    at += 4;
  }
  if (type === ETH_P_ARP) return 'arp';
  if (type === ETH_P_IP || type === ETH_P_IPV6) {
    const label = ipLabel(buf, at);
    const version = buf.length > at ? buf[at]! >> 4 : 0;
    return version === (type === ETH_P_IP ? 4 : 6) ? label : 'other';
  }
  return 'other';
}
