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
// --offload: the tun has a vnet header and `offload: 'auto'` (TSO/USO, checked GRO writes).
// The kernel hands out TCP super-packets of up to 64 KiB; GsoSplitter cuts each into the
// MTU-size segments the kernel would have sent (IP/TCP headers and checksums done in JS), and
// each segment goes out as one datagram: the wire sees exactly what plain mode sends. On the
// way in, the datagrams received in one turn of the event loop (up to 32 from libuv's read
// loop) are coalesced by GroCoalescer into super-packets, each one write into the tun. Both
// ends must run in the same mode: the datagrams are plain IP packets either way, but only an
// --offload end writes super-packets.
//
// Flow control:
// - tun → peer: the tun is passive and read in batches (`batches()`); the next batch is asked
//   for once the datagrams of this one have left (the socket's send queue, when the kernel's
//   buffer is full, is waited out); meanwhile packets wait in the ring, then in the kernel's
//   queue, which drops when full, as a NIC does.
// - peer → tun: the datagrams of one turn go in with one `sendBatch()`; what the tx ring
//   cannot take waits in `sendAll()` in order, and past BACKLOG_MAX packets waiting more
//   datagrams are dropped, as UDP may (TCP inside the tunnel retransmits).
import { createSocket } from 'node:dgram';
import { parseArgs } from 'node:util';
import { Supervisor, TuncerClosedError, offload, tuncerChild } from 'tunctl';

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

/** "198.19.0.2:7000" or "[fd00::2]:7000" → { host, port } */
function hostPort(text) {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text);
  if (!m) throw new Error(`expected ADDR:PORT or [IPv6]:PORT, got ${JSON.stringify(text)}`);
  return { host: m[1], port: Number(m[2]) };
}

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

const bind = hostPort(opt.bind);
const peer = hostPort(opt.peer);
const sock = createSocket({ type: bind.host.includes(':') ? 'udp6' : 'udp4', recvBufferSize: 4 << 20, sendBufferSize: 4 << 20 });
let lastSendError = '';
sock.on('error', (err) => {
  // A connected UDP socket reports the peer's ICMP errors (ECONNREFUSED while it is not up yet).
  stats.sendErrors += 1;
  if (err.code !== lastSendError) log(`socket: ${err.message}`);
  lastSendError = err.code;
});
await new Promise((resolve, reject) => {
  sock.once('error', reject);
  sock.bind(bind.port, bind.host, () => {
    sock.off('error', reject);
    resolve();
  });
});
await new Promise((resolve) => sock.connect(peer.port, peer.host, resolve));
log(`up, tun ${NAME} mtu ${MTU} with ${opt.local.join(', ') || 'no addresses'}; udp ${opt.bind} -> ${opt.peer}${OFFLOAD ? '; offload: GSO split, GRO coalesce' : ''}`);

// ---- tun → peer ----

let stopping = false;

/**
 * Send `count` packets through `packetAt(i)` as datagrams; resolves once all have left the
 * process (their memory may be reused then). The callback of the last one is the only one
 * asked for: a socket's sends complete in order.
 */
function sendDatagrams(count, packetAt) {
  if (count === 0) return Promise.resolve();
  for (let i = 0; i < count - 1; i++) sock.send(packetAt(i));
  stats.toPeer += count;
  return new Promise((resolve) => sock.send(packetAt(count - 1), () => resolve()));
}

async function tunToPeer() {
  const splitter = OFFLOAD ? new GsoSplitter() : undefined;
  // Room for a batch's segments: 256 packets of up to 64 KiB would not fit, so a full buffer
  // is sent, cleared, and the split retried.
  const out = OFFLOAD ? new SegmentBuffer(4096, 8 << 20) : undefined;
  const flushOut = async () => {
    await sendDatagrams(out.count, (i) => out.packet(i));
    out.clear();
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
          await sendDatagrams(batch.length, (i) => batch.packet(i)); // the views stay valid until the loop asks for the next batch
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
let inbox = [];
let scheduled = false;
const backlog = []; // packets (owned copies) waiting for room in the tx ring, in order
let draining = false;

sock.on('message', (msg) => {
  // Only the peer's address gets through a connected socket; still, what is not an IP packet
  // (empty, or not version 4 or 6) is dropped here, not handed to the tun or the coalescer.
  const version = msg.length >= 20 ? msg[0] >> 4 : 0;
  if (version !== 4 && version !== 6) {
    stats.notIp += 1;
    return;
  }
  inbox.push(msg);
  if (!scheduled) {
    scheduled = true;
    setImmediate(deliver); // after libuv's read loop has handed out every datagram it read
  }
});

/** The datagrams of this turn into the tun: coalesced (--offload), then one sendBatch. */
function deliver() {
  scheduled = false;
  const msgs = inbox;
  inbox = [];
  stats.fromPeer += msgs.length;
  let packets = msgs;
  if (gro) {
    groOut.clear();
    const before = gro.stats.superPackets;
    const mergedBefore = gro.stats.merged;
    gro.coalesce(msgs, groOut);
    stats.superWritten += gro.stats.superPackets - before;
    stats.merged += gro.stats.merged - mergedBefore;
    packets = [];
    for (let i = 0; i < groOut.count; i++) packets.push(groOut.packet(i));
  }
  let taken = 0;
  const t = current;
  if (!draining && t) {
    try {
      taken = t.sendBatch(packets);
    } catch {
      // not running (restarting): the backlog waits for the next instance
    }
  }
  if (taken === packets.length) return;
  for (let i = taken; i < packets.length; i++) {
    if (backlog.length >= BACKLOG_MAX) {
      stats.dropped += packets.length - i;
      break;
    }
    backlog.push(gro ? Buffer.from(packets[i]) : packets[i]); // groOut is reused next turn
  }
  if (!draining) void drain();
}

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
