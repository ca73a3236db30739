/**
 * Finding out what offloads a kernel takes on a device, without failing where it takes
 * less: which TUNSETOFFLOAD mask it accepts (reads: super-packets the kernel may hand
 * out), and whether it accepts coalesced super-packets written to it (writes: GRO).
 *
 * @module
 */
import { loadNative } from '../native/binding.js';
import { TunError, toTunError } from '../native/tunError.js';
import { internetChecksum, pseudoHeaderSum4 } from '../packet/checksum.js';
import { buildIpv4Packet, IPPROTO_TCP, IPPROTO_UDP } from '../packet/ipPacket.js';
import { GroCoalescer } from '../offload/groCoalescer.js';
import { SegmentBuffer } from '../offload/segmentBuffer.js';
import { info, offload, vnetHdrSize, type OffloadFlags } from './fdControl.js';
import { ifFlags } from './netif.js';
import { write } from './packetIo.js';
import { assertBool, assertFd, assertOptions } from './validate.js';
import { setupOffloadUnprobed, wanted, type OffloadSetting, type OffloadSetup, type OffloadWant } from './offloadSetting.js';

export { checkOffloadSetting, type OffloadSetting, type OffloadSetup, type OffloadWant } from './offloadSetting.js';

/**
 * What {@link probeOffload} found and left set.
 *
 * @example
 * ```ts
 * const r: OffloadProbe = tunctl.probeOffload(fd);
 * if (r.tcp) console.log('TSO on, mask', r.mask.toString(16));
 * ```
 */
export interface OffloadProbe {
  /** The TUN_F_* mask now set on the device (0 when nothing was accepted, or without a vnet header). */
  readonly mask: number;
  /** That mask as flags. */
  readonly flags: Required<OffloadFlags>;
  /** TSO4 and TSO6 are on. */
  readonly tcp: boolean;
  /** USO4 and USO6 are on. */
  readonly udp: boolean;
  /** The masks the kernel refused (EINVAL), in the order tried. */
  readonly refused: readonly number[];
  /** Why nothing was tried, when nothing was: `'no vnet header'`. */
  readonly reason?: string;
}

function flagsOf(mask: number): Required<OffloadFlags> {
  const c = loadNative().constants;
  const on = (bit: number): boolean => (mask & bit) !== 0;
  return {
    csum: on(c.TUN_F_CSUM), tso4: on(c.TUN_F_TSO4), tso6: on(c.TUN_F_TSO6), tsoEcn: on(c.TUN_F_TSO_ECN),
    ufo: on(c.TUN_F_UFO), uso4: on(c.TUN_F_USO4), uso6: on(c.TUN_F_USO6),
  };
}

/**
 * Sets the largest offload mask the kernel accepts among what is wanted, falling back step
 * by step (TCP and UDP, then TCP alone, then UDP alone, then checksums only, then none), as
 * kernels before 6.2 refuse the USO bits with EINVAL. A device opened without a vnet header
 * gets its mask cleared instead: a mask left from an earlier attach would hand
 * super-packets to a reader that cannot tell them apart (tun-rs#141).
 *
 * @param fd - the device's fd
 * @param want - what to try for (default TCP and UDP, no ECN)
 * @returns what is set now; a refusal is a result, not an error
 * @throws TypeError/RangeError for bad arguments; TunError for failures other than EINVAL
 * @example
 * ```ts
 * const { fd } = tunctl.create('tun0', { mode: 'tun', vnetHdr: true });
 * const r = tunctl.probeOffload(fd); // { mask: 0x67, tcp: true, udp: true, ... } on Linux >= 6.2
 * ```
 */
export function probeOffload(fd: number, want?: OffloadWant): OffloadProbe {
  assertFd(fd);
  const w = wanted(want, 'probeOffload option');
  const c = loadNative().constants;
  if (!info(fd).vnetHdr) {
    offload(fd, 0);
    return { mask: 0, flags: flagsOf(0), tcp: false, udp: false, refused: [], reason: 'no vnet header' };
  }
  const tso = c.TUN_F_TSO4 | c.TUN_F_TSO6 | (w.ecn ? c.TUN_F_TSO_ECN : 0);
  const uso = c.TUN_F_USO4 | c.TUN_F_USO6;
  const tries: number[] = [];
  if (w.tcp && w.udp) tries.push(c.TUN_F_CSUM | tso | uso);
  if (w.tcp) tries.push(c.TUN_F_CSUM | tso);
  if (w.tcp && w.ecn) tries.push(c.TUN_F_CSUM | c.TUN_F_TSO4 | c.TUN_F_TSO6);
  if (w.udp) tries.push(c.TUN_F_CSUM | uso);
  tries.push(c.TUN_F_CSUM, 0);
  const refused: number[] = [];
  for (const mask of tries) {
    try {
      offload(fd, mask);
    } catch (err) {
      if (err instanceof TunError && err.code === 'EINVAL') {
        refused.push(mask);
        continue;
      }
      throw err;
    }
    const flags = flagsOf(mask);
    return { mask, flags, tcp: flags.tso4 && flags.tso6, udp: flags.uso4 && flags.uso6, refused };
  }
  // Unreachable in practice: the kernel always accepts 0.
  return { mask: 0, flags: flagsOf(0), tcp: false, udp: false, refused };
}

/**
 * What {@link probeGroWrite} found.
 *
 * @example
 * ```ts
 * const r: GroWriteProbe = tunctl.probeGroWrite(fd);
 * const gro = new offload.GroCoalescer({ tcp: r.tcp, udp: r.udp });
 * ```
 */
export interface GroWriteProbe {
  /** The kernel took a coalesced TCP write (`GSO_TCPV4`). */
  readonly tcp: boolean;
  /** The kernel took a coalesced UDP write (`GSO_UDP_L4`, Linux 6.2); false when not asked. */
  readonly udp: boolean;
  /** The errno name of each refusal, e.g. `{ udp: 'EINVAL' }`. */
  readonly errors: { readonly tcp?: string; readonly udp?: string };
  /** Why nothing was tried, when nothing was: no vnet header, a tap, a link that is down. */
  readonly reason?: string;
}

/** Errors of a write that mean "this kind of packet is not taken here". */
const REFUSALS = new Set(['EINVAL', 'EIO', 'EOPNOTSUPP', 'ENOTSUP', 'EPROTONOSUPPORT']);

/** One of two probe segments: to and from 127.0.0.1 with TTL 0, which the kernel drops once parsed. */
function probeSegment(tcp: boolean, index: number): Buffer {
  const size = 64;
  const l4 = Buffer.alloc((tcp ? 20 : 8) + size, 0x5a);
  l4.writeUInt16BE(9, 0); // discard
  l4.writeUInt16BE(9, 2);
  if (tcp) {
    l4.writeUInt32BE(index * size, 4);
    l4.writeUInt32BE(0, 8);
    l4[12] = 5 << 4;
    l4[13] = 0x10; // ACK
    l4.writeUInt16BE(0, 14);
    l4.writeUInt16BE(0, 16);
    l4.writeUInt16BE(0, 18);
  } else {
    l4.writeUInt16BE(l4.length, 4);
    l4.writeUInt16BE(0, 6);
  }
  const loopback = Uint8Array.of(127, 0, 0, 1);
  const protocol = tcp ? IPPROTO_TCP : IPPROTO_UDP;
  const sum = internetChecksum(l4, pseudoHeaderSum4(loopback, loopback, protocol, l4.length));
  l4.writeUInt16BE(tcp ? sum : sum || 0xffff, tcp ? 16 : 6);
  return buildIpv4Packet({ src: loopback, dst: loopback, protocol, payload: l4, ttl: 0, identification: index });
}

/**
 * Checks that the kernel takes GRO writes on this tun: it coalesces two TTL-0 segments
 * (TCP, then UDP if asked) to and from 127.0.0.1 into one super-packet and writes it. The
 * kernel parses the virtio header first (refusing a kind it does not know with EINVAL, as
 * Linux before 6.2 does for UDP), then drops the packet harmlessly as a martian. Run it on a
 * link that is up: a down link refuses every write with EIO, which says nothing of GRO, so
 * then nothing is tried and `reason` says so.
 *
 * @param fd - the fd of a tun opened with `vnetHdr: true`
 * @param options - `udp: false` to skip the UDP probe (default true)
 * @returns what was taken; a refusal is a result, not an error
 * @throws TypeError/RangeError for bad arguments; TunError for failures that are not refusals (EBADF...)
 * @example
 * ```ts
 * const r = tunctl.probeGroWrite(fd); // { tcp: true, udp: true, errors: {} } on Linux >= 6.2
 * ```
 */
export function probeGroWrite(fd: number, options?: { udp?: boolean }): GroWriteProbe {
  assertFd(fd);
  assertOptions(options, 'probeGroWrite option', ['udp']);
  const udp = options?.udp ?? true;
  assertBool(udp, 'udp');
  const dev = info(fd);
  const untested = (reason: string): GroWriteProbe => ({ tcp: false, udp: false, errors: {}, reason });
  if (!dev.vnetHdr) return untested('no vnet header');
  if (dev.mode !== 'tun') return untested('a tap: the probe writes IP packets');
  const size = vnetHdrSize(fd);
  if (size !== 10 && size !== 12) return untested(`a vnet header of ${size} bytes (the engine writes 10 or 12)`);
  let flags = -1;
  try {
    flags = ifFlags(dev.name);
  } catch {
    /* the device is in another namespace than this thread: the write will tell */
  }
  if (flags >= 0 && (flags & loadNative().constants.IFF_UP) === 0) return untested('the link is down');
  const attempt = (tcp: boolean): string | undefined => {
    const out = new SegmentBuffer(2, 65552);
    new GroCoalescer({ tcp, udp: !tcp, vnetHdrSize: size }).coalesce([probeSegment(tcp, 0), probeSegment(tcp, 1)], out);
    if (out.count !== 1) throw new Error('probeGroWrite: the probe segments did not coalesce (a bug in tunctl)');
    try {
      write(fd, out.packet(0));
      return undefined;
    } catch (err) {
      const e = toTunError(err);
      if (e instanceof TunError && REFUSALS.has(e.code)) return e.code;
      throw e;
    }
  };
  const tcpError = attempt(true);
  const udpError = udp ? attempt(false) : 'not asked';
  const errors: { tcp?: string; udp?: string } = {};
  if (tcpError !== undefined) errors.tcp = tcpError;
  if (udp && udpError !== undefined) errors.udp = udpError;
  return { tcp: tcpError === undefined, udp: udp && udpError === undefined, errors };
}

/**
 * Sets a device's offloads at start, as a `Tuncer` with the `offload` option does: without a
 * vnet header the mask is cleared (one left from an earlier attach would corrupt what is
 * read); with `false` it is cleared too; otherwise {@link probeOffload} sets the largest mask
 * taken among what is wanted, and {@link probeGroWrite} checks GRO writes when the link is up.
 * Never throws for a refusal: it becomes a warning.
 *
 * @param fd - the device's fd
 * @param setting - what is wanted; `undefined` only clears a mask left on a device without a vnet header
 * @returns what was set and found
 * @throws TunError for failures that are not refusals
 * @example
 * ```ts
 * const r = tunctl.setupOffload(fd, 'auto'); // { mask: 0x67, read: { tcp: true, udp: true }, write: { tcp: true, udp: true }, ... }
 * ```
 */
export function setupOffload(fd: number, setting: OffloadSetting | undefined): OffloadSetup {
  const settled = setupOffloadUnprobed(fd, setting);
  if (settled || setting === undefined || setting === false) return settled as OffloadSetup;
  const w = setting === 'auto' ? { tcp: true, udp: true } : { tcp: setting.tcp ?? true, udp: setting.udp ?? true };
  const warnings: string[] = [];
  const notes: string[] = [];
  const r = probeOffload(fd, w);
  if (w.tcp && !r.tcp) warnings.push('the kernel refused TSO (TUNSETOFFLOAD EINVAL): TCP super-packets will not be read');
  if (w.udp && !r.udp) warnings.push('the kernel refused USO (TUNSETOFFLOAD EINVAL; it needs Linux 6.2): UDP super-packets will not be read');
  let write: OffloadSetup['write'];
  if (w.tcp || w.udp) {
    const g = probeGroWrite(fd, { udp: w.udp });
    if (g.reason !== undefined) {
      notes.push(`GRO writes not probed: ${g.reason}`);
    } else {
      write = { tcp: g.tcp, udp: g.udp };
      if (w.tcp && !g.tcp) warnings.push(`the kernel refused a coalesced TCP write (${g.errors.tcp ?? 'error'}): do not coalesce TCP`);
      if (w.udp && !g.udp) warnings.push(`the kernel refused a coalesced UDP write (${g.errors.udp ?? 'error'}; it needs Linux 6.2): do not coalesce UDP`);
    }
  }
  return { mask: r.mask, read: { tcp: r.tcp, udp: r.udp }, write, warnings, notes };
}
