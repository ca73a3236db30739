// Per-environment state and its teardown.
//
// Teardown uses napi_add_async_cleanup_hook rather than a synchronous cleanup hook:
// uv_close() only finishes in a later loop iteration, and while an async hook is
// pending Node keeps running the environment's loop (and keeps the napi_env alive),
// so every poll handle's close callback runs, and frees its memory, before the
// environment and this state are freed. The hook is removed when the last close
// callback has run.
#include "env_state.h"

#include <unistd.h>

namespace tunctl {

static void FinalizeState(napi_env, void* data, void*) {
  EnvState* state = static_cast<EnvState*>(data);
  CloseAllFds(state);  // normally already done by the cleanup hook
  delete state;
}

static void OnCleanup(napi_async_cleanup_hook_handle handle, void* arg) {
  EnvState* state = static_cast<EnvState*>(arg);
  state->cleanupHook = handle;
  state->tearingDown = true;
  CloseAllPolls(state);  // first: uv_close takes the fds out of epoll
  CloseAllFds(state);
  MaybeFinishTeardown(state);
}

void MaybeFinishTeardown(EnvState* state) {
  if (!state->tearingDown || state->closing != 0 || !state->polls.empty() || state->cleanupHook == nullptr) return;
  napi_async_cleanup_hook_handle handle = state->cleanupHook;
  state->cleanupHook = nullptr;
  napi_remove_async_cleanup_hook(handle);
}

EnvState* InitEnvState(napi_env env) {
  if (EnvState* existing = GetEnvState(env)) return existing;
  EnvState* state = new EnvState();
  state->env = env;
  if (napi_set_instance_data(env, state, FinalizeState, nullptr) != napi_ok) {
    delete state;
    throw Napi::Error::New(Napi::Env(env), "tunctl: napi_set_instance_data failed");
  }
  if (napi_add_async_cleanup_hook(env, OnCleanup, state, &state->cleanupHook) != napi_ok)
    throw Napi::Error::New(Napi::Env(env), "tunctl: napi_add_async_cleanup_hook failed");
  return state;
}

EnvState* GetEnvState(napi_env env) {
  void* data = nullptr;
  if (napi_get_instance_data(env, &data) != napi_ok) return nullptr;
  return static_cast<EnvState*>(data);
}

}  // namespace tunctl
