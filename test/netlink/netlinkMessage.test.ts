import { describe, expect, it } from 'vitest';
import {
  NetlinkBuilder, NetlinkParseError, align4, attrBytes, attrString, attrU32, attrU8, fixedHeader, parseAttributes, parseDone,
  parseError, parseMessages,
} from '../../src/netlink/netlinkMessage.js';
import { attr, doneMsg, errorMsg, msg, str, u32, u8 } from '../helpers/rtnetlinkWire.js';

describe('parseMessages', () => {
  it('splits a datagram into its messages, skipping the padding between them', () => {
    const a = msg(16, 2, 7, Buffer.from([1, 2, 3, 4, 5])); // 21 bytes, padded to 24
    const b = msg(20, 0, 8, Buffer.alloc(8, 9));
    const [m1, m2, ...rest] = parseMessages(Buffer.concat([a, b]));
    expect(rest).toEqual([]);
    expect(m1).toMatchObject({ type: 16, flags: 2, seq: 7, pid: 0 });
    expect([...m1!.payload]).toEqual([1, 2, 3, 4, 5]);
    expect(m2).toMatchObject({ type: 20, seq: 8 });
    expect(m2!.payload.length).toBe(8);
  });

  it('takes an empty datagram as no messages', () => {
    expect(parseMessages(new Uint8Array(0))).toEqual([]);
  });

  it.each([
    ['a header cut short', Buffer.alloc(15), /too few for a 16-byte message header/],
    ['a length under the header size', (() => { const b = msg(16, 0, 1, Buffer.alloc(4)); b.writeUInt32LE(12, 0); return b; })(), /shorter than its header/],
    ['a length past the end', (() => { const b = msg(16, 0, 1, Buffer.alloc(4)); b.writeUInt32LE(400, 0); return b; })(), /runs past the 20 bytes left/],
    ['a second message cut short', Buffer.concat([msg(16, 0, 1, Buffer.alloc(4)), Buffer.alloc(6)]), /6 bytes left/],
  ])('refuses %s with a NetlinkParseError', (_what, bytes, message) => {
    expect(() => parseMessages(bytes)).toThrow(NetlinkParseError);
    expect(() => parseMessages(bytes)).toThrow(message);
  });
});

describe('parseAttributes and the readers', () => {
  const payload = Buffer.concat([Buffer.alloc(8), attr(3, str('tun0')), attr(4 | 0x8000, u32(1500)), attr(4, u32(9)), attr(16, u8(6)), attr(1, Buffer.alloc(0))]);

  it('reads attributes after a fixed header, masks the flag bits, keeps the first of a repeated type', () => {
    const a = parseAttributes(payload, 8);
    expect(attrString(a, 3)).toBe('tun0');
    expect(attrU32(a, 4, 'mtu')).toBe(1500);
    expect(attrU8(a, 16, 'operstate')).toBe(6);
    expect(a.get(1)?.length).toBe(0);
    expect(attrU32(a, 99, 'absent')).toBeUndefined();
  });

  it('refuses values of the wrong size, and a fixed header longer than the payload', () => {
    const a = parseAttributes(payload, 8);
    expect(() => attrU8(a, 4, 'IFLA_MTU')).toThrow(/IFLA_MTU holds 4 bytes, not 1/);
    expect(() => attrU32(a, 3, 'IFLA_IFNAME')).toThrow(NetlinkParseError);
    expect(() => attrBytes(a, 4, 16, 'IFA_ADDRESS')).toThrow(/holds 4 bytes, not 16/);
    expect(() => parseAttributes(Buffer.alloc(4), 8)).toThrow(NetlinkParseError);
    expect(() => fixedHeader(Buffer.alloc(11), 12, 'struct rtmsg')).toThrow(/struct rtmsg needs 12 bytes, the message has 11/);
  });

  it('refuses attributes cut short or pointing past the end', () => {
    expect(() => parseAttributes(Buffer.concat([attr(3, str('x')), Buffer.alloc(2)]))).toThrow(/2 bytes left/);
    const long = attr(3, str('tun0'));
    long.writeUInt16LE(200, 0);
    expect(() => parseAttributes(long)).toThrow(/past the 12 bytes left/);
    const short = attr(3, str('tun0'));
    short.writeUInt16LE(2, 0);
    expect(() => parseAttributes(short)).toThrow(/shorter than its header/);
  });

  it('reads a string without a NUL whole, and up to the first NUL otherwise', () => {
    expect(attrString(parseAttributes(attr(3, Buffer.from('abc'))), 3)).toBe('abc');
    expect(attrString(parseAttributes(attr(3, Buffer.from('ab\0cd\0'))), 3)).toBe('ab');
  });
});

describe('parseError and parseDone', () => {
  it('an acknowledgement is errno 0', () => {
    expect(parseError(parseMessages(errorMsg(5, 0))[0]!)).toEqual({ errno: 0, message: undefined });
  });

  it('reads the errno and the extended-ack text after a capped echo', () => {
    expect(parseError(parseMessages(errorMsg(5, 22, { extack: 'Invalid prefix for given prefix length' }))[0]!)).toEqual({
      errno: 22,
      message: 'Invalid prefix for given prefix length',
    });
  });

  it('finds the text after a whole echoed request too', () => {
    const request = msg(20, 5, 5, Buffer.alloc(8), attr(2, Buffer.alloc(4)));
    expect(parseError(parseMessages(errorMsg(5, 17, { request, extack: 'exists' }))[0]!)).toEqual({ errno: 17, message: 'exists' });
  });

  it('keeps the errno when the extended ack is garbage, and refuses an error without its code', () => {
    const bad = errorMsg(5, 19, { extack: 'x' });
    bad.writeUInt16LE(0xff, 16 + 4 + 16); // the text attribute's length now points past the end
    expect(parseError(parseMessages(bad)[0]!)).toEqual({ errno: 19, message: undefined });
    expect(() => parseError(parseMessages(msg(2, 0, 1, Buffer.alloc(2)))[0]!)).toThrow(/struct nlmsgerr needs 4 bytes/);
    const positive = errorMsg(5, 0);
    positive.writeInt32LE(5, 16);
    expect(() => parseError(parseMessages(positive)[0]!)).toThrow(/positive/);
  });

  it('reads the status of a dump', () => {
    expect(parseDone(parseMessages(doneMsg(3))[0]!)).toEqual({ errno: 0, message: undefined });
    expect(parseDone(parseMessages(doneMsg(3, 22))[0]!).errno).toBe(22);
    expect(parseDone(parseMessages(msg(3, 2, 3, Buffer.alloc(0)))[0]!).errno).toBe(0);
  });
});

describe('NetlinkBuilder', () => {
  it('writes the same bytes as the uapi layout, attributes padded to 4', () => {
    const b = new NetlinkBuilder(18, 5);
    b.fixed(16).setInt32(4, 7, true);
    b.attrString(3, 'tun0');
    b.attrU32(4, 1400);
    b.attr(1, Uint8Array.of(1, 2, 3, 4, 5, 6));
    const fixed = Buffer.alloc(16);
    fixed.writeInt32LE(7, 4);
    expect(Buffer.from(b.finish(42))).toEqual(msg(18, 5, 42, fixed, attr(3, str('tun0')), attr(4, u32(1400)), attr(1, Buffer.from([1, 2, 3, 4, 5, 6]))));
  });

  it('grows past its first buffer, and refuses a request over 64 KiB', () => {
    const b = new NetlinkBuilder(16, 1);
    for (let i = 0; i < 100; i++) b.attr(1, new Uint8Array(100));
    const out = b.finish(1);
    expect(out.length).toBe(16 + 100 * align4(104));
    expect(parseAttributes(out, 16).get(1)?.length).toBe(100);
    expect(() => b.attr(1, new Uint8Array(60_000))).toThrow(RangeError);
  });
});
