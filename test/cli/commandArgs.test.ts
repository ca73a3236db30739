import { describe, expect, it } from 'vitest';
import { addSpec } from '../../src/cli/addCommand.js';
import { UsageError } from '../../src/cli/cliError.js';
import { addrSpec } from '../../src/cli/addrCommand.js';
import { delSpec } from '../../src/cli/delCommand.js';
import { downSpec } from '../../src/cli/downCommand.js';
import { monitorSpec } from '../../src/cli/monitorCommand.js';
import { routeSpec } from '../../src/cli/routeCommand.js';
import { showSpec } from '../../src/cli/showCommand.js';
import { upSpec } from '../../src/cli/upCommand.js';

describe('argument parsing', () => {
  it('add: defaults to a tap without pi, takes flags, ids and names', () => {
    expect(addSpec.parseArgv(['tap7'])).toEqual({
      name: 'tap7', mode: 'tap', user: undefined, group: undefined, pi: false, vnetHdr: false, multiQueue: false,
      addresses: [], sendFd: undefined, persist: false,
    });
    expect(addSpec.parseArgv(['tun%d', '--mode', 'tun', '--user', '1000', '--group=root', '--pi', '--vnet-hdr', '--multi-queue', '--persist'])).toEqual({
      name: 'tun%d', mode: 'tun', user: 1000, group: 0, pi: true, vnetHdr: true, multiQueue: true,
      addresses: [], sendFd: undefined, persist: true,
    });
    expect(addSpec.parseArgv(['tun0', '--user', 'root'])?.user).toBe(0);
  });

  it('add: --addr takes a comma-separated list, --send-fd a socket path', () => {
    expect(addSpec.parseArgv(['tun0', '--mode', 'tun', '--addr', '198.18.0.1/24,fd00::1', '--send-fd', '/run/t.sock'])).toMatchObject({
      addresses: [{ address: '198.18.0.1', family: 4, prefix: 24 }, { address: 'fd00::1', family: 6, prefix: undefined }],
      sendFd: '/run/t.sock',
    });
    expect(() => addSpec.parseArgv(['tun0', '--addr', '198.18.0.1,198.18.1.1'])).toThrow(UsageError);
    expect(() => addSpec.parseArgv(['tun0', '--addr', '198.18.0.300'])).toThrow(UsageError);
    expect(() => addSpec.parseArgv(['tun0', '--send-fd', `/${'s'.repeat(107)}`])).toThrow(/1 to 107 bytes/);
  });

  it('--help gives null (print help) instead of arguments', () => {
    expect(addSpec.parseArgv(['--help'])).toBeNull();
    expect(monitorSpec.parseArgv(['-h'])).toBeNull();
  });

  it('del and down take one name', () => {
    expect(delSpec.parseArgv(['tun0'])).toEqual({ name: 'tun0' });
    expect(downSpec.parseArgv(['tun0'])).toEqual({ name: 'tun0' });
  });

  it('show: optional name, --json', () => {
    expect(showSpec.parseArgv([])).toEqual({ name: undefined, json: false });
    expect(showSpec.parseArgv(['tap0', '--json'])).toEqual({ name: 'tap0', json: true });
  });

  it('up: name and any number of addresses, prefixes optional', () => {
    expect(upSpec.parseArgv(['tun0'])).toEqual({ name: 'tun0', addresses: [] });
    expect(upSpec.parseArgv(['tun0', '198.18.0.1', 'fd00::1/64'])).toEqual({
      name: 'tun0',
      addresses: [
        { address: '198.18.0.1', family: 4, prefix: undefined },
        { address: 'fd00::1', family: 6, prefix: 64 },
      ],
    });
  });

  it('addr: adds by default, any number of addresses, each with an optional peer; del removes', () => {
    expect(addrSpec.parseArgv(['tun0', '198.18.0.1/30'])).toEqual({ op: 'add', name: 'tun0', addresses: [{ address: '198.18.0.1', family: 4, prefix: 30, peer: undefined }], nodad: false });
    expect(addrSpec.parseArgv(['add', 'tun0', '198.18.0.1', '198.18.1.1/24', 'fd00::1/128', 'peer', 'fd00::2', '--nodad'])).toEqual({
      op: 'add',
      name: 'tun0',
      addresses: [
        { address: '198.18.0.1', family: 4, prefix: undefined, peer: undefined },
        { address: '198.18.1.1', family: 4, prefix: 24, peer: undefined },
        { address: 'fd00::1', family: 6, prefix: 128, peer: 'fd00::2' },
      ],
      nodad: true,
    });
    expect(addrSpec.parseArgv(['del', 'tun0', 'fd00::1'])).toMatchObject({ op: 'del', name: 'tun0', addresses: [{ address: 'fd00::1', prefix: undefined }] });
    expect(addrSpec.parseArgv(['add', 'del', '198.18.0.1'])).toMatchObject({ op: 'add', name: 'del' }); // an interface called 'del'
  });

  it('route: add/del with via, metric and table in any order; show with a name, --json, --table', () => {
    expect(routeSpec.parseArgv(['add', 'tun0', '198.18.8.0/24', 'metric', '5', 'via', '198.18.0.2', 'table', '100'])).toEqual({
      op: 'add', route: { dst: '198.18.8.0/24', dev: 'tun0', metric: 5, via: '198.18.0.2', table: 100 },
    });
    expect(routeSpec.parseArgv(['del', 'tun0', 'fd00:8::/64', 'table', 'main'])).toEqual({ op: 'del', route: { dst: 'fd00:8::/64', dev: 'tun0', table: 254 } });
    expect(routeSpec.parseArgv(['show'])).toEqual({ op: 'show', dev: undefined, json: false, table: undefined });
    expect(routeSpec.parseArgv(['show', 'tun0', '--json', '--table', 'all'])).toEqual({ op: 'show', dev: 'tun0', json: true, table: 'all' });
  });

  it('monitor: packets of NAME (interval default 1000 ms, count unlimited), or events with --events or no NAME', () => {
    expect(monitorSpec.parseArgv(['tun0'])).toEqual({ name: 'tun0', events: false, json: false, intervalMs: 1000, count: undefined });
    expect(monitorSpec.parseArgv(['tun0', '--interval', '200', '--count', '2'])).toEqual({ name: 'tun0', events: false, json: false, intervalMs: 200, count: 2 });
    expect(monitorSpec.parseArgv([])).toEqual({ name: undefined, events: true, json: false, intervalMs: 1000, count: undefined });
    expect(monitorSpec.parseArgv(['tun0', '--events', '--json', '--count', '3'])).toEqual({ name: 'tun0', events: true, json: true, intervalMs: 1000, count: 3 });
  });
});
