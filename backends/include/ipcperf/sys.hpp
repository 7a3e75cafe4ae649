// System-call error handling: one helper for the "-1 and errno" convention, one for functions
// that return the error number (pthread_*), EINTR retried in one place. Every error reads like
//   mq_open("/ipcperf-4242-3", O_CREAT|O_EXCL): Too many open files (EMFILE); raise ...
#pragma once

#include <cerrno>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

namespace ipcperf {

// The symbolic name of an errno value ("EAGAIN"), or "errno N" when unknown.
std::string errno_name(int err);

// Thrown for a failed system call: what() is "call(args): strerror (ENAME)[; hint]".
// "call: strerror (ENAME); hint" once (std::system_error would append strerror a second time).
// EMFILE/ENFILE add the limit to raise when no hint is given.
class SystemError : public std::runtime_error {
 public:
  SystemError(int err, std::string_view call, std::string_view hint = {});
  [[nodiscard]] int error() const noexcept { return err_; }

 private:
  int err_;
};

// Thrown when the other endpoint of a channel is gone (closed, exited or killed).
class PeerGone : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Thrown for invalid user input (bad option values, a size a backend cannot carry...).
// The harness maps it to exit code 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Thrown when a case cannot run on this machine (mechanism unavailable): reported as skipped.
class Unsupported : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

[[noreturn]] void throw_errno(std::string_view call, std::string_view hint = {});

// For calls returning -1 and setting errno: retries EINTR, throws SystemError otherwise.
template <class F>
auto check_errno(std::string_view call, F&& f) -> decltype(f()) {
  for (;;) {
    auto r = f();
    if (r != -1) return r;
    if (errno != EINTR) throw_errno(call);
  }
}

// For calls returning an error number (0 on success), such as pthread_*.
inline void check_errnum(std::string_view call, int err) {
  if (err != 0) throw SystemError(err, call);
}

// Retries EINTR and returns the raw result (-1 with errno set on other errors): for callers that
// handle some errno values (EAGAIN, EPIPE) themselves.
template <class F>
auto retry_eintr(F&& f) -> decltype(f()) {
  for (;;) {
    auto r = f();
    if (r != -1 || errno != EINTR) return r;
  }
}

// An owned file descriptor (closed on destruction; movable, not copyable).
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) noexcept : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(o.release()) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) reset(o.release());
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }

  [[nodiscard]] int get() const noexcept { return fd_; }
  [[nodiscard]] bool valid() const noexcept { return fd_ >= 0; }
  int release() noexcept {
    int f = fd_;
    fd_ = -1;
    return f;
  }
  void reset(int fd = -1) noexcept;

 private:
  int fd_ = -1;
};

// Writes / reads exactly n bytes on a blocking descriptor, retrying EINTR and partial transfers.
// read_full returns false on EOF before the first byte; EOF in the middle throws PeerGone.
// write_full throws PeerGone on EPIPE / ECONNRESET.
void write_full(int fd, const void* buf, size_t n, std::string_view what);
bool read_full(int fd, void* buf, size_t n, std::string_view what);

// Sets or clears O_NONBLOCK / FD_CLOEXEC.
void set_nonblocking(int fd, bool on);
void set_cloexec(int fd, bool on);

}  // namespace ipcperf
