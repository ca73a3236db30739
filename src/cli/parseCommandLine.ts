/**
 * Argument helpers shared by the commands: a strict `node:util` `parseArgs` whose
 * errors become {@link UsageError}s, and checks for names, addresses and numbers.
 *
 * @module
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { assertIfname } from '../tunctl/validate.js';
import { parseCidr } from '../packet/ipAddress.js';
import { UsageError } from './cliError.js';

/**
 * Option definitions, as `parseArgs` takes them.
 *
 * @example
 * ```ts
 * const options: OptionSpecs = { json: { type: 'boolean' }, interval: { type: 'string' } };
 * ```
 */
export type OptionSpecs = NonNullable<ParseArgsConfig['options']>;

/**
 * What {@link parseCommandLine} returns.
 *
 * @example
 * ```ts
 * const line: CommandLine = parseCommandLine(['tun0', '--json'], { json: { type: 'boolean' } });
 * line.positionals; // ['tun0']
 * ```
 */
export interface CommandLine {
  /** Option values by long name (`string`, `boolean`, or `undefined` when absent). */
  readonly values: Record<string, string | boolean | undefined>;
  readonly positionals: string[];
  /** `-h`/`--help` was given: print the help and ignore the rest. */
  readonly help: boolean;
}

/**
 * Parse a command's arguments strictly (unknown options are errors), with `-h`/`--help`
 * added to `options`. Any `parseArgs` error becomes a {@link UsageError}.
 *
 * @example
 * ```ts
 * const { values, positionals } = parseCommandLine(['tun0', '--json'], { json: { type: 'boolean' } });
 * ```
 */
export function parseCommandLine(argv: readonly string[], options: OptionSpecs): CommandLine {
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
    const flat: Record<string, string | boolean | undefined> = {};
    for (const [k, v] of Object.entries(values)) flat[k] = Array.isArray(v) ? v[v.length - 1] : v;
    return { values: flat, positionals, help: flat.help === true };
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (err instanceof TypeError && typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) {
      throw new UsageError(err.message);
    }
    throw err;
  }
}

/**
 * Check the number of positional arguments against their names (`NAME`, `ADDR`...):
 * `required` must be there, at most `optional` more (Infinity for any number).
 *
 * @example
 * ```ts
 * expectPositionals(['tun0'], ['NAME']); // ok
 * expectPositionals([], ['NAME']);       // throws UsageError: missing NAME
 * ```
 */
export function expectPositionals(positionals: readonly string[], required: readonly string[], optional = 0): void {
  if (positionals.length < required.length) throw new UsageError(`missing ${required.slice(positionals.length).join(' ')}`);
  const max = required.length + optional;
  if (positionals.length > max) {
    throw new UsageError(`unexpected argument ${JSON.stringify(positionals[max])}`);
  }
}

/**
 * Check an interface name (1 to 15 bytes, no `/`, `:` or whitespace; `%d` only where
 * `allowTemplate`), as a {@link UsageError}.
 *
 * @example
 * ```ts
 * parseIfname('tun0'); // 'tun0'
 * parseIfname('a/b');  // throws UsageError
 * ```
 */
export function parseIfname(text: string, allowTemplate = false): string {
  try {
    assertIfname(text, 'NAME');
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (!allowTemplate && text.includes('%')) throw new UsageError(`NAME ${JSON.stringify(text)} must be an existing interface's name, not a '%d' template`);
  return text;
}

/**
 * An address with an optional prefix, as given on the command line.
 *
 * @example
 * ```ts
 * const a: AddressArg = parseAddressArg('fd00::1/64'); // { address: 'fd00::1', family: 6, prefix: 64 }
 * ```
 */
export interface AddressArg {
  /** The address as given (without the prefix). */
  readonly address: string;
  readonly family: 4 | 6;
  /** The prefix length, or undefined when none was given. */
  readonly prefix: number | undefined;
}

/**
 * Parse `ADDR[/PREFIX]` (`198.18.0.1/24`, `fd00::1`), as a {@link UsageError} when bad.
 *
 * @example
 * ```ts
 * parseAddressArg('198.18.0.1/24'); // { address: '198.18.0.1', family: 4, prefix: 24 }
 * ```
 */
export function parseAddressArg(text: string): AddressArg {
  try {
    const { family, prefix } = parseCidr(text);
    const slash = text.indexOf('/');
    return { address: slash === -1 ? text : text.slice(0, slash), family, prefix };
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/**
 * Parse a decimal integer option within `[min, max]`, as a {@link UsageError} when bad.
 *
 * @example
 * ```ts
 * parseIntArg('250', '--interval', 10, 3_600_000); // 250
 * ```
 */
export function parseIntArg(text: string, what: string, min: number, max: number): number {
  if (!/^(?:0|[1-9][0-9]*)$/.test(text)) throw new UsageError(`${what} must be a whole number from ${min} to ${max}, got ${JSON.stringify(text)}`);
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new UsageError(`${what} must be a whole number from ${min} to ${max}, got ${text}`);
  return n;
}

/**
 * Read a string option that `parseArgs` was told is a string.
 *
 * @example
 * ```ts
 * const mode = stringOption(values, 'mode') ?? 'tap';
 * ```
 */
export function stringOption(values: CommandLine['values'], key: string): string | undefined {
  const v = values[key];
  return typeof v === 'string' ? v : undefined;
}

/**
 * Read a boolean option (`false` when absent).
 *
 * @example
 * ```ts
 * const json = booleanOption(values, 'json');
 * ```
 */
export function booleanOption(values: CommandLine['values'], key: string): boolean {
  return values[key] === true;
}

/**
 * Parse a list of `ADDR[/PREFIX]` arguments. At most one may be IPv4: the interface
 * ioctls set a single (primary) IPv4 address, so a second would replace the first.
 *
 * @example
 * ```ts
 * parseAddressArgs(['198.18.0.1/24', 'fd00::1']).length; // 2
 * parseAddressArgs(['198.18.0.1', '198.18.1.1']);        // throws UsageError
 * ```
 */
export function parseAddressArgs(texts: readonly string[]): AddressArg[] {
  const list = texts.map(parseAddressArg);
  if (list.filter((a) => a.family === 4).length > 1) {
    throw new UsageError('only one IPv4 address per interface: the interface ioctls set the primary address, so a second would replace the first');
  }
  return list;
}
