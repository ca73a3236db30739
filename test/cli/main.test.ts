import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { memoryOutput } from '../../src/cli/cliOutput.js';
import { COMMANDS, main, topHelp, version } from '../../src/cli/main.js';

const NAMES = ['add', 'del', 'show', 'up', 'down', 'addr', 'route', 'monitor'];

async function run(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = memoryOutput();
  const code = await main(argv, io);
  return { code, stdout: io.stdout.join('\n'), stderr: io.stderr.join('\n') };
}

describe('top level', () => {
  it('has the eight commands', () => {
    expect(COMMANDS.map((c) => c.name)).toEqual(NAMES);
  });

  it.each(['--help', '-h', 'help'])('%s prints the help with every command and the exit statuses', async (flag) => {
    const r = await run(flag);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^Usage: tunctl <command>/);
    for (const name of NAMES) expect(r.stdout).toMatch(new RegExp(`^  ${name} `, 'm'));
    for (const status of ['0', '1', '2', '67', '69', '73', '75', '77']) expect(r.stdout).toMatch(new RegExp(`^  ${status}\\s`, 'm'));
    expect(r.stdout).toMatch(/CAP_NET_ADMIN/);
  });

  it('prints the package version', async () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const r = await run(flag);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(pkg.version);
    }
    expect(version()).toBe(pkg.version);
  });

  it('with no arguments prints the help on stderr and exits 2', async () => {
    const r = await run();
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(topHelp().trimEnd());
  });

  it('refuses an unknown command or option with exit 2', async () => {
    const cmd = await run('frobnicate', 'x');
    expect(cmd.code).toBe(2);
    expect(cmd.stderr).toMatch(/^tunctl: unknown command "frobnicate"; commands: add, del, show/);
    const opt = await run('--frob');
    expect(opt.code).toBe(2);
    expect(opt.stderr).toMatch(/^tunctl: unknown option "--frob"/);
    const help = await run('help', 'nope');
    expect(help.code).toBe(2);
    expect(help.stderr).toMatch(/help: unknown command "nope"/);
  });
});

describe.each(NAMES)('tunctl %s', (name) => {
  it('--help and -h print its usage and exit 0', async () => {
    for (const flag of ['--help', '-h']) {
      const r = await run(name, flag);
      expect(r.code).toBe(0);
      expect(r.stderr).toBe('');
      expect(r.stdout).toMatch(new RegExp(`^Usage: tunctl ${name}\\b`));
      expect(r.stdout).toMatch(/Exit status:/);
    }
  });

  it('help <command> prints the same', async () => {
    expect((await run('help', name)).stdout).toBe((await run(name, '--help')).stdout);
  });

  it('--help wins over bad arguments', async () => {
    const r = await run(name, 'a/b', 'c', 'd', '--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage:/);
  });

  it('refuses an unknown option with exit 2, naming the command', async () => {
    const r = await run(name, 'tun0', '--bogus');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^tunctl: ${name}: Unknown option '--bogus'`));
    expect(r.stderr).toMatch(new RegExp(`Run 'tunctl ${name} --help' for usage\\.$`));
  });
});

describe('help texts say what matters', () => {
  const help = (n: string): string => COMMANDS.find((c) => c.name === n)!.help;

  it('add says it persists, except for a device handed over with --send-fd', () => {
    expect(help('add')).toMatch(/makes the device persistent/);
    expect(help('add')).toMatch(/--send-fd SOCKET/);
    expect(help('add')).toMatch(/not persistent then: it\s+lives while that process holds the fd/);
  });

  it('monitor warns that it takes packets from other readers, and how Ctrl-C ends', () => {
    expect(help('monitor')).toMatch(/takes packets away from whoever else reads/);
    expect(help('monitor')).toMatch(/Ctrl-C/);
  });

  it('show says it reads the kernel over rtnetlink, not sysfs', () => {
    expect(help('show')).toMatch(/rtnetlink/);
    expect(help('show')).toMatch(/nothing is read from sysfs or procfs/);
  });

  it('addr says it adds, and route and monitor --events say what they take', () => {
    expect(help('addr')).toMatch(/keeping those it has/);
    expect(help('route')).toMatch(/route add NAME CIDR \[via GW\] \[metric N\]/);
    expect(help('monitor')).toMatch(/--events/);
  });
});

describe('usage errors exit 2 with a message', () => {
  it.each([
    [['add'], /^tunctl: add: missing NAME$/m],
    [['add', 'a/b'], /^tunctl: add: NAME "a\/b" must not contain/m],
    [['add', 'x'.repeat(16)], /16 bytes long/],
    [['add', 'tun0', '--mode', 'tan'], /--mode must be 'tun' or 'tap', got "tan"/],
    [['add', 'tun0', '--mode'], /--mode/],
    [['add', 'tun0', 'tun1'], /unexpected argument "tun1"/],
    [['add', 'tun0', '--user', '99999999999'], /--user id must be from 0 to 4294967294/],
    [['del'], /^tunctl: del: missing NAME$/m],
    [['del', 'tun%d'], /template/],
    [['show', 'a', 'b'], /unexpected argument "b"/],
    [['show', 'a:b'], /must not contain/],
    [['up'], /^tunctl: up: missing NAME$/m],
    [['up', 'tun0', '198.18.0.1/40'], /0 to 32/],
    [['up', 'tun0', '198.18.0.1', '198.18.1.1'], /only one IPv4 address/],
    [['up', 'tun0', 'not-an-address'], /not a valid IP address/],
    [['down', 'tun0', 'extra'], /unexpected argument "extra"/],
    [['addr', 'tun0'], /^tunctl: addr: missing ADDR$/m],
    [['addr', 'del', 'tun0', 'fd00::1/129'], /0 to 128/],
    [['addr', 'tun0', '198.18.300.0/24'], /IPv4 part 300 is over 255/],
    [['addr', 'tun0', 'fd00::1/128', 'peer'], /missing PEER/],
    [['addr', 'tun0', 'fd00::1/128', 'peer', '198.18.0.2'], /is IPv4, but fd00::1 is IPv6/],
    [['addr', 'del', 'tun0', 'fd00::1', 'peer', 'fd00::2'], /'peer' is for adding/],
    [['route'], /missing add, del or show/],
    [['route', 'flush'], /unknown route command "flush"/],
    [['route', 'add', 'tun0'], /^tunctl: route: missing CIDR$/m],
    [['route', 'add', 'tun0', '198.18.300.0/24'], /IPv4 part 300 is over 255/],
    [['route', 'add', 'tun0', '198.18.8.1/24'], /host bits set: the network is 198\.18\.8\.0\/24/],
    [['route', 'add', 'tun0', '198.18.8.0/24', 'via', 'fd00::1'], /is IPv6, but 198\.18\.8\.0\/24 is IPv4/],
    [['route', 'add', 'tun0', '198.18.8.0/24', 'metric'], /missing a value after 'metric'/],
    [['route', 'add', 'tun0', '198.18.8.0/24', 'metric', '1.5'], /metric must be a whole number/],
    [['route', 'add', 'tun0', '198.18.8.0/24', 'table', '0'], /table must be a whole number from 1/],
    [['route', 'add', 'tun0', '198.18.8.0/24', 'dev', 'x'], /unexpected "dev"/],
    [['route', 'add', 'tun0', '198.18.8.0/24', '--json'], /are for 'route show'/],
    [['route', 'show', 'a', 'b'], /unexpected argument "b"/],
    [['monitor', '--interval', '100'], /--interval is for packets/],
    [['monitor', 'tun0', '--json'], /--json is for --events/],
    [['monitor', 'tun0', '--interval', '5'], /--interval must be a whole number from 10 to 3600000/],
    [['monitor', 'tun0', '--count', '0'], /--count must be a whole number from 1/],
    [['monitor', 'tun0', '--count', 'two'], /--count must be a whole number/],
  ])('%j', async (argv, message) => {
    const r = await run(...argv);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
  });

  it('an unknown user name exits 67, not 2', async () => {
    const r = await run('add', 'tun0', '--user', 'no-such-user-here');
    expect(r.code).toBe(67);
    expect(r.stderr).toMatch(/^tunctl: add: unknown user "no-such-user-here"/);
    expect(r.stderr).not.toMatch(/--help/);
  });
});
