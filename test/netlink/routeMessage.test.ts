import { describe, expect, it } from 'vitest';
import { decodeRoute, encodeGetRoutes, encodeRoute } from '../../src/netlink/routeMessage.js';
import { parseMessages } from '../../src/netlink/netlinkMessage.js';
import { parseIp } from '../../src/packet/ipAddress.js';
import { attr, ip4, msg, rtmsg, u32 } from '../helpers/rtnetlinkWire.js';

const one = (b: Buffer) => parseMessages(b)[0]!;
const v6 = (t: string) => Buffer.from(parseIp(t).bytes);

function nexthop(ifindex: number, hops: number, ...attrs: Buffer[]): Buffer {
  const body = Buffer.concat(attrs);
  const h = Buffer.alloc(8);
  h.writeUInt16LE(8 + body.length, 0);
  h.writeUInt8(hops, 3);
  h.writeInt32LE(ifindex, 4);
  return Buffer.concat([h, body]);
}

describe('decodeRoute', () => {
  it('reads a route through an interface with a metric in the main table', () => {
    const m = msg(24, 0, 0, rtmsg({ family: 2, dstLen: 24, table: 254, protocol: 3, scope: 253, type: 1 }), attr(15, u32(254)), attr(1, ip4('198.18.8.0')), attr(6, u32(7)), attr(4, u32(5)));
    expect(decodeRoute(one(m))).toEqual({
      family: 4, dst: '198.18.8.0/24', prefix: 24, ifindex: 5, dev: undefined, via: undefined, src: undefined, metric: 7, table: 254,
      protocol: 'boot', scope: 'link', routeType: 'unicast', nexthops: undefined,
    });
  });

  it('reads a default route (no RTA_DST), a gateway, a table over 255 and unnamed numbers', () => {
    const m = msg(24, 0, 0, rtmsg({ family: 10, dstLen: 0, table: 252, protocol: 42, scope: 0, type: 1 }), attr(15, u32(1000)), attr(5, v6('fd00::2')), attr(7, v6('fd00::1')));
    expect(decodeRoute(one(m))).toMatchObject({ family: 6, dst: '::/0', prefix: 0, via: 'fd00::2', src: 'fd00::1', metric: 0, table: 1000, protocol: '42', scope: 'global' });
  });

  it('reads the next hops of a multipath route', () => {
    const mp = Buffer.concat([nexthop(3, 0, attr(5, ip4('198.18.0.2'))), nexthop(4, 2, attr(5, ip4('198.18.1.2')))]);
    const m = msg(24, 0, 0, rtmsg({ family: 2, dstLen: 16, table: 254, protocol: 3, scope: 0, type: 1 }), attr(1, ip4('198.19.0.0')), attr(9, mp));
    expect(decodeRoute(one(m))?.nexthops).toEqual([
      { ifindex: 3, dev: undefined, via: '198.18.0.2', weight: 1 },
      { ifindex: 4, dev: undefined, via: '198.18.1.2', weight: 3 },
    ]);
  });

  it('skips other families; refuses a prefix over the family size, bad next hops and wrong address sizes', () => {
    expect(decodeRoute(one(msg(24, 0, 0, rtmsg({ family: 128, dstLen: 0, table: 254, protocol: 0, scope: 0, type: 1 }))))).toBeUndefined();
    expect(() => decodeRoute(one(msg(24, 0, 0, rtmsg({ family: 2, dstLen: 33, table: 254, protocol: 0, scope: 0, type: 1 }))))).toThrow(/prefix 33 is over 32/);
    const badHop = nexthop(3, 0);
    badHop.writeUInt16LE(200, 0);
    expect(() => decodeRoute(one(msg(24, 0, 0, rtmsg({ family: 2, dstLen: 0, table: 254, protocol: 0, scope: 0, type: 1 }), attr(9, badHop))))).toThrow(/next hop length 200/);
    expect(() => decodeRoute(one(msg(24, 0, 0, rtmsg({ family: 2, dstLen: 0, table: 254, protocol: 0, scope: 0, type: 1 }), attr(5, v6('fd00::1')))))).toThrow(/RTA_GATEWAY holds 16 bytes/);
  });
});

describe('encodeRoute', () => {
  it('adds an IPv4 route without a gateway in scope link, protocol boot, with RTA_TABLE', () => {
    const got = encodeRoute('add', { family: 4, dst: ip4('198.18.8.0'), prefix: 24, ifindex: 5, metric: 7, table: 254 }).finish(1);
    expect(Buffer.from(got)).toEqual(msg(24, 0x605, 1, rtmsg({ family: 2, dstLen: 24, table: 254, protocol: 3, scope: 253, type: 1 }), attr(1, ip4('198.18.8.0')), attr(4, u32(5)), attr(6, u32(7)), attr(15, u32(254))));
  });

  it('adds a default IPv6 route via a gateway in a table over 255; deletes in scope nowhere', () => {
    const got = encodeRoute('add', { family: 6, dst: new Uint8Array(16), prefix: 0, via: v6('fd00::2'), table: 1000 }).finish(2);
    expect(Buffer.from(got)).toEqual(msg(24, 0x605, 2, rtmsg({ family: 10, dstLen: 0, table: 252, protocol: 3, scope: 0, type: 1 }), attr(5, v6('fd00::2')), attr(15, u32(1000))));
    const del = encodeRoute('del', { family: 4, dst: ip4('198.18.8.0'), prefix: 24, table: 254 }).finish(3);
    expect(Buffer.from(del)).toEqual(msg(25, 0x5, 3, rtmsg({ family: 2, dstLen: 24, table: 254, protocol: 0, scope: 255, type: 0 }), attr(1, ip4('198.18.8.0')), attr(15, u32(254))));
    expect(Buffer.from(encodeGetRoutes(6).finish(4))).toEqual(msg(26, 0x301, 4, rtmsg({ family: 10, dstLen: 0, table: 0, protocol: 0, scope: 0, type: 0 })));
  });
});
