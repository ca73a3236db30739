/**
 * The `offload` setting of a `Tuncer`, and the part of setting it up that needs no probe
 * (clearing a mask). Kept apart from `probeOffload.ts`, whose GRO write probe brings in the
 * offload engine, so a worker loads that only for an interface that asks for offloads.
 *
 * @module
 */
import { info, offload } from './fdControl.js';
import { assertBool, assertFd, assertOptions } from './validate.js';

/**
 * What {@link probeOffload} wants: TCP segmentation (TSO4/6), UDP segmentation (USO4/6,
 * Linux 6.2), ECN with TSO. Checksum offload (`csum`) comes with any of them.
 *
 * @example
 * ```ts
 * const want: OffloadWant = { tcp: true, udp: true };
 * ```
 */
export interface OffloadWant {
  /** TSO4 and TSO6 (default true). */
  tcp?: boolean;
  /** USO4 and USO6 (default true). */
  udp?: boolean;
  /** TSO_ECN (default false). */
  ecn?: boolean;
}

/**
 * Check an {@link OffloadWant} and fill in its defaults (TCP and UDP on, ECN off).
 *
 * @example
 * ```ts
 * wanted({ udp: false }, 'want'); // { tcp: true, udp: false, ecn: false }
 * ```
 */
export function wanted(want: OffloadWant | undefined, name: string): Required<OffloadWant> {
  assertOptions(want, name, ['tcp', 'udp', 'ecn']);
  const w = { tcp: want?.tcp ?? true, udp: want?.udp ?? true, ecn: want?.ecn ?? false };
  assertBool(w.tcp, 'tcp');
  assertBool(w.udp, 'udp');
  assertBool(w.ecn, 'ecn');
  return w;
}

/**
 * The offloads an interface asks for: `'auto'` (all the kernel takes), `false` (none: the
 * mask is cleared), or TCP and UDP chosen (each default true when the object is given).
 *
 * @example
 * ```ts
 * const setting: OffloadSetting = { tcp: true, udp: false };
 * ```
 */
export type OffloadSetting = 'auto' | false | { tcp?: boolean; udp?: boolean };

/**
 * What {@link setupOffload} did; `warnings` say what was wanted and refused.
 *
 * @example
 * ```ts
 * const r: OffloadSetup = setupOffload(fd, 'auto');
 * for (const w of r.warnings) log.warn(w);
 * ```
 */
export interface OffloadSetup {
  /** The TUN_F_* mask now set; `undefined` when it was left as it was (no setting, vnet header on). */
  readonly mask: number | undefined;
  /** Super-packets the kernel may hand out: TSO4/6, USO4/6. */
  readonly read: { readonly tcp: boolean; readonly udp: boolean };
  /** Coalesced writes the kernel took in {@link probeGroWrite}; `undefined` when untested (see `notes`). */
  readonly write: { readonly tcp: boolean; readonly udp: boolean } | undefined;
  /** Offloads wanted but refused (EINVAL, EIO): fallbacks to log as warnings. */
  readonly warnings: readonly string[];
  /** Other facts worth a log line (nothing to probe, a probe not run). */
  readonly notes: readonly string[];
}

/**
 * Checks an {@link OffloadSetting}.
 *
 * @param value - the option as given
 * @param vnetHdr - whether the device is opened with a vnet header
 * @throws TypeError/RangeError for anything else, or for TCP/UDP asked for without `vnetHdr`
 * @example
 * ```ts
 * checkOffloadSetting({ tcp: true }, true);
 * ```
 */
export function checkOffloadSetting(value: unknown, vnetHdr: boolean): asserts value is OffloadSetting {
  if (value === 'auto' || value === false) return;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TypeError(`offload must be 'auto', false or { tcp?, udp? }, got ${JSON.stringify(value)}`);
  }
  const w = wanted(value, 'offload option');
  if ((w.tcp || w.udp) && !vnetHdr) throw new RangeError('offload needs vnetHdr: true (the kernel describes each super-packet in the vnet header)');
}

/**
 * What `setupOffload` does when it needs no probe: a device without a vnet header gets its
 * mask cleared (one left from an earlier attach would corrupt what is read), `false` clears
 * it too, and no setting leaves it. Undefined when `setting` asks for offloads on a device
 * with a vnet header: that takes the probes of `probeOffload.ts`.
 *
 * @example
 * ```ts
 * const r = setupOffloadUnprobed(fd, false); // { mask: 0, ... }
 * ```
 */
export function setupOffloadUnprobed(fd: number, setting: OffloadSetting | undefined): OffloadSetup | undefined {
  assertFd(fd);
  if (setting !== undefined) checkOffloadSetting(setting, true);
  const none = (notes: string[]): OffloadSetup => ({ mask: 0, read: { tcp: false, udp: false }, write: undefined, warnings: [], notes });
  if (!info(fd).vnetHdr) {
    offload(fd, 0);
    return none(setting === undefined || setting === false ? [] : ['no vnet header: offloads stay off']);
  }
  if (setting === undefined) return { ...none([]), mask: undefined };
  if (setting === false) {
    offload(fd, 0);
    return none([]);
  }
  return undefined;
}

/**
 * Whether setting up `setting` may need the probes (and so the offload engine).
 *
 * @example
 * ```ts
 * offloadNeedsProbes('auto'); // true
 * ```
 */
export function offloadNeedsProbes(setting: OffloadSetting | undefined): boolean {
  return setting !== undefined && setting !== false;
}
