// The TUN/TAP character device: open (optionally inside another network namespace),
// its ioctls, close, and packet I/O including the batched record paths.
#include <napi.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <climits>
#include <cstdint>
#include <cstring>
#include <vector>

#include "env_state.h"
#include "errno_error.h"
#include "netns.h"

namespace tunctl {

static const IoctlName kTunIoctls[] = {
    {TUNSETIFF, "TUNSETIFF"},         {TUNGETIFF, "TUNGETIFF"},
    {TUNSETPERSIST, "TUNSETPERSIST"}, {TUNSETOWNER, "TUNSETOWNER"},
    {TUNSETGROUP, "TUNSETGROUP"},     {TUNSETOFFLOAD, "TUNSETOFFLOAD"},
    {TUNSETLINK, "TUNSETLINK"},       {TUNSETCARRIER, "TUNSETCARRIER"},
    {TUNSETSNDBUF, "TUNSETSNDBUF"},   {TUNSETVNETHDRSZ, "TUNSETVNETHDRSZ"},
    {TUNGETFEATURES, "TUNGETFEATURES"}, {TUNGETSNDBUF, "TUNGETSNDBUF"},
    {TUNGETVNETHDRSZ, "TUNGETVNETHDRSZ"}, {TUNSETQUEUE, "TUNSETQUEUE"},
    {TUNSETTXFILTER, "TUNSETTXFILTER"}, {TUNATTACHFILTER, "TUNATTACHFILTER"},
    {TUNDETACHFILTER, "TUNDETACHFILTER"},
};

// Which requests each generic ioctl entry point accepts. Anything else could make the
// kernel read or write memory of another size or at an address taken from JS.
static const unsigned long kByValue[] = {TUNSETPERSIST, TUNSETOWNER, TUNSETGROUP, TUNSETOFFLOAD, TUNSETLINK};
static const unsigned long kSetInt[] = {TUNSETCARRIER, TUNSETSNDBUF, TUNSETVNETHDRSZ};
static const unsigned long kGetInt[] = {TUNGETFEATURES, TUNGETSNDBUF, TUNGETVNETHDRSZ};

template <size_t N>
static unsigned long ArgRequest(const Napi::CallbackInfo& info, size_t i, const unsigned long (&allowed)[N]) {
  unsigned long request = ArgUint32(info, i, "request");
  for (unsigned long r : allowed)
    if (r == request) return request;
  throw Napi::RangeError::New(info.Env(), IoctlSyscall(kTunIoctls, request) + " is not accepted here");
}

static std::string Syscall(unsigned long request) { return IoctlSyscall(kTunIoctls, request); }

static constexpr size_t Align4(size_t n) { return (n + 3) & ~static_cast<size_t>(3); }

void CloseAllFds(EnvState* state) {
  for (int fd : state->fds) ::close(fd);
  state->fds.clear();
}

// ---- open, TUNSETIFF / TUNGETIFF ----

static int OpenTunDevice() { return ::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC); }

static Napi::Value OpenTun(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EnvState* state = GetEnvState(env);
  int fd;
  if (info[0].IsNull() || info[0].IsUndefined()) {
    fd = OpenTunDevice();
    if (fd < 0) throw ErrnoError(env, errno, "open(/dev/net/tun)");
  } else {
    // The device is created in the namespace of the thread that opens /dev/net/tun.
    fd = OpenInNetns(env, ArgString(info, 0, "netnsPath"), OpenTunDevice, "open(/dev/net/tun)");
  }
  state->fds.insert(fd);
  return Napi::Number::New(env, fd);
}

// setns for the calling thread only, for good: a worker that owns a device in another
// namespace enters it once, so the device and every ioctl on its name live there.
static Napi::Value EnterNetns(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int target = OpenNetnsFile(env, ArgString(info, 0, "path"));
  int rc = ::setns(target, CLONE_NEWNET);
  int err = errno;
  ::close(target);
  if (rc < 0) throw ErrnoError(env, err, "setns");
  return env.Undefined();
}

static Napi::Value SetIff(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgInt32(info, 0, "fd");
  std::string name = ArgString(info, 1, "name");
  int32_t flags = ArgInt32(info, 2, "flags");
  if (name.size() >= IFNAMSIZ) throw Napi::RangeError::New(env, "name must be shorter than 16 bytes");
  struct ifreq ifr;
  std::memset(&ifr, 0, sizeof ifr);
  std::memcpy(ifr.ifr_name, name.data(), name.size());
  ifr.ifr_flags = static_cast<short>(flags);
  if (::ioctl(fd, TUNSETIFF, &ifr) < 0) throw ErrnoError(env, errno, "ioctl(TUNSETIFF)");
  return Napi::String::New(env, ifr.ifr_name, strnlen(ifr.ifr_name, IFNAMSIZ));
}

static Napi::Value GetIff(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgInt32(info, 0, "fd");
  struct ifreq ifr;
  std::memset(&ifr, 0, sizeof ifr);
  if (::ioctl(fd, TUNGETIFF, &ifr) < 0) throw ErrnoError(env, errno, "ioctl(TUNGETIFF)");
  Napi::Object result = Napi::Object::New(env);
  result.Set("name", Napi::String::New(env, ifr.ifr_name, strnlen(ifr.ifr_name, IFNAMSIZ)));
  result.Set("flags", Napi::Number::New(env, static_cast<uint16_t>(ifr.ifr_flags)));
  return result;
}

// ---- int ioctls ----

static Napi::Value IoctlValue(const Napi::CallbackInfo& info) {
  int fd = ArgInt32(info, 0, "fd");
  unsigned long request = ArgRequest(info, 1, kByValue);
  int64_t value = ArgInt64(info, 2, "value");
  if (::ioctl(fd, request, static_cast<unsigned long>(value)) < 0)
    throw ErrnoError(info.Env(), errno, Syscall(request));
  return info.Env().Undefined();
}

static Napi::Value IoctlSetInt(const Napi::CallbackInfo& info) {
  int fd = ArgInt32(info, 0, "fd");
  unsigned long request = ArgRequest(info, 1, kSetInt);
  int value = ArgInt32(info, 2, "value");
  if (::ioctl(fd, request, &value) < 0) throw ErrnoError(info.Env(), errno, Syscall(request));
  return info.Env().Undefined();
}

static Napi::Value IoctlGetInt(const Napi::CallbackInfo& info) {
  int fd = ArgInt32(info, 0, "fd");
  unsigned long request = ArgRequest(info, 1, kGetInt);
  int out = 0;
  if (::ioctl(fd, request, &out) < 0) throw ErrnoError(info.Env(), errno, Syscall(request));
  return Napi::Number::New(info.Env(), out);
}

// ---- queues and filters ----

static Napi::Value SetQueue(const Napi::CallbackInfo& info) {
  int fd = ArgInt32(info, 0, "fd");
  int32_t flags = ArgInt32(info, 1, "flags");
  struct ifreq ifr;
  std::memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = static_cast<short>(flags);
  if (::ioctl(fd, TUNSETQUEUE, &ifr) < 0) throw ErrnoError(info.Env(), errno, "ioctl(TUNSETQUEUE)");
  return info.Env().Undefined();
}

static Napi::Value SetTxFilter(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgInt32(info, 0, "fd");
  int32_t flags = ArgInt32(info, 1, "flags");
  Bytes macs = ArgBytes(info, 2, "macs");
  if (macs.length % ETH_ALEN != 0 || macs.length / ETH_ALEN > UINT16_MAX)
    throw Napi::RangeError::New(env, "macs must hold 6 bytes per address, at most 65535 addresses");
  // struct tun_filter { __u16 flags; __u16 count; __u8 addr[][ETH_ALEN]; }
  std::vector<uint8_t> filter(2 * sizeof(uint16_t) + macs.length);
  uint16_t header[2] = {static_cast<uint16_t>(flags), static_cast<uint16_t>(macs.length / ETH_ALEN)};
  std::memcpy(filter.data(), header, sizeof header);
  if (macs.length != 0) std::memcpy(filter.data() + sizeof header, macs.data, macs.length);
  if (::ioctl(fd, TUNSETTXFILTER, filter.data()) < 0) throw ErrnoError(env, errno, "ioctl(TUNSETTXFILTER)");
  return env.Undefined();
}

static Napi::Value AttachFilter(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgInt32(info, 0, "fd");
  Bytes program = ArgBytes(info, 1, "program");
  if (program.length % sizeof(struct sock_filter) != 0 || program.length / sizeof(struct sock_filter) > USHRT_MAX)
    throw Napi::RangeError::New(env, "program must hold 8 bytes per instruction, at most 65535 instructions");
  struct sock_fprog fprog;
  fprog.len = static_cast<unsigned short>(program.length / sizeof(struct sock_filter));
  fprog.filter = reinterpret_cast<struct sock_filter*>(program.data);  // copied by the kernel
  if (::ioctl(fd, TUNATTACHFILTER, &fprog) < 0) throw ErrnoError(env, errno, "ioctl(TUNATTACHFILTER)");
  return env.Undefined();
}

static Napi::Value DetachFilter(const Napi::CallbackInfo& info) {
  int fd = ArgInt32(info, 0, "fd");
  struct sock_fprog fprog;
  std::memset(&fprog, 0, sizeof fprog);
  if (::ioctl(fd, TUNDETACHFILTER, &fprog) < 0) throw ErrnoError(info.Env(), errno, "ioctl(TUNDETACHFILTER)");
  return info.Env().Undefined();
}

static Napi::Value Close(const Napi::CallbackInfo& info) {
  int fd = ArgInt32(info, 0, "fd");
  GetEnvState(info.Env())->fds.erase(fd);
  // On Linux the fd is released even when close() reports EINTR: never retry.
  if (::close(fd) < 0 && errno != EINTR) throw ErrnoError(info.Env(), errno, "close");
  return info.Env().Undefined();
}

// ---- packet I/O ----

// read(2) or write(2) of buf[offset, offset + length): the byte count, or -1 on EAGAIN.
template <typename Io>
static Napi::Value OneIo(const Napi::CallbackInfo& info, Io io, const char* syscall) {
  int fd = ArgInt32(info, 0, "fd");
  Bytes range = ArgRange(info, 1);
  ssize_t n;
  do n = io(fd, range.data, range.length);
  while (n < 0 && errno == EINTR);
  return IoResult(info.Env(), n, syscall);
}

static Napi::Value Read(const Napi::CallbackInfo& info) {
  return OneIo(info, [](int fd, uint8_t* p, size_t n) { return ::read(fd, p, n); }, "read");
}

static Napi::Value Write(const Napi::CallbackInfo& info) {
  return OneIo(info, [](int fd, uint8_t* p, size_t n) { return ::write(fd, p, n); }, "write");
}

// Shared checks of (buf, pos, end, out) for the record paths; byte counts must fit out[].
static void CheckRecordArea(Napi::Env env, const Bytes& buf, int64_t pos, int64_t end, const Bytes& out,
                            size_t outLength) {
  if (pos < 0 || end < pos || static_cast<uint64_t>(end) > buf.length)
    throw Napi::RangeError::New(env, "[pos, end) is outside the buffer");
  if (end - pos > INT32_MAX) throw Napi::RangeError::New(env, "[pos, end) is larger than 2 GiB");
  if (out.length < outLength)
    throw Napi::RangeError::New(env, "out must hold at least " + std::to_string(outLength) + " entries");
}

// Records are [u32 length, host order][bytes][padding to 4]. Padding that would run
// past `end` is left off (pos stops at end), so out[0] never exceeds end - pos.
static Napi::Value ReadRecords(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgInt32(info, 0, "fd");
  Bytes buf = ArgBytes(info, 1, "buf");
  int64_t pos = ArgInt64(info, 2, "pos");
  int64_t end = ArgInt64(info, 3, "end");
  int64_t maxRecord = ArgInt64(info, 4, "maxRecord");
  int64_t maxPackets = ArgInt64(info, 5, "maxPackets");
  Bytes outBytes = ArgTyped(info, 6, napi_int32_array, "out", "Int32Array");
  CheckRecordArea(env, buf, pos, end, outBytes, 3);
  if (maxRecord < 0) throw Napi::RangeError::New(env, "maxRecord must not be negative");
  int32_t* out = reinterpret_cast<int32_t*>(outBytes.data);

  const int64_t start = pos;
  int64_t packets = 0;
  int eagain = 0;
  int err = 0;
  while (end - pos - 4 >= maxRecord && packets < maxPackets) {
    ssize_t n;
    do n = ::read(fd, buf.data + pos + 4, static_cast<size_t>(maxRecord));
    while (n < 0 && errno == EINTR);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) eagain = 1;
      else err = errno;
      break;
    }
    uint32_t len = static_cast<uint32_t>(n);
    std::memcpy(buf.data + pos, &len, sizeof len);
    int64_t next = pos + 4 + static_cast<int64_t>(Align4(len));
    pos = next < end ? next : end;
    packets++;
  }
  out[0] = static_cast<int32_t>(pos - start);
  out[1] = static_cast<int32_t>(packets);
  out[2] = eagain;
  if (err != 0) throw ErrnoError(env, err, "read");
  return env.Undefined();
}

// One write(fd) per record in [pos, end); a rejected record is skipped and counted.
static Napi::Value WriteRecords(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgInt32(info, 0, "fd");
  Bytes buf = ArgBytes(info, 1, "buf");
  int64_t pos = ArgInt64(info, 2, "pos");
  int64_t end = ArgInt64(info, 3, "end");
  Bytes outBytes = ArgTyped(info, 4, napi_int32_array, "out", "Int32Array");
  CheckRecordArea(env, buf, pos, end, outBytes, 5);
  int32_t* out = reinterpret_cast<int32_t*>(outBytes.data);

  const int64_t start = pos;
  int32_t written = 0, rejected = 0, eagain = 0, lastErrno = 0;
  bool overrun = false;
  while (end - pos >= 4) {
    uint32_t len;
    std::memcpy(&len, buf.data + pos, sizeof len);
    if (static_cast<int64_t>(len) > end - pos - 4) {
      overrun = true;
      break;
    }
    ssize_t n;
    do n = ::write(fd, buf.data + pos + 4, len);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        eagain = 1;
        break;
      }
      rejected++;
      lastErrno = errno;
    } else {
      written++;
    }
    int64_t next = pos + 4 + static_cast<int64_t>(Align4(len));
    pos = next < end ? next : end;
  }
  out[0] = static_cast<int32_t>(pos - start);
  out[1] = written;
  out[2] = rejected;
  out[3] = eagain;
  out[4] = lastErrno;
  if (overrun) throw Napi::RangeError::New(env, "a record's length runs past end");
  return env.Undefined();
}

void RegisterTun(Napi::Env env, Napi::Object exports) {
  exports.Set("openTun", Napi::Function::New(env, OpenTun, "openTun"));
  exports.Set("enterNetns", Napi::Function::New(env, EnterNetns, "enterNetns"));
  exports.Set("setIff", Napi::Function::New(env, SetIff, "setIff"));
  exports.Set("getIff", Napi::Function::New(env, GetIff, "getIff"));
  exports.Set("ioctlValue", Napi::Function::New(env, IoctlValue, "ioctlValue"));
  exports.Set("ioctlSetInt", Napi::Function::New(env, IoctlSetInt, "ioctlSetInt"));
  exports.Set("ioctlGetInt", Napi::Function::New(env, IoctlGetInt, "ioctlGetInt"));
  exports.Set("setQueue", Napi::Function::New(env, SetQueue, "setQueue"));
  exports.Set("setTxFilter", Napi::Function::New(env, SetTxFilter, "setTxFilter"));
  exports.Set("attachFilter", Napi::Function::New(env, AttachFilter, "attachFilter"));
  exports.Set("detachFilter", Napi::Function::New(env, DetachFilter, "detachFilter"));
  exports.Set("close", Napi::Function::New(env, Close, "close"));
  exports.Set("read", Napi::Function::New(env, Read, "read"));
  exports.Set("write", Napi::Function::New(env, Write, "write"));
  exports.Set("readRecords", Napi::Function::New(env, ReadRecords, "readRecords"));
  exports.Set("writeRecords", Napi::Function::New(env, WriteRecords, "writeRecords"));
}

}  // namespace tunctl
