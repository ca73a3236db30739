#!/usr/bin/env node
// The README's test command. Builds the TypeScript (worker threads load the built
// JS), then runs vitest. When this process may create network devices (root or
// CAP_NET_ADMIN, and /dev/net/tun exists), the whole run goes into a private network
// namespace made here with `unshare --net`, so no test touches the host's network.
// Otherwise the kernel tests report themselves skipped with the reason (and fail
// under CI=true: see test/integration/kernel.ts).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);

function run(cmd, argv, env = process.env) {
  const r = spawnSync(cmd, argv, { stdio: 'inherit', cwd: root, env });
  if (r.error) throw r.error;
  return r.status ?? 1;
}

function hasNetAdmin() {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(status);
    return m ? (BigInt(`0x${m[1]}`) & (1n << 12n)) !== 0n : false;
  } catch {
    return false;
  }
}

function which(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).status === 0;
}

let status = run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json']);
if (status !== 0) process.exit(status);

const vitest = join(root, 'node_modules/vitest/vitest.mjs');
// A JSON report beside the usual one, for the plain closing line printed at the end.
const report = join(tmpdir(), `tunctl-vitest-${process.pid}.json`);
const reporters = ['--reporter=default', '--reporter=json', `--outputFile.json=${report}`];
let reason = '';
if (process.platform !== 'linux') reason = `not Linux (${process.platform})`;
else if (!hasNetAdmin()) reason = 'no CAP_NET_ADMIN (run as root)';
else if (!existsSync('/dev/net/tun')) reason = '/dev/net/tun does not exist (modprobe tun)';
else if (!which('unshare')) reason = 'unshare(1) is missing (util-linux), so no private network namespace can be made';
else if (!which('ip')) reason = 'ip(8) is missing (iproute2), which the kernel tests use to check results';

if (reason) {
  console.error(`tunctl: kernel tests cannot run: ${reason}`);
  status = run(process.execPath, [vitest, 'run', ...reporters, ...args], { ...process.env, TUNCTL_KERNEL_UNAVAILABLE: reason });
} else {
  // A private mount namespace too, with sysfs mounted again: /sys/class/net shows the
  // devices of the namespace that mounted sysfs, not of the reader's. A fresh namespace
  // has its loopback down. And a tmpfs on /run/netns, so that the namespaces the tests make
  // with `ip netns add` are this run's alone: another `npm test` running at the same time on
  // the machine neither sees them nor shows its own here (the examples' tests compare
  // `ip netns list` before and after), and nothing is left on the host if the run is killed.
  status = run('unshare', ['--net', '--mount', '--propagation', 'private', '--', 'sh', '-c', 'mount -t sysfs sysfs /sys && mkdir -p /run/netns && mount -t tmpfs tunctl-test-netns /run/netns && ip link set lo up && exec "$@"', 'sh', process.execPath, vitest, 'run', ...reporters, ...args], {
    ...process.env,
    TUNCTL_PRIVATE_NETNS: '1',
    // The namespace we left: kernel tests check that they run in another one.
    TUNCTL_HOST_NETNS: readlinkSync('/proc/self/ns/net'),
  });
}
try {
  const r = JSON.parse(readFileSync(report, 'utf8'));
  rmSync(report, { force: true });
  const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  console.log(`\ntests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`);
} catch {
  console.log('\ntests: no report (vitest did not finish)');
}
process.exit(status);
