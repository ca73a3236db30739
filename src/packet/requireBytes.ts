/**
 * Argument checks and zero-copy views shared by the packet helpers.
 *
 * These are building blocks for the other modules in `src/packet`; they are exported
 * so those modules can share them, not as part of the public API.
 *
 * @internal
 * @module
 */

/**
 * Throws a `TypeError` unless `value` is a `Uint8Array` (a `Buffer` is one).
 *
 * @param value - the argument to check
 * @param name - how the argument is named in the error message, e.g. `'parseIcmpEcho(packet)'`
 * @returns `value`, narrowed to `Uint8Array`
 * @throws TypeError when `value` is not a `Uint8Array`
 * @example
 * ```ts
 * const bytes = requireBytes(input, 'header(buf)');
 * ```
 * @internal
 */
export function requireBytes(value: unknown, name: string): Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new TypeError(`${name} must be a Uint8Array or Buffer, got ${describeValue(value)}`);
  }
  return value;
}

/**
 * Throws unless `value` is an integer from 0 to `max` inclusive.
 *
 * @param value - the argument to check
 * @param max - largest accepted value, e.g. `0xffff` for a 16-bit field
 * @param name - how the argument is named in the error message
 * @returns `value`, narrowed to `number`
 * @throws TypeError when `value` is not a number; RangeError when it is not an integer in range
 * @example
 * ```ts
 * const port = requireUint(options.srcPort, 0xffff, 'srcPort');
 * ```
 * @internal
 */
export function requireUint(value: unknown, max: number, name: string): number {
  if (typeof value !== 'number') {
    throw new TypeError(`${name} must be a number (an integer from 0 to ${max}), got ${describeValue(value)}`);
  }
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`${name} must be an integer from 0 to ${max}, got ${value}`);
  }
  return value;
}

/**
 * A `Buffer` viewing `bytes[start, end)` without copying.
 *
 * @param bytes - the bytes to view
 * @param start - first byte of the view
 * @param end - one past the last byte of the view
 * @returns a `Buffer` sharing memory with `bytes`
 * @example
 * ```ts
 * const payload = asBuffer(packet, 20); // everything after a 20-byte header
 * ```
 * @internal
 */
export function asBuffer(bytes: Uint8Array, start = 0, end = bytes.length): Buffer {
  if (Buffer.isBuffer(bytes)) return bytes.subarray(start, end);
  const from = Math.min(Math.max(start, 0), bytes.length);
  const to = Math.min(Math.max(end, from), bytes.length);
  return Buffer.from(bytes.buffer, bytes.byteOffset + from, to - from);
}

/**
 * A short description of a value for error messages: its type and, for small
 * primitives, the value itself.
 *
 * @param value - anything
 * @returns e.g. `'string "abc"'`, `'number 3.5'`, `'undefined'`, `'Array'`
 * @example
 * ```ts
 * describeValue('fd00::1'); // 'string "fd00::1"'
 * ```
 * @internal
 */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return `string ${quote(value)}`;
    case 'number':
    case 'bigint':
    case 'boolean':
      return `${typeof value} ${String(value)}`;
    case 'object': {
      const ctor = (value as { constructor?: { name?: unknown } }).constructor;
      return typeof ctor?.name === 'string' && ctor.name !== '' ? ctor.name : 'object';
    }
    default:
      return typeof value;
  }
}

/**
 * Quotes text for an error message, cutting it short if it is long.
 *
 * @param text - the text to quote
 * @returns the JSON-quoted text, at most about 60 characters
 * @example
 * ```ts
 * quote('1.2.3'); // '"1.2.3"'
 * ```
 * @internal
 */
export function quote(text: string): string {
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 57)}...` : text);
}
