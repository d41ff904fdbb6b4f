// Millisecond waits and two-fd readability waits, blocking and promise-based.
#pragma once

#include <napi.h>

namespace uwsgi_native {

Napi::Value WaitMilliseconds(const Napi::CallbackInfo& info);       // (ms, spinCapUs?) -> undefined, blocks on a timerfd
Napi::Value Read2(const Napi::CallbackInfo& info);                  // (fdA, fdB, timeoutMs) -> fd | -1, blocks
Napi::Value WaitMillisecondsAsync(const Napi::CallbackInfo& info);  // (ms) -> Promise<void>
Napi::Value Read2Async(const Napi::CallbackInfo& info);             // (fdA, fdB, timeoutMs) -> Promise<fd | -1>

}  // namespace uwsgi_native
