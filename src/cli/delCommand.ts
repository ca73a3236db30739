/**
 * `tunctl del NAME`: delete a persistent TUN/TAP device, like `ip tuntap del`.
 *
 * @module
 */
import * as tunctl from '../tunctl/index.js';
import type { CliOutput } from './cliOutput.js';
import { defineCommand } from './commandSpec.js';
import { EXIT, reportFailure } from './exitCodes.js';
import { expectPositionals, parseIfname, type CommandLine } from './parseCommandLine.js';
import { attachOptions, interfaceExists, tunFlags } from './readTunDevice.js';

/**
 * Arguments of {@link delCommand}.
 *
 * @example
 * ```ts
 * const args: DelArgs = { name: 'tun0' };
 * ```
 */
export interface DelArgs {
  readonly name: string;
}

/**
 * `tunctl del --help`.
 *
 * @example
 * ```ts
 * printText(io, DEL_HELP);
 * ```
 */
export const DEL_HELP = `Usage: tunctl del NAME

Delete a persistent TUN/TAP device: attach to it (with the flags sysfs shows in
/sys/class/net/NAME/tun_flags), clear IFF_PERSIST and close it. The device goes
away at once unless another process has it open: a single-queue device in use
fails with "busy"; a multi-queue one goes when its last queue closes.

Options:
  -h, --help          show this help

Exit status: 0 deleted, 2 usage error, 69 no such TUN/TAP device, 75 in use,
77 no permission (needs CAP_NET_ADMIN, or be the device's owner/group), 1 other.
`;

/**
 * Parse `del`'s command line.
 *
 * @example
 * ```ts
 * parseDelArgs(parseCommandLine(['tun0'], delSpec.options)); // { name: 'tun0' }
 * ```
 */
export function parseDelArgs(line: CommandLine): DelArgs {
  expectPositionals(line.positionals, ['NAME']);
  return { name: parseIfname(line.positionals[0]!) };
}

/**
 * Un-persist the device and close it, which removes it.
 *
 * @returns 0, or the exit status of the failure (reported on `io.err`).
 *
 * @example
 * ```ts
 * delCommand({ name: 'tun0' }, io);
 * ```
 */
export function delCommand(args: DelArgs, io: CliOutput): number {
  try {
    const flags = tunFlags(args.name);
    const { fd } = tunctl.create(args.name, attachOptions(flags));
    try {
      tunctl.persist(fd, false);
    } finally {
      tunctl.close(fd);
    }
    if (interfaceExists(args.name)) {
      io.err(`tunctl: del: note: ${args.name} is still open elsewhere (another queue of a multi-queue device); it goes away when the last one closes`);
    }
    return EXIT.OK;
  } catch (err) {
    return reportFailure('del', err, io);
  }
}

/**
 * The `del` subcommand.
 *
 * @example
 * ```ts
 * await delSpec.execute(['tun0'], io, {});
 * ```
 */
export const delSpec = defineCommand<DelArgs>({
  name: 'del',
  synopsis: 'del NAME',
  summary: 'delete a persistent TUN/TAP device',
  help: DEL_HELP,
  options: {},
  parse: parseDelArgs,
  run: delCommand,
});
