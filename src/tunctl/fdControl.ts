/**
 * Controls that act on an open TUN/TAP fd (ioctls on the fd itself).
 *
 * @module
 */
import { loadNative } from '../native/binding.js';
import { sys, toTunError } from '../native/tunError.js';
import { parseMac } from '../packet/mac.js';
import { decodeFeatures, type TunFeatures, type TunMode } from './create.js';
import { assertBool, assertBytes, assertFd, assertInt, assertOptions } from './validate.js';

const UINT32_MAX = 0xffffffff;

/**
 * Keep the device after its last fd closes (TUNSETPERSIST), or let it go.
 *
 * @example
 * ```ts
 * tunctl.persist(fd, true); // the device outlives this process
 * ```
 */
export function persist(fd: number, on: boolean): void {
  assertFd(fd);
  assertBool(on, 'persist');
  const n = loadNative();
  sys(() => n.ioctlValue(fd, n.constants.TUNSETPERSIST, on ? 1 : 0));
}

/**
 * Let the user `uid` attach to the device without CAP_NET_ADMIN (TUNSETOWNER).
 * The kernel takes the uid by value, and has no way to clear it again (-1 is EINVAL).
 *
 * @example
 * ```ts
 * tunctl.owner(fd, 1000);
 * ```
 */
export function owner(fd: number, uid: number): void {
  assertFd(fd);
  assertInt(uid, 'uid', 0, UINT32_MAX - 1);
  const n = loadNative();
  sys(() => n.ioctlValue(fd, n.constants.TUNSETOWNER, uid));
}

/**
 * Let members of group `gid` attach to the device without CAP_NET_ADMIN (TUNSETGROUP).
 * As with the owner, the kernel cannot clear it again.
 *
 * @example
 * ```ts
 * tunctl.group(fd, 1000);
 * ```
 */
export function group(fd: number, gid: number): void {
  assertFd(fd);
  assertInt(gid, 'gid', 0, UINT32_MAX - 1);
  const n = loadNative();
  sys(() => n.ioctlValue(fd, n.constants.TUNSETGROUP, gid));
}

/**
 * Turn the device's carrier on or off (TUNSETCARRIER), as a cable plugged or pulled.
 *
 * @example
 * ```ts
 * tunctl.carrier(fd, false); // the link shows NO-CARRIER
 * ```
 */
export function carrier(fd: number, on: boolean): void {
  assertFd(fd);
  assertBool(on, 'carrier');
  const n = loadNative();
  sys(() => n.ioctlSetInt(fd, n.constants.TUNSETCARRIER, on ? 1 : 0));
}

/** Offloads the reader can take (TUNSETOFFLOAD); all need a vnet header to be useful. */
export interface OffloadFlags {
  /** The reader handles partial checksums (TUN_F_CSUM); the TSO/USO bits need it. */
  csum?: boolean;
  tso4?: boolean;
  tso6?: boolean;
  tsoEcn?: boolean;
  ufo?: boolean;
  uso4?: boolean;
  uso6?: boolean;
}

const OFFLOAD_KEYS = ['csum', 'tso4', 'tso6', 'tsoEcn', 'ufo', 'uso4', 'uso6'] as const;
type OffloadKey = (typeof OFFLOAD_KEYS)[number];

function offloadBit(key: OffloadKey): number {
  const c = loadNative().constants;
  switch (key) {
    case 'csum': return c.TUN_F_CSUM;
    case 'tso4': return c.TUN_F_TSO4;
    case 'tso6': return c.TUN_F_TSO6;
    case 'tsoEcn': return c.TUN_F_TSO_ECN;
    case 'ufo': return c.TUN_F_UFO;
    case 'uso4': return c.TUN_F_USO4;
    case 'uso6': return c.TUN_F_USO6;
  }
}

/**
 * The TUN_F_* mask for an {@link OffloadFlags} object.
 *
 * @example
 * ```ts
 * offloadMask({ csum: true, tso4: true }); // 0x3
 * ```
 */
export function offloadMask(flags: OffloadFlags): number {
  assertOptions(flags, 'offload flag', OFFLOAD_KEYS);
  let mask = 0;
  for (const key of OFFLOAD_KEYS) {
    const v = flags[key];
    if (v === undefined) continue;
    assertBool(v, key);
    if (v) mask |= offloadBit(key);
  }
  return mask;
}

/**
 * Set the device-wide offload mask (TUNSETOFFLOAD): which kinds of large or
 * checksum-less packets the reader accepts. Unknown bits fail with EINVAL. The mask
 * survives re-attach; `{}` clears it.
 *
 * @returns the mask that was set.
 * @example
 * ```ts
 * const fd = tunctl.create('tun0', { mode: 'tun', vnetHdr: true }).fd;
 * tunctl.offload(fd, { csum: true, tso4: true, tso6: true });
 * ```
 */
export function offload(fd: number, flags: OffloadFlags | number): number {
  assertFd(fd);
  let mask: number;
  if (typeof flags === 'number') {
    assertInt(flags, 'offload mask', 0, 0xffff);
    mask = flags;
  } else {
    mask = offloadMask(flags);
  }
  const n = loadNative();
  sys(() => n.ioctlValue(fd, n.constants.TUNSETOFFLOAD, mask));
  return mask;
}

/**
 * Probe which offloads the kernel accepts on this device, one at a time (each TSO/USO
 * bit together with `csum`, which it needs). Leaves the offload mask cleared.
 *
 * @example
 * ```ts
 * const ok = tunctl.offloadSupport(fd); // { csum: true, tso4: true, ..., uso4: true }
 * ```
 */
export function offloadSupport(fd: number): Required<OffloadFlags> {
  assertFd(fd);
  const n = loadNative();
  const result = {} as Required<OffloadFlags>;
  const csum = offloadBit('csum');
  for (const key of OFFLOAD_KEYS) {
    const mask = key === 'csum' ? csum : csum | offloadBit(key);
    try {
      n.ioctlValue(fd, n.constants.TUNSETOFFLOAD, mask);
      result[key] = true;
    } catch (err) {
      if ((err as { errno?: number }).errno !== 22 /* EINVAL */) throw toTunError(err);
      result[key] = false;
    }
  }
  sys(() => n.ioctlValue(fd, n.constants.TUNSETOFFLOAD, 0));
  return result;
}

/** What TUNGETIFF says of an fd's device. */
export interface TunInfo extends TunFeatures {
  readonly name: string;
  readonly mode: TunMode;
  readonly persist: boolean;
}

/**
 * Name and flags of the device behind `fd` (TUNGETIFF).
 *
 * @example
 * ```ts
 * const { name, mode, persist } = tunctl.info(fd);
 * ```
 */
export function info(fd: number): TunInfo {
  assertFd(fd);
  const n = loadNative();
  const { name, flags } = sys(() => n.getIff(fd));
  return {
    ...decodeFeatures(flags),
    name,
    mode: flags & n.constants.IFF_TAP ? 'tap' : 'tun',
    persist: (flags & n.constants.IFF_PERSIST) !== 0,
  };
}

/**
 * Re-enable a queue of a multi-queue device that was detached (TUNSETQUEUE).
 *
 * @example
 * ```ts
 * tunctl.detachQueue(fd2); // the kernel stops steering packets to fd2
 * tunctl.attachQueue(fd2);
 * ```
 */
export function attachQueue(fd: number): void {
  assertFd(fd);
  const n = loadNative();
  sys(() => n.setQueue(fd, n.constants.IFF_ATTACH_QUEUE));
}

/**
 * Disable one queue of a multi-queue device without closing its fd (TUNSETQUEUE).
 *
 * @example
 * ```ts
 * tunctl.detachQueue(fd);
 * ```
 */
export function detachQueue(fd: number): void {
  assertFd(fd);
  const n = loadNative();
  sys(() => n.setQueue(fd, n.constants.IFF_DETACH_QUEUE));
}

/**
 * Only let frames to these destination MACs (plus broadcast) reach the reader of a
 * tap (TUNSETTXFILTER). `allMulticast` also passes every multicast frame. An empty
 * list with no flags turns the filter off.
 *
 * @example
 * ```ts
 * tunctl.txFilter(fd, ['02:00:00:00:00:01']);
 * ```
 */
export function txFilter(fd: number, macs: readonly (string | Uint8Array)[], opts: { allMulticast?: boolean } = {}): void {
  assertFd(fd);
  if (!Array.isArray(macs)) throw new TypeError('macs must be an array of MAC addresses');
  assertOptions(opts, 'txFilter option', ['allMulticast']);
  const all = opts.allMulticast ?? false;
  assertBool(all, 'allMulticast');
  const buf = new Uint8Array(6 * macs.length);
  macs.forEach((m, i) => buf.set(parseMac(m), 6 * i));
  const n = loadNative();
  sys(() => n.setTxFilter(fd, all ? 1 /* TUN_FLT_ALLMULTI */ : 0, buf));
}

/** One classic BPF instruction (`struct sock_filter`). */
export interface BpfInstruction {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

/**
 * Encode classic BPF instructions as the kernel's `struct sock_filter` array.
 *
 * @example
 * ```ts
 * encodeBpf([{ code: 0x06, jt: 0, jf: 0, k: 0xffff }]); // "accept all"
 * ```
 */
export function encodeBpf(program: readonly BpfInstruction[]): Uint8Array {
  if (!Array.isArray(program)) throw new TypeError('a BPF program must be an array of { code, jt, jf, k }');
  if (program.length === 0 || program.length > 4096) throw new RangeError(`a BPF program has 1 to 4096 instructions, got ${program.length}`);
  const buf = new Uint8Array(8 * program.length);
  const view = new DataView(buf.buffer);
  const le = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  program.forEach((ins, i) => {
    assertInt(ins.code, `program[${i}].code`, 0, 0xffff);
    assertInt(ins.jt, `program[${i}].jt`, 0, 0xff);
    assertInt(ins.jf, `program[${i}].jf`, 0, 0xff);
    assertInt(ins.k, `program[${i}].k`, 0, UINT32_MAX);
    view.setUint16(8 * i, ins.code, le);
    view.setUint8(8 * i + 2, ins.jt);
    view.setUint8(8 * i + 3, ins.jf);
    view.setUint32(8 * i + 4, ins.k, le);
  });
  return buf;
}

/**
 * Attach a classic BPF filter to a tap (TUNATTACHFILTER): frames for which it returns
 * 0 are dropped before they reach the reader. Pass instructions or the encoded bytes.
 *
 * @example
 * ```ts
 * // drop everything:
 * tunctl.attachFilter(fd, [{ code: 0x06, jt: 0, jf: 0, k: 0 }]);
 * ```
 */
export function attachFilter(fd: number, program: readonly BpfInstruction[] | Uint8Array): void {
  assertFd(fd);
  const bytes = program instanceof Uint8Array ? program : encodeBpf(program);
  assertBytes(bytes, 'program');
  if (bytes.length === 0 || bytes.length % 8 !== 0) throw new RangeError('an encoded BPF program is a non-empty multiple of 8 bytes');
  const n = loadNative();
  sys(() => n.attachFilter(fd, bytes));
}

/**
 * Remove the classic BPF filter of a tap (TUNDETACHFILTER).
 *
 * @example
 * ```ts
 * tunctl.detachFilter(fd);
 * ```
 */
export function detachFilter(fd: number): void {
  assertFd(fd);
  const n = loadNative();
  sys(() => n.detachFilter(fd));
}

/**
 * Set the size of the vnet header that prefixes each packet (TUNSETVNETHDRSZ): 10, or 12.
 *
 * @example
 * ```ts
 * tunctl.vnetHdrSize(fd, 12);
 * ```
 */
export function setVnetHdrSize(fd: number, size: 10 | 12): void {
  assertFd(fd);
  if (size !== 10 && size !== 12) throw new RangeError(`vnet header size must be 10 or 12, got ${String(size)}`);
  const n = loadNative();
  sys(() => n.ioctlSetInt(fd, n.constants.TUNSETVNETHDRSZ, size));
}

/**
 * The size of the vnet header that prefixes each packet (TUNGETVNETHDRSZ).
 *
 * @example
 * ```ts
 * tunctl.vnetHdrSize(fd); // 10
 * ```
 */
export function vnetHdrSize(fd: number): number {
  assertFd(fd);
  const n = loadNative();
  return sys(() => n.ioctlGetInt(fd, n.constants.TUNGETVNETHDRSZ));
}
