/**
 * Privileges, with child processes that give them up (`setpriv`):
 * - root without CAP_NET_ADMIN: creating or configuring fails with EPERM, and the message
 *   says how to grant the capability;
 * - a persistent device owned by uid U (or group G) can be attached to by a process of U
 *   (of G) with no capability at all; any other uid gets EPERM; configuration still needs
 *   the capability.
 *
 * /dev/net/tun is often mode 0600 (it is on the machine this was written on), so another
 * uid could not even open it. Each unprivileged child therefore runs in a mount namespace
 * of its own (nested in the private one `npm test` makes) with a tmpfs over /dev/net that
 * holds a 0666 node for the same device (c 10 200). Nothing outside that child's
 * namespace changes: the test checks the node it and the host see is still 0600.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { tunctl } from '../../src/index.js';
import { buildIcmp4EchoRequest } from '../../src/packet/icmpEcho.js';
import { describeKernel, devExists, ifname, outsidePid, sh, sysfs } from '../helpers/kernel.js';

const U = 4321;
const OTHER = 4322;
const G = 4323;
const index = new URL('../../dist/index.js', import.meta.url).href;
const persistent: string[] = [];

interface As {
  /** Run as this uid (and gid), with no capabilities; default: stay root. */
  uid?: number;
  /** Supplementary groups of the unprivileged child. */
  groups?: number[];
  /** Root, but without CAP_NET_ADMIN. */
  noNetAdmin?: boolean;
  /** Give the child a private 0666 /dev/net/tun (see the file comment). */
  openTun?: boolean;
}

/** Run `body` (an async function body with `lib` in scope) in a child node; return what it printed as JSON. */
function child(as: As, body: string): Record<string, unknown> {
  const script = `import(${JSON.stringify(index)}).then(async (lib) => {
    const { tunctl, Tuncer } = lib;
    const out = { uid: process.getuid(), capEff: /CapEff:\\s*(\\S+)/.exec(require('node:fs').readFileSync('/proc/self/status', 'utf8'))[1] };
    const err = (e) => ({ name: e.name, code: e.code, syscall: e.syscall, message: e.message });
    try { ${body} } catch (e) { out.unexpected = err(e); }
    console.log(JSON.stringify(out));
    process.exit(0);
  });`;
  let argv = [process.execPath, '-e', script];
  if (as.uid !== undefined) {
    const groups = as.groups?.length ? `--groups=${as.groups.join(',')}` : '--clear-groups';
    argv = ['setpriv', `--reuid=${as.uid}`, `--regid=${as.uid}`, groups, '--inh-caps=-all', '--bounding-set=-all', ...argv];
  } else if (as.noNetAdmin) {
    argv = ['setpriv', '--inh-caps=-net_admin', '--bounding-set=-net_admin', ...argv];
  }
  if (as.openTun) {
    argv = ['unshare', '--mount', '--propagation', 'private', '--', 'sh', '-c', 'mount -t tmpfs -o mode=0755,size=16k tunctl-test /dev/net && mknod -m 0666 /dev/net/tun c 10 200 && exec "$@"', 'sh', ...argv];
  }
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 20_000, cwd: '/' });
  expect(r.error, String(r.error)).toBeUndefined();
  expect(r.stderr, `child stderr: ${r.stderr}`).toBe('');
  const line = r.stdout.trim().split('\n').at(-1) ?? '';
  return JSON.parse(line) as Record<string, unknown>;
}

/** A persistent tun made here, as root, with an address, owned as asked. */
function makePersistent(owner: { uid?: number; gid?: number }, net: number): string {
  const name = ifname('pv');
  const h = tunctl.create(name, { mode: 'tun' });
  if (owner.uid !== undefined) tunctl.owner(h.fd, owner.uid);
  if (owner.gid !== undefined) tunctl.group(h.fd, owner.gid);
  tunctl.persist(h.fd, true);
  tunctl.close(h.fd);
  tunctl.up(name, `198.18.${net}.1`, 24);
  persistent.push(name);
  return name;
}

/** Child code: attach to NAME, write an ICMP echo, read the kernel's reply, close. */
const useDevice = (name: string, net: number): string => `
  const h = tunctl.create(${JSON.stringify(name)}, { mode: 'tun' });
  out.attached = h.name;
  out.persist = tunctl.info(h.fd).persist;
  const echo = Buffer.from(${JSON.stringify([...buildIcmp4EchoRequest({ src: `198.18.${net}.2`, dst: `198.18.${net}.1`, id: 4, seq: 9 })])});
  let reply = null;
  for (let i = 0; i < 400 && !reply; i++) {
    // Again every 200 ms: an echo written while the link was still coming up can be lost.
    if (i % 40 === 0) tunctl.write(h.fd, echo);
    for (const p of tunctl.readBatch(h.fd, 16)) if (p[9] === 1 && p[20] === 0) reply = p.length;
    if (!reply) await new Promise((r) => setTimeout(r, 5));
  }
  out.reply = reply;
  tunctl.close(h.fd);`;

const mode = (path: string): string => (statSync(path).mode & 0o777).toString(8);

/** Mode of /dev/net/tun as the namespace outside ours sees it. */
function outsideMode(): string {
  const pid = outsidePid('mnt');
  if (pid === undefined) throw new Error('no ancestor in another mount namespace');
  return sh('nsenter', [`--mount=/proc/${pid}/ns/mnt`, 'stat', '-c', '%a', '/dev/net/tun']).trim();
}
let before: { here: string; outside: string };

describeKernel('privileges (child processes without CAP_NET_ADMIN, as other uids)', () => {
  beforeAll(() => {
    before = { here: mode('/dev/net/tun'), outside: outsideMode() };
  });
  afterAll(() => {
    for (const name of persistent) {
      if (!devExists(name)) continue;
      const h = tunctl.create(name, { mode: 'tun' });
      tunctl.persist(h.fd, false);
      tunctl.close(h.fd);
    }
  });

  it('root without CAP_NET_ADMIN: create, Tuncer.create and configuration fail with EPERM and say how to grant it', () => {
    const existing = makePersistent({}, 60);
    const out = child({ noNetAdmin: true }, `
      try { tunctl.create('', { mode: 'tun' }); out.create = 'created'; } catch (e) { out.create = err(e); }
      try { await Tuncer.create({ mode: 'tun' }); out.tuncer = 'created'; } catch (e) { out.tuncer = err(e); }
      try { tunctl.setMtu(${JSON.stringify(existing)}, 1400); out.mtu = 'set'; } catch (e) { out.mtu = err(e); }
      try { tunctl.up(${JSON.stringify(existing)}, '198.18.60.9', 24); out.up = 'set'; } catch (e) { out.up = err(e); }`);
    expect(out.uid).toBe(0);
    expect((BigInt(`0x${String(out.capEff)}`) >> 12n) & 1n, 'the child still has CAP_NET_ADMIN').toBe(0n);
    for (const what of ['create', 'tuncer', 'mtu', 'up']) {
      expect(out[what], what).toMatchObject({ name: 'TunError', code: 'EPERM' });
      const message = (out[what] as { message: string }).message;
      expect(message).toContain('CAP_NET_ADMIN');
      expect(message).toContain('setcap cap_net_admin=ep');
    }
    expect(out.create).toMatchObject({ syscall: 'ioctl(TUNSETIFF)' });
    expect(sysfs(existing, 'mtu')).toBe('1500');
  });

  it('a persistent device owned by uid U: U attaches and moves packets without any capability; configuring still needs one', () => {
    const name = makePersistent({ uid: U }, 61);
    expect(sysfs(name, 'owner')).toBe(String(U));
    const out = child({ uid: U, openTun: true }, `${useDevice(name, 61)}
      const t = await Tuncer.create({ name: ${JSON.stringify(name)}, mode: 'tun' });
      out.tuncer = t.devname;
      await t.destroy();
      try { tunctl.setMtu(${JSON.stringify(name)}, 1400); out.mtu = 'set'; } catch (e) { out.mtu = err(e); }
      try { await Tuncer.create({ name: ${JSON.stringify(name)}, mode: 'tun', mtu: 1400 }); out.tuncerMtu = 'set'; } catch (e) { out.tuncerMtu = err(e); }
      try { tunctl.create(${JSON.stringify(name)}, { mode: 'tap' }); out.tap = 'attached'; } catch (e) { out.tap = err(e); }`);
    expect(out.unexpected).toBeUndefined();
    expect(out.uid).toBe(U);
    expect(BigInt(`0x${String(out.capEff)}`)).toBe(0n);
    expect(out).toMatchObject({ attached: name, persist: true, tuncer: name });
    expect(out.reply, 'the kernel answered the echo U wrote').toBeGreaterThan(20);
    expect(out.mtu).toMatchObject({ name: 'TunError', code: 'EPERM' });
    expect(out.tuncerMtu).toMatchObject({ name: 'TunError', code: 'EPERM' });
    expect(out.tap).toMatchObject({ name: 'TunError', code: 'EINVAL' });
    // U's failed attempts neither removed nor changed the device.
    expect(devExists(name)).toBe(true);
    expect(sysfs(name, 'mtu')).toBe('1500');
    expect(sysfs(name, 'owner')).toBe(String(U));
  });

  it('another uid gets EPERM, with the message saying how to get access', () => {
    const name = makePersistent({ uid: U }, 62);
    const out = child({ uid: OTHER, openTun: true }, `
      try { tunctl.create(${JSON.stringify(name)}, { mode: 'tun' }); out.create = 'attached'; } catch (e) { out.create = err(e); }
      try { await Tuncer.create({ name: ${JSON.stringify(name)}, mode: 'tun' }); out.tuncer = 'attached'; } catch (e) { out.tuncer = err(e); }
      try { tunctl.create('', { mode: 'tun' }); out.fresh = 'created'; } catch (e) { out.fresh = err(e); }`);
    expect(out.uid).toBe(OTHER);
    for (const what of ['create', 'tuncer', 'fresh']) {
      expect(out[what], what).toMatchObject({ name: 'TunError', code: 'EPERM', syscall: 'ioctl(TUNSETIFF)' });
      expect((out[what] as { message: string }).message).toContain('owner/group');
    }
    expect(devExists(name)).toBe(true);
  });

  it('a persistent device of group G: a member of G attaches, a non-member gets EPERM', () => {
    const name = makePersistent({ gid: G }, 63);
    expect(sysfs(name, 'group')).toBe(String(G));
    const member = child({ uid: OTHER, groups: [G], openTun: true }, useDevice(name, 63));
    expect(member.unexpected).toBeUndefined();
    expect(member).toMatchObject({ uid: OTHER, attached: name, persist: true });
    expect(member.reply).toBeGreaterThan(20);
    const stranger = child({ uid: OTHER, openTun: true }, `
      try { tunctl.create(${JSON.stringify(name)}, { mode: 'tun' }); out.create = 'attached'; } catch (e) { out.create = err(e); }`);
    expect(stranger.create).toMatchObject({ name: 'TunError', code: 'EPERM' });
  });

  it('owner and group set through Tuncer options (persist) work the same way', async () => {
    const { Tuncer } = await import('../../src/index.js');
    const name = ifname('pt');
    persistent.push(name);
    const t = await Tuncer.create({ name, mode: 'tun', persist: true, owner: U, group: G, addresses: ['198.18.64.1/24'] });
    await t.destroy();
    expect(sysfs(name, 'owner')).toBe(String(U));
    expect(sysfs(name, 'group')).toBe(String(G));
    // With both set, the kernel wants both: uid U in group G.
    expect(child({ uid: U, groups: [G], openTun: true }, useDevice(name, 64))).toMatchObject({ attached: name, persist: true });
    expect(child({ uid: U, openTun: true }, `try { tunctl.create(${JSON.stringify(name)}, { mode: 'tun' }); out.create = 'attached'; } catch (e) { out.create = err(e); }`).create).toMatchObject({ code: 'EPERM' });
  });

  const nodeMode = ((): string => {
    try {
      return mode('/dev/net/tun');
    } catch {
      return '';
    }
  })();
  it.skipIf(nodeMode !== '600')('with /dev/net/tun at mode 0600, another uid fails at open with EACCES, and the message points at the device node', () => {
    const out = child({ uid: U }, `
      try { tunctl.create('', { mode: 'tun' }); out.create = 'created'; } catch (e) { out.create = err(e); }`);
    expect(out.create).toMatchObject({ name: 'TunError', code: 'EACCES', syscall: 'open(/dev/net/tun)' });
    // CAP_NET_ADMIN does not open a 0600 node for another uid, and neither does a device owned
    // by that uid: what helps is the node's mode (0666 is the usual default).
    expect((out.create as { message: string }).message).toMatch(/chmod|0666|mode of \/dev\/net\/tun|permissions of \/dev\/net\/tun/);
  });

  it('the private 0666 node never showed outside the children: /dev/net/tun here and on the host keep their mode', () => {
    expect(mode('/dev/net/tun')).toBe(before.here);
    expect(outsideMode()).toBe(before.outside);
  });
});
