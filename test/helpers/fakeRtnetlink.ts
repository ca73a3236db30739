/**
 * A fake NETLINK_ROUTE kernel for tests without one: it reads each request as the kernel
 * would (its own parser, not src/netlink's), notes what a real kernel would refuse as a
 * malformed request (a "violation": the library's checks should have stopped it), and
 * queues the answers: links, addresses, acks, errors.
 */
import { attr, doneMsg, errorMsg, ifaddrmsg, ifinfomsg, msg, str, u32 } from './rtnetlinkWire.js';

/** A request as the fake read it. */
export interface SentRequest {
  type: number;
  flags: number;
  family: number;
  prefix: number;
  ifindex: number;
  attrs: Map<number, Buffer>;
}

interface FakeLink {
  ifindex: number;
  name: string;
  mtu: number;
}
interface FakeAddress {
  ifindex: number;
  family: 2 | 10;
  local: Buffer;
  prefix: number;
}

function walk(b: Buffer, start: number, bad: (why: string) => void): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  for (let off = start; off < b.length; ) {
    if (b.length - off < 4) return (bad('attribute header cut short'), out);
    const len = b.readUInt16LE(off);
    if (len < 4 || off + len > b.length) return (bad(`attribute length ${len}`), out);
    out.set(b.readUInt16LE(off + 2) & 0x3fff, b.subarray(off + 4, off + len));
    off += (len + 3) & ~3;
  }
  return out;
}

/**
 * The fake kernel: `send` a request on an fd, `recv` its answers one datagram at a time.
 *
 * A link named `'*'` answers a lookup of any name.
 *
 * @example
 * ```ts
 * const k = new FakeRtnetlink([{ ifindex: 7, name: 't0', mtu: 1500 }]);
 * ```
 */
export class FakeRtnetlink {
  readonly sent: SentRequest[] = [];
  readonly violations: string[] = [];
  readonly #queues = new Map<number, Buffer[]>();
  links: FakeLink[];
  addresses: FakeAddress[] = [];

  constructor(links: FakeLink[]) {
    this.links = links;
  }

  reset(): void {
    this.sent.length = 0;
    this.violations.length = 0;
    this.#queues.clear();
  }

  recv(fd: number): Buffer | undefined {
    return this.#queues.get(fd)?.shift();
  }

  #linkMsg(seq: number, l: FakeLink, flags = 0): Buffer {
    return msg(16, flags, seq, ifinfomsg(l.ifindex, 0x1091), attr(3, str(l.name)), attr(4, u32(l.mtu)));
  }

  send(fd: number, bytes: Buffer): void {
    const q = this.#queues.get(fd) ?? [];
    this.#queues.set(fd, q);
    const bad = (why: string): void => void this.violations.push(why);
    if (bytes.length < 16 || bytes.readUInt32LE(0) !== bytes.length) return bad('nlmsg_len is not the request length');
    const type = bytes.readUInt16LE(4);
    const flags = bytes.readUInt16LE(6);
    const seq = bytes.readUInt32LE(8);
    if ((flags & 1) === 0) bad('no NLM_F_REQUEST');
    const body = bytes.subarray(16);
    const fixed = type >= 24 ? 12 : type >= 20 ? 8 : 16;
    if (body.length < fixed) return bad(`type ${type}: fixed header cut short`);
    const attrs = walk(body, fixed, bad);
    const family = body.readUInt8(0);
    const req: SentRequest = { type, flags, family, prefix: type >= 20 ? body.readUInt8(1) : 0, ifindex: type >= 24 ? 0 : body.readInt32LE(4), attrs };
    this.sent.push(req);
    const size = family === 2 ? 4 : 16;
    const max = size * 8;
    const sized = (t: number, what: string): void => {
      const v = attrs.get(t);
      if (v !== undefined && v.length !== size) bad(`${what} of ${v.length} bytes for family ${family}`);
    };
    const ack = (errno = 0): void => void q.push(errorMsg(seq, errno));
    switch (type) {
      case 18: {
        if ((flags & 0x300) === 0x300) {
          q.push(Buffer.concat([...this.links.map((l) => this.#linkMsg(seq, l, 2)), doneMsg(seq)]));
          return;
        }
        const name = attrs.get(3)?.toString('utf8').replace(/\0.*$/s, '');
        // A link named '*' answers to any name.
        const l = this.links.find((x) => (name !== undefined ? x.name === name : x.ifindex === req.ifindex)) ?? this.links.find((x) => x.name === '*');
        if (l === undefined) return ack(19);
        q.push(this.#linkMsg(seq, { ...l, name: name ?? l.name }));
        return ack();
      }
      case 22:
        q.push(Buffer.concat([...this.addresses.map((a) => msg(20, 2, seq, ifaddrmsg(a.family, a.prefix, 0x80, 0, a.ifindex), attr(1, a.local), attr(2, a.local))), doneMsg(seq)]));
        return;
      case 26:
        q.push(doneMsg(seq));
        return;
      case 20:
      case 21: {
        if (family !== 2 && family !== 10) return bad(`address family ${family}`);
        if (req.prefix > max) bad(`address prefix ${req.prefix}`);
        sized(1, 'IFA_ADDRESS');
        sized(2, 'IFA_LOCAL');
        const local = attrs.get(2) ?? attrs.get(1);
        if (local === undefined) return bad('no address');
        const same = (a: FakeAddress): boolean => a.ifindex === req.ifindex && a.family === family && a.local.equals(local);
        if (type === 20) {
          if (this.addresses.some(same)) return ack(17);
          this.addresses.push({ ifindex: req.ifindex, family, local: Buffer.from(local), prefix: req.prefix });
          return ack();
        }
        const i = this.addresses.findIndex((a) => same(a) && a.prefix === req.prefix);
        if (i < 0) return ack(99);
        this.addresses.splice(i, 1);
        return ack();
      }
      case 24:
      case 25: {
        if (family !== 2 && family !== 10) return bad(`route family ${family}`);
        if (req.prefix > max) bad(`route prefix ${req.prefix}`);
        sized(1, 'RTA_DST');
        sized(5, 'RTA_GATEWAY');
        const dst = attrs.get(1) ?? Buffer.alloc(size);
        for (let bit = req.prefix; bit < max; bit++) if ((dst[bit >> 3]! >> (7 - (bit & 7))) & 1) return bad('route destination has host bits set');
        if (!attrs.has(15)) bad('no RTA_TABLE');
        if (type === 24 && !attrs.has(4) && !attrs.has(5)) bad('a route with neither RTA_OIF nor RTA_GATEWAY');
        return ack();
      }
      default:
        bad(`unexpected request type ${type}`);
    }
  }
}
