#include "ipcperf/sys.hpp"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

namespace ipcperf {

std::string errno_name(int err) {
  // strerrorname_np is glibc >= 2.32; Debian 12 has 2.36.
  if (const char* n = ::strerrorname_np(err)) return n;
  return fmt::format("errno {}", err);
}

namespace {
std::string describe(int err, std::string_view call, std::string_view hint) {
  std::string s = fmt::format("{}: {} ({})", call, std::strerror(err), errno_name(err));
  if (hint.empty() && err == EMFILE) {
    hint = "this process may open no more descriptors: raise the limit with ulimit -n";
  } else if (hint.empty() && err == ENFILE) {
    hint = "the system's file table is full (fs.file-max)";
  }
  if (!hint.empty()) fmt::format_to(std::back_inserter(s), "; {}", hint);
  return s;
}
}  // namespace

SystemError::SystemError(int err, std::string_view call, std::string_view hint)
    : std::runtime_error(describe(err, call, hint)), err_(err) {}

void throw_errno(std::string_view call, std::string_view hint) {
  throw SystemError(errno, call, hint);
}

void Fd::reset(int fd) noexcept {
  if (fd_ >= 0 && fd_ != fd) ::close(fd_);
  fd_ = fd;
}

void write_full(int fd, const void* buf, size_t n, std::string_view what) {
  const auto* p = static_cast<const char*>(buf);
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EPIPE || errno == ECONNRESET) {
        throw PeerGone(
            fmt::format("{}: the receiving peer has gone ({})", what, errno_name(errno)));
      }
      throw_errno(fmt::format("write({})", what));
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
}

bool read_full(int fd, void* buf, size_t n, std::string_view what) {
  auto* p = static_cast<char*>(buf);
  size_t got = 0;
  while (got < n) {
    ssize_t r = ::read(fd, p + got, n - got);
    if (r < 0) {
      if (errno == EINTR) continue;
      if (errno == ECONNRESET) throw PeerGone(fmt::format("{}: the sending peer has gone", what));
      throw_errno(fmt::format("read({})", what));
    }
    if (r == 0) {
      if (got == 0) return false;
      throw PeerGone(fmt::format(
          "{}: the sending peer closed in the middle of a message ({} of {} bytes)", what, got, n));
    }
    got += static_cast<size_t>(r);
  }
  return true;
}

void set_nonblocking(int fd, bool on) {
  int fl = check_errno("fcntl(F_GETFL)", [&] { return ::fcntl(fd, F_GETFL); });
  fl = on ? (fl | O_NONBLOCK) : (fl & ~O_NONBLOCK);
  check_errno("fcntl(F_SETFL)", [&] { return ::fcntl(fd, F_SETFL, fl); });
}

void set_cloexec(int fd, bool on) {
  int fl = check_errno("fcntl(F_GETFD)", [&] { return ::fcntl(fd, F_GETFD); });
  fl = on ? (fl | FD_CLOEXEC) : (fl & ~FD_CLOEXEC);
  check_errno("fcntl(F_SETFD)", [&] { return ::fcntl(fd, F_SETFD, fl); });
}

}  // namespace ipcperf
