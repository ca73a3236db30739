// Per-environment state (main thread or worker), kept with napi_set_instance_data.
#pragma once

#include <napi.h>
#include <uv.h>

#include <cstdint>
#include <unordered_map>
#include <unordered_set>

namespace tunctl {

struct PollHandle;

struct EnvState {
  napi_env env = nullptr;
  std::unordered_set<int> fds;                        // opened (openTun, sockets, netlinkOpen) or received here, not yet closed
  std::unordered_map<uint32_t, PollHandle*> polls;    // open poll handles by id
  uint32_t nextPollId = 1;
  size_t closing = 0;                                 // poll handles waiting for their close callback
  bool tearingDown = false;                           // the async cleanup hook has started
  napi_async_cleanup_hook_handle cleanupHook = nullptr;
};

// env_state.cc
EnvState* InitEnvState(napi_env env);
EnvState* GetEnvState(napi_env env);
void MaybeFinishTeardown(EnvState* state);  // removes the cleanup hook once every handle is closed

// tun_linux.cc / poll_linux.cc / unix_linux.cc / netlink_linux.cc / udp_linux.cc: teardown halves and export registration.
void CloseAllFds(EnvState* state);
void CloseAllPolls(EnvState* state);
void RegisterTun(Napi::Env env, Napi::Object exports);
void RegisterNetif(Napi::Env env, Napi::Object exports);
void RegisterPoll(Napi::Env env, Napi::Object exports);
void RegisterUnix(Napi::Env env, Napi::Object exports);
void RegisterNetlink(Napi::Env env, Napi::Object exports);
void RegisterUdp(Napi::Env env, Napi::Object exports);
void RegisterConstants(Napi::Env env, Napi::Object exports);

}  // namespace tunctl
