/**
 * User and group names to ids and back, read from /etc/passwd and /etc/group directly
 * (no `getent`, no shell-out). Only those files are consulted: names that come from
 * other NSS sources (LDAP, SSSD, systemd-userdb) must be given as numbers.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { CliError, UsageError } from './cliError.js';
import { EXIT } from './exitCodes.js';

/**
 * `'user'` reads /etc/passwd, `'group'` /etc/group.
 *
 * @example
 * ```ts
 * const kind: IdKind = 'group';
 * resolveId(kind, 'netdev');
 * ```
 */
export type IdKind = 'user' | 'group';

const FILES: Record<IdKind, string> = { user: '/etc/passwd', group: '/etc/group' };

/**
 * Largest id the kernel takes for TUNSETOWNER/TUNSETGROUP ((uid_t)-1 means "none").
 *
 * @example
 * ```ts
 * resolveId('user', String(MAX_ID)); // 4294967294; one more is a usage error
 * ```
 */
export const MAX_ID = 0xfffffffe;

/**
 * Parse passwd- or group-format text (`name:x:id:...`) into a name → id map. Comments,
 * blank lines, NIS `+`/`-` entries and malformed lines are skipped.
 *
 * @example
 * ```ts
 * parseIdFile('root:x:0:0:root:/root:/bin/bash\n').get('root'); // 0
 * ```
 */
export function parseIdFile(text: string): Map<string, number> {
  const ids = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#') || line.startsWith('+') || line.startsWith('-')) continue;
    const fields = line.split(':');
    const name = fields[0];
    const id = fields[2];
    if (name === undefined || name === '' || id === undefined || !/^[0-9]+$/.test(id)) continue;
    if (!ids.has(name)) ids.set(name, Number(id));
  }
  return ids;
}

function readIds(kind: IdKind, text: string | undefined): Map<string, number> {
  if (text !== undefined) return parseIdFile(text);
  try {
    return parseIdFile(readFileSync(FILES[kind], 'utf8'));
  } catch {
    return new Map();
  }
}

/**
 * Resolve a `--user`/`--group` value: a decimal id (0 to 4294967294) as is, a name through
 * /etc/passwd or /etc/group (or through `text`, that file's contents, when given).
 *
 * @throws UsageError for an empty value or an out-of-range id; CliError (exit 67,
 *   EX_NOUSER) for an unknown name.
 *
 * @example
 * ```ts
 * resolveId('user', '1000');  // 1000
 * resolveId('user', 'root');  // 0
 * resolveId('group', 'nosuchgroup'); // throws CliError, exit 67
 * ```
 */
export function resolveId(kind: IdKind, value: string, text?: string): number {
  if (value === '') throw new UsageError(`--${kind} needs a ${kind} name or numeric id`);
  if (/^[0-9]+$/.test(value)) {
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n > MAX_ID) throw new UsageError(`--${kind} id must be from 0 to ${MAX_ID}, got ${value}`);
    return n;
  }
  const id = readIds(kind, text).get(value);
  if (id === undefined) {
    throw new CliError(
      `unknown ${kind} ${JSON.stringify(value)}: not in ${FILES[kind]} (other NSS sources such as LDAP are not consulted; give the numeric id)`,
      EXIT.NOUSER,
    );
  }
  return id;
}

/**
 * The name of a uid or gid, from /etc/passwd or /etc/group (or `text`), or null.
 *
 * @example
 * ```ts
 * idName('user', 0); // 'root'
 * ```
 */
export function idName(kind: IdKind, id: number, text?: string): string | null {
  for (const [name, n] of readIds(kind, text)) if (n === id) return name;
  return null;
}
