/**
 * What a {@link Tuncer} is created with, and the checks that run before any thread or
 * syscall: every option is validated here, in TypeScript, so bad input fails with a
 * `TypeError`/`RangeError` and nothing is left behind.
 *
 * @module
 */
import type { Logger } from 'pino';
import type { PacketBatch } from './packetBatch.js';
import { PacketRing } from './packetRing.js';
import { parseAddressSpec, type AddressSpec, type TuncerRoute, type WorkerConfig } from './messages.js';
import { checkRouteSpec } from '../tunctl/routes.js';
import { iffFlags, type CreateOptions } from '../tunctl/create.js';
import { info, type TunInfo } from '../tunctl/fdControl.js';
import { assertBool, assertFd, assertIfname, assertInt, assertNoNullOptions, assertOptions, assertString } from '../tunctl/validate.js';
import { loadNative } from '../native/binding.js';
import { MTU_RANGE } from '../tunctl/netif.js';
import { MAX_PACKET } from '../tunctl/packetIo.js';
import { parseIp, checkPrefix } from '../packet/ipAddress.js';
import { parseMac, isMulticastMac } from '../packet/mac.js';
import { checkOffloadSetting, type OffloadSetting } from '../tunctl/offloadSetting.js';

/**
 * gen_tcp's active modes: `true` every packet, `false` none (read with `recv`), `'once'`
 * one, or a number N that adds N to the packets still to deliver.
 *
 * @example
 * ```ts
 * const mode: ActiveMode = 10;
 * ```
 */
export type ActiveMode = boolean | 'once' | number;

/**
 * Options of {@link Tuncer.create}.
 *
 * @example
 * ```ts
 * const opts: TuncerOptions = { name: 'tun0', mode: 'tun', addresses: ['198.18.0.1/24'], active: true };
 * ```
 */
export interface TuncerOptions extends CreateOptions {
  /** Device name; empty or with `%d` lets the kernel choose. */
  name?: string;
  /** Keep the device after the interface ends (re-attached by name next time). */
  persist?: boolean;
  /** uid allowed to attach without CAP_NET_ADMIN. */
  owner?: number;
  /** gid allowed to attach without CAP_NET_ADMIN. */
  group?: number;
  mtu?: number;
  txqueuelen?: number;
  /** MAC address of a tap. */
  hwaddr?: string;
  /** Addresses to configure, e.g. `['198.18.0.1/24', 'fd00::1/64']`; giving any brings the link up. */
  addresses?: readonly AddressSpec[];
  /** Bring the link up even without addresses (default: true when addresses or routes are given). */
  up?: boolean;
  /**
   * Routes through the interface, added after its addresses (which brings the link up):
   * `'198.18.9.0/24'` or `{ dst, via?, metric?, table? }`. Like `addresses`, they are
   * configured at every start, so a supervised interface comes back with them.
   */
  routes?: readonly (string | TuncerRoute)[];
  /** Delivery mode (default `false`): see {@link Tuncer.setopt}. */
  active?: ActiveMode;
  /** A pino logger; each interface logs through a child with `{ ifname }`. Default: silent. */
  logger?: Logger;
  /** Bytes of shared memory for packets from the kernel (default 1 MiB). */
  rxRingBytes?: number;
  /** Bytes of shared memory for packets to the kernel (default 256 KiB). */
  txRingBytes?: number;
  /** How long start-up and each control call may take before failing (default 10 000 ms). */
  timeoutMs?: number;
  /**
   * Debugging aid: overwrite each released {@link PacketBatch} with `0xdb` bytes, so a packet
   * view kept past its batch's release shows garbage at once instead of, sometimes, a later
   * packet. Costs a fill per batch; default false.
   */
  poisonReleased?: boolean;
  /**
   * Offloads, set up at each start (so also after a supervisor's restart), with `vnetHdr: true`:
   * `'auto'` takes all the kernel accepts, falling back (with a warn log) where it refuses TSO,
   * USO or GRO writes (EINVAL/EIO); `{ tcp, udp }` chooses; `false` clears the offload mask.
   * Left out, a mask left on a device re-attached without a vnet header is still cleared.
   */
  offload?: OffloadSetting;
  /**
   * Adopt this open TUN/TAP fd instead of creating a device: one from `tunctl.receiveFd`
   * (a privileged helper made it), or from `tunctl.create`. It is checked with TUNGETIFF
   * first (a `TunError` then leaves it with the caller); once the options are valid the
   * interface owns it: its worker closes it on every exit path, and the caller must not
   * close it. The device's name and flags come from the fd, so `name`, `mode` and the
   * other create flags are refused with it. Packet I/O needs no capability; `addresses`,
   * `mtu`, `up` and the like still need CAP_NET_ADMIN.
   */
  fd?: number;
  /**
   * Number of queues (default 1), each an fd of its own opened and owned by a worker thread
   * of its own, with its own rings: more than 1 makes an `IFF_MULTI_QUEUE` device (so
   * `multiQueue` need not be given, and cannot be false) and merges the queues' packets on
   * `packets$`, `batches$` and `recv()`. At most {@link MAX_QUEUES}, the kernel's limit. Not
   * with `fd`. See the README's "Multi-queue interfaces".
   */
  queues?: number;
}

/**
 * Most queues a multi-queue device has: the kernel's `MAX_TAP_QUEUES` (drivers/net/tun.c),
 * beyond which attaching a queue fails with E2BIG.
 *
 * @example
 * ```ts
 * await Tuncer.create({ mode: 'tun', queues: Math.min(os.availableParallelism(), MAX_QUEUES) });
 * ```
 */
export const MAX_QUEUES = 256;

/**
 * Options as the interface uses them: checked, defaulted, with the rings allocated.
 *
 * @example
 * ```ts
 * const cfg: TuncerConfig = resolveTuncerOptions({ mode: 'tun' });
 * ```
 */
export interface TuncerConfig extends WorkerConfig {
  readonly active: ActiveMode;
  readonly timeoutMs: number;
  readonly logger: Logger | undefined;
  readonly poisonReleased: boolean;
  /** Queues of the interface: 1, or more for a multi-queue device. */
  readonly queues: number;
}

const OPTION_KEYS = [
  'name', 'mode', 'noPi', 'vnetHdr', 'vnetHdrSize', 'multiQueue', 'exclusive', 'oneQueue', 'noCarrier', 'persist', 'owner', 'group',
  'netns', 'mtu', 'txqueuelen', 'hwaddr', 'addresses', 'routes', 'up', 'active', 'logger', 'rxRingBytes', 'txRingBytes', 'timeoutMs', 'poisonReleased',
  'offload',
  'fd', 'queues',
] as const;

/** Options that say how to create a device: meaningless for one adopted by `fd`. */
const CREATE_ONLY_KEYS = ['name', 'mode', 'noPi', 'vnetHdr', 'vnetHdrSize', 'multiQueue', 'exclusive', 'oneQueue', 'noCarrier'] as const;

/** Check an fd to adopt: an integer, no create options beside it, a TUN/TAP device (TUNGETIFF). */
function checkAdoptedFd(opts: TuncerOptions, fd: unknown): TunInfo {
  assertFd(fd);
  const clash = CREATE_ONLY_KEYS.filter((key) => opts[key] !== undefined);
  if (clash.length > 0) {
    throw new TypeError(`fd adopts an existing device, whose name and flags come from the fd: drop ${clash.join(', ')}`);
  }
  return info(fd);
}

/** Most packets the worker reads per readiness event before yielding to its event loop. */
const READ_BATCH = 256;

/**
 * Check a delivery mode: `true`, `false`, `'once'` or an integer from -32768 to 32767.
 *
 * @example
 * ```ts
 * checkActive('twice'); // throws RangeError
 * ```
 */
export function checkActive(mode: unknown): asserts mode is ActiveMode {
  if (mode === true || mode === false || mode === 'once') return;
  if (typeof mode === 'number' && Number.isInteger(mode) && mode >= -32768 && mode <= 32767) return;
  throw new RangeError(`active must be true, false, 'once' or an integer from -32768 to 32767, got ${JSON.stringify(mode)}`);
}

function checkLogger(logger: unknown): void {
  const l = logger as Record<string, unknown> | null;
  if (l === null || typeof l !== 'object' || typeof l.child !== 'function' || typeof l.info !== 'function' || typeof l.error !== 'function') {
    throw new TypeError('logger must be a pino logger (an object with child, info and error methods)');
  }
}

/**
 * Validate {@link TuncerOptions} and fill in the defaults; throws `TypeError`/`RangeError`
 * naming the bad option (or a `TunError` for an `fd` that is not a TUN/TAP device).
 * Allocates the two packet rings. With a valid `fd`, takes it over from this thread.
 *
 * @example
 * ```ts
 * const cfg = resolveTuncerOptions({ mode: 'tun', mtu: 1400 });
 * cfg.create.mode; // 'tun'
 * ```
 */
export function resolveTuncerOptions(opts: TuncerOptions): TuncerConfig {
  assertOptions(opts, 'Tuncer option', OPTION_KEYS);
  assertNoNullOptions(opts, 'Tuncer option');
  const adopted = opts.fd === undefined ? undefined : checkAdoptedFd(opts, opts.fd);
  const queues = opts.queues ?? 1;
  assertInt(queues, 'queues', 1, MAX_QUEUES);
  if (queues > 1 && opts.fd !== undefined) throw new TypeError('queues adds queues to a device it creates or attaches by name; it cannot be given with fd');
  if (queues > 1 && opts.multiQueue === false) throw new TypeError(`queues: ${queues} needs a multi-queue device: drop multiQueue: false`);
  const name = adopted?.name ?? opts.name ?? '';
  if (name !== '') assertIfname(name);
  const create: Omit<CreateOptions, 'netns'> = {
    mode: adopted?.mode ?? opts.mode ?? 'tap',
    noPi: opts.noPi ?? true,
    vnetHdr: opts.vnetHdr ?? false,
    multiQueue: opts.multiQueue ?? queues > 1,
    exclusive: opts.exclusive ?? false,
    oneQueue: opts.oneQueue ?? false,
    noCarrier: opts.noCarrier ?? false,
    ...(opts.vnetHdrSize !== undefined ? { vnetHdrSize: opts.vnetHdrSize } : {}),
  };
  iffFlags(create);
  if (opts.netns !== undefined) assertString(opts.netns, 'netns');
  if (opts.persist !== undefined) assertBool(opts.persist, 'persist');
  if (opts.owner !== undefined) assertInt(opts.owner, 'owner', 0, 0xfffffffe);
  if (opts.group !== undefined) assertInt(opts.group, 'group', 0, 0xfffffffe);
  if (opts.mtu !== undefined) assertInt(opts.mtu, 'mtu', MTU_RANGE.min, MTU_RANGE.max);
  if (opts.txqueuelen !== undefined) assertInt(opts.txqueuelen, 'txqueuelen', 0, 0x7fffffff);
  if (opts.hwaddr !== undefined && isMulticastMac(parseMac(opts.hwaddr))) {
    throw new RangeError(`hwaddr ${opts.hwaddr} is a multicast address; an interface needs a unicast MAC`);
  }
  if (opts.logger !== undefined) checkLogger(opts.logger);
  if (opts.addresses !== undefined && !Array.isArray(opts.addresses)) throw new TypeError('addresses must be an array');
  const addresses = (opts.addresses ?? []).map((spec) => {
    const a = parseAddressSpec(spec);
    const { family } = parseIp(a.address);
    if (a.prefix !== undefined) checkPrefix(family, a.prefix);
    return a;
  });
  if (opts.routes !== undefined && !Array.isArray(opts.routes)) throw new TypeError('routes must be an array');
  const routes = (opts.routes ?? []).map((r): TuncerRoute => {
    const route: TuncerRoute = typeof r === 'string' ? { dst: r } : r;
    if (route === null || typeof route !== 'object') throw new TypeError(`a route is a CIDR string or { dst, via?, metric?, table? }, got ${JSON.stringify(r)}`);
    assertOptions(route, 'route field', ['dst', 'via', 'metric', 'table']);
    checkRouteSpec({ ...route, dev: 'placeholder' }, 'route'); // the device: this interface
    return { ...route };
  });
  if (opts.up !== undefined) assertBool(opts.up, 'up');
  const active = opts.active ?? false;
  checkActive(active);
  const rxBytes = opts.rxRingBytes ?? 1 << 20;
  const txBytes = opts.txRingBytes ?? 1 << 18;
  assertInt(rxBytes, 'rxRingBytes', 4 * MAX_PACKET, 1 << 30);
  assertInt(txBytes, 'txRingBytes', 2 * MAX_PACKET, 1 << 30);
  const timeoutMs = opts.timeoutMs ?? 10_000;
  assertInt(timeoutMs, 'timeoutMs', 1, 0x7fffffff);
  if (opts.poisonReleased !== undefined) assertBool(opts.poisonReleased, 'poisonReleased');
  if (opts.offload !== undefined) checkOffloadSetting(opts.offload, create.vnetHdr === true);
  // Valid: from here the interface owns the fd. This thread stops tracking it, so its
  // teardown cannot close it under the worker, which tracks it from its start.
  if (opts.fd !== undefined) loadNative().untrackFd(opts.fd);
  return {
    name,
    create,
    netns: opts.netns,
    persist: opts.persist,
    owner: opts.owner,
    group: opts.group,
    mtu: opts.mtu,
    txqueuelen: opts.txqueuelen,
    hwaddr: opts.hwaddr,
    addresses,
    routes,
    up: opts.up ?? (addresses.length > 0 || routes.length > 0),
    rx: PacketRing.allocate(rxBytes & ~3),
    tx: PacketRing.allocate(txBytes & ~3),
    maxRecord: MAX_PACKET,
    batch: READ_BATCH,
    active,
    timeoutMs,
    logger: opts.logger,
    poisonReleased: opts.poisonReleased ?? false,
    queues,
    offload: opts.offload,
    watch: true,
    ...(opts.fd !== undefined ? { adoptFd: opts.fd } : {}),
  };
}

/**
 * The config of queue `index` (1..queues-1) of a multi-queue interface whose queue 0 runs
 * with `cfg`: it attaches to the device queue 0 made, by the name the kernel gave it, and
 * configures nothing device-wide (queue 0 did). Its rings are its own, and it stays passive:
 * the interface's delivery merges every queue.
 *
 * @example
 * ```ts
 * const q1 = queueConfig(cfg, 'tun3', 1);
 * ```
 */
export function queueConfig(cfg: TuncerConfig, name: string, index: number): TuncerConfig {
  const { exclusive: _e, ...create } = cfg.create;
  return {
    ...cfg,
    name,
    create: { ...create, multiQueue: true },
    persist: undefined,
    owner: undefined,
    group: undefined,
    mtu: undefined,
    txqueuelen: undefined,
    hwaddr: undefined,
    addresses: [],
    routes: [],
    up: false,
    offload: undefined,
    watch: false,
    rx: PacketRing.allocate(new PacketRing(cfg.rx).capacity),
    tx: PacketRing.allocate(new PacketRing(cfg.tx).capacity),
    active: false,
    queues: 1,
    logger: cfg.logger?.child({ queue: index }),
  };
}

/** Most packets in one batch by default: what the worker reads per readiness event, four times. */
export const DEFAULT_BATCH_MAX = 1024;
/** Most packets one batch may ask for. */
const BATCH_MAX = 65536;

/**
 * Check the options of a passive receive and give its limit: `size` for `recv` (bytes, at
 * most and by default `MAX_PACKET`), `max` for `recvBatch`/`batches` (packets, by default
 * {@link DEFAULT_BATCH_MAX}, at most 65536). Bad options give the `TypeError`/`RangeError`
 * naming them, returned rather than thrown so a Promise-returning call can reject with it.
 *
 * @example
 * ```ts
 * receiveLimit({ max: 0 }, 'recvBatch'); // a RangeError: max must be ...
 * ```
 */
export function receiveLimit(opts: { size?: number; max?: number; signal?: AbortSignal }, call: 'recv' | 'recvBatch' | 'batches'): number | Error {
  const key = call === 'recv' ? 'size' : 'max';
  try {
    assertOptions(opts, `${call} option`, call === 'batches' ? [key] : [key, 'signal']);
    const value = opts[key] ?? (key === 'size' ? MAX_PACKET : DEFAULT_BATCH_MAX);
    assertInt(value, key, 1, key === 'size' ? MAX_PACKET : BATCH_MAX);
    return value;
  } catch (err) {
    return err as Error;
  }
}
