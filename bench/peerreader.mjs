// A peer library's reader for the peer scenario, with the rx line protocol:
//   node bench/peerreader.mjs EXPECT [LIB]
// LIB is the library (installed by bench/run.mjs into bench/peer/, never a dependency of tunctl):
//   tuntap2 (default): @xiaobaidadada/node-tuntap2-wintun. It creates its own tun, given
//     198.18.82.1/24; reads come from its 'data' events (its fs.ReadStream reads only once a
//     'data' listener is attached: one thread-pool read per packet).
//   appium: appium-ios-tuntap. It creates tun bpa0 (its TunTap takes a name), given
//     198.18.84.1/24 with `ip` (its own configure() is IPv6 only); reads are its synchronous,
//     non-blocking `tun.read()`, one packet per call (an empty Buffer when none is queued).
//     It has no readiness event, so a user polls: here a tight loop while packets come, and a
//     setImmediate between empty reads.
// It prints {"name"} then "ready", waits for "go", reads EXPECT packets and prints
// {"packets","bytes","ns","stalled"}.
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BENCH, loadLib } from './lib.mjs';

const expect = Number(process.argv[2]);
const lib = process.argv[3] ?? 'tuntap2';
const require = createRequire(join(BENCH, 'peer', 'package.json'));
const { tunctl } = await loadLib();
const now = () => process.hrtime.bigint();
/** The device is there: a deep queue, say its name and "ready", then wait for "go". */
const readyThenGo = (name) => {
  tunctl.setTxqueuelen(name, 500000);
  console.log(JSON.stringify({ name }));
  console.log('ready');
  const rl = createInterface({ input: process.stdin });
  return new Promise((resolve) => rl.once('line', resolve));
};

if (lib === 'appium') {
  // Built from source by run.mjs; without build/Release its loader (node-gyp-build) would fall
  // back to the package's prebuilt binary, which is not what is meant to be measured.
  const dir = join(BENCH, 'peer', 'node_modules', 'appium-ios-tuntap');
  const release = join(dir, 'build', 'Release');
  if (!existsSync(release) || !readdirSync(release).some((f) => f.endsWith('.node'))) throw new Error(`appium-ios-tuntap is not built from source in ${release}`);
  const { TunTap } = await import(pathToFileURL(require.resolve('appium-ios-tuntap')).href);
  const tun = new TunTap('bpa0');
  tun.open();
  execFileSync('ip', ['addr', 'add', '198.18.84.1/24', 'dev', tun.name]);
  execFileSync('ip', ['link', 'set', tun.name, 'up']);
  await readyThenGo(tun.name);
  let count = 0;
  let bytes = 0;
  let stalled = false;
  const t0 = now();
  let idleSince = 0n;
  while (count < expect) {
    const p = tun.read(); // default maxSize 4096, as a user would call it
    if (p.length > 0) {
      count++;
      bytes += p.length;
      idleSince = 0n;
      continue;
    }
    // Queue empty before EXPECT: give up after 2 s without a packet.
    const t = now();
    if (idleSince === 0n) idleSince = t;
    else if (t - idleSince > 2_000_000_000n) {
      stalled = true;
      break;
    }
    await new Promise((r) => setImmediate(r));
  }
  const ns = (stalled ? idleSince : now()) - t0;
  process.stdout.write(JSON.stringify({ packets: count, bytes, ns: Number(ns), stalled }) + '\n');
  tun.close();
  process.exit(0);
}

const { LinuxTun: Tun } = require('@xiaobaidadada/node-tuntap2-wintun');
const tun = new Tun();
tun.ipv4 = '198.18.82.1/24';
tun.isUp = true;
await readyThenGo(tun.name);
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
