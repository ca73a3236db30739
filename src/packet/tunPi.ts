/**
 * `struct tun_pi`: the 4-byte packet-information header the kernel puts in front of
 * every packet on a TUN/TAP fd opened without `IFF_NO_PI`.
 *
 * ```c
 * struct tun_pi { __u16 flags; __be16 proto; };
 * ```
 *
 * @module
 */
import { asBuffer, requireBytes, requireUint } from './requireBytes.js';

/** Size of `struct tun_pi` in bytes. @example `packet.subarray(TUN_PI_SIZE)` */
export const TUN_PI_SIZE = 4;

/**
 * Set by the kernel in {@link TunPi.flags} when the packet did not fit the read buffer
 * and was cut short.
 *
 * @example
 * ```ts
 * if (header(buf).flags & TUN_PKT_STRIP) console.warn('read buffer too small');
 * ```
 */
export const TUN_PKT_STRIP = 0x0001;

/** EtherType of IPv4. @example `buildTunPi(ETH_P_IP)` */
export const ETH_P_IP = 0x0800;
/** EtherType of IPv6. @example `buildTunPi(ETH_P_IPV6)` */
export const ETH_P_IPV6 = 0x86dd;
/** EtherType of ARP. @example `header(buf).proto === ETH_P_ARP` */
export const ETH_P_ARP = 0x0806;

/**
 * A parsed `struct tun_pi` and the packet that follows it.
 *
 * @example
 * ```ts
 * const { proto, payload }: TunPi = header(buf);
 * ```
 */
export interface TunPi {
  /** `TUN_PKT_STRIP` or 0. */
  flags: number;
  /** EtherType of the payload, e.g. {@link ETH_P_IP}. */
  proto: number;
  /** The packet after the header; shares memory with the input. */
  payload: Buffer;
}

// `flags` is a plain __u16 written in host byte order, unlike `proto`.
const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Parses the `struct tun_pi` at the start of `buf`.
 *
 * `flags` is read in host byte order and `proto` in network (big-endian) order, as
 * the kernel writes them. The payload is a view of `buf`, not a copy.
 *
 * @param buf - a packet read from a TUN/TAP fd opened without `IFF_NO_PI`
 * @returns the flags, the EtherType and the payload
 * @throws TypeError when `buf` is not a `Uint8Array`; RangeError when it is shorter than 4 bytes
 * @example
 * ```ts
 * const pi = header(Buffer.from([0, 0, 0x08, 0x00, 0x45]));
 * pi.proto === ETH_P_IP; // true
 * pi.payload;            // <Buffer 45>
 * ```
 */
export function header(buf: Uint8Array): TunPi {
  requireBytes(buf, 'header(buf)');
  if (buf.length < TUN_PI_SIZE) {
    throw new RangeError(
      `header(buf) needs at least ${TUN_PI_SIZE} bytes (struct tun_pi), got ${buf.length}; ` +
        'was the interface opened with IFF_NO_PI?',
    );
  }
  const b0 = buf[0]!;
  const b1 = buf[1]!;
  return {
    flags: HOST_LITTLE_ENDIAN ? b0 | (b1 << 8) : (b0 << 8) | b1,
    proto: (buf[2]! << 8) | buf[3]!,
    payload: asBuffer(buf, TUN_PI_SIZE),
  };
}

/**
 * Builds a 4-byte `struct tun_pi` to put in front of a packet written to a TUN/TAP fd
 * opened without `IFF_NO_PI`.
 *
 * @param proto - EtherType of the packet, e.g. {@link ETH_P_IP}; written big-endian
 * @param flags - header flags, written in host byte order; the kernel ignores them on write
 * @returns a new 4-byte buffer
 * @throws TypeError when an argument is not a number; RangeError when it is not an integer from 0 to 65535
 * @example
 * ```ts
 * buildTunPi(ETH_P_IPV6); // <Buffer 00 00 86 dd>
 * fd.write(Buffer.concat([buildTunPi(ETH_P_IP), ipv4Packet]));
 * ```
 */
export function buildTunPi(proto: number, flags = 0): Buffer {
  requireUint(proto, 0xffff, 'buildTunPi(proto)');
  requireUint(flags, 0xffff, 'buildTunPi(proto, flags)');
  const out = Buffer.allocUnsafe(TUN_PI_SIZE);
  if (HOST_LITTLE_ENDIAN) out.writeUInt16LE(flags, 0);
  else out.writeUInt16BE(flags, 0);
  out.writeUInt16BE(proto, 2);
  return out;
}
