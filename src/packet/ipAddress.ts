/**
 * IPv4/IPv6 addresses as text and as bytes, prefixes and IPv4 netmasks.
 *
 * Parsing is strict: what is accepted is what `ip addr` would print, so that a typo
 * fails loudly instead of configuring the wrong address.
 *
 * @module
 */
import { describeValue, quote, requireBytes } from './requireBytes.js';

/**
 * An IP address in network byte order.
 *
 * @example
 * ```ts
 * const a: IpAddress = parseIp('198.18.0.1'); // { family: 4, bytes: Uint8Array [198, 18, 0, 1] }
 * ```
 */
export interface IpAddress {
  family: 4 | 6;
  /** 4 bytes for IPv4, 16 for IPv6. */
  bytes: Uint8Array;
}

/**
 * An address with an optional prefix length, as in `198.18.0.1/24`.
 *
 * @example
 * ```ts
 * const c: Cidr = parseCidr('fd00::1/64'); // { family: 6, bytes, prefix: 64 }
 * ```
 */
export interface Cidr extends IpAddress {
  /** The prefix length, or `undefined` when the text had no `/`. */
  prefix: number | undefined;
}

const DECIMAL_OCTET = /^(?:0|[1-9][0-9]{0,2})$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

function badIp(text: string, why: string): RangeError {
  return new RangeError(`${quote(text)} is not a valid IP address: ${why}`);
}

function parseIpv4Into(text: string, whole: string, out: Uint8Array, at: number): void {
  const parts = text.split('.');
  if (parts.length !== 4) throw badIp(whole, `IPv4 needs 4 dot-separated numbers (like 192.0.2.1), got ${parts.length}`);
  for (let i = 0; i < 4; i++) {
    const part = parts[i]!;
    if (!DECIMAL_OCTET.test(part)) {
      throw badIp(
        whole,
        `IPv4 part ${quote(part)} must be a decimal number 0-255 without leading zeros (leading zeros are read as octal by some tools)`,
      );
    }
    const n = Number(part);
    if (n > 255) throw badIp(whole, `IPv4 part ${part} is over 255`);
    out[at + i] = n;
  }
}

function parseIpv6(text: string): Uint8Array {
  const out = new Uint8Array(16);
  const gap = text.indexOf('::');
  if (gap !== -1 && text.indexOf('::', gap + 1) !== -1) throw badIp(text, '"::" may appear only once');
  const head = gap === -1 ? text : text.slice(0, gap);
  const tail = gap === -1 ? '' : text.slice(gap + 2);
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === '' ? [] : tail.split(':');
  const lastGroups = gap === -1 ? headGroups : tailGroups;
  const last = lastGroups[lastGroups.length - 1];
  // An embedded IPv4 address (`::ffff:1.2.3.4`) takes the place of the last two groups.
  let v4: string | undefined;
  if (last !== undefined && last.includes('.')) {
    v4 = last;
    lastGroups.pop();
  }
  const groups = headGroups.length + tailGroups.length + (v4 === undefined ? 0 : 2);
  if (gap === -1 && groups !== 8) {
    throw badIp(text, `IPv6 needs 8 groups of hex digits or "::" for a run of zeros, got ${groups} groups`);
  }
  // "::" must stand for at least one zero group (RFC 4291 section 2.2).
  if (gap !== -1 && groups > 7) throw badIp(text, `IPv6 has ${groups} groups besides "::"; at most 7 are allowed`);
  const write = (list: string[], at: number): void => {
    for (let i = 0; i < list.length; i++) {
      const g = list[i]!;
      if (!HEX_GROUP.test(g)) {
        throw badIp(text, g === '' ? 'IPv6 has an empty group (a stray ":")' : `IPv6 group ${quote(g)} is not 1-4 hex digits`);
      }
      const n = parseInt(g, 16);
      out[at + 2 * i] = n >> 8;
      out[at + 2 * i + 1] = n & 0xff;
    }
  };
  write(headGroups, 0);
  const tailStart = 16 - 2 * tailGroups.length - (v4 === undefined ? 0 : 4);
  if (gap !== -1) write(tailGroups, tailStart);
  if (v4 !== undefined) parseIpv4Into(v4, text, out, 12);
  return out;
}

/**
 * Parses an IPv4 or IPv6 address.
 *
 * IPv4 must be a dotted quad of decimal numbers 0-255 without leading zeros. IPv6
 * may use `::` once and may end in an embedded IPv4 address (`::ffff:192.0.2.1`).
 * Zone ids (`fe80::1%eth0`), brackets, prefixes and whitespace are rejected.
 *
 * @param text - the address
 * @returns the family and a new array of 4 or 16 bytes
 * @throws TypeError when `text` is not a string; RangeError when it is not a valid address
 * @example
 * ```ts
 * parseIp('198.18.0.1'); // { family: 4, bytes: Uint8Array [198, 18, 0, 1] }
 * parseIp('fd00::1').bytes[15]; // 1
 * ```
 */
export function parseIp(text: string): IpAddress {
  if (typeof text !== 'string') {
    throw new TypeError(`parseIp(text) must be a string such as "192.0.2.1" or "fd00::1", got ${describeValue(text)}`);
  }
  if (text.includes('%')) {
    throw badIp(text, 'zone ids ("%eth0") are not supported; give the address alone and pass the interface separately');
  }
  if (text.includes('/')) throw badIp(text, 'it has a prefix length; use parseCidr for "address/prefix"');
  if (text.includes(':')) return { family: 6, bytes: parseIpv6(text) };
  if (text.includes('.')) {
    const bytes = new Uint8Array(4);
    parseIpv4Into(text, text, bytes, 0);
    return { family: 4, bytes };
  }
  throw badIp(text, 'expected IPv4 like 192.0.2.1 or IPv6 like fd00::1');
}

/**
 * Formats an address given as bytes: dotted quad for 4 bytes, RFC 5952 canonical text
 * for 16 (lower case, no leading zeros, the longest run of two or more zero groups as
 * `::`, IPv4-mapped addresses as `::ffff:a.b.c.d`).
 *
 * @param bytes - 4 or 16 bytes in network order
 * @returns the address as text
 * @throws TypeError when `bytes` is not a `Uint8Array`; RangeError when it is not 4 or 16 bytes long
 * @example
 * ```ts
 * formatIp(Uint8Array.of(198, 18, 0, 1)); // '198.18.0.1'
 * formatIp(parseIp('2001:0db8:0:0:0:0:0:0001').bytes); // '2001:db8::1'
 * ```
 */
export function formatIp(bytes: Uint8Array): string {
  requireBytes(bytes, 'formatIp(bytes)');
  if (bytes.length === 4) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
  if (bytes.length !== 16) {
    throw new RangeError(`formatIp(bytes) needs 4 bytes (IPv4) or 16 bytes (IPv6), got ${bytes.length}`);
  }
  let mapped = bytes[10] === 0xff && bytes[11] === 0xff;
  for (let i = 0; i < 10 && mapped; i++) if (bytes[i] !== 0) mapped = false;
  if (mapped) return `::ffff:${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}`;

  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i]! << 8) | bytes[i + 1]!);
  let bestStart = -1;
  let bestLen = 1; // a single zero group is never compressed
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (list: number[]): string => list.map((g) => g.toString(16)).join(':');
  if (bestStart === -1) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLen))}`;
}

/**
 * Throws unless `prefix` is a valid prefix length for the family.
 *
 * @param family - 4 or 6
 * @param prefix - the prefix length to check
 * @returns `prefix`
 * @throws TypeError when `prefix` is not a number; RangeError when `family` is not 4 or 6 or
 *   `prefix` is not an integer from 0 to 32 (IPv4) or 0 to 128 (IPv6)
 * @example
 * ```ts
 * checkPrefix(4, 24); // 24
 * checkPrefix(4, 33); // throws RangeError
 * ```
 */
export function checkPrefix(family: 4 | 6, prefix: number): number {
  if (family !== 4 && family !== 6) throw new RangeError(`checkPrefix: family must be 4 or 6, got ${String(family)}`);
  const max = family === 4 ? 32 : 128;
  if (typeof prefix !== 'number') {
    throw new TypeError(`prefix length must be a number from 0 to ${max}, got ${describeValue(prefix)}`);
  }
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max) {
    throw new RangeError(`IPv${family} prefix length must be an integer from 0 to ${max}, got ${prefix}`);
  }
  return prefix;
}

/**
 * Parses `address/prefix` (`198.18.0.1/24`, `fd00::1/64`) or a bare address. Host bits
 * may be set: this describes an interface address, not only a network.
 *
 * @param text - the address, optionally followed by `/` and a decimal prefix length
 * @returns the family, a new byte array, and the prefix (`undefined` without `/`)
 * @throws TypeError when `text` is not a string; RangeError when the address or prefix is invalid
 * @example
 * ```ts
 * parseCidr('198.18.0.1/24').prefix; // 24
 * parseCidr('fd00::1').prefix;       // undefined
 * ```
 */
export function parseCidr(text: string): Cidr {
  if (typeof text !== 'string') {
    throw new TypeError(`parseCidr(text) must be a string such as "192.0.2.1/24", got ${describeValue(text)}`);
  }
  const slash = text.indexOf('/');
  if (slash === -1) return { ...parseIp(text), prefix: undefined };
  const { family, bytes } = parseIp(text.slice(0, slash));
  const prefixText = text.slice(slash + 1);
  if (!/^(?:0|[1-9][0-9]{0,2})$/.test(prefixText)) {
    throw new RangeError(
      `${quote(text)}: prefix length ${quote(prefixText)} must be a decimal number from 0 to ${family === 4 ? 32 : 128}`,
    );
  }
  return { family, bytes, prefix: checkPrefix(family, Number(prefixText)) };
}

/**
 * Resolves an address given as text or bytes to bytes, optionally requiring a family.
 *
 * @param addr - text (parsed with {@link parseIp}) or 4/16 bytes (returned as is)
 * @param family - the family required, if any
 * @param what - how the address is named in error messages, e.g. `'src'`
 * @returns the address bytes
 * @throws TypeError when `addr` is neither; RangeError when it is invalid or of the other family
 * @example
 * ```ts
 * ipBytes('198.18.0.1', 4, 'src'); // Uint8Array [198, 18, 0, 1]
 * ipBytes('fd00::1', 4, 'src');    // throws RangeError: src "fd00::1" is IPv6, but IPv4 is needed
 * ```
 */
export function ipBytes(addr: string | Uint8Array, family?: 4 | 6, what = 'address'): Uint8Array {
  let bytes: Uint8Array;
  if (typeof addr === 'string') {
    bytes = parseIp(addr).bytes;
  } else if (addr instanceof Uint8Array) {
    if (addr.length !== 4 && addr.length !== 16) {
      throw new RangeError(`${what} must be 4 bytes (IPv4) or 16 bytes (IPv6), got ${addr.length} bytes`);
    }
    bytes = addr;
  } else {
    throw new TypeError(`${what} must be an IP address string or a Uint8Array, got ${describeValue(addr)}`);
  }
  const got = bytes.length === 4 ? 4 : 6;
  if (family !== undefined && got !== family) {
    const shown = typeof addr === 'string' ? `${quote(addr)} ` : '';
    throw new RangeError(`${what} ${shown}is IPv${got}, but IPv${family} is needed`);
  }
  return bytes;
}

function ipv4ToU32(addr: string | Uint8Array, what: string): number {
  const b = ipBytes(addr, 4, what);
  return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
}

function u32ToBytes(n: number): Uint8Array {
  return Uint8Array.of(n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
}

function mask32(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/**
 * The IPv4 netmask for a prefix length.
 *
 * @param prefix - 0 to 32
 * @returns a new 4-byte netmask
 * @throws TypeError/RangeError as {@link checkPrefix}
 * @example
 * ```ts
 * formatIp(prefixToNetmask4(20)); // '255.255.240.0'
 * ```
 */
export function prefixToNetmask4(prefix: number): Uint8Array {
  return u32ToBytes(mask32(checkPrefix(4, prefix)));
}

/**
 * The prefix length of an IPv4 netmask.
 *
 * @param bytes - the netmask as 4 bytes or as text (`'255.255.255.0'`)
 * @returns 0 to 32
 * @throws TypeError when `bytes` is neither; RangeError when it is not an IPv4 address or its
 *   one bits are not contiguous from the top
 * @example
 * ```ts
 * netmaskToPrefix4(Uint8Array.of(255, 255, 255, 0)); // 24
 * netmaskToPrefix4('255.0.255.0');                   // throws RangeError
 * ```
 */
export function netmaskToPrefix4(bytes: Uint8Array | string): number {
  const mask = ipv4ToU32(bytes, 'netmask');
  const hostBits = ~mask >>> 0;
  // Contiguous iff the host part is of the form 0…01…1.
  if ((hostBits & (hostBits + 1)) !== 0) {
    throw new RangeError(
      `netmask ${formatIp(u32ToBytes(mask))} is not contiguous: its one bits must all come before its zero bits (like 255.255.255.0)`,
    );
  }
  let prefix = 32;
  for (let h = hostBits; h !== 0; h >>>= 1) prefix--;
  return prefix;
}

/**
 * The IPv4 broadcast address of the network `addr/prefix` (all host bits set).
 *
 * @param addr - any address in the network, as text or 4 bytes
 * @param prefix - 0 to 32
 * @returns a new 4-byte address
 * @throws TypeError/RangeError when `addr` is not IPv4 or `prefix` is invalid
 * @example
 * ```ts
 * formatIp(broadcast4('198.18.0.1', 24)); // '198.18.0.255'
 * ```
 */
export function broadcast4(addr: Uint8Array | string, prefix: number): Uint8Array {
  const a = ipv4ToU32(addr, 'broadcast4(addr)');
  return u32ToBytes((a | ~mask32(checkPrefix(4, prefix))) >>> 0);
}

/**
 * The IPv4 network address of `addr/prefix` (all host bits cleared).
 *
 * @param addr - any address in the network, as text or 4 bytes
 * @param prefix - 0 to 32
 * @returns a new 4-byte address
 * @throws TypeError/RangeError when `addr` is not IPv4 or `prefix` is invalid
 * @example
 * ```ts
 * formatIp(network4('198.18.0.77', 24)); // '198.18.0.0'
 * ```
 */
export function network4(addr: Uint8Array | string, prefix: number): Uint8Array {
  const a = ipv4ToU32(addr, 'network4(addr)');
  return u32ToBytes((a & mask32(checkPrefix(4, prefix))) >>> 0);
}
