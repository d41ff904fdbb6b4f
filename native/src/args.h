// Argument checks shared by the exported functions. The TS layer validates first
// with coded errors; these checks keep the addon safe when called directly.
#pragma once

#include <napi.h>

#include <climits>
#include <cmath>
#include <string>

#include "errno_error.h"

namespace uwsgi_native {

// Largest wait or timeout accepted, in milliseconds (same cap as setTimeout).
constexpr double kMaxMs = 2147483647.0;

// Reads info[i] as an fd (integer 0..INT_MAX). On failure throws and returns false.
inline bool ArgFd(const Napi::CallbackInfo& info, size_t i, const char* call, const char* name, int* out) {
  Napi::Value v = info[i];
  if (v.IsNumber()) {
    double d = v.As<Napi::Number>().DoubleValue();
    if (std::isfinite(d) && d >= 0 && d <= INT_MAX && d == std::floor(d)) {
      *out = static_cast<int>(d);
      return true;
    }
  }
  ThrowArg(info.Env(), call, std::string(name) + " must be an integer file descriptor >= 0");
  return false;
}

// Reads info[i] as an integer in [lo, hi]. On failure throws and returns false.
inline bool ArgInt(const Napi::CallbackInfo& info, size_t i, const char* call, const char* name,
                   double lo, double hi, int* out) {
  Napi::Value v = info[i];
  if (v.IsNumber()) {
    double d = v.As<Napi::Number>().DoubleValue();
    if (std::isfinite(d) && d >= lo && d <= hi && d == std::floor(d)) {
      *out = static_cast<int>(d);
      return true;
    }
  }
  ThrowArg(info.Env(), call, std::string(name) + " must be an integer in [" + std::to_string(static_cast<long long>(lo)) +
                                 ", " + std::to_string(static_cast<long long>(hi)) + "]");
  return false;
}

// Reads info[i] as milliseconds (finite, 0..kMaxMs, fractions allowed). On failure throws and returns false.
inline bool ArgMs(const Napi::CallbackInfo& info, size_t i, const char* call, const char* name, double* out) {
  Napi::Value v = info[i];
  if (v.IsNumber()) {
    double d = v.As<Napi::Number>().DoubleValue();
    if (std::isfinite(d) && d >= 0 && d <= kMaxMs) {
      *out = d;
      return true;
    }
  }
  ThrowArg(info.Env(), call, std::string(name) + " must be a finite number of milliseconds in [0, 2147483647]");
  return false;
}

// Reads info[i] as a string. On failure throws and returns false.
inline bool ArgString(const Napi::CallbackInfo& info, size_t i, const char* call, const char* name, std::string* out) {
  Napi::Value v = info[i];
  if (v.IsString()) {
    *out = v.As<Napi::String>().Utf8Value();
    return true;
  }
  ThrowArg(info.Env(), call, std::string(name) + " must be a string");
  return false;
}

// Milliseconds to nanoseconds, rounded up so a wait is never shorter than asked.
inline long long MsToNs(double ms) { return static_cast<long long>(std::ceil(ms * 1e6)); }

}  // namespace uwsgi_native
