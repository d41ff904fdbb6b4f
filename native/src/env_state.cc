#include "env_state.h"

#include <time.h>
#include <unistd.h>

namespace uwsgi_native {

EnvState::~EnvState() {
  if (syncTimerFd >= 0) close(syncTimerFd);
  // `probe` is released by its own destructor (the env is still valid while
  // instance data is finalized).
}

void InstallEnvState(Napi::Env env) {
  env.SetInstanceData<EnvState>(new EnvState());
}

EnvState* GetEnvState(Napi::Env env) { return env.GetInstanceData<EnvState>(); }

bool StillRunning(Napi::Env env) {
  EnvState* st = GetEnvState(env);
  Napi::HandleScope scope(env);
  if (st->probe.IsEmpty()) {
    // A JS (not native) function: entering JS bytecode runs V8's stack check,
    // which is where a termination request from another thread is delivered.
    napi_value script;
    napi_value fn;
    if (napi_create_string_utf8(env, "(function uwsgiNativeProbe() {})", NAPI_AUTO_LENGTH, &script) != napi_ok)
      return false;
    if (napi_run_script(env, script, &fn) != napi_ok) return false;
    st->probe = Napi::Persistent(Napi::Function(env, fn));
  }
  napi_value recv;
  napi_value result;
  napi_get_undefined(env, &recv);
  return napi_call_function(env, recv, st->probe.Value(), 0, nullptr, &result) == napi_ok;
}

long long MonotonicNs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<long long>(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
}

}  // namespace uwsgi_native
