#include "ipcperf/wait.hpp"

#include <cerrno>
#include <csignal>
#include <ctime>

#include <linux/futex.h>
#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace ipcperf {

void futex_wait(std::atomic<uint32_t>* addr, uint32_t expected, int64_t timeout_ns) noexcept {
  timespec ts{};
  timespec* tp = nullptr;
  if (timeout_ns > 0) {
    ts.tv_sec = static_cast<time_t>(timeout_ns / 1'000'000'000);
    ts.tv_nsec = static_cast<long>(timeout_ns % 1'000'000'000);
    tp = &ts;
  }
  // EAGAIN (value changed), EINTR and ETIMEDOUT all mean "look again": the caller loops.
  ::syscall(SYS_futex, reinterpret_cast<uint32_t*>(addr), FUTEX_WAIT, expected, tp, nullptr, 0);
}

void futex_wake(std::atomic<uint32_t>* addr, int count) noexcept {
  ::syscall(SYS_futex, reinterpret_cast<uint32_t*>(addr), FUTEX_WAKE, count, nullptr, nullptr, 0);
}

ProcessWatch::~ProcessWatch() {
  if (pidfd_ >= 0) ::close(pidfd_);
}

void ProcessWatch::watch(pid_t pid) {
  if (pidfd_ >= 0) ::close(pidfd_);
  pidfd_ = -1;
  pid_ = pid;
  if (pid == 0 || pid == ::getpid()) return;
  pidfd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd_ < 0 && errno == ESRCH) pidfd_ = -2;  // already gone
}

bool ProcessWatch::alive() const noexcept {
  if (pid_ == 0 || pid_ == ::getpid()) return true;
  if (pidfd_ == -2) return false;
  if (pidfd_ >= 0) {
    pollfd p{pidfd_, POLLIN, 0};
    return ::poll(&p, 1, 0) == 0;
  }
  return ::kill(pid_, 0) == 0 || errno != ESRCH;
}

}  // namespace ipcperf
