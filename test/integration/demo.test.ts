/**
 * `npm run demo` (examples/demo.mjs): it enters a namespace of its own, shows echo replies
 * from the kernel, survives a crash of the interface's worker, and leaves nothing behind.
 * Without privileges it says what is missing and exits 77.
 */
import { expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describeKernel, tunDevices } from '../helpers/kernel.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

function runDemo(wrap: string[] = [], timeoutMs = 20_000): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const argv = [...wrap, process.execPath, 'examples/demo.mjs'];
    const child = spawn(argv[0]!, argv.slice(1), { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const term = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(term);
      resolve({ code, out, err });
    });
  });
}

function netnsList(): string {
  return spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
}

describeKernel('demo', () => {
  it('shows echo replies before and after a restart of demo0, exits 0 and leaves nothing', async () => {
    const before = { ns: netnsList(), devs: tunDevices() };
    const { code, out, err } = await runDemo();
    if (code !== 0) console.log(out, err);
    expect(code).toBe(0);
    expect(err).toBe('');
    const lines = out.split('\n');
    // Every line starts with a timestamp.
    for (const l of lines.filter((x) => x !== '')) expect(l).toMatch(/^\d\d:\d\d:\d\d\.\d{3} {2}\S/);
    const restart = lines.findIndex((l) => /supervisor: demo0 restarted/.test(l));
    expect(restart).toBeGreaterThan(0);
    const replies4 = lines.flatMap((l, i) => (/demo0 > IPv4 198\.18\.70\.1 > 198\.18\.70\.2 ICMP echo reply/.test(l) ? [i] : []));
    const replies6 = lines.flatMap((l, i) => (/demo0 > IPv6 fd00:70::1 > fd00:70::2 ICMPv6 echo reply/.test(l) ? [i] : []));
    expect(replies4.filter((i) => i < restart)).toHaveLength(3);
    expect(replies4.filter((i) => i > restart)).toHaveLength(3);
    expect(replies6.filter((i) => i < restart)).toHaveLength(3);
    expect(replies6.filter((i) => i > restart)).toHaveLength(3);
    // The crash and the restart are reported in order.
    const exited = lines.findIndex((l) => /supervisor: demo0 exited abnormally \(injected fault/.test(l));
    const restarting = lines.findIndex((l) => /supervisor: restarting demo0/.test(l));
    expect(exited).toBeGreaterThan(0);
    expect(exited).toBeLessThan(restarting);
    expect(restarting).toBeLessThan(restart);
    expect(out).toMatch(/demo0 is back \(new instance\): 198\.18\.70\.1\/24, active=true/);
    // The datagrams from a socket were routed out through the tun.
    expect(out).toMatch(/demo0 > IPv4 198\.18\.70\.1 > 198\.18\.70\.2 UDP \d+ > 9/);
    expect(out).toMatch(/demo0 > IPv6 fd00:70::1 > fd00:70::2 UDP \d+ > 9/);
    expect(out).toContain('echo replies: 6/6 before the restart, 6/6 after');
    expect(out).toMatch(/done: demo0 and its namespace are gone\n$/);
    // It worked in a namespace of its own: nothing here changed.
    expect(netnsList()).toBe(before.ns);
    expect(tunDevices()).toEqual(before.devs);
  });
});

// Needs no network: only a way to drop privileges (root, and setpriv(1) to empty the
// capability bounding set; the uid stays 0 so the files remain readable).
const dropCaps = ['setpriv', '--bounding-set=-all', '--inh-caps=-all'];
const canDrop = process.getuid?.() === 0 && spawnSync(dropCaps[0]!, [...dropCaps.slice(1), 'true'], { stdio: 'ignore' }).status === 0;
it.skipIf(!canDrop)('demo without privileges: says what is missing and exits 77, no stack trace', async () => {
  const { code, out, err } = await runDemo(dropCaps);
  expect(code).toBe(77);
  expect(out).toBe('');
  expect(err).toMatch(/^tunctl demo cannot run here:\n/);
  expect(err).toMatch(/CAP_NET_ADMIN is required/);
  expect(err).not.toMatch(/\n\s+at /);
});
