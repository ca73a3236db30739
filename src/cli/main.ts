#!/usr/bin/env node
/**
 * `tunctl`: the command-line tool. Dispatches to the subcommands (one file each) and
 * maps failures to exit statuses. Everything goes through the `tunctl` API (ioctls and
 * rtnetlink); no program is run.
 *
 * Exit statuses (sysexits.h where one fits; also in `tunctl --help`):
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
 * Failures are reported on stderr as `tunctl: <command>: <message>`.
 *
 * @module
 */
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { addSpec } from './addCommand.js';
import { addrSpec } from './addrCommand.js';
import { stdioOutput, type CliOutput } from './cliOutput.js';
import { printText, type CommandContext, type CommandSpec } from './commandSpec.js';
import { delSpec } from './delCommand.js';
import { downSpec } from './downCommand.js';
import { EXIT, reportFailure } from './exitCodes.js';
import { formatTable } from './format.js';
import { monitorSpec } from './monitorCommand.js';
import { routeSpec } from './routeCommand.js';
import { showSpec } from './showCommand.js';
import { upSpec } from './upCommand.js';

/**
 * The subcommands, in the order `tunctl --help` lists them.
 *
 * @example
 * ```ts
 * COMMANDS.map((c) => c.name); // ['add', 'del', 'show', 'up', 'down', 'addr', 'route', 'monitor']
 * ```
 */
export const COMMANDS: readonly CommandSpec[] = [addSpec, delSpec, showSpec, upSpec, downSpec, addrSpec, routeSpec, monitorSpec];

/**
 * The package version, from package.json.
 *
 * @example
 * ```ts
 * version(); // '0.1.0'
 * ```
 */
export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
  return pkg.version ?? 'unknown';
}

/**
 * The top-level `tunctl --help` text.
 *
 * @example
 * ```ts
 * topHelp().startsWith('Usage: tunctl'); // true
 * ```
 */
export function topHelp(): string {
  const commands = formatTable(COMMANDS.map((c) => [`  ${c.synopsis}`, c.summary])).join('\n');
  return `Usage: tunctl <command> [options]

Manage Linux TUN/TAP devices: create persistent ones, configure their addresses
and routes, list them, and watch their packets or the kernel's events. Uses
ioctls and rtnetlink only; creating and configuring devices needs CAP_NET_ADMIN
(or, to attach, being the device's owner or in its group).

Commands:
${commands}

Run 'tunctl <command> --help' (or 'tunctl help <command>') for a command's options.

Options:
  -h, --help          show this help
  -V, --version       print the version

Exit status:
  0   success
  1   runtime failure (any other system error)
  2   usage error: unknown command or option, missing or malformed argument
  67  unknown user or group name (EX_NOUSER)
  69  no such device, or not a TUN/TAP device (ENODEV, ENOENT, ENXIO; EX_UNAVAILABLE),
      or nobody listens on the socket given to --send-fd (ECONNREFUSED)
  73  the device, address or route already exists (EEXIST; EX_CANTCREAT)
  75  the device is busy: another process has it open (EBUSY, EAGAIN; EX_TEMPFAIL)
  77  permission denied (EPERM, EACCES; EX_NOPERM): run as root, or give node
      CAP_NET_ADMIN (sudo setcap cap_net_admin=ep "$(readlink -f "$(command -v node)")")
`;
}

function usage(io: CliOutput, message: string): number {
  io.err(`tunctl: ${message}`);
  io.err(`Run 'tunctl --help' for usage.`);
  return EXIT.USAGE;
}

/**
 * Run `tunctl` with `argv` (the words after `tunctl`), writing to `io`.
 *
 * @returns the exit status
 *
 * @example
 * ```ts
 * const code = await main(['show', '--json'], memoryOutput());
 * ```
 */
export async function main(argv: readonly string[], io: CliOutput = stdioOutput(), ctx: CommandContext = {}): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined) {
    printText(io, topHelp(), 'err');
    return EXIT.USAGE;
  }
  if (first === '-h' || first === '--help') {
    printText(io, topHelp());
    return EXIT.OK;
  }
  if (first === '-V' || first === '--version') {
    io.out(version());
    return EXIT.OK;
  }
  if (first === 'help') {
    if (rest.length === 0) {
      printText(io, topHelp());
      return EXIT.OK;
    }
    const spec = COMMANDS.find((c) => c.name === rest[0]);
    if (!spec || rest.length > 1) return usage(io, `help: unknown command ${JSON.stringify(rest.join(' '))}`);
    printText(io, spec.help);
    return EXIT.OK;
  }
  if (first.startsWith('-')) return usage(io, `unknown option ${JSON.stringify(first)}`);
  const spec = COMMANDS.find((c) => c.name === first);
  if (!spec) return usage(io, `unknown command ${JSON.stringify(first)}; commands: ${COMMANDS.map((c) => c.name).join(', ')}`);
  try {
    return await spec.execute(rest, io, ctx);
  } catch (err) {
    return reportFailure(spec.name, err, io);
  }
}

/** True when this module is the program node was started with (also through a symlink). */
function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

async function run(): Promise<void> {
  // `tunctl show | head`: a closed pipe ends the output, not with a stack trace.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
  const ac = new AbortController();
  const stop = (): void => ac.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    process.exitCode = await main(process.argv.slice(2), stdioOutput(), { signal: ac.signal });
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

if (isEntryPoint()) void run();
