// Waiting primitives shared by the user-space backends: cpu_relax, a process-shared futex, and
// the liveness check of the peer process.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include <sys/types.h>

namespace ipcperf {

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#else
  std::atomic_signal_fence(std::memory_order_seq_cst);
#endif
}

// futex(2) on a word in shared memory (not FUTEX_PRIVATE: the waiter and the waker are different
// processes). futex_wait returns when woken, when *addr != expected, on a signal, or after
// timeout_ns (0 = no timeout); spurious returns are the caller's to handle.
void futex_wait(std::atomic<uint32_t>* addr, uint32_t expected, int64_t timeout_ns) noexcept;
void futex_wake(std::atomic<uint32_t>* addr, int count) noexcept;

// Watches whether a process is alive. Uses a pidfd (readable once the process has exited, even
// before it is reaped), falling back to kill(pid, 0).
class ProcessWatch {
 public:
  ProcessWatch() = default;
  ProcessWatch(const ProcessWatch&) = delete;
  ProcessWatch& operator=(const ProcessWatch&) = delete;
  ~ProcessWatch();

  // Starts watching pid (0 or our own pid: nothing to watch, always alive).
  void watch(pid_t pid);
  [[nodiscard]] pid_t pid() const noexcept { return pid_; }
  // True unless the watched process has exited.
  [[nodiscard]] bool alive() const noexcept;

 private:
  pid_t pid_ = 0;
  int pidfd_ = -1;
};

// Nanoseconds of CLOCK_MONOTONIC.
inline int64_t now_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace ipcperf
