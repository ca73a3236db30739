// offload scenario: the GSO/GRO engine alone, on one core, no device. 64 KiB TCPv4
// super-packets (gso_size 1400, 46 segments each) are split into MTU-size segments
// (gso.split.tcp), and the segments of each super-packet are coalesced back (gro.coalesce.tcp).
// Figure: Gb/s of TCP payload. The target is >= 10 Gb/s each.
import { scenario, args, loadLib } from './lib.mjs';

const opts = args();
const SECS = opts.secs ?? (opts.quick ? 1 : 3);
const GSO = 1400;
const SEGS = 46; // 46 x 1400 = 64400 bytes of payload: a 64 KiB super-packet
const BATCH = 16; // distinct super-packets per round, so the data is not all in L1

const { offload, packet } = await loadLib();
const { GsoSplitter, GroCoalescer, SegmentBuffer } = offload;

/** A TSO super-packet as the kernel hands it out: virtio header, IPv4, TCP with timestamps. */
function superPacket(seq, fill) {
  const payload = Buffer.alloc(GSO * SEGS, fill);
  const tcp = Buffer.alloc(32 + payload.length);
  tcp.writeUInt16BE(40000, 0);
  tcp.writeUInt16BE(5201, 2);
  tcp.writeUInt32BE(seq, 4);
  tcp.writeUInt32BE(1, 8);
  tcp[12] = 8 << 4;
  tcp[13] = 0x18;
  tcp.writeUInt16BE(502, 14);
  tcp.set([1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2], 20);
  payload.copy(tcp, 32);
  const src = packet.parseIp('198.18.0.1').bytes;
  const dst = packet.parseIp('198.18.0.2').bytes;
  tcp.writeUInt16BE(packet.pseudoHeaderSum4(src, dst, 6, tcp.length), 16); // partial, as with NEEDS_CSUM
  const ip = packet.buildIpv4Packet({ src, dst, protocol: 6, payload: tcp, dontFragment: true, identification: seq & 0xffff });
  const hdr = packet.buildVirtioNetHdr({ flags: 1, gsoType: 1, hdrLen: 52, gsoSize: GSO, csumStart: 20, csumOffset: 16 });
  return Buffer.concat([hdr, ip]);
}

function timed(body) {
  for (let i = 0; i < 200; i++) body(); // warm up the JIT
  let rounds = 0;
  const t0 = process.hrtime.bigint();
  const stop = t0 + BigInt(SECS * 1e9);
  let now = t0;
  while (now < stop) {
    for (let k = 0; k < 20; k++) body();
    rounds += 20;
    now = process.hrtime.bigint();
  }
  return { rounds, ns: Number(now - t0) };
}

await scenario(async (out) => {
  const supers = Array.from({ length: BATCH }, (_, i) => superPacket((i * GSO * SEGS) >>> 0, i));
  const payloadBytes = BATCH * GSO * SEGS;

  // Split: every super-packet of the batch into one SegmentBuffer, cleared each round.
  const splitter = new GsoSplitter();
  const segs = new SegmentBuffer(BATCH * SEGS, 4 << 20);
  const split = timed(() => {
    segs.clear();
    for (let i = 0; i < BATCH; i++) splitter.split(supers[i], segs);
  });
  if (segs.count !== BATCH * SEGS) throw new Error(`split gave ${segs.count} segments, expected ${BATCH * SEGS}`);
  const splitGbps = (split.rounds * payloadBytes * 8) / split.ns;
  out.metrics.push({ id: 'gso.split.tcp', value: splitGbps, unit: 'Gb/s', extra: { rounds: split.rounds, ms: split.ns / 1e6 } });

  // Coalesce: the segments of the batch, read in place from the SegmentBuffer above.
  const gro = new GroCoalescer({ tcp: true });
  const merged = new SegmentBuffer(BATCH * SEGS, 4 << 20);
  const coalesce = timed(() => {
    merged.clear();
    gro.coalesce(segs, merged);
  });
  if (merged.count !== BATCH) throw new Error(`coalesce gave ${merged.count} packets, expected ${BATCH}`);
  const groGbps = (coalesce.rounds * payloadBytes * 8) / coalesce.ns;
  out.metrics.push({ id: 'gro.coalesce.tcp', value: groGbps, unit: 'Gb/s', extra: { rounds: coalesce.rounds, ms: coalesce.ns / 1e6 } });
  for (const [id, v] of [['gso.split.tcp', splitGbps], ['gro.coalesce.tcp', groGbps]]) {
    out.notes.push(`${id}: ${v.toFixed(2)} Gb/s of payload (target >= 10 Gb/s: ${v >= 10 ? 'ok' : 'MISS'})`);
  }
});
