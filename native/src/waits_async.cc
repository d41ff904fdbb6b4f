// Promise-based waits that never block the event loop.
//
// Each pending call owns one fd watched by a libuv uv_poll_t on the calling
// thread's loop: a timerfd (waitMillisecondsAsync), or an epoll fd holding the two
// user fds plus a timerfd (read2Async). The poll handle is ref'd, so a pending
// wait keeps the loop alive, as a timer would. No threadpool thread is used.
//
// The user's fds are only added to a private epoll set: their flags are left
// alone (uv_poll_init would set O_NONBLOCK on them) and it does not matter if a
// Node handle on this thread already watches them.
//
// Teardown: every pending call registers an async cleanup hook. When the thread's
// environment is torn down (worker.terminate(), process exit) the hook closes the
// handle without touching JS; the promise is then never settled.
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <poll.h>
#include <unistd.h>
#include <uv.h>

#include <cerrno>
#include <cstdint>

#include "args.h"
#include "errno_error.h"
#include "waits.h"

namespace uwsgi_native {

namespace {

enum Tag : uint32_t { kTagA = 0, kTagB = 1, kTagTimer = 2 };

struct AsyncOp {
  napi_env env = nullptr;
  napi_deferred deferred = nullptr;
  napi_async_context asyncContext = nullptr;
  napi_async_cleanup_hook_handle hook = nullptr;  // set while the op is pending
  napi_async_cleanup_hook_handle teardown = nullptr;  // set when teardown closed the op
  uv_poll_t poll;
  bool isRead2 = false;
  bool closing = false;
  int watchFd = -1;  // the fd libuv watches: timerfd or epoll fd
  int timerFd = -1;  // read2: the timerfd inside the epoll set
  int fdA = -1;
  int fdB = -1;
  const char* call = "";

  ~AsyncOp() {
    if (timerFd >= 0 && timerFd != watchFd) close(timerFd);
    if (watchFd >= 0) close(watchFd);
  }
};

void OnClosed(uv_handle_t* handle) {
  AsyncOp* op = static_cast<AsyncOp*>(handle->data);
  // Teardown path: tell Node this op has finished closing.
  if (op->teardown != nullptr) napi_remove_async_cleanup_hook(op->teardown);
  delete op;
}

void OnTeardown(napi_async_cleanup_hook_handle handle, void* arg) {
  AsyncOp* op = static_cast<AsyncOp*>(arg);
  op->hook = nullptr;
  op->teardown = handle;
  op->closing = true;
  uv_close(reinterpret_cast<uv_handle_t*>(&op->poll), OnClosed);
}

// Settles the promise and closes the op. `errnoValue` != 0 rejects; otherwise
// resolves with `fdResult` (read2) or undefined (wait).
void Settle(AsyncOp* op, int fdResult, int errnoValue) {
  op->closing = true;
  if (op->hook != nullptr) {
    napi_remove_async_cleanup_hook(op->hook);
    op->hook = nullptr;
  }
  // The op stays allocated until OnClosed runs on a later loop turn.
  uv_close(reinterpret_cast<uv_handle_t*>(&op->poll), OnClosed);

  napi_env env = op->env;
  napi_handle_scope handleScope;
  // If the environment is stopping these calls fail; the promise is then
  // unobservable, so there is nothing to report to.
  if (napi_open_handle_scope(env, &handleScope) != napi_ok) return;
  napi_value resource;
  napi_callback_scope callbackScope;
  bool inScope = napi_create_object(env, &resource) == napi_ok &&
                 napi_open_callback_scope(env, resource, op->asyncContext, &callbackScope) == napi_ok;
  napi_value value;
  if (errnoValue != 0) {
    value = ErrnoError(Napi::Env(env), op->call, "uv_poll", errnoValue).Value();
    napi_reject_deferred(env, op->deferred, value);
  } else {
    if (op->isRead2) napi_create_int32(env, fdResult, &value);
    else napi_get_undefined(env, &value);
    napi_resolve_deferred(env, op->deferred, value);
  }
  // Closing the callback scope runs the microtasks (the promise reactions).
  if (inScope) napi_close_callback_scope(env, callbackScope);
  napi_close_handle_scope(env, handleScope);
  napi_async_destroy(env, op->asyncContext);
  op->asyncContext = nullptr;
}

void OnPoll(uv_poll_t* handle, int status, int events) {
  AsyncOp* op = static_cast<AsyncOp*>(handle->data);
  if (op->closing) return;
  if (status < 0) {
    Settle(op, -1, -status);
    return;
  }
  if (!op->isRead2) {
    uint64_t expirations;
    if (read(op->watchFd, &expirations, sizeof expirations) < 0) return;  // EAGAIN: not yet expired
    Settle(op, -1, 0);
    return;
  }
  epoll_event evs[3];
  int n = epoll_wait(op->watchFd, evs, 3, 0);
  if (n <= 0) return;  // nothing ready after all (or EINTR): keep waiting
  bool a = false;
  bool b = false;
  bool timer = false;
  for (int i = 0; i < n; i++) {
    if (evs[i].data.u32 == kTagA) a = true;
    else if (evs[i].data.u32 == kTagB) b = true;
    else timer = true;
  }
  if (a) Settle(op, op->fdA, 0);
  else if (b) Settle(op, op->fdB, 0);
  else if (timer) Settle(op, -1, 0);
}

// Arms a relative one-shot timer; returns false with errno set on failure.
bool ArmTimer(int tfd, double ms) {
  long long ns = MsToNs(ms);
  itimerspec its{};
  its.it_value.tv_sec = static_cast<time_t>(ns / 1000000000LL);
  its.it_value.tv_nsec = static_cast<long>(ns % 1000000000LL);
  return timerfd_settime(tfd, 0, &its, nullptr) == 0;
}

// Starts watching op->watchFd on this thread's loop. On failure throws, frees the
// op (closing its fds) and returns false.
bool Start(Napi::Env env, AsyncOp* op) {
  uv_loop_t* loop = nullptr;
  const char* call = op->call;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) {
    delete op;
    ThrowErrno(env, call, "napi_get_uv_event_loop", EINVAL);
    return false;
  }
  int rc = uv_poll_init(loop, &op->poll, op->watchFd);
  if (rc < 0) {
    delete op;
    ThrowErrno(env, call, "uv_poll_init", -rc);
    return false;
  }
  op->poll.data = op;
  rc = uv_poll_start(&op->poll, UV_READABLE, OnPoll);
  napi_value name;
  if (rc == 0 && (napi_create_string_utf8(env, op->call, NAPI_AUTO_LENGTH, &name) != napi_ok ||
                  napi_async_init(env, nullptr, name, &op->asyncContext) != napi_ok ||
                  napi_add_async_cleanup_hook(env, OnTeardown, op, &op->hook) != napi_ok)) {
    rc = -EINVAL;
  }
  if (rc < 0) {
    op->closing = true;
    if (op->asyncContext != nullptr) napi_async_destroy(env, op->asyncContext);
    uv_close(reinterpret_cast<uv_handle_t*>(&op->poll), OnClosed);
    ThrowErrno(env, call, "uv_poll_start", -rc);
    return false;
  }
  return true;
}

Napi::Value Resolved(Napi::Env env, napi_value value) {
  napi_deferred deferred;
  napi_value promise;
  napi_create_promise(env, &deferred, &promise);
  napi_resolve_deferred(env, deferred, value);
  return Napi::Value(env, promise);
}

}  // namespace

Napi::Value WaitMillisecondsAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  double ms;
  if (!ArgMs(info, 0, "waitMillisecondsAsync", "ms", &ms)) return env.Undefined();
  if (ms <= 0) return Resolved(env, env.Undefined());

  int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (tfd < 0) return ThrowErrno(env, "waitMillisecondsAsync", "timerfd_create", errno);
  if (!ArmTimer(tfd, ms)) {
    int e = errno;
    close(tfd);
    return ThrowErrno(env, "waitMillisecondsAsync", "timerfd_settime", e);
  }
  AsyncOp* op = new AsyncOp();
  op->env = env;
  op->call = "waitMillisecondsAsync";
  op->watchFd = tfd;
  napi_value promise;
  if (napi_create_promise(env, &op->deferred, &promise) != napi_ok) {
    delete op;
    return env.Undefined();  // exception pending
  }
  if (!Start(env, op)) return env.Undefined();
  return Napi::Value(env, promise);
}

Napi::Value Read2Async(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fdA;
  int fdB;
  double timeoutMs;
  if (!ArgFd(info, 0, "read2Async", "fdA", &fdA)) return env.Undefined();
  if (!ArgFd(info, 1, "read2Async", "fdB", &fdB)) return env.Undefined();
  if (!ArgMs(info, 2, "read2Async", "timeoutMs", &timeoutMs)) return env.Undefined();

  // Fast path: already readable (this also covers regular files, which epoll refuses).
  pollfd pfds[2] = {{fdA, POLLIN, 0}, {fdB, POLLIN, 0}};
  const nfds_t nfds = fdA == fdB ? 1 : 2;
  int rc;
  do {
    timespec zero{0, 0};
    rc = ppoll(pfds, nfds, &zero, nullptr);
  } while (rc < 0 && errno == EINTR);
  if (rc < 0) return ThrowErrno(env, "read2Async", "ppoll", errno);
  for (nfds_t i = 0; i < nfds; i++) {
    if (pfds[i].revents & POLLNVAL)
      return ThrowErrno(env, "read2Async", "ppoll", EBADF, "on fd " + std::to_string(pfds[i].fd));
  }
  for (nfds_t i = 0; i < nfds; i++) {
    if (pfds[i].revents & (POLLIN | POLLHUP | POLLERR)) return Resolved(env, Napi::Number::New(env, pfds[i].fd));
  }
  if (timeoutMs <= 0) return Resolved(env, Napi::Number::New(env, -1));

  AsyncOp* op = new AsyncOp();
  op->env = env;
  op->call = "read2Async";
  op->isRead2 = true;
  op->fdA = fdA;
  op->fdB = fdB;
  op->watchFd = epoll_create1(EPOLL_CLOEXEC);
  if (op->watchFd < 0) {
    int e = errno;
    delete op;
    return ThrowErrno(env, "read2Async", "epoll_create1", e);
  }
  struct Member {
    int fd;
    Tag tag;
  };
  Member members[2] = {{fdA, kTagA}, {fdB, kTagB}};
  for (nfds_t i = 0; i < nfds; i++) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u32 = members[i].tag;
    if (epoll_ctl(op->watchFd, EPOLL_CTL_ADD, members[i].fd, &ev) < 0) {
      int e = errno;
      int fd = members[i].fd;
      delete op;
      return ThrowErrno(env, "read2Async", "epoll_ctl", e, "on fd " + std::to_string(fd));
    }
  }
  op->timerFd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (op->timerFd < 0 || !ArmTimer(op->timerFd, timeoutMs)) {
    int e = errno;
    delete op;
    return ThrowErrno(env, "read2Async", "timerfd", e);
  }
  epoll_event tev{};
  tev.events = EPOLLIN;
  tev.data.u32 = kTagTimer;
  if (epoll_ctl(op->watchFd, EPOLL_CTL_ADD, op->timerFd, &tev) < 0) {
    int e = errno;
    delete op;
    return ThrowErrno(env, "read2Async", "epoll_ctl", e, "on its timerfd");
  }
  napi_value promise;
  if (napi_create_promise(env, &op->deferred, &promise) != napi_ok) {
    delete op;
    return env.Undefined();
  }
  if (!Start(env, op)) return env.Undefined();
  return Napi::Value(env, promise);
}

}  // namespace uwsgi_native
