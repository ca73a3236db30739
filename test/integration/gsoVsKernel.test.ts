// GsoSplitter against the kernel's own segmentation. A TCP super-packet (virtio header, TSO)
// written into one tun is forwarded by the kernel to a second tun that has no TSO, so the
// kernel segments it itself (software GSO on transmit); GsoSplitter splits the same
// super-packet, and every segment must be the kernel's, byte for byte, but for the hop the
// kernel took (TTL / hop limit one lower, so a different IPv4 header checksum).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import { tunctl } from '../../src/index.js';
import { GsoSplitter } from '../../src/offload/gsoSplitter.js';
import { SegmentBuffer } from '../../src/offload/segmentBuffer.js';
import { describeKernel, ifname } from '../helpers/kernel.js';
import { buildSuperPacket, checkPacket, copiesOf, flowArb, naiveSum, streamBytes, type Flow } from '../offload/helpers.js';

const DPORT = 5999;
let into: { fd: number; name: string };
let out: { fd: number; name: string };
const saved = new Map<string, string>();

function sysctl(path: string, value: string): void {
  const file = `/proc/sys/net/${path}`;
  if (!saved.has(file)) saved.set(file, readFileSync(file, 'utf8').trim());
  writeFileSync(file, value);
}

/** The next `n` TCP packets to DPORT that the kernel sends out of `out` (others, such as its own IPv6 chatter, are skipped). */
async function segmentsOut(n: number): Promise<Buffer[]> {
  const got: Buffer[] = [];
  const deadline = Date.now() + 3000;
  while (got.length < n && Date.now() < deadline) {
    const p = tunctl.read(out.fd);
    if (!p) {
      await sleep(1);
      continue;
    }
    const v6 = p[0]! >> 4 === 6;
    const l4 = v6 ? 40 : (p[0]! & 15) * 4;
    if ((v6 ? p[6] : p[9]) === 6 && p.readUInt16BE(l4 + 2) === DPORT) got.push(p);
  }
  return got;
}

/** The kernel's segment as if it had not been forwarded: our TTL / hop limit, the IPv4 header checksum to match. */
function unforwarded(p: Buffer, ttl: number): Buffer {
  const q = Buffer.from(p);
  if (q[0]! >> 4 === 6) {
    q[7] = ttl;
  } else {
    q[8] = ttl;
    q.writeUInt16BE(0, 10);
    q.writeUInt16BE(~naiveSum(q, 0, (q[0]! & 15) * 4) & 0xffff, 10);
  }
  return q;
}

describeKernel('GsoSplitter against the kernel’s own segmentation', () => {
  beforeAll(() => {
    into = tunctl.create(ifname('gi'), { mode: 'tun', vnetHdr: true });
    out = tunctl.create(ifname('go'), { mode: 'tun' });
    for (const [dev, net] of [[into.name, 74], [out.name, 75]] as const) {
      tunctl.addAddress(dev, `198.18.${net}.1/24`);
      tunctl.addAddress(dev, `fd00:${net}::1/64`, { nodad: true });
      tunctl.link(dev, true);
      sysctl(`ipv4/conf/${dev}/rp_filter`, '0');
    }
    // This file runs alone (files never run in parallel): forwarding is restored after it.
    sysctl('ipv4/conf/all/rp_filter', '0');
    sysctl('ipv4/ip_forward', '1');
    sysctl('ipv6/conf/all/forwarding', '1');
  });

  afterAll(() => {
    for (const [file, value] of saved) writeFileSync(file, value);
    saved.clear();
    tunctl.close(into.fd);
    tunctl.close(out.fd);
  });

  it('TCP over IPv4 and IPv6: every segment is the kernel’s, byte for byte (flags, sequence numbers, IDs, lengths, checksums)', async () => {
    const splitter = new GsoSplitter();
    const segs = new SegmentBuffer();
    let compared = 0;
    await fc.assert(
      fc.asyncProperty(
        flowArb({ tcp: true }),
        fc.integer({ min: 536, max: 1400 }),
        fc.integer({ min: 1, max: 60_000 }),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.constantFrom(0x18, 0x19, 0x10), // ACK|PSH, ACK|PSH|FIN, ACK
        fc.integer({ min: 0, max: 0xffff }),
        async (arb, mss, extra, seq, flags, id) => {
          const v6 = arb.v6;
          const flow: Flow = {
            ...arb,
            // From a host behind `into`, to one behind `out`: the kernel forwards it.
            src: v6 ? Uint8Array.of(0xfd, 0, 0, 0x74, ...new Array<number>(11).fill(0), 2) : Uint8Array.of(198, 18, 74, 2),
            dst: v6 ? Uint8Array.of(0xfd, 0, 0, 0x75, ...new Array<number>(11).fill(0), 2) : Uint8Array.of(198, 18, 75, 2),
            dport: DPORT,
            ttl: Math.max(arb.ttl, 2),
            tos: arb.tos & 0xfc, // ECN bits: the kernel's CE handling is not the point here
          };
          const payload = streamBytes(mss + extra, seq);
          const sp = buildSuperPacket(flow, payload, mss, { seq, flags, id });
          const n = splitter.split(sp, segs);
          const ours = copiesOf(segs);
          segs.clear();
          expect(n).toBe(Math.ceil(payload.length / mss));
          tunctl.write(into.fd, sp);
          const theirs = await segmentsOut(n);
          expect(theirs.length).toBe(n);
          for (let i = 0; i < n; i++) {
            checkPacket(theirs[i]!); // the kernel's own checksums hold
            const k = unforwarded(theirs[i]!, flow.ttl);
            const o = ours[i]!;
            if (Buffer.compare(k, o) !== 0) {
              let at = 0;
              while (at < Math.min(k.length, o.length) && k[at] === o[at]) at++;
              throw new Error(`segment ${i} of ${n} (IPv${v6 ? 6 : 4}, mss ${mss}) differs from the kernel's at byte ${at}: kernel ${k.subarray(at, at + 8).toString('hex')}, ours ${o.subarray(at, at + 8).toString('hex')} (lengths ${k.length}/${o.length})`);
            }
            compared += 1;
          }
        },
      ),
      { numRuns: 40 },
    );
    expect(compared).toBeGreaterThan(40);
  }, 60_000);
});
