// The vpwn scenario's floor end: what Node itself costs for vpwn, with no library logic.
//
//   node bench/vpwnfloor.mjs (listen|connect) ADDR PORT IFNAME CIDR
//
// The same wire as examples/vpwn/vpwn.mjs and bench/c/vpwn (a 2-byte big-endian length and
// the packet, over TCP with TCP_NODELAY), the same work as the C end, all on the main thread:
// the tun made by `tunctl.create` and configured by `tunctl.up`; a uv_poll on its fd; on
// readiness, read() up to 64 packets with the addon and frame each into a corked net.Socket
// (one writev a wake-up), stopping while the socket's buffer is full; the socket's chunks
// are cut into frames and each written to the tun with the addon's write() (a failed write
// drops the packet). Prints "listening" (listen), then "ready" once connected; ends on
// SIGTERM or when the peer closes. For information: the `floor` pair of the vpwn scenario.
import { createConnection, createServer } from 'node:net';
import { loadLib, loadNative } from './lib.mjs';
const { tunctl } = await loadLib();
const native = await loadNative();

const [role, host, port, ifname, cidr] = process.argv.slice(2);
const { fd, name } = tunctl.create(ifname, { mode: 'tun' });
const [addr, prefix] = cidr.split('/');
tunctl.up(name, addr, Number(prefix));

const BURST = 64;
const rbuf = Buffer.allocUnsafeSlow(2 + 65535);
let sock;
let paused = false;
const POLLIN = native.constants.POLLIN;
const poll = native.pollStart(fd, POLLIN, () => {
  const s = sock;
  if (s) s.cork();
  try {
    for (let k = 0; k < BURST; k++) {
      const n = native.read(fd, rbuf, 2, 65535);
      if (n < 0) return;
      if (!s) continue; // no peer: dropped
      rbuf.writeUInt16BE(n, 0);
      if (!s.write(Buffer.from(rbuf.subarray(0, 2 + n)))) {
        paused = true; // until 'drain': the kernel's queue takes the backlog, and drops
        native.pollUpdate(poll, 0);
        return;
      }
    }
  } finally {
    if (s) s.uncork();
  }
});

const pending = Buffer.allocUnsafeSlow(2 + 65535);
let fill = 0;
function attach(s) {
  sock = s;
  s.setNoDelay(true);
  s.on('drain', () => {
    if (paused) {
      paused = false;
      native.pollUpdate(poll, POLLIN);
    }
  });
  s.on('data', (chunk) => {
    let at = 0;
    while (at < chunk.length) {
      const take = Math.min(chunk.length - at, pending.length - fill);
      chunk.copy(pending, fill, at, at + take);
      fill += take;
      at += take;
      let p = 0;
      while (fill - p >= 2) {
        const len = pending.readUInt16BE(p);
        if (fill - p < 2 + len) break;
        try {
          if (len > 0) native.write(fd, pending, p + 2, len);
        } catch {
          /* the kernel refused it: dropped, as the C end does */
        }
        p += 2 + len;
      }
      if (p > 0) {
        pending.copy(pending, 0, p, fill);
        fill -= p;
      }
    }
  });
  s.on('error', () => {});
  s.on('close', () => process.exit(0));
  console.log('ready');
}

if (role === 'listen') {
  createServer((s) => attach(s)).listen(Number(port), host, () => console.log('listening'));
} else {
  const s = createConnection({ host, port: Number(port) });
  s.once('connect', () => attach(s));
}
process.once('SIGTERM', () => {
  native.pollStop(poll);
  tunctl.close(fd);
  process.exit(0);
});
