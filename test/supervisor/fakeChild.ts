/**
 * Test doubles for the supervisor: hand-driven children and a recorder of what happened.
 */
import type { Child, ChildSpec, ExitReason } from '../../src/supervisor/index.js';

/** Behaviour knobs of one fake instance. */
export interface FakeBehaviour {
  /** stop() is recorded but does nothing (the child must be killed). */
  readonly ignoreStop?: boolean;
  /** Reason used when stop() ends the child (default 'shutdown'). */
  readonly stopReason?: ExitReason;
  /** stop() ends the child only after this many ms (needs fake timers). */
  readonly stopDelayMs?: number;
}

/** A child whose life is driven by hand. */
export class FakeChild implements Child {
  readonly exit: Promise<ExitReason>;
  exited = false;
  reason: ExitReason = undefined;
  #resolve: (reason: ExitReason) => void = () => {};

  constructor(
    readonly id: string,
    readonly args: readonly unknown[],
    private readonly log: string[],
    private readonly behaviour: FakeBehaviour = {},
  ) {
    this.exit = new Promise<ExitReason>((resolve) => (this.#resolve = resolve));
  }

  stop(): void {
    this.log.push(`stop:${this.id}`);
    if (this.behaviour.ignoreStop) return;
    const reason = this.behaviour.stopReason ?? 'shutdown';
    if (this.behaviour.stopDelayMs !== undefined) setTimeout(() => this.end(reason), this.behaviour.stopDelayMs);
    else this.end(reason);
  }

  kill(): void {
    this.log.push(`kill:${this.id}`);
    this.end('killed');
  }

  /** Makes the child exit on its own. */
  crash(reason: ExitReason = new Error(`${this.id} crashed`)): void {
    this.end(reason);
  }

  end(reason: ExitReason): void {
    if (this.exited) return;
    this.exited = true;
    this.reason = reason;
    this.#resolve(reason);
  }
}

interface Gate {
  promise: Promise<void>;
  open(): void;
}

/** Makes specs of fake children and records starts, stops and kills in one ordered log. */
export class Harness {
  readonly log: string[] = [];
  readonly instances = new Map<string, FakeChild[]>();
  /** Upcoming start failures per id. */
  readonly failures = new Map<string, number>();
  /** Starts of these ids wait until the gate is opened. */
  readonly gates = new Map<string, Gate>();

  spec(
    id: string,
    extra: Omit<Partial<ChildSpec<FakeChild>>, 'id' | 'start'> & FakeBehaviour = {},
  ): ChildSpec<FakeChild> {
    const { ignoreStop, stopReason, stopDelayMs, ...spec } = extra;
    return { id, ...spec, start: () => this.#start(id, [], { ignoreStop, stopReason, stopDelayMs }) };
  }

  template(id: string, extra: Omit<Partial<ChildSpec<FakeChild>>, 'id' | 'start'> = {}): ChildSpec<FakeChild, unknown[]> {
    return { id, ...extra, start: (...args: unknown[]) => this.#start(`${id}(${args.join(',')})`, args, {}) };
  }

  failNext(id: string, times = 1): void {
    this.failures.set(id, (this.failures.get(id) ?? 0) + times);
  }

  gate(id: string): Gate {
    let open: () => void = () => {};
    const promise = new Promise<void>((resolve) => (open = resolve));
    const gate = { promise, open };
    this.gates.set(id, gate);
    return gate;
  }

  /** Latest instance started under `id`. */
  last(id: string): FakeChild {
    const list = this.instances.get(id);
    const child = list?.[list.length - 1];
    if (child === undefined) throw new Error(`no instance of ${id}`);
    return child;
  }

  count(id: string): number {
    return this.instances.get(id)?.length ?? 0;
  }

  /** Ids of instances that have not exited. */
  alive(): string[] {
    return [...this.instances.values()].flat().filter((c) => !c.exited).map((c) => c.id);
  }

  /** Log entries recorded since `mark` (a length of `log`). */
  since(mark: number): string[] {
    return this.log.slice(mark);
  }

  async #start(id: string, args: readonly unknown[], behaviour: FakeBehaviour): Promise<FakeChild> {
    const gate = this.gates.get(id);
    if (gate !== undefined) {
      this.gates.delete(id);
      await gate.promise;
    }
    const failures = this.failures.get(id) ?? 0;
    if (failures > 0) {
      this.failures.set(id, failures - 1);
      this.log.push(`start_failed:${id}`);
      throw new Error(`${id} failed to start`);
    }
    const child = new FakeChild(id, args, this.log, behaviour);
    this.log.push(`start:${id}`);
    const list = this.instances.get(id) ?? [];
    list.push(child);
    this.instances.set(id, list);
    return child;
  }
}

/** Runs queued microtasks (the supervisor's queue is promise-based). */
export async function flush(rounds = 200): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
}
