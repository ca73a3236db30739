/**
 * GRO coalesce: a batch of MTU-size IP packets (received over a tunnel, say) into as few
 * writes as possible to a tun opened with `IFF_VNET_HDR`: consecutive TCP segments of one
 * flow, or equal-size UDP datagrams of one flow, become one super-packet with a
 * `virtio_net_hdr` that tells the kernel how to treat it.
 *
 * ```
 *  [IP|TCP seq s|1448 B] [IP|TCP seq s+1448|1448 B] [IP|TCP seq s+2896|700 B, PSH]
 *      ▼ coalesce (same flow, contiguous, same header fields)
 *  [vnet: NEEDS_CSUM, TCPV4, gso_size 1448, hdr_len 52, csum 20/16][IP|TCP seq s, PSH|3596 B]
 * ```
 * The rules follow the kernel's own GRO (`tcp_gro_receive`, `udp_gro_receive`):
 * - **TCP** (v4 without IP options, v6 without extension headers): the same addresses and
 *   ports; each segment's sequence number follows the previous one; ACK set and no
 *   SYN/FIN/RST/URG/CWR; the same acknowledgment number, window and options; the same TTL
 *   (hop limit), ToS (traffic class) and DF (flow label); PSH only on the last segment; a
 *   valid checksum on every segment.
 * - **UDP** (`udp: true`, needs Linux 6.2 for `VIRTIO_NET_HDR_GSO_UDP_L4`): the same
 *   addresses, ports and IP fields, a valid non-zero checksum.
 * - Both: every segment but the last carries exactly as much payload as the first, the last
 *   no more; at most 64 segments and 65535 bytes of IP packet.
 *
 * A packet that does not fit these rules goes out unchanged, behind a virtio header that says
 * "no offload". A packet joins only the latest group of its flow, so packets of one flow stay
 * in order; a flow's packet that cannot join (a pure ACK, a FIN, a fragment) closes its group.
 * A super-packet's checksum field holds the pseudo-header sum (`NEEDS_CSUM`), as the kernel
 * expects of a write with `CHECKSUM_PARTIAL`; its IPv4 header checksum is recomputed.
 *
 * @module
 */
import {
  VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, VIRTIO_NET_HDR_GSO_TCPV6, VIRTIO_NET_HDR_GSO_UDP_L4,
} from '../packet/virtioNetHdr.js';
import { IPPROTO_TCP, IPPROTO_UDP } from '../packet/ipPacket.js';
import { assertBool, assertOptions } from '../tunctl/validate.js';
import { OffloadError } from './offloadError.js';
import { checkRange, sourceCount, type PacketSource } from './packetSource.js';
import { addressSum, fold16, get16, get32, put16, rangeSum, setIpv4Checksum } from './rangeSum.js';
import { recordBytes, SegmentBuffer } from './segmentBuffer.js';

const TCP_PSH = 0x08;
const TCP_ACK = 0x10;
const TCP_ECE = 0x40;
/**
 * Most segments in one super-packet: the kernel's UDP_MAX_SEGMENTS of older releases (newer
 * ones take 128), which a GSO_UDP_L4 write must not exceed; TCP groups stop there too.
 *
 * @example
 * ```ts
 * const most = GRO_MAX_SEGMENTS * 1448; // TCP payload bytes one write can carry, at most
 * ```
 */
export const GRO_MAX_SEGMENTS = 64;

/** What a packet is to the coalescer: not a flow of ours (0), or TCP/UDP over IPv4/IPv6. */
const NO_FLOW = 0;
const TCP4 = 1;
const TCP6 = 2;
const UDP4 = 3;
const UDP6 = 4;
const GSO_TYPE = [0, VIRTIO_NET_HDR_GSO_TCPV4, VIRTIO_NET_HDR_GSO_TCPV6, VIRTIO_NET_HDR_GSO_UDP_L4, VIRTIO_NET_HDR_GSO_UDP_L4];
const copyBytes = Buffer.prototype.copy;
const EMPTY = new Uint8Array(0);

/**
 * Options of {@link GroCoalescer}.
 *
 * @example
 * ```ts
 * const opts: GroOptions = { tcp: true, udp: false, vnetHdrSize: 10 };
 * ```
 */
export interface GroOptions {
  /** Coalesce TCP segments (default true). */
  tcp?: boolean;
  /** Coalesce UDP datagrams into `GSO_UDP_L4` super-packets (default false: it needs Linux 6.2). */
  udp?: boolean;
  /** Size of the virtio header put in front of each output packet (`TUNSETVNETHDRSZ`): 10 (default) or 12. */
  vnetHdrSize?: 10 | 12;
}

/**
 * Coalesces batches of IP packets into super-packets for one write each to a tun with
 * `IFF_VNET_HDR`; see the module notes for the rules. It keeps its bookkeeping in typed
 * arrays that grow with the largest batch seen, so a steady stream of batches allocates
 * nothing. Not reentrant: one batch at a time.
 *
 * @example
 * ```ts
 * const fd = tunctl.create('tun0', { mode: 'tun', vnetHdr: true }).fd;
 * const gro = new GroCoalescer({ tcp: true });
 * const out = new SegmentBuffer();
 * const n = gro.coalesce(packetsFromTheTunnel, out);
 * for (let i = 0; i < n; i++) tunctl.write(fd, out.packet(i));
 * out.clear();
 * ```
 */
export class GroCoalescer {
  readonly #tcp: boolean;
  readonly #udp: boolean;
  readonly #hdr: 10 | 12;
  /** Super-packets written, and the packets merged into them, since creation. */
  readonly stats = { superPackets: 0, merged: 0 };

  // Per packet of the batch.
  #pData: Uint8Array[] = [];
  #pOff = new Int32Array(0);
  #pLen = new Int32Array(0);
  #pNext = new Int32Array(0);
  // Per group ("item"): the packets that go out as one.
  #items = 0;
  #iFirst = new Int32Array(0);
  #iLast = new Int32Array(0);
  #iCount = new Int32Array(0);
  #iKind = new Uint8Array(0);
  #iOpen = new Uint8Array(0);
  #iPsh = new Uint8Array(0);
  /** 0: the first packet's checksums not checked yet; 1: valid. */
  #iChecked = new Uint8Array(0);
  #iFlow = new Int32Array(0);
  /** IP header length, and IP plus transport header length. */
  #iL4 = new Int32Array(0);
  #iHdr = new Int32Array(0);
  #iGso = new Int32Array(0);
  /** IP length of the super-packet so far. */
  #iBytes = new Int32Array(0);
  #iSeq = new Uint32Array(0);

  /**
   * @param options - which protocols to coalesce and the output's virtio header size
   * @throws TypeError for an unknown option or a non-boolean flag; RangeError for a bad size
   */
  constructor(options: GroOptions = {}) {
    assertOptions(options, 'GroCoalescer option', ['tcp', 'udp', 'vnetHdrSize']);
    const tcp = options.tcp ?? true;
    const udp = options.udp ?? false;
    assertBool(tcp, 'tcp');
    assertBool(udp, 'udp');
    const hdr = options.vnetHdrSize ?? 10;
    if (hdr !== 10 && hdr !== 12) throw new RangeError(`vnetHdrSize must be 10 or 12, got ${String(hdr)}`);
    this.#tcp = tcp;
    this.#udp = udp;
    this.#hdr = hdr;
  }

  /**
   * Coalesces a batch and appends the packets to write to `out`, each with its virtio header.
   *
   * @param packets - plain IP packets: an array, or a record batch (`PacketBatch`, `tunctl.BatchBuffer`)
   * @param out - where the packets to write go
   * @returns the number of packets appended (at most the batch's)
   * @throws TypeError/RangeError for arguments that are not packets; OffloadError `NO_ROOM`
   *   when `out` cannot take the result (then nothing was appended). Malformed packets are
   *   not errors: they pass through unchanged.
   * @example
   * ```ts
   * const n = gro.coalesce(await tun.recvBatch(), out);
   * ```
   */
  coalesce(packets: PacketSource, out: SegmentBuffer): number {
    const n = sourceCount(packets, 'coalesce(packets)');
    if (!(out instanceof SegmentBuffer)) throw new TypeError('the output must be a SegmentBuffer');
    this.#reserve(n);
    const list = Array.isArray(packets) ? (packets as readonly Uint8Array[]) : undefined;
    const rec = packets as Exclude<PacketSource, readonly Uint8Array[]>;
    for (let i = 0; i < n; i++) {
      const data = list ? list[i] : rec.data;
      const off = list ? 0 : rec.offset(i);
      const len = list ? (data as Uint8Array | undefined)?.length : rec.lengthOf(i);
      checkRange(data, off, len, 'coalesce(packets)', i);
      if ((len as number) === 0 || (len as number) > 0xffff) throw new RangeError(`coalesce(packets[${i}]) must be 1 to 65535 bytes, got ${len}`);
    }
    this.#items = 0;
    try {
      for (let i = 0; i < n; i++) {
        const data = list ? (list[i] as Uint8Array) : rec.data;
        this.#pData[i] = data;
        this.#pOff[i] = list ? 0 : rec.offset(i);
        this.#pLen[i] = list ? data.length : rec.lengthOf(i);
        this.#pNext[i] = -1;
        this.#place(i);
      }
      return this.#emit(out);
    } finally {
      for (let i = 0; i < n; i++) this.#pData[i] = EMPTY;
    }
  }

  #reserve(n: number): void {
    if (this.#pOff.length >= n) return;
    const cap = Math.max(n, 2 * this.#pOff.length, 64);
    this.#pOff = new Int32Array(cap);
    this.#pLen = new Int32Array(cap);
    this.#pNext = new Int32Array(cap);
    this.#iFirst = new Int32Array(cap);
    this.#iLast = new Int32Array(cap);
    this.#iCount = new Int32Array(cap);
    this.#iKind = new Uint8Array(cap);
    this.#iOpen = new Uint8Array(cap);
    this.#iPsh = new Uint8Array(cap);
    this.#iChecked = new Uint8Array(cap);
    this.#iFlow = new Int32Array(cap);
    this.#iL4 = new Int32Array(cap);
    this.#iHdr = new Int32Array(cap);
    this.#iGso = new Int32Array(cap);
    this.#iBytes = new Int32Array(cap);
    this.#iSeq = new Uint32Array(cap);
  }

  /** Puts packet `i` into the latest group of its flow, or into a group of its own. */
  #place(i: number): void {
    const d = this.#pData[i]!;
    const off = this.#pOff[i]!;
    const len = this.#pLen[i]!;
    const ver = d[off]! >> 4;
    let v6 = false;
    let l4 = 0;
    let proto = -1;
    if (ver === 4 && len >= 20) {
      l4 = (d[off]! & 0x0f) * 4;
      proto = d[off + 9]!;
      if (get16(d, off + 2) !== len || (get16(d, off + 6) & 0x3fff) !== 0 || l4 < 20) proto = -2;
    } else if (ver === 6 && len >= 40) {
      v6 = true;
      l4 = 40;
      proto = d[off + 6]!;
      if (get16(d, off + 4) + 40 !== len || (proto !== IPPROTO_TCP && proto !== IPPROTO_UDP)) proto = -2;
    }
    const tcp = proto === IPPROTO_TCP;
    if ((!tcp && proto !== IPPROTO_UDP) || l4 + (tcp ? 20 : 8) > len) {
      // A fragment, padding, extension headers or a cut header: maybe a packet of one of our
      // flows, so nothing between those addresses may join a group from before it.
      if (proto === -2 || proto === IPPROTO_TCP || proto === IPPROTO_UDP) this.#closeAddresses(d, off, v6);
      this.#newGroup(i, NO_FLOW, 0, false, 0, 0, 0, 0);
      return;
    }
    const kind = tcp ? (v6 ? TCP6 : TCP4) : v6 ? UDP6 : UDP4;
    const flow = flowHash(d, off, v6, l4, kind);
    const t = off + l4;
    let thl = 8;
    let cand = (tcp ? this.#tcp : this.#udp) && (v6 || l4 === 20);
    let psh = false;
    if (tcp) {
      thl = (d[t + 12]! >> 4) * 4;
      const flags = d[t + 13]!;
      psh = (flags & TCP_PSH) !== 0;
      if (thl < 20 || l4 + thl >= len || (flags & ~(TCP_PSH | TCP_ECE)) !== TCP_ACK) cand = false;
    } else if (get16(d, t + 4) !== len - l4 || get16(d, t + 6) === 0 || len - l4 === 8) {
      cand = false;
    }
    if (cand && !v6 && rangeSum(d, off, off + 20, 0) !== 0xffff) cand = false;
    const payload = len - l4 - thl;
    const j = this.#latestOfFlow(d, off, l4, kind, flow);
    if (cand && j >= 0 && this.#iOpen[j] === 1 && this.#fits(j, d, off, len, l4, thl, payload)) {
      if (this.#iChecked[j] === 0) {
        const f = this.#iFirst[j]!;
        if (l4ChecksumValid(this.#pData[f]!, this.#pOff[f]!, this.#pLen[f]!, l4, v6, proto)) this.#iChecked[j] = 1;
        else this.#iOpen[j] = 0;
      }
      if (this.#iOpen[j] === 1) {
        if (l4ChecksumValid(d, off, len, l4, v6, proto)) {
          this.#append(j, i, payload, psh);
          return;
        }
        cand = false; // goes out as it is, and closes the flow's group
      }
    }
    const seq = tcp ? (get32(d, t + 4) + payload) >>> 0 : 0;
    this.#newGroup(i, kind, flow, cand && !psh, l4, l4 + thl, payload, seq);
  }

  #newGroup(i: number, kind: number, flow: number, open: boolean, l4: number, hdr: number, payload: number, nextSeq: number): void {
    const g = this.#items++;
    this.#iFirst[g] = i;
    this.#iLast[g] = i;
    this.#iCount[g] = 1;
    this.#iKind[g] = kind;
    this.#iFlow[g] = flow;
    this.#iOpen[g] = open ? 1 : 0;
    this.#iPsh[g] = 0;
    this.#iChecked[g] = 0;
    this.#iBytes[g] = this.#pLen[i]!;
    this.#iL4[g] = l4;
    this.#iHdr[g] = hdr;
    this.#iGso[g] = payload;
    this.#iSeq[g] = nextSeq;
  }

  #append(j: number, i: number, payload: number, psh: boolean): void {
    this.#pNext[this.#iLast[j]!] = i;
    this.#iLast[j] = i;
    const count = this.#iCount[j]! + 1;
    this.#iCount[j] = count;
    this.#iBytes[j] = this.#iBytes[j]! + payload;
    this.#iSeq[j] = (this.#iSeq[j]! + payload) >>> 0;
    if (psh) this.#iPsh[j] = 1;
    if (psh || payload < this.#iGso[j]! || count >= GRO_MAX_SEGMENTS) this.#iOpen[j] = 0;
  }

  /** The newest group of the flow of the packet at `d[off]`, or -1. */
  #latestOfFlow(d: Uint8Array, off: number, l4: number, kind: number, flow: number): number {
    const a0 = kind === TCP6 || kind === UDP6 ? 8 : 12;
    const a1 = a0 === 8 ? 40 : 20;
    for (let j = this.#items - 1; j >= 0; j--) {
      if (this.#iFlow[j] !== flow || this.#iKind[j] !== kind) continue;
      const f = this.#iFirst[j]!;
      const fd = this.#pData[f]!;
      const fo = this.#pOff[f]!;
      if (!sameBytes(d, off + a0, fd, fo + a0, a1 - a0)) continue;
      if (!sameBytes(d, off + l4, fd, fo + this.#iL4[j]!, 4)) continue;
      return j;
    }
    return -1;
  }

  /** Closes every open group whose packets go between the same two addresses. */
  #closeAddresses(d: Uint8Array, off: number, v6: boolean): void {
    const a0 = v6 ? 8 : 12;
    const size = v6 ? 32 : 8;
    for (let j = 0; j < this.#items; j++) {
      if (this.#iOpen[j] === 0) continue;
      const k = this.#iKind[j];
      if ((k === TCP6 || k === UDP6) !== v6) continue;
      const f = this.#iFirst[j]!;
      if (sameBytes(d, off + a0, this.#pData[f]!, this.#pOff[f]! + a0, size)) this.#iOpen[j] = 0;
    }
  }

  /** Can the packet at `d[off, off + len)` follow the last packet of group `j`? */
  #fits(j: number, d: Uint8Array, off: number, len: number, l4: number, thl: number, payload: number): boolean {
    if (this.#iHdr[j] !== l4 + thl || payload > this.#iGso[j]! || this.#iBytes[j]! + payload > 0xffff) return false;
    const f = this.#iFirst[j]!;
    const fd = this.#pData[f]!;
    const fo = this.#pOff[f]!;
    const kind = this.#iKind[j];
    if (kind === TCP6 || kind === UDP6) {
      // Version, traffic class, flow label; hop limit.
      if (!sameBytes(d, off, fd, fo, 4) || d[off + 7] !== fd[fo + 7]) return false;
    } else if (d[off + 1] !== fd[fo + 1] || d[off + 8] !== fd[fo + 8] || (d[off + 6]! & 0xe0) !== (fd[fo + 6]! & 0xe0)) {
      return false; // ToS, TTL, DF
    }
    if (kind === UDP4 || kind === UDP6) return true;
    const t = off + l4;
    const ft = fo + l4;
    return (
      get32(d, t + 4) === this.#iSeq[j] &&
      sameBytes(d, t + 8, fd, ft + 8, 5) && // acknowledgment number, data offset
      (d[t + 13]! & ~TCP_PSH) === fd[ft + 13] && // flags (the group's first has no PSH)
      sameBytes(d, t + 14, fd, ft + 14, 2) && // window
      sameBytes(d, t + 18, fd, ft + 18, thl - 18) // urgent pointer, options
    );
  }

  /** Writes the groups, in the order of their first packets; returns how many. */
  #emit(out: SegmentBuffer): number {
    const h = this.#hdr;
    let bytes = 0;
    for (let j = 0; j < this.#items; j++) bytes += recordBytes(h + this.#iBytes[j]!);
    out.requireRoom(this.#items, bytes, 'the packets of a coalesced batch');
    const d = out.data;
    let at = out.end;
    for (let j = 0; j < this.#items; j++) {
      const pkt = at + 4 + h;
      for (let k = at + 4; k < pkt; k++) d[k] = 0;
      let i = this.#iFirst[j]!;
      const total = this.#iBytes[j]!;
      if (this.#iCount[j] === 1) {
        const off = this.#pOff[i]!;
        copyBytes.call(this.#pData[i]!, d, pkt, off, off + this.#pLen[i]!);
      } else {
        const hdr = this.#iHdr[j]!;
        let pos = pkt + hdr;
        copyBytes.call(this.#pData[i]!, d, pkt, this.#pOff[i]!, this.#pOff[i]! + hdr);
        for (; i >= 0; i = this.#pNext[i]!) {
          const off = this.#pOff[i]!;
          const end = off + this.#pLen[i]!;
          copyBytes.call(this.#pData[i]!, d, pos, off + hdr, end);
          pos += end - off - hdr;
        }
        this.#finishSuperPacket(j, d, at + 4, pkt, total);
      }
      at = out.commit(at, h + total);
    }
    return this.#items;
  }

  /** The virtio header, lengths and partial checksum of a super-packet built at `d[pkt]`. */
  #finishSuperPacket(j: number, d: Uint8Array, vnet: number, pkt: number, total: number): void {
    const kind = this.#iKind[j]!;
    const v6 = kind === TCP6 || kind === UDP6;
    const tcp = kind === TCP4 || kind === TCP6;
    const l4 = this.#iL4[j]!;
    const csumOffset = tcp ? 16 : 6;
    d[vnet] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    d[vnet + 1] = GSO_TYPE[kind]!;
    putLe16(d, vnet + 2, this.#iHdr[j]!);
    putLe16(d, vnet + 4, this.#iGso[j]!);
    putLe16(d, vnet + 6, l4);
    putLe16(d, vnet + 8, csumOffset);
    if (v6) {
      put16(d, pkt + 4, total - 40);
    } else {
      put16(d, pkt + 2, total);
      setIpv4Checksum(d, pkt, l4);
    }
    const t = pkt + l4;
    if (tcp) {
      if (this.#iPsh[j] === 1) d[t + 13] = d[t + 13]! | TCP_PSH;
    } else {
      put16(d, t + 4, total - l4);
    }
    // CHECKSUM_PARTIAL: the field holds the pseudo-header sum, not complemented.
    put16(d, t + csumOffset, fold16(addressSum(d, pkt, v6) + (tcp ? IPPROTO_TCP : IPPROTO_UDP) + total - l4));
    this.stats.superPackets += 1;
    this.stats.merged += this.#iCount[j]!;
  }
}

function putLe16(d: Uint8Array, at: number, value: number): void {
  d[at] = value & 0xff;
  d[at + 1] = value >>> 8;
}

function sameBytes(a: Uint8Array, ai: number, b: Uint8Array, bi: number, n: number): boolean {
  for (let k = 0; k < n; k++) if (a[ai + k] !== b[bi + k]) return false;
  return true;
}

/** A hash of a packet's protocol, addresses and ports, to skip most comparisons. */
function flowHash(d: Uint8Array, off: number, v6: boolean, l4: number, kind: number): number {
  let h = kind;
  const end = off + (v6 ? 40 : 20);
  for (let k = off + (v6 ? 8 : 12); k < end; k += 4) h = Math.imul(h ^ get32(d, k), 0x9e3779b1);
  return Math.imul(h ^ get32(d, off + l4), 0x85ebca6b) | 0;
}

/** Does the transport checksum of the packet verify (pseudo-header included)? */
function l4ChecksumValid(d: Uint8Array, off: number, len: number, l4: number, v6: boolean, proto: number): boolean {
  return rangeSum(d, off + l4, off + len, addressSum(d, off, v6) + proto + len - l4) === 0xffff;
}
