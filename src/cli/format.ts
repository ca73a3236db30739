/**
 * Text formatting for the CLI: aligned tables, byte sizes and rates.
 *
 * @module
 */

/**
 * Align rows into columns separated by two spaces; the last column is not padded, so no
 * line ends in spaces. Rows may have fewer cells than others.
 *
 * @example
 * ```ts
 * formatTable([['NAME', 'MODE'], ['tun0', 'tun'], ['tap10', 'tap']]);
 * // ['NAME   MODE', 'tun0   tun', 'tap10  tap']
 * ```
 */
export function formatTable(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ').trimEnd());
}

const UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'] as const;

/** Three significant digits, fewer decimals as the number grows. */
function sig3(n: number): string {
  if (n >= 99.95) return n.toFixed(0);
  if (n >= 9.995) return n.toFixed(1);
  return n.toFixed(2);
}

/**
 * A byte count in SI units (1 kB = 1000 B, as network rates are): `'0 B'`, `'999 B'`,
 * `'1.00 kB'`, `'12.3 MB'`. Bytes are whole; larger units keep three significant digits.
 *
 * @example
 * ```ts
 * formatBytes(1536); // '1.54 kB'
 * ```
 */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) throw new RangeError(`bytes must be a finite number >= 0, got ${bytes}`);
  let value = bytes;
  let unit = 0;
  // Move up a unit once rounding would print 1000 of this one.
  while (unit < UNITS.length - 1 && (unit === 0 ? Math.round(value) >= 1000 : value >= 999.5)) {
    value /= 1000;
    unit += 1;
  }
  return unit === 0 ? `${Math.round(value)} B` : `${sig3(value)} ${UNITS[unit]}`;
}

/**
 * A byte rate: {@link formatBytes} of bytes per second, with `/s`.
 *
 * @example
 * ```ts
 * formatByteRate(2_500_000); // '2.50 MB/s'
 * ```
 */
export function formatByteRate(bytesPerSecond: number): string {
  return `${formatBytes(bytesPerSecond)}/s`;
}

/**
 * A packet rate with three significant digits (whole numbers from 100 up), and `k`/`M`
 * above 10 000: `'0 pkt/s'`, `'2.50 pkt/s'`, `'840 pkt/s'`, `'12.3k pkt/s'`.
 *
 * @example
 * ```ts
 * formatPacketRate(12_345); // '12.3k pkt/s'
 * ```
 */
export function formatPacketRate(packetsPerSecond: number): string {
  const r = packetsPerSecond;
  if (!Number.isFinite(r) || r < 0) throw new RangeError(`rate must be a finite number >= 0, got ${r}`);
  if (r === 0) return '0 pkt/s';
  if (r < 9999.5) return `${sig3(r)} pkt/s`;
  if (r < 9_999_500) return `${sig3(r / 1000)}k pkt/s`;
  return `${sig3(r / 1_000_000)}M pkt/s`;
}

/**
 * Per-second rate of `delta` over `elapsedMs` milliseconds (0 when no time passed).
 *
 * @example
 * ```ts
 * ratePerSecond(50, 500); // 100
 * ```
 */
export function ratePerSecond(delta: number, elapsedMs: number): number {
  return elapsedMs > 0 ? (delta * 1000) / elapsedMs : 0;
}
