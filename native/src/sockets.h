// File-descriptor and listening-socket helpers: dup, close, listenTcp, listenUnix.
#pragma once

#include <napi.h>

namespace uwsgi_native {

Napi::Value Dup(const Napi::CallbackInfo& info);         // dup(fd) -> fd (FD_CLOEXEC)
Napi::Value Close(const Napi::CallbackInfo& info);       // close(fd)
Napi::Value ListenTcp(const Napi::CallbackInfo& info);   // listenTcp(host, port, backlog) -> { fd, port }
Napi::Value ListenUnix(const Napi::CallbackInfo& info);  // listenUnix(path, backlog) -> fd

}  // namespace uwsgi_native
