import { describe, expect, it } from 'vitest';
import { CliError, UsageError } from '../../src/cli/cliError.js';
import { memoryOutput } from '../../src/cli/cliOutput.js';
import { EXIT, exitCodeFor, reportFailure } from '../../src/cli/exitCodes.js';
import { tunErrorFromCode } from '../../src/native/tunError.js';

describe('exitCodeFor', () => {
  it.each([
    ['EPERM', 77],
    ['EACCES', 77],
    ['ENODEV', 69],
    ['ENOENT', 69],
    ['ENXIO', 69],
    ['EEXIST', 73],
    ['EBUSY', 75],
    ['EAGAIN', 75],
    ['EINVAL', 1],
    ['EADDRNOTAVAIL', 1],
  ] as const)('maps a TunError %s to %d', (code, status) => {
    expect(exitCodeFor(tunErrorFromCode(code, 'ioctl(TUNSETIFF)', 'tun0'))).toBe(status);
  });

  it('uses a CliError’s own status, 2 for usage errors, 1 for anything else', () => {
    expect(exitCodeFor(new CliError('x', EXIT.NOUSER))).toBe(67);
    expect(exitCodeFor(new UsageError('x'))).toBe(2);
    expect(exitCodeFor(new RangeError('a bug, not a usage error'))).toBe(1);
    expect(exitCodeFor('a string')).toBe(1);
  });
});

describe('reportFailure', () => {
  it('prints "tunctl: <command>: <message>" and returns the status', () => {
    const io = memoryOutput();
    const err = tunErrorFromCode('EPERM', 'ioctl(TUNSETIFF)', 'tun0');
    expect(reportFailure('add', err, io)).toBe(77);
    expect(io.stderr).toEqual([`tunctl: add: ${err.message}`]);
    expect(io.stderr[0]).toMatch(/CAP_NET_ADMIN/);
    expect(io.stdout).toEqual([]);
  });

  it('points usage errors at the command’s help', () => {
    const io = memoryOutput();
    expect(reportFailure('up', new UsageError('missing NAME'), io)).toBe(2);
    expect(io.stderr).toEqual(['tunctl: up: missing NAME', "Run 'tunctl up --help' for usage."]);
  });
});
