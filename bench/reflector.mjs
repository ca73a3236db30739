// The Tuncer reflector of the latency scenario: `node bench/reflector.mjs IFNAME`.
// Active mode: every IPv4 packet from packets$ gets its addresses and UDP/TCP ports swapped
// (checksums stay valid) and goes back with trySend. Prints "ready"; ends on stdin EOF.
import { loadLib } from './lib.mjs';
const { Tuncer } = await loadLib();

const tun = await Tuncer.create({ name: process.argv[2], mode: 'tun' });
tun.packets$.subscribe((p) => {
  if (p.length < 20 || p[0] >> 4 !== 4) return;
  for (let i = 0; i < 4; i++) {
    const t = p[12 + i];
    p[12 + i] = p[16 + i];
    p[16 + i] = t;
  }
  const ihl = (p[0] & 15) * 4;
  if ((p[9] === 17 || p[9] === 6) && p.length >= ihl + 4) {
    const a = p[ihl], b = p[ihl + 1];
    p[ihl] = p[ihl + 2];
    p[ihl + 1] = p[ihl + 3];
    p[ihl + 2] = a;
    p[ihl + 3] = b;
  }
  if (!tun.trySend(p)) void tun.send(p);
});
tun.setopt({ active: true });
console.log('ready');
process.stdin.resume();
process.stdin.on('end', async () => {
  await tun.destroy();
  process.exit(0);
});
