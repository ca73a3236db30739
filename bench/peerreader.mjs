// The peer library's reader for the peer scenario, with the rx line protocol:
//   node bench/peerreader.mjs EXPECT
// It creates a tun with @xiaobaidadada/node-tuntap2-wintun (installed by bench/run.mjs into
// bench/peer/, never a dependency of tunctl), gives it 198.18.82.1/24, prints
// {"name"} then "ready", waits for "go", and reads EXPECT packets from its 'data' events
// (its fs.ReadStream reads only once a 'data' listener is attached), printing
// {"packets","bytes","ns"}.
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { BENCH, loadLib } from './lib.mjs';

const expect = Number(process.argv[2]);
const require = createRequire(join(BENCH, 'peer', 'package.json'));
const { LinuxTun: Tun } = require('@xiaobaidadada/node-tuntap2-wintun');
const { tunctl } = await loadLib();

const tun = new Tun();
tun.ipv4 = '198.18.82.1/24';
tun.isUp = true;
tunctl.setTxqueuelen(tun.name, 500000);
console.log(JSON.stringify({ name: tun.name }));
console.log('ready');

const rl = createInterface({ input: process.stdin });
await new Promise((resolve) => rl.once('line', resolve));
const now = () => process.hrtime.bigint();
let count = 0;
let bytes = 0;
const t0 = now();
const watchdog = setTimeout(() => finish(true), 60_000);
function finish(stalled) {
  clearTimeout(watchdog);
  process.stdout.write(JSON.stringify({ packets: count, bytes, ns: Number(now() - t0), stalled }) + '\n');
  process.exit(0); // its read stream keeps a blocking read in the thread pool: do not wait for it
}
tun.on('data', (buf) => {
  count++;
  bytes += buf.length;
  if (count >= expect) finish(false);
});
