import { describe, expect, it } from 'vitest';
import { decodeEvent } from '../../src/netlink/netlinkEvent.js';
import { parseMessages } from '../../src/netlink/netlinkMessage.js';
import { attr, ifaddrmsg, ifinfomsg, ip4, msg, rtmsg, str, u32 } from '../helpers/rtnetlinkWire.js';

const one = (b: Buffer) => parseMessages(b)[0]!;

describe('decodeEvent', () => {
  it('tells link changes from deletions', () => {
    const link = (type: number) => one(msg(type, 0, 0, ifinfomsg(7, 0x1), attr(3, str('tun0')), attr(4, u32(1400))));
    expect(decodeEvent(link(16))).toMatchObject({ type: 'link', op: 'new', ifindex: 7, name: 'tun0', up: true, running: false, mtu: 1400 });
    expect(decodeEvent(link(17))).toMatchObject({ type: 'link', op: 'del', ifindex: 7, name: 'tun0' });
  });

  it('gives address and route events with add/del', () => {
    const addr = (type: number) => one(msg(type, 0, 0, ifaddrmsg(2, 24, 0, 0, 7), attr(2, ip4('198.18.0.1')), attr(1, ip4('198.18.0.1'))));
    expect(decodeEvent(addr(20))).toMatchObject({ type: 'addr', op: 'add', address: '198.18.0.1', prefix: 24, ifindex: 7 });
    expect(decodeEvent(addr(21))).toMatchObject({ type: 'addr', op: 'del' });
    const route = (type: number) => one(msg(type, 0, 0, rtmsg({ family: 2, dstLen: 24, table: 254, protocol: 2, scope: 253, type: 1 }), attr(1, ip4('198.18.0.0')), attr(4, u32(7))));
    expect(decodeEvent(route(24))).toMatchObject({ type: 'route', op: 'add', dst: '198.18.0.0/24', ifindex: 7, routeType: 'unicast' });
    expect(decodeEvent(route(25))).toMatchObject({ type: 'route', op: 'del' });
  });

  it('ignores other message types and families', () => {
    expect(decodeEvent(one(msg(2, 0, 0, Buffer.alloc(4))))).toBeUndefined();
    expect(decodeEvent(one(msg(68, 0, 0, Buffer.alloc(8))))).toBeUndefined(); // RTM_NEWNEIGH
    expect(decodeEvent(one(msg(20, 0, 0, ifaddrmsg(17, 0, 0, 0, 1))))).toBeUndefined();
  });
});
