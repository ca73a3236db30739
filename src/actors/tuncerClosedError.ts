/**
 * The error of every call on an interface that has ended.
 * @module
 */
import type { TuncerExitReason } from './tuncerMachine.js';

/**
 * Raised to pending `recv`, `send` and control calls when the interface ends, and by
 * calls made after it ended (or while it stops).
 *
 * @example
 * ```ts
 * try { await tun.recv(); } catch (e) { if (e instanceof TuncerClosedError) console.log('interface ended'); }
 * ```
 */
export class TuncerClosedError extends Error {
  readonly code = 'ERR_TUNCER_CLOSED';
  constructor(name: string, reason: TuncerExitReason) {
    super(`interface ${name} has ended (${reason instanceof Error ? reason.message : reason})`, { cause: reason instanceof Error ? reason : undefined });
    this.name = 'TuncerClosedError';
  }
}
