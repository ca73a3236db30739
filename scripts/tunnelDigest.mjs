#!/usr/bin/env node
// Issue 13's corruption check at scale: 1 GiB of random bytes over TCP through each tunnel
// example in each mode (udptunnel plain and --offload, vpwn plain and --offload), with the
// SHA-256 computed by the sender (examples/lib/probe.mjs tcp-send) and, independently, by
// the receiver (tcp-sink) at the far end of the tunnel. Each run has two private network
// namespaces of its own (examples/lib/lab.mjs), removed at the end.
//
//   sudo node scripts/tunnelDigest.mjs [--bytes N] [--only udptunnel,udptunnel-offload,vpwn,vpwn-offload]
//
// Prints a line per run and a summary; exits 0 only if every digest pair was equal.
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Lab, requirePrerequisites, waitForDad } from '../examples/lib/lab.mjs';

requirePrerequisites('the tunnel digest runs');
const ALL = ['udptunnel', 'udptunnel-offload', 'vpwn', 'vpwn-offload'];
const { values: opt } = parseArgs({ options: { bytes: { type: 'string', default: String(1 << 30) }, only: { type: 'string', default: ALL.join(',') } } });
const BYTES = Number(opt.bytes);
const file = (rel) => fileURLToPath(new URL(rel, import.meta.url));
const probe = file('../examples/lib/probe.mjs');

/** One transfer through one example; returns { run, bytes, sent, got, equal, ms }. */
async function one(run) {
  const [example, mode] = run.split('-');
  const off = mode === 'offload' ? ['--offload'] : [];
  const lab = new Lab('dig');
  try {
    const a = lab.netns('a');
    const b = lab.netns('b');
    lab.veth(a, '198.19.0.1/30', b, '198.19.0.2/30');
    let dev;
    if (example === 'udptunnel') {
      dev = 'udpt0';
      const script = file('../examples/udptunnel/udptunnel.mjs');
      const endB = lab.node('B', b, script, ['--bind', '198.19.0.2:7000', '--peer', '198.19.0.1:7000', '--local', '198.18.90.2/24', ...off]);
      const endA = lab.node('A', a, script, ['--bind', '198.19.0.1:7000', '--peer', '198.19.0.2:7000', '--local', '198.18.90.1/24', ...off]);
      await Promise.all([endA.waitFor(/: up, tun/, 30_000), endB.waitFor(/: up, tun/, 30_000)]);
    } else {
      dev = 'vpwn0';
      const script = file('../examples/vpwn/vpwn.mjs');
      const endB = lab.node('B', b, script, ['--listen', '198.19.0.2:7000', '--local', '198.18.90.2/24', ...off]);
      await endB.waitFor(/listening on/, 30_000);
      const endA = lab.node('A', a, script, ['--connect', '198.19.0.2:7000', '--local', '198.18.90.1/24', ...off]);
      await Promise.all([endA.waitFor(/connected to/, 30_000), endB.waitFor(/connected to/, 30_000)]);
    }
    await Promise.all([waitForDad(a, dev), waitForDad(b, dev)]);
    const sink = lab.node('B sink', b, probe, ['tcp-sink', '--bind', '198.18.90.2:9000']);
    await sink.waitFor(/listening/);
    const t0 = Date.now();
    const send = lab.node('A tcp-send', a, probe, ['tcp-send', '--to', '198.18.90.2:9000', '--bytes', String(BYTES)]);
    const code = await send.result(30 * 60_000);
    const ms = Date.now() - t0;
    const sent = /sha256 ([0-9a-f]{64})/.exec(send.lines.find((l) => l.startsWith('sent ')) ?? '')?.[1];
    const gotLine = await sink.waitFor(/^tcp-sink: got \d+ bytes/, 5000).catch(() => '');
    const [, gotBytes, got] = /got (\d+) bytes from \S+, sha256 ([0-9a-f]{64})/.exec(gotLine) ?? [];
    return { run, bytes: Number(gotBytes ?? 0), sent, got, equal: code === 0 && sent !== undefined && sent === got && Number(gotBytes) === BYTES, ms };
  } finally {
    await lab.cleanup();
  }
}

const results = [];
for (const run of opt.only.split(',')) {
  if (!ALL.includes(run)) throw new Error(`unknown run ${run}; known: ${ALL.join(', ')}`);
  const r = await one(run).catch((err) => ({ run, bytes: 0, equal: false, ms: NaN, error: err.message }));
  results.push(r);
}
console.log('\nrun                 bytes received  sha256 at the sender / at the receiver  equal  time  Gb/s');
for (const r of results) {
  const gbps = (r.bytes * 8) / (r.ms * 1e6);
  console.log(`${r.run.padEnd(19)} ${String(r.bytes).padStart(14)}  ${r.sent ?? "-"} / ${r.got ?? "-"}  ${String(r.equal).padEnd(6)} ${(r.ms / 1000).toFixed(1).padStart(6)} s  ${Number.isFinite(gbps) ? gbps.toFixed(2) : '-'}${r.error ? `  (${r.error})` : ''}`);
}
const ok = results.every((r) => r.equal);
console.log(ok ? `all ${results.length} digests equal` : 'DIGEST MISMATCH or failure');
process.exit(ok ? 0 : 1);
