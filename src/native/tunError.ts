import { getSystemErrorName } from 'node:util';
import { constants as osConstants } from 'node:os';

/**
 * A failed system call on a TUN/TAP device, in the shape of Node's system errors:
 * `code` (`'EPERM'`), negative `errno`, `syscall` (`'ioctl(TUNSETIFF)'`) and the
 * interface name it concerned (`ifname`, when one is known).
 *
 * @example
 * ```ts
 * try {
 *   tunctl.create('tun0', { mode: 'tun' });
 * } catch (err) {
 *   if (err instanceof TunError && err.code === 'EPERM') console.error(err.message);
 * }
 * ```
 */
export class TunError extends Error {
  /** The errno name, such as `'EPERM'`, `'EBUSY'`, `'ENODEV'`. */
  readonly code: string;
  /** The negative errno, as Node's `fs` reports it. */
  readonly errno: number;
  /** The call that failed, such as `'ioctl(TUNSETIFF)'` or `'open(/dev/net/tun)'`. */
  readonly syscall: string;
  /** The interface the call was about, if known. */
  readonly ifname: string | undefined;

  /**
   * @param options - `cause`; `detail`, what the kernel or the library adds (a netlink
   *   extended-ack message, the MTU that stops IPv6), put after the errno in the message
   */
  constructor(errno: number, syscall: string, ifname?: string, options?: { cause?: unknown; detail?: string }) {
    const neg = -Math.abs(errno);
    const code = errnoName(neg);
    const where = ifname ? ` ${ifname}` : '';
    const detail = options?.detail ? `: ${options.detail}` : '';
    super(`${syscall}${where}: ${code} (${describe(code)})${detail}${hint(code, syscall)}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TunError';
    this.code = code;
    this.errno = neg;
    this.syscall = syscall;
    this.ifname = ifname;
  }
}

/** Linux errnos that neither libuv nor `os.constants.errno` name. */
const LINUX_ONLY_ERRNOS: Record<number, string> = { 77: 'EBADFD' };

function errnoName(neg: number): string {
  let name = '';
  try {
    name = getSystemErrorName(neg); // 'Unknown system error -74' for the ones libuv lacks
  } catch {
    /* not an errno libuv knows either */
  }
  if (/^E[A-Z0-9]+$/.test(name)) return name;
  const known = Object.entries(osConstants.errno).find(([, value]) => value === -neg)?.[0];
  return known ?? LINUX_ONLY_ERRNOS[-neg] ?? `E${-neg}`;
}

const DESCRIPTIONS: Record<string, string> = {
  EPERM: 'operation not permitted',
  EACCES: 'permission denied',
  EBUSY: 'device or resource busy',
  ENODEV: 'no such device',
  ENOENT: 'no such file or directory',
  ENXIO: 'no such device or address',
  EINVAL: 'invalid argument',
  EEXIST: 'already exists',
  EADDRNOTAVAIL: 'address not available',
  EAFNOSUPPORT: 'address family not supported',
  EBADF: 'bad file descriptor',
  EBADFD: 'file descriptor in bad state',
  EAGAIN: 'resource temporarily unavailable',
  EIO: 'input/output error',
  EMSGSIZE: 'message too long',
  ENOMEM: 'out of memory',
  ENOTSUP: 'operation not supported',
  EOPNOTSUPP: 'operation not supported',
  ENOTTY: 'inappropriate ioctl for device',
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by peer',
  EADDRINUSE: 'address already in use',
  EBADMSG: 'bad message',
  EPROTO: 'protocol error',
  ETIMEDOUT: 'timed out',
  ENOTSOCK: 'not a socket',
  ESRCH: 'no such entry',
  ENETUNREACH: 'network unreachable',
  ENETDOWN: 'network is down',
  EHOSTUNREACH: 'host unreachable',
  ENOBUFS: 'no buffer space',
  ERANGE: 'out of range',
};

function describe(code: string): string {
  return DESCRIPTIONS[code] ?? 'system error';
}

/** Hints for fd passing (tunctl.sendFd / receiveFd), by errno name: the call each is about, and what it means. */
const FD_PASSING_HINTS: Record<string, { call: string; hint: string }> = {
  ENOENT: { call: 'connect(', hint: 'No socket at that path: start the receiving side (tunctl.receiveFd) first' },
  ECONNREFUSED: { call: 'connect(', hint: 'Nothing listens on that socket: start the receiving side (tunctl.receiveFd) first' },
  ECONNRESET: {
    call: 'recvmsg(',
    hint: 'The other side closed the connection first: the sender sent no fd, or the receiver refused the fd or ended',
  },
  EADDRINUSE: {
    call: 'bind(',
    hint: 'A file is already there: another receiver listens, or one that was killed left its socket behind (remove it)',
  },
  EBADMSG: { call: 'recvmsg(', hint: 'The message carried no file descriptor (SCM_RIGHTS), or more than one' },
  EPROTO: { call: 'recvmsg(', hint: 'The message did not come from tunctl.sendFd' },
};

function hint(code: string, syscall: string): string {
  const passing = FD_PASSING_HINTS[code];
  if (passing && syscall.startsWith(passing.call)) return `. ${passing.hint}`;
  switch (code) {
    case 'EACCES':
      if (syscall.startsWith('open(/dev/net/tun')) {
        return (
          '. The device node /dev/net/tun does not let this user open it (its mode is usually 0666; ' +
          'check `ls -l /dev/net/tun`, and fix it with chmod, a udev rule or a group). CAP_NET_ADMIN ' +
          'alone does not help here'
        );
      }
    // falls through
    case 'EPERM':
      return (
        '. Creating or configuring a TUN/TAP device needs CAP_NET_ADMIN: run as root, grant it to node ' +
        'with `sudo setcap cap_net_admin=ep "$(readlink -f "$(command -v node)")"`, or attach to a ' +
        'persistent device whose owner/group was set to your uid/gid (`tunctl add NAME --user $USER`)'
      );
    case 'EBUSY':
      return syscall.includes('TUNSETIFF')
        ? '. The device exists and is attached elsewhere with other flags, or `exclusive` was asked and the name is taken'
        : '';
    case 'ENODEV':
      return '. No interface of that name exists in this network namespace';
    case 'ESRCH':
      return syscall.includes('ROUTE') ? '. No such route (compare with `tunctl route show`)' : '';
    case 'ENETDOWN':
      return syscall.includes('ROUTE') ? '. The interface is down: bring it up first' : '';
    case 'ENETUNREACH':
      return syscall.includes('ROUTE') ? '. The gateway is not reachable through any route: give the interface an address in its subnet first' : '';
    case 'ENOENT':
      return syscall.startsWith('open(/dev/net/tun')
        ? '. Load the tun module (`modprobe tun`) or create the node (`mknod /dev/net/tun c 10 200`)'
        : '';
    case 'ENOTTY':
    case 'EBADFD':
      return syscall === 'ioctl(TUNGETIFF)'
        ? code === 'ENOTTY'
          ? '. The fd is not a TUN/TAP device'
          : '. The fd is a TUN/TAP fd with no device attached (TUNSETIFF was never done)'
        : '';
    case 'EINVAL':
      return syscall.includes('TUNSETIFF')
        ? '. The flags do not match the existing device (tun vs tap, multi-queue, vnet header) or the kernel does not support one of them'
        : '';
    default:
      return '';
  }
}

/** Shape of the errors the native addon throws. */
interface NativeSyscallError {
  errno: number;
  syscall: string;
}

function isNativeSyscallError(err: unknown): err is Error & NativeSyscallError {
  return (
    err instanceof Error &&
    typeof (err as Partial<NativeSyscallError>).errno === 'number' &&
    typeof (err as Partial<NativeSyscallError>).syscall === 'string'
  );
}

/**
 * Turn an error thrown by the addon into a {@link TunError}; anything else
 * (a `TypeError`, a `RangeError`) is returned unchanged.
 *
 * @example
 * ```ts
 * try { native.setIff(fd, name, flags); } catch (e) { throw toTunError(e, name); }
 * ```
 */
export function toTunError(err: unknown, ifname?: string): unknown {
  if (err instanceof TunError) return err;
  if (isNativeSyscallError(err)) return new TunError(err.errno, err.syscall, ifname, { cause: err });
  return err;
}

/**
 * Run `fn`, turning addon errors into {@link TunError}s naming `ifname`.
 *
 * @example
 * ```ts
 * const mtu = sys(() => native.ifGetInt('tun0', native.constants.SIOCGIFMTU), 'tun0');
 * ```
 */
export function sys<T>(fn: () => T, ifname?: string): T {
  try {
    return fn();
  } catch (err) {
    throw toTunError(err, ifname);
  }
}

const RETRYABLE = new Set(['EAGAIN', 'EWOULDBLOCK', 'EINTR']);
const GONE = new Set(['EBADF', 'EBADFD', 'ENODEV', 'ENXIO']);

/**
 * True for errors worth retrying later (EAGAIN, EINTR).
 *
 * @example
 * ```ts
 * if (isRetryable(err)) setImmediate(retry);
 * ```
 */
export function isRetryable(err: unknown): boolean {
  return err instanceof TunError && RETRYABLE.has(err.code);
}

/**
 * True for errors that mean the device or fd is gone (EBADF, EBADFD, ENODEV, ENXIO).
 *
 * @example
 * ```ts
 * if (isGone(err)) handle.destroy();
 * ```
 */
export function isGone(err: unknown): boolean {
  return err instanceof TunError && GONE.has(err.code);
}

/**
 * Make a {@link TunError} from an errno name, for failures detected in TypeScript
 * that mirror a kernel answer (e.g. `EAFNOSUPPORT` for an IPv6 point-to-point peer).
 *
 * @example
 * ```ts
 * throw tunErrorFromCode('EAFNOSUPPORT', 'ioctl(SIOCSIFDSTADDR)', 'tun0');
 * ```
 */
export function tunErrorFromCode(code: keyof typeof osConstants.errno, syscall: string, ifname?: string, detail?: string): TunError {
  return new TunError(osConstants.errno[code], syscall, ifname, detail === undefined ? undefined : { detail });
}
