import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/cli/cliError.js';
import {
  booleanOption, expectPositionals, parseAddressArg, parseAddressArgs, parseCommandLine, parseIfname, parseIntArg, stringOption,
} from '../../src/cli/parseCommandLine.js';

function usageError(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).exitCode).toBe(2);
    return err as UsageError;
  }
  throw new Error('expected a UsageError');
}

describe('parseCommandLine', () => {
  const options = { mode: { type: 'string' }, json: { type: 'boolean' } } as const;

  it('splits options from positionals', () => {
    const line = parseCommandLine(['tun0', '--mode', 'tun', '--json', 'extra'], options);
    expect(line.positionals).toEqual(['tun0', 'extra']);
    expect(stringOption(line.values, 'mode')).toBe('tun');
    expect(booleanOption(line.values, 'json')).toBe(true);
    expect(line.help).toBe(false);
  });

  it('accepts --opt=value and reports absent options as undefined/false', () => {
    const line = parseCommandLine(['--mode=tap'], options);
    expect(stringOption(line.values, 'mode')).toBe('tap');
    expect(booleanOption(line.values, 'json')).toBe(false);
  });

  it('recognises -h and --help', () => {
    expect(parseCommandLine(['-h'], options).help).toBe(true);
    expect(parseCommandLine(['x', '--help'], options).help).toBe(true);
  });

  it('turns unknown options and missing values into usage errors', () => {
    expect(usageError(() => parseCommandLine(['--frob'], options)).message).toMatch(/Unknown option '--frob'/);
    expect(usageError(() => parseCommandLine(['--mode'], options)).message).toMatch(/--mode/);
    expect(usageError(() => parseCommandLine(['--json=yes'], options)).message).toMatch(/--json/);
  });

  it('takes arguments after -- as positionals', () => {
    expect(parseCommandLine(['--', '--odd'], options).positionals).toEqual(['--odd']);
  });
});

describe('expectPositionals', () => {
  it('names what is missing', () => {
    expect(usageError(() => expectPositionals([], ['NAME', 'ADDR'])).message).toBe('missing NAME ADDR');
    expect(usageError(() => expectPositionals(['tun0'], ['NAME', 'ADDR'])).message).toBe('missing ADDR');
  });

  it('names the first extra argument', () => {
    expect(usageError(() => expectPositionals(['a', 'b', 'c'], ['NAME'], 1)).message).toBe('unexpected argument "c"');
  });

  it('accepts the counts allowed', () => {
    expect(() => expectPositionals(['a'], ['NAME'])).not.toThrow();
    expect(() => expectPositionals([], [], 1)).not.toThrow();
    expect(() => expectPositionals(['a', 'b', 'c', 'd'], ['NAME'], Infinity)).not.toThrow();
  });
});

describe('parseIfname', () => {
  it('accepts interface names', () => {
    expect(parseIfname('tun0')).toBe('tun0');
    expect(parseIfname('a'.repeat(15))).toBe('a'.repeat(15));
    expect(parseIfname('tun%d', true)).toBe('tun%d');
  });

  it('refuses bad names with the reason', () => {
    expect(usageError(() => parseIfname('a/b')).message).toMatch(/must not contain/);
    expect(usageError(() => parseIfname('a'.repeat(16))).message).toMatch(/16 bytes long; Linux allows at most 15/);
    expect(usageError(() => parseIfname('')).message).toMatch(/empty/);
    expect(usageError(() => parseIfname('tun%d')).message).toMatch(/template/);
  });
});

describe('parseAddressArg', () => {
  it('splits address and prefix', () => {
    expect(parseAddressArg('198.18.0.1/24')).toEqual({ address: '198.18.0.1', family: 4, prefix: 24 });
    expect(parseAddressArg('fd00::1')).toEqual({ address: 'fd00::1', family: 6, prefix: undefined });
    expect(parseAddressArg('fd00::1/128')).toEqual({ address: 'fd00::1', family: 6, prefix: 128 });
  });

  it('refuses bad addresses and prefixes', () => {
    expect(usageError(() => parseAddressArg('198.18.0.256')).message).toMatch(/over 255/);
    expect(usageError(() => parseAddressArg('198.18.0.1/33')).message).toMatch(/0 to 32/);
    expect(usageError(() => parseAddressArg('tun0')).message).toMatch(/not a valid IP address/);
  });

  it('allows at most one IPv4 address in a list', () => {
    expect(parseAddressArgs(['198.18.0.1/24', 'fd00::1', 'fd00:1::1'])).toHaveLength(3);
    expect(usageError(() => parseAddressArgs(['198.18.0.1', '198.18.1.1'])).message).toMatch(/only one IPv4 address/);
  });
});

describe('parseIntArg', () => {
  it('parses whole numbers in range', () => {
    expect(parseIntArg('250', '--interval', 10, 1000)).toBe(250);
    expect(parseIntArg('10', '--interval', 10, 1000)).toBe(10);
  });

  it.each(['9', '1001', '-5', '1.5', '1e3', '0x10', '', '07'])('refuses %j', (text) => {
    expect(usageError(() => parseIntArg(text, '--interval', 10, 1000)).message).toMatch(/--interval must be a whole number from 10 to 1000/);
  });
});
