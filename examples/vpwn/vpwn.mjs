#!/usr/bin/env node
// vpwn: one end of a point-to-point IP tunnel over TCP (after the Erlang tunctl's vpwn).
//
//   node vpwn.mjs --listen  198.19.0.2:7000 --local 198.18.50.2/24 --local fd00:50::2/64 --name vpwn0
//   node vpwn.mjs --connect 198.19.0.2:7000 --local 198.18.50.1/24 --local fd00:50::1/64 --name vpwn0
//
// The tun is a supervised child (one_for_one): if its worker dies, the supervisor makes it
// again with the same name and addresses, and the TuncerHandle's streams keep flowing.
// Each packet crosses the TCP connection as a 2-byte big-endian length and the packet.
//
// --offload (both ends, or neither): the tun has a vnet header and `offload: 'auto'`, so the
// kernel hands out TCP super-packets of up to 64 KiB (TSO) and takes them back whole: each
// crosses the connection as ONE frame, virtio_net_hdr included, and the far end writes it into
// its tun as it is. No split, no coalesce: TCP carries any size. Such a frame does not fit a
// 2-byte length, so in this mode the framing is a 4-byte big-endian length and the packet,
// and each end first sends the 4 bytes "VPO4"; an end that reads anything else closes the
// connection (a plain end talking to an --offload end would misread every length).
// SIGUSR2 crashes the interface's worker, to watch the supervisor bring it back.
//
// Flow control, both ways:
// - tun → socket: the handle is in `active: N` mode (gen_tcp's {active, N}). Each time the
//   N credits run out the interface turns passive and we grant N more, unless the socket's
//   write() returned false; then no more credits until 'drain'. While passive, packets wait
//   in the ring and then in the kernel's queue (which drops when full, like any NIC).
// - socket → tun: trySend() into the tx ring; when the ring is full, pause the socket and
//   wait in send() (waiting out a restart of the interface too).
import { createConnection, createServer } from 'node:net';
import { parseArgs } from 'node:util';
import { Supervisor, TuncerClosedError, tuncerChild } from 'tunctl';
import { describePacket } from '../lib/packets.mjs';

const usage = `usage: vpwn.mjs (--listen ADDR:PORT | --connect ADDR:PORT) --local CIDR [--local CIDR...]
                [--name vpwn0] [--mode tun|tap] [--credits 64] [--offload] [--verbose]`;

const { values: opt } = parseArgs({
  options: {
    listen: { type: 'string' },
    connect: { type: 'string' },
    local: { type: 'string', multiple: true, default: [] },
    name: { type: 'string', default: 'vpwn0' },
    mode: { type: 'string', default: 'tun' },
    credits: { type: 'string', default: '64' },
    offload: { type: 'boolean', default: false },
    verbose: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (opt.help || Boolean(opt.listen) === Boolean(opt.connect) || !['tun', 'tap'].includes(opt.mode)) {
  console.error(usage);
  process.exit(opt.help ? 0 : 2);
}

const CREDITS = Number(opt.credits);
const OFFLOAD = opt.offload;
/** Bytes of the length in front of each packet: 2 (plain), 4 (--offload: super-packets). */
const LEN = OFFLOAD ? 4 : 2;
/** What an --offload end sends first, so that both ends agree on the framing. */
const HELLO = Buffer.from('VPO4');
const log = (msg) => console.log(`vpwn ${opt.name}: ${msg}`);

/** "198.19.0.2:7000" or "[fd00::2]:7000" → { host, port } */
function hostPort(text) {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text);
  if (!m) throw new Error(`expected ADDR:PORT or [IPv6]:PORT, got ${JSON.stringify(text)}`);
  return { host: m[1], port: Number(m[2]) };
}

/** Prints the interface's offload set-up and its fallbacks (a line per start, never per packet). */
function offloadLog() {
  const l = {
    child: () => l,
    debug() {},
    info(data, msg) {
      if (typeof msg === 'string' && msg.startsWith('offload set up')) log(`${msg} (read tcp ${data?.read?.tcp}, udp ${data?.read?.udp})`);
    },
    warn: (data, msg) => log(`warning: ${typeof data === 'string' ? data : msg}`),
    error: (data, msg) => log(`error: ${typeof data === 'string' ? data : msg}`),
  };
  return l;
}

// ---- the supervised interface ----

const sup = await Supervisor.start({
  name: 'vpwn',
  strategy: 'one_for_one',
  intensity: 5,
  period: 10,
  children: [
    tuncerChild({
      name: opt.name,
      mode: opt.mode,
      addresses: opt.local,
      active: false,
      ...(OFFLOAD ? { vnetHdr: true, offload: 'auto', logger: offloadLog() } : {}),
    }),
  ],
  observer: {
    next: (e) => {
      if (e.type === 'child.exited' && e.by === 'self') log(`interface exited: ${e.reason instanceof Error ? e.reason.message : String(e.reason)}`);
      if (e.type === 'child.started' && e.restart) log('interface restarted by the supervisor');
    },
  },
});
const tun = sup.child(opt.name);
let current; // the running Tuncer, for the trySend fast path
sup.instance$(opt.name).subscribe((t) => (current = t));
log(`up, ${opt.mode} with ${opt.local.join(', ') || 'no addresses'}${OFFLOAD ? '; offload: super-packets whole, 4-byte lengths' : ''}`);

const stats = { toPeer: 0, fromPeer: 0, creditGrants: 0, writeStalls: 0, superPackets: 0 };

// ---- tun → socket ----

let sock; // the peer connection, when there is one
let blocked = false; // the socket's buffer is full: grant no credits until 'drain'
let armed = false; // credits were granted and not used up yet

function arm() {
  if (armed || blocked) return;
  armed = true;
  stats.creditGrants += 1;
  try {
    tun.setopt({ active: CREDITS });
  } catch {
    // The instance just ended: the handle gives the next one these credits when it starts.
  }
}

tun.events$.subscribe((e) => {
  if (e.type === 'passive') {
    armed = false;
    arm();
  }
});

tun.packets$.subscribe((packet) => {
  if (opt.verbose) log(`> ${describePacket(OFFLOAD ? packet.subarray(10) : packet, { ethernet: opt.mode === 'tap' })}`);
  const s = sock;
  if (!s) return; // no peer: dropped, like a cable pulled out
  stats.toPeer += 1;
  // The packets of one delivery go out in one writev(), not a syscall each.
  if (s.writableCorked === 0) {
    s.cork();
    process.nextTick(() => s.uncork());
  }
  let ok;
  if (OFFLOAD) {
    // A super-packet is up to 64 KiB, and `packet` is already our own copy: its length goes
    // into the same writev as a buffer of its own, instead of a 64 KiB frame and a copy.
    const len = Buffer.allocUnsafe(4);
    len.writeUInt32BE(packet.length, 0);
    if (packet[1] !== 0) stats.superPackets += 1; // gso_type: not VIRTIO_NET_HDR_GSO_NONE
    s.write(len);
    ok = s.write(packet);
  } else {
    const frame = Buffer.allocUnsafe(2 + packet.length);
    frame.writeUInt16BE(packet.length, 0);
    packet.copy(frame, 2);
    ok = s.write(frame);
  }
  if (!ok && !blocked) {
    blocked = true;
    stats.writeStalls += 1;
    s.once('drain', () => {
      blocked = false;
      arm();
    });
  }
});

// ---- socket → tun ----

const backlog = [];
/** The longest packet a frame may hold: the addon's MAX_PACKET (64 KiB, a vnet header and tun_pi). */
const MAX_FRAME = 65535 + 12 + 4;
let flushing = false;

/** `packet` may be a view of the socket's chunk: trySend copies it; only a backlog keeps a copy. */
function toTun(packet) {
  if (opt.verbose) log(`< ${describePacket(OFFLOAD ? packet.subarray(10) : packet, { ethernet: opt.mode === 'tap' })}`);
  stats.fromPeer += 1;
  if (!flushing && current) {
    try {
      if (current.trySend(packet)) return;
    } catch {
      /* not running (restarting): queue it for send(), which waits */
    }
  }
  backlog.push(Buffer.from(packet));
  if (!flushing) void flush();
}

/**
 * send() on the running instance, waiting for room in its ring and for a restart in
 * progress. (Not `tun.send()`: TuncerHandle.send spins on microtasks while an instance has
 * ended but the supervisor has not processed its exit yet, which starves the event loop.)
 */
async function sendToTun(packet) {
  for (;;) {
    const t = await sup.whenRunning(opt.name);
    if (t.state === 'active' || t.state === 'passive') {
      try {
        await t.send(packet);
        return;
      } catch (err) {
        if (!(err instanceof TuncerClosedError)) throw err;
      }
    }
    await new Promise((r) => setTimeout(r, 5)); // let the supervisor see the exit
  }
}

async function flush() {
  flushing = true;
  const s = sock;
  s?.pause(); // the tx ring is full: let TCP push back on the peer
  while (backlog.length > 0) {
    const packet = backlog.shift();
    try {
      await sendToTun(packet);
    } catch (err) {
      log(`dropped a packet for the tun: ${err.message}`);
    }
  }
  flushing = false;
  if (s && s === sock) s.resume();
}

function attach(s, peer) {
  if (sock) sock.destroy();
  sock = s;
  blocked = false;
  s.setNoDelay(true);
  log(`connected to ${peer}`);
  // The frames are cut out of the chunks as views; only a frame that straddles chunks is
  // copied, once, into `assembly`, which is reused (toTun copies what it keeps): with 64 KiB
  // super-packets most frames straddle, and a buffer each would keep the GC busy.
  const head = Buffer.alloc(4); // a length (or the hello) split across chunks
  let headFill = 0;
  const assembly = Buffer.allocUnsafe(MAX_FRAME);
  let frame = null; // a view of `assembly`: a frame's packet being completed from the next chunks
  let frameFill = 0;
  let greeted = !OFFLOAD;
  if (OFFLOAD) s.write(HELLO);
  s.on('data', (chunk) => {
    let at = 0;
    while (at < chunk.length) {
      if (frame) {
        const n = chunk.copy(frame, frameFill, at, Math.min(chunk.length, at + frame.length - frameFill));
        frameFill += n;
        at += n;
        if (frameFill === frame.length) {
          toTun(frame);
          frame = null;
        }
        continue;
      }
      // The next 4 bytes of hello, or LEN bytes of length: from the chunk, or gathered in `head`.
      const want = greeted ? LEN : HELLO.length;
      let field;
      if (headFill === 0 && chunk.length - at >= want) {
        field = chunk.subarray(at, at + want);
        at += want;
      } else {
        const n = chunk.copy(head, headFill, at, Math.min(chunk.length, at + want - headFill));
        headFill += n;
        at += n;
        if (headFill < want) break;
        field = head.subarray(0, want);
        headFill = 0;
      }
      if (!greeted) {
        if (!field.equals(HELLO)) {
          log(`${peer} is not a vpwn --offload end (it sent ${field.toString('hex')}, not "VPO4"): closing`);
          s.destroy();
          return;
        }
        greeted = true;
        continue;
      }
      const len = OFFLOAD ? field.readUInt32BE(0) : field.readUInt16BE(0);
      if (len > MAX_FRAME) {
        log(`${peer} sent a frame of ${len} bytes, more than a packet can be: closing`);
        s.destroy();
        return;
      }
      if (len === 0) continue;
      if (chunk.length - at >= len) {
        toTun(chunk.subarray(at, at + len));
        at += len;
      } else {
        frame = assembly.subarray(0, len);
        frameFill = chunk.copy(frame, 0, at);
        at = chunk.length;
      }
    }
  });
  s.on('error', (err) => log(`connection error: ${err.message}`));
  s.on('close', () => {
    if (sock !== s) return;
    sock = undefined;
    blocked = false;
    log(`disconnected from ${peer}`);
    arm();
    if (opt.connect && !stopping) setTimeout(connect, 500);
  });
}

// ---- the peer connection ----

let stopping = false;
let server;

function connect() {
  if (stopping) return;
  const { host, port } = hostPort(opt.connect);
  const s = createConnection({ host, port });
  s.once('connect', () => attach(s, opt.connect));
  s.once('error', (err) => {
    if (sock === s) return; // handled by attach's listeners
    log(`connect to ${opt.connect} failed (${err.code ?? err.message}), retrying`);
    s.destroy();
    setTimeout(connect, 500);
  });
}

if (opt.listen) {
  const { host, port } = hostPort(opt.listen);
  server = createServer((s) => attach(s, `${s.remoteAddress}:${s.remotePort}`));
  server.on('error', (err) => {
    log(`listen on ${opt.listen} failed: ${err.message}`);
    void shutdown(1);
  });
  server.listen(port, host, () => log(`listening on ${opt.listen}`));
} else {
  connect();
}
arm();

// ---- ending ----

async function shutdown(code) {
  if (stopping) return;
  stopping = true;
  server?.close();
  sock?.destroy();
  await sup.stop();
  const off = OFFLOAD ? `, super-packets to peer ${stats.superPackets}` : '';
  log(`stopped; packets to peer ${stats.toPeer}, from peer ${stats.fromPeer}${off}, credit grants ${stats.creditGrants}, write stalls ${stats.writeStalls}`);
  process.exit(code);
}

// Supervision drill: SIGUSR2 makes the tun's worker thread throw; the supervisor restarts
// the interface and the tunnel carries on (TCP inside it retransmits what was lost).
process.on('SIGUSR2', () => {
  log('SIGUSR2: crashing the interface worker');
  void sup.whenRunning(opt.name).then((t) => t.injectFault('throw'));
});
process.once('SIGINT', () => void shutdown(0));
process.once('SIGTERM', () => void shutdown(0));
void sup.exit.then(() => {
  if (!stopping) {
    log('the supervisor gave up on the interface');
    void shutdown(1);
  }
});
