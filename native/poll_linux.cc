// Readiness of an fd on the environment's own libuv loop (never uv_default_loop()).
// A handle stays ref'd: the environment is kept alive while it polls. Each handle
// holds a strong reference to its callback until its close callback has run; at
// environment teardown every handle is closed by the async cleanup hook (env_state.cc).
#include <napi.h>
#include <uv.h>

#include <poll.h>
#include <sys/epoll.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <cstdint>

#include "env_state.h"
#include "errno_error.h"

namespace tunctl {

struct PollHandle {
  uv_poll_t uv;
  EnvState* state = nullptr;
  napi_ref callback = nullptr;
  napi_async_context async = nullptr;
  bool closing = false;
};

static int ToUvEvents(int32_t events) {
  int uv = 0;
  if (events & POLLIN) uv |= UV_READABLE;
  if (events & POLLOUT) uv |= UV_WRITABLE;
  return uv;
}

static int32_t ToPollEvents(int uv) {
  int32_t events = 0;
  if (uv & UV_READABLE) events |= POLLIN;
  if (uv & UV_WRITABLE) events |= POLLOUT;
  if (uv & UV_DISCONNECT) events |= POLLHUP;
  if (uv & UV_PRIORITIZED) events |= POLLPRI;
  return events;
}

static void OnClose(uv_handle_t* handle) {
  PollHandle* p = static_cast<PollHandle*>(handle->data);
  EnvState* state = p->state;
  napi_env env = state->env;
  // Deleting the async context reports an async_hooks destroy, which needs a scope
  // (during teardown Node runs this under a SealHandleScope).
  napi_handle_scope scope = nullptr;
  napi_open_handle_scope(env, &scope);
  if (p->callback != nullptr) napi_delete_reference(env, p->callback);
  if (p->async != nullptr) napi_async_destroy(env, p->async);
  if (scope != nullptr) napi_close_handle_scope(env, scope);
  delete p;
  state->closing--;
  MaybeFinishTeardown(state);
}

static void Close(EnvState* state, PollHandle* p) {
  p->closing = true;
  state->closing++;
  uv_close(reinterpret_cast<uv_handle_t*>(&p->uv), OnClose);
}

void CloseAllPolls(EnvState* state) {
  for (auto& entry : state->polls) Close(state, entry.second);
  state->polls.clear();
}

// An exception thrown by the callback becomes an uncaught exception of this
// environment. When the environment is stopping (worker terminate()), Node refuses to
// call into JS, and a termination surfaces here as null: nothing is reported then.
static void ReportUncaught(napi_env env) {
  napi_value error;
  if (napi_get_and_clear_last_exception(env, &error) != napi_ok || error == nullptr) return;
  napi_valuetype type;
  if (napi_typeof(env, error, &type) != napi_ok || type == napi_null) return;
  napi_fatal_exception(env, error);
}

static void OnPoll(uv_poll_t* handle, int status, int events) {
  PollHandle* p = static_cast<PollHandle*>(handle->data);
  if (p->closing || p->state->tearingDown) return;
  napi_env env = p->state->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value fn = nullptr, recv, argv[2], result;
  if (napi_get_reference_value(env, p->callback, &fn) == napi_ok && fn != nullptr &&
      napi_get_global(env, &recv) == napi_ok && napi_create_int32(env, status, &argv[0]) == napi_ok &&
      napi_create_int32(env, ToPollEvents(events), &argv[1]) == napi_ok) {
    // napi_make_callback (not napi_call_function): runs the tick and microtask queues
    // after the callback, as for any other I/O callback. Its receiver must be an object.
    if (napi_make_callback(env, p->async, recv, fn, 2, argv, &result) == napi_pending_exception) ReportUncaught(env);
  }
  napi_close_handle_scope(env, scope);
}

static Napi::Value PollStart(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgInt32(info, 0, "fd");
  int32_t events = ArgInt32(info, 1, "events");
  if (!info[2].IsFunction()) throw Napi::TypeError::New(env, "callback must be a function");
  EnvState* state = GetEnvState(env);
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr)
    throw Napi::Error::New(env, "tunctl: no event loop");

  PollHandle* p = new PollHandle();
  p->uv.data = p;
  p->state = state;
  int rc = uv_poll_init(loop, &p->uv, fd);  // not _socket: a tun fd is a character device
  if (rc < 0) {
    delete p;  // not initialised: nothing to close
    throw ErrnoError(env, -rc, "uv_poll_init");
  }
  napi_value name;
  if (napi_create_reference(env, info[2], 1, &p->callback) != napi_ok ||
      napi_create_string_utf8(env, "tunctl:poll", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_async_init(env, Napi::Object::New(env), name, &p->async) != napi_ok) {
    Close(state, p);
    throw Napi::Error::New(env, "tunctl: could not set up the poll callback");
  }
  rc = uv_poll_start(&p->uv, ToUvEvents(events), OnPoll);
  if (rc < 0) {
    Close(state, p);
    throw ErrnoError(env, -rc, "uv_poll_start");
  }
  uint32_t id = state->nextPollId;
  while (id == 0 || state->polls.count(id) != 0) id++;
  state->nextPollId = id + 1;
  state->polls[id] = p;
  return Napi::Number::New(env, id);
}

static PollHandle* Find(EnvState* state, uint32_t id) {
  auto it = state->polls.find(id);
  return it == state->polls.end() ? nullptr : it->second;
}

static Napi::Value PollUpdate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t id = ArgUint32(info, 0, "id");
  int32_t events = ArgInt32(info, 1, "events");
  PollHandle* p = Find(GetEnvState(env), id);
  if (p == nullptr) return env.Undefined();
  int uvEvents = ToUvEvents(events);
  int rc = uvEvents == 0 ? uv_poll_stop(&p->uv) : uv_poll_start(&p->uv, uvEvents, OnPoll);
  if (rc < 0) throw ErrnoError(env, -rc, uvEvents == 0 ? "uv_poll_stop" : "uv_poll_start");
  return env.Undefined();
}

static Napi::Value PollStop(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t id = ArgUint32(info, 0, "id");
  EnvState* state = GetEnvState(env);
  PollHandle* p = Find(state, id);
  if (p == nullptr) return env.Undefined();
  state->polls.erase(id);
  Close(state, p);
  return env.Undefined();
}

// How many fds and poll handles this environment still holds (including polls whose close
// is pending): 0 means a worker may be reused without carrying anything over.
static Napi::Value OpenHandles(const Napi::CallbackInfo& info) {
  EnvState* state = GetEnvState(info.Env());
  size_t n = state == nullptr ? 0 : state->fds.size() + state->polls.size() + state->closing;
  return Napi::Number::New(info.Env(), static_cast<double>(n));
}

// An epoll instance of this environment's own (tracked: closed at teardown). It lets one
// thread watch an fd another thread owns: a registration follows the open file, not the
// number, so it disappears when the owner closes the fd, and a number the kernel reuses
// afterwards is never watched by mistake.
static Napi::Value EpollCreate(const Napi::CallbackInfo& info) {
  int ep = ::epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) throw ErrnoError(info.Env(), errno, "epoll_create1");
  GetEnvState(info.Env())->fds.insert(ep);
  return Napi::Number::New(info.Env(), ep);
}

// epoll_ctl(ep, EPOLL_CTL_ADD, fd, { events }) with poll(2) bits (POLLIN is EPOLLIN).
static Napi::Value EpollAdd(const Napi::CallbackInfo& info) {
  int ep = ArgInt32(info, 0, "ep");
  int fd = ArgInt32(info, 1, "fd");
  uint32_t events = ArgUint32(info, 2, "events");
  struct epoll_event ev {};
  ev.events = events & (EPOLLIN | EPOLLOUT);
  ev.data.fd = fd;
  if (::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) throw ErrnoError(info.Env(), errno, "epoll_ctl(EPOLL_CTL_ADD)");
  return info.Env().Undefined();
}

// malloc_trim(0) on a libuv pool thread: a Promise of whether memory went back to the system
// (always false on C libraries other than glibc). It takes 8-14 ms, so never on the JS thread.
class TrimWork : public Napi::AsyncWorker {
 public:
  explicit TrimWork(Napi::Env env) : Napi::AsyncWorker(env, "tunctl.mallocTrim"), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }
  void Execute() override {
#if defined(__GLIBC__)
    released_ = malloc_trim(0) != 0;
#endif
  }
  void OnOK() override { deferred_.Resolve(Napi::Boolean::New(Env(), released_)); }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  bool released_ = false;
};

static Napi::Value MallocTrim(const Napi::CallbackInfo& info) {
  auto* work = new TrimWork(info.Env());  // deletes itself once OnOK has run
  Napi::Promise p = work->Promise();
  work->Queue();
  return p;
}

void RegisterPoll(Napi::Env env, Napi::Object exports) {
  exports.Set("epollCreate", Napi::Function::New(env, EpollCreate, "epollCreate"));
  exports.Set("epollAdd", Napi::Function::New(env, EpollAdd, "epollAdd"));
  exports.Set("mallocTrim", Napi::Function::New(env, MallocTrim, "mallocTrim"));
  exports.Set("openHandles", Napi::Function::New(env, OpenHandles, "openHandles"));
  exports.Set("pollStart", Napi::Function::New(env, PollStart, "pollStart"));
  exports.Set("pollUpdate", Napi::Function::New(env, PollUpdate, "pollUpdate"));
  exports.Set("pollStop", Napi::Function::New(env, PollStop, "pollStop"));
}

}  // namespace tunctl
