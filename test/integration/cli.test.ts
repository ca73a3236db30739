import { afterEach, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { fileURLToPath } from 'node:url';
import { tunctl } from '../../src/index.js';
import { describeKernel, devExists, ifname, ipAddrs, sh, sysfs } from '../helpers/kernel.js';

/** The built CLI (scripts/test.mjs builds dist/ before vitest runs). */
const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const IFF_PERSIST = 0x800;
const IFF_TUN = 0x1;
const IFF_TAP = 0x2;
const IFF_NO_PI = 0x1000;

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(...args: string[]): Result {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 20_000 });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Devices this file made: removed after each test whatever happened. */
const made: string[] = [];

/** `tunctl add` a device, remembered for cleanup. */
function add(name: string, ...opts: string[]): Result {
  made.push(name);
  return cli('add', name, ...opts);
}

afterEach(() => {
  for (const name of made.splice(0)) {
    if (!devExists(name)) continue;
    const r = cli('del', name);
    if (r.code !== 0 && devExists(name)) sh('ip', ['link', 'del', name]);
  }
});

function tunFlags(name: string): number {
  return parseInt(sysfs(name, 'tun_flags'), 16);
}

function isUp(name: string): boolean {
  return (parseInt(sysfs(name, 'flags'), 16) & 1) !== 0;
}

describeKernel('tunctl CLI against the kernel', () => {
  it('add makes a persistent tun with the owner and group asked for', () => {
    const name = ifname('c');
    try {
      const r = add(name, '--mode', 'tun', '--user', '1234', '--group', '4321');
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(`${name}\n`);
      expect(devExists(name)).toBe(true); // still there after the CLI exited
      const flags = tunFlags(name);
      expect(flags & IFF_PERSIST).toBe(IFF_PERSIST);
      expect(flags & (IFF_TUN | IFF_TAP | IFF_NO_PI)).toBe(IFF_TUN | IFF_NO_PI);
      expect(sysfs(name, 'owner')).toBe('1234');
      expect(sysfs(name, 'group')).toBe('4321');
    } finally {
      cli('del', name);
    }
  });

  it('add resolves user and group names, makes taps by default, and takes flags', () => {
    const name = ifname('c');
    try {
      expect(add(name, '--user', 'root', '--group', 'root', '--pi', '--multi-queue').code).toBe(0);
      const flags = tunFlags(name);
      expect(flags & IFF_TAP).toBe(IFF_TAP);
      expect(flags & IFF_NO_PI).toBe(0);
      expect(flags & 0x100).toBe(0x100); // IFF_MULTI_QUEUE
      expect(flags & IFF_PERSIST).toBe(IFF_PERSIST);
      expect(sysfs(name, 'owner')).toBe('0');
      expect(sysfs(name, 'group')).toBe('0');
      expect(sysfs(name, 'type')).toBe('1'); // ARPHRD_ETHER
    } finally {
      cli('del', name);
    }
  });

  it('add with a %d template prints the name the kernel chose; adding an existing name exits 73', () => {
    const prefix = `c${process.pid % 1000}t`;
    const r = cli('add', `${prefix}%d`, '--mode', 'tun');
    const name = r.stdout.trim();
    made.push(name);
    try {
      expect(r.code).toBe(0);
      expect(name).toMatch(new RegExp(`^${prefix}\\d+$`));
      expect(devExists(name)).toBe(true);
      const again = cli('add', name, '--mode', 'tun');
      expect(again.code).toBe(73);
      expect(again.stderr).toBe(`tunctl: add: ${name} already exists (remove it with 'tunctl del ${name}', or choose another name)\n`);
    } finally {
      cli('del', name);
    }
  });

  it('show lists devices as an aligned table and as JSON', () => {
    const tun = ifname('c');
    const tap = ifname('c');
    try {
      expect(add(tun, '--mode', 'tun', '--user', '1234').code).toBe(0);
      expect(add(tap, '--mode', 'tap', '--vnet-hdr').code).toBe(0);
      expect(cli('up', tun, '198.19.101.1/24', 'fd00:c101::1/64').code).toBe(0);

      const text = cli('show');
      expect(text.code).toBe(0);
      const lines = text.stdout.trimEnd().split('\n');
      expect(lines[0]).toMatch(/^NAME\s+MODE\s+FLAGS\s+OWNER\s+GROUP\s+PERSIST\s+MTU\s+MAC\s+STATE\s+ADDRESSES$/);
      const tunRow = lines.find((l) => l.startsWith(`${tun} `));
      const tapRow = lines.find((l) => l.startsWith(`${tap} `));
      expect(tunRow?.split(/\s+/).slice(0, 9)).toEqual([tun, 'tun', '-', expect.stringMatching(/^1234/), '-', 'yes', '1500', '-', 'up,no-carrier']);
      expect(tunRow).toMatch(/198\.19\.101\.1\/24.*fd00:c101::1\/64/);
      expect(tapRow?.split(/\s+/).slice(0, 9)).toEqual([tap, 'tap', 'vnet_hdr', '-', '-', 'yes', '1500', sysfs(tap, 'address'), 'down']);
      const col = lines[0]!.indexOf('STATE');
      expect(tunRow!.indexOf('up,no-carrier')).toBe(col);
      expect(tapRow!.indexOf('down')).toBe(col);

      const json = cli('show', '--json');
      expect(json.code).toBe(0);
      const devices = JSON.parse(json.stdout) as { name: string; [k: string]: unknown }[];
      const t = devices.find((d) => d.name === tun);
      expect(t).toMatchObject({
        mode: 'tun', persist: true, owner: 1234, group: null, mtu: 1500, mac: null, state: 'up', carrier: false,
        flags: { pi: false, vnetHdr: false, multiQueue: false },
        ipv4: [{ address: '198.19.101.1', prefix: 24 }],
      });
      expect(t?.ipv6).toContainEqual({ address: 'fd00:c101::1', prefix: 64 });
      expect(t?.tunFlags).toBe(sysfs(tun, 'tun_flags'));
      expect(devices.find((d) => d.name === tap)).toMatchObject({ mode: 'tap', mac: sysfs(tap, 'address'), state: 'down', flags: { vnetHdr: true } });

      const one = cli('show', tap, '--json');
      expect((JSON.parse(one.stdout) as { name: string }[]).map((d) => d.name)).toEqual([tap]);
    } finally {
      cli('del', tun);
      cli('del', tap);
    }
  });

  it('show of a non-TUN/TAP or missing interface exits 69', () => {
    const lo = cli('show', 'lo');
    expect(lo.code).toBe(69);
    expect(lo.stderr).toBe('tunctl: show: lo is not a TUN/TAP device\n');
    const missing = cli('show', ifname('nx'));
    expect(missing.code).toBe(69);
    expect(missing.stderr).toMatch(/^tunctl: show: .*ENODEV/);
  });

  it('up and down configure the interface as `ip` sees it', () => {
    const name = ifname('c');
    try {
      expect(add(name, '--mode', 'tun').code).toBe(0);
      expect(cli('up', name, '198.19.102.1', 'fd00:c102::1')).toMatchObject({ code: 0, stderr: '' });
      expect(isUp(name)).toBe(true);
      const addrs = ipAddrs(name);
      expect(addrs).toContainEqual(expect.objectContaining({ family: 'inet', local: '198.19.102.1', prefixlen: 24 })); // default /24
      expect(addrs).toContainEqual(expect.objectContaining({ family: 'inet6', local: 'fd00:c102::1', prefixlen: 64 })); // default /64
      expect(cli('down', name)).toMatchObject({ code: 0, stderr: '' });
      expect(isUp(name)).toBe(false);
      expect(ipAddrs(name).filter((a) => a.family === 'inet6' && a.local.startsWith('fd00:'))).toEqual([]);
      expect(cli('up', name)).toMatchObject({ code: 0, stderr: '' }); // no address: link only
      expect(isUp(name)).toBe(true);
    } finally {
      cli('del', name);
    }
  });

  it('addr adds (IPv4 and IPv6, any number, on a down link too) and addr del removes any of them', () => {
    const name = ifname('c');
    try {
      expect(add(name, '--mode', 'tun').code).toBe(0);
      expect(cli('addr', name, '198.19.102.1/28')).toMatchObject({ code: 0, stdout: '', stderr: '' });
      // A second IPv4 address is added, not swapped for the first; IPv6 on a down link works.
      expect(cli('addr', name, '198.19.104.1/24', 'fd00:c102::3/64', 'fd00:c104::1/128', 'peer', 'fd00:c104::2')).toMatchObject({ code: 0, stderr: '' });
      expect(isUp(name)).toBe(false); // nothing brought the link up
      let addrs = ipAddrs(name);
      expect(addrs).toContainEqual(expect.objectContaining({ family: 'inet', local: '198.19.102.1', prefixlen: 28 }));
      expect(addrs).toContainEqual(expect.objectContaining({ family: 'inet', local: '198.19.104.1', prefixlen: 24 }));
      expect(addrs).toContainEqual(expect.objectContaining({ family: 'inet6', local: 'fd00:c102::3', prefixlen: 64 }));
      expect(addrs).toContainEqual(expect.objectContaining({ family: 'inet6', local: 'fd00:c104::1', address: 'fd00:c104::2', prefixlen: 128 }));
      const shown = cli('show', name).stdout;
      expect(shown).toMatch(/198\.19\.102\.1\/28 198\.19\.104\.1\/24/);
      expect(shown).toContain('fd00:c104::1->fd00:c104::2/128');

      expect(cli('up', name)).toMatchObject({ code: 0 });
      expect(ipAddrs(name).map((a) => a.local)).toContain('fd00:c102::3'); // still there once up

      const dup = cli('addr', name, '198.19.102.1/28');
      expect(dup.code).toBe(73);
      expect(dup.stderr).toMatch(/^tunctl: addr: netlink\(RTM_NEWADDR\) .*EEXIST/);
      expect(cli('addr', 'del', name, 'fd00:c102::3')).toMatchObject({ code: 0, stderr: '' }); // any prefix
      expect(cli('addr', 'del', name, '198.19.104.1/24')).toMatchObject({ code: 0, stderr: '' }); // not the primary one
      addrs = ipAddrs(name);
      expect(addrs.map((a) => a.local)).not.toContain('fd00:c102::3');
      expect(addrs.map((a) => a.local)).not.toContain('198.19.104.1');
      expect(addrs.map((a) => a.local)).toContain('198.19.102.1');

      const gone = cli('addr', 'del', name, '198.19.102.9');
      expect(gone.code).toBe(1);
      expect(gone.stderr).toMatch(/^tunctl: addr: .*EADDRNOTAVAIL/);
      const bad = cli('addr', name, '198.18.300.0/24');
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/^tunctl: addr: "198\.18\.300\.0" is not a valid IP address/);
      const missing = cli('addr', ifname('nx'), '198.19.102.5/24');
      expect(missing.code).toBe(69);
      expect(missing.stderr).toMatch(/ENODEV/);
    } finally {
      cli('del', name);
    }
  });

  it('route add, show and del, as `ip route` sees them', () => {
    const name = ifname('c');
    try {
      expect(add(name, '--mode', 'tun').code).toBe(0);
      expect(cli('addr', name, '198.19.106.1/24', 'fd00:c106::1/64', '--nodad').code).toBe(0);
      expect(cli('up', name).code).toBe(0);
      const { fd } = tunctl.create(name, { mode: 'tun' }); // a reader: the link has carrier, as in use
      try {
        expect(cli('route', 'add', name, '198.19.107.0/24', 'metric', '20')).toEqual({ code: 0, stdout: '', stderr: '' });
        expect(cli('route', 'add', name, '198.19.108.0/24', 'via', '198.19.106.2')).toMatchObject({ code: 0, stderr: '' });
        expect(cli('route', 'add', name, 'fd00:c107::/64', 'via', 'fd00:c106::2', 'table', '1001')).toMatchObject({ code: 0, stderr: '' });
        const ip4 = JSON.parse(sh('ip', ['-j', 'route', 'show', 'dev', name])) as { dst: string; metric?: number; gateway?: string }[];
        expect(ip4).toContainEqual(expect.objectContaining({ dst: '198.19.107.0/24', metric: 20 }));
        expect(ip4).toContainEqual(expect.objectContaining({ dst: '198.19.108.0/24', gateway: '198.19.106.2' }));
        expect(JSON.parse(sh('ip', ['-6', '-j', 'route', 'show', 'table', '1001']))).toEqual([expect.objectContaining({ dst: 'fd00:c107::/64', gateway: 'fd00:c106::2' })]);

        const json = cli('route', 'show', name, '--json');
        expect(json.code).toBe(0);
        const routes = JSON.parse(json.stdout) as { dst: string; dev: string; via: string | null; metric: number; table: number }[];
        expect(routes.map((r) => r.dst).sort()).toEqual(
          [...ip4.map((r) => r.dst), ...(JSON.parse(sh('ip', ['-6', '-j', 'route', 'show', 'dev', name])) as { dst: string }[]).map((r) => r.dst)]
            .map((d) => (d.includes('/') ? d : `${d}/${d.includes(':') ? 128 : 32}`))
            .sort(),
        );
        expect(routes).toContainEqual(expect.objectContaining({ dst: '198.19.107.0/24', dev: name, via: null, metric: 20, table: 254 }));
        const text = cli('route', 'show', '--table', '1001');
        expect(text.stdout.trimEnd().split('\n')[1]?.split(/\s+/)).toEqual(['fd00:c107::/64', 'fd00:c106::2', name, '1024', '1001', 'boot', 'global']);

        expect(cli('route', 'add', name, '198.19.107.0/24', 'metric', '20').code).toBe(73);
        expect(cli('route', 'del', name, '198.19.107.0/24')).toEqual({ code: 0, stdout: '', stderr: '' });
        expect(cli('route', 'del', name, 'fd00:c107::/64', 'table', '1001').code).toBe(0);
        expect(sh('ip', ['route', 'show', 'dev', name])).not.toContain('198.19.107.0/24');
        expect(sh('ip', ['-6', 'route', 'show', 'table', '1001'])).toBe('');
        const again = cli('route', 'del', name, '198.19.107.0/24');
        expect(again.code).toBe(1);
        expect(again.stderr).toMatch(/^tunctl: route: netlink\(RTM_DELROUTE\) .*ESRCH/);
        const bad = cli('route', 'add', name, '198.18.300.0/24');
        expect(bad.code).toBe(2);
        expect(cli('route', 'add', ifname('nx'), '198.19.109.0/24').code).toBe(69);
      } finally {
        tunctl.close(fd);
      }
    } finally {
      cli('del', name);
    }
  });

  it('monitor --events prints `ip link set down` and `ip link set mtu 1400` from outside', async () => {
    const name = ifname('c');
    try {
      expect(add(name, '--mode', 'tun').code).toBe(0);
      expect(cli('up', name).code).toBe(0);
      const child = spawn(process.execPath, [CLI, 'monitor', name, '--events', '--count', '2'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      // The watch starts when the child is ready, which this test cannot see: repeat the two
      // changes until it has printed two events.
      let n = 0;
      const timer = setInterval(() => {
        n += 1;
        sh('ip', ['link', 'set', name, n % 2 === 1 ? 'down' : 'up']);
        sh('ip', ['link', 'set', name, 'mtu', n % 2 === 1 ? '1400' : '1500']);
      }, 50);
      const code = await exited;
      clearInterval(timer);
      expect(stderr).toBe('');
      expect(code).toBe(0);
      const lines = stdout.trimEnd().split('\n');
      expect(lines).toHaveLength(2);
      for (const line of lines) expect(line).toMatch(new RegExp(`^link ${name} #\\d+ (up|down)( running)? mtu (1400|1500)$`));
      expect(lines.some((l) => / down( running)? mtu/.test(l)) || lines.some((l) => /mtu 1400$/.test(l))).toBe(true);
      const missing = cli('monitor', ifname('nx'), '--events', '--count', '1');
      expect(missing.code).toBe(69);
      expect(missing.stderr).toMatch(/ENODEV/);
    } finally {
      cli('del', name);
    }
  });

  it('del removes a persistent device; a missing one exits 69 with ENODEV', () => {
    const name = ifname('c');
    expect(add(name, '--mode', 'tap').code).toBe(0);
    expect(devExists(name)).toBe(true);
    const r = cli('del', name);
    expect(r).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(devExists(name)).toBe(false);

    const again = cli('del', name);
    expect(again.code).toBe(69);
    expect(again.stdout).toBe('');
    expect(again.stderr).toMatch(new RegExp(`^tunctl: del: .*${name}: ENODEV \\(no such device\\)`));

    const lo = cli('del', 'lo');
    expect(lo.code).toBe(69);
    expect(lo.stderr).toMatch(/lo is not a TUN\/TAP device/);
    expect(devExists('lo')).toBe(true);
  });

  it('del of a device held open by another process exits 75 and leaves it', () => {
    const name = ifname('c');
    try {
      expect(add(name, '--mode', 'tun').code).toBe(0);
      const { fd } = tunctl.create(name, { mode: 'tun' });
      try {
        const r = cli('del', name);
        expect(r.code).toBe(75);
        expect(r.stderr).toMatch(/^tunctl: del: .*EBUSY/);
        expect(devExists(name)).toBe(true);
      } finally {
        tunctl.close(fd);
      }
    } finally {
      cli('del', name);
    }
    expect(devExists(name)).toBe(false);
  });

  it('refuses a bad name with exit 2, touching nothing', () => {
    for (const bad of ['a/b', 'x'.repeat(16), 'has space']) {
      const r = cli('add', bad, '--mode', 'tun');
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^tunctl: add: NAME /);
      expect(r.stderr).toMatch(/Run 'tunctl add --help' for usage\./);
    }
    expect(cli('del', 'a:b').code).toBe(2);
  });

  it('without CAP_NET_ADMIN, add exits 77 and says how to get the capability', () => {
    const name = ifname('c');
    made.push(name);
    const r = spawnSync('setpriv', ['--inh-caps=-net_admin', '--bounding-set=-net_admin', process.execPath, CLI, 'add', name, '--mode', 'tun'], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(r.status).toBe(77);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(new RegExp(`^tunctl: add: ioctl\\(TUNSETIFF\\) ${name}: EPERM`));
    expect(r.stderr).toMatch(/CAP_NET_ADMIN/);
    expect(r.stderr).toMatch(/setcap cap_net_admin=ep/);
    expect(devExists(name)).toBe(false);
  });

  it('monitor shows the packets the kernel sends into a persistent tun, per protocol', async () => {
    const name = ifname('c');
    try {
      expect(add(name, '--mode', 'tun').code).toBe(0);
      expect(cli('up', name, '198.19.103.1/24').code).toBe(0);
      const child = spawn(process.execPath, [CLI, 'monitor', name, '--count', '2', '--interval', '200'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      // UDP to another address of the tun's subnet: the kernel routes it out through
      // the device, to the monitor reading it. Keep sending until the monitor is done.
      const sock = createSocket('udp4');
      const payload = Buffer.from('tunctl monitor test');
      const timer = setInterval(() => sock.send(payload, 9, '198.19.103.2', () => undefined), 10);
      const code = await exited;
      clearInterval(timer);
      sock.close();

      expect(stderr).toBe('');
      expect(code).toBe(0);
      const lines = stdout.trimEnd().split('\n');
      expect(lines).toHaveLength(2); // --count 2, one line per interval (stdout is a pipe)
      for (const line of lines) expect(line).toMatch(new RegExp(`^${name} t=\\d+\\.\\ds \\S+ pkt/s \\S+ \\S*B/s total \\d+ packets`));
      const last = lines[1]!;
      const total = Number(/total (\d+) packets/.exec(last)?.[1]);
      const udp = Number(/ udp=(\d+)/.exec(last)?.[1]);
      expect(total).toBeGreaterThan(0);
      expect(udp).toBeGreaterThan(0);
      expect(udp).toBeLessThanOrEqual(total);
      // The reader is gone; the persistent device stays, with its address.
      expect(devExists(name)).toBe(true);
      expect(tunFlags(name) & IFF_PERSIST).toBe(IFF_PERSIST);
      expect(ipAddrs(name)).toContainEqual(expect.objectContaining({ local: '198.19.103.1' }));
    } finally {
      cli('del', name);
    }
  });

  it('monitor stops cleanly on SIGINT, leaving the device', async () => {
    const name = ifname('c');
    try {
      expect(add(name, '--mode', 'tap').code).toBe(0);
      const child = spawn(process.execPath, [CLI, 'monitor', name, '--interval', '50'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let interrupted = false;
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        if (!interrupted && stdout.split('\n').length > 2) {
          interrupted = true; // once: a second Ctrl-C is left to kill it outright
          child.kill('SIGINT'); // after two updates
        }
      });
      const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
      expect(code).toBe(0);
      expect(interrupted).toBe(true);
      // Two updates, then the last partial interval drawn on the way out.
      expect(stdout.trimEnd().split('\n').length).toBeGreaterThanOrEqual(3);
      expect(stdout).toMatch(new RegExp(`^${name} t=`, 'm'));
      expect(devExists(name)).toBe(true);
      expect(cli('del', name).code).toBe(0); // no reader left holding it
    } finally {
      cli('del', name);
    }
  });

  it('monitor on a terminal redraws its block in place', () => {
    const name = ifname('c');
    try {
      expect(add(name, '--mode', 'tun').code).toBe(0);
      // script(1) gives the CLI a pseudo-terminal as stdout.
      const r = spawnSync('script', ['-qec', `${process.execPath} ${CLI} monitor ${name} --count 3 --interval 100`, '/dev/null'], {
        encoding: 'utf8',
        timeout: 20_000,
      });
      expect(r.status).toBe(0);
      const out = r.stdout.replace(/\r/g, '');
      expect(out).toMatch(new RegExp(`^monitor ${name} \\(tun\\), every 100 ms; Ctrl-C to stop\n`));
      // First block drawn plainly, the next two each after "up 2 lines, clear to end".
      expect(out.split('\x1b[2A\x1b[J')).toHaveLength(3);
      expect(out.match(/^(?:\x1b\[2A\x1b\[J)?rate\s+0 pkt\/s\s+0 B\/s$/gm)).toHaveLength(3);
      expect(out.match(/^total\s+0 packets\s+0 B\s+in \d+\.\d s$/gm)).toHaveLength(3);
    } finally {
      cli('del', name);
    }
  });

  it('monitor of a missing device exits 69; of one in use, 75', () => {
    const missing = cli('monitor', ifname('nx'), '--count', '1');
    expect(missing.code).toBe(69);
    expect(missing.stderr).toMatch(/^tunctl: monitor: .*ENODEV/);

    const name = ifname('c');
    try {
      expect(add(name, '--mode', 'tun').code).toBe(0);
      const { fd } = tunctl.create(name, { mode: 'tun' });
      try {
        const busy = cli('monitor', name, '--count', '1');
        expect(busy.code).toBe(75);
        expect(busy.stderr).toMatch(/^tunctl: monitor: .*EBUSY/);
      } finally {
        tunctl.close(fd);
      }
    } finally {
      cli('del', name);
    }
  });
});
