/**
 * What the main thread and an interface's worker thread say to each other. Control
 * only: packets never travel as messages (they go through {@link PacketRing}s).
 *
 * @module
 */
import { TunError } from '../native/tunError.js';
import type { CreateOptions } from '../tunctl/create.js';
import type { OffloadSetting } from '../tunctl/offloadSetting.js';

/** An address to configure: `'198.18.0.1/24'`, `'fd00::1'` (default prefix), or an object. */
export type AddressSpec = string | { address: string; prefix?: number };

/** Everything the worker needs to open and configure its device. */
export interface WorkerConfig {
  readonly name: string;
  readonly create: Omit<CreateOptions, 'netns'>;
  readonly netns: string | undefined;
  readonly persist: boolean | undefined;
  readonly owner: number | undefined;
  readonly group: number | undefined;
  readonly mtu: number | undefined;
  readonly txqueuelen: number | undefined;
  readonly hwaddr: string | undefined;
  readonly addresses: readonly { address: string; prefix: number | undefined }[];
  /** Routes through the device, added after the addresses (the link is then up). */
  readonly routes: readonly TuncerRoute[];
  readonly up: boolean;
  readonly rx: SharedArrayBuffer;
  readonly tx: SharedArrayBuffer;
  /** Largest packet (with headers) a read can return. */
  readonly maxRecord: number;
  /** Most packets read per readiness event before yielding to the worker's event loop. */
  readonly batch: number;
  /** Offloads to set up at start (`tunctl.setupOffload`); undefined: only clear a stale mask. */
  readonly offload?: OffloadSetting | undefined;
  /** An open TUN/TAP fd to adopt instead of creating a device; the worker owns it from its start. */
  readonly adoptFd?: number;
  /** Watch the device over rtnetlink (events, deletion). Queues 1..N-1 do not: queue 0 watches the device for all. */
  readonly watch: boolean;
}

/** Calls the worker makes on the device's fd. */
export const FD_OPS = [
  'persist', 'owner', 'group', 'carrier', 'offload', 'offloadSupport', 'info', 'txFilter',
  'attachFilter', 'detachFilter', 'attachQueue', 'detachQueue', 'setVnetHdrSize', 'vnetHdrSize',
] as const;
/** Calls the worker makes on the device's name, in the device's network namespace. */
export const NAME_OPS = [
  'up', 'down', 'link', 'removeAddress', 'dstaddr', 'broadcast', 'ipv4', 'netmask', 'setNetmask',
  'mtu', 'setMtu', 'txqueuelen', 'setTxqueuelen', 'hwaddr', 'setHwaddr', 'ifindex', 'ifFlags',
] as const;
/** A call made on the device's fd. */
export type FdOp = (typeof FD_OPS)[number];
/** A call made on the device's name. */
export type NameOp = (typeof NAME_OPS)[number];
/** Requests beyond the tunctl calls: shut down, report counters, inject a fault. */
export type SpecialOp = 'close' | 'abandon' | 'stats' | 'fault';
/** The faults `Tuncer.injectFault` can make a worker take. */
export type FaultKind = 'throw' | 'hang' | 'exit' | 'fatal';

/** Main → worker. */
export interface WorkerRequest {
  readonly id: number;
  readonly op: FdOp | NameOp | SpecialOp;
  readonly args: readonly unknown[];
}

/**
 * Main → worker: serve the interface this config describes (a worker serves one at a time).
 *
 * @example
 * ```ts
 * worker.postMessage({ type: 'start', config } satisfies WorkerStart);
 * ```
 */
export interface WorkerStart {
  readonly type: 'start';
  readonly config: WorkerConfig;
}

/**
 * Everything the main thread sends a worker.
 *
 * @example
 * ```ts
 * port.on('message', (msg: WorkerInbound) => ('type' in msg ? start(msg.config) : handle(msg)));
 * ```
 */
export type WorkerInbound = WorkerStart | WorkerRequest;

/** Counters kept by the worker. */
export interface WorkerStats {
  rxPackets: number;
  rxBytes: number;
  txPackets: number;
  txBytes: number;
  txErrors: number;
  /** Times the worker stopped reading because the main thread's ring was full. */
  rxPauses: number;
  /** Times the worker, having read its fd empty, handed the reads to the main thread. */
  rxHandovers: number;
  /** Packets the kernel dropped because its queue for this device was full (tx_dropped); -1 if unknown. */
  kernelDrops: number;
}

/** An error made fit to cross threads (structured clone drops an Error's own fields). */
export interface WireError {
  readonly name: string;
  readonly message: string;
  readonly errno?: number;
  readonly syscall?: string;
  readonly ifname?: string;
  readonly stack?: string;
}

/** Worker → main. */
export type WorkerMessage =
  | { readonly type: 'booted' }
  /** The worker is loading modules (the offload probes) / is done: the pool does not terminate it in between. */
  | { readonly type: 'loading' }
  | { readonly type: 'loaded' }
  | { readonly type: 'ready'; readonly name: string; readonly flags: number; readonly fd: number; readonly created: boolean }
  | { readonly type: 'reply'; readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly type: 'reply'; readonly id: number; readonly ok: false; readonly error: WireError }
  | { readonly type: 'fatal'; readonly phase: 'start' | 'run'; readonly error: WireError }
  /** A line for the interface's logger (the worker has none of its own). */
  | { readonly type: 'log'; readonly level: 'info' | 'warn'; readonly msg: string; readonly data: Record<string, unknown> }
  /** The kernel changed the link or its addresses (from outside, or by a control call). */
  | { readonly type: 'event'; readonly event: DeviceEvent };

/**
 * A change of the device the kernel reported (rtnetlink), as `Tuncer.events$` shows it.
 *
 * @example
 * ```ts
 * const e: DeviceEvent = { type: 'link', up: false, running: false, mtu: 1400 };
 * ```
 */
export type DeviceEvent =
  | { readonly type: 'link'; readonly up: boolean; readonly running: boolean; readonly mtu: number }
  | { readonly type: 'address'; readonly op: 'add' | 'del'; readonly address: string; readonly prefix: number };

/**
 * A route an interface keeps: `dst` through this interface, optionally via a gateway.
 *
 * @example
 * ```ts
 * const r: TuncerRoute = { dst: '198.18.9.0/24', via: '198.18.0.2', metric: 10 };
 * ```
 */
export interface TuncerRoute {
  readonly dst: string;
  readonly via?: string;
  readonly metric?: number;
  readonly table?: number;
}

/**
 * Flatten an error for `postMessage`.
 *
 * @example
 * ```ts
 * parentPort.postMessage({ type: 'fatal', phase: 'run', error: toWire(err) });
 * ```
 */
export function toWire(err: unknown): WireError {
  if (err instanceof TunError) {
    return { name: err.name, message: err.message, errno: err.errno, syscall: err.syscall, ifname: err.ifname, stack: err.stack };
  }
  if (err instanceof Error) return { name: err.name, message: err.message, stack: err.stack };
  return { name: 'Error', message: String(err) };
}

/**
 * Rebuild an error sent with {@link toWire}: a `TunError`, `TypeError`, `RangeError` or `Error`.
 *
 * @example
 * ```ts
 * worker.on('message', (m) => { if (m.type === 'fatal') reject(fromWire(m.error)); });
 * ```
 */
export function fromWire(w: WireError): Error {
  let err: Error;
  if (w.name === 'TunError' && w.errno !== undefined && w.syscall !== undefined) err = new TunError(w.errno, w.syscall, w.ifname);
  else if (w.name === 'TypeError') err = new TypeError(w.message);
  else if (w.name === 'RangeError') err = new RangeError(w.message);
  else {
    err = new Error(w.message);
    if (w.name !== 'Error') err.name = w.name;
  }
  if (w.stack) err.stack = w.stack;
  return err;
}

/**
 * Normalise an address spec.
 *
 * @example
 * ```ts
 * parseAddressSpec('198.18.0.1/30'); // { address: '198.18.0.1', prefix: 30 }
 * ```
 */
export function parseAddressSpec(spec: AddressSpec): { address: string; prefix: number | undefined } {
  if (typeof spec === 'string') {
    const slash = spec.indexOf('/');
    if (slash < 0) return { address: spec, prefix: undefined };
    const prefixText = spec.slice(slash + 1);
    if (!/^\d{1,3}$/.test(prefixText)) throw new RangeError(`bad prefix in address ${JSON.stringify(spec)}`);
    return { address: spec.slice(0, slash), prefix: Number(prefixText) };
  }
  if (spec === null || typeof spec !== 'object' || typeof spec.address !== 'string') {
    throw new TypeError(`an address is a string like '198.18.0.1/24' or { address, prefix }, got ${JSON.stringify(spec)}`);
  }
  return { address: spec.address, prefix: spec.prefix };
}
