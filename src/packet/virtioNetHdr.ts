/**
 * `struct virtio_net_hdr`: the offload header in front of every packet on a TUN/TAP fd
 * opened with `IFF_VNET_HDR`.
 *
 * ```c
 * struct virtio_net_hdr {
 *   __u8 flags; __u8 gso_type;
 *   __le16 hdr_len; __le16 gso_size; __le16 csum_start; __le16 csum_offset;
 * };                                              // 10 bytes
 * struct virtio_net_hdr_mrg_rxbuf {
 *   struct virtio_net_hdr hdr; __le16 num_buffers; // 12 bytes
 * };
 * ```
 *
 * The size in use is whatever `TUNSETVNETHDRSZ` set (10 by default). Fields are read
 * little-endian, which is what the kernel uses on little-endian hosts and for
 * virtio 1.0 (`TUNSETVNETLE`).
 *
 * @module
 */
import { requireBytes, requireUint } from './requireBytes.js';

/** Checksum must be filled in from `csumStart` to `csumOffset`. @example `hdr.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM` */
export const VIRTIO_NET_HDR_F_NEEDS_CSUM = 1;
/** Checksum already validated. @example `hdr.flags & VIRTIO_NET_HDR_F_DATA_VALID` */
export const VIRTIO_NET_HDR_F_DATA_VALID = 2;
/** Not a GSO packet. @example `hdr.gsoType === VIRTIO_NET_HDR_GSO_NONE` */
export const VIRTIO_NET_HDR_GSO_NONE = 0;
/** GSO: TCP over IPv4 (TSO). @example `{ gsoType: VIRTIO_NET_HDR_GSO_TCPV4, gsoSize: 1448 }` */
export const VIRTIO_NET_HDR_GSO_TCPV4 = 1;
/** GSO: UDP fragmentation offload (UFO). @example `hdr.gsoType === VIRTIO_NET_HDR_GSO_UDP` */
export const VIRTIO_NET_HDR_GSO_UDP = 3;
/** GSO: TCP over IPv6. @example `{ gsoType: VIRTIO_NET_HDR_GSO_TCPV6, gsoSize: 1428 }` */
export const VIRTIO_NET_HDR_GSO_TCPV6 = 4;
/** GSO: UDP segmentation (USO). @example `{ gsoType: VIRTIO_NET_HDR_GSO_UDP_L4, gsoSize: 1472 }` */
export const VIRTIO_NET_HDR_GSO_UDP_L4 = 5;
/** Flag ORed into `gsoType`: the TCP stream uses ECN. @example `(hdr.gsoType & ~VIRTIO_NET_HDR_GSO_ECN)` */
export const VIRTIO_NET_HDR_GSO_ECN = 0x80;

/**
 * A parsed `struct virtio_net_hdr` (or `virtio_net_hdr_mrg_rxbuf` when 12 bytes).
 *
 * @example
 * ```ts
 * const hdr: VirtioNetHdr = parseVirtioNetHdr(buf);
 * const packet = buf.subarray(10);
 * ```
 */
export interface VirtioNetHdr {
  /** `VIRTIO_NET_HDR_F_*` bits. */
  flags: number;
  /** `VIRTIO_NET_HDR_GSO_*`, possibly ORed with {@link VIRTIO_NET_HDR_GSO_ECN}. */
  gsoType: number;
  /** Length of the headers to copy into every segment. */
  hdrLen: number;
  /** Payload bytes per segment. */
  gsoSize: number;
  /** Where checksumming starts. */
  csumStart: number;
  /** Where, after `csumStart`, the checksum is stored. */
  csumOffset: number;
  /** Only in the 12-byte form. */
  numBuffers?: number;
}

function requireSize(size: unknown, name: string): 10 | 12 {
  if (typeof size !== 'number') throw new TypeError(`${name} must be the number 10 or 12, got ${typeof size}`);
  if (size !== 10 && size !== 12) {
    throw new RangeError(`${name} must be 10 (virtio_net_hdr) or 12 (virtio_net_hdr_mrg_rxbuf), got ${size}`);
  }
  return size;
}

/**
 * Parses the virtio-net header at the start of `buf`.
 *
 * @param buf - a packet read from a TUN/TAP fd opened with `IFF_VNET_HDR`
 * @param size - the header size set with `TUNSETVNETHDRSZ`: 10 (default) or 12
 * @returns the fields; `numBuffers` only when `size` is 12. The packet starts at `buf.subarray(size)`
 * @throws TypeError when `buf` is not a `Uint8Array`; RangeError when `size` is not 10 or 12 or `buf` is shorter than `size`
 * @example
 * ```ts
 * const hdr = parseVirtioNetHdr(buf);
 * if (hdr.gsoType !== VIRTIO_NET_HDR_GSO_NONE) console.log('GSO segment size', hdr.gsoSize);
 * ```
 */
export function parseVirtioNetHdr(buf: Uint8Array, size: 10 | 12 = 10): VirtioNetHdr {
  requireBytes(buf, 'parseVirtioNetHdr(buf)');
  requireSize(size, 'parseVirtioNetHdr(buf, size)');
  if (buf.length < size) {
    throw new RangeError(`parseVirtioNetHdr(buf) needs at least ${size} bytes, got ${buf.length}`);
  }
  const le16 = (i: number): number => buf[i]! | (buf[i + 1]! << 8);
  const hdr: VirtioNetHdr = {
    flags: buf[0]!,
    gsoType: buf[1]!,
    hdrLen: le16(2),
    gsoSize: le16(4),
    csumStart: le16(6),
    csumOffset: le16(8),
  };
  if (size === 12) hdr.numBuffers = le16(10);
  return hdr;
}

/**
 * Builds a virtio-net header to put in front of a packet written to a TUN/TAP fd opened
 * with `IFF_VNET_HDR`. Missing fields are 0, so `buildVirtioNetHdr({})` is the
 * "no offloads" header.
 *
 * @param h - the fields to set
 * @param size - the header size set with `TUNSETVNETHDRSZ`: 10 (default) or 12
 * @returns a new buffer of `size` bytes
 * @throws TypeError when a field is not a number; RangeError when a field does not fit
 *   (8 bits for `flags`/`gsoType`, 16 for the rest), `size` is not 10 or 12, or
 *   `numBuffers` is given with `size` 10
 * @example
 * ```ts
 * const hdr = buildVirtioNetHdr({ flags: VIRTIO_NET_HDR_F_NEEDS_CSUM, csumStart: 20, csumOffset: 6 });
 * fd.write(Buffer.concat([hdr, udpPacket]));
 * ```
 */
export function buildVirtioNetHdr(h: Partial<VirtioNetHdr>, size: 10 | 12 = 10): Buffer {
  if (typeof h !== 'object' || h === null) {
    throw new TypeError(`buildVirtioNetHdr(h) must be an object of header fields, got ${h === null ? 'null' : typeof h}`);
  }
  requireSize(size, 'buildVirtioNetHdr(h, size)');
  if (size === 10 && h.numBuffers !== undefined) {
    throw new RangeError('buildVirtioNetHdr: numBuffers needs the 12-byte header; pass size 12 or leave numBuffers out');
  }
  const out = Buffer.alloc(size);
  out[0] = requireUint(h.flags ?? 0, 0xff, 'buildVirtioNetHdr: flags');
  out[1] = requireUint(h.gsoType ?? 0, 0xff, 'buildVirtioNetHdr: gsoType');
  out.writeUInt16LE(requireUint(h.hdrLen ?? 0, 0xffff, 'buildVirtioNetHdr: hdrLen'), 2);
  out.writeUInt16LE(requireUint(h.gsoSize ?? 0, 0xffff, 'buildVirtioNetHdr: gsoSize'), 4);
  out.writeUInt16LE(requireUint(h.csumStart ?? 0, 0xffff, 'buildVirtioNetHdr: csumStart'), 6);
  out.writeUInt16LE(requireUint(h.csumOffset ?? 0, 0xffff, 'buildVirtioNetHdr: csumOffset'), 8);
  if (size === 12) out.writeUInt16LE(requireUint(h.numBuffers ?? 0, 0xffff, 'buildVirtioNetHdr: numBuffers'), 10);
  return out;
}
