import { describe, expect, it } from 'vitest';
import { decodeAddress, encodeAddress, encodeGetAddresses } from '../../src/netlink/addressMessage.js';
import { parseMessages } from '../../src/netlink/netlinkMessage.js';
import { parseIp } from '../../src/packet/ipAddress.js';
import { attr, ifaddrmsg, ip4, msg, str, u32 } from '../helpers/rtnetlinkWire.js';

const one = (b: Buffer) => parseMessages(b)[0]!;
const v6 = (t: string) => Buffer.from(parseIp(t).bytes);

describe('decodeAddress', () => {
  it('IPv4: IFA_LOCAL is the address; IFA_ADDRESS equal to it means no peer', () => {
    const m = msg(20, 0, 0, ifaddrmsg(2, 24, 0x80, 0, 7), attr(1, ip4('198.18.0.1')), attr(2, ip4('198.18.0.1')), attr(3, str('tun0')), attr(4, ip4('198.18.0.255')));
    expect(decodeAddress(one(m))).toEqual({
      ifindex: 7, name: 'tun0', family: 4, address: '198.18.0.1', prefix: 24, peer: undefined, broadcast: '198.18.0.255', scope: 'global', flags: 0x80,
    });
  });

  it('IPv4 point-to-point: IFA_ADDRESS is the peer', () => {
    const m = msg(20, 0, 0, ifaddrmsg(2, 32, 0x80, 0, 7), attr(1, ip4('198.18.9.2')), attr(2, ip4('198.18.9.1')));
    expect(decodeAddress(one(m))).toMatchObject({ address: '198.18.9.1', peer: '198.18.9.2', prefix: 32 });
  });

  it('IPv6: only IFA_ADDRESS without a peer; IFA_LOCAL and IFA_ADDRESS with one; IFA_FLAGS wins over ifa_flags', () => {
    const plain = msg(20, 0, 0, ifaddrmsg(10, 64, 0x40, 253, 3), attr(1, v6('fe80::1')), attr(8, u32(0x2c0)));
    expect(decodeAddress(one(plain))).toEqual({
      ifindex: 3, name: undefined, family: 6, address: 'fe80::1', prefix: 64, peer: undefined, broadcast: undefined, scope: 'link', flags: 0x2c0,
    });
    const ptp = msg(20, 0, 0, ifaddrmsg(10, 128, 0, 0, 3), attr(2, v6('fd00::1')), attr(1, v6('fd00::2')));
    expect(decodeAddress(one(ptp))).toMatchObject({ address: 'fd00::1', peer: 'fd00::2', flags: 0 });
  });

  it('skips other families; refuses wrong sizes and a message without an address', () => {
    expect(decodeAddress(one(msg(20, 0, 0, ifaddrmsg(17, 0, 0, 0, 1))))).toBeUndefined();
    expect(() => decodeAddress(one(msg(20, 0, 0, ifaddrmsg(2, 24, 0, 0, 1), attr(2, v6('fd00::1')))))).toThrow(/IFA_LOCAL holds 16 bytes, not 4/);
    expect(() => decodeAddress(one(msg(20, 0, 0, ifaddrmsg(10, 64, 0, 0, 1))))).toThrow(/neither IFA_LOCAL nor IFA_ADDRESS/);
    expect(() => decodeAddress(one(msg(20, 0, 0, Buffer.alloc(7))))).toThrow(/struct ifaddrmsg needs 8 bytes/);
  });
});

describe('encodeAddress', () => {
  it('adds with CREATE|EXCL and both IFA_LOCAL and IFA_ADDRESS, as ip does', () => {
    const got = encodeAddress('add', { ifindex: 7, family: 4, local: ip4('198.18.0.1'), prefix: 24 }).finish(9);
    expect(Buffer.from(got)).toEqual(msg(20, 0x605, 9, ifaddrmsg(2, 24, 0, 0, 7), attr(2, ip4('198.18.0.1')), attr(1, ip4('198.18.0.1'))));
  });

  it('puts an IPv6 peer in IFA_ADDRESS and flags in IFA_FLAGS; deletes without CREATE', () => {
    const got = encodeAddress('add', { ifindex: 3, family: 6, local: v6('fd00::1'), prefix: 128, peer: v6('fd00::2'), flags: 0x2 }).finish(1);
    expect(Buffer.from(got)).toEqual(msg(20, 0x605, 1, ifaddrmsg(10, 128, 2, 0, 3), attr(2, v6('fd00::1')), attr(1, v6('fd00::2')), attr(8, u32(2))));
    const del = encodeAddress('del', { ifindex: 3, family: 6, local: v6('fd00::1'), prefix: 64 }).finish(2);
    expect(Buffer.from(del)).toEqual(msg(21, 0x5, 2, ifaddrmsg(10, 64, 0, 0, 3), attr(2, v6('fd00::1')), attr(1, v6('fd00::1'))));
    expect(Buffer.from(encodeGetAddresses().finish(3))).toEqual(msg(22, 0x301, 3, ifaddrmsg(0, 0, 0, 0, 0)));
  });
});
