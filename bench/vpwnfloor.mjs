// The vpwn scenario's floor end: what Node itself costs for vpwn, with no library logic.
//
//   node bench/vpwnfloor.mjs (listen|connect) ADDR PORT IFNAME CIDR
//
// The same wire as examples/vpwn/vpwn.mjs and bench/c/vpwn (a 2-byte big-endian length and
// the packet, over TCP with TCP_NODELAY), the same work as the C end, all on the main thread:
// the tun made by `tunctl.create` and configured by `tunctl.up`; a uv_poll on its fd; on
// readiness, read() up to 64 packets with the addon and frame each into a corked net.Socket
// (one writev a wake-up; one allocation a packet, the frame), stopping while the socket's
// buffer is full; each frame of the socket's chunks is written to the tun from where it lies
// with the addon's write() (a failed write drops the packet; only a frame that straddles two
// chunks is copied). Prints "listening" (listen), then "ready" once connected; ends on
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
const rbuf = Buffer.allocUnsafeSlow(65535);
let sock;
let paused = false;
const POLLIN = native.constants.POLLIN;
const poll = native.pollStart(fd, POLLIN, () => {
  const s = sock;
  if (s) s.cork();
  try {
    for (let k = 0; k < BURST; k++) {
      const n = native.read(fd, rbuf, 0, rbuf.length);
      if (n < 0) return;
      if (!s) continue; // no peer: dropped
      const frame = Buffer.allocUnsafe(2 + n);
      frame.writeUInt16BE(n, 0);
      rbuf.copy(frame, 2, 0, n);
      if (!s.write(frame)) {
        paused = true; // until 'drain': the kernel's queue takes the backlog, and drops
        native.pollUpdate(poll, 0);
        return;
      }
    }
  } finally {
    if (s) s.uncork();
  }
});

let rest = null; // the start of a frame that straddles chunks
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
    const buf = rest ? Buffer.concat([rest, chunk]) : chunk;
    let p = 0;
    while (buf.length - p >= 2) {
      const len = buf.readUInt16BE(p);
      if (buf.length - p < 2 + len) break;
      try {
        if (len > 0) native.write(fd, buf, p + 2, len);
      } catch {
        /* the kernel refused it: dropped, as the C end does */
      }
      p += 2 + len;
    }
    rest = p < buf.length ? buf.subarray(p) : null; // a view: socket chunks are not reused
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
