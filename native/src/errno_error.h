// Building JS errors for failed system calls and bad arguments.
//
// Every error names the JS-visible call ("listenTcp") and, for system calls, the
// syscall, the errno name and its text. Errors carry `errno` (number), `code`
// (errno name, e.g. "EADDRINUSE") and `syscall` properties; the TS layer
// (src/shared/native.ts) wraps them in UwsgiError('UWSGI_ERR_NATIVE', ...).
#pragma once

#include <napi.h>

#include <string>

namespace uwsgi_native {

// Name of an errno value ("EBADF"), or "E<number>" when unknown.
std::string ErrnoName(int err);

// Human text for an errno value, thread-safe.
std::string ErrnoText(int err);

// Build (not throw) an Error for a failed syscall: "<call>: <syscall> failed: <NAME> (<text>)<detail>".
Napi::Error ErrnoError(Napi::Env env, const char* call, const char* syscall, int err,
                       const std::string& detail = std::string());

// Throw the errno error as a pending JS exception and return undefined.
Napi::Value ThrowErrno(Napi::Env env, const char* call, const char* syscall, int err,
                       const std::string& detail = std::string());

// Throw a TypeError "<call>: <what>" and return undefined.
Napi::Value ThrowArg(Napi::Env env, const char* call, const std::string& what);

}  // namespace uwsgi_native
