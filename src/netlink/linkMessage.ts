/**
 * Links (`RTM_NEWLINK` / `RTM_DELLINK` / `RTM_GETLINK`, `struct ifinfomsg`): the request
 * that asks for them and the record each answer decodes to, including what the tun driver
 * reports about itself in `IFLA_LINKINFO` (mode, flags, owner, group, queues).
 *
 * @module
 */
import { AF, IFF, IFLA, NL, OPERSTATE_NAMES, RTM, nameOf } from './rtnetlinkConstants.js';
import {
  HOST_LE, NetlinkBuilder, NetlinkParseError, attrString, attrU32, attrU8, fixedHeader, parseAttributes,
  type NetlinkMessage,
} from './netlinkMessage.js';

/**
 * What a TUN/TAP device says about itself over netlink (its `IFLA_INFO_DATA`).
 *
 * @example
 * ```ts
 * const t: TunLinkInfo = tunctl.linkInfo('tun0').tun!;
 * if (t.persist) console.log('outlives its last fd');
 * ```
 */
export interface TunLinkInfo {
  readonly mode: 'tun' | 'tap';
  /** Packets carry the 4-byte `tun_pi` header (no IFF_NO_PI). */
  readonly pi: boolean;
  readonly vnetHdr: boolean;
  readonly multiQueue: boolean;
  readonly persist: boolean;
  /** The uid that may attach without CAP_NET_ADMIN, or null when none was set. */
  readonly owner: number | null;
  /** The gid that may attach without CAP_NET_ADMIN, or null when none was set. */
  readonly group: number | null;
  /** Of a multi-queue device: the queues attached now (open fds). The kernel reports no
   *  count for a single-queue device (`undefined`): there, `running` says whether it is open. */
  readonly queues: number | undefined;
  readonly disabledQueues: number | undefined;
}

/**
 * One network interface as the kernel reports it (`ip link`).
 *
 * @example
 * ```ts
 * const l: LinkInfo = tunctl.linkInfo('tun0');
 * console.log(l.ifindex, l.up, l.running, l.mtu);
 * ```
 */
export interface LinkInfo {
  readonly ifindex: number;
  readonly name: string;
  /** The interface flags (`IFF_UP`, `IFF_RUNNING`, `IFF_POINTOPOINT`, ...). */
  readonly flags: number;
  /** Administratively up (IFF_UP). */
  readonly up: boolean;
  /** Up and with carrier (IFF_RUNNING); a tun/tap has carrier while a reader has it open.
   *  The kernel updates this flag a moment after the carrier changes (linkwatch). */
  readonly running: boolean;
  /** The carrier as the driver has it now (IFLA_CARRIER), when reported. */
  readonly carrier: boolean | undefined;
  readonly mtu: number;
  /** The transmit queue length, when reported. */
  readonly txqlen: number | undefined;
  /** RFC 2863 operational state: `'up'`, `'down'`, `'unknown'`, `'lowerlayerdown'`... */
  readonly operstate: string;
  /** The link-layer address as `aa:bb:...`, or null when the link has none (a tun). */
  readonly address: string | null;
  /** The driver's kind (`'tun'`, `'veth'`, `'dummy'`...), when it reports one. */
  readonly kind: string | undefined;
  /** For a TUN/TAP device: its mode and flags. */
  readonly tun: TunLinkInfo | undefined;
}

function hexAddress(bytes: Uint8Array | undefined): string | null {
  if (bytes === undefined || bytes.length === 0) return null;
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(':');
}

function decodeTun(data: Uint8Array): TunLinkInfo {
  const a = parseAttributes(data);
  const flag = (type: number, what: string): boolean => attrU8(a, type, what) === 1;
  const type = attrU8(a, IFLA.TUN_TYPE, 'IFLA_TUN_TYPE');
  return {
    mode: type === 2 ? 'tap' : 'tun', // IFF_TAP = 2, IFF_TUN = 1
    pi: flag(IFLA.TUN_PI, 'IFLA_TUN_PI'),
    vnetHdr: flag(IFLA.TUN_VNET_HDR, 'IFLA_TUN_VNET_HDR'),
    multiQueue: flag(IFLA.TUN_MULTI_QUEUE, 'IFLA_TUN_MULTI_QUEUE'),
    persist: flag(IFLA.TUN_PERSIST, 'IFLA_TUN_PERSIST'),
    owner: attrU32(a, IFLA.TUN_OWNER, 'IFLA_TUN_OWNER') ?? null,
    group: attrU32(a, IFLA.TUN_GROUP, 'IFLA_TUN_GROUP') ?? null,
    queues: attrU32(a, IFLA.TUN_NUM_QUEUES, 'IFLA_TUN_NUM_QUEUES'),
    disabledQueues: attrU32(a, IFLA.TUN_NUM_DISABLED_QUEUES, 'IFLA_TUN_NUM_DISABLED_QUEUES'),
  };
}

/**
 * Decode an `RTM_NEWLINK` / `RTM_DELLINK` message.
 *
 * @throws NetlinkParseError when it is malformed or lacks the name or MTU
 * @example
 * ```ts
 * const link = decodeLink(msg);
 * ```
 */
export function decodeLink(msg: NetlinkMessage): LinkInfo {
  const dv = fixedHeader(msg.payload, IFLA.MSGLEN, 'struct ifinfomsg');
  const ifindex = dv.getInt32(4, HOST_LE);
  const flags = dv.getUint32(8, HOST_LE);
  const a = parseAttributes(msg.payload, IFLA.MSGLEN);
  const name = attrString(a, IFLA.IFNAME);
  if (name === undefined) throw new NetlinkParseError(`link ${ifindex} has no IFLA_IFNAME`, IFLA.MSGLEN);
  const mtu = attrU32(a, IFLA.MTU, 'IFLA_MTU');
  if (mtu === undefined) throw new NetlinkParseError(`link ${name} has no IFLA_MTU`, IFLA.MSGLEN);
  const operstate = attrU8(a, IFLA.OPERSTATE, 'IFLA_OPERSTATE');
  const carrier = attrU8(a, IFLA.CARRIER, 'IFLA_CARRIER');
  let kind: string | undefined;
  let tun: TunLinkInfo | undefined;
  const linkinfo = a.get(IFLA.LINKINFO);
  if (linkinfo !== undefined) {
    const info = parseAttributes(linkinfo);
    kind = attrString(info, IFLA.INFO_KIND);
    const data = info.get(IFLA.INFO_DATA);
    if (kind === 'tun' && data !== undefined) tun = decodeTun(data);
  }
  return {
    ifindex,
    name,
    flags,
    up: (flags & IFF.UP) !== 0,
    running: (flags & IFF.RUNNING) !== 0,
    carrier: carrier === undefined ? undefined : carrier !== 0,
    mtu,
    txqlen: attrU32(a, IFLA.TXQLEN, 'IFLA_TXQLEN'),
    operstate: operstate === undefined ? 'unknown' : nameOf(OPERSTATE_NAMES, operstate),
    address: hexAddress(a.get(IFLA.ADDRESS)),
    kind,
    tun,
  };
}

/**
 * The request for one link (by index, or by name when `ifindex` is 0), or for all of
 * them (`dump`).
 *
 * @example
 * ```ts
 * sock.request(encodeGetLink({ name: 'tun0' }), decodeLink);
 * ```
 */
export function encodeGetLink(which: { readonly ifindex?: number; readonly name?: string } | 'dump'): NetlinkBuilder {
  const dump = which === 'dump';
  const b = new NetlinkBuilder(RTM.GETLINK, NL.F_REQUEST | (dump ? NL.F_DUMP : NL.F_ACK));
  const dv = b.fixed(IFLA.MSGLEN);
  dv.setUint8(0, AF.UNSPEC);
  if (!dump) {
    dv.setInt32(4, which.ifindex ?? 0, HOST_LE);
    if (which.name !== undefined) b.attrString(IFLA.IFNAME, which.name);
  }
  return b;
}
