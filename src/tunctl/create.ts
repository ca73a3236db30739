import { loadNative } from '../native/binding.js';
import { sys } from '../native/tunError.js';
import { assertBool, assertIfname, assertOptions, assertString } from './validate.js';

/** `'tun'` moves IP packets (layer 3), `'tap'` Ethernet frames (layer 2). */
export type TunMode = 'tun' | 'tap';

/**
 * Options of {@link create}. Defaults follow the Erlang original: a tap without the
 * 4-byte packet-information header.
 */
export interface CreateOptions {
  /** `'tun'` or `'tap'` (default `'tap'`). */
  mode?: TunMode;
  /** Leave out the 4-byte `tun_pi` header on each packet (default `true`). */
  noPi?: boolean;
  /** Prefix each packet with a `virtio_net_hdr` (IFF_VNET_HDR; default `false`). */
  vnetHdr?: boolean;
  /** Size of that header: 10, or 12 for the v1 layout with `num_buffers` (default: the kernel's, 10). */
  vnetHdrSize?: 10 | 12;
  /** A multi-queue device: each `create` of the same name adds a queue fd (IFF_MULTI_QUEUE). */
  multiQueue?: boolean;
  /** Fail with EBUSY if the name exists already (IFF_TUN_EXCL). */
  exclusive?: boolean;
  /** IFF_ONE_QUEUE: accepted for compatibility, no effect on kernels since 3.8. */
  oneQueue?: boolean;
  /** Create the device with its carrier off (IFF_NO_CARRIER). */
  noCarrier?: boolean;
  /** Open the device inside the network namespace at this path (`/var/run/netns/NAME`, `/proc/PID/ns/net`). */
  netns?: string;
}

const CREATE_KEYS = ['mode', 'noPi', 'vnetHdr', 'vnetHdrSize', 'multiQueue', 'exclusive', 'oneQueue', 'noCarrier', 'netns'] as const;

/** An open TUN/TAP queue: its non-blocking, close-on-exec fd and the kernel's name for the device. */
export interface TunHandle {
  readonly fd: number;
  readonly name: string;
}

/**
 * Compute the `IFF_*` flags for {@link CreateOptions}, after validating them.
 *
 * @example
 * ```ts
 * iffFlags({ mode: 'tun' }); // IFF_TUN | IFF_NO_PI
 * ```
 */
export function iffFlags(opts: CreateOptions = {}): number {
  assertOptions(opts, 'create option', CREATE_KEYS);
  const c = loadNative().constants;
  const mode = opts.mode ?? 'tap';
  if (mode !== 'tun' && mode !== 'tap') throw new RangeError(`mode must be 'tun' or 'tap', got ${JSON.stringify(mode)}`);
  let flags = mode === 'tun' ? c.IFF_TUN : c.IFF_TAP;
  const bit = (key: 'noPi' | 'vnetHdr' | 'multiQueue' | 'exclusive' | 'oneQueue' | 'noCarrier', value: number, dflt: boolean): void => {
    const v = opts[key] ?? dflt;
    assertBool(v, key);
    if (v) flags |= value;
  };
  bit('noPi', c.IFF_NO_PI, true);
  bit('vnetHdr', c.IFF_VNET_HDR, false);
  bit('multiQueue', c.IFF_MULTI_QUEUE, false);
  bit('exclusive', c.IFF_TUN_EXCL, false);
  bit('oneQueue', c.IFF_ONE_QUEUE, false);
  bit('noCarrier', c.IFF_NO_CARRIER, false);
  if (opts.vnetHdrSize !== undefined) {
    if (opts.vnetHdrSize !== 10 && opts.vnetHdrSize !== 12) throw new RangeError(`vnetHdrSize must be 10 or 12, got ${String(opts.vnetHdrSize)}`);
    if (!(flags & c.IFF_VNET_HDR)) throw new RangeError('vnetHdrSize needs vnetHdr: true');
  }
  if (opts.netns !== undefined) assertString(opts.netns, 'netns');
  return flags;
}

/**
 * Create a TUN/TAP device, or attach to an existing (persistent or multi-queue) one of
 * that name. With no name, or a name holding `%d`, the kernel picks one (`tap0`, `tun3`).
 * The returned fd is non-blocking and close-on-exec; closing it removes a device
 * that is not persistent.
 *
 * @throws TypeError / RangeError for bad arguments, before any system call.
 * @throws TunError (`EPERM` without CAP_NET_ADMIN, `EBUSY` for `exclusive` on a taken name,
 *   `EINVAL` for flags that do not match an existing device).
 * @example
 * ```ts
 * const { fd, name } = tunctl.create('tun%d', { mode: 'tun' });
 * tunctl.up(name, '198.18.0.1', 24);
 * // ...
 * tunctl.close(fd);
 * ```
 */
export function create(name: string = '', opts: CreateOptions = {}): TunHandle {
  if (name !== '') assertIfname(name);
  const flags = iffFlags(opts);
  const native = loadNative();
  const fd = sys(() => native.openTun(opts.netns ?? null), name || undefined);
  try {
    const actual = sys(() => native.setIff(fd, name, flags), name || undefined);
    if (opts.vnetHdrSize !== undefined) {
      const size = opts.vnetHdrSize;
      sys(() => native.ioctlSetInt(fd, native.constants.TUNSETVNETHDRSZ, size), actual);
    }
    return { fd, name: actual };
  } catch (err) {
    native.close(fd);
    throw err;
  }
}

/** The `IFF_*` features this kernel's TUN driver offers (TUNGETFEATURES). */
export interface TunFeatures {
  /** The raw flag word. */
  readonly flags: number;
  readonly tun: boolean;
  readonly tap: boolean;
  readonly noPi: boolean;
  readonly oneQueue: boolean;
  readonly vnetHdr: boolean;
  readonly multiQueue: boolean;
  readonly exclusive: boolean;
  readonly napi: boolean;
  readonly napiFrags: boolean;
  readonly noCarrier: boolean;
}

/**
 * Ask the kernel which TUN/TAP flags it supports (TUNGETFEATURES on a fresh fd).
 *
 * @example
 * ```ts
 * if (tunctl.features().multiQueue) tunctl.create('mq0', { mode: 'tun', multiQueue: true });
 * ```
 */
export function features(): TunFeatures {
  const native = loadNative();
  const c = native.constants;
  const fd = sys(() => native.openTun(null));
  try {
    const flags = sys(() => native.ioctlGetInt(fd, c.TUNGETFEATURES));
    return decodeFeatures(flags);
  } finally {
    native.close(fd);
  }
}

/**
 * Decode an `IFF_*` flag word.
 *
 * @example
 * ```ts
 * decodeFeatures(0x1001).noPi; // true
 * ```
 */
export function decodeFeatures(flags: number): TunFeatures {
  const c = loadNative().constants;
  return {
    flags,
    tun: (flags & c.IFF_TUN) !== 0,
    tap: (flags & c.IFF_TAP) !== 0,
    noPi: (flags & c.IFF_NO_PI) !== 0,
    oneQueue: (flags & c.IFF_ONE_QUEUE) !== 0,
    vnetHdr: (flags & c.IFF_VNET_HDR) !== 0,
    multiQueue: (flags & c.IFF_MULTI_QUEUE) !== 0,
    exclusive: (flags & c.IFF_TUN_EXCL) !== 0,
    napi: (flags & c.IFF_NAPI) !== 0,
    napiFrags: (flags & c.IFF_NAPI_FRAGS) !== 0,
    noCarrier: (flags & c.IFF_NO_CARRIER) !== 0,
  };
}

