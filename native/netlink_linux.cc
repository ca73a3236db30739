// NETLINK_ROUTE sockets: open (optionally inside another network namespace) and bind to
// multicast groups, set a SOL_NETLINK option, send a message to the kernel, receive one
// datagram. Messages are built and parsed in TypeScript (src/netlink/); nothing here
// looks inside them. Every socket is tracked like a TUN fd: `close` stops tracking it,
// and the environment's cleanup hook closes whatever is left.
#include <napi.h>

#include <errno.h>
#include <linux/netlink.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "env_state.h"
#include "errno_error.h"
#include "netns.h"

namespace tunctl {

static int OpenRouteSocket() { return ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE); }

// netlinkOpen(netnsPath: string | null, groups: number): a non-blocking NETLINK_ROUTE
// socket bound to `groups` (RTMGRP_* bits), with the kernel choosing the port id.
static Napi::Value NetlinkOpen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t groups = ArgUint32(info, 1, "groups");
  int fd;
  if (info[0].IsNull() || info[0].IsUndefined()) {
    fd = OpenRouteSocket();
    if (fd < 0) throw ErrnoError(env, errno, "socket(AF_NETLINK)");
  } else {
    // A netlink socket belongs to the namespace it was created in, for good.
    fd = OpenInNetns(env, ArgString(info, 0, "netnsPath"), OpenRouteSocket, "socket(AF_NETLINK)");
  }
  struct sockaddr_nl addr;
  std::memset(&addr, 0, sizeof addr);
  addr.nl_family = AF_NETLINK;
  addr.nl_groups = groups;
  if (::bind(fd, reinterpret_cast<struct sockaddr*>(&addr), sizeof addr) < 0) {
    int err = errno;
    ::close(fd);
    throw ErrnoError(env, err, "bind(AF_NETLINK)");
  }
  GetEnvState(env)->fds.insert(fd);
  return Napi::Number::New(env, fd);
}

// netlinkSetInt(fd, option, value): setsockopt(SOL_NETLINK) with an int, for the options
// that take one.
static Napi::Value NetlinkSetInt(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgInt32(info, 0, "fd");
  int option = ArgInt32(info, 1, "option");
  int value = ArgInt32(info, 2, "value");
  switch (option) {
    case NETLINK_EXT_ACK:
    case NETLINK_CAP_ACK:
    case NETLINK_GET_STRICT_CHK:
    case NETLINK_NO_ENOBUFS:
      break;
    default:
      throw Napi::RangeError::New(env, "setsockopt(SOL_NETLINK, " + std::to_string(option) + ") is not accepted here");
  }
  if (::setsockopt(fd, SOL_NETLINK, option, &value, sizeof value) < 0) throw ErrnoError(env, errno, "setsockopt(SOL_NETLINK)");
  return env.Undefined();
}

// netlinkSend(fd, buf, length): sendto(kernel) of buf[0, length); returns the byte count.
static Napi::Value NetlinkSend(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgInt32(info, 0, "fd");
  Bytes buf = ArgBytes(info, 1, "buf");
  int64_t length = ArgInt64(info, 2, "length");
  CheckRange(env, 0, length, buf.length, "[0, length)");
  struct sockaddr_nl kernel;
  std::memset(&kernel, 0, sizeof kernel);
  kernel.nl_family = AF_NETLINK;
  ssize_t n;
  do n = ::sendto(fd, buf.data, static_cast<size_t>(length), 0, reinterpret_cast<struct sockaddr*>(&kernel), sizeof kernel);
  while (n < 0 && errno == EINTR);
  if (n < 0) throw ErrnoError(env, errno, "sendto(AF_NETLINK)");
  return Napi::Number::New(env, static_cast<double>(n));
}

// netlinkRecv(fd, buf, timeoutMs, out): wait up to timeoutMs (0: not at all) for one
// datagram, and copy it into buf. Returns its full length (more than buf.length when
// truncated), or -1 when none came. out[0] = the sender's port id (0: the kernel),
// out[1] = the multicast groups it was sent to (0: unicast).
static Napi::Value NetlinkRecv(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgInt32(info, 0, "fd");
  Bytes buf = ArgBytes(info, 1, "buf");
  int32_t timeoutMs = ArgInt32(info, 2, "timeoutMs");
  Bytes out = ArgTyped(info, 3, napi_uint32_array, "out", "Uint32Array");
  if (out.length < 2) throw Napi::RangeError::New(env, "out must hold 2 numbers");
  if (timeoutMs > 0) {
    struct pollfd p = {fd, POLLIN, 0};
    int rc;
    do rc = ::poll(&p, 1, timeoutMs);
    while (rc < 0 && errno == EINTR);
    if (rc < 0) throw ErrnoError(env, errno, "poll");
    if (rc == 0) return Napi::Number::New(env, -1);
  }
  struct sockaddr_nl from;
  std::memset(&from, 0, sizeof from);
  struct iovec iov = {buf.data, buf.length};
  struct msghdr msg;
  std::memset(&msg, 0, sizeof msg);
  msg.msg_name = &from;
  msg.msg_namelen = sizeof from;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  ssize_t n;
  // MSG_TRUNC: the return value is the datagram's real length, even when it did not fit.
  do n = ::recvmsg(fd, &msg, MSG_TRUNC);
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return Napi::Number::New(env, -1);
    throw ErrnoError(env, errno, "recvmsg(AF_NETLINK)");
  }
  uint32_t* o = reinterpret_cast<uint32_t*>(out.data);
  o[0] = from.nl_pid;
  o[1] = from.nl_groups;
  return Napi::Number::New(env, static_cast<double>(n));
}

void RegisterNetlink(Napi::Env env, Napi::Object exports) {
  exports.Set("netlinkOpen", Napi::Function::New(env, NetlinkOpen, "netlinkOpen"));
  exports.Set("netlinkSetInt", Napi::Function::New(env, NetlinkSetInt, "netlinkSetInt"));
  exports.Set("netlinkSend", Napi::Function::New(env, NetlinkSend, "netlinkSend"));
  exports.Set("netlinkRecv", Napi::Function::New(env, NetlinkRecv, "netlinkRecv"));
}

}  // namespace tunctl
