// tx scenario: N prebuilt IPv4/UDP packets (198.18.80.2:40000 -> 198.18.80.1:9000) written into
// a tun and delivered to a UDP socket bound on the tun's address (bench/c/udpsink, 1 GiB
// receive buffer, drained only after each writer is done so it does not compete for the CPUs).
// Writers: C write() loop, tunctl.write loop, Tuncer.trySend (+ await send when full),
// Tuncer.sendBatch 256 at a time (+ await sendAll of the rest when full). One more C writer
// bounds what a Node writer can reach (an information row): c2t, a producing thread and a
// writing thread joined by a ring like tunctl's tx ring (bench/c/txwrite2t.c).
import { scenario, args, sh, shq, child, bin, BENCH } from './lib.mjs';
import { join } from 'node:path';

const DEV = 'btx0';
const opts = args();
const N = opts.n ?? (opts.quick ? 100_000 : 200_000);
const PAYLOADS = opts.payloads ?? [64, 1400];
const WRITERS = opts.writers ?? ['c', 'c2t', 'write', 'tuncer', 'sendBatch'];

await scenario(
  async (out) => {
    sh('ip', 'tuntap', 'add', 'dev', DEV, 'mode', 'tun');
    sh('ip', 'link', 'set', DEV, 'up');
    sh('ip', 'addr', 'add', '198.18.80.1/24', 'dev', DEV);
    const sink = child(bin('udpsink'), ['198.18.80.1', '9000']);
    await sink.ready();
    for (const payload of PAYLOADS) {
      for (const kind of WRITERS) {
        const w = kind === 'c' || kind === 'c2t'
          ? child(bin(kind === 'c' ? 'txwrite' : 'txwrite2t'), [DEV, String(N), String(payload), '198.18.80.2', '198.18.80.1', '40000', '9000'])
          : child(process.execPath, [join(BENCH, 'txwriter.mjs'), kind, DEV, String(N), String(payload)]);
        await w.ready(30_000);
        w.send('go');
        const res = await w.json(120_000);
        await w.exited();
        sink.send(String(N));
        const got = (await sink.json(60_000)).packets;
        const id = `tx.${payload}.${kind}`;
        out.metrics.push({ id, value: got / (res.ns / 1e9), unit: 'pps', extra: { written: res.packets, delivered: got, errors: res.errors, ms: res.ns / 1e6, ringFull: res.ringFull } });
        if (got !== N) out.notes.push(`${id}: the socket received ${got} of ${N}`);
      }
    }
  },
  () => shq('ip', 'link', 'del', DEV),
);
