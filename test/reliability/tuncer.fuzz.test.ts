/**
 * Property-based fuzzing of `Tuncer.create` options, `tuncerChild` and `Supervisor.start`,
 * without a kernel.
 *
 * `node:worker_threads` is mocked so that starting a worker throws a marker error: an
 * option object that passes validation ends in that marker (it would have reached the
 * worker, and so the kernel), one that does not ends in a `TypeError`/`RangeError`. No
 * worker thread, fd or device is ever made here. The oracle is the documented option list
 * (README, `TuncerOptions`), not the validator it checks.
 */
import { afterAll, describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import { isIP } from 'node:net';
import { pino } from 'pino';
import { bounded } from '../helpers/bounded.js';

class WorkerReached extends Error {
  constructor() {
    super('validation passed: a worker would start here');
  }
}
const marker = vi.hoisted(() => ({ Cls: undefined as undefined | (new () => Error), spawned: 0 }));
marker.Cls = WorkerReached;

vi.mock('node:worker_threads', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:worker_threads')>();
  class NoWorker {
    constructor() {
      marker.spawned += 1;
      const Cls = marker.Cls ?? Error;
      throw new Cls();
    }
  }
  return { ...real, default: { ...real, Worker: NoWorker }, Worker: NoWorker };
});

const { Tuncer, Supervisor, SupervisorError, TuncerHandle, tuncerChild } = await import('../../src/index.js');

let inputs = 0;
let properties = 0;
afterAll(() => {
  console.log(`[fuzz] Tuncer/Supervisor options (pure, no worker): ${inputs} inputs tried across ${properties} properties`);
});

const MAX_PACKET = 65535 + 16;
const show = (v: unknown): string => {
  try {
    return fc.stringify(v);
  } catch {
    return Object.prototype.toString.call(v);
  }
};


// ---------------------------------------------------------------- the documented options

function nameOk(n: unknown): boolean {
  if (typeof n !== 'string') return false;
  const bytes = Buffer.byteLength(n);
  if (bytes < 1 || bytes > 15 || /[/:\0]/.test(n) || /\s/u.test(n) || n === '.' || n === '..') return false;
  const percents = [...n].filter((ch) => ch === '%').length;
  return percents === 0 || (percents === 1 && n.includes('%d'));
}
const int = (v: unknown, min: number, max: number): boolean => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
const optBool = (v: unknown): boolean => v === undefined || typeof v === 'boolean';
const MAC_RE = /^[0-9a-f]{2}([:-])[0-9a-f]{2}(\1[0-9a-f]{2}){4}$/i;
function addrFamily(a: unknown): 0 | 4 | 6 {
  return typeof a === 'string' && !a.includes('%') ? (isIP(a) as 0 | 4 | 6) : 0;
}
function addressOk(spec: unknown): boolean {
  if (typeof spec === 'string') {
    const slash = spec.indexOf('/');
    const fam = addrFamily(slash < 0 ? spec : spec.slice(0, slash));
    if (fam === 0) return false;
    if (slash < 0) return true;
    const p = spec.slice(slash + 1);
    return /^\d{1,3}$/.test(p) && Number(p) <= (fam === 4 ? 32 : 128);
  }
  if (spec === null || typeof spec !== 'object') return false;
  const { address, prefix } = spec as { address?: unknown; prefix?: unknown };
  const fam = addrFamily(address);
  return fam !== 0 && (prefix === undefined || int(prefix, 0, fam === 4 ? 32 : 128));
}
function isLogger(v: unknown): boolean {
  return typeof v === 'object' && v !== null && ['child', 'info', 'error', 'warn', 'debug'].every((k) => typeof (v as Record<string, unknown>)[k] === 'function');
}

const VALID: Record<string, (v: unknown, o: Record<string, unknown>) => boolean> = {
  name: (v) => v === undefined || v === '' || nameOk(v),
  mode: (v) => v === undefined || v === 'tun' || v === 'tap',
  noPi: optBool, vnetHdr: optBool, multiQueue: optBool, exclusive: optBool, oneQueue: optBool, noCarrier: optBool, persist: optBool, up: optBool,
  vnetHdrSize: (v, o) => v === undefined || ((v === 10 || v === 12) && o.vnetHdr === true),
  owner: (v) => v === undefined || int(v, 0, 0xfffffffe),
  group: (v) => v === undefined || int(v, 0, 0xfffffffe),
  netns: (v) => v === undefined || (typeof v === 'string' && v !== '' && !v.includes('\0')),
  mtu: (v) => v === undefined || int(v, 68, 65535),
  txqueuelen: (v) => v === undefined || int(v, 0, 0x7fffffff),
  // A tap's MAC: unicast (setHwaddr refuses a multicast one).
  hwaddr: (v) => v === undefined || (typeof v === 'string' && MAC_RE.test(v) && (parseInt(v.slice(0, 2), 16) & 1) === 0),
  addresses: (v) => v === undefined || (Array.isArray(v) && v.every(addressOk)),
  active: (v) => v === undefined || v === true || v === false || v === 'once' || int(v, -32768, 32767),
  logger: (v) => v === undefined || isLogger(v),
  rxRingBytes: (v) => v === undefined || int(v, 4 * MAX_PACKET, 2 ** 30),
  txRingBytes: (v) => v === undefined || int(v, 2 * MAX_PACKET, 2 ** 30),
  timeoutMs: (v) => v === undefined || int(v, 1, 0x7fffffff),
};
function optionsOk(o: unknown): boolean {
  if (o === undefined) return true;
  if (o === null || typeof o !== 'object' || Array.isArray(o)) return false;
  const r = o as Record<string, unknown>;
  return Object.keys(r).every((k) => Object.hasOwn(VALID, k) && VALID[k]!(r[k], r));
}

// ---------------------------------------------------------------- generators

const junk = fc.oneof(fc.constantFrom(null, NaN, Infinity, -1, 1.5, '', '1', [], {}, true, 0n), fc.anything());
const maybe = <T>(good: fc.Arbitrary<T>): fc.Arbitrary<unknown> => fc.oneof({ weight: 5, arbitrary: good }, { weight: 1, arbitrary: junk });
const addressArb = fc.oneof(
  fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 40 })).map(([a, p]) => `${a}/${p}`),
  fc.tuple(fc.ipV6(), fc.integer({ min: 0, max: 140 })).map(([a, p]) => `${a}/${p}`),
  fc.oneof(fc.ipV4(), fc.ipV6()),
  fc.record({ address: fc.oneof(fc.ipV4(), fc.ipV6(), fc.string()), prefix: fc.oneof(fc.constant(undefined), fc.integer({ min: -1, max: 130 }), junk) }, { requiredKeys: ['address'] }),
  fc.constantFrom('198.18.0.1/', '198.18.0.1/024', '198.18.0.1/ 24', '198.18.0.1/1e1', 'fd00::1/64/64', '/24', 'fe80::1%lo/64', '1.2.3.4.5/8', '198.18.0.1/-1'),
  junk,
);
/**
 * Option objects: mostly documented keys with mostly valid values. The logger is always
 * absent or a real pino logger, and a tap's MAC always unicast: the validator's gaps for
 * those two have tests of their own below, so this property stays a guard for the rest.
 */
const optionsArb: fc.Arbitrary<unknown> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record(
      {
        name: maybe(fc.oneof(fc.stringMatching(/^[a-z][a-z0-9]{0,15}$/), fc.constantFrom('', 'tun%d', 'a/b', 'x'.repeat(16), 'é'.repeat(8), '%d%d', 'a b'))),
        mode: maybe(fc.constantFrom('tun', 'tap', 'TAP', 'ip')),
        noPi: maybe(fc.boolean()), vnetHdr: maybe(fc.boolean()), multiQueue: maybe(fc.boolean()), exclusive: maybe(fc.boolean()),
        oneQueue: maybe(fc.boolean()), noCarrier: maybe(fc.boolean()), persist: maybe(fc.boolean()), up: maybe(fc.boolean()),
        vnetHdrSize: maybe(fc.constantFrom(10, 12, 11, 8)),
        owner: maybe(fc.oneof(fc.integer({ min: 0, max: 70000 }), fc.constantFrom(0xfffffffe, 0xffffffff, -1))),
        group: maybe(fc.oneof(fc.integer({ min: 0, max: 70000 }), fc.constantFrom(0xfffffffe, 0xffffffff, -1))),
        netns: maybe(fc.constantFrom('/proc/self/ns/net', '/var/run/netns/blue', '', 'a\0b')),
        mtu: maybe(fc.oneof(fc.integer({ min: 0, max: 70000 }), fc.constantFrom(67, 68, 65535, 65536, 1500.5))),
        txqueuelen: maybe(fc.oneof(fc.integer({ min: -1, max: 100000 }), fc.constantFrom(0x7fffffff, 0x80000000))),
        hwaddr: fc.oneof(fc.uint8Array({ minLength: 6, maxLength: 6 }).map((b) => Array.from(b, (x, i) => (i === 0 ? x & 0xfe : x).toString(16).padStart(2, '0')).join(':')), fc.constantFrom('02:00:00:00:00:01', '02-00-00-00-00-01', '02:00-00:00:00:01', 'zz:00:00:00:00:01', '02:00:00:00:00'), junk),
        addresses: maybe(fc.array(addressArb, { maxLength: 3 })),
        active: maybe(fc.oneof(fc.constantFrom(true, false, 'once'), fc.integer({ min: -40000, max: 40000 }))),
        logger: fc.constantFrom(undefined, pino({ level: 'silent' })),
        rxRingBytes: maybe(fc.oneof(fc.integer({ min: 0, max: 1 << 22 }), fc.constantFrom(4 * MAX_PACKET - 1, 4 * MAX_PACKET, 2 ** 30 + 1))),
        txRingBytes: maybe(fc.oneof(fc.integer({ min: 0, max: 1 << 22 }), fc.constantFrom(2 * MAX_PACKET - 1, 2 * MAX_PACKET, 2 ** 30 + 1))),
        timeoutMs: maybe(fc.oneof(fc.integer({ min: -5, max: 100000 }), fc.constantFrom(0, 0x7fffffff, 0x80000000))),
      },
      { requiredKeys: [] },
    ),
  },
  { weight: 1, arbitrary: fc.tuple(fc.record({ mode: fc.constantFrom('tun', 'tap') }), fc.string({ minLength: 1, maxLength: 10 }), fc.anything()).map(([o, k, v]) => ({ ...o, [k]: v })) },
  { weight: 1, arbitrary: fc.constantFrom(null, [], 'tun', 7, true, () => undefined) },
);

// ---------------------------------------------------------------- properties

describe('Tuncer.create options', () => {
  it('starts a worker for exactly the documented option objects; refuses the rest with TypeError/RangeError first', async () => {
    properties += 1;
    await fc.assert(
      fc.asyncProperty(optionsArb, async (opts) => {
        inputs += 1;
        const spawned = marker.spawned;
        const r = await bounded(Tuncer.create(opts as never), 2000, 'Tuncer.create');
        expect(r.ok).toBe(false); // no worker can start here
        const error = (r as { error: unknown }).error;
        const reached = error instanceof WorkerReached;
        if (!reached) {
          expect(error instanceof TypeError || error instanceof RangeError, `untyped: ${String(error)}`).toBe(true);
          expect(marker.spawned).toBe(spawned); // refused before any worker
        }
        expect(reached, `Tuncer.create(${show(opts)}): ${String(error)}`).toBe(optionsOk(opts));
      }),
      { numRuns: 1500 },
    );
  });

  it('refuses a logger that is not a pino logger before starting a worker', async () => {
    inputs += 4;
    for (const logger of [5, 'debug', {}, { info: () => undefined }]) {
      const r = await bounded(Tuncer.create({ mode: 'tun', logger: logger as never }), 2000, 'Tuncer.create');
      expect(r.ok ? null : r.error, `logger ${show(logger)}`).toBeInstanceOf(TypeError);
    }
  });

  it('refuses a multicast hwaddr before starting a worker (setHwaddr would refuse it after creating the device)', async () => {
    inputs += 2;
    for (const hwaddr of ['01:00:5e:00:00:01', 'ff:ff:ff:ff:ff:ff']) {
      const r = await bounded(Tuncer.create({ mode: 'tap', hwaddr }), 2000, 'Tuncer.create');
      expect(r.ok ? null : r.error, hwaddr).toBeInstanceOf(RangeError);
    }
  });
});

describe('tuncerChild and Supervisor.start options', () => {
  it('tuncerChild returns a spec or throws TypeError; its start validates like Tuncer.create', async () => {
    properties += 1;
    const withId = fc.tuple(optionsArb, fc.oneof(fc.constant(undefined), fc.string({ maxLength: 6 }))).map(([o, id]) => (o && typeof o === 'object' && !Array.isArray(o) && id !== undefined ? { ...o, id } : o));
    await fc.assert(
      fc.asyncProperty(withId, async (opts) => {
        inputs += 1;
        let spec: ReturnType<typeof tuncerChild>;
        try {
          spec = tuncerChild(opts as never);
        } catch (error) {
          expect(error instanceof TypeError, `tuncerChild(${show(opts)}) threw ${String(error)}`).toBe(true);
          return;
        }
        if (typeof spec.id !== 'string' || spec.id === '') {
          // tuncerChild takes the name as the id unchecked; the supervisor then refuses the spec.
          const sup = await bounded(Supervisor.start({ strategy: 'one_for_one', children: [spec] }), 2000, 'Supervisor.start');
          expect(sup.ok ? null : sup.error).toMatchObject({ name: 'SupervisorError', code: 'EINVAL' });
          return;
        }
        const r = await bounded(spec.start(), 2000, 'spec.start');
        expect(r.ok).toBe(false);
        const e = (r as { error: unknown }).error;
        expect(e instanceof WorkerReached || e instanceof TypeError || e instanceof RangeError, String(e)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('Supervisor.start with random strategies, limits, backoff and children: a running supervisor or a SupervisorError; stop never hangs', async () => {
    properties += 1;
    type FakeChild = { exit: Promise<unknown>; stop(): void; kill(): void };
    const fake = (behaviour: 'ok' | 'reject' | 'notChild' | 'throw'): (() => Promise<FakeChild>) => {
      return () => {
        if (behaviour === 'throw') throw new Error('start threw');
        if (behaviour === 'reject') return Promise.reject(new Error('start failed'));
        if (behaviour === 'notChild') return Promise.resolve({} as FakeChild);
        let done!: (r: unknown) => void;
        const exit = new Promise((r) => (done = r));
        return Promise.resolve({ exit, stop: () => done('shutdown'), kill: () => done('killed') });
      };
    };
    // Wrong values of the usual kinds; values that break String()/JSON.stringify themselves have the test below.
    const tame = fc.constantFrom(null, NaN, Infinity, -1, 1.5, '', '1', [], {}, true, 'x');
    const maybe = <T>(good: fc.Arbitrary<T>): fc.Arbitrary<unknown> => fc.oneof({ weight: 5, arbitrary: good }, { weight: 1, arbitrary: tame });
    const specArb = fc.record(
      {
        // (A BigInt id has a test of its own below.)
        id: maybe(fc.constantFrom('a', 'b', 'c', 'tun0')),
        start: fc.constantFrom('ok', 'ok', 'ok', 'reject', 'notChild', 'throw').map(fake),
        restart: maybe(fc.constantFrom('permanent', 'transient', 'temporary')),
        shutdown: maybe(fc.oneof(fc.constantFrom('brutal_kill', 'infinity'), fc.integer({ min: -1, max: 50 }))),
        type: maybe(fc.constantFrom('worker', 'supervisor')),
        significant: maybe(fc.boolean()),
      },
      { requiredKeys: ['start'] },
    );
    const optsArb = fc.record(
      {
        strategy: maybe(fc.constantFrom('one_for_one', 'one_for_all', 'rest_for_one', 'simple_one_for_one')),
        intensity: maybe(fc.integer({ min: -1, max: 1000 })),
        period: maybe(fc.oneof(fc.integer({ min: -1, max: 100 }), fc.constantFrom(0.5, 1e-9))),
        autoShutdown: maybe(fc.constantFrom('never', 'any_significant', 'all_significant')),
        backoff: fc.oneof(fc.constant(undefined), fc.record({ minMs: maybe(fc.integer({ min: -1, max: 100 })), maxMs: maybe(fc.integer({ min: -1, max: 1000 })), randomFactor: maybe(fc.double({ min: -1, max: 2, noNaN: true })), resetAfterMs: maybe(fc.integer({ min: -1, max: 1000 })) }, { requiredKeys: [] }), tame.filter((v) => v !== null)),
        children: fc.oneof({ weight: 5, arbitrary: fc.array(specArb, { maxLength: 4 }) }, { weight: 1, arbitrary: tame }),
        name: maybe(fc.string({ maxLength: 8 })),
      },
      { requiredKeys: ['children'] },
    );
    await fc.assert(
      fc.asyncProperty(optsArb, async (opts) => {
        inputs += 1;
        const r = await bounded(Supervisor.start(opts as never), 2000, 'Supervisor.start');
        if (!r.ok) {
          expect(r.error, `Supervisor.start(${show(opts)}) failed with ${String(r.error)}`).toBeInstanceOf(SupervisorError);
          expect(['EINVAL', 'ESTART']).toContain((r.error as InstanceType<typeof SupervisorError>).code);
          return;
        }
        const sup = r.value;
        const stopped = await bounded(sup.stop(), 2000, 'sup.stop');
        expect(stopped.ok).toBe(true);
        expect(await bounded(sup.exit, 100, 'sup.exit')).toMatchObject({ ok: true });
      }),
      { numRuns: 600 },
    );
  });

  it('options that trip the validator itself (backoff: null, a BigInt id, an object without a usable toString) are refused with SupervisorError EINVAL', async () => {
    const start = (): Promise<never> => Promise.reject(new Error('never started'));
    const bad = [
      { strategy: 'one_for_one', children: [], backoff: null }, // checkBackoff(null) reads null.minMs
      { strategy: 'one_for_one', children: [{ id: 1n, start }] }, // resolveChildSpec's message does JSON.stringify(1n)
      { strategy: { toString: '' }, children: [] }, // the message does String(strategy)
      { strategy: 'one_for_one', children: [{ id: 'a', start, restart: Object.create(null) }] }, // String(restart)
    ];
    for (const opts of bad) {
      inputs += 1;
      const r = await bounded(Supervisor.start(opts as never), 2000, 'Supervisor.start');
      expect(r.ok ? null : r.error, show(opts)).toBeInstanceOf(SupervisorError);
      expect(r.ok ? null : r.error).toMatchObject({ code: 'EINVAL' });
    }
  });
});

describe('a running supervisor: API calls with random arguments', () => {
  type FakeChild = { exit: Promise<unknown>; stop(): void; kill(): void; crash(): void };
  const fakeChild = (): Promise<FakeChild> => {
    let done!: (r: unknown) => void;
    const exit = new Promise((r) => (done = r));
    return Promise.resolve({ exit, stop: () => done('shutdown'), kill: () => done('killed'), crash: () => done(new Error('crash')) });
  };
  const idArb = fc.oneof({ weight: 4, arbitrary: fc.constantFrom('a', 'b', 'c', 'new') }, { weight: 1, arbitrary: fc.constantFrom('', 5, null, undefined, {}, 'a\0') });
  const specArb = fc.oneof(
    fc.record({ id: idArb, start: fc.constant(fakeChild), restart: fc.constantFrom('permanent', 'transient', 'temporary', 'sometimes', undefined) }, { requiredKeys: ['id', 'start'] }),
    fc.constantFrom(null, 5, [], ['arg'], { id: 'x' }, { id: 'y', start: 'no' }),
  );
  const callArb = fc.oneof(
    fc.record({ call: fc.constant('startChild' as const), arg: specArb }),
    fc.record({ call: fc.constantFrom('terminateChild' as const, 'restartChild' as const, 'deleteChild' as const, 'whenRunning' as const, 'crash' as const), arg: idArb }),
    fc.record({ call: fc.constantFrom('whichChildren' as const, 'countChildren' as const), arg: fc.constant(undefined) }),
  );

  it('startChild / terminateChild / restartChild / deleteChild / whenRunning: a result or a SupervisorError, each settling; stop ends it all', async () => {
    properties += 1;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('one_for_one' as const, 'one_for_all' as const, 'rest_for_one' as const), fc.array(callArb, { minLength: 1, maxLength: 12 }), async (strategy, calls) => {
        const sup = await Supervisor.start<FakeChild>({ strategy, intensity: 1000, period: 1, children: ['a', 'b', 'c'].map((id) => ({ id, start: fakeChild })) });
        for (const { call, arg } of calls) {
          inputs += 1;
          let p: Promise<unknown>;
          try {
            if (call === 'crash') {
              const c: unknown = sup.whichChildren().find((x) => x.id === arg)?.child;
              if (typeof (c as FakeChild | undefined)?.crash === 'function') (c as FakeChild).crash();
              p = Promise.resolve();
            } else if (call === 'whenRunning') p = sup.whenRunning(arg as string, AbortSignal.timeout(200));
            else if (call === 'whichChildren' || call === 'countChildren') p = Promise.resolve(sup[call]());
            else p = (sup[call] as (a: unknown) => Promise<unknown>).call(sup, arg);
          } catch (error) {
            p = Promise.reject(error);
          }
          const r = await bounded(p, 2000, `${call}(${show(arg)})`);
          if (!r.ok) {
            const e = r.error as Error;
            const ok = e instanceof SupervisorError || (call === 'whenRunning' && e.name === 'TimeoutError');
            expect(ok, `${call}(${show(arg)}) failed with ${String(e)}`).toBe(true);
          }
        }
        expect(await bounded(sup.stop(), 2000, 'stop')).toMatchObject({ ok: true });
        expect(sup.whichChildren().every((c) => typeof (c.child as unknown as FakeChild | undefined)?.crash !== 'function')).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('TuncerHandle.setopt refuses an invalid active mode with TypeError/RangeError, also while no instance is running', async () => {
    properties += 1;
    // A handle on a child that is not running (its start always fails, and it is temporary):
    // the mode is stored for the next instance, so it must be checked now.
    const sup = await Supervisor.start<never>({ strategy: 'one_for_one', children: [] });
    try {
      const handle = new TuncerHandle(sup as never, 'tun0');
      const modeArb = fc.oneof(fc.constantFrom(true, false, 'once', 0, 5, -5, 32767, -32768), fc.constantFrom('twice', 1.5, NaN, 40000, -40000, null, undefined, {}, '1'));
      await fc.assert(
        fc.asyncProperty(modeArb, async (active) => {
          inputs += 1;
          const valid = active === true || active === false || active === 'once' || (typeof active === 'number' && Number.isInteger(active) && active >= -32768 && active <= 32767);
          let thrown: unknown;
          try {
            handle.setopt({ active: active as never });
          } catch (e) {
            thrown = e;
          }
          if (valid) expect(thrown).toBeUndefined();
          else expect(thrown instanceof TypeError || thrown instanceof RangeError, `setopt({ active: ${show(active)} }) was accepted`).toBe(true);
        }),
        { numRuns: 100 },
      );
    } finally {
      await sup.stop();
    }
  });
});
