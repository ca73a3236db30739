import { describe, expect, it } from 'vitest';
import { CliError, UsageError } from '../../src/cli/cliError.js';
import { idName, parseIdFile, resolveId } from '../../src/cli/resolveId.js';

const PASSWD = `root:x:0:0:root:/root:/bin/bash
# a comment

alice:x:1000:1000:Alice:/home/alice:/bin/sh
+nisuser::::::
broken:x:notanumber:0::/:/bin/false
bob:x:1001:1001::/home/bob:/bin/sh
`;
const GROUP = `root:x:0:
netdev:x:108:alice,bob
`;

describe('parseIdFile', () => {
  it('maps names to ids, skipping comments, NIS entries and malformed lines', () => {
    const ids = parseIdFile(PASSWD);
    expect([...ids]).toEqual([['root', 0], ['alice', 1000], ['bob', 1001]]);
  });
});

describe('resolveId', () => {
  it('takes numeric ids as they are', () => {
    expect(resolveId('user', '1234', PASSWD)).toBe(1234);
    expect(resolveId('group', '0', GROUP)).toBe(0);
    expect(resolveId('user', '4294967294', PASSWD)).toBe(4294967294);
  });

  it('looks names up', () => {
    expect(resolveId('user', 'alice', PASSWD)).toBe(1000);
    expect(resolveId('group', 'netdev', GROUP)).toBe(108);
  });

  it('refuses an unknown name with exit status 67 (EX_NOUSER)', () => {
    let caught: unknown;
    try {
      resolveId('user', 'mallory', PASSWD);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(CliError);
    expect(caught).not.toBeInstanceOf(UsageError);
    expect((caught as CliError).exitCode).toBe(67);
    expect((caught as Error).message).toMatch(/unknown user "mallory".*\/etc\/passwd/);
  });

  it('refuses out-of-range ids and empty values as usage errors', () => {
    expect(() => resolveId('user', '4294967295', PASSWD)).toThrow(UsageError);
    expect(() => resolveId('group', '', GROUP)).toThrow(/--group needs/);
  });
});

describe('idName', () => {
  it('finds the name of an id, or null', () => {
    expect(idName('user', 1001, PASSWD)).toBe('bob');
    expect(idName('group', 108, GROUP)).toBe('netdev');
    expect(idName('user', 4242, PASSWD)).toBeNull();
  });

  it('reads /etc/passwd by default', () => {
    expect(idName('user', 0)).toBe('root');
    expect(resolveId('user', 'root')).toBe(0);
  });
});
