// vpwn scenario: the vpwn example as a user would try it, with real clients. Two network
// namespaces (vpwn<pid>a, vpwn<pid>b) joined by a veth (198.18.70.1/30 <-> 198.18.70.2/30), a
// vpwn end in each: B listens on 198.18.70.2, A connects; the tunnel is vpwn0, 198.18.71.1/24
// in A and 198.18.71.2/24 in B. For each pair, C (bench/c/vpwn), the floor (bench/vpwnfloor.mjs:
// Node and the addon's read/write with no library logic, for information: how much of the gap
// to C is Node's own) and then tuncer (examples/vpwn/vpwn.mjs itself, its `tunctl` import
// resolved to the bench's snapshot):
//
// - ping(8) from A to 198.18.71.2: one unmeasured echo, then COUNT (20) echoes 200 ms apart, so
//   that every echo finds both ends idle (the cold wake-up of issue #12); RTT p50/p99 in ms;
// - iperf3, one TCP stream A -> B for SECS s (`plain`), then B -> A (`-R`, `reverse`): the
//   receiver's Gb/s and the sender's retransmits.
//
// Then the `offload` pair: both ends `vpwn.mjs --offload` (vnet header, TSO super-packets
// cross whole with 4-byte framing): iperf3 A -> B only (`vpwn.offload.tuncer`, with its
// retransmits in `vpwn.retrans.offload`), against `vpwn.plain.tuncer` of the same run
// (issue 13's target: >= 2.5 x).
//
// `--opts '{"vpwns":["c","mixed","tuncer"]}'` adds a mixed pair (C listening in B, vpwn.mjs
// connecting in A), for information: what one vpwn.mjs end adds.
import { scenario, args, shq, child, bin, BENCH, DIST, percentile, client, waitLine, vethPair } from './lib.mjs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const opts = args();
const SECS = opts.secs ?? (opts.quick ? 2 : 4);
const COUNT = opts.pings ?? 20;
const INTERVAL = opts.pingInterval ?? 0.2;
const KINDS = opts.vpwns ?? ['c', 'floor', 'tuncer', 'offload'];
const tag = `vpwn${process.pid}`;
const A = `${tag}a`;
const B = `${tag}b`;
const PEER = '198.18.70.2';
const FAR = '198.18.71.2';
const VPWN_MJS = join(BENCH, '..', 'examples', 'vpwn', 'vpwn.mjs');
const HOOK = pathToFileURL(join(BENCH, 'tunctlhook.mjs')).href;

/** One end of the tunnel in namespace `ns`: listening (B) or connecting (A). */
function vpwnEnd(pair, ns, listen, port, cidr) {
  const kind = endKind(pair, listen);
  if (kind === 'c') return child('ip', ['netns', 'exec', ns, bin('vpwn'), listen ? 'listen' : 'connect', PEER, String(port), 'vpwn0', cidr]);
  if (kind === 'floor') return child('ip', ['netns', 'exec', ns, 'env', `TUNCTL_BENCH_DIST=${DIST}`, process.execPath, join(BENCH, 'vpwnfloor.mjs'), listen ? 'listen' : 'connect', PEER, String(port), 'vpwn0', cidr]);
  const where = listen ? ['--listen', `${PEER}:${port}`] : ['--connect', `${PEER}:${port}`];
  if (kind === 'offload') where.push('--offload');
  // The example as it is; TUNCTL_BENCH_DIST is where the hook points `tunctl`.
  return child('ip', ['netns', 'exec', ns, 'env', `TUNCTL_BENCH_DIST=${DIST}`, process.execPath, '--import', HOOK, VPWN_MJS, ...where, '--local', cidr, '--name', 'vpwn0']);
}

/** ping(8) in A: RTTs in ms of the echoes after the first; throws if any was lost. */
function ping() {
  const text = client(A, (COUNT + 1) * INTERVAL * 1000 + 10_000, 'ping', '-n', '-c', String(COUNT + 1), '-i', String(INTERVAL), '-W', '2', FAR);
  const rtts = [...text.matchAll(/icmp_seq=(\d+) ttl=\d+ time=([\d.]+) ms/g)].filter((m) => m[1] !== '1').map((m) => Number(m[2]));
  if (rtts.length !== COUNT) throw new Error(`ping: ${rtts.length} of ${COUNT} echoes answered:\n${text}`);
  return rtts.sort((a, b) => a - b);
}

/** iperf3 client in A against the server in B: { gbps (received), retransmits (sender) }. */
function iperf(port, reverse) {
  const text = client(A, SECS * 1000 + 20_000, 'iperf3', '-c', FAR, '-p', String(port), '-t', String(SECS), '-J', ...(reverse ? ['-R'] : []));
  const r = JSON.parse(text);
  if (r.error) throw new Error(`iperf3${reverse ? ' -R' : ''}: ${r.error}`);
  return { gbps: r.end.sum_received.bits_per_second / 1e9, retransmits: r.end.sum_sent.retransmits ?? NaN, bytes: r.end.sum_received.bytes };
}

/** What runs at one end of a pair: 'mixed' is C in B (listening), vpwn.mjs in A. */
const endKind = (pair, listen) => (pair === 'mixed' ? (listen ? 'c' : 'tuncer') : pair);
// ('offload' ends are vpwn.mjs --offload: vpwn.mjs prints "connected to", C and the floor "ready".)
const plainEnd = (pair, listen) => ['c', 'floor'].includes(endKind(pair, listen));
const readyLine = (pair, listen) => (plainEnd(pair, listen) ? /^ready$/ : /connected to/);

await scenario(
  async (out) => {
    vethPair(A, B, '198.18.70.1', PEER);

    let port = 7000;
    for (const kind of KINDS) {
      port += 1;
      const b = vpwnEnd(kind, B, true, port, `${FAR}/24`);
      await waitLine(b, plainEnd(kind, true) ? /^listening$/ : /listening on/, 30_000);
      const a = vpwnEnd(kind, A, false, port, '198.18.71.1/24');
      await waitLine(a, readyLine(kind, false), 30_000);
      await waitLine(b, readyLine(kind, true), 30_000);
      const server = child('ip', ['netns', 'exec', B, 'iperf3', '-s', '-B', FAR, '-p', String(port + 100), '--forceflush']);
      try {
        await waitLine(server, /Server listening/, 10_000);
        if (kind === 'offload') {
          // Throughput only: TSO changes nothing for a lone echo.
          const r = iperf(port + 100, false);
          out.metrics.push({ id: 'vpwn.offload.tuncer', value: r.gbps, unit: 'Gb/s', extra: { bytes: r.bytes, secs: SECS, retransmits: r.retransmits } });
          out.metrics.push({ id: 'vpwn.retrans.offload', value: r.retransmits, unit: 'segs', extra: { secs: SECS } });
          continue;
        }
        const rtt = ping();
        out.metrics.push({ id: `vpwn.rtt.${kind}.p50`, value: percentile(rtt, 0.5), unit: 'ms', extra: { n: rtt.length, min: rtt[0], max: rtt.at(-1), intervalS: INTERVAL } });
        out.metrics.push({ id: `vpwn.rtt.${kind}.p99`, value: percentile(rtt, 0.99), unit: 'ms', extra: { n: rtt.length } });
        for (const reverse of [false, true]) {
          const r = iperf(port + 100, reverse);
          out.metrics.push({ id: `vpwn.${reverse ? 'reverse' : 'plain'}.${kind}`, value: r.gbps, unit: 'Gb/s', extra: { bytes: r.bytes, secs: SECS, retransmits: r.retransmits } });
          out.metrics.push({ id: `vpwn.retrans.${kind}${reverse ? '.reverse' : ''}`, value: r.retransmits, unit: 'segs', extra: { secs: SECS } });
        }
      } finally {
        server.kill();
        // C: stdin EOF makes it print its counters; vpwn.mjs: SIGTERM stops the supervisor.
        for (const [end, listen] of [[a, false], [b, true]]) {
          if (endKind(kind, listen) === 'c') end.proc.stdin.end();
          else end.proc.kill('SIGTERM');
        }
        await Promise.race([Promise.all([a.exited(), b.exited()]), new Promise((r) => setTimeout(r, 5000))]);
        a.kill();
        b.kill();
      }
    }
  },
  () => {
    for (const ns of [A, B]) shq('ip', 'netns', 'del', ns);
  },
);
