// Errors thrown to JavaScript: failed syscalls (Error with errno and syscall),
// and argument checks that keep the C++ side memory-safe (TypeError, RangeError).
#pragma once

#include <napi.h>

#include <errno.h>
#include <sys/types.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

namespace tunctl {

// Error("<syscall>: <strerror>") with own properties errno (positive), syscall and code.
inline Napi::Error ErrnoError(Napi::Env env, int err, const std::string& syscall) {
  char buf[256];
  const char* text = strerror_r(err, buf, sizeof buf);  // GNU variant: returns the text
  Napi::Error e = Napi::Error::New(env, syscall + ": " + text);
  e.Set("errno", Napi::Number::New(env, err));
  e.Set("syscall", Napi::String::New(env, syscall));
  if (const char* code = strerrorname_np(err)) e.Set("code", Napi::String::New(env, code));
  return e;
}

// "ioctl(NAME)" for a request number, from a name table; "ioctl(0x...)" when unknown.
struct IoctlName {
  unsigned long request;
  const char* name;
};

template <size_t N>
inline std::string IoctlSyscall(const IoctlName (&table)[N], unsigned long request) {
  for (const IoctlName& n : table) {
    if (n.request == request) return std::string("ioctl(") + n.name + ")";
  }
  char buf[32];
  snprintf(buf, sizeof buf, "ioctl(0x%lx)", request);
  return buf;
}

// ---- argument conversion: wrong JS types throw TypeError, never crash ----

inline int32_t ArgInt32(const Napi::CallbackInfo& info, size_t i, const char* what) {
  int32_t v;
  if (napi_get_value_int32(info.Env(), info[i], &v) != napi_ok)
    throw Napi::TypeError::New(info.Env(), std::string(what) + " must be a number");
  return v;
}

inline uint32_t ArgUint32(const Napi::CallbackInfo& info, size_t i, const char* what) {
  uint32_t v;
  if (napi_get_value_uint32(info.Env(), info[i], &v) != napi_ok)
    throw Napi::TypeError::New(info.Env(), std::string(what) + " must be a number");
  return v;
}

inline int64_t ArgInt64(const Napi::CallbackInfo& info, size_t i, const char* what) {
  int64_t v;
  if (napi_get_value_int64(info.Env(), info[i], &v) != napi_ok)
    throw Napi::TypeError::New(info.Env(), std::string(what) + " must be a number");
  return v;
}

inline std::string ArgString(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (!info[i].IsString()) throw Napi::TypeError::New(info.Env(), std::string(what) + " must be a string");
  return info[i].As<Napi::String>().Utf8Value();
}

// A typed array's bytes (a view of an ArrayBuffer or a SharedArrayBuffer).
struct Bytes {
  uint8_t* data;
  size_t length;  // in elements
};

inline Bytes ArgTyped(const Napi::CallbackInfo& info, size_t i, napi_typedarray_type want, const char* what,
                      const char* typeName) {
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  if (napi_get_typedarray_info(info.Env(), info[i], &type, &length, &data, nullptr, nullptr) != napi_ok ||
      type != want)
    throw Napi::TypeError::New(info.Env(), std::string(what) + " must be a " + typeName);
  return Bytes{static_cast<uint8_t*>(data), length};
}

inline Bytes ArgBytes(const Napi::CallbackInfo& info, size_t i, const char* what) {
  return ArgTyped(info, i, napi_uint8_array, what, "Uint8Array");
}

// A Uint8Array of exactly n bytes.
inline uint8_t* ArgBytesN(const Napi::CallbackInfo& info, size_t i, size_t n, const char* what) {
  Bytes b = ArgBytes(info, i, what);
  if (b.length != n)
    throw Napi::RangeError::New(info.Env(), std::string(what) + " must hold " + std::to_string(n) + " bytes");
  return b.data;
}

// [offset, offset + length) must lie inside [0, size).
inline void CheckRange(Napi::Env env, int64_t offset, int64_t length, size_t size, const char* what) {
  if (offset < 0 || length < 0 || static_cast<uint64_t>(offset) > size ||
      static_cast<uint64_t>(length) > size - static_cast<uint64_t>(offset))
    throw Napi::RangeError::New(env, std::string(what) + " is outside the buffer");
}

// Arguments i, i + 1, i + 2 as (buf: Uint8Array, offset, length), checked to lie inside buf:
// the bytes they name.
inline Bytes ArgRange(const Napi::CallbackInfo& info, size_t i) {
  Bytes buf = ArgBytes(info, i, "buf");
  int64_t offset = ArgInt64(info, i + 1, "offset");
  int64_t length = ArgInt64(info, i + 2, "length");
  CheckRange(info.Env(), offset, length, buf.length, "[offset, offset + length)");
  return Bytes{buf.data + offset, static_cast<size_t>(length)};
}

// What a non-blocking I/O call returns to JavaScript: the byte count, -1 for EAGAIN, or
// (any other error, errno still set: nothing may allocate in between) a thrown ErrnoError.
inline Napi::Value IoResult(Napi::Env env, ssize_t n, const char* syscall) {
  int err = errno;
  if (n >= 0) return Napi::Number::New(env, static_cast<double>(n));
  if (err == EAGAIN || err == EWOULDBLOCK) return Napi::Number::New(env, -1);
  throw ErrnoError(env, err, syscall);
}

}  // namespace tunctl
