// The latency scenario's floor reflector: `node bench/floorreflector.mjs IFNAME`. What Node
// itself costs, with no library logic: the tun made by `tunctl.create` and read and written
// on the main thread through the addon's read()/write(), woken by a uv_poll on the fd. It
// answers with the same swapEnds as bench/reflector.mjs. Prints "ready"; ends on
// stdin EOF. For information: no library can answer faster from Node on this machine.
import { loadLib, loadNative, swapEnds } from './lib.mjs';
const { tunctl } = await loadLib();
const native = await loadNative();

const { fd } = tunctl.create(process.argv[2], { mode: 'tun' });
const buf = Buffer.allocUnsafeSlow(tunctl.MAX_PACKET);
const id = native.pollStart(fd, native.constants.POLLIN, () => {
  for (;;) {
    const n = native.read(fd, buf, 0, buf.length);
    if (n < 0) return;
    if (swapEnds(buf, n)) native.write(fd, buf, 0, n);
  }
});
console.log('ready');
process.stdin.resume();
process.stdin.on('end', () => {
  native.pollStop(id);
  tunctl.close(fd);
  process.exit(0);
});
