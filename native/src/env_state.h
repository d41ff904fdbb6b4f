// Per-environment state (one per thread that loads the addon), kept as N-API
// instance data: the addon holds no process-global mutable state, so the main
// thread and any number of worker threads can load it at once.
#pragma once

#include <napi.h>

namespace uwsgi_native {

struct EnvState {
  int syncTimerFd = -1;           // blocking timerfd reused by waitMilliseconds on this thread
  // waitMilliseconds' spin tail (see waits_sync.cc): the timerfd lateness high-water
  // mark it adapts to, in ns.
  long long lateHighNs = 0;
  Napi::FunctionReference probe;  // tiny JS function called between wait slices (empty if it cannot be compiled)

  ~EnvState();
};

// Installs the state for this env (called once from module init).
void InstallEnvState(Napi::Env env);

// The state of this env (never null after InstallEnvState).
EnvState* GetEnvState(Napi::Env env);

// Long blocking waits run in slices of this length; between slices the thread
// checks whether it is being terminated (worker.terminate(), harakiri).
constexpr long long kSliceNs = 100LL * 1000 * 1000;

// Calls into JS once so a pending termination of this thread takes effect.
// Returns false when the thread is terminating or an exception is pending: the
// caller must return to JS at once. Always true when the probe is missing.
bool StillRunning(Napi::Env env);

// CLOCK_MONOTONIC now, in nanoseconds.
long long MonotonicNs();

}  // namespace uwsgi_native
