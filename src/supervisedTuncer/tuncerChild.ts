/**
 * A child spec for a supervised interface.
 *
 * @module
 */
import { Tuncer, type TuncerOptions } from '../actors/tuncer.js';
import type { ChildSpec, RestartType, ShutdownSpec } from '../supervisor/childSpec.js';
import { TuncerHandle } from './tuncerHandle.js';

/**
 * Options of {@link tuncerChild}: the interface's own options, and how it is supervised.
 *
 * @example
 * ```ts
 * const o: TuncerChildOptions = { name: 'tun0', mode: 'tun', addresses: ['198.18.0.1/24'], shutdown: 2000 };
 * ```
 */
export interface TuncerChildOptions extends TuncerOptions {
  /** Child id (default: the interface name). */
  id?: string;
  restart?: RestartType;
  shutdown?: ShutdownSpec;
  significant?: boolean;
}

/**
 * A child spec that starts an interface with these options, and starts it again with
 * the same options after a failure: same name, mode, flags, addresses, MTU, owner, group
 * and active setting. A persistent device is re-attached by name, not re-created.
 * Its handle (`sup.child(id)`) is a {@link TuncerHandle}; through it, credits (`active: N`
 * or `'once'`) are not renewed by a restart: the handle leaves the new instance passive and
 * emits `passive`, as it does for credits given with its `setopt`.
 *
 * @example
 * ```ts
 * const sup = await Supervisor.start({
 *   strategy: 'one_for_one',
 *   children: [tuncerChild({ name: 'tun0', mode: 'tun', addresses: ['198.18.0.1/24'] })],
 * });
 * const tun0: TuncerHandle = sup.child('tun0');
 * ```
 */
export function tuncerChild(opts: TuncerChildOptions): ChildSpec<Tuncer, [], TuncerHandle> {
  const { id, restart, shutdown, significant, ...tun } = opts;
  if (tun.fd !== undefined) {
    throw new TypeError('a supervised interface cannot adopt an fd: its first exit closes it, so a restart would have none (give it the name of a persistent device its uid owns instead)');
  }
  const childId = id ?? tun.name;
  if (childId === undefined || childId === '' || childId.includes('%')) {
    throw new TypeError('a supervised interface needs an id, or a fixed name to use as one (so it comes back under the same name)');
  }
  return {
    id: childId,
    start: () => Tuncer.create(tun),
    ...(restart !== undefined ? { restart } : {}),
    ...(shutdown !== undefined ? { shutdown } : {}),
    ...(significant !== undefined ? { significant } : {}),
    type: 'worker',
    handle: (sup, handleId) => new TuncerHandle(sup, handleId, { active: tun.active }),
  };
}
