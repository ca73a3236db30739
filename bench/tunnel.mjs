// tunnel scenario: the udptunnel example (examples/udptunnel/udptunnel.mjs itself, its `tunctl`
// import resolved to the bench's snapshot) as a user would try it. Two network namespaces
// (tunnel<pid>a, tunnel<pid>b, IPv6 off) joined by a veth at MTU 1500 (198.18.72.1/30 <->
// 198.18.72.2/30); an end in each, the tunnel udpt0 with 198.18.73.1/24 in A and 198.18.73.2/24
// in B, MTU 1420. For each mode, plain then offload (both ends `--offload`: TSO super-packets
// split by GsoSplitter into MTU-size datagrams, received datagrams coalesced by GroCoalescer):
//
// - iperf3, one TCP stream A -> B for SECS s: the receiver's Gb/s (`tunnel.udp.<mode>.tuncer`)
//   and the sender's retransmits (`tunnel.udp.retrans.<mode>.tuncer`).
//
// The ratio offload / plain of the same run is the target (>= 2.5).
//
// Then, for reference (`tunnel.udp.dgram.ceiling`, information): node:dgram alone over the
// same veth, one Node process sending 1420-byte datagrams (a full tunnel packet's payload) to
// another for SECS s, no tun, no TCP, no iperf3 (bench/dgramblast.mjs): what one datagram a
// system call and a 'message' event a datagram can carry on this machine at best. Both tunnel
// modes send exactly as many datagrams per byte, so this bounds both.
//
// And the same in C (bench/c/udpgso): `tunnel.udp.c.plain`, one send(2)/recv(2) per 1420-byte
// datagram, and `tunnel.udp.c.gsogro`, UDP_SEGMENT on the sender (46 datagrams of 1420 bytes
// per send(2)) and UDP_GRO on the receiver: what the UDP side could carry if a tunnel's socket
// I/O used the kernel's UDP offloads, which node:dgram cannot ask for. Information only.
import { scenario, args, shq, child, bin, BENCH, DIST, client, waitLine, vethPair } from './lib.mjs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const opts = args();
const SECS = opts.secs ?? (opts.quick ? 2 : 4);
const MODES = opts.modes ?? ['plain', 'offload'];
const tag = `tunnel${process.pid}`;
const A = `${tag}a`;
const B = `${tag}b`;
const UNDER = { A: '198.18.72.1', B: '198.18.72.2' };
const FAR = '198.18.73.2';
const SCRIPT = join(BENCH, '..', 'examples', 'udptunnel', 'udptunnel.mjs');
const HOOK = pathToFileURL(join(BENCH, 'tunctlhook.mjs')).href;

/** One end in namespace `ns`. */
function end(ns, me, other, cidr, port, offload) {
  const argv = ['--bind', `${me}:${port}`, '--peer', `${other}:${port}`, '--local', cidr, '--name', 'udpt0', ...(offload ? ['--offload'] : [])];
  return child('ip', ['netns', 'exec', ns, 'env', `TUNCTL_BENCH_DIST=${DIST}`, process.execPath, '--import', HOOK, SCRIPT, ...argv]);
}

function iperf(port) {
  const text = client(A, SECS * 1000 + 20_000, 'iperf3', '-c', FAR, '-p', String(port), '-t', String(SECS), '-J');
  const r = JSON.parse(text);
  if (r.error) throw new Error(`iperf3: ${r.error}`);
  return { gbps: r.end.sum_received.bits_per_second / 1e9, retransmits: r.end.sum_sent.retransmits ?? NaN, bytes: r.end.sum_received.bytes };
}

await scenario(
  async (out) => {
    vethPair(A, B, UNDER.A, UNDER.B);

    let port = 7100;
    for (const mode of MODES) {
      port += 1;
      const offload = mode === 'offload';
      const b = end(B, UNDER.B, UNDER.A, `${FAR}/24`, port, offload);
      const a = end(A, UNDER.A, UNDER.B, '198.18.73.1/24', port, offload);
      await waitLine(b, /: up, tun/, 30_000);
      await waitLine(a, /: up, tun/, 30_000);
      const server = child('ip', ['netns', 'exec', B, 'iperf3', '-s', '-B', FAR, '-p', String(port + 100), '--forceflush']);
      try {
        await waitLine(server, /Server listening/, 10_000);
        const r = iperf(port + 100);
        out.metrics.push({ id: `tunnel.udp.${mode}.tuncer`, value: r.gbps, unit: 'Gb/s', extra: { bytes: r.bytes, secs: SECS, retransmits: r.retransmits } });
        out.metrics.push({ id: `tunnel.udp.retrans.${mode}.tuncer`, value: r.retransmits, unit: 'segs', extra: { secs: SECS } });
      } finally {
        server.kill();
        for (const e of [a, b]) e.proc.kill('SIGTERM');
        await Promise.race([Promise.all([a.exited(), b.exited()]), new Promise((r) => setTimeout(r, 5000))]);
        a.kill();
        b.kill();
      }
    }

    if (opts.ceiling !== false) {
      const blast = join(BENCH, 'dgramblast.mjs');
      const recv = child('ip', ['netns', 'exec', B, process.execPath, blast, 'recv', UNDER.B, '7300']);
      await recv.ready(10_000);
      const sent = JSON.parse(client(A, SECS * 1000 + 20_000, process.execPath, blast, 'send', UNDER.A, UNDER.B, '7300', '1420', String(SECS)).trim().split('\n').pop());
      await new Promise((r) => setTimeout(r, 200));
      recv.send('report');
      const got = await recv.json(10_000);
      out.metrics.push({ id: 'tunnel.udp.dgram.ceiling', value: got.gbps, unit: 'Gb/s', extra: { sent: sent.sent, got: got.got, pps: Math.round(got.pps), size: 1420, secs: SECS } });
      recv.kill();
      for (const [kind, flag] of [['plain', []], ['gsogro', ['x']]]) {
        const r = child('ip', ['netns', 'exec', B, bin('udpgso'), 'recv', UNDER.B, '7301', ...flag]);
        await r.ready(10_000);
        const s = JSON.parse(client(A, SECS * 1000 + 20_000, bin('udpgso'), 'send', UNDER.A, UNDER.B, '7301', String(SECS), ...flag).trim());
        const g = await r.json(15_000); // after its 1 s of silence
        out.metrics.push({ id: `tunnel.udp.c.${kind}`, value: g.gbps, unit: 'Gb/s', extra: { sendCalls: s.sendCalls, sendBytes: s.len, recvCalls: g.recvCalls, bytes: g.bytes, secs: SECS } });
      }
    }
  },
  () => {
    for (const ns of [A, B]) shq('ip', 'netns', 'del', ns);
  },
);
