// The Tuncer reflector of the latency scenario: `node bench/reflector.mjs IFNAME`.
// Active mode: every IPv4 packet from packets$ gets its addresses and UDP/TCP ports swapped
// (checksums stay valid) and goes back with trySend. Prints "ready"; ends on stdin EOF.
import { loadLib, swapEnds } from './lib.mjs';
const { Tuncer } = await loadLib();

const tun = await Tuncer.create({ name: process.argv[2], mode: 'tun' });
tun.packets$.subscribe((p) => {
  if (!swapEnds(p, p.length)) return;
  if (!tun.trySend(p)) void tun.send(p);
});
tun.setopt({ active: true });
console.log('ready');
process.stdin.resume();
process.stdin.on('end', async () => {
  await tun.destroy();
  process.exit(0);
});
