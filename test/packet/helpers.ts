import { expect } from 'vitest';

/** Asserts that `fn` throws exactly `type` (not a subclass elsewhere) with a message matching every pattern. */
export function expectThrows(fn: () => unknown, type: typeof TypeError | typeof RangeError, ...patterns: RegExp[]): void {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught, 'expected a throw').toBeInstanceOf(type);
  expect((caught as Error).constructor).toBe(type);
  for (const pattern of patterns) expect((caught as Error).message).toMatch(pattern);
}

/** Bytes from a hex string; spaces and newlines are ignored. */
export function hex(text: string): Buffer {
  return Buffer.from(text.replace(/\s+/g, ''), 'hex');
}

/** A deterministic pseudo-random generator (mulberry32) so failures reproduce. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` pseudo-random bytes. */
export function randomBytesFrom(rand: () => number, n: number): Buffer {
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(rand() * 256);
  return out;
}
