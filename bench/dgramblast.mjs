// The tunnel scenario's reference: what node:dgram alone carries over the same veth, with no
// tun, TCP or iperf3. `dgramblast.mjs recv ADDR PORT` counts datagrams (prints "ready", then a
// JSON line when told to on stdin); `dgramblast.mjs send FROM TO PORT SIZE SECS` sends SIZE-byte
// datagrams from a connected socket for SECS seconds, waiting for the send queue every 64
// datagrams (as udptunnel.mjs waits once per batch), and prints a JSON line.
import { createSocket } from 'node:dgram';
import { createInterface } from 'node:readline';

const [role, ...a] = process.argv.slice(2);
if (role === 'recv') {
  const [addr, port] = a;
  const s = createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
  let n = 0;
  let bytes = 0;
  let first = 0n;
  let last = 0n;
  s.on('message', (m) => {
    last = process.hrtime.bigint();
    if (n === 0) first = last;
    n += 1;
    bytes += m.length;
  });
  s.bind(Number(port), addr, () => console.log('ready'));
  createInterface({ input: process.stdin }).on('line', () => {
    const ns = Number(last - first);
    console.log(JSON.stringify({ got: n, bytes, gbps: ns > 0 ? (bytes * 8) / ns : 0, pps: ns > 0 ? n / (ns / 1e9) : 0 }));
    process.exit(0);
  });
} else {
  const [from, to, port, size, secs] = a;
  const s = createSocket('udp4');
  await new Promise((r) => s.bind(0, from, r));
  await new Promise((r) => s.connect(Number(port), to, r));
  const buf = Buffer.alloc(Number(size), 0x5a);
  const end = Date.now() + Number(secs) * 1000;
  let n = 0;
  while (Date.now() < end) {
    for (let i = 0; i < 63; i++) s.send(buf);
    await new Promise((r) => s.send(buf, () => r()));
    n += 64;
  }
  console.log(JSON.stringify({ sent: n }));
  s.close();
}
