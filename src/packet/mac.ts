/**
 * Ethernet (MAC) addresses for TAP interfaces.
 *
 * @module
 */
import { describeValue, quote, requireBytes } from './requireBytes.js';

const MAC_TEXT = /^([0-9a-f]{2})([:-])([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})$/i;

/**
 * Parses a MAC address.
 *
 * @param text - `aa:bb:cc:dd:ee:ff` or `aa-bb-cc-dd-ee-ff` (any case, one separator
 *   throughout), or 6 bytes, which are copied
 * @returns a new 6-byte array
 * @throws TypeError when `text` is neither a string nor a `Uint8Array`; RangeError when it is not a MAC address
 * @example
 * ```ts
 * parseMac('02:00:5E:10:00:01'); // Uint8Array [2, 0, 94, 16, 0, 1]
 * ```
 */
export function parseMac(text: string | Uint8Array): Uint8Array {
  if (text instanceof Uint8Array) {
    if (text.length !== 6) throw new RangeError(`a MAC address is 6 bytes, got ${text.length}`);
    return new Uint8Array(text);
  }
  if (typeof text !== 'string') {
    throw new TypeError(`parseMac(text) must be a string like "02:00:00:00:00:01" or 6 bytes, got ${describeValue(text)}`);
  }
  const m = MAC_TEXT.exec(text);
  if (m === null) {
    throw new RangeError(
      `${quote(text)} is not a MAC address; expected six two-digit hex bytes separated by ":" or "-", like 02:00:00:00:00:01`,
    );
  }
  const out = new Uint8Array(6);
  for (let i = 0; i < 6; i++) out[i] = parseInt(m[i === 0 ? 1 : i + 2]!, 16);
  return out;
}

/**
 * Formats a MAC address in lower-case colon form.
 *
 * @param bytes - 6 bytes
 * @returns e.g. `'02:00:5e:10:00:01'`
 * @throws TypeError when `bytes` is not a `Uint8Array`; RangeError when it is not 6 bytes long
 * @example
 * ```ts
 * formatMac(Uint8Array.of(2, 0, 0x5e, 0x10, 0, 1)); // '02:00:5e:10:00:01'
 * ```
 */
export function formatMac(bytes: Uint8Array): string {
  requireBytes(bytes, 'formatMac(bytes)');
  if (bytes.length !== 6) throw new RangeError(`formatMac(bytes) needs 6 bytes, got ${bytes.length}`);
  let s = '';
  for (let i = 0; i < 6; i++) s += (i === 0 ? '' : ':') + bytes[i]!.toString(16).padStart(2, '0');
  return s;
}

/**
 * Whether a MAC address is multicast (the I/G bit, the low bit of the first byte, is
 * set). The broadcast address `ff:ff:ff:ff:ff:ff` counts as multicast.
 *
 * @param mac - 6 bytes or text accepted by {@link parseMac}
 * @returns true for group addresses
 * @throws as {@link parseMac}
 * @example
 * ```ts
 * isMulticastMac('33:33:00:00:00:01'); // true
 * isMulticastMac('02:00:00:00:00:01'); // false
 * ```
 */
export function isMulticastMac(mac: Uint8Array | string): boolean {
  if (mac instanceof Uint8Array && mac.length === 6) return (mac[0]! & 0x01) === 0x01;
  return (parseMac(mac)[0]! & 0x01) === 0x01;
}

/**
 * A random locally administered unicast MAC address: the first byte has the U/L bit
 * (0x02) set and the I/G bit (0x01) clear, so it never collides with a vendor address.
 *
 * @returns a new 6-byte array
 * @example
 * ```ts
 * formatMac(randomLocalMac()); // e.g. '7a:3c:91:0e:55:d2'
 * ```
 */
export function randomLocalMac(): Uint8Array {
  // Web Crypto, loaded on first use: importing node:crypto costs every worker ~0.3 MB.
  const mac = globalThis.crypto.getRandomValues(new Uint8Array(6));
  mac[0] = (mac[0]! & 0xfe) | 0x02;
  return mac;
}
