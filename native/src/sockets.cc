#include "sockets.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstddef>
#include <cstring>
#include <string>

#include "args.h"
#include "errno_error.h"

namespace uwsgi_native {

namespace {

// Creates a non-blocking, close-on-exec stream socket, binds and listens on it.
// On failure returns -1 with *failedSyscall and errno set, and leaves no fd open.
int BindListen(int family, const sockaddr* addr, socklen_t len, int backlog, bool reuseAddr,
               const char** failedSyscall) {
  int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *failedSyscall = "socket";
    return -1;
  }
  int one = 1;
  if (reuseAddr && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0) {
    *failedSyscall = "setsockopt(SO_REUSEADDR)";
  } else if (bind(fd, addr, len) < 0) {
    *failedSyscall = "bind";
  } else if (listen(fd, backlog) < 0) {
    *failedSyscall = "listen";
  } else {
    return fd;
  }
  int saved = errno;
  close(fd);
  errno = saved;
  return -1;
}

std::string Quote(const std::string& s) { return "\"" + s + "\""; }

}  // namespace

Napi::Value Dup(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  if (!ArgFd(info, 0, "dup", "fd", &fd)) return env.Undefined();
  int nfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (nfd < 0) return ThrowErrno(env, "dup", "fcntl(F_DUPFD_CLOEXEC)", errno, "on fd " + std::to_string(fd));
  return Napi::Number::New(env, nfd);
}

Napi::Value Close(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  if (!ArgFd(info, 0, "close", "fd", &fd)) return env.Undefined();
  // On Linux the fd is released even when close() reports EINTR: never retry.
  if (close(fd) < 0 && errno != EINTR) return ThrowErrno(env, "close", "close", errno, "on fd " + std::to_string(fd));
  return env.Undefined();
}

Napi::Value ListenTcp(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string host;
  int port;
  int backlog;
  if (!ArgString(info, 0, "listenTcp", "host", &host)) return env.Undefined();
  if (!ArgInt(info, 1, "listenTcp", "port", 0, 65535, &port)) return env.Undefined();
  if (!ArgInt(info, 2, "listenTcp", "backlog", 0, INT_MAX, &backlog)) return env.Undefined();

  std::string where = "on " + Quote(host) + " port " + std::to_string(port);
  int fd = -1;
  const char* failed = "socket";
  int err = 0;

  if (host.empty() || host == "0.0.0.0") {
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<uint16_t>(port));
    sa.sin_addr.s_addr = htonl(INADDR_ANY);
    fd = BindListen(AF_INET, reinterpret_cast<sockaddr*>(&sa), sizeof sa, backlog, true, &failed);
    err = errno;
  } else {
    std::string name = host;
    if (name.size() >= 2 && name.front() == '[' && name.back() == ']') name = name.substr(1, name.size() - 2);
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* res = nullptr;
    std::string portStr = std::to_string(port);
    int gai = getaddrinfo(name.c_str(), portStr.c_str(), &hints, &res);
    if (gai != 0) {
      int e = gai == EAI_SYSTEM ? errno : EINVAL;
      return ThrowErrno(env, "listenTcp", "getaddrinfo", e,
                        where + ": cannot resolve host (" + gai_strerror(gai) + ")");
    }
    for (addrinfo* ai = res; ai != nullptr && fd < 0; ai = ai->ai_next) {
      fd = BindListen(ai->ai_family, ai->ai_addr, ai->ai_addrlen, backlog, true, &failed);
      err = errno;
    }
    freeaddrinfo(res);
  }
  if (fd < 0) return ThrowErrno(env, "listenTcp", failed, err, where);

  sockaddr_storage bound{};
  socklen_t blen = sizeof bound;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &blen) < 0) {
    int e = errno;
    close(fd);
    return ThrowErrno(env, "listenTcp", "getsockname", e, where);
  }
  int boundPort = bound.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                                               : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  Napi::Object out = Napi::Object::New(env);
  out.Set("fd", Napi::Number::New(env, fd));
  out.Set("port", Napi::Number::New(env, boundPort));
  return out;
}

Napi::Value ListenUnix(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path;
  int backlog;
  if (!ArgString(info, 0, "listenUnix", "path", &path)) return env.Undefined();
  if (!ArgInt(info, 1, "listenUnix", "backlog", 0, INT_MAX, &backlog)) return env.Undefined();

  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  socklen_t len;
  bool abstract = !path.empty() && path[0] == '@';
  if (path.empty() || path == "@") return ThrowArg(env, "listenUnix", "path must not be empty");
  if (path.find('\0') != std::string::npos) return ThrowArg(env, "listenUnix", "path must not contain NUL bytes");
  if (abstract) {
    std::string name = path.substr(1);
    if (name.size() > sizeof(sa.sun_path) - 1)
      return ThrowErrno(env, "listenUnix", "bind", ENAMETOOLONG, "on " + Quote(path));
    sa.sun_path[0] = '\0';
    memcpy(sa.sun_path + 1, name.data(), name.size());
    len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
  } else {
    if (path.size() > sizeof(sa.sun_path) - 1)
      return ThrowErrno(env, "listenUnix", "bind", ENAMETOOLONG, "on " + Quote(path));
    memcpy(sa.sun_path, path.data(), path.size());
    len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1);

    // Remove a stale socket file: only a socket, and only when nobody listens on it.
    struct stat st;
    if (lstat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) {
      int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (probe < 0) return ThrowErrno(env, "listenUnix", "socket", errno, "probing " + Quote(path));
      int rc = connect(probe, reinterpret_cast<sockaddr*>(&sa), len);
      int cerr = errno;
      close(probe);
      if (rc == 0 || cerr == EAGAIN || cerr == EINPROGRESS)
        return ThrowErrno(env, "listenUnix", "bind", EADDRINUSE, "on " + Quote(path) + ": a server is listening on it");
      if (cerr == ECONNREFUSED && unlink(path.c_str()) < 0 && errno != ENOENT)
        return ThrowErrno(env, "listenUnix", "unlink", errno, "removing stale socket " + Quote(path));
    }
  }
  const char* failed = "socket";
  int fd = BindListen(AF_UNIX, reinterpret_cast<sockaddr*>(&sa), len, backlog, false, &failed);
  if (fd < 0) return ThrowErrno(env, "listenUnix", failed, errno, "on " + Quote(path));
  return Napi::Number::New(env, fd);
}

}  // namespace uwsgi_native
