// uwsgi_native: the N-API addon behind src/shared/native.ts.
//
// Context-aware: loaded by the main thread and by worker threads at once. All
// mutable state lives in per-environment instance data (env_state.h).
#include <napi.h>

#include "env_state.h"
#include "sockets.h"
#include "waits.h"

namespace uwsgi_native {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  InstallEnvState(env);
  exports.Set("dup", Napi::Function::New(env, Dup, "dup"));
  exports.Set("close", Napi::Function::New(env, Close, "close"));
  exports.Set("listenTcp", Napi::Function::New(env, ListenTcp, "listenTcp"));
  exports.Set("listenUnix", Napi::Function::New(env, ListenUnix, "listenUnix"));
  exports.Set("waitMilliseconds", Napi::Function::New(env, WaitMilliseconds, "waitMilliseconds"));
  exports.Set("waitMillisecondsAsync", Napi::Function::New(env, WaitMillisecondsAsync, "waitMillisecondsAsync"));
  exports.Set("read2", Napi::Function::New(env, Read2, "read2"));
  exports.Set("read2Async", Napi::Function::New(env, Read2Async, "read2Async"));
  return exports;
}

}  // namespace uwsgi_native

namespace {
Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return uwsgi_native::Init(env, exports); }
}  // namespace

NODE_API_MODULE(uwsgi_native, InitModule)
