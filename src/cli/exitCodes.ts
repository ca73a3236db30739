/**
 * Exit statuses of `tunctl`, after sysexits.h where one fits:
 *
 * | status | meaning |
 * |---|---|
 * | 0  | success |
 * | 1  | runtime failure: any other system error |
 * | 2  | usage error: unknown command or option, missing or malformed argument |
 * | 67 | EX_NOUSER: a `--user`/`--group` name is not in /etc/passwd or /etc/group |
 * | 69 | EX_UNAVAILABLE: no such device (ENODEV, ENOENT, ENXIO), or not a TUN/TAP device; nobody listens on a socket (ECONNREFUSED) |
 * | 73 | EX_CANTCREAT: the device, address or route already exists (EEXIST) |
 * | 75 | EX_TEMPFAIL: the device is busy, attached by another process (EBUSY, EAGAIN) |
 * | 77 | EX_NOPERM: permission denied (EPERM, EACCES): CAP_NET_ADMIN is needed |
 *
 * @module
 */
import { TunError } from '../native/tunError.js';
import { CliError } from './cliError.js';
import type { CliOutput } from './cliOutput.js';

/**
 * The exit statuses `tunctl` uses.
 *
 * @example
 * ```ts
 * if (code === EXIT.NOPERM) console.error('run as root or grant CAP_NET_ADMIN');
 * ```
 */
export const EXIT = {
  OK: 0,
  FAILURE: 1,
  USAGE: 2,
  NOUSER: 67,
  UNAVAILABLE: 69,
  CANTCREAT: 73,
  TEMPFAIL: 75,
  NOPERM: 77,
} as const;

const BY_ERRNO: Record<string, number> = {
  EPERM: EXIT.NOPERM,
  EACCES: EXIT.NOPERM,
  ENODEV: EXIT.UNAVAILABLE,
  ENOENT: EXIT.UNAVAILABLE,
  ENXIO: EXIT.UNAVAILABLE,
  ECONNREFUSED: EXIT.UNAVAILABLE,
  EEXIST: EXIT.CANTCREAT,
  EBUSY: EXIT.TEMPFAIL,
  EAGAIN: EXIT.TEMPFAIL,
};

/**
 * The exit status for an error: a {@link CliError}'s own (2 for a `UsageError`), a
 * `TunError`'s by errno, 1 for anything else. (The command-line parsers turn bad
 * arguments into `UsageError`s before any system call, so a stray `RangeError` is a
 * runtime failure, not a usage error.)
 *
 * @example
 * ```ts
 * exitCodeFor(tunErrorFromCode('EPERM', 'ioctl(TUNSETIFF)')); // 77
 * ```
 */
export function exitCodeFor(err: unknown): number {
  if (err instanceof CliError) return err.exitCode;
  if (err instanceof TunError) return BY_ERRNO[err.code] ?? EXIT.FAILURE;
  return EXIT.FAILURE;
}

/**
 * Report an error as `tunctl: <command>: <message>` on `io.err` and return its exit
 * status. Usage errors also point at the command's `--help`.
 *
 * @example
 * ```ts
 * try { tunctl.down(name); return 0; } catch (err) { return reportFailure('down', err, io); }
 * ```
 */
export function reportFailure(command: string, err: unknown, io: CliOutput): number {
  const code = exitCodeFor(err);
  const message = err instanceof Error ? err.message : String(err);
  io.err(`tunctl: ${command}: ${message}`);
  if (code === EXIT.USAGE) io.err(`Run 'tunctl ${command} --help' for usage.`);
  return code;
}
