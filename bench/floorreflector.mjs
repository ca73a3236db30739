// The latency scenario's floor reflector: `node bench/floorreflector.mjs IFNAME`. What Node
// itself costs, with no library logic: the tun made by `tunctl.create` and read and written
// on the main thread through the addon's read()/write(), woken by a uv_poll on the fd. It
// swaps addresses and UDP/TCP ports as bench/reflector.mjs does. Prints "ready"; ends on
// stdin EOF. For information: no library can answer faster from Node on this machine.
import { loadLib, loadNative } from './lib.mjs';
const { tunctl } = await loadLib();
const native = await loadNative();

const { fd } = tunctl.create(process.argv[2], { mode: 'tun' });
const buf = Buffer.allocUnsafeSlow(tunctl.MAX_PACKET);
const id = native.pollStart(fd, native.constants.POLLIN, () => {
  for (;;) {
    const n = native.read(fd, buf, 0, buf.length);
    if (n < 0) return;
    if (n < 20 || buf[0] >> 4 !== 4) continue;
    for (let i = 0; i < 4; i++) {
      const t = buf[12 + i];
      buf[12 + i] = buf[16 + i];
      buf[16 + i] = t;
    }
    const ihl = (buf[0] & 15) * 4;
    if ((buf[9] === 17 || buf[9] === 6) && n >= ihl + 4) {
      const a = buf[ihl], b = buf[ihl + 1];
      buf[ihl] = buf[ihl + 2];
      buf[ihl + 1] = buf[ihl + 3];
      buf[ihl + 2] = a;
      buf[ihl + 3] = b;
    }
    native.write(fd, buf, 0, n);
  }
});
console.log('ready');
process.stdin.resume();
process.stdin.on('end', () => {
  native.pollStop(id);
  tunctl.close(fd);
  process.exit(0);
});
