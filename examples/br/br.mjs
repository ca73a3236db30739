#!/usr/bin/env node
// br: an Ethernet switch made of tap interfaces (after the Erlang tunctl's br.erl, which
// flooded every frame to every other port; this one learns).
//
//   node br.mjs --port NETNS[=CIDR[,CIDR...]] --port ... [--ifname brport0] [--verbose]
//
// Each port is a tap created directly inside network namespace NETNS (a name under
// /var/run/netns, or a path such as /proc/PID/ns/net) with the addresses given (optional).
// This process stays where it is and switches frames between the taps:
//
// - it learns which port each source MAC lives behind (entries age out after 300 s);
// - a frame for a known unicast MAC goes out of that port only (or nowhere, if it is the
//   port it came in on);
// - broadcast, multicast and unknown unicast frames are flooded to every other port.
//
// Frames go out with trySend(): when a port's tx ring is full the frame is dropped and
// counted, as a switch drops on a congested egress queue. SIGUSR1 prints the MAC table.
import { parseArgs } from 'node:util';
import { Tuncer } from 'tunctl';
import { describePacket } from '../lib/packets.mjs';

const AGEING_MS = 300_000;

const { values: opt } = parseArgs({
  options: {
    port: { type: 'string', multiple: true, default: [] },
    ifname: { type: 'string', default: 'brport0' },
    verbose: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (opt.help || opt.port.length < 2) {
  console.error('usage: br.mjs --port NETNS[=CIDR[,CIDR]] --port NETNS[=CIDR[,CIDR]] ... [--ifname brport0] [--verbose]');
  process.exit(opt.help ? 0 : 2);
}

const log = (msg) => console.log(`br: ${msg}`);
const macText = (frame, at) => [...frame.subarray(at, at + 6)].map((b) => b.toString(16).padStart(2, '0')).join(':');

/** MAC (hex) → { port, seen } */
const table = new Map();
const stats = { frames: 0, forwarded: 0, flooded: 0, filtered: 0, dropped: 0 };
/** @type {{ index: number, netns: string, tap: import('tunctl').Tuncer }[]} */
const ports = [];
let stopping = false;

function output(port, frame) {
  try {
    if (!port.tap.trySend(frame)) stats.dropped += 1;
  } catch {
    stats.dropped += 1; // the port has ended
  }
}

function onFrame(from, frame) {
  stats.frames += 1;
  if (frame.length < 14) return;
  if (opt.verbose) log(`port ${from.index}: ${describePacket(frame, { ethernet: true })}`);
  const now = Date.now();
  // Learn the source (never a group address).
  if ((frame[6] & 1) === 0) {
    const src = frame.toString('hex', 6, 12);
    const entry = table.get(src);
    if (entry === undefined || entry.port !== from) {
      if (entry === undefined) log(`learned ${macText(frame, 6)} on port ${from.index} (${from.netns})`);
      else log(`${macText(frame, 6)} moved from port ${entry.port.index} to port ${from.index}`);
    }
    table.set(src, { port: from, seen: now });
  }
  // Forward to a known unicast destination, or flood.
  if ((frame[0] & 1) === 0) {
    const entry = table.get(frame.toString('hex', 0, 6));
    if (entry !== undefined && now - entry.seen < AGEING_MS && ports.includes(entry.port)) {
      if (entry.port === from) stats.filtered += 1;
      else {
        stats.forwarded += 1;
        output(entry.port, frame);
      }
      return;
    }
  }
  stats.flooded += 1;
  for (const p of ports) if (p !== from) output(p, frame);
}

function printTable() {
  log(`mac table (${table.size} entries):`);
  for (const [mac, { port, seen }] of table) {
    log(`  ${mac.match(/../g).join(':')}  port ${port.index} (${port.netns})  ${Math.round((Date.now() - seen) / 1000)} s ago`);
  }
}

// ---- ports ----

async function addPort(spec, index) {
  const eq = spec.indexOf('=');
  const ns = eq < 0 ? spec : spec.slice(0, eq);
  const cidrs = eq < 0 ? [] : spec.slice(eq + 1).split(',').filter(Boolean);
  const netns = ns.startsWith('/') ? ns : `/var/run/netns/${ns}`;
  const tap = await Tuncer.create({
    name: opt.ifname,
    mode: 'tap',
    netns,
    ...(cidrs.length > 0 ? { addresses: cidrs } : { up: true }),
    active: true,
  });
  const port = { index, netns: ns, tap };
  ports.push(port);
  tap.packets$.subscribe({
    next: (frame) => onFrame(port, frame),
    error: (err) => log(`port ${index} failed: ${err.message}`),
  });
  void tap.exit.then(() => {
    const i = ports.indexOf(port);
    if (i >= 0) ports.splice(i, 1);
    for (const [mac, e] of table) if (e.port === port) table.delete(mac);
    if (!stopping) log(`port ${index} (${ns}) is gone`);
  });
  log(`port ${index}: ${tap.devname} in ${ns}${cidrs.length > 0 ? ` with ${cidrs.join(', ')}` : ''}, mac ${await tap.hwaddr()}`);
}

async function shutdown(code) {
  if (stopping) return;
  stopping = true;
  printTable();
  await Promise.all(ports.map((p) => p.tap.destroy()));
  log(`stopped; frames ${stats.frames}, forwarded ${stats.forwarded}, flooded ${stats.flooded}, filtered ${stats.filtered}, dropped ${stats.dropped}`);
  process.exit(code);
}

process.once('SIGINT', () => void shutdown(0));
process.once('SIGTERM', () => void shutdown(0));
process.on('SIGUSR1', printTable);

try {
  for (const [i, spec] of opt.port.entries()) await addPort(spec, i + 1);
} catch (err) {
  log(`cannot create a port: ${err.message}`);
  await shutdown(1);
}
log(`switching between ${ports.length} ports`);
