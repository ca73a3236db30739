/**
 * What a supervisor reports, as data (for `events$`) and as pino log lines (OTP-style reports).
 *
 * @module
 */
import type { Logger } from 'pino';
import type { ChildType, ExitReason } from './child.js';

/**
 * Why a supervisor exited:
 * `stop` (asked to), `kill` (killed), `max_intensity` (gave up after too many restarts),
 * `auto_shutdown` (a significant child exited), `start_failed` (a child failed to start
 * during {@link Supervisor.start}).
 *
 * @example
 * ```ts
 * const cause: SupervisorExitCause = 'max_intensity';
 * ```
 */
export type SupervisorExitCause = 'stop' | 'kill' | 'max_intensity' | 'auto_shutdown' | 'start_failed';

/**
 * One thing that happened in a supervisor. Every event names its `supervisor` and, except
 * `supervisor.*`, the child `id`.
 * - `child.started`: an instance is up (`restart` says whether it replaces one);
 * - `child.exited`: an instance is gone; `by: 'self'` when it exited on its own,
 *   `'supervisor'` when the supervisor ended it; `abnormal` marks what OTP reports as an
 *   error (a crash, or an unexpected reason during a shutdown);
 * - `child.restarting`: a restart was decided; `ids` will be started, in order, after `delayMs`;
 * - `child.start_failed`: `start` rejected (or did not give a Child);
 * - `supervisor.max_intensity`: more than `intensity` restarts in `periodMs`: giving up;
 * - `supervisor.exited`: the supervisor is done (last event; `events$` completes after it).
 *
 * @example
 * ```ts
 * sup.events$.subscribe((e) => {
 *   if (e.type === 'child.exited' && e.abnormal) console.error(e.id, e.reason);
 * });
 * ```
 */
export type SupervisorEvent =
  | {
      readonly type: 'child.started';
      readonly supervisor: string;
      readonly id: string;
      readonly childType: ChildType;
      readonly restart: boolean;
    }
  | {
      readonly type: 'child.exited';
      readonly supervisor: string;
      readonly id: string;
      readonly childType: ChildType;
      readonly reason: ExitReason;
      readonly by: 'self' | 'supervisor';
      readonly abnormal: boolean;
    }
  | {
      readonly type: 'child.restarting';
      readonly supervisor: string;
      readonly id: string;
      readonly delayMs: number;
      readonly ids: readonly string[];
    }
  | {
      readonly type: 'child.start_failed';
      readonly supervisor: string;
      readonly id: string;
      readonly cause: unknown;
    }
  | {
      readonly type: 'supervisor.max_intensity';
      readonly supervisor: string;
      readonly id: string;
      readonly intensity: number;
      readonly periodMs: number;
    }
  | {
      readonly type: 'supervisor.exited';
      readonly supervisor: string;
      readonly reason: ExitReason;
      readonly cause: SupervisorExitCause;
    };

function reasonFields(key: 'reason' | 'cause', value: unknown): Record<string, unknown> {
  return value instanceof Error ? { err: value } : { [key]: value };
}

/**
 * Writes one pino line for `event`, in the spirit of OTP supervisor reports (field `report`):
 * `info` for starts (`progress`) and clean exits, `warn` for restarts, `error` for crashes
 * (`child_terminated`), bad shutdowns (`shutdown_error`), failed starts (`start_error`) and
 * giving up (`reached_max_restart_intensity`); `debug` for children the supervisor stopped cleanly.
 * Error reasons go under `err` (pino's error serializer).
 *
 * @example
 * ```ts
 * sup.events$.subscribe((e) => logSupervisorEvent(myLogger, e)); // what Supervisor does with `logger`
 * ```
 */
export function logSupervisorEvent(logger: Logger, event: SupervisorEvent): void {
  const base = { supervisor: event.supervisor, event: event.type };
  switch (event.type) {
    case 'child.started':
      logger.info({ ...base, report: 'progress', child: event.id, childType: event.childType, restart: event.restart }, 'child started');
      return;
    case 'child.exited': {
      const fields = { ...base, child: event.id, childType: event.childType, by: event.by, ...reasonFields('reason', event.reason) };
      if (event.by === 'self') {
        if (event.abnormal) logger.error({ ...fields, report: 'child_terminated' }, 'child terminated abnormally');
        else logger.info(fields, 'child exited');
      } else if (event.abnormal) {
        logger.error({ ...fields, report: 'shutdown_error' }, 'child exited with an unexpected reason during shutdown');
      } else {
        logger.debug(fields, 'child stopped');
      }
      return;
    }
    case 'child.restarting':
      logger.warn({ ...base, child: event.id, delayMs: event.delayMs, restarting: event.ids }, 'restarting child');
      return;
    case 'child.start_failed':
      logger.error({ ...base, report: 'start_error', child: event.id, ...reasonFields('cause', event.cause) }, 'child failed to start');
      return;
    case 'supervisor.max_intensity':
      logger.error(
        { ...base, report: 'reached_max_restart_intensity', child: event.id, intensity: event.intensity, periodMs: event.periodMs },
        'reached max restart intensity, shutting down',
      );
      return;
    case 'supervisor.exited': {
      const fields = { ...base, cause: event.cause, ...reasonFields('reason', event.reason) };
      if (event.cause === 'max_intensity' || event.cause === 'start_failed') logger.error(fields, 'supervisor exited');
      else logger.info(fields, 'supervisor exited');
      return;
    }
  }
}
