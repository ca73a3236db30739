import { describe, expect, it } from 'vitest';
import { decodeLink, encodeGetLink } from '../../src/netlink/linkMessage.js';
import { NetlinkParseError, parseMessages } from '../../src/netlink/netlinkMessage.js';
import { attr, ifinfomsg, msg, nest, str, u32, u8 } from '../helpers/rtnetlinkWire.js';

const tunData = nest(2, attr(3, u8(1)), attr(4, u8(0)), attr(5, u8(1)), attr(6, u8(1)), attr(7, u8(0)), attr(1, u32(1234)), attr(8, u32(1)), attr(9, u32(0)));
const one = (b: Buffer) => parseMessages(b)[0]!;

describe('decodeLink', () => {
  it('reads a tun as the kernel reports it: flags, MTU, operstate, no MAC, its tun_fill_info', () => {
    const m = msg(16, 0, 0, ifinfomsg(7, 0x10d1), attr(3, str('tun0')), attr(4, u32(1400)), attr(13, u32(500)), attr(16, u8(6)), attr(33, u8(1)), nest(18, attr(1, str('tun')), tunData));
    expect(decodeLink(one(m))).toEqual({
      ifindex: 7, name: 'tun0', flags: 0x10d1, up: true, running: true, carrier: true, mtu: 1400, txqlen: 500, operstate: 'up', address: null, kind: 'tun',
      tun: { mode: 'tun', pi: false, vnetHdr: true, multiQueue: false, persist: true, owner: 1234, group: null, queues: 1, disabledQueues: 0 },
    });
  });

  it('reads a tap MAC, a down link, and a link of another kind without tun data', () => {
    const tap = msg(16, 0, 0, ifinfomsg(8, 0x1002), attr(3, str('tap0')), attr(4, u32(1500)), attr(1, Buffer.from([2, 0, 0x5e, 0, 0, 1])), nest(18, attr(1, str('tun')), nest(2, attr(3, u8(2)), attr(4, u8(1)))));
    expect(decodeLink(one(tap))).toMatchObject({ up: false, running: false, carrier: undefined, address: '02:00:5e:00:00:01', operstate: 'unknown', tun: { mode: 'tap', pi: true, owner: null } });
    const veth = msg(16, 0, 0, ifinfomsg(9, 1), attr(3, str('v0')), attr(4, u32(1500)), nest(18, attr(1, str('veth'))));
    expect(decodeLink(one(veth))).toMatchObject({ kind: 'veth', tun: undefined, up: true });
  });

  it('refuses a link without a name or an MTU, with a short header, or with a tun flag of the wrong size', () => {
    expect(() => decodeLink(one(msg(16, 0, 0, ifinfomsg(7, 0), attr(4, u32(1500)))))).toThrow(/no IFLA_IFNAME/);
    expect(() => decodeLink(one(msg(16, 0, 0, ifinfomsg(7, 0), attr(3, str('x')))))).toThrow(/no IFLA_MTU/);
    expect(() => decodeLink(one(msg(16, 0, 0, Buffer.alloc(12))))).toThrow(NetlinkParseError);
    const bad = msg(16, 0, 0, ifinfomsg(7, 0), attr(3, str('t')), attr(4, u32(1)), nest(18, attr(1, str('tun')), nest(2, attr(6, u32(1)))));
    expect(() => decodeLink(one(bad))).toThrow(/IFLA_TUN_PERSIST holds 4 bytes, not 1/);
  });
});

describe('encodeGetLink', () => {
  it('asks for one link by name with an ack, or dumps all', () => {
    expect(Buffer.from(encodeGetLink({ name: 'tun0' }).finish(3))).toEqual(msg(18, 0x5, 3, ifinfomsg(0, 0, 0), attr(3, str('tun0'))));
    expect(Buffer.from(encodeGetLink({ ifindex: 9 }).finish(4))).toEqual(msg(18, 0x5, 4, ifinfomsg(9, 0, 0)));
    expect(Buffer.from(encodeGetLink('dump').finish(5))).toEqual(msg(18, 0x301, 5, ifinfomsg(0, 0, 0)));
  });
});
