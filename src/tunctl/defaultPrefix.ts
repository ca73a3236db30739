/**
 * The prefix an address gets when none is given.
 *
 * @module
 */

/**
 * Prefix used by {@link up} and {@link addAddress} when none is given: /24 for IPv4 and
 * /64 for IPv6, so the far end of a two-ended tunnel (any address in the same /24 or
 * /64) is reachable through the device. (The Erlang original used /32, which left the
 * peer unreachable.)
 *
 * @example
 * ```ts
 * tunctl.DEFAULT_PREFIX[6]; // 64
 * ```
 */
export const DEFAULT_PREFIX = { 4: 24, 6: 64 } as const;
