// UDP sockets for tunnels, with the kernel's segmentation offloads: one send(2) of a buffer
// the kernel cuts into datagrams of `segSize` bytes (UDP_SEGMENT, Linux 4.18), and one
// recv(2) of several datagrams of a flow at once, with the size they were cut at (UDP_GRO,
// Linux 5.0). What goes on the wire is ordinary datagrams either way. Addresses are 4 or 16
// bytes parsed in TypeScript; no policy here. Sockets are tracked like TUN fds: `close`
// stops tracking one, and the environment's cleanup hook closes whatever is left.
#include <napi.h>

#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "env_state.h"
#include "udp_gso.h"
#include "errno_error.h"


namespace tunctl {

// A sockaddr for `addr` (4 bytes: AF_INET, 16: AF_INET6) and `port`; returns its length.
static socklen_t ToSockaddr(Napi::Env env, const Bytes& addr, uint32_t port, struct sockaddr_storage* ss) {
  std::memset(ss, 0, sizeof *ss);
  if (port > 0xffff) throw Napi::RangeError::New(env, "port must be from 0 to 65535");
  if (addr.length == 4) {
    auto* sin = reinterpret_cast<struct sockaddr_in*>(ss);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(static_cast<uint16_t>(port));
    std::memcpy(&sin->sin_addr, addr.data, 4);
    return sizeof *sin;
  }
  if (addr.length == 16) {
    auto* sin6 = reinterpret_cast<struct sockaddr_in6*>(ss);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(static_cast<uint16_t>(port));
    std::memcpy(&sin6->sin6_addr, addr.data, 16);
    return sizeof *sin6;
  }
  throw Napi::RangeError::New(env, "an address must hold 4 or 16 bytes");
}

// Writes the address of `ss` into from[0..16) (an IPv4 one in the first 4); returns
// port | family << 16 (family 4 or 6), or 0 for another family.
static int32_t FromSockaddr(const struct sockaddr_storage& ss, uint8_t* from) {
  if (ss.ss_family == AF_INET) {
    const auto* sin = reinterpret_cast<const struct sockaddr_in*>(&ss);
    if (from != nullptr) std::memcpy(from, &sin->sin_addr, 4);
    return ntohs(sin->sin_port) | (4 << 16);
  }
  if (ss.ss_family == AF_INET6) {
    const auto* sin6 = reinterpret_cast<const struct sockaddr_in6*>(&ss);
    if (from != nullptr) std::memcpy(from, &sin6->sin6_addr, 16);
    return ntohs(sin6->sin6_port) | (6 << 16);
  }
  return 0;
}

// udpOpen(family: 4 | 6): socket(AF_INET or AF_INET6, SOCK_DGRAM|SOCK_NONBLOCK|SOCK_CLOEXEC), tracked.
static Napi::Value UdpOpen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t family = ArgInt32(info, 0, "family");
  if (family != 4 && family != 6) throw Napi::RangeError::New(env, "family must be 4 or 6");
  int fd = ::socket(family == 4 ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw ErrnoError(env, errno, "socket(AF_INET" + std::string(family == 6 ? "6" : "") + ", SOCK_DGRAM)");
  GetEnvState(env)->fds.insert(fd);
  return Napi::Number::New(env, fd);
}

// udpBind(fd, addr, port) / udpConnect(fd, addr, port).
static Napi::Value UdpBind(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgInt32(info, 0, "fd");
  struct sockaddr_storage ss;
  socklen_t len = ToSockaddr(env, ArgBytes(info, 1, "addr"), ArgUint32(info, 2, "port"), &ss);
  if (::bind(fd, reinterpret_cast<struct sockaddr*>(&ss), len) < 0) throw ErrnoError(env, errno, "bind");
  return env.Undefined();
}

static Napi::Value UdpConnect(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgInt32(info, 0, "fd");
  struct sockaddr_storage ss;
  socklen_t len = ToSockaddr(env, ArgBytes(info, 1, "addr"), ArgUint32(info, 2, "port"), &ss);
  int rc;
  do rc = ::connect(fd, reinterpret_cast<struct sockaddr*>(&ss), len);
  while (rc < 0 && errno == EINTR);
  if (rc < 0) throw ErrnoError(env, errno, "connect");
  return env.Undefined();
}

// udpLocal(fd, out: Uint8Array(16)): getsockname; the address into out, returns port | family << 16.
static Napi::Value UdpLocal(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgInt32(info, 0, "fd");
  uint8_t* out = ArgBytesN(info, 1, 16, "out");
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (::getsockname(fd, reinterpret_cast<struct sockaddr*>(&ss), &len) < 0) throw ErrnoError(env, errno, "getsockname");
  return Napi::Number::New(env, FromSockaddr(ss, out));
}

// udpSetInt(fd, level, option, value): setsockopt with an int, for UDP_SEGMENT and UDP_GRO
// (SOL_UDP) and the buffer sizes (SOL_SOCKET).
static Napi::Value UdpSetInt(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgInt32(info, 0, "fd");
  int level = ArgInt32(info, 1, "level");
  int option = ArgInt32(info, 2, "option");
  int value = ArgInt32(info, 3, "value");
  bool ok = (level == SOL_UDP && (option == UDP_SEGMENT || option == UDP_GRO)) ||
            (level == SOL_SOCKET && (option == SO_RCVBUF || option == SO_SNDBUF || option == SO_RCVBUFFORCE || option == SO_SNDBUFFORCE));
  if (!ok) throw Napi::RangeError::New(env, "setsockopt(" + std::to_string(level) + ", " + std::to_string(option) + ") is not accepted here");
  if (::setsockopt(fd, level, option, &value, sizeof value) < 0) throw ErrnoError(env, errno, "setsockopt");
  return env.Undefined();
}

// udpSend(fd, buf, offset, length, segSize, addr | null, port): sendmsg of buf[offset,
// offset+length) to addr:port (null: the connected peer). segSize > 0 asks the kernel to cut
// it into datagrams of segSize bytes (the last may be shorter). Returns the bytes sent, or -1
// on EAGAIN.
static Napi::Value UdpSend(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgInt32(info, 0, "fd");
  Bytes range = ArgRange(info, 1);
  uint32_t segSize = ArgUint32(info, 4, "segSize");
  if (segSize > 0xffff) throw Napi::RangeError::New(env, "segSize must be from 0 to 65535");
  struct sockaddr_storage ss;
  socklen_t sslen = 0;
  if (!info[5].IsNull() && !info[5].IsUndefined()) sslen = ToSockaddr(env, ArgBytes(info, 5, "addr"), ArgUint32(info, 6, "port"), &ss);
  struct iovec iov = {range.data, range.length};
  struct msghdr msg;
  std::memset(&msg, 0, sizeof msg);
  if (sslen > 0) {
    msg.msg_name = &ss;
    msg.msg_namelen = sslen;
  }
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(uint16_t))];
  if (segSize > 0) {
    std::memset(control, 0, sizeof control);
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    struct cmsghdr* cm = CMSG_FIRSTHDR(&msg);
    cm->cmsg_level = SOL_UDP;
    cm->cmsg_type = UDP_SEGMENT;
    cm->cmsg_len = CMSG_LEN(sizeof(uint16_t));
    uint16_t seg = static_cast<uint16_t>(segSize);
    std::memcpy(CMSG_DATA(cm), &seg, sizeof seg);
  }
  ssize_t n;
  do n = ::sendmsg(fd, &msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  return IoResult(env, n, segSize > 0 ? "sendmsg(UDP_SEGMENT)" : "sendmsg");
}

// udpRecv(fd, buf, offset, length, out: Int32Array(2), from: Uint8Array(16) | null): one
// recvmsg into buf[offset, offset+length). Returns the bytes received, or -1 on EAGAIN.
// out[0] = the size the datagrams were cut at when UDP_GRO joined several (0: one datagram),
// out[1] = the sender's port | family << 16, its address in `from`. MSG_TRUNC: a datagram
// larger than the room gives its real length, larger than `length`.
static Napi::Value UdpRecv(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgInt32(info, 0, "fd");
  Bytes range = ArgRange(info, 1);
  Bytes outBytes = ArgTyped(info, 4, napi_int32_array, "out", "Int32Array");
  if (outBytes.length < 2) throw Napi::RangeError::New(env, "out must hold 2 numbers");
  int32_t* out = reinterpret_cast<int32_t*>(outBytes.data);
  uint8_t* from = nullptr;
  if (!info[5].IsNull() && !info[5].IsUndefined()) from = ArgBytesN(info, 5, 16, "from");
  struct sockaddr_storage ss;
  std::memset(&ss, 0, sizeof ss);
  struct iovec iov = {range.data, range.length};
  struct msghdr msg;
  std::memset(&msg, 0, sizeof msg);
  msg.msg_name = &ss;
  msg.msg_namelen = sizeof ss;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do n = ::recvmsg(fd, &msg, MSG_TRUNC);
  while (n < 0 && errno == EINTR);
  if (n < 0) return IoResult(env, n, "recvmsg");
  out[0] = 0;
  for (struct cmsghdr* cm = CMSG_FIRSTHDR(&msg); cm != nullptr; cm = CMSG_NXTHDR(&msg, cm)) {
    if (cm->cmsg_level == SOL_UDP && cm->cmsg_type == UDP_GRO) {
      int seg = 0;
      std::memcpy(&seg, CMSG_DATA(cm), sizeof seg);
      out[0] = seg;
    }
  }
  out[1] = FromSockaddr(ss, from);
  return Napi::Number::New(env, static_cast<double>(n));
}

void RegisterUdp(Napi::Env env, Napi::Object exports) {
  exports.Set("udpOpen", Napi::Function::New(env, UdpOpen, "udpOpen"));
  exports.Set("udpBind", Napi::Function::New(env, UdpBind, "udpBind"));
  exports.Set("udpConnect", Napi::Function::New(env, UdpConnect, "udpConnect"));
  exports.Set("udpLocal", Napi::Function::New(env, UdpLocal, "udpLocal"));
  exports.Set("udpSetInt", Napi::Function::New(env, UdpSetInt, "udpSetInt"));
  exports.Set("udpSend", Napi::Function::New(env, UdpSend, "udpSend"));
  exports.Set("udpRecv", Napi::Function::New(env, UdpRecv, "udpRecv"));
}

}  // namespace tunctl
