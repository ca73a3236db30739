// Entering a network namespace for the duration of one open (see netns.h).
#include "netns.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include "errno_error.h"

namespace tunctl {

int OpenNetnsFile(Napi::Env env, const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) throw ErrnoError(env, errno, "open(netns)");
  return fd;
}

int OpenInNetns(Napi::Env env, const std::string& path, int (*open)(), const std::string& what) {
  int self = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (self < 0) throw ErrnoError(env, errno, "open(netns)");
  int target;
  try {
    target = OpenNetnsFile(env, path);
  } catch (...) {
    ::close(self);
    throw;
  }
  if (::setns(target, CLONE_NEWNET) < 0) {
    int err = errno;
    ::close(target);
    ::close(self);
    throw ErrnoError(env, err, "setns");
  }
  int fd = open();
  int openErr = errno;
  int back = ::setns(self, CLONE_NEWNET);
  int backErr = errno;
  ::close(target);
  ::close(self);
  if (back < 0) {
    if (fd >= 0) ::close(fd);
    throw ErrnoError(env, backErr, "setns");
  }
  if (fd < 0) throw ErrnoError(env, openErr, what);
  return fd;
}

}  // namespace tunctl
