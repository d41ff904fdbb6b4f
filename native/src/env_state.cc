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
  EnvState* st = new EnvState();
  env.SetInstanceData<EnvState>(st);
  // The probe is a JS (not native) function: entering JS bytecode runs V8's stack
  // check, which is where a termination request from another thread is delivered.
  // If it cannot be compiled (e.g. --disallow-code-generation-from-strings), long
  // waits still complete, but terminate() waits for them to end.
  napi_value script;
  napi_value fn;
  if (napi_create_string_utf8(env, "(function uwsgiNativeProbe() {})", NAPI_AUTO_LENGTH, &script) == napi_ok &&
      napi_run_script(env, script, &fn) == napi_ok) {
    st->probe = Napi::Persistent(Napi::Function(env, fn));
  } else {
    napi_value ignored;
    napi_get_and_clear_last_exception(env, &ignored);  // documented degradation, see above
  }
}

EnvState* GetEnvState(Napi::Env env) { return env.GetInstanceData<EnvState>(); }

bool StillRunning(Napi::Env env) {
  EnvState* st = GetEnvState(env);
  if (st->probe.IsEmpty()) return true;
  Napi::HandleScope scope(env);
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
