// Network namespaces for one call: open an fd with the calling thread inside another
// namespace, then put the thread back. A socket or device opened there stays bound to it.
#pragma once

#include <napi.h>

#include <string>

namespace tunctl {

// open(path) of a namespace file (/var/run/netns/NAME, /proc/PID/ns/net): the fd, or a
// thrown ErrnoError "open(netns)". O_NONBLOCK, so a FIFO at that path cannot block us.
int OpenNetnsFile(Napi::Env env, const std::string& path);

// Run `open` (which returns an fd or -1 with errno set) with this thread inside the
// namespace at `path`, then return the thread to its own namespace. Throws ErrnoError
// `what` when `open` fails, "setns" when a namespace switch fails (the fd is then closed).
int OpenInNetns(Napi::Env env, const std::string& path, int (*open)(), const std::string& what);

}  // namespace tunctl
