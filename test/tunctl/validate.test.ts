import { describe, expect, it } from 'vitest';
import { assertFd, assertIfname, assertInt, assertNoNullOptions, assertOptions } from '../../src/tunctl/validate.js';

describe('assertIfname', () => {
  it.each(['tun0', 'a', 'x'.repeat(15), 'tun%d', 'é'.repeat(7), 'tap-br.1_2', '$(reboot)'])('accepts %j (names never reach a shell)', (name) => {
    expect(() => assertIfname(name)).not.toThrow();
  });

  it.each([
    ['x'.repeat(16), /16 bytes long; Linux allows at most 15/],
    ['é'.repeat(8), /16 bytes long/],
    ['', /must not be empty/],
    ['   ', /must not be empty/],
    ['a/b', /must not contain/],
    ['a b', /must not contain/],
    ['a\tb', /must not contain/],
    ['a\0b', /must not contain/],
    ['eth0:1', /must not contain/],
    ['.', /'\.' or '\.\.'/],
    ['..', /'\.' or '\.\.'/],
    ['t%d%d', /single '%d'/],
    ['t%s', /single '%d'/],
  ])('rejects %j with a RangeError', (name, message) => {
    expect(() => assertIfname(name)).toThrow(RangeError);
    expect(() => assertIfname(name)).toThrow(message);
  });

  it.each([undefined, null, 5, {}, Buffer.from('tun0')])('rejects the non-string %j with a TypeError', (name) => {
    expect(() => assertIfname(name)).toThrow(TypeError);
  });
});

describe('assertFd / assertInt', () => {
  it('accepts integers in range and rejects the rest with the right error type', () => {
    expect(() => assertFd(0)).not.toThrow();
    expect(() => assertFd(-1)).toThrow(RangeError);
    expect(() => assertFd(1.5)).toThrow(RangeError);
    expect(() => assertFd('3')).toThrow(TypeError);
    expect(() => assertInt(68, 'mtu', 68, 65535)).not.toThrow();
    expect(() => assertInt(65536, 'mtu', 68, 65535)).toThrow('mtu must be an integer from 68 to 65535, got 65536');
    expect(() => assertInt(NaN, 'mtu', 68, 65535)).toThrow(RangeError);
  });
});

describe('assertOptions', () => {
  it('names a misspelt option instead of ignoring it', () => {
    expect(() => assertOptions({ mdoe: 'tun' }, 'create option', ['mode'])).toThrow("unknown create option 'mdoe'; known: mode");
    expect(() => assertOptions(undefined, 'x', [])).not.toThrow();
    expect(() => assertOptions([], 'x', [])).toThrow(TypeError);
    expect(() => assertOptions(null, 'x', [])).toThrow(TypeError);
  });
});

describe('assertNoNullOptions', () => {
  it('refuses an option given as null (not the same as leaving it out)', () => {
    expect(() => assertNoNullOptions({ noCarrier: null }, 'create option')).toThrow("create option 'noCarrier' must not be null");
    expect(() => assertNoNullOptions({ noCarrier: undefined, mode: 'tun' }, 'create option')).not.toThrow();
    expect(() => assertNoNullOptions(undefined, 'x')).not.toThrow();
  });
});
