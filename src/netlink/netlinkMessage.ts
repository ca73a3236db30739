/**
 * Netlink framing: `struct nlmsghdr` messages and `struct rtattr` attributes, built and
 * parsed in TypeScript. Parsing never trusts a length: every header, attribute and fixed
 * structure is checked against the bytes that are really there, and anything that does
 * not fit is a {@link NetlinkParseError}, never an out-of-bounds read.
 *
 * Integers in netlink headers and attributes are in host byte order; addresses are in
 * network byte order (they are copied as bytes).
 *
 * @module
 */
import { endianness } from 'node:os';
import { NL } from './rtnetlinkConstants.js';

const LE = endianness() === 'LE';
/** Attribute type bits that are flags, not part of the type (NLA_F_NESTED, NLA_F_NET_BYTEORDER). */
const NLA_TYPE_MASK = 0x3fff;

/**
 * A netlink message that does not parse: truncated, a length that points outside the
 * datagram, an attribute of the wrong size. `offset` is where in the datagram (or in the
 * message payload) the problem was found.
 *
 * @example
 * ```ts
 * try { parseMessages(bytes); } catch (err) { if (err instanceof NetlinkParseError) console.error(err.offset); }
 * ```
 */
export class NetlinkParseError extends Error {
  /** Byte offset of the problem. */
  readonly offset: number;

  constructor(message: string, offset: number) {
    super(`netlink: ${message} (at byte ${offset})`);
    this.name = 'NetlinkParseError';
    this.offset = offset;
  }
}

/**
 * Round a length up to netlink's 4-byte alignment (NLMSG_ALIGN, RTA_ALIGN).
 *
 * @example
 * ```ts
 * align4(5); // 8
 * ```
 */
export function align4(n: number): number {
  return (n + 3) & ~3;
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * One message of a datagram: its header fields and a view of its payload.
 *
 * @example
 * ```ts
 * const [msg] = parseMessages(datagram);
 * if (msg?.type === NL.MSG_ERROR) parseError(msg);
 * ```
 */
export interface NetlinkMessage {
  readonly type: number;
  readonly flags: number;
  readonly seq: number;
  readonly pid: number;
  /** The bytes after the 16-byte header (a view, valid until the buffer is reused). */
  readonly payload: Uint8Array;
}

/**
 * Split a datagram into its messages.
 *
 * @throws NetlinkParseError when a header is cut short or a length points outside `bytes`
 * @example
 * ```ts
 * for (const msg of parseMessages(buf.subarray(0, n))) handle(msg);
 * ```
 */
export function parseMessages(bytes: Uint8Array): NetlinkMessage[] {
  const dv = view(bytes);
  const out: NetlinkMessage[] = [];
  let off = 0;
  while (off < bytes.length) {
    const left = bytes.length - off;
    if (left < NL.HDRLEN) throw new NetlinkParseError(`${left} bytes left, too few for a 16-byte message header`, off);
    const len = dv.getUint32(off, LE);
    if (len < NL.HDRLEN) throw new NetlinkParseError(`message length ${len} is shorter than its header`, off);
    if (len > left) throw new NetlinkParseError(`message length ${len} runs past the ${left} bytes left`, off);
    out.push({
      type: dv.getUint16(off + 4, LE),
      flags: dv.getUint16(off + 6, LE),
      seq: dv.getUint32(off + 8, LE),
      pid: dv.getUint32(off + 12, LE),
      payload: bytes.subarray(off + NL.HDRLEN, off + len),
    });
    off += align4(len);
  }
  return out;
}

/**
 * A message's attributes by type (flag bits masked off; the first of a repeated type wins).
 *
 * @example
 * ```ts
 * const attrs = parseAttributes(msg.payload, IFA.MSGLEN);
 * const label = attrs.get(IFA.LABEL);
 * ```
 */
export type Attributes = ReadonlyMap<number, Uint8Array>;

/**
 * Parse the `rtattr`s of `bytes` from `start` to the end.
 *
 * @throws NetlinkParseError when `start` is past the end, or an attribute is cut short or
 *   its length points outside `bytes`
 * @example
 * ```ts
 * const attrs = parseAttributes(msg.payload, 16); // after a struct ifinfomsg
 * ```
 */
export function parseAttributes(bytes: Uint8Array, start = 0): Attributes {
  if (start > bytes.length) throw new NetlinkParseError(`a ${start}-byte fixed header does not fit in ${bytes.length} bytes`, bytes.length);
  const dv = view(bytes);
  const out = new Map<number, Uint8Array>();
  let off = start;
  while (off < bytes.length) {
    const left = bytes.length - off;
    if (left < 4) throw new NetlinkParseError(`${left} bytes left, too few for a 4-byte attribute header`, off);
    const len = dv.getUint16(off, LE);
    const type = dv.getUint16(off + 2, LE) & NLA_TYPE_MASK;
    if (len < 4) throw new NetlinkParseError(`attribute ${type} has length ${len}, shorter than its header`, off);
    if (len > left) throw new NetlinkParseError(`attribute ${type} has length ${len}, past the ${left} bytes left`, off);
    if (!out.has(type)) out.set(type, bytes.subarray(off + 4, off + len));
    off += align4(len);
  }
  return out;
}

function sized(value: Uint8Array, size: number, what: string): DataView {
  if (value.length !== size) throw new NetlinkParseError(`${what} holds ${value.length} bytes, not ${size}`, 0);
  return view(value);
}

/**
 * Read a u32 attribute (host order); `undefined` when absent.
 *
 * @throws NetlinkParseError when it is not 4 bytes long
 * @example
 * ```ts
 * const mtu = attrU32(attrs, IFLA.MTU, 'IFLA_MTU');
 * ```
 */
export function attrU32(attrs: Attributes, type: number, what: string): number | undefined {
  const v = attrs.get(type);
  return v === undefined ? undefined : sized(v, 4, what).getUint32(0, LE);
}

/**
 * Read a u8 attribute; `undefined` when absent.
 *
 * @throws NetlinkParseError when it is not 1 byte long
 * @example
 * ```ts
 * const persist = attrU8(data, IFLA.TUN_PERSIST, 'IFLA_TUN_PERSIST') === 1;
 * ```
 */
export function attrU8(attrs: Attributes, type: number, what: string): number | undefined {
  const v = attrs.get(type);
  return v === undefined ? undefined : sized(v, 1, what).getUint8(0);
}

/**
 * Read a NUL-terminated string attribute (UTF-8, up to the first NUL); `undefined` when absent.
 *
 * @example
 * ```ts
 * const name = attrString(attrs, IFLA.IFNAME);
 * ```
 */
export function attrString(attrs: Attributes, type: number): string | undefined {
  const v = attrs.get(type);
  if (v === undefined) return undefined;
  const nul = v.indexOf(0);
  return Buffer.from(v.buffer, v.byteOffset, nul === -1 ? v.length : nul).toString('utf8');
}

/**
 * Read an address attribute of `size` bytes (4 for IPv4, 16 for IPv6) as a copy.
 *
 * @throws NetlinkParseError when it has another size
 * @example
 * ```ts
 * const gw = attrBytes(attrs, RTA.GATEWAY, 16, 'RTA_GATEWAY');
 * ```
 */
export function attrBytes(attrs: Attributes, type: number, size: number, what: string): Uint8Array | undefined {
  const v = attrs.get(type);
  if (v === undefined) return undefined;
  sized(v, size, what);
  return v.slice();
}

/**
 * Check that a payload holds at least the fixed structure of its message type, and give
 * a view of it.
 *
 * @throws NetlinkParseError when the payload is shorter
 * @example
 * ```ts
 * const dv = fixedHeader(msg.payload, IFA.MSGLEN, 'struct ifaddrmsg');
 * ```
 */
export function fixedHeader(payload: Uint8Array, size: number, what: string): DataView {
  if (payload.length < size) throw new NetlinkParseError(`${what} needs ${size} bytes, the message has ${payload.length}`, 0);
  return view(payload);
}

/**
 * Whether host-order integers are little-endian (they are on x86 and arm64 Linux).
 *
 * @example
 * ```ts
 * const ifindex = fixedHeader(msg.payload, 16, 'struct ifinfomsg').getInt32(4, HOST_LE);
 * ```
 */
export const HOST_LE = LE;

/**
 * What an `NLMSG_ERROR` (or the status of an `NLMSG_DONE`) says: a positive errno (0 is
 * an acknowledgement) and the kernel's extended-ack text, when it gave one.
 *
 * @example
 * ```ts
 * const { errno, message } = parseError(msg); // { errno: 22, message: 'Invalid prefix for given prefix length' }
 * ```
 */
export interface NetlinkStatus {
  readonly errno: number;
  readonly message: string | undefined;
}

function extAckMessage(payload: Uint8Array, start: number): string | undefined {
  // The extended ack is an extra: a malformed one loses the text, never the errno.
  try {
    return attrString(parseAttributes(payload, start), NL.ERR_ATTR_MSG) || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Decode an `NLMSG_ERROR`: `struct nlmsgerr` (the error, then the request's header, or the
 * whole request unless the kernel capped it), then extended-ack attributes.
 *
 * @throws NetlinkParseError when the 4-byte error is missing
 * @example
 * ```ts
 * if (msg.type === NL.MSG_ERROR && parseError(msg).errno !== 0) throw new Error('refused');
 * ```
 */
export function parseError(msg: NetlinkMessage): NetlinkStatus {
  const dv = fixedHeader(msg.payload, 4, 'struct nlmsgerr');
  const errno = -dv.getInt32(0, LE) || 0; // || 0: an ack is 0, not -0
  if (errno < 0) throw new NetlinkParseError(`error code ${-errno} is positive`, 0);
  let message: string | undefined;
  if ((msg.flags & NL.F_ACK_TLVS) !== 0 && msg.payload.length >= 4 + NL.HDRLEN) {
    const echoed = (msg.flags & NL.F_CAPPED) !== 0 ? NL.HDRLEN : dv.getUint32(4, LE);
    if (echoed >= NL.HDRLEN && 4 + align4(echoed) <= msg.payload.length) message = extAckMessage(msg.payload, 4 + align4(echoed));
  }
  return { errno, message };
}

/**
 * Decode the status an `NLMSG_DONE` ends a dump with (0, or an errno when the dump failed).
 *
 * @example
 * ```ts
 * if (msg.type === NL.MSG_DONE && parseDone(msg).errno !== 0) throw new Error('dump failed');
 * ```
 */
export function parseDone(msg: NetlinkMessage): NetlinkStatus {
  if (msg.payload.length < 4) return { errno: 0, message: undefined };
  const errno = -view(msg.payload).getInt32(0, LE) || 0;
  if (errno < 0) throw new NetlinkParseError(`dump status ${-errno} is positive`, 0);
  const message = (msg.flags & NL.F_ACK_TLVS) !== 0 ? extAckMessage(msg.payload, 4) : undefined;
  return { errno, message };
}

/**
 * Builds one netlink request: the header, the fixed structure of its type, attributes.
 *
 * @example
 * ```ts
 * const b = new NetlinkBuilder(RTM.GETLINK, NL.F_REQUEST | NL.F_ACK);
 * b.fixed(IFLA.MSGLEN);
 * b.attrString(IFLA.IFNAME, 'tun0');
 * const bytes = b.finish(1);
 * ```
 */
export class NetlinkBuilder {
  #buf = Buffer.alloc(256);
  #len: number = NL.HDRLEN;
  readonly type: number;
  readonly flags: number;

  constructor(type: number, flags: number) {
    this.type = type;
    this.flags = flags;
  }

  #reserve(n: number): number {
    const at = this.#len;
    const need = at + align4(n);
    if (need > 0xffff) throw new RangeError(`a netlink request of ${need} bytes is too long`);
    if (need > this.#buf.length) {
      const next = Buffer.alloc(Math.max(need, this.#buf.length * 2));
      this.#buf.copy(next, 0, 0, at);
      this.#buf = next;
    }
    this.#len = need;
    return at;
  }

  /**
   * Append the zeroed fixed structure (`ifinfomsg`, `ifaddrmsg`, `rtmsg`) and return a
   * view to fill it in.
   */
  fixed(size: number): DataView {
    const at = this.#reserve(size);
    return new DataView(this.#buf.buffer, this.#buf.byteOffset + at, size);
  }

  /** Append an attribute holding `value`. */
  attr(type: number, value: Uint8Array): this {
    const at = this.#reserve(4 + value.length);
    const dv = new DataView(this.#buf.buffer, this.#buf.byteOffset + at, 4);
    dv.setUint16(0, 4 + value.length, LE);
    dv.setUint16(2, type, LE);
    this.#buf.set(value, at + 4);
    return this;
  }

  /** Append a u32 attribute (host order). */
  attrU32(type: number, value: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, value, LE);
    return this.attr(type, b);
  }

  /** Append a NUL-terminated string attribute. */
  attrString(type: number, value: string): this {
    const text = Buffer.from(value, 'utf8');
    const b = new Uint8Array(text.length + 1);
    b.set(text);
    return this.attr(type, b);
  }

  /** Write the header with sequence number `seq` and return the message (a copy). */
  finish(seq: number): Uint8Array {
    const dv = new DataView(this.#buf.buffer, this.#buf.byteOffset, NL.HDRLEN);
    dv.setUint32(0, this.#len, LE);
    dv.setUint16(4, this.type, LE);
    dv.setUint16(6, this.flags, LE);
    dv.setUint32(8, seq >>> 0, LE);
    dv.setUint32(12, 0, LE);
    return Uint8Array.prototype.slice.call(this.#buf, 0, this.#len);
  }
}

/**
 * The builder of a request that adds (`RTM_NEW*`, failing with EEXIST when it is there
 * already, as `ip ... add` does) or deletes (`RTM_DEL*`), acknowledged either way.
 *
 * @example
 * ```ts
 * const b = changeRequest('add', RTM.NEWADDR, RTM.DELADDR);
 * ```
 */
export function changeRequest(op: 'add' | 'del', newType: number, delType: number): NetlinkBuilder {
  const add = op === 'add';
  return new NetlinkBuilder(add ? newType : delType, NL.F_REQUEST | NL.F_ACK | (add ? NL.F_CREATE | NL.F_EXCL : 0));
}
