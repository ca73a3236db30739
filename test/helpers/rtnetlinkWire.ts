/**
 * Netlink messages as the kernel writes them, built byte by byte from the uapi layouts
 * (independently of src/netlink's builder, so tests compare two implementations).
 * Host order is little-endian on every machine these tests run on.
 */
import { endianness } from 'node:os';

if (endianness() !== 'LE') throw new Error('rtnetlinkWire assumes a little-endian host');

const pad = (n: number): number => (n + 3) & ~3;

/** One `rtattr`: length, type, value, padding to 4 bytes. */
export function attr(type: number, value: Uint8Array): Buffer {
  const b = Buffer.alloc(pad(4 + value.length));
  b.writeUInt16LE(4 + value.length, 0);
  b.writeUInt16LE(type, 2);
  b.set(value, 4);
  return b;
}

export const u8 = (n: number): Buffer => Buffer.of(n);
export function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0, 0);
  return b;
}
/** A NUL-terminated string. */
export const str = (s: string): Buffer => Buffer.concat([Buffer.from(s, 'utf8'), Buffer.of(0)]);
/** A nested attribute (NLA_F_NESTED set, as the kernel does). */
export const nest = (type: number, ...attrs: Buffer[]): Buffer => attr(type | 0x8000, Buffer.concat(attrs));
export const ip4 = (text: string): Buffer => Buffer.from(text.split('.').map(Number));

/** A message: `struct nlmsghdr` then the fixed structure and the attributes. */
export function msg(type: number, flags: number, seq: number, fixed: Uint8Array, ...attrs: Buffer[]): Buffer {
  const body = Buffer.concat([fixed, ...attrs]);
  const h = Buffer.alloc(16);
  h.writeUInt32LE(16 + body.length, 0);
  h.writeUInt16LE(type, 4);
  h.writeUInt16LE(flags, 6);
  h.writeUInt32LE(seq, 8);
  h.writeUInt32LE(0, 12);
  return Buffer.concat([h, body, Buffer.alloc(pad(body.length) - body.length)]);
}

/** `struct ifinfomsg`. */
export function ifinfomsg(index: number, flags: number, arphrd = 0xfffe): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt16LE(arphrd, 2);
  b.writeInt32LE(index, 4);
  b.writeUInt32LE(flags, 8);
  return b;
}

/** `struct ifaddrmsg`. */
export function ifaddrmsg(family: number, prefix: number, flags: number, scope: number, index: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt8(family, 0);
  b.writeUInt8(prefix, 1);
  b.writeUInt8(flags, 2);
  b.writeUInt8(scope, 3);
  b.writeUInt32LE(index, 4);
  return b;
}

/** `struct rtmsg`. */
export function rtmsg(r: { family: number; dstLen: number; table: number; protocol: number; scope: number; type: number }): Buffer {
  return Buffer.of(r.family, r.dstLen, 0, 0, r.table, r.protocol, r.scope, r.type, 0, 0, 0, 0);
}

/** An `NLMSG_ERROR` answering `seq`, capped (only the request's header echoed) unless `request` is given. */
export function errorMsg(seq: number, errno: number, opts: { extack?: string; request?: Buffer } = {}): Buffer {
  const e = Buffer.alloc(4);
  e.writeInt32LE(-errno, 0);
  const echoed = opts.request ?? msg(24, 5, seq, Buffer.alloc(0)).subarray(0, 16);
  let flags = opts.request === undefined ? 0x100 : 0; // NLM_F_CAPPED
  const tlvs: Buffer[] = [];
  if (opts.extack !== undefined) {
    flags |= 0x200; // NLM_F_ACK_TLVS
    tlvs.push(attr(1, str(opts.extack)));
  }
  return msg(2, flags, seq, Buffer.concat([e, echoed]), ...tlvs);
}

/** An `NLMSG_DONE` ending the dump `seq` with `errno` (0: success). */
export function doneMsg(seq: number, errno = 0): Buffer {
  const e = Buffer.alloc(4);
  e.writeInt32LE(-errno, 0);
  return msg(3, 2, seq, e);
}
