#include "errno_error.h"

#include <cerrno>
#include <cstring>
#include <type_traits>

namespace uwsgi_native {

std::string ErrnoName(int err) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
  const char* name = strerrorname_np(err);
  if (name != nullptr) return name;
#endif
  return "E" + std::to_string(err);
}

std::string ErrnoText(int err) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
  const char* text = strerrordesc_np(err);
  if (text != nullptr) return text;
  return "unknown error";
#else
  char buf[128];
  buf[0] = '\0';
  // XSI strerror_r returns int, GNU returns char*; handle both.
  auto r = strerror_r(err, buf, sizeof buf);
  if constexpr (std::is_same_v<decltype(r), char*>) return r;
  else return buf;
#endif
}

Napi::Error ErrnoError(Napi::Env env, const char* call, const char* syscall, int err,
                       const std::string& detail) {
  std::string name = ErrnoName(err);
  std::string msg = std::string(call) + ": " + syscall + " failed: " + name + " (" + ErrnoText(err) + ")";
  if (!detail.empty()) msg += " " + detail;
  Napi::Error e = Napi::Error::New(env, msg);
  e.Set("errno", Napi::Number::New(env, err));
  e.Set("code", Napi::String::New(env, name));
  e.Set("syscall", Napi::String::New(env, syscall));
  return e;
}

Napi::Value ThrowErrno(Napi::Env env, const char* call, const char* syscall, int err,
                       const std::string& detail) {
  ErrnoError(env, call, syscall, err, detail).ThrowAsJavaScriptException();
  return env.Undefined();
}

Napi::Value ThrowArg(Napi::Env env, const char* call, const std::string& what) {
  Napi::TypeError::New(env, std::string(call) + ": " + what).ThrowAsJavaScriptException();
  return env.Undefined();
}

}  // namespace uwsgi_native
