import { endianness } from 'node:os';
import { describe, expect, it } from 'vitest';
import { buildTunPi, ETH_P_ARP, ETH_P_IP, ETH_P_IPV6, header, TUN_PI_SIZE, TUN_PKT_STRIP } from '../../src/packet/tunPi.js';
import { expectThrows } from './helpers.js';

// The kernel writes tun_pi.flags in host byte order.
const stripFlagBytes = endianness() === 'LE' ? [0x01, 0x00] : [0x00, 0x01];

describe('tun_pi constants', () => {
  it('match the kernel headers', () => {
    expect(TUN_PKT_STRIP).toBe(0x0001);
    expect(ETH_P_IP).toBe(0x0800);
    expect(ETH_P_IPV6).toBe(0x86dd);
    expect(ETH_P_ARP).toBe(0x0806);
    expect(TUN_PI_SIZE).toBe(4);
  });
});

describe('header', () => {
  it('reads proto big-endian: bytes 08 00 are IPv4', () => {
    const pi = header(Buffer.from([0x00, 0x00, 0x08, 0x00, 0x45, 0x00]));
    expect(pi.proto).toBe(ETH_P_IP);
    expect(pi.flags).toBe(0);
  });

  it('reads proto 86 dd as IPv6, not 0xdd86', () => {
    expect(header(Buffer.from([0, 0, 0x86, 0xdd])).proto).toBe(0x86dd);
  });

  it('reads flags in host byte order', () => {
    const pi = header(Buffer.from([...stripFlagBytes, 0x08, 0x06]));
    expect(pi.flags).toBe(TUN_PKT_STRIP);
    expect(pi.proto).toBe(ETH_P_ARP);
  });

  it('returns the payload as a view of the input, not a copy', () => {
    const buf = Buffer.from([0, 0, 0x08, 0x00, 1, 2, 3]);
    const { payload } = header(buf);
    expect([...payload]).toEqual([1, 2, 3]);
    buf[4] = 99;
    expect(payload[0]).toBe(99);
  });

  it('accepts a plain Uint8Array and still returns a Buffer view', () => {
    const bytes = new Uint8Array([0xaa, 0, 0, 0x86, 0xdd, 7, 8]).subarray(1);
    const { proto, payload } = header(bytes);
    expect(proto).toBe(ETH_P_IPV6);
    expect(Buffer.isBuffer(payload)).toBe(true);
    expect([...payload]).toEqual([7, 8]);
    bytes[4] = 42;
    expect(payload[0]).toBe(42);
  });

  it('gives an empty payload for exactly 4 bytes', () => {
    expect(header(Buffer.from([0, 0, 8, 0])).payload.length).toBe(0);
  });

  it('throws RangeError for fewer than 4 bytes, saying what was given', () => {
    expectThrows(() => header(Buffer.from([0, 0, 8])), RangeError, /at least 4 bytes/, /got 3/, /IFF_NO_PI/);
    expectThrows(() => header(new Uint8Array(0)), RangeError, /got 0/);
  });

  it('throws TypeError for non-bytes', () => {
    expectThrows(() => header('0000' as unknown as Uint8Array), TypeError, /Uint8Array/, /string/);
    expectThrows(() => header([0, 0, 8, 0] as unknown as Uint8Array), TypeError, /Array/);
  });
});

describe('buildTunPi', () => {
  it('writes proto big-endian and zero flags by default', () => {
    expect([...buildTunPi(ETH_P_IPV6)]).toEqual([0, 0, 0x86, 0xdd]);
    expect([...buildTunPi(ETH_P_IP)]).toEqual([0, 0, 0x08, 0x00]);
  });

  it('writes flags in host byte order', () => {
    expect([...buildTunPi(ETH_P_IP, TUN_PKT_STRIP)]).toEqual([...stripFlagBytes, 0x08, 0x00]);
  });

  it('round-trips through header', () => {
    const pi = header(Buffer.concat([buildTunPi(0x1234, 0xbeef), Buffer.from([5])]));
    expect(pi).toMatchObject({ proto: 0x1234, flags: 0xbeef });
    expect([...pi.payload]).toEqual([5]);
  });

  it('rejects values that do not fit 16 bits', () => {
    expectThrows(() => buildTunPi(0x10000), RangeError, /proto/, /0 to 65535/, /65536/);
    expectThrows(() => buildTunPi(-1), RangeError, /proto/);
    expectThrows(() => buildTunPi(0x800, 1.5), RangeError, /flags/, /1\.5/);
    expectThrows(() => buildTunPi('0x800' as unknown as number), TypeError, /proto/, /string/);
  });
});
