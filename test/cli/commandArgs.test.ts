import { describe, expect, it } from 'vitest';
import { addSpec } from '../../src/cli/addCommand.js';
import { UsageError } from '../../src/cli/cliError.js';
import { addrSpec } from '../../src/cli/addrCommand.js';
import { delSpec } from '../../src/cli/delCommand.js';
import { downSpec } from '../../src/cli/downCommand.js';
import { monitorSpec } from '../../src/cli/monitorCommand.js';
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

  it('addr: at least one address, --del', () => {
    expect(addrSpec.parseArgv(['tun0', '198.18.0.1/30'])).toEqual({ name: 'tun0', addresses: [{ address: '198.18.0.1', family: 4, prefix: 30 }], del: false });
    expect(addrSpec.parseArgv(['tun0', 'fd00::1', '--del'])?.del).toBe(true);
  });

  it('monitor: interval default 1000 ms, count unlimited', () => {
    expect(monitorSpec.parseArgv(['tun0'])).toEqual({ name: 'tun0', intervalMs: 1000, count: undefined });
    expect(monitorSpec.parseArgv(['tun0', '--interval', '200', '--count', '2'])).toEqual({ name: 'tun0', intervalMs: 200, count: 2 });
  });
});
