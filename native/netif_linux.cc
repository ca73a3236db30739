// Interface configuration by name: socket ioctls on a throwaway datagram socket, in the
// network namespace of the calling thread.
#include <napi.h>

#include <errno.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
// After <netinet/in.h>, so that <linux/in6.h> defers to glibc's definitions.
#include <linux/ipv6.h>  // struct in6_ifreq
#include <linux/sockios.h>

#include <cstring>

#include "env_state.h"
#include "errno_error.h"

namespace tunctl {

static const IoctlName kSockIoctls[] = {
    {SIOCGIFFLAGS, "SIOCGIFFLAGS"},     {SIOCSIFFLAGS, "SIOCSIFFLAGS"},     {SIOCGIFMTU, "SIOCGIFMTU"},
    {SIOCSIFMTU, "SIOCSIFMTU"},         {SIOCGIFINDEX, "SIOCGIFINDEX"},     {SIOCGIFTXQLEN, "SIOCGIFTXQLEN"},
    {SIOCSIFTXQLEN, "SIOCSIFTXQLEN"},   {SIOCGIFADDR, "SIOCGIFADDR"},       {SIOCSIFADDR, "SIOCSIFADDR"},
    {SIOCDIFADDR, "SIOCDIFADDR"},       {SIOCGIFNETMASK, "SIOCGIFNETMASK"}, {SIOCSIFNETMASK, "SIOCSIFNETMASK"},
    {SIOCGIFDSTADDR, "SIOCGIFDSTADDR"}, {SIOCSIFDSTADDR, "SIOCSIFDSTADDR"}, {SIOCGIFBRDADDR, "SIOCGIFBRDADDR"},
    {SIOCSIFBRDADDR, "SIOCSIFBRDADDR"}, {SIOCGIFHWADDR, "SIOCGIFHWADDR"},   {SIOCSIFHWADDR, "SIOCSIFHWADDR"},
};

static std::string Syscall(unsigned long request) { return IoctlSyscall(kSockIoctls, request); }

// A datagram socket closed on every path out of the calling function.
class Socket {
 public:
  Socket(Napi::Env env, int family) : fd_(::socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0)) {
    if (fd_ < 0) throw ErrnoError(env, errno, "socket");
  }
  ~Socket() { ::close(fd_); }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

// struct ifreq with ifr_name set from argument i (RangeError when 16 bytes or more).
static struct ifreq IfreqFor(const Napi::CallbackInfo& info, size_t i) {
  std::string name = ArgString(info, i, "name");
  if (name.size() >= IFNAMSIZ) throw Napi::RangeError::New(info.Env(), "name must be shorter than 16 bytes");
  struct ifreq ifr;
  std::memset(&ifr, 0, sizeof ifr);
  std::memcpy(ifr.ifr_name, name.data(), name.size());
  return ifr;
}

static unsigned long ArgRequest(const Napi::CallbackInfo& info, size_t i) { return ArgUint32(info, i, "request"); }

static Napi::Error Unaccepted(Napi::Env env, unsigned long request) {
  return Napi::RangeError::New(env, Syscall(request) + " is not accepted here");
}

static Napi::Value IfGetInt(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  struct ifreq ifr = IfreqFor(info, 0);
  unsigned long request = ArgRequest(info, 1);
  if (request != SIOCGIFFLAGS && request != SIOCGIFMTU && request != SIOCGIFINDEX && request != SIOCGIFTXQLEN)
    throw Unaccepted(env, request);
  Socket sock(env, AF_INET);
  if (::ioctl(sock.fd(), request, &ifr) < 0) throw ErrnoError(env, errno, Syscall(request));
  switch (request) {
    case SIOCGIFFLAGS: return Napi::Number::New(env, static_cast<uint16_t>(ifr.ifr_flags));
    case SIOCGIFMTU: return Napi::Number::New(env, ifr.ifr_mtu);
    case SIOCGIFINDEX: return Napi::Number::New(env, ifr.ifr_ifindex);
    default: return Napi::Number::New(env, ifr.ifr_qlen);
  }
}

static Napi::Value IfSetInt(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  struct ifreq ifr = IfreqFor(info, 0);
  unsigned long request = ArgRequest(info, 1);
  int32_t value = ArgInt32(info, 2, "value");
  switch (request) {
    case SIOCSIFFLAGS: ifr.ifr_flags = static_cast<short>(value); break;
    case SIOCSIFMTU: ifr.ifr_mtu = value; break;
    case SIOCSIFTXQLEN: ifr.ifr_qlen = value; break;
    default: throw Unaccepted(env, request);
  }
  Socket sock(env, AF_INET);
  if (::ioctl(sock.fd(), request, &ifr) < 0) throw ErrnoError(env, errno, Syscall(request));
  return env.Undefined();
}

static Napi::Value IfGetAddr4(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  struct ifreq ifr = IfreqFor(info, 0);
  unsigned long request = ArgRequest(info, 1);
  if (request != SIOCGIFADDR && request != SIOCGIFNETMASK && request != SIOCGIFDSTADDR && request != SIOCGIFBRDADDR)
    throw Unaccepted(env, request);
  Socket sock(env, AF_INET);
  if (::ioctl(sock.fd(), request, &ifr) < 0) {
    if (errno == EADDRNOTAVAIL) return env.Null();
    throw ErrnoError(env, errno, Syscall(request));
  }
  // ifr_addr, ifr_netmask, ifr_dstaddr and ifr_broadaddr share one place in the union.
  struct sockaddr_in sin;
  std::memcpy(&sin, &ifr.ifr_addr, sizeof sin);
  Napi::Uint8Array out = Napi::Uint8Array::New(env, 4);
  std::memcpy(out.Data(), &sin.sin_addr, 4);
  return out;
}

static Napi::Value IfSetAddr4(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  struct ifreq ifr = IfreqFor(info, 0);
  unsigned long request = ArgRequest(info, 1);
  const uint8_t* addr = ArgBytesN(info, 2, 4, "addr");
  if (request != SIOCSIFADDR && request != SIOCSIFNETMASK && request != SIOCSIFDSTADDR && request != SIOCSIFBRDADDR)
    throw Unaccepted(env, request);
  struct sockaddr_in sin;
  std::memset(&sin, 0, sizeof sin);
  sin.sin_family = AF_INET;
  std::memcpy(&sin.sin_addr, addr, 4);
  std::memcpy(&ifr.ifr_addr, &sin, sizeof sin);
  Socket sock(env, AF_INET);
  if (::ioctl(sock.fd(), request, &ifr) < 0) throw ErrnoError(env, errno, Syscall(request));
  return env.Undefined();
}

static Napi::Value IfAddr6(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  struct ifreq ifr = IfreqFor(info, 0);
  unsigned long request = ArgRequest(info, 1);
  const uint8_t* addr = ArgBytesN(info, 2, 16, "addr");
  uint32_t prefix = ArgUint32(info, 3, "prefix");
  if (request != SIOCSIFADDR && request != SIOCDIFADDR) throw Unaccepted(env, request);
  Socket sock(env, AF_INET6);
  if (::ioctl(sock.fd(), SIOCGIFINDEX, &ifr) < 0) throw ErrnoError(env, errno, "ioctl(SIOCGIFINDEX)");
  struct in6_ifreq ifr6;
  std::memset(&ifr6, 0, sizeof ifr6);
  std::memcpy(&ifr6.ifr6_addr, addr, 16);
  ifr6.ifr6_prefixlen = prefix;
  ifr6.ifr6_ifindex = ifr.ifr_ifindex;
  if (::ioctl(sock.fd(), request, &ifr6) < 0) throw ErrnoError(env, errno, Syscall(request));
  return env.Undefined();
}

static Napi::Value IfGetHwaddr(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  struct ifreq ifr = IfreqFor(info, 0);
  Socket sock(env, AF_INET);
  if (::ioctl(sock.fd(), SIOCGIFHWADDR, &ifr) < 0) throw ErrnoError(env, errno, "ioctl(SIOCGIFHWADDR)");
  Napi::Uint8Array out = Napi::Uint8Array::New(env, 6);
  std::memcpy(out.Data(), ifr.ifr_hwaddr.sa_data, 6);
  return out;
}

static Napi::Value IfSetHwaddr(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  struct ifreq ifr = IfreqFor(info, 0);
  const uint8_t* mac = ArgBytesN(info, 1, 6, "mac");
  ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
  std::memcpy(ifr.ifr_hwaddr.sa_data, mac, 6);
  Socket sock(env, AF_INET);
  if (::ioctl(sock.fd(), SIOCSIFHWADDR, &ifr) < 0) throw ErrnoError(env, errno, "ioctl(SIOCSIFHWADDR)");
  return env.Undefined();
}

void RegisterNetif(Napi::Env env, Napi::Object exports) {
  exports.Set("ifGetInt", Napi::Function::New(env, IfGetInt, "ifGetInt"));
  exports.Set("ifSetInt", Napi::Function::New(env, IfSetInt, "ifSetInt"));
  exports.Set("ifGetAddr4", Napi::Function::New(env, IfGetAddr4, "ifGetAddr4"));
  exports.Set("ifSetAddr4", Napi::Function::New(env, IfSetAddr4, "ifSetAddr4"));
  exports.Set("ifAddr6", Napi::Function::New(env, IfAddr6, "ifAddr6"));
  exports.Set("ifGetHwaddr", Napi::Function::New(env, IfGetHwaddr, "ifGetHwaddr"));
  exports.Set("ifSetHwaddr", Napi::Function::New(env, IfSetHwaddr, "ifSetHwaddr"));
}

}  // namespace tunctl
