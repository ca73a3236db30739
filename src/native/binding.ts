/**
 * The one typed door into the native addon: `build/Release/tunctl.node` when the package
 * was built from source, else the prebuilt `prebuilds/<platform>-<arch>/tunctl.<libc>.node`
 * shipped in the package, as node-gyp-build chooses.
 *
 * The addon does syscalls only: no defaults, no validation beyond what C++ needs to
 * stay memory-safe, no policy. Every function is synchronous (these are microsecond
 * ioctls, and each interface already has a worker thread of its own). A failing
 * syscall throws an `Error` carrying `errno` (positive, as the C library sets it) and
 * `syscall` (such as `'ioctl(TUNSETIFF)'`); {@link toTunError} turns it into a
 * {@link TunError}. Nothing else in the package loads the `.node` file.
 *
 * State is kept per Node environment, so the addon loads in any number of worker
 * threads at once, and every fd opened through {@link NativeBinding.openTun} or
 * {@link NativeBinding.netlinkOpen} is closed when its environment (the main thread or a worker) is torn down, even if JavaScript
 * never called {@link NativeBinding.close}.
 *
 * @module
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

/** Kernel constants, read from the kernel headers at build time. */
export interface NativeConstants {
  readonly IFF_TUN: number;
  readonly IFF_TAP: number;
  readonly IFF_NAPI: number;
  readonly IFF_NAPI_FRAGS: number;
  readonly IFF_NO_CARRIER: number;
  readonly IFF_MULTI_QUEUE: number;
  readonly IFF_ATTACH_QUEUE: number;
  readonly IFF_DETACH_QUEUE: number;
  readonly IFF_PERSIST: number;
  readonly IFF_NO_PI: number;
  readonly IFF_ONE_QUEUE: number;
  readonly IFF_VNET_HDR: number;
  readonly IFF_TUN_EXCL: number;
  readonly IFF_NOFILTER: number;
  readonly TUN_F_CSUM: number;
  readonly TUN_F_TSO4: number;
  readonly TUN_F_TSO6: number;
  readonly TUN_F_TSO_ECN: number;
  readonly TUN_F_UFO: number;
  readonly TUN_F_USO4: number;
  readonly TUN_F_USO6: number;
  /** ioctl requests whose argument is passed by value. */
  readonly TUNSETPERSIST: number;
  readonly TUNSETOWNER: number;
  readonly TUNSETGROUP: number;
  readonly TUNSETOFFLOAD: number;
  readonly TUNSETLINK: number;
  /** ioctl requests whose argument is a pointer to an int. */
  readonly TUNSETCARRIER: number;
  readonly TUNSETSNDBUF: number;
  readonly TUNSETVNETHDRSZ: number;
  /** ioctl requests that read an int through a pointer. */
  readonly TUNGETFEATURES: number;
  readonly TUNGETSNDBUF: number;
  readonly TUNGETVNETHDRSZ: number;
  /** Interface flags (`ifr_flags`) for {@link NativeBinding.ifGetInt}/`ifSetInt`. */
  readonly IFF_UP: number;
  readonly IFF_BROADCAST: number;
  readonly IFF_POINTOPOINT: number;
  readonly IFF_RUNNING: number;
  readonly IFF_NOARP: number;
  readonly IFF_MULTICAST: number;
  /** Socket ioctls on an interface, by name. */
  readonly SIOCGIFFLAGS: number;
  readonly SIOCSIFFLAGS: number;
  readonly SIOCGIFMTU: number;
  readonly SIOCSIFMTU: number;
  readonly SIOCGIFINDEX: number;
  readonly SIOCGIFTXQLEN: number;
  readonly SIOCSIFTXQLEN: number;
  readonly SIOCGIFADDR: number;
  readonly SIOCSIFADDR: number;
  readonly SIOCDIFADDR: number;
  readonly SIOCGIFNETMASK: number;
  readonly SIOCSIFNETMASK: number;
  readonly SIOCGIFDSTADDR: number;
  readonly SIOCSIFDSTADDR: number;
  readonly SIOCGIFBRDADDR: number;
  readonly SIOCSIFBRDADDR: number;
  /** poll(2) event bits for {@link NativeBinding.pollStart}. */
  readonly POLLIN: number;
  readonly POLLOUT: number;
  readonly POLLERR: number;
  readonly POLLHUP: number;
  /** Socket options for {@link NativeBinding.udpSetInt}: SOL_UDP's segmentation offloads, SOL_SOCKET's buffer sizes. */
  readonly SOL_UDP: number;
  readonly UDP_SEGMENT: number;
  readonly UDP_GRO: number;
  readonly SOL_SOCKET: number;
  readonly SO_RCVBUF: number;
  readonly SO_SNDBUF: number;
  readonly SO_RCVBUFFORCE: number;
  readonly SO_SNDBUFFORCE: number;
  /** SOL_NETLINK options for {@link NativeBinding.netlinkSetInt}. */
  readonly NETLINK_EXT_ACK: number;
  readonly NETLINK_CAP_ACK: number;
  readonly NETLINK_GET_STRICT_CHK: number;
  readonly NETLINK_NO_ENOBUFS: number;
}

/** What `TUNGETIFF` reports: the device name and its `IFF_*` flags. */
export interface NativeIfInfo {
  readonly name: string;
  readonly flags: number;
}

/**
 * The addon's whole surface. Buffers are `Uint8Array` views (a view of a
 * `SharedArrayBuffer` works: Node-API on Node 20 cannot take the SAB itself).
 *
 * @example
 * ```ts
 * import { native } from './binding.js';
 * const fd = native.openTun(null);
 * const name = native.setIff(fd, 'tun%d', native.constants.IFF_TUN | native.constants.IFF_NO_PI);
 * native.close(fd);
 * ```
 */
export interface NativeBinding {
  readonly constants: NativeConstants;

  /** open("/dev/net/tun", O_RDWR|O_NONBLOCK|O_CLOEXEC), first entering the network
   *  namespace at `netnsPath` on this thread (setns) and returning to the old one after;
   *  the fd is tracked and closed at environment teardown. */
  openTun(netnsPath: string | null): number;
  /** setns(open(path), CLONE_NEWNET) for the calling thread only, for good: a worker thread
   *  that owns a device in another namespace enters it once, before opening the device. */
  enterNetns(path: string): void;
  /** ioctl(TUNSETIFF) with `name` (may be '' or hold %d) and `flags`; returns the kernel's name. */
  setIff(fd: number, name: string, flags: number): string;
  /** ioctl(TUNGETIFF). */
  getIff(fd: number): NativeIfInfo;
  /** ioctl(fd, request, value): the argument passed by value (TUNSETPERSIST, OWNER, GROUP, OFFLOAD, LINK). */
  ioctlValue(fd: number, request: number, value: number): void;
  /** ioctl(fd, request, &value) with an int (TUNSETCARRIER, SNDBUF, VNETHDRSZ). */
  ioctlSetInt(fd: number, request: number, value: number): void;
  /** ioctl(fd, request, &out) and return the int (TUNGETFEATURES, SNDBUF, VNETHDRSZ). */
  ioctlGetInt(fd: number, request: number): number;
  /** ioctl(TUNSETQUEUE) with ifr_flags = IFF_ATTACH_QUEUE or IFF_DETACH_QUEUE. */
  setQueue(fd: number, flags: number): void;
  /** ioctl(TUNSETTXFILTER): `struct tun_filter { flags, count, addr[count][6] }`; `macs.length` is 6 * count. */
  setTxFilter(fd: number, flags: number, macs: Uint8Array): void;
  /** ioctl(TUNATTACHFILTER) with a classic BPF program (8 bytes per `sock_filter`, host order). */
  attachFilter(fd: number, program: Uint8Array): void;
  /** ioctl(TUNDETACHFILTER). */
  detachFilter(fd: number): void;
  /** close(fd), and stop tracking it. */
  close(fd: number): void;

  /** read(fd) into `buf[offset, offset+length)`; returns the byte count, or -1 on EAGAIN. */
  read(fd: number, buf: Uint8Array, offset: number, length: number): number;
  /** write(fd) of `buf[offset, offset+length)`; returns the byte count, or -1 on EAGAIN. */
  write(fd: number, buf: Uint8Array, offset: number, length: number): number;
  /**
   * Batched read into length-prefixed records: while `end - pos >= 4 + maxRecord` and
   * fewer than `maxPackets` were read, read(fd) into `buf[pos+4 ...]` (at most
   * `maxRecord` bytes), store the length as a host-order u32 at `buf[pos]`, and advance
   * `pos` by `4 + align4(length)`. Stops at EAGAIN. Writes `out[0]` = bytes used,
   * `out[1]` = packets read, `out[2]` = 1 if it stopped at EAGAIN else 0.
   * Throws on any other read error (records already stored are kept and counted in `out`).
   */
  readRecords(fd: number, buf: Uint8Array, pos: number, end: number, maxRecord: number, maxPackets: number, out: Int32Array): void;
  /**
   * Batched write of records stored as {@link NativeBinding.readRecords} stores them, from
   * `buf[pos, end)`: one write(fd) per record. A record the kernel rejects (EINVAL, EIO,
   * EFAULT...) is skipped and counted. Stops at EAGAIN before consuming that record.
   * Writes `out[0]` = bytes consumed, `out[1]` = packets written, `out[2]` = packets
   * rejected, `out[3]` = 1 if it stopped at EAGAIN, `out[4]` = errno of the last rejection.
   */
  writeRecords(fd: number, buf: Uint8Array, pos: number, end: number, out: Int32Array): void;

  /** Watch `fd` with a uv_poll handle on this environment's event loop; `callback(status, events)`
   *  runs for each readiness (status < 0 is a libuv error). Returns a handle id. */
  pollStart(fd: number, events: number, callback: (status: number, events: number) => void): number;
  /**
   * A new epoll instance (close-on-exec), tracked as this thread's: `close` it. It watches
   * an fd another thread owns: the registration follows the open file, so it goes when the
   * owner closes the fd, and a reused number is never watched.
   */
  epollCreate(): number;
  /** epoll_ctl(EPOLL_CTL_ADD) of `fd` for `events` (POLLIN/POLLOUT bits). */
  epollAdd(ep: number, fd: number, events: number): void;
  /** Change the events a poll handle waits for (0 pauses it). */
  pollUpdate(id: number, events: number): void;
  /** Stop and close a poll handle; unknown ids are ignored. */
  pollStop(id: number): void;
  /** Fds and poll handles this environment still holds (polls whose close is pending included). */
  openHandles(): number;
  /** malloc_trim(0) on a libuv pool thread (glibc; resolves false elsewhere): gives back memory exited threads freed. */
  mallocTrim(): Promise<boolean>;

  /** Socket ioctl on an interface by name that reads an int field: SIOCGIFFLAGS (ifr_flags),
   *  SIOCGIFMTU, SIOCGIFINDEX, SIOCGIFTXQLEN. */
  ifGetInt(name: string, request: number): number;
  /** Socket ioctl that sets an int field: SIOCSIFFLAGS, SIOCSIFMTU, SIOCSIFTXQLEN. */
  ifSetInt(name: string, request: number, value: number): void;
  /** SIOCGIF{ADDR,NETMASK,DSTADDR,BRDADDR} on an AF_INET socket: 4 bytes, or null on EADDRNOTAVAIL. */
  ifGetAddr4(name: string, request: number): Uint8Array | null;
  /** SIOCSIF{ADDR,NETMASK,DSTADDR,BRDADDR} on an AF_INET socket with 4 address bytes. */
  ifSetAddr4(name: string, request: number, addr: Uint8Array): void;
  /** SIOCSIFADDR / SIOCDIFADDR on an AF_INET6 socket (`struct in6_ifreq`, ifindex looked up). */
  ifAddr6(name: string, request: number, addr: Uint8Array, prefix: number): void;
  /** SIOCGIFHWADDR: 6 bytes. */
  ifGetHwaddr(name: string): Uint8Array;
  /** SIOCSIFHWADDR with sa_family ARPHRD_ETHER and 6 bytes. */
  ifSetHwaddr(name: string, mac: Uint8Array): void;

  /** socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC); the fd is tracked. */
  unixSocket(): number;
  /** bind(fd) to a filesystem path (1 to 107 bytes). */
  unixBind(fd: number, path: string): void;
  /** connect(fd) to a filesystem path (1 to 107 bytes). */
  unixConnect(fd: number, path: string): void;
  /** listen(fd, backlog). */
  listen(fd: number, backlog: number): void;
  /** accept4(fd, SOCK_NONBLOCK | SOCK_CLOEXEC): the connection's fd (tracked), or -1 when none waits. */
  accept(fd: number): number;
  /** sendmsg(fd, data, MSG_NOSIGNAL) with `passFd` as SCM_RIGHTS (none when -1): bytes sent, or -1 on EAGAIN. */
  sendMsg(fd: number, data: Uint8Array, passFd: number): number;
  /** recvmsg(fd, MSG_DONTWAIT | MSG_CMSG_CLOEXEC) into `buf`, or null on EAGAIN. */
  recvMsg(fd: number, buf: Uint8Array): NativeMessage | null;
  /** getsockopt(SO_PEERCRED) of a connected Unix socket. */
  peerCred(fd: number): NativePeerCred;
  /** Track an fd in this environment: closed at its teardown (taking over an fd from another thread). */
  trackFd(fd: number): void;
  /** Stop tracking an fd here (handing it to another thread); false if it was not tracked. */
  untrackFd(fd: number): boolean;

  /** socket(AF_NETLINK, SOCK_RAW|SOCK_CLOEXEC|SOCK_NONBLOCK, NETLINK_ROUTE) bound to the
   *  multicast `groups` (RTMGRP_* bits; 0 for requests only), first entering the network
   *  namespace at `netnsPath` on this thread and returning after (the socket stays bound to
   *  that namespace); tracked and closed at environment teardown like a TUN fd, or by
   *  {@link NativeBinding.close}. */
  netlinkOpen(netnsPath: string | null, groups: number): number;
  /** setsockopt(SOL_NETLINK, option, &value): NETLINK_EXT_ACK, CAP_ACK, GET_STRICT_CHK, NO_ENOBUFS. */
  netlinkSetInt(fd: number, option: number, value: number): void;
  /** sendto(kernel) of `buf[0, length)`; returns the byte count. */
  netlinkSend(fd: number, buf: Uint8Array, length: number): number;
  /** Wait up to `timeoutMs` (0: do not wait) for one datagram and copy it into `buf`.
   *  Returns its full length (larger than `buf.length` when it was truncated) or -1 when
   *  none came; `out[0]` = the sender's port id (0 is the kernel), `out[1]` = the groups it
   *  was multicast to. Throws `{ errno: ENOBUFS }` when the socket's queue overflowed and
   *  messages were lost. */
  netlinkRecv(fd: number, buf: Uint8Array, timeoutMs: number, out: Uint32Array): number;

  /** socket(AF_INET or AF_INET6, SOCK_DGRAM|SOCK_NONBLOCK|SOCK_CLOEXEC); tracked like a TUN fd. */
  udpOpen(family: 4 | 6): number;
  /** bind(fd) to `addr` (4 or 16 bytes) and `port`. */
  udpBind(fd: number, addr: Uint8Array, port: number): void;
  /** connect(fd) to `addr` (4 or 16 bytes) and `port`. */
  udpConnect(fd: number, addr: Uint8Array, port: number): void;
  /** getsockname(fd): the address into `out` (16 bytes; IPv4 in the first 4); returns `port | family << 16`. */
  udpLocal(fd: number, out: Uint8Array): number;
  /** setsockopt(fd, level, option, &value): UDP_SEGMENT, UDP_GRO (SOL_UDP); SO_RCVBUF, SO_SNDBUF and their FORCE forms (SOL_SOCKET). */
  udpSetInt(fd: number, level: number, option: number, value: number): void;
  /**
   * sendmsg(MSG_NOSIGNAL) of `buf[offset, offset+length)` to `addr:port` (null: the connected
   * peer); `segSize` > 0 adds UDP_SEGMENT, so the kernel sends it as datagrams of `segSize`
   * bytes (the last may be shorter). Returns the bytes sent, or -1 on EAGAIN.
   */
  udpSend(fd: number, buf: Uint8Array, offset: number, length: number, segSize: number, addr: Uint8Array | null, port: number): number;
  /**
   * recvmsg(MSG_TRUNC) into `buf[offset, offset+length)`: the bytes received (more than
   * `length` when a datagram did not fit), or -1 on EAGAIN. `out[0]` = the size UDP_GRO cut
   * the joined datagrams at (0: one datagram); `out[1]` = the sender's `port | family << 16`,
   * its address in `from` (16 bytes) when given.
   */
  udpRecv(fd: number, buf: Uint8Array, offset: number, length: number, out: Int32Array, from: Uint8Array | null): number;
}

/**
 * What {@link NativeBinding.recvMsg} received.
 *
 * @example
 * ```ts
 * const msg = native.recvMsg(sock, buf); // null: nothing waiting
 * if (msg && msg.fds.length === 1 && !msg.truncated) adopt(msg.fds[0]);
 * ```
 */
export interface NativeMessage {
  /** Bytes of data; 0 at the end of the stream (the peer closed). */
  readonly bytes: number;
  /** fds that came with it (SCM_RIGHTS), close-on-exec and tracked: the caller owns them. */
  readonly fds: readonly number[];
  /** The data or the fds did not fit (MSG_TRUNC, MSG_CTRUNC): the kernel dropped the rest. */
  readonly truncated: boolean;
}

/**
 * The peer of a connected Unix socket (SO_PEERCRED).
 *
 * @example
 * ```ts
 * const { uid } = native.peerCred(conn);
 * ```
 */
export interface NativePeerCred {
  readonly pid: number;
  readonly uid: number;
  readonly gid: number;
}

/** The package root, from `src/native/` (tests) or `dist/native/` alike. */
function packageRoot(): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..');
}

/**
 * node-gyp-build's loader (it ships no types): `load(root)` requires the first of
 * `build/Release`, `build/Debug` and the `prebuilds/` entry that matches this platform,
 * architecture and libc; `load.resolve(root)` says which file that is, and throws when none fits.
 */
interface NodeGypBuild {
  (root: string): unknown;
  resolve(root: string): string;
}

let loaded: NativeBinding | undefined;

/**
 * The addon file this process loads (or would load): for diagnostics and tests.
 *
 * @throws Error when there is neither a source build nor a matching prebuild.
 * @example
 * ```ts
 * addonPath(); // '/app/node_modules/tunctl/prebuilds/linux-x64/tunctl.glibc.node'
 * ```
 */
export function addonPath(): string {
  const load = createRequire(import.meta.url)('node-gyp-build') as NodeGypBuild;
  return load.resolve(packageRoot());
}

/**
 * Load the addon once per environment (main thread or worker): a source build
 * (`build/Release`) when there is one, else the prebuild for this platform.
 *
 * @throws Error when not on Linux, or when there is neither a source build nor a matching
 *   prebuild (reinstall with a C++ toolchain and Python: `npm_config_build_from_source=true`).
 * @example
 * ```ts
 * const n = loadNative();
 * console.log(n.constants.IFF_TUN); // 1
 * ```
 */
export function loadNative(): NativeBinding {
  if (loaded) return loaded;
  if (process.platform !== 'linux') {
    throw new Error(`tunctl: TUN/TAP is supported on Linux only, not on ${process.platform}`);
  }
  const root = packageRoot();
  try {
    const load = createRequire(import.meta.url)('node-gyp-build') as NodeGypBuild;
    loaded = load(root) as NativeBinding;
  } catch (err) {
    throw new Error(
      `tunctl: the native addon could not be loaded from ${root} (neither build/Release nor a prebuild in ` +
        `prebuilds/${process.platform}-${process.arch} for this libc); reinstall with a C++ toolchain and Python ` +
        `to build it from source (\`npm_config_build_from_source=true npm install tunctl\`, or \`npm install\` ` +
        `in a clone): ${(err as Error).message}`,
      { cause: err },
    );
  }
  return loaded;
}
