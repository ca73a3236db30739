/**
 * OTP-style supervision for `tunctl`: a generic {@link Supervisor} over anything that
 * follows the small {@link Child} contract.
 *
 * @example
 * ```ts
 * import { Supervisor } from './supervisor/index.js';
 * const sup = await Supervisor.start({ strategy: 'one_for_one', children: [spec] });
 * ```
 *
 * @module
 */
export * from './backoff.js';
export * from './child.js';
export * from './childSpec.js';
export * from './clock.js';
export * from './restartIntensity.js';
export * from './shutdownChild.js';
export * from './strategy.js';
export * from './supervisor.js';
export * from './supervisorError.js';
export * from './supervisorEvent.js';
export * from './supervisorOptions.js';
export * from './supervisorResult.js';
