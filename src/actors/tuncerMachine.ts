/**
 * The lifecycle of one interface, as an xstate v5 machine.
 *
 * ```
 *            READY                ┌──────────────── running ────────────────┐
 *  ┌──────────┐ ────────────────▶ │  ┌─────────┐  SETOPT active  ┌────────┐ │
 *  │ starting │                   │  │ passive │ ──────────────▶ │ active │ │
 *  └──────────┘                   │  │         │ ◀────────────── │        │ │
 *      │ START_FAILED             │  └─────────┘ SETOPT false,   └────────┘ │
 *      ▼                          │              PASSIVE (N or once used up)│
 *  ┌────────┐       FAILED        └─────────────────────┬───────────────────┘
 *  │ failed │ ◀────────────────────────────────────────┤ DESTROY / KILL
 *  └────────┘                                          ▼
 *                                  ┌──────────┐  CLOSED  ┌─────────┐
 *                                  │ stopping │ ───────▶ │ stopped │
 *                                  └──────────┘          └─────────┘
 * ```
 * The machine decides; the {@link TuncerRuntime} it is given does the work (spawn
 * the worker, ask it to close, terminate it). Packets never pass through the
 * machine: the hot path lives in `Tuncer`, which only reads the machine's state.
 * Side effects run in entry actions, never in a callback actor's cleanup (xstate does
 * not run that cleanup when an actor errors).
 *
 * @module
 */
import { assign, setup } from 'xstate';

/** gen_tcp's active modes: every packet, none, one, or the next N. */
export type ActiveMode = boolean | 'once' | number;

/** Why an interface ended: `'normal'` (destroyed), `'shutdown'` (stopped by its supervisor), `'killed'`, or the error. */
export type TuncerExitReason = 'normal' | 'shutdown' | 'killed' | Error;

/** The effects the machine asks for. */
export interface TuncerRuntime {
  /** Start the worker thread; it answers with READY or START_FAILED. */
  spawn(): void;
  /** Ask the worker to close the fd and end; CLOSED follows (bounded by a timeout). */
  close(reason: TuncerExitReason): void;
  /** Stop the worker at once (its environment cleanup closes the fd); CLOSED follows. */
  kill(): void;
  /** The worker is gone for good: release what is left (rings, waiters, subjects). */
  finish(reason: TuncerExitReason): void;
}

/** Events the machine takes (from `Tuncer` and the worker's messages). */
export type TuncerEvent =
  | { type: 'READY'; name: string; flags: number; fd: number }
  | { type: 'START_FAILED'; error: Error }
  | { type: 'SETOPT'; active: ActiveMode }
  | { type: 'PASSIVE' }
  | { type: 'DESTROY'; reason: 'normal' | 'shutdown' }
  | { type: 'KILL' }
  | { type: 'FAILED'; error: Error }
  | { type: 'CLOSED' };

/** What the machine remembers: its runtime, the device, the delivery mode and the exit reason. */
export interface TuncerContext {
  runtime: TuncerRuntime;
  name: string;
  flags: number;
  fd: number;
  active: ActiveMode;
  reason: TuncerExitReason | undefined;
}

const isOn = (mode: ActiveMode): boolean => mode === true || mode === 'once' || (typeof mode === 'number' && mode > 0);

/**
 * The interface lifecycle machine; `Tuncer` runs one actor of it per interface.
 *
 * @example
 * ```ts
 * const actor = createActor(tuncerMachine, { input: { runtime, name: 'tun0', active: false } });
 * actor.start();                 // entry of 'starting' calls runtime.spawn()
 * actor.send({ type: 'READY', name: 'tun0', flags: 0x1001, fd: 21 });
 * actor.getSnapshot().value;     // { running: 'passive' }
 * ```
 */
export const tuncerMachine = setup({
  types: {
    context: {} as TuncerContext,
    events: {} as TuncerEvent,
    input: {} as { runtime: TuncerRuntime; name: string; active: ActiveMode },
  },
  actions: {
    spawn: ({ context }) => context.runtime.spawn(),
    close: ({ context }) => context.runtime.close(context.reason ?? 'normal'),
    kill: ({ context }) => context.runtime.kill(),
    finish: ({ context }) => context.runtime.finish(context.reason ?? 'normal'),
  },
  guards: {
    startsActive: ({ context }) => isOn(context.active),
    turnsActive: ({ event }) => event.type === 'SETOPT' && isOn(event.active),
  },
}).createMachine({
  id: 'tuncer',
  context: ({ input }) => ({ runtime: input.runtime, name: input.name, flags: 0, fd: -1, active: input.active, reason: undefined }),
  initial: 'starting',
  states: {
    starting: {
      entry: 'spawn',
      on: {
        READY: {
          target: 'running',
          actions: assign({ name: ({ event }) => event.name, flags: ({ event }) => event.flags, fd: ({ event }) => event.fd }),
        },
        START_FAILED: { target: 'failed', actions: assign({ reason: ({ event }) => event.error }) },
        FAILED: { target: 'failed', actions: assign({ reason: ({ event }) => event.error }) },
        KILL: { target: 'stopping', actions: [assign({ reason: 'killed' as const }), 'kill'] },
      },
    },
    running: {
      initial: 'decide',
      states: {
        decide: { always: [{ guard: 'startsActive', target: 'active' }, { target: 'passive' }] },
        passive: {
          on: { SETOPT: [{ guard: 'turnsActive', target: 'active', actions: assign({ active: ({ event }) => event.active }) }, { actions: assign({ active: false }) }] },
        },
        active: {
          on: {
            SETOPT: [{ guard: 'turnsActive', actions: assign({ active: ({ event }) => event.active }) }, { target: 'passive', actions: assign({ active: false }) }],
            PASSIVE: { target: 'passive', actions: assign({ active: false }) },
          },
        },
      },
      on: {
        DESTROY: { target: 'stopping', actions: [assign({ reason: ({ event }) => event.reason }), 'close'] },
        KILL: { target: 'stopping', actions: [assign({ reason: 'killed' as const }), 'kill'] },
        FAILED: { target: 'failed', actions: assign({ reason: ({ event }) => event.error }) },
      },
    },
    stopping: {
      on: {
        CLOSED: 'stopped',
        FAILED: 'stopped',
        KILL: { actions: [assign({ reason: 'killed' as const }), 'kill'] },
      },
    },
    stopped: { type: 'final', entry: 'finish' },
    failed: { type: 'final', entry: ['kill', 'finish'] },
  },
});
