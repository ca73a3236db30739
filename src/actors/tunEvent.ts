/**
 * What an interface reports on `events$`, and the states it goes through.
 *
 * @module
 */
import type { TuncerExitReason } from './tuncerMachine.js';
import type { ActiveMode } from './tuncerOptions.js';
import type { DeviceEvent } from './messages.js';

/**
 * What `Tuncer.events$` reports: state changes, up/down, mode changes, the exit, and what
 * the kernel says changed on the device (`link`: up, running, MTU; `address`: added or
 * removed), whoever changed it.
 *
 * @example
 * ```ts
 * tun.events$.subscribe((e: TunEvent) => { if (e.type === 'exit') console.log(e.reason); });
 * ```
 */
export type TunEvent =
  | { type: 'state'; state: TuncerState }
  | { type: 'up'; address?: string; prefix?: number }
  | { type: 'down' }
  | { type: 'active'; mode: ActiveMode }
  | { type: 'passive' }
  | { type: 'exit'; reason: TuncerExitReason }
  | DeviceEvent;

/**
 * Where an interface is in its life; `'active'`/`'passive'` are the running states.
 *
 * @example
 * ```ts
 * if (tun.state === 'passive') await tun.recv();
 * ```
 */
export type TuncerState = 'starting' | 'passive' | 'active' | 'stopping' | 'stopped' | 'failed';
