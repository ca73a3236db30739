// latency scenario: UDP round trips through a userspace reflector on a tun. A client socket
// bound on 198.18.81.1 (bench/c/udpping) sends 64-byte datagrams to 198.18.81.2:7, routed into
// the tun; the reflector swaps addresses and ports and writes the packet back. p50/p99 of
// COUNT round trips after a warm-up, C reflector (bench/c/reflect) vs a Tuncer reflector
// (active mode, bench/reflector.mjs).
import { scenario, args, sh, shq, child, bin, BENCH } from './lib.mjs';
import { join } from 'node:path';

const DEV = 'blat0';
const opts = args();
const COUNT = opts.count ?? (opts.quick ? 3000 : 5000);
const REFLECTORS = opts.reflectors ?? ['c', 'tuncer'];

await scenario(
  async (out) => {
    sh('ip', 'tuntap', 'add', 'dev', DEV, 'mode', 'tun');
    sh('ip', 'link', 'set', DEV, 'up');
    sh('ip', 'addr', 'add', '198.18.81.1/24', 'dev', DEV);
    for (const kind of REFLECTORS) {
      const r = kind === 'c' ? child(bin('reflect'), [DEV]) : child(process.execPath, [join(BENCH, 'reflector.mjs'), DEV]);
      await r.ready(30_000);
      const ping = child(bin('udpping'), ['198.18.81.1', '198.18.81.2', '7', String(COUNT), '64', '500']);
      const res = await ping.json(120_000);
      r.proc.stdin.end();
      r.kill();
      await r.exited();
      if (!res.n) throw new Error(`no echo through the ${kind} reflector (${res.lost} lost)`);
      for (const q of ['p50', 'p99', 'mean']) out.metrics.push({ id: `latency.${kind}.${q}`, value: res[q], unit: 'us', extra: { n: res.n, lost: res.lost, min: res.min } });
      if (res.lost) out.notes.push(`latency.${kind}: ${res.lost} round trips lost`);
    }
  },
  () => shq('ip', 'link', 'del', DEV),
);
