/**
 * Property-based fuzzing of the netlink layer, without a kernel.
 *
 * - Any bytes, and valid datagrams cut short or with their length fields and bytes
 *   overwritten by hostile values, either decode or raise a `NetlinkParseError`: never
 *   another error (a `RangeError` from an out-of-bounds `DataView` read would be one),
 *   never a crash, and what decodes is well formed.
 * - Valid messages, generated from a model and built byte by byte with the test's own
 *   encoder, decode to exactly the model.
 * - `NetlinkSocket.request` against a fake addon that answers with hostile, stray or valid
 *   datagrams: it returns the decoded answers to its own request, or throws a `TunError`
 *   (EBADMSG for what does not parse, the kernel's errno, EMSGSIZE, ETIMEDOUT), and its
 *   socket is closed either way.
 */
import { afterAll, describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import { isIP } from 'node:net';
import { formatIp } from '../../src/packet/ipAddress.js';
import { attr, doneMsg, errorMsg, ifaddrmsg, ifinfomsg, msg, nest, rtmsg, str, u32, u8 } from '../helpers/rtnetlinkWire.js';

const h = vi.hoisted(() => ({
  /** Datagrams the fake kernel answers with, in order; `null` is a timeout. */
  replies: [] as (Uint8Array | null)[],
  /** The sequence number of the last request sent. */
  seq: 0,
  open: new Set<number>(),
  nextFd: 500,
}));

vi.mock('../../src/native/binding.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/native/binding.js')>();
  const c = real.loadNative().constants;
  const fake = {
    constants: c,
    netlinkOpen() {
      const fd = h.nextFd++;
      h.open.add(fd);
      return fd;
    },
    netlinkSetInt() {},
    netlinkSend(fd: number, buf: Uint8Array, length: number) {
      if (!h.open.has(fd)) throw Object.assign(new Error('EBADF'), { errno: 9, syscall: 'sendto' });
      h.seq = Buffer.from(buf.buffer, buf.byteOffset, length).readUInt32LE(8);
      return length;
    },
    netlinkRecv(_fd: number, buf: Uint8Array, _timeout: number, out: Uint32Array) {
      const next = h.replies.shift();
      if (next === undefined || next === null) return -1;
      buf.set(next.subarray(0, Math.min(next.length, buf.length)));
      out[0] = 0;
      out[1] = 0;
      return next.length;
    },
    close(fd: number) {
      h.open.delete(fd);
    },
  };
  return { ...real, loadNative: () => fake };
});

const { NetlinkParseError, parseMessages, parseError, parseDone } = await import('../../src/netlink/netlinkMessage.js');
const { decodeLink, encodeGetLink } = await import('../../src/netlink/linkMessage.js');
const { decodeAddress } = await import('../../src/netlink/addressMessage.js');
const { decodeRoute } = await import('../../src/netlink/routeMessage.js');
const { decodeEvent } = await import('../../src/netlink/netlinkEvent.js');
const { withNetlink } = await import('../../src/netlink/netlinkSocket.js');
const { TunError } = await import('../../src/native/tunError.js');

let inputs = 0;
afterAll(() => {
  console.log(`[fuzz] netlink (pure and fake addon): ${inputs} inputs tried`);
});

// ---------------------------------------------------------------- models and their wire form

interface TunModel { type: 1 | 2; pi: boolean; vnet: boolean; mq: boolean; persist: boolean; owner?: number; group?: number; queues?: number; disabled?: number }
interface LinkModel { ifindex: number; flags: number; name: string; mtu: number; txqlen?: number; operstate?: number; mac?: Uint8Array; tun?: TunModel }
interface AddrModel { family: 4 | 6; prefix: number; flags: number; scope: number; ifindex: number; local: Uint8Array; peer?: Uint8Array; label?: string; brd?: Uint8Array; xflags?: number }
interface RouteModel { family: 4 | 6; prefix: number; table: number; protocol: number; scope: number; type: number; dst?: Uint8Array; oif?: number; gw?: Uint8Array; src?: Uint8Array; metric?: number; hops?: { ifindex: number; hops: number; gw?: Uint8Array }[] }

const u32Arb = fc.integer({ min: 0, max: 0xffffffff });
const nameArb = fc.stringMatching(/^[a-z][a-z0-9.-]{0,14}$/);
const bytesOf = (family: 4 | 6) => fc.uint8Array({ minLength: family === 4 ? 4 : 16, maxLength: family === 4 ? 4 : 16 });

const tunArb: fc.Arbitrary<TunModel> = fc.record(
  { type: fc.constantFrom(1 as const, 2 as const), pi: fc.boolean(), vnet: fc.boolean(), mq: fc.boolean(), persist: fc.boolean(), owner: u32Arb, group: u32Arb, queues: u32Arb, disabled: u32Arb },
  { requiredKeys: ['type', 'pi', 'vnet', 'mq', 'persist'] },
);
const linkArb: fc.Arbitrary<LinkModel> = fc.record(
  {
    ifindex: fc.integer({ min: 1, max: 0x7fffffff }), flags: u32Arb, name: nameArb, mtu: u32Arb, txqlen: u32Arb, operstate: fc.integer({ min: 0, max: 255 }),
    mac: fc.uint8Array({ minLength: 1, maxLength: 32 }), tun: tunArb,
  },
  { requiredKeys: ['ifindex', 'flags', 'name', 'mtu'] },
);
const addrArb: fc.Arbitrary<AddrModel> = fc.constantFrom(4 as const, 6 as const).chain((family) =>
  fc.record(
    {
      family: fc.constant(family), prefix: fc.integer({ min: 0, max: family === 4 ? 32 : 128 }), flags: fc.integer({ min: 0, max: 255 }),
      scope: fc.constantFrom(0, 200, 253, 254, 255, 7), ifindex: u32Arb, local: bytesOf(family), peer: bytesOf(family), label: nameArb,
      brd: bytesOf(4), xflags: u32Arb,
    },
    { requiredKeys: ['family', 'prefix', 'flags', 'scope', 'ifindex', 'local'] },
  ),
);
const routeArb: fc.Arbitrary<RouteModel> = fc.constantFrom(4 as const, 6 as const).chain((family) =>
  fc.record(
    {
      family: fc.constant(family), prefix: fc.integer({ min: 0, max: family === 4 ? 32 : 128 }), table: fc.integer({ min: 0, max: 255 }),
      protocol: fc.integer({ min: 0, max: 255 }), scope: fc.integer({ min: 0, max: 255 }), type: fc.integer({ min: 0, max: 255 }),
      dst: bytesOf(family), oif: u32Arb, gw: bytesOf(family), src: bytesOf(family), metric: u32Arb,
      hops: fc.array(fc.record({ ifindex: fc.integer({ min: -5, max: 0x7fffffff }), hops: fc.integer({ min: 0, max: 255 }), gw: bytesOf(family) }, { requiredKeys: ['ifindex', 'hops'] }), { maxLength: 3 }),
    },
    { requiredKeys: ['family', 'prefix', 'table', 'protocol', 'scope', 'type'] },
  ),
);

const buf = (b: Uint8Array): Buffer => Buffer.from(b);
function linkWire(m: LinkModel, type = 16): Buffer {
  const a = [attr(3, str(m.name)), attr(4, u32(m.mtu))];
  if (m.txqlen !== undefined) a.push(attr(13, u32(m.txqlen)));
  if (m.operstate !== undefined) a.push(attr(16, u8(m.operstate)));
  if (m.mac !== undefined) a.push(attr(1, buf(m.mac)));
  if (m.tun !== undefined) {
    const t = m.tun;
    const data = [attr(3, u8(t.type)), attr(4, u8(t.pi ? 1 : 0)), attr(5, u8(t.vnet ? 1 : 0)), attr(6, u8(t.persist ? 1 : 0)), attr(7, u8(t.mq ? 1 : 0))];
    if (t.queues !== undefined) data.push(attr(8, u32(t.queues)));
    if (t.disabled !== undefined) data.push(attr(9, u32(t.disabled)));
    if (t.owner !== undefined) data.push(attr(1, u32(t.owner)));
    if (t.group !== undefined) data.push(attr(2, u32(t.group)));
    a.push(nest(18, attr(1, str('tun')), nest(2, ...data)));
  }
  return msg(type, 0, 0, ifinfomsg(m.ifindex, m.flags), ...a);
}
function addrWire(m: AddrModel, type = 20): Buffer {
  const fam = m.family === 4 ? 2 : 10;
  const a = [attr(2, buf(m.local)), attr(1, buf(m.peer ?? m.local))];
  if (m.label !== undefined) a.push(attr(3, str(m.label)));
  if (m.family === 4 && m.brd !== undefined) a.push(attr(4, buf(m.brd)));
  if (m.xflags !== undefined) a.push(attr(8, u32(m.xflags)));
  return msg(type, 0, 0, ifaddrmsg(fam, m.prefix, m.flags, m.scope, m.ifindex), ...a);
}
function hopWire(x: { ifindex: number; hops: number; gw?: Uint8Array }): Buffer {
  const body = x.gw === undefined ? Buffer.alloc(0) : attr(5, buf(x.gw));
  const hd = Buffer.alloc(8);
  hd.writeUInt16LE(8 + body.length, 0);
  hd.writeUInt8(x.hops, 3);
  hd.writeInt32LE(x.ifindex, 4);
  return Buffer.concat([hd, body]);
}
function routeWire(m: RouteModel, type = 24): Buffer {
  const a: Buffer[] = [];
  if (m.dst !== undefined) a.push(attr(1, buf(m.dst)));
  if (m.oif !== undefined) a.push(attr(4, u32(m.oif)));
  if (m.gw !== undefined) a.push(attr(5, buf(m.gw)));
  if (m.src !== undefined) a.push(attr(7, buf(m.src)));
  if (m.metric !== undefined) a.push(attr(6, u32(m.metric)));
  if (m.hops !== undefined) a.push(attr(9, Buffer.concat(m.hops.map(hopWire))));
  return msg(type, 0, 0, rtmsg({ family: m.family === 4 ? 2 : 10, dstLen: m.prefix, table: m.table, protocol: m.protocol, scope: m.scope, type: m.type }), ...a);
}

/** Any message, with sequence number `seq`. */
function messageArb(seq: number): fc.Arbitrary<Buffer> {
  const numbered = (b: Buffer): Buffer => {
    b.writeUInt32LE(seq, 8);
    return b;
  };
  return fc.oneof(
    linkArb.map((m) => linkWire(m)),
    addrArb.map((m) => addrWire(m)),
    routeArb.map((m) => routeWire(m)),
    fc.tuple(fc.integer({ min: 0, max: 200 }), fc.constantFrom('', 'Invalid prefix', 'x'.repeat(300))).map(([e, t]) => errorMsg(seq, e, t === '' ? {} : { extack: t })),
    fc.integer({ min: 0, max: 200 }).map((e) => doneMsg(seq, e)),
  ).map(numbered);
}
const datagramOf = (seq: number) => fc.array(messageArb(seq), { minLength: 1, maxLength: 4 }).map((ms) => Buffer.concat(ms));
const datagramArb = datagramOf(1);

/** Decode a datagram every way there is; only NetlinkParseError may escape. */
function decodeAll(bytes: Uint8Array): unknown[] {
  const out: unknown[] = [];
  for (const m of parseMessages(bytes)) {
    for (const decode of [decodeLink, decodeAddress, decodeRoute, decodeEvent, parseError, parseDone] as ((x: typeof m) => unknown)[]) {
      try {
        out.push(decode(m));
      } catch (err) {
        if (!(err instanceof NetlinkParseError)) throw err;
      }
    }
  }
  return out;
}

/** What decodes must be well formed: addresses are IP text, numbers are finite. */
function wellFormed(v: unknown): void {
  if (v === null || v === undefined || typeof v !== 'object') return;
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (typeof x === 'number') expect(Number.isFinite(x), k).toBe(true);
    if (['address', 'peer', 'broadcast', 'via', 'src'].includes(k) && typeof x === 'string' && k !== 'address') expect(isIP(x), `${k} ${x}`).not.toBe(0);
    if (k === 'dst' && typeof x === 'string') expect(isIP(x.split('/')[0]!), x).not.toBe(0);
    if (typeof x === 'object') wellFormed(x);
  }
}

function mustOnlyFailTyped(bytes: Uint8Array): void {
  inputs += 1;
  let decoded: unknown[] = [];
  try {
    decoded = decodeAll(bytes);
  } catch (err) {
    expect(err, String(err)).toBeInstanceOf(NetlinkParseError);
    return;
  }
  for (const d of decoded) wellFormed(d);
}

// ---------------------------------------------------------------- properties

describe('parsing hostile input', () => {
  it('any bytes: decodes or raises NetlinkParseError, nothing else', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), (b) => mustOnlyFailTyped(b)), { numRuns: 3000 });
  });

  it('random headers and attributes around real lengths: decodes or raises NetlinkParseError', () => {
    const chunk = fc.tuple(fc.integer({ min: 0, max: 80 }), fc.constantFrom(16, 20, 24, 2, 3, 17), fc.uint8Array({ maxLength: 80 })).map(([len, type, body]) => {
      const hd = Buffer.alloc(16);
      hd.writeUInt32LE(len, 0);
      hd.writeUInt16LE(type, 4);
      return Buffer.concat([hd, body]);
    });
    fc.assert(fc.property(fc.array(chunk, { maxLength: 4 }), (cs) => mustOnlyFailTyped(Buffer.concat(cs))), { numRuns: 3000 });
  });

  it('valid datagrams cut short at any byte: decodes or raises NetlinkParseError', () => {
    fc.assert(
      fc.property(datagramArb, fc.nat(), (d, cut) => mustOnlyFailTyped(d.subarray(0, cut % (d.length + 1)))),
      { numRuns: 3000 },
    );
  });

  it('valid datagrams with a length field or a byte overwritten by a hostile value', () => {
    const hostile = fc.constantFrom(0, 1, 3, 4, 7, 8, 11, 12, 15, 16, 17, 0x7fff, 0x8000, 0xffff, 0xffffffff);
    fc.assert(
      fc.property(datagramArb, fc.nat(), fc.constantFrom(1, 2, 4), hostile, (d, at, width, value) => {
        const b = Buffer.from(d);
        const off = at % Math.max(1, b.length - width + 1);
        if (off + width <= b.length) {
          if (width === 1) b.writeUInt8(value & 0xff, off);
          else if (width === 2) b.writeUInt16LE(value & 0xffff, off);
          else b.writeUInt32LE(value >>> 0, off);
        }
        mustOnlyFailTyped(b);
      }),
      { numRuns: 4000 },
    );
  });
});

describe('a message cut inside a header or an attribute never decodes', () => {
  /** Where a valid message may end: after its fixed header or after an attribute (its padding included). */
  function boundaries(payload: Buffer, fixed: number): Set<number> {
    const ends = new Set([fixed]);
    for (let off = fixed; off < payload.length; ) {
      const len = payload.readUInt16LE(off);
      for (let e = off + len; e <= off + ((len + 3) & ~3); e++) ends.add(e);
      off += (len + 3) & ~3;
    }
    return ends;
  }
  const kinds = fc.oneof(
    linkArb.map((m) => ({ wire: linkWire(m), fixed: 16, decode: decodeLink as (x: unknown) => unknown })),
    addrArb.map((m) => ({ wire: addrWire(m), fixed: 8, decode: decodeAddress as (x: unknown) => unknown })),
    routeArb.map((m) => ({ wire: routeWire(m), fixed: 12, decode: decodeRoute as (x: unknown) => unknown })),
  );

  it('a datagram cut inside a message is a NetlinkParseError', () => {
    fc.assert(
      fc.property(datagramArb, fc.nat(), (d, at) => {
        inputs += 1;
        const starts = new Set<number>();
        for (let off = 0; off < d.length; off += (d.readUInt32LE(off) + 3) & ~3) starts.add(off);
        const cut = at % d.length;
        if (!starts.has(cut)) expect(() => parseMessages(d.subarray(0, cut))).toThrow(NetlinkParseError);
      }),
      { numRuns: 2000 },
    );
  });

  it('a message whose length ends inside its fixed header or an attribute is a NetlinkParseError', () => {
    fc.assert(
      fc.property(kinds, fc.nat(), ({ wire, fixed, decode }, at) => {
        inputs += 1;
        const payload = wire.subarray(16, wire.readUInt32LE(0));
        const cut = at % payload.length;
        if (boundaries(payload, fixed).has(cut)) return;
        const b = Buffer.from(wire.subarray(0, 16 + cut));
        b.writeUInt32LE(16 + cut, 0);
        expect(() => decode(parseMessages(b)[0]!)).toThrow(NetlinkParseError);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('valid messages decode to their model', () => {
  it('links, with and without tun data', () => {
    fc.assert(
      fc.property(linkArb, fc.boolean(), (m, del) => {
        inputs += 1;
        const got = decodeEvent(parseMessages(linkWire(m, del ? 17 : 16))[0]!);
        expect(got).toMatchObject({ type: 'link', op: del ? 'del' : 'new', ifindex: m.ifindex, name: m.name, flags: m.flags, mtu: m.mtu, up: (m.flags & 1) === 1, running: (m.flags & 0x40) !== 0 });
        if (got?.type !== 'link') throw new Error('not a link');
        expect(got.txqlen).toBe(m.txqlen);
        expect(got.address).toBe(m.mac === undefined ? null : Buffer.from(m.mac).toString('hex').match(/../g)!.join(':'));
        if (m.tun === undefined) expect(got.tun).toBeUndefined();
        else {
          expect(got.tun).toEqual({
            mode: m.tun.type === 2 ? 'tap' : 'tun', pi: m.tun.pi, vnetHdr: m.tun.vnet, multiQueue: m.tun.mq, persist: m.tun.persist,
            owner: m.tun.owner ?? null, group: m.tun.group ?? null, queues: m.tun.queues, disabledQueues: m.tun.disabled,
          });
        }
      }),
      { numRuns: 1500 },
    );
  });

  it('addresses: local, peer only when it differs, broadcast, label, flags', () => {
    fc.assert(
      fc.property(addrArb, (m) => {
        inputs += 1;
        const got = decodeAddress(parseMessages(addrWire(m))[0]!);
        const peer = m.peer !== undefined && formatIp(m.peer) !== formatIp(m.local) ? formatIp(m.peer) : undefined;
        expect(got).toEqual({
          ifindex: m.ifindex, name: m.label, family: m.family, address: formatIp(m.local), prefix: m.prefix, peer,
          broadcast: m.family === 4 && m.brd !== undefined ? formatIp(m.brd) : undefined,
          scope: ({ 0: 'global', 200: 'site', 253: 'link', 254: 'host', 255: 'nowhere' } as Record<number, string>)[m.scope] ?? String(m.scope),
          flags: m.xflags ?? m.flags,
        });
      }),
      { numRuns: 1500 },
    );
  });

  it('routes: destination, gateway, source, metric, table, next hops', () => {
    fc.assert(
      fc.property(routeArb, (m) => {
        inputs += 1;
        const got = decodeRoute(parseMessages(routeWire(m))[0]!);
        const zero = new Uint8Array(m.family === 4 ? 4 : 16);
        expect(got).toMatchObject({
          family: m.family, dst: `${formatIp(m.dst ?? zero)}/${m.prefix}`, prefix: m.prefix, ifindex: m.oif, via: m.gw && formatIp(m.gw),
          src: m.src && formatIp(m.src), metric: m.metric ?? 0, table: m.table,
        });
        expect(got?.nexthops).toEqual(m.hops?.map((x) => ({ ifindex: x.ifindex, dev: undefined, via: x.gw && formatIp(x.gw), weight: x.hops + 1 })));
      }),
      { numRuns: 1500 },
    );
  });
});

describe('NetlinkSocket.request against a fake kernel', () => {
  // A fresh socket's first request has sequence number 1: stray datagrams carry 77.
  const stray = fc.oneof(datagramOf(77), fc.uint8Array({ maxLength: 200 }).map(buf));
  it('returns its own answers or throws a TunError, and always closes its socket', () => {
    fc.assert(
      fc.property(
        fc.array(linkArb, { maxLength: 3 }),
        fc.array(stray, { maxLength: 3 }),
        fc.constantFrom('ack', 'error', 'done', 'none', 'huge'),
        fc.integer({ min: 1, max: 150 }),
        (answers, noise, end, errno) => {
          inputs += 1;
          const before = h.open.size;
          const answer = (m: LinkModel): Buffer => {
            const b = linkWire(m);
            b.writeUInt32LE(1, 8);
            return b;
          };
          h.replies = [...noise, ...answers.map(answer)];
          if (end === 'ack') h.replies.push(errorMsg(1, 0));
          if (end === 'error') h.replies.push(errorMsg(1, errno, { extack: 'no' }));
          if (end === 'done') h.replies.push(doneMsg(1, 0));
          if (end === 'huge') h.replies.push(Buffer.alloc(70_000));
          let result: { name: string }[] | undefined;
          let code: string | undefined;
          try {
            result = withNetlink(undefined, (s) => s.request(encodeGetLink({ name: 'x' }), decodeLink));
          } catch (err) {
            expect(err, String(err)).toBeInstanceOf(TunError);
            code = (err as InstanceType<typeof TunError>).code;
            const expected = end === 'error' && (err as { errno: number }).errno === -errno;
            expect(expected || ['EBADMSG', 'EMSGSIZE', 'ETIMEDOUT'].includes(code), code).toBe(true);
          }
          const parsable = noise.every((n) => {
            try {
              parseMessages(n);
              return true;
            } catch {
              return false;
            }
          });
          if (parsable) {
            // Stray datagrams are skipped whole: the outcome is the answers' own.
            if (end === 'ack' || end === 'done') expect(result?.map((l) => l.name)).toEqual(answers.map((m) => m.name));
            if (end === 'none') expect(code).toBe('ETIMEDOUT');
            if (end === 'huge') expect(code).toBe('EMSGSIZE');
            if (end === 'error') expect(code).not.toBe(undefined);
          } else {
            expect(code).toBe('EBADMSG');
          }
          expect(h.open.size).toBe(before);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
