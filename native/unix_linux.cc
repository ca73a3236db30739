// Unix-domain sockets for passing fds (SCM_RIGHTS): socket, bind, listen, accept,
// connect, sendmsg, recvmsg, SO_PEERCRED, plus the bookkeeping that moves an fd between
// environments. Syscalls only: the protocol, timeouts and checks live in TypeScript
// (src/tunctl/fdPassing.ts). Every socket is non-blocking and close-on-exec, and every
// fd made or received here is tracked, so environment teardown closes it.
#include <napi.h>

#include <errno.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "env_state.h"
#include "errno_error.h"

namespace tunctl {

// Most fds one recvmsg takes; the kernel closes any beyond (and sets MSG_CTRUNC).
static constexpr size_t kMaxFds = 8;

static sockaddr_un UnixAddress(const Napi::CallbackInfo& info, size_t i) {
  std::string path = ArgString(info, i, "path");
  sockaddr_un addr;
  std::memset(&addr, 0, sizeof addr);
  if (path.empty() || path.size() >= sizeof addr.sun_path || path.find('\0') != std::string::npos)
    throw Napi::RangeError::New(info.Env(), "path must be 1 to " + std::to_string(sizeof addr.sun_path - 1) +
                                                " bytes without NUL");
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), path.size());
  return addr;
}

// A msghdr for one buffer and a control area (none when `control` is null).
static msghdr OneBuffer(iovec* iov, void* control, size_t controlLength) {
  msghdr msg;
  std::memset(&msg, 0, sizeof msg);
  msg.msg_iov = iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = control == nullptr ? 0 : controlLength;
  return msg;
}

static Napi::Value UnixSocket(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw ErrnoError(env, errno, "socket(AF_UNIX)");
  GetEnvState(env)->fds.insert(fd);
  return Napi::Number::New(env, fd);
}

static Napi::Value UnixBind(const Napi::CallbackInfo& info) {
  int fd = ArgInt32(info, 0, "fd");
  sockaddr_un addr = UnixAddress(info, 1);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) throw ErrnoError(info.Env(), errno, "bind");
  return info.Env().Undefined();
}

static Napi::Value UnixConnect(const Napi::CallbackInfo& info) {
  int fd = ArgInt32(info, 0, "fd");
  sockaddr_un addr = UnixAddress(info, 1);
  int rc;
  do rc = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  while (rc < 0 && errno == EINTR);
  if (rc < 0) throw ErrnoError(info.Env(), errno, "connect");
  return info.Env().Undefined();
}

static Napi::Value Listen(const Napi::CallbackInfo& info) {
  int fd = ArgInt32(info, 0, "fd");
  int32_t backlog = ArgInt32(info, 1, "backlog");
  if (::listen(fd, backlog) < 0) throw ErrnoError(info.Env(), errno, "listen");
  return info.Env().Undefined();
}

// accept4: the new connection's fd (non-blocking, close-on-exec), or -1 when none waits.
static Napi::Value Accept(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgInt32(info, 0, "fd");
  int conn;
  do conn = ::accept4(fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
  while (conn < 0 && errno == EINTR);
  if (conn < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return Napi::Number::New(env, -1);
    throw ErrnoError(env, errno, "accept");
  }
  GetEnvState(env)->fds.insert(conn);
  return Napi::Number::New(env, conn);
}

// sendmsg of data[] with `passFd` as SCM_RIGHTS (none when negative): bytes sent, or -1 on EAGAIN.
static Napi::Value SendMsg(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgInt32(info, 0, "fd");
  Bytes data = ArgBytes(info, 1, "data");
  int32_t passFd = ArgInt32(info, 2, "passFd");
  iovec iov{data.data, data.length};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  std::memset(control, 0, sizeof control);
  msghdr msg = OneBuffer(&iov, passFd >= 0 ? control : nullptr, sizeof control);
  if (passFd >= 0) {
    cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(cmsg), &passFd, sizeof passFd);
  }
  ssize_t n;
  do n = ::sendmsg(fd, &msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return Napi::Number::New(env, -1);
    throw ErrnoError(env, errno, "sendmsg");
  }
  return Napi::Number::New(env, static_cast<double>(n));
}

// recvmsg into buf: { bytes, fds, truncated } (bytes 0 at end of stream), or null on EAGAIN.
// Received fds are close-on-exec and tracked; `truncated` is MSG_TRUNC or MSG_CTRUNC.
static Napi::Value RecvMsg(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgInt32(info, 0, "fd");
  Bytes buf = ArgBytes(info, 1, "buf");
  iovec iov{buf.data, buf.length};
  alignas(cmsghdr) char control[CMSG_SPACE(kMaxFds * sizeof(int))];
  msghdr msg = OneBuffer(&iov, control, sizeof control);
  ssize_t n;
  do n = ::recvmsg(fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return env.Null();
    throw ErrnoError(env, errno, "recvmsg");
  }
  EnvState* state = GetEnvState(env);
  Napi::Array fds = Napi::Array::New(env);
  uint32_t count = 0;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t j = 0; j < k; j++) {
      int got;
      std::memcpy(&got, CMSG_DATA(c) + j * sizeof(int), sizeof got);
      state->fds.insert(got);
      fds.Set(count++, Napi::Number::New(env, got));
    }
  }
  Napi::Object result = Napi::Object::New(env);
  result.Set("bytes", Napi::Number::New(env, static_cast<double>(n)));
  result.Set("fds", fds);
  result.Set("truncated", Napi::Boolean::New(env, (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0));
  return result;
}

// getsockopt(SO_PEERCRED): the connected peer's pid, uid and gid (as of connect/listen).
static Napi::Value PeerCred(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgInt32(info, 0, "fd");
  ucred cred;
  socklen_t len = sizeof cred;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) throw ErrnoError(env, errno, "getsockopt(SO_PEERCRED)");
  Napi::Object result = Napi::Object::New(env);
  result.Set("pid", Napi::Number::New(env, cred.pid));
  result.Set("uid", Napi::Number::New(env, cred.uid));
  result.Set("gid", Napi::Number::New(env, cred.gid));
  return result;
}

// Ownership between environments (threads share the fd table; each environment closes
// what it tracks at teardown): `untrackFd` hands an fd over, `trackFd` takes it.
static Napi::Value TrackFd(const Napi::CallbackInfo& info) {
  int fd = ArgInt32(info, 0, "fd");
  if (fd < 0) throw Napi::RangeError::New(info.Env(), "fd must not be negative");
  GetEnvState(info.Env())->fds.insert(fd);
  return info.Env().Undefined();
}

static Napi::Value UntrackFd(const Napi::CallbackInfo& info) {
  int fd = ArgInt32(info, 0, "fd");
  return Napi::Boolean::New(info.Env(), GetEnvState(info.Env())->fds.erase(fd) != 0);
}

void RegisterUnix(Napi::Env env, Napi::Object exports) {
  exports.Set("unixSocket", Napi::Function::New(env, UnixSocket, "unixSocket"));
  exports.Set("unixBind", Napi::Function::New(env, UnixBind, "unixBind"));
  exports.Set("unixConnect", Napi::Function::New(env, UnixConnect, "unixConnect"));
  exports.Set("listen", Napi::Function::New(env, Listen, "listen"));
  exports.Set("accept", Napi::Function::New(env, Accept, "accept"));
  exports.Set("sendMsg", Napi::Function::New(env, SendMsg, "sendMsg"));
  exports.Set("recvMsg", Napi::Function::New(env, RecvMsg, "recvMsg"));
  exports.Set("peerCred", Napi::Function::New(env, PeerCred, "peerCred"));
  exports.Set("trackFd", Napi::Function::New(env, TrackFd, "trackFd"));
  exports.Set("untrackFd", Napi::Function::New(env, UntrackFd, "untrackFd"));
}

}  // namespace tunctl
