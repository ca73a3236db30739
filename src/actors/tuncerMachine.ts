/**
 * The lifecycle of one interface, as an xstate v5 machine. It decides every step of an
 * interface's life; the worker thread is an invoked actor (a {@link WorkerLink}) that
 * reports what happens as events and carries out the machine's commands.
 *
 * ```
 *  ┌─ alive ── invokes the worker thread (READY, START_FAILED, FAILED, CLOSE_DONE, UNDONE, EXITED) ─┐
 *  │                                                                                               │
 *  │  ┌──────────┐ READY ┌─────────┐ STOP  ┌──────────────── stopping ────────────────┐            │
 *  │  │ starting │──────▶│ running │──────▶│ closing ─CLOSE_DONE, FAILED, KILL,──▶ terminating      │
 *  │  └──────────┘       └─────────┘ KILL ─┼──────────  after closeTimeout ──────────▶  │            │
 *  │   │ │ STOP, KILL,        │ FAILED     └───────────────────────────────────────────┘            │
 *  │   │ │ after startTimeout ▼                                                                    │
 *  │   │ ▼              ┌─────────┐                                                                │
 *  │   │ ┌─ abandoning ─┤ failing │ (terminate)                                                    │
 *  │   │ │ waiting ─READY─▶ undoing ─UNDONE─▶ terminating   (after abandonGrace: terminating)        │
 *  │   │ └──── START_FAILED ──────────────────▲                                                    │
 *  │   └─ START_FAILED, FAILED ──▶ failing                                                         │
 *  └───────────────────────────────────────────────────────────────────────────────────────────────┘
 *      EXITED (the thread is gone, so its fd is closed):
 *        stopping ──▶ stopped (final)      starting, running, failing ──▶ failed (final)
 *        abandoning ──▶ failed if it ends in an error (start timeout), else stopped
 * ```
 * The machine never sees a packet: the hot path lives in `RxDelivery`/`TxQueue`, which
 * only ask whether the interface runs. Effects on the thread run as commands to the
 * invoked actor, never in a callback actor's cleanup (xstate skips that when an actor
 * errors). `Tuncer` follows the snapshots: `running` resolves its start, a final state
 * (reached only once the thread has exited) settles it with `context.reason`.
 *
 * @module
 */
import { assign, fromCallback, sendTo, setup } from 'xstate';
import type { WorkerCommand, WorkerLink, WorkerLinkEvent } from './workerLink.js';

/** Why an interface ended: `'normal'` (destroyed), `'shutdown'` (stopped by its supervisor), `'killed'`, or the error. */
export type TuncerExitReason = 'normal' | 'shutdown' | 'killed' | Error;

/** Events the machine takes: the worker's (through its link) and the interface's own requests. */
export type TuncerEvent = WorkerLinkEvent | { type: 'STOP'; reason: 'normal' | 'shutdown' } | { type: 'KILL' };

/** What the machine remembers. */
export interface TuncerContext {
  readonly link: WorkerLink;
  readonly timeoutMs: number;
  name: string;
  flags: number;
  fd: number;
  reason: TuncerExitReason | undefined;
}

/**
 * How long a start-up that was given up may still run before its worker is terminated.
 *
 * @example
 * ```ts
 * clock.increment(ABANDON_GRACE_MS); // an abandoned start is terminated now
 * ```
 */
export const ABANDON_GRACE_MS = 5000;
/**
 * Longest wait for the worker to close its fd when asked, before it is terminated.
 *
 * @example
 * ```ts
 * const bound = Math.min(timeoutMs, CLOSE_BOUND_MS);
 * ```
 */
export const CLOSE_BOUND_MS = 2000;

const workerActor = fromCallback<WorkerCommand, WorkerLink>(({ input, sendBack, receive }) => {
  input.start(sendBack);
  receive((cmd) => input.command(cmd));
  return () => input.dispose();
});

const exitError = (code: number | null, during: string): Error =>
  new Error(`interface worker exited${code === null ? '' : ` with code ${code}`} ${during}`);

/**
 * The interface lifecycle machine; `Tuncer` runs one actor of it per interface.
 *
 * @example
 * ```ts
 * const actor = createActor(tuncerMachine, { input: { link, timeoutMs: 10_000, name: 'tun0' } });
 * actor.start();                                     // starting: the worker thread is started
 * actor.getSnapshot().matches({ alive: 'running' }); // after READY
 * ```
 */
export const tuncerMachine = setup({
  types: {
    context: {} as TuncerContext,
    events: {} as TuncerEvent,
    input: {} as { link: WorkerLink; timeoutMs: number; name: string },
  },
  actors: { worker: workerActor },
  delays: {
    startTimeout: ({ context }) => context.timeoutMs,
    closeTimeout: ({ context }) => Math.min(context.timeoutMs, CLOSE_BOUND_MS),
    abandonGrace: ABANDON_GRACE_MS,
  },
  actions: {
    close: sendTo('worker', ({ context }): WorkerCommand => ({ type: 'CLOSE', timeoutMs: Math.min(context.timeoutMs, CLOSE_BOUND_MS) })),
    undo: sendTo('worker', (): WorkerCommand => ({ type: 'ABANDON', timeoutMs: ABANDON_GRACE_MS })),
    terminate: sendTo('worker', (): WorkerCommand => ({ type: 'TERMINATE' })),
  },
  guards: {
    endsInError: ({ context }) => context.reason instanceof Error,
  },
}).createMachine({
  id: 'tuncer',
  context: ({ input }) => ({ link: input.link, timeoutMs: input.timeoutMs, name: input.name, flags: 0, fd: -1, reason: undefined }),
  initial: 'alive',
  states: {
    alive: {
      invoke: { id: 'worker', src: 'worker', input: ({ context }) => context.link },
      initial: 'starting',
      states: {
        starting: {
          on: {
            READY: {
              target: 'running',
              actions: assign({ name: ({ event }) => event.name, flags: ({ event }) => event.flags, fd: ({ event }) => event.fd }),
            },
            START_FAILED: { target: 'failing', actions: assign({ reason: ({ event }) => event.error }) },
            FAILED: { target: 'failing', actions: assign({ reason: ({ event }) => event.error }) },
            STOP: { target: 'abandoning', actions: assign({ reason: ({ event }) => event.reason }) },
            KILL: { target: 'abandoning', actions: assign({ reason: 'killed' as const }) },
            EXITED: { target: '#tuncer.failed', actions: assign({ reason: ({ event }) => exitError(event.code, 'while starting') }) },
          },
          after: {
            startTimeout: {
              target: 'abandoning',
              actions: assign({ reason: ({ context }) => new Error(`interface ${context.name || '(new)'} did not start within ${context.timeoutMs} ms`) }),
            },
          },
        },
        running: {
          on: {
            STOP: { target: 'stopping', actions: assign({ reason: ({ event }) => event.reason }) },
            KILL: { target: 'stopping.terminating', actions: assign({ reason: 'killed' as const }) },
            FAILED: { target: 'failing', actions: assign({ reason: ({ event }) => event.error }) },
            EXITED: { target: '#tuncer.failed', actions: assign({ reason: ({ event }) => exitError(event.code, 'unexpectedly') }) },
          },
        },
        stopping: {
          initial: 'closing',
          states: {
            closing: {
              entry: 'close',
              // RELEASED: the fd is closed and the thread went back to the pool, clean.
              on: { RELEASED: '#tuncer.stopped', CLOSE_DONE: 'terminating', FAILED: 'terminating' },
              after: { closeTimeout: 'terminating' },
            },
            terminating: { entry: 'terminate' },
          },
          on: {
            KILL: { target: '.terminating', actions: assign({ reason: 'killed' as const }) },
            EXITED: '#tuncer.stopped',
          },
        },
        abandoning: {
          // The worker's start-up is one synchronous run of ioctls: terminating it part-way
          // could leave a device it just made persistent. Let it finish, then have it undo.
          initial: 'waiting',
          states: {
            waiting: { on: { READY: 'undoing', START_FAILED: 'terminating', FAILED: 'terminating' } },
            undoing: { entry: 'undo', on: { UNDONE: 'terminating', FAILED: 'terminating' } },
            terminating: { entry: 'terminate' },
          },
          after: { abandonGrace: '.terminating' },
          on: {
            EXITED: [{ guard: 'endsInError', target: '#tuncer.failed' }, { target: '#tuncer.stopped' }],
          },
        },
        failing: {
          entry: 'terminate',
          on: { EXITED: '#tuncer.failed' },
        },
      },
    },
    stopped: { type: 'final' },
    failed: { type: 'final' },
  },
});
