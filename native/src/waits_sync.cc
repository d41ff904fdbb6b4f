// Blocking waits. Both block the calling thread (use them in workers and mules,
// never on the master's main thread). Long waits run in slices of kSliceNs so a
// worker.terminate() (harakiri) takes effect within one slice.
//
// waitMilliseconds ends with a short spin: the timerfd is armed `margin` before
// the deadline and the rest is a busy wait on CLOCK_MONOTONIC. A timerfd read
// wakes tens of µs late (more on a busy or virtualized machine: 0.2 ms at p99
// measured on a 2-vCPU VM); the spin takes that tail out. The margin follows the
// lateness actually seen on this thread (a decaying high-water mark, plus 20%),
// capped by the optional second argument spinCapUs (0..100000, default 300; 0 turns
// the spin off; the JS layer passes UWSGI_TS_WAIT_SPIN_US), so a quiet machine
// spins a few µs per wait and a noisy one at most the cap.
#include <poll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>

#include "args.h"
#include "env_state.h"
#include "errno_error.h"
#include "waits.h"

namespace uwsgi_native {

namespace {

timespec NsToTimespec(long long ns) {
  timespec ts;
  ts.tv_sec = static_cast<time_t>(ns / 1000000000LL);
  ts.tv_nsec = static_cast<long>(ns % 1000000000LL);
  return ts;
}

constexpr int kDefaultSpinCapUs = 300;

inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

}  // namespace

Napi::Value WaitMilliseconds(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  double ms;
  if (!ArgMs(info, 0, "waitMilliseconds", "ms", &ms)) return env.Undefined();
  int capUs = kDefaultSpinCapUs;
  if (info.Length() > 1 && !info[1].IsUndefined() &&
      !ArgInt(info, 1, "waitMilliseconds", "spinCapUs", 0, 100000, &capUs))
    return env.Undefined();
  if (ms <= 0) return env.Undefined();

  EnvState* st = GetEnvState(env);
  if (st->syncTimerFd < 0) {
    st->syncTimerFd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
    if (st->syncTimerFd < 0) return ThrowErrno(env, "waitMilliseconds", "timerfd_create", errno);
  }
  const long long deadline = MonotonicNs() + MsToNs(ms);
  const long long cap = static_cast<long long>(capUs) * 1000;
  // Wake `margin` early and spin the rest (see the top of this file).
  const long long margin = std::min(cap, st->lateHighNs + st->lateHighNs / 5);
  const long long wakeAt = deadline - margin;
  for (;;) {
    long long now = MonotonicNs();
    if (now >= wakeAt) break;
    long long sliceEnd = std::min(wakeAt, now + kSliceNs);
    itimerspec its{};
    its.it_value = NsToTimespec(sliceEnd);
    if (timerfd_settime(st->syncTimerFd, TFD_TIMER_ABSTIME, &its, nullptr) < 0)
      return ThrowErrno(env, "waitMilliseconds", "timerfd_settime", errno);
    uint64_t expirations;
    ssize_t n;
    do {
      n = read(st->syncTimerFd, &expirations, sizeof expirations);
    } while (n < 0 && errno == EINTR);
    if (n < 0) return ThrowErrno(env, "waitMilliseconds", "read(timerfd)", errno);
    if (sliceEnd >= wakeAt) {
      if (cap > 0) {
        // How late the timerfd woke us: the high-water mark rises at once and decays by 1/16 per wait.
        long long late = MonotonicNs() - sliceEnd;
        st->lateHighNs = std::max(late, st->lateHighNs - st->lateHighNs / 16);
      }
      break;
    }
    if (!StillRunning(env)) return env.Undefined();
  }
  while (MonotonicNs() < deadline) CpuRelax();
  return env.Undefined();
}

Napi::Value Read2(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fdA;
  int fdB;
  double timeoutMs;
  if (!ArgFd(info, 0, "read2", "fdA", &fdA)) return env.Undefined();
  if (!ArgFd(info, 1, "read2", "fdB", &fdB)) return env.Undefined();
  if (!ArgMs(info, 2, "read2", "timeoutMs", &timeoutMs)) return env.Undefined();

  pollfd pfds[2] = {{fdA, POLLIN, 0}, {fdB, POLLIN, 0}};
  const nfds_t nfds = fdA == fdB ? 1 : 2;
  const long long deadline = MonotonicNs() + MsToNs(timeoutMs);
  for (;;) {
    long long left = std::max(0LL, deadline - MonotonicNs());
    long long slice = std::min(left, kSliceNs);
    timespec ts = NsToTimespec(slice);
    int rc = ppoll(pfds, nfds, &ts, nullptr);
    if (rc < 0) {
      if (errno == EINTR) continue;
      return ThrowErrno(env, "read2", "ppoll", errno);
    }
    for (nfds_t i = 0; i < nfds; i++) {
      if (pfds[i].revents & POLLNVAL)
        return ThrowErrno(env, "read2", "ppoll", EBADF, "on fd " + std::to_string(pfds[i].fd));
    }
    // Hang-up and error count as readable: a read() would return at once.
    for (nfds_t i = 0; i < nfds; i++) {
      if (pfds[i].revents & (POLLIN | POLLHUP | POLLERR)) return Napi::Number::New(env, pfds[i].fd);
    }
    if (slice >= left) return Napi::Number::New(env, -1);
    if (!StillRunning(env)) return env.Undefined();
  }
}

}  // namespace uwsgi_native
