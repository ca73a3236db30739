/**
 * Interface addresses (`RTM_NEWADDR` / `RTM_DELADDR` / `RTM_GETADDR`, `struct ifaddrmsg`).
 *
 * `IFA_LOCAL` and `IFA_ADDRESS`: on a point-to-point address `IFA_LOCAL` is this end and
 * `IFA_ADDRESS` the peer; otherwise both hold the local address, or IPv6 sends only
 * `IFA_ADDRESS`. So the local address is `IFA_LOCAL ?? IFA_ADDRESS`, and there is a peer
 * when both are present and differ. Requests always send both, as `ip` does.
 *
 * @module
 */
import { formatIp } from '../packet/ipAddress.js';
import { AF, IFA, NL, RTM, SCOPE_NAMES, nameOf } from './rtnetlinkConstants.js';
import {
  HOST_LE, NetlinkBuilder, NetlinkParseError, attrBytes, changeRequest, attrString, attrU32, fixedHeader, parseAttributes,
  type NetlinkMessage,
} from './netlinkMessage.js';

/**
 * One address of an interface (`ip addr`).
 *
 * @example
 * ```ts
 * for (const a of tunctl.addresses('tun0')) console.log(`${a.address}/${a.prefix}`, a.peer ?? '');
 * ```
 */
export interface InterfaceAddress {
  readonly ifindex: number;
  /**
   * The interface's name: from the link table in listings; in events, the IPv4 label
   * (`tun0`, or `tun0:1` for an aliased address) and `undefined` for IPv6.
   */
  readonly name: string | undefined;
  readonly family: 4 | 6;
  /** This end's address. */
  readonly address: string;
  readonly prefix: number;
  /** The far end of a point-to-point address. */
  readonly peer: string | undefined;
  /** The IPv4 broadcast address, when one was set. */
  readonly broadcast: string | undefined;
  /** `'global'`, `'link'` (fe80::/10), `'host'` (loopback)... */
  readonly scope: string;
  /** `IFA_F_*` bits: `permanent` (0x80), `tentative` (0x40, IPv6 duplicate-address detection running), ... */
  readonly flags: number;
}

function familyOf(af: number): 4 | 6 | undefined {
  if (af === AF.INET) return 4;
  if (af === AF.INET6) return 6;
  return undefined;
}

/**
 * Decode an `RTM_NEWADDR` / `RTM_DELADDR` message; `undefined` for families other than
 * IPv4 and IPv6.
 *
 * @throws NetlinkParseError when it is malformed, its addresses have the wrong size, or it
 *   has no address at all
 * @example
 * ```ts
 * const addr = decodeAddress(msg);
 * ```
 */
export function decodeAddress(msg: NetlinkMessage): InterfaceAddress | undefined {
  const dv = fixedHeader(msg.payload, IFA.MSGLEN, 'struct ifaddrmsg');
  const family = familyOf(dv.getUint8(0));
  if (family === undefined) return undefined;
  const size = family === 4 ? 4 : 16;
  const a = parseAttributes(msg.payload, IFA.MSGLEN);
  const local = attrBytes(a, IFA.LOCAL, size, 'IFA_LOCAL');
  const address = attrBytes(a, IFA.ADDRESS, size, 'IFA_ADDRESS');
  const mine = local ?? address;
  if (mine === undefined) throw new NetlinkParseError('address message has neither IFA_LOCAL nor IFA_ADDRESS', IFA.MSGLEN);
  const peer = local !== undefined && address !== undefined && formatIp(local) !== formatIp(address) ? formatIp(address) : undefined;
  const broadcast = family === 4 ? attrBytes(a, IFA.BROADCAST, 4, 'IFA_BROADCAST') : undefined;
  const label = attrString(a, IFA.LABEL);
  return {
    ifindex: dv.getUint32(4, HOST_LE),
    name: label,
    family,
    address: formatIp(mine),
    prefix: dv.getUint8(1),
    peer,
    broadcast: broadcast === undefined ? undefined : formatIp(broadcast),
    scope: nameOf(SCOPE_NAMES, dv.getUint8(3)),
    // IFA_FLAGS carries all 32 bits; ifa_flags only the low 8.
    flags: attrU32(a, IFA.FLAGS, 'IFA_FLAGS') ?? dv.getUint8(2),
  };
}

/**
 * What {@link encodeAddress} sends.
 *
 * @example
 * ```ts
 * const spec: AddressRequest = { ifindex: 7, family: 6, local: parseIp('fd00::1').bytes, prefix: 64 };
 * ```
 */
export interface AddressRequest {
  readonly ifindex: number;
  readonly family: 4 | 6;
  /** 4 or 16 bytes. */
  readonly local: Uint8Array;
  readonly prefix: number;
  /** The far end of a point-to-point address, same family. */
  readonly peer?: Uint8Array | undefined;
  /** `IFA_F_*` bits to set (such as `IFA_F_NODAD`). */
  readonly flags?: number | undefined;
}

/**
 * `RTM_NEWADDR` (fails with EEXIST when the address is there) or `RTM_DELADDR`.
 *
 * @example
 * ```ts
 * sock.request(encodeAddress('add', spec));
 * ```
 */
export function encodeAddress(op: 'add' | 'del', spec: AddressRequest): NetlinkBuilder {
  const b = changeRequest(op, RTM.NEWADDR, RTM.DELADDR);
  const dv = b.fixed(IFA.MSGLEN);
  dv.setUint8(0, spec.family === 4 ? AF.INET : AF.INET6);
  dv.setUint8(1, spec.prefix);
  dv.setUint8(2, (spec.flags ?? 0) & 0xff);
  dv.setUint32(4, spec.ifindex, HOST_LE);
  b.attr(IFA.LOCAL, spec.local);
  b.attr(IFA.ADDRESS, spec.peer ?? spec.local);
  if (spec.flags !== undefined && spec.flags !== 0) b.attrU32(IFA.FLAGS, spec.flags);
  return b;
}

/**
 * The request for every address of every interface.
 *
 * @example
 * ```ts
 * const all = sock.dump(encodeGetAddresses(), decodeAddress);
 * ```
 */
export function encodeGetAddresses(): NetlinkBuilder {
  const b = new NetlinkBuilder(RTM.GETADDR, NL.F_REQUEST | NL.F_DUMP);
  b.fixed(IFA.MSGLEN).setUint8(0, AF.UNSPEC);
  return b;
}
