#!/usr/bin/env node
// udptunnel: one end of a point-to-point IP tunnel over UDP, each packet one datagram.
//
//   node udptunnel.mjs --bind 198.19.0.2:7000 --peer 198.19.0.1:7000 --local 198.18.80.2/24 [--offload]
//   node udptunnel.mjs --bind 198.19.0.1:7000 --peer 198.19.0.2:7000 --local 198.18.80.1/24 [--offload]
//
// The tun is a supervised child (one_for_one): if its worker dies, the supervisor makes it
// again with the same name, MTU, addresses and offloads. Both ends are alike: each binds its
// own UDP address and sends to the other's (a connected UDP socket).
//
// Plain mode: the tun's MTU (1420 by default) leaves room for the outer IP and UDP headers
// (20 + 8, or 40 + 8 over IPv6) in the path's 1500 bytes; each packet read is one datagram,
// each datagram received is one packet written.
//
// --offload: offloads on both sides of the end, as wireguard-go has them.
// - The tun has a vnet header and `offload: 'auto'` (TSO/USO, checked GRO writes): the kernel
//   hands out TCP super-packets of up to 64 KiB, and GsoSplitter cuts each into the MTU-size
//   segments the kernel would have sent (IP/TCP headers and checksums done in JS).
// - The UDP socket sends a run of same-size datagrams in one sendmsg (UDP_SEGMENT: the kernel
//   cuts the buffer, so the wire sees exactly the datagrams plain mode sends), and receives a
//   run of the peer's datagrams in one recvmsg (UDP_GRO). GroCoalescer joins the packets of a
//   run into super-packets, each one write into the tun.
// Both ends must run in the same mode: the datagrams are plain IP packets either way, but
// only an --offload end writes super-packets. Plain mode uses the same socket, one datagram
// per sendmsg and per recvmsg, so the two modes differ only by the offloads.
//
// Flow control:
// - tun → peer: the tun is passive and read in batches (`batches()`); the next batch is asked
//   for once the datagrams of this one have left (the socket's send queue, when the kernel's
//   buffer is full, is waited out); meanwhile packets wait in the ring, then in the kernel's
//   queue, which drops when full, as a NIC does.
// - peer → tun: each datagram (or, with --offload, each run's super-packets) goes into the tx
//   ring at once; what the ring cannot take waits in `sendAll()` in order, and past
//   BACKLOG_MAX packets waiting more datagrams are dropped, as UDP may (TCP inside the tunnel
//   retransmits).
import { parseArgs } from 'node:util';
import { Supervisor, TuncerClosedError, UdpSocket, offload, tuncerChild } from 'tunctl';

const { GsoSplitter, GroCoalescer, SegmentBuffer, OffloadError } = offload;

const usage = `usage: udptunnel.mjs --bind ADDR:PORT --peer ADDR:PORT --local CIDR [--local CIDR...]
                     [--name udpt0] [--mtu 1420] [--offload]`;

const { values: opt } = parseArgs({
  options: {
    bind: { type: 'string' },
    peer: { type: 'string' },
    local: { type: 'string', multiple: true, default: [] },
    name: { type: 'string', default: 'udpt0' },
    mtu: { type: 'string', default: '1420' },
    offload: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (opt.help || !opt.bind || !opt.peer) {
  console.error(usage);
  process.exit(opt.help ? 0 : 2);
}

const NAME = opt.name;
const MTU = Number(opt.mtu);
const OFFLOAD = opt.offload;
/** Packets waiting for room in the tun's tx ring before datagrams are dropped. */
const BACKLOG_MAX = 4096;
const log = (msg) => console.log(`udptunnel ${NAME}: ${msg}`);

/** Most datagrams one UDP_SEGMENT send may carry (the kernel's UDP_MAX_SEGMENTS), and bytes. */
const GSO_MAX_SEGMENTS = 64;
const GSO_MAX_BYTES = 65535 - 8 - 40;

const stats = { toPeer: 0, fromPeer: 0, superRead: 0, segments: 0, superWritten: 0, merged: 0, dropped: 0, badPackets: 0, notIp: 0, sendErrors: 0 };

// What the interface logs (offload set-up, fallbacks): a line each, never per packet.
let groUdp = false; // the kernel took a coalesced UDP write (GSO_UDP_L4, Linux 6.2)
const ifLog = {
  child: () => ifLog,
  debug() {},
  info(data, msg) {
    if (typeof msg !== 'string' || !msg.startsWith('offload set up')) return;
    groUdp = data?.write?.udp === true;
    log(`${msg} (read tcp ${data?.read?.tcp}, udp ${data?.read?.udp}; GRO writes tcp ${data?.write?.tcp}, udp ${data?.write?.udp})`);
  },
  warn: (data, msg) => log(`warning: ${typeof data === 'string' ? data : msg}`),
  error: (data, msg) => log(`error: ${typeof data === 'string' ? data : msg}`),
};

// ---- the supervised interface ----

const sup = await Supervisor.start({
  name: 'udptunnel',
  strategy: 'one_for_one',
  intensity: 5,
  period: 10,
  children: [
    tuncerChild({
      name: NAME,
      mode: 'tun',
      mtu: MTU,
      addresses: opt.local,
      active: false,
      logger: ifLog,
      ...(OFFLOAD ? { vnetHdr: true, offload: 'auto' } : {}),
    }),
  ],
  observer: {
    next: (e) => {
      if (e.type === 'child.exited' && e.by === 'self') log(`interface exited: ${e.reason instanceof Error ? e.reason.message : String(e.reason)}`);
      if (e.type === 'child.started' && e.restart) log('interface restarted by the supervisor');
    },
  },
});
let current; // the running Tuncer
sup.instance$(NAME).subscribe((t) => (current = t));

// ---- the UDP socket ----

let lastSendError = '';
/** A peer's ICMP error (ECONNREFUSED while it is not up yet): counted, logged once per kind. */
function peerError(err) {
  stats.sendErrors += 1;
  if (err.code !== lastSendError) log(`socket: ${err.message}`);
  lastSendError = err.code;
}
const sock = UdpSocket.open({ bind: opt.bind, connect: opt.peer, gro: OFFLOAD, bufferBytes: 4 << 20 });
log(`up, tun ${NAME} mtu ${MTU} with ${opt.local.join(', ') || 'no addresses'}; udp ${opt.bind} -> ${opt.peer}${OFFLOAD ? '; offload: GSO split + UDP_SEGMENT, UDP_GRO + GRO coalesce' : ''}`);

// ---- tun → peer ----

let stopping = false;

/** Send one datagram (or, with `segmentSize`, a run of them), waiting while the socket's buffer is full. */
async function sendDatagram(data, segmentSize) {
  const opts = segmentSize ? { segmentSize } : undefined;
  for (;;) {
    try {
      if (sock.trySend(data, opts)) return;
    } catch (err) {
      if (sock.closed) return;
      peerError(err); // the datagram is lost, as UDP may lose it
      return;
    }
    await sock.writable();
  }
}

/**
 * --offload: datagrams gathered into runs for UDP_SEGMENT. A run is datagrams of one size,
 * back to back, and may end with one shorter datagram (the kernel cuts at the size, so the
 * last piece is whatever is left). One copy per datagram, into `run`.
 */
const run = new Uint8Array(GSO_MAX_BYTES);
let runBytes = 0;
let runSize = 0;
let runCount = 0;

async function flushRun() {
  if (runCount === 0) return;
  const data = run.subarray(0, runBytes);
  const size = runCount > 1 ? runSize : 0;
  stats.toPeer += runCount;
  runBytes = runSize = runCount = 0;
  await sendDatagram(data, size);
}

async function queueDatagram(src, offset, length) {
  const closesRun = runCount > 0 && length < runSize; // a shorter one ends the run
  if (runCount > 0 && (length > runSize || runCount === GSO_MAX_SEGMENTS || runBytes + length > GSO_MAX_BYTES)) await flushRun();
  if (runCount === 0) runSize = length;
  run.set(src.subarray(offset, offset + length), runBytes);
  runBytes += length;
  runCount += 1;
  if (closesRun) await flushRun();
}

async function tunToPeer() {
  const splitter = OFFLOAD ? new GsoSplitter() : undefined;
  // Room for a batch's segments: 256 packets of up to 64 KiB would not fit, so a full buffer
  // is sent, cleared, and the split retried.
  const out = OFFLOAD ? new SegmentBuffer(4096, 8 << 20) : undefined;
  const flushOut = async () => {
    for (let i = 0; i < out.count; i++) await queueDatagram(out.data, out.offset(i), out.lengthOf(i));
    out.clear();
    await flushRun();
  };
  while (!stopping) {
    let t;
    try {
      t = await sup.whenRunning(NAME);
    } catch {
      return; // the supervisor is gone
    }
    try {
      for await (const batch of t.batches({ max: 256 })) {
        if (!splitter) {
          // One datagram per packet; the views stay valid until the loop asks for the next batch.
          for (let i = 0; i < batch.length; i++) await sendDatagram(batch.packet(i));
          stats.toPeer += batch.length;
          continue;
        }
        for (let i = 0; i < batch.length; i++) {
          let n;
          try {
            n = splitter.splitAt(batch.data, batch.offset(i), batch.lengthOf(i), out);
          } catch (err) {
            if (!(err instanceof OffloadError)) throw err;
            if (err.code !== 'NO_ROOM') {
              stats.badPackets += 1; // a packet the engine refuses is dropped, never sent half-made
              continue;
            }
            await flushOut();
            n = splitter.splitAt(batch.data, batch.offset(i), batch.lengthOf(i), out);
          }
          if (n > 1) {
            stats.superRead += 1;
            stats.segments += n;
          }
        }
        await flushOut();
      }
    } catch (err) {
      if (!(err instanceof TuncerClosedError)) log(`reading the tun: ${err.message}`);
    }
    if (!stopping) await new Promise((r) => setTimeout(r, 5)); // let the supervisor see the exit
  }
}

// ---- peer → tun ----

const gro = OFFLOAD ? new GroCoalescer({ tcp: true, udp: groUdp }) : undefined;
const groOut = OFFLOAD ? new SegmentBuffer(1024, 4 << 20) : undefined;
const backlog = []; // packets (owned copies) waiting for room in the tx ring, in order
let draining = false;

/** A received run as the coalescer reads it: datagram i is data[i * size, ...), no view per datagram. */
const received = {
  data: new Uint8Array(0),
  size: 0,
  length: 0,
  offset(i) {
    return i * this.size;
  },
  lengthOf(i) {
    return Math.min(this.size, this.data.length - i * this.size);
  },
};

/** Into the tx ring now if it has room and nothing waits before it, else (a copy) into the backlog. */
function toTun(packet) {
  const t = current;
  if (!draining && t) {
    try {
      if (t.trySend(packet)) return;
    } catch {
      // not running (restarting): the backlog waits for the next instance
    }
  }
  if (backlog.length >= BACKLOG_MAX) {
    stats.dropped += 1;
    return;
  }
  backlog.push(Buffer.from(packet)); // the socket's buffer (and groOut) is reused
  if (!draining) void drain();
}

/** What is not an IP packet (empty, or not version 4 or 6) is dropped here, never handed to the tun or the coalescer. */
function isIp(data, offset, length) {
  const version = length >= 20 ? data[offset] >> 4 : 0;
  if (version === 4 || version === 6) return true;
  stats.notIp += 1;
  return false;
}

sock.listen((m) => {
  if (!gro) {
    stats.fromPeer += 1;
    if (isIp(m.data, 0, m.data.length)) toTun(m.data);
    return;
  }
  if (m.data.length === 0) {
    stats.fromPeer += 1;
    stats.notIp += 1; // an empty datagram: nothing to coalesce
    return;
  }
  received.data = m.data;
  received.size = m.segmentSize || m.data.length;
  received.length = Math.ceil(m.data.length / received.size);
  stats.fromPeer += received.length;
  let source = received;
  for (let i = 0; i < received.length; i++) {
    if (isIp(m.data, received.offset(i), received.lengthOf(i))) continue;
    // A stray datagram in the run (rare): coalesce the IP packets of it only.
    source = [];
    for (let j = 0; j < received.length; j++) {
      const o = received.offset(j);
      const len = received.lengthOf(j);
      if (j === i || (j > i && !isIp(m.data, o, len))) continue;
      source.push(m.data.subarray(o, o + len));
    }
    break;
  }
  groOut.clear();
  const before = gro.stats.superPackets;
  const mergedBefore = gro.stats.merged;
  gro.coalesce(source, groOut);
  stats.superWritten += gro.stats.superPackets - before;
  stats.merged += gro.stats.merged - mergedBefore;
  for (let i = 0; i < groOut.count; i++) toTun(groOut.packet(i));
}, peerError);

/** sendAll() the backlog on the running instance, waiting for room and for a restart. */
async function drain() {
  draining = true;
  while (backlog.length > 0 && !stopping) {
    const chunk = backlog.splice(0);
    try {
      const t = await sup.whenRunning(NAME);
      await t.sendAll(chunk);
    } catch (err) {
      if (stopping) break;
      if (!(err instanceof TuncerClosedError)) log(`writing to the tun: ${err.message}`);
      stats.dropped += chunk.length; // lost with the instance, as a NIC's queue is on reset
      await new Promise((r) => setTimeout(r, 5));
    }
  }
  draining = false;
}

const pump = tunToPeer();

// ---- ending ----

async function shutdown(code) {
  if (stopping) return;
  stopping = true;
  await sup.stop();
  await pump.catch(() => {});
  sock.close();
  const off = OFFLOAD ? `; super-packets read ${stats.superRead} (split into ${stats.segments} datagrams), super-packets written ${stats.superWritten} (from ${stats.merged} datagrams)` : '';
  log(`stopped; datagrams to peer ${stats.toPeer}, from peer ${stats.fromPeer}${off}; dropped ${stats.dropped}, refused by the engine ${stats.badPackets}, not IP ${stats.notIp}, socket errors ${stats.sendErrors}`);
  process.exit(code);
}

// Supervision drill: SIGUSR2 makes the tun's worker thread throw; the supervisor restarts it.
process.on('SIGUSR2', () => {
  log('SIGUSR2: crashing the interface worker');
  void sup.whenRunning(NAME).then((t) => t.injectFault('throw'));
});
process.once('SIGINT', () => void shutdown(0));
process.once('SIGTERM', () => void shutdown(0));
void sup.exit.then(() => {
  if (!stopping) {
    log('the supervisor gave up on the interface');
    void shutdown(1);
  }
});
