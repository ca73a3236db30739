/**
 * Argument checks run before any native call: wrong types raise `TypeError`, wrong
 * values `RangeError`, each saying what was given and what is accepted.
 *
 * @module
 */

/** Longest interface name the kernel takes (IFNAMSIZ - 1). */
export const IFNAME_MAX_BYTES = 15;

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (value === null || value === undefined || typeof value !== 'object') return String(value);
  return Object.prototype.toString.call(value);
}

/**
 * Check an interface name: a string of 1 to 15 bytes (UTF-8) with no `/`, `:`,
 * whitespace or NUL, not `.` or `..`; `%d` (once) lets the kernel pick a number.
 *
 * @example
 * ```ts
 * assertIfname('tun0');   // ok
 * assertIfname('a/b');    // throws RangeError
 * ```
 */
export function assertIfname(name: unknown, what = 'interface name'): asserts name is string {
  if (typeof name !== 'string') throw new TypeError(`${what} must be a string, got ${show(name)}`);
  if (name.trim().length === 0) throw new RangeError(`${what} must not be empty or only whitespace, got ${show(name)}`);
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes > IFNAME_MAX_BYTES) {
    throw new RangeError(`${what} ${show(name)} is ${bytes} bytes long; Linux allows at most ${IFNAME_MAX_BYTES}`);
  }
  if (/[\s/:\0]/u.test(name)) {
    throw new RangeError(`${what} ${show(name)} must not contain '/', ':', whitespace or NUL`);
  }
  if (name === '.' || name === '..') throw new RangeError(`${what} must not be '.' or '..'`);
  const percents = name.split('%').length - 1;
  if (percents > 1 || (percents === 1 && !name.includes('%d'))) {
    throw new RangeError(`${what} ${show(name)} may hold '%' only as a single '%d' (the kernel's number)`);
  }
}

/**
 * Check a file descriptor: a non-negative integer.
 *
 * @example
 * ```ts
 * assertFd(3);
 * ```
 */
export function assertFd(fd: unknown): asserts fd is number {
  if (typeof fd !== 'number') throw new TypeError(`fd must be a number, got ${show(fd)}`);
  if (!Number.isInteger(fd) || fd < 0 || fd > 0x7fffffff) {
    throw new RangeError(`fd must be a non-negative integer, got ${fd}`);
  }
}

/**
 * Check an integer within `[min, max]`.
 *
 * @example
 * ```ts
 * assertInt(1500, 'mtu', 68, 65535);
 * ```
 */
export function assertInt(value: unknown, what: string, min: number, max: number): asserts value is number {
  if (typeof value !== 'number') throw new TypeError(`${what} must be a number, got ${show(value)}`);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${what} must be an integer from ${min} to ${max}, got ${value}`);
  }
}

/**
 * Check a boolean.
 *
 * @example
 * ```ts
 * assertBool(true, 'persist');
 * ```
 */
export function assertBool(value: unknown, what: string): asserts value is boolean {
  if (typeof value !== 'boolean') throw new TypeError(`${what} must be true or false, got ${show(value)}`);
}

/**
 * Check a byte buffer (Buffer or any Uint8Array).
 *
 * @example
 * ```ts
 * assertBytes(Buffer.alloc(4), 'packet');
 * ```
 */
export function assertBytes(value: unknown, what: string): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) throw new TypeError(`${what} must be a Buffer or Uint8Array, got ${show(value)}`);
}

/**
 * Check a string option.
 *
 * @example
 * ```ts
 * assertString('/var/run/netns/blue', 'netns');
 * ```
 */
export function assertString(value: unknown, what: string): asserts value is string {
  if (typeof value !== 'string') throw new TypeError(`${what} must be a string, got ${show(value)}`);
  if (value.length === 0 || value.includes('\0')) throw new RangeError(`${what} must be a non-empty string without NUL`);
}

/**
 * Refuse an option given as `null`: it is not "absent" (that is a key left out, or
 * `undefined`), so it must not fall through a `??` to the default. (`Tuncer` options; the
 * low-level `tunctl.create` documents `null` as "default" for its mode and flags.)
 *
 * @example
 * ```ts
 * assertNoNullOptions({ noCarrier: null }, 'create option'); // TypeError
 * ```
 */
export function assertNoNullOptions(value: object | undefined, what: string): void {
  if (value === undefined) return;
  for (const [key, v] of Object.entries(value)) {
    if (v === null) throw new TypeError(`${what} '${key}' must not be null: leave it out for its default`);
  }
}

/**
 * Check that an options argument is a plain object (or undefined), and that it holds
 * no keys other than `known`: a misspelt option is an error, not a silent default.
 *
 * @example
 * ```ts
 * assertOptions({ mode: 'tun' }, 'create options', ['mode', 'noPi']);
 * ```
 */
export function assertOptions(value: unknown, what: string, known: readonly string[]): asserts value is object | undefined {
  if (value === undefined) return;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TypeError(`${what} must be an object, got ${show(value)}`);
  }
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) throw new TypeError(`unknown ${what} '${key}'; known: ${known.join(', ')}`);
  }
}
