/**
 * GSO split: a packet read from a tun opened with `IFF_VNET_HDR` and TSO/USO offloads on
 * (a "super-packet" of up to 64 KiB with its `virtio_net_hdr`) into the MTU-size packets
 * the kernel would have sent without those offloads.
 *
 * ```
 *  [vnet hdr: TCPV4, gso_size 1448][IP|TCP|  64 KiB of payload ......................]
 *      ▼ split
 *  [IP|TCP|1448 B]  [IP|TCP|1448 B]  ...  [IP|TCP|rest]     into a SegmentBuffer, no allocation
 *   id, seq+0        id+1, seq+1448        PSH/FIN only here; CWR only on the first
 * ```
 * Each segment gets its own IPv4 total length, identification (+1 a segment, as the kernel
 * does) and header checksum, or IPv6 payload length; TCP sequence number and checksum; UDP
 * length and checksum. A packet that is not GSO is copied as it is, its checksum completed
 * when the header says `NEEDS_CSUM`. Only tun devices (IP packets) are handled, not taps.
 *
 * @module
 */
import {
  VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_ECN, VIRTIO_NET_HDR_GSO_NONE, VIRTIO_NET_HDR_GSO_TCPV4,
  VIRTIO_NET_HDR_GSO_TCPV6, VIRTIO_NET_HDR_GSO_UDP, VIRTIO_NET_HDR_GSO_UDP_L4,
} from '../packet/virtioNetHdr.js';
import { IPPROTO_TCP, IPPROTO_UDP } from '../packet/ipPacket.js';
import { assertOptions } from '../tunctl/validate.js';
import { OffloadError } from './offloadError.js';
import { checkRange, sourceCount, type PacketSource } from './packetSource.js';
import { addressSum, get16, get32, put16, put32, rangeSum, setIpv4Checksum } from './rangeSum.js';
import { recordBytes, SegmentBuffer } from './segmentBuffer.js';

const TCP_FIN = 0x01;
const TCP_PSH = 0x08;
const TCP_CWR = 0x80;
const copyBytes = Buffer.prototype.copy;

/**
 * Options of {@link GsoSplitter}.
 *
 * @example
 * ```ts
 * const opts: GsoSplitOptions = { vnetHdrSize: 10, outHdrSize: 0 };
 * ```
 */
export interface GsoSplitOptions {
  /** Size of the virtio header in front of each input packet (`TUNSETVNETHDRSZ`): 10 (default) or 12. */
  vnetHdrSize?: 10 | 12;
  /**
   * A zeroed virtio header ("no offload") to put in front of each output packet, for
   * writing into a tun that has `IFF_VNET_HDR`: 10 or 12 bytes; 0 (default) for plain IP
   * packets.
   */
  outHdrSize?: 0 | 10 | 12;
}

/** Where the transport layer of a GSO packet is, once its headers were checked. */
interface Layout {
  v6: boolean;
  tcp: boolean;
  /** Offset of the transport header from the IP header. */
  l4: number;
  /** IP header plus transport header. */
  hdr: number;
  /** Packet length per the IP header (bytes after it are padding). */
  end: number;
}

function fail(code: ConstructorParameters<typeof OffloadError>[0], message: string): never {
  throw new OffloadError(code, message);
}

/** The IPv6 extension headers that may stand between the fixed header and TCP/UDP. */
function isSkippableV6(next: number): boolean {
  return next === 0 || next === 43 || next === 60;
}

/**
 * Checks the headers of the GSO packet at `d[p, p + plen)` against its virtio header and
 * finds its layout; throws {@link OffloadError} on anything inconsistent.
 */
function gsoLayout(d: Uint8Array, p: number, plen: number, type: number, flags: number, csumStart: number, csumOffset: number): Layout {
  const tcp = type !== VIRTIO_NET_HDR_GSO_UDP_L4;
  const version = plen === 0 ? 0 : d[p]! >> 4;
  let l4: number;
  let end: number;
  let proto: number;
  if (version === 4) {
    if (type === VIRTIO_NET_HDR_GSO_TCPV6) fail('BAD_PACKET', 'gso_type TCPV6 on an IPv4 packet');
    if (plen < 20) fail('TRUNCATED', `an IPv4 packet of ${plen} bytes is shorter than its 20-byte header`);
    l4 = (d[p]! & 0x0f) * 4;
    end = get16(d, p + 2);
    if (l4 < 20 || end < l4) fail('BAD_PACKET', `IPv4 header length ${l4} and total length ${end} do not make a packet`);
    if (end > plen) fail('TRUNCATED', `the IPv4 total length is ${end} bytes but only ${plen} follow the virtio header`);
    if ((get16(d, p + 6) & 0x3fff) !== 0) fail('BAD_PACKET', 'a GSO packet cannot be an IPv4 fragment');
    proto = d[p + 9]!;
  } else if (version === 6) {
    if (type === VIRTIO_NET_HDR_GSO_TCPV4) fail('BAD_PACKET', 'gso_type TCPV4 on an IPv6 packet');
    if (plen < 40) fail('TRUNCATED', `an IPv6 packet of ${plen} bytes is shorter than its 40-byte header`);
    const payload = get16(d, p + 4);
    if (payload === 0) fail('BAD_PACKET', 'an IPv6 jumbogram (payload length 0) is not supported');
    end = 40 + payload;
    if (end > plen) fail('TRUNCATED', `the IPv6 packet is ${end} bytes long but only ${plen} follow the virtio header`);
    proto = d[p + 6]!;
    l4 = 40;
    while (isSkippableV6(proto)) {
      if (l4 + 8 > end) fail('TRUNCATED', `an IPv6 extension header at ${l4} runs past the packet's ${end} bytes`);
      const size = (d[p + l4 + 1]! + 1) * 8;
      proto = d[p + l4]!;
      l4 += size;
    }
    if (l4 > end) fail('TRUNCATED', `IPv6 extension headers end at ${l4}, past the packet's ${end} bytes`);
  } else {
    return fail('BAD_PACKET', `a GSO packet must be IPv4 or IPv6, got IP version ${version}`);
  }
  const want = tcp ? IPPROTO_TCP : IPPROTO_UDP;
  if (proto !== want) fail('BAD_PACKET', `gso_type ${type} needs ${tcp ? 'TCP' : 'UDP'} (protocol ${want}), the packet carries protocol ${proto}`);
  if ((flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) !== 0) {
    if (csumStart !== l4) fail('BAD_CSUM', `csum_start ${csumStart} is not where the ${tcp ? 'TCP' : 'UDP'} header starts (${l4})`);
    const at = tcp ? 16 : 6;
    if (csumOffset !== at) fail('BAD_CSUM', `csum_offset ${csumOffset} is not the ${tcp ? 'TCP' : 'UDP'} checksum's (${at})`);
  }
  let thl = 8;
  if (tcp) {
    if (l4 + 20 > end) fail('TRUNCATED', `the TCP header at ${l4} does not fit in ${end} bytes`);
    thl = (d[p + l4 + 12]! >> 4) * 4;
    if (thl < 20) fail('BAD_PACKET', `TCP data offset ${thl} is below 20 bytes`);
  }
  if (l4 + thl > end) fail('TRUNCATED', `the ${tcp ? 'TCP' : 'UDP'} header (${thl} bytes at ${l4}) does not fit in ${end} bytes`);
  return { v6: version === 6, tcp, l4, hdr: l4 + thl, end };
}

/**
 * Splits GSO super-packets into MTU-size packets; see the module notes. One splitter can be
 * used for any number of packets; it keeps no state between calls.
 *
 * @example
 * ```ts
 * const fd = tunctl.create('tun0', { mode: 'tun', vnetHdr: true }).fd;
 * tunctl.offload(fd, { csum: true, tso4: true, tso6: true });
 * const splitter = new GsoSplitter();
 * const out = new SegmentBuffer();
 * const packet = tunctl.read(fd);
 * if (packet) {
 *   const n = splitter.split(packet, out); // out.packet(0) .. out.packet(n - 1): plain IP packets
 *   out.clear();
 * }
 * ```
 */
export class GsoSplitter {
  readonly #inHdr: 10 | 12;
  readonly #outHdr: 0 | 10 | 12;

  /**
   * @param options - virtio header sizes of the input and the output
   * @throws TypeError for an unknown option; RangeError for a size that is not allowed
   */
  constructor(options: GsoSplitOptions = {}) {
    assertOptions(options, 'GsoSplitter option', ['vnetHdrSize', 'outHdrSize']);
    const inHdr = options.vnetHdrSize ?? 10;
    const outHdr = options.outHdrSize ?? 0;
    if (inHdr !== 10 && inHdr !== 12) throw new RangeError(`vnetHdrSize must be 10 or 12, got ${String(inHdr)}`);
    if (outHdr !== 0 && outHdr !== 10 && outHdr !== 12) throw new RangeError(`outHdrSize must be 0, 10 or 12, got ${String(outHdr)}`);
    this.#inHdr = inHdr;
    this.#outHdr = outHdr;
  }

  /**
   * Splits one packet (virtio header first) and appends the result to `out`.
   *
   * @param packet - as read from the tun
   * @param out - where the packets go
   * @returns the number of packets appended (1 for a packet that is not GSO)
   * @throws OffloadError for a malformed packet or header, or `NO_ROOM` (then nothing was appended)
   * @example
   * ```ts
   * const n = splitter.split(tunctl.read(fd)!, out);
   * ```
   */
  split(packet: Uint8Array, out: SegmentBuffer): number {
    checkRange(packet, 0, 0, 'split(packet)');
    return this.splitAt(packet, 0, packet.length, out);
  }

  /**
   * Splits the packet at `data[offset, offset + length)`, e.g. packet `i` of a batch, with
   * no view made of it.
   *
   * @param data - bytes holding the packet
   * @param offset - where its virtio header starts
   * @param length - its bytes, virtio header included
   * @param out - where the packets go
   * @returns the number of packets appended
   * @throws TypeError/RangeError for arguments that are not bytes or lie outside `data`;
   *   OffloadError for a malformed packet, or `NO_ROOM`
   * @example
   * ```ts
   * const n = splitter.splitAt(buf.data, buf.offset(i), buf.lengthOf(i), out);
   * ```
   */
  splitAt(data: Uint8Array, offset: number, length: number, out: SegmentBuffer): number {
    checkRange(data, offset, length, 'splitAt(data)');
    if (!(out instanceof SegmentBuffer)) throw new TypeError('the output must be a SegmentBuffer');
    const v = this.#inHdr;
    if (length < v) fail('TRUNCATED', `a packet with a ${v}-byte virtio header has only ${length} bytes`);
    const flags = data[offset]!;
    const type = data[offset + 1]! & ~VIRTIO_NET_HDR_GSO_ECN;
    const hdrLen = data[offset + 2]! | (data[offset + 3]! << 8);
    const gsoSize = data[offset + 4]! | (data[offset + 5]! << 8);
    const csumStart = data[offset + 6]! | (data[offset + 7]! << 8);
    const csumOffset = data[offset + 8]! | (data[offset + 9]! << 8);
    const p = offset + v;
    const plen = length - v;
    if (type === VIRTIO_NET_HDR_GSO_NONE) return this.#copyOne(data, p, plen, flags, csumStart, csumOffset, out);
    if (type === VIRTIO_NET_HDR_GSO_UDP) fail('UNSUPPORTED_GSO_TYPE', 'gso_type UDP (UFO) needs IP fragmentation, which the engine does not do; leave TUN_F_UFO off');
    if (type !== VIRTIO_NET_HDR_GSO_TCPV4 && type !== VIRTIO_NET_HDR_GSO_TCPV6 && type !== VIRTIO_NET_HDR_GSO_UDP_L4) {
      fail('BAD_GSO_TYPE', `gso_type ${data[offset + 1]} is not NONE (0), TCPV4 (1), TCPV6 (4) or UDP_L4 (5), with or without ECN (0x80)`);
    }
    if (gsoSize === 0) fail('BAD_GSO_SIZE', 'gso_size is 0 on a GSO packet');
    // hdr_len is a hint (the kernel puts the length of the skb's linear part there); the
    // headers' real length comes from the packet itself.
    if (hdrLen > plen) fail('BAD_HDR_LEN', `hdr_len ${hdrLen} is past the end of the ${plen}-byte packet`);
    const l = gsoLayout(data, p, plen, type, flags, csumStart, csumOffset);
    if (l.hdr + gsoSize > 0xffff) fail('BAD_GSO_SIZE', `gso_size ${gsoSize} with ${l.hdr} bytes of headers exceeds an IP packet's 65535 bytes`);
    const payload = l.end - l.hdr;
    const n = payload === 0 ? 1 : Math.ceil(payload / gsoSize);
    const last = payload - (n - 1) * gsoSize;
    const o = this.#outHdr;
    out.requireRoom(n, (n - 1) * recordBytes(o + l.hdr + gsoSize) + recordBytes(o + l.hdr + last), 'the segments of a GSO packet');
    this.#segments(data, p, l, gsoSize, n, out);
    return n;
  }

  /**
   * Splits every packet of a batch, appending all their segments to `out`.
   *
   * @param packets - an array of packets, or a record batch (`PacketBatch`, `tunctl.BatchBuffer`)
   * @param out - where the packets go
   * @returns the number of packets appended
   * @throws OffloadError for the first packet that cannot be split, with its `index` set;
   *   the segments of the packets before it stay in `out`
   * @example
   * ```ts
   * const n = tunctl.readBatch(fd, 64, inBuf);
   * splitter.splitBatch(inBuf, out);
   * ```
   */
  splitBatch(packets: PacketSource, out: SegmentBuffer): number {
    const count = sourceCount(packets, 'splitBatch(packets)');
    const list = Array.isArray(packets) ? (packets as readonly Uint8Array[]) : undefined;
    const rec = packets as Exclude<PacketSource, readonly Uint8Array[]>;
    let total = 0;
    for (let i = 0; i < count; i++) {
      try {
        if (list) {
          const pkt = list[i];
          checkRange(pkt, 0, 0, 'splitBatch(packets)', i);
          total += this.splitAt(pkt as Uint8Array, 0, (pkt as Uint8Array).length, out);
        } else {
          total += this.splitAt(rec.data, rec.offset(i), rec.lengthOf(i), out);
        }
      } catch (err) {
        if (err instanceof OffloadError) err.index = i;
        throw err;
      }
    }
    return total;
  }

  /** A packet that is not GSO: copied, its checksum completed if it asks for that. */
  #copyOne(data: Uint8Array, p: number, plen: number, flags: number, csumStart: number, csumOffset: number, out: SegmentBuffer): number {
    const needsCsum = (flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) !== 0;
    if (needsCsum && csumStart + csumOffset + 2 > plen) {
      fail('BAD_CSUM', `csum_start ${csumStart} + csum_offset ${csumOffset} puts the checksum past the end of the ${plen}-byte packet`);
    }
    if (plen === 0) fail('TRUNCATED', 'no packet follows the virtio header');
    const o = this.#outHdr;
    out.requireRoom(1, recordBytes(o + plen), 'a packet');
    const at = out.end;
    const d = out.data;
    const pkt = at + 4 + o;
    for (let i = at + 4; i < pkt; i++) d[i] = 0;
    copyBytes.call(data, d, pkt, p, p + plen);
    if (needsCsum) {
      // What the kernel's skb_checksum_help does: the field holds the pseudo-header sum.
      const field = pkt + csumStart + csumOffset;
      put16(d, field, ~rangeSum(d, pkt + csumStart, pkt + plen, 0) & 0xffff || 0xffff);
    }
    out.commit(at, o + plen);
    return 1;
  }

  /** Writes the `n` segments of a checked GSO packet. */
  #segments(src: Uint8Array, p: number, l: Layout, gsoSize: number, n: number, out: SegmentBuffer): void {
    const d = out.data;
    const o = this.#outHdr;
    const { v6, tcp, l4, hdr } = l;
    const proto = tcp ? IPPROTO_TCP : IPPROTO_UDP;
    const pseudo = addressSum(src, p, v6) + proto;
    const id0 = v6 ? 0 : get16(src, p + 4);
    const seq0 = tcp ? get32(src, p + l4 + 4) : 0;
    const tcpFlags = tcp ? src[p + l4 + 13]! : 0;
    const csumAt = tcp ? 16 : 6;
    const stop = p + l.end;
    let from = p + hdr;
    let at = out.end;
    for (let i = 0; i < n; i++) {
      const segLen = Math.min(gsoSize, stop - from);
      const pkt = at + 4 + o;
      for (let k = at + 4; k < pkt; k++) d[k] = 0;
      copyBytes.call(src, d, pkt, p, p + hdr);
      if (segLen > 0) copyBytes.call(src, d, pkt + hdr, from, from + segLen);
      const ipLen = hdr + segLen;
      if (v6) {
        put16(d, pkt + 4, ipLen - 40);
      } else {
        put16(d, pkt + 2, ipLen);
        put16(d, pkt + 4, (id0 + i) & 0xffff);
        setIpv4Checksum(d, pkt, l4);
      }
      const t = pkt + l4;
      const l4Len = ipLen - l4;
      if (tcp) {
        put32(d, t + 4, (seq0 + i * gsoSize) >>> 0);
        let f = tcpFlags;
        if (i < n - 1) f &= ~(TCP_FIN | TCP_PSH);
        if (i > 0) f &= ~TCP_CWR;
        d[t + 13] = f;
      } else {
        put16(d, t + 4, l4Len);
      }
      d[t + csumAt] = 0;
      d[t + csumAt + 1] = 0;
      const sum = ~rangeSum(d, t, pkt + ipLen, pseudo + l4Len) & 0xffff;
      // UDP sends a computed 0 as 0xffff: 0 means "no checksum" (RFC 768).
      put16(d, t + csumAt, tcp ? sum : sum || 0xffff);
      at = out.commit(at, o + ipLen);
      from += segLen;
    }
  }
}
