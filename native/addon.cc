// Module entry: per-environment state, then the exports. Nothing else happens here.
#include <napi.h>

#include "env_state.h"

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  tunctl::InitEnvState(env);
  tunctl::RegisterConstants(env, exports);
  tunctl::RegisterTun(env, exports);
  tunctl::RegisterNetif(env, exports);
  tunctl::RegisterPoll(env, exports);
  tunctl::RegisterUnix(env, exports);
  tunctl::RegisterNetlink(env, exports);
  tunctl::RegisterUdp(env, exports);
  return exports;
}

NODE_API_MODULE(tunctl, Init)
