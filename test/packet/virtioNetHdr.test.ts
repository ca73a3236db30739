import { describe, expect, it } from 'vitest';
import {
  buildVirtioNetHdr,
  parseVirtioNetHdr,
  VIRTIO_NET_HDR_F_DATA_VALID,
  VIRTIO_NET_HDR_F_NEEDS_CSUM,
  VIRTIO_NET_HDR_GSO_ECN,
  VIRTIO_NET_HDR_GSO_NONE,
  VIRTIO_NET_HDR_GSO_TCPV4,
  VIRTIO_NET_HDR_GSO_TCPV6,
  VIRTIO_NET_HDR_GSO_UDP,
  VIRTIO_NET_HDR_GSO_UDP_L4,
} from '../../src/packet/virtioNetHdr.js';
import { expectThrows, hex } from './helpers.js';

describe('virtio_net_hdr constants', () => {
  it('match linux/virtio_net.h', () => {
    expect([VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_F_DATA_VALID]).toEqual([1, 2]);
    expect([
      VIRTIO_NET_HDR_GSO_NONE,
      VIRTIO_NET_HDR_GSO_TCPV4,
      VIRTIO_NET_HDR_GSO_UDP,
      VIRTIO_NET_HDR_GSO_TCPV6,
      VIRTIO_NET_HDR_GSO_UDP_L4,
      VIRTIO_NET_HDR_GSO_ECN,
    ]).toEqual([0, 1, 3, 4, 5, 0x80]);
  });
});

describe('parseVirtioNetHdr', () => {
  // A TSO header: NEEDS_CSUM, TCPV4, hdr_len 54, gso_size 1448, csum_start 34, csum_offset 16.
  const tso = hex('01 01 3600 a805 2200 1000');

  it('reads little-endian fields of the 10-byte header', () => {
    const h = parseVirtioNetHdr(Buffer.concat([tso, hex('45')]));
    expect(h).toEqual({
      flags: VIRTIO_NET_HDR_F_NEEDS_CSUM,
      gsoType: VIRTIO_NET_HDR_GSO_TCPV4,
      hdrLen: 54,
      gsoSize: 1448,
      csumStart: 34,
      csumOffset: 16,
    });
    expect('numBuffers' in h).toBe(false);
  });

  it('reads num_buffers from the 12-byte header', () => {
    expect(parseVirtioNetHdr(Buffer.concat([tso, hex('0300')]), 12).numBuffers).toBe(3);
  });

  it('reads 16-bit maxima without sign trouble', () => {
    const h = parseVirtioNetHdr(hex('ff ff ffff ffff ffff ffff ffff'), 12);
    expect(h).toEqual({ flags: 255, gsoType: 255, hdrLen: 65535, gsoSize: 65535, csumStart: 65535, csumOffset: 65535, numBuffers: 65535 });
  });

  it('rejects short buffers and bad sizes', () => {
    expectThrows(() => parseVirtioNetHdr(tso.subarray(0, 9)), RangeError, /at least 10 bytes/, /got 9/);
    expectThrows(() => parseVirtioNetHdr(tso, 12), RangeError, /at least 12 bytes/, /got 10/);
    expectThrows(() => parseVirtioNetHdr(tso, 11 as 10), RangeError, /10 .* or 12/, /got 11/);
    expectThrows(() => parseVirtioNetHdr(null as unknown as Uint8Array), TypeError, /Uint8Array/, /null/);
  });
});

describe('buildVirtioNetHdr', () => {
  it('builds all-zero headers from {}', () => {
    expect([...buildVirtioNetHdr({})]).toEqual(new Array(10).fill(0));
    expect(buildVirtioNetHdr({}, 12).length).toBe(12);
  });

  it('writes the known TSO header byte for byte', () => {
    const built = buildVirtioNetHdr({
      flags: VIRTIO_NET_HDR_F_NEEDS_CSUM,
      gsoType: VIRTIO_NET_HDR_GSO_TCPV4,
      hdrLen: 54,
      gsoSize: 1448,
      csumStart: 34,
      csumOffset: 16,
    });
    expect(built.toString('hex')).toBe('010136 00a8052200 1000'.replace(/ /g, ''));
  });

  it('round-trips through parseVirtioNetHdr', () => {
    const h = { flags: 2, gsoType: 0x85, hdrLen: 42, gsoSize: 1400, csumStart: 40, csumOffset: 6, numBuffers: 1 };
    expect(parseVirtioNetHdr(buildVirtioNetHdr(h, 12), 12)).toEqual(h);
  });

  it('rejects fields that do not fit and numBuffers in the 10-byte form', () => {
    expectThrows(() => buildVirtioNetHdr({ flags: 256 }), RangeError, /flags/, /0 to 255/, /256/);
    expectThrows(() => buildVirtioNetHdr({ gsoSize: 70000 }), RangeError, /gsoSize/, /0 to 65535/);
    expectThrows(() => buildVirtioNetHdr({ hdrLen: '54' as unknown as number }), TypeError, /hdrLen/);
    expectThrows(() => buildVirtioNetHdr({ numBuffers: 1 }), RangeError, /numBuffers/, /size 12/);
    expectThrows(() => buildVirtioNetHdr({}, 14 as 12), RangeError, /got 14/);
    expectThrows(() => buildVirtioNetHdr(null as unknown as object), TypeError, /object/);
  });
});
