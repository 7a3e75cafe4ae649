// sysv-mq: two System V message queues (msgget(IPC_PRIVATE)), one per direction, created by the
// supervisor with msg_qbytes = capacity; their ids travel in the spec. The supervisor records them
// in a private directory so that `ipcperf clean` finds the queues of a supervisor that was killed.
// Hot path: one msgsnd(2) and one msgrcv(2) per message. The API wants the message behind a
// `long mtype`, so each side copies it once in user space (into / out of a staging buffer) on
// top of the kernel's copies in and out of its msg_msg.
// Waits: block (the default: the calls sleep in the kernel), spin (IPC_NOWAIT, busy retry).
// Peer death: queues outlive their users and the calls have no timeout, so in block mode a
// watchdog thread sleeps in poll(2) on the peer's pidfd and removes the queues once the peer has
// exited: the blocked call fails with EIDRM. The peer's pid comes from a hello.
#pragma once
#include <algorithm>
#include <climits>
#include <cstring>
#include <memory>
#include <optional>
#include <thread>

#include <linux/capability.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/msg.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <fmt/format.h>

#include "ipcperf/backend.hpp"
#include "ipcperf/limits.hpp"
#include "ipcperf/liveness.hpp"
#include "ipcperf/objects.hpp"

namespace ipcperf::backends::sysv_mq {

constexpr long kMtype = 1;  // one type: msgrcv(..., 0, ...) takes messages in order

inline long long msgmax() { return read_proc_number("/proc/sys/kernel/msgmax").value_or(8192); }
inline long long msgmnb() { return read_proc_number("/proc/sys/kernel/msgmnb").value_or(16384); }

inline std::string dir_of(std::string_view spec) {
  const size_t c1 = spec.find(',');
  const size_t c2 = c1 == std::string_view::npos ? c1 : spec.find(',', c1 + 1);
  return c2 == std::string_view::npos ? std::string() : std::string(spec.substr(c2 + 1));
}

// A message as msgsnd/msgrcv want it: `long mtype` then the bytes.
class MsgBuf {
 public:
  explicit MsgBuf(size_t cap) : words_(new long[1 + (cap + sizeof(long) - 1) / sizeof(long)]) {
    words_[0] = kMtype;
  }
  [[nodiscard]] void* msgp() const noexcept { return words_.get(); }
  [[nodiscard]] std::byte* text() const noexcept {
    return reinterpret_cast<std::byte*>(words_.get() + 1);
  }

 private:
  std::unique_ptr<long[]> words_;
};

// Block mode's answer to msgsnd/msgrcv having no timeout (see the file comment). The queue
// towards the dead peer is removed at once (nobody will read it: a blocked sender wakes with
// EIDRM); the queue from it only once it is empty, so that what the peer sent before it died is
// still delivered.
class Watchdog {
 public:
  Watchdog(pid_t peer, int rx, int tx) : peer_(peer), rx_(rx), tx_(tx) {
    stop_ = Fd(check_errno("eventfd", [] { return ::eventfd(0, EFD_CLOEXEC); }));
    const long pfd = ::syscall(SYS_pidfd_open, peer, 0);
    if (pfd >= 0) {
      pidfd_ = Fd(static_cast<int>(pfd));
    } else if (errno != ESRCH && errno != ENOSYS) {
      throw_errno(fmt::format("pidfd_open({})", peer));
    }  // ESRCH: already gone (kill(pid, 0) says so at once); ENOSYS: old kernel, kill() polling
    thread_ = std::thread([this] { run(); });
  }
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;
  ~Watchdog() {
    const uint64_t one = 1;
    [[maybe_unused]] const ssize_t w = ::write(stop_.get(), &one, sizeof one);
    thread_.join();
  }

 private:
  // Sleeps until the peer has exited (true) or we are told to stop (false).
  bool wait_for_exit() {
    for (;;) {
      pollfd p[2] = {{stop_.get(), POLLIN, 0}, {pidfd_.get(), POLLIN, 0}};
      const int n = ::poll(p, pidfd_.valid() ? 2 : 1, pidfd_.valid() ? -1 : 100);
      if (n < 0 && errno != EINTR) return false;  // cannot watch: the run's timeout is the net
      if (p[0].revents != 0) return false;
      if (pidfd_.valid() ? p[1].revents != 0 : ::kill(peer_, 0) != 0 && errno == ESRCH) {
        return true;
      }
    }
  }
  void run() {
    if (!wait_for_exit()) return;
    ::msgctl(tx_, IPC_RMID, nullptr);
    for (;;) {
      msqid_ds ds{};
      if (::msgctl(rx_, IPC_STAT, &ds) != 0 || ds.msg_qnum == 0) break;
      pollfd p{stop_.get(), POLLIN, 0};
      if (::poll(&p, 1, 1) != 0) return;  // told to stop while messages are still unread
    }
    ::msgctl(rx_, IPC_RMID, nullptr);
  }

  pid_t peer_;
  int rx_, tx_;
  Fd stop_, pidfd_;
  std::thread thread_;
};

struct SysvMq {
  static const BackendInfo& info() {
    static const BackendInfo i{"sysv-mq",
                               "two System V message queues (msgsnd/msgrcv); capacity = msg_qbytes",
                               Family::kKernel,
                               16384,  // Linux's default kernel.msgmnb: what a new queue gets
                               WaitSet{}.add(Wait::kBlock).add(Wait::kSpin),
                               Wait::kBlock};
    return i;
  }
  // A message larger than msg_qbytes would wait forever for room; msgmax binds even root.
  static size_t max_message(const ChannelOptions& o) {
    return static_cast<size_t>(std::min<long long>(msgmax(), static_cast<long long>(o.capacity)));
  }
  static void check_size(const ChannelOptions& o) {
    const size_t max = max_message(o);
    if (o.max_message <= max) return;
    const std::string why =
        max == o.capacity
            ? fmt::format(
                  "a queue of capacity {} bytes cannot hold it: give a capacity of {} or "
                  "more",
                  o.capacity, o.max_message)
            : fmt::format("/proc/sys/kernel/msgmax; raise it with sysctl -w kernel.msgmax={}",
                          o.max_message);
    throw UsageError(fmt::format("sysv-mq: message size {} exceeds the maximum of {} bytes ({})",
                                 o.max_message, max, why));
  }
  static void check(const ChannelOptions& o) {
    msginfo mi{};
    if (::msgctl(0, IPC_INFO, reinterpret_cast<msqid_ds*>(&mi)) < 0 && errno == ENOSYS) {
      throw Unsupported(
          "sysv-mq: System V message queues are not available in this kernel (msgctl: ENOSYS; "
          "CONFIG_SYSVIPC)");
    }
    if (o.capacity < kMinMessageSize || o.capacity > INT_MAX) {
      throw UsageError(fmt::format("sysv-mq: capacity {} is not allowed: between {} and {} bytes",
                                   o.capacity, kMinMessageSize, INT_MAX));
    }
    const long long mnb = msgmnb();
    if (static_cast<long long>(o.capacity) > mnb && !has_capability(CAP_SYS_RESOURCE)) {
      // The default (stock Linux's msgmnb) exceeds a lowered msgmnb without the user asking for
      // anything: say that it is the default, and what --capacity would fit.
      const bool is_default = o.capacity == info().default_capacity;
      throw UsageError(fmt::format(
          "sysv-mq: capacity {} bytes{} exceeds the msg_qbytes allowed here, {} bytes "
          "(/proc/sys/kernel/msgmnb): give --capacity {} or less, raise it with sysctl -w "
          "kernel.msgmnb={}, or run with CAP_SYS_RESOURCE",
          o.capacity, is_default ? " (sysv-mq's default)" : "", mnb, mnb, o.capacity));
    }
  }

  static Endpoints prepare(const ChannelOptions& o) {
    Endpoints ep;
    const std::string dir = make_private_dir();
    int ids[2] = {-1, -1};
    try {
      for (int& id : ids) {
        id = ::msgget(IPC_PRIVATE, IPC_CREAT | 0600);
        if (id < 0) {
          throw_errno("msgget(IPC_PRIVATE)",
                      errno == ENOSPC ? "too many queues (/proc/sys/kernel/msgmni; ipcperf clean "
                                        "removes stale ones)"
                                      : "");
        }
        msqid_ds ds{};
        check_errno("msgctl(IPC_STAT)", [&] { return ::msgctl(id, IPC_STAT, &ds); });
        if (ds.msg_qbytes != o.capacity) {
          ds.msg_qbytes = o.capacity;
          if (::msgctl(id, IPC_SET, &ds) < 0) {
            throw_errno(
                fmt::format("msgctl(IPC_SET, msg_qbytes {})", o.capacity),
                errno == EPERM ? "above /proc/sys/kernel/msgmnb without CAP_SYS_RESOURCE" : "");
          }
        }
        // After IPC_SET (which changes msg_ctime, part of the record).
        record_sysv_queue(dir, id);
        ep.objects.push_back(fmt::format("sysv-msq:{}", id));  // the suite's leak check reads it
      }
    } catch (...) {
      for (int id : ids) {
        if (id >= 0) ::msgctl(id, IPC_RMID, nullptr);
      }
      remove_private_dir(dir);
      throw;
    }
    ep.objects.push_back(dir);
    ep.spec = fmt::format("{},{},{}", ids[0], ids[1], dir);
    return ep;
  }
  // Removes the recorded queues (unless a peer's watchdog already has) and the directory.
  static void cleanup(Endpoints& ep) noexcept {
    if (const std::string dir = dir_of(ep.spec); !dir.empty()) remove_private_dir(dir);
  }

  class Channel {
   public:
    Channel(std::string_view spec, Role role, const ChannelOptions& o)
        : spin_(o.wait == Wait::kSpin),
          flags_(spin_ ? IPC_NOWAIT : 0),
          cap_(max_message(o)),
          tx_buf_(cap_),
          rx_buf_(cap_),
          watch_("sysv-mq") {
      const auto [ab, ba] = spec_ints<2>("sysv-mq", spec);
      const bool a = role == Role::kA;
      tx_ = a ? ab : ba;
      rx_ = a ? ba : ab;
      // The hello polls (IPC_NOWAIT): without the peer's pid a blocking call could wait forever.
      const pid_t peer = exchange_hello(
          "sysv-mq",
          [&](std::span<const std::byte> h) {
            std::memcpy(tx_buf_.text(), h.data(), h.size());
            check_errno("msgsnd(sysv-mq hello)",
                        [&] { return ::msgsnd(tx_, tx_buf_.msgp(), h.size(), IPC_NOWAIT); });
          },
          [&](std::span<std::byte> buf) -> long {
            const ssize_t n =
                retry_eintr([&] { return ::msgrcv(rx_, rx_buf_.msgp(), cap_, 0, IPC_NOWAIT); });
            if (n >= 0) {
              std::memcpy(buf.data(), rx_buf_.text(), std::min(buf.size(), static_cast<size_t>(n)));
              return n;
            }
            if (errno != ENOMSG) throw_errno("msgrcv(sysv-mq hello)");
            ::usleep(200);
            return -1;
          });
      watch_.watch(peer);
      if (!spin_) watchdog_.emplace(peer, rx_, tx_);
    }

    void send(std::span<const std::byte> m) {
      std::memcpy(tx_buf_.text(), m.data(), m.size());
      for (;;) {
        if (::msgsnd(tx_, tx_buf_.msgp(), m.size(), flags_) == 0) [[likely]] {
          return;
        }
        if (!wait_more("sending")) throw watch_.gone("sending");
      }
    }

    size_t recv(std::span<std::byte> b) {
      bool last_look = false;
      for (;;) {
        const ssize_t n = ::msgrcv(rx_, rx_buf_.msgp(), cap_, 0, last_look ? IPC_NOWAIT : flags_);
        if (n >= 0) [[likely]] {
          if (static_cast<size_t>(n) > b.size()) [[unlikely]] {
            throw std::runtime_error(fmt::format(
                "sysv-mq: a {}-byte message arrived for a {}-byte buffer", n, b.size()));
          }
          std::memcpy(b.data(), rx_buf_.text(), static_cast<size_t>(n));
          return static_cast<size_t>(n);
        }
        if (last_look && errno == ENOMSG) throw watch_.gone("receiving");
        // The peer may have sent just before it died: one last look that does not wait.
        if (!wait_more("receiving")) last_look = true;
      }
    }

   private:
    // After a failed call: true to try again, false when the peer has exited; throws otherwise.
    [[gnu::cold]] [[gnu::noinline]] bool wait_more(const char* doing) {
      const int err = errno;
      switch (err) {
        case EINTR:
          return true;
        case EAGAIN:  // spin: the queue is full
        case ENOMSG:  // spin: the queue is empty
          return watch_.spin_tick();
        case EIDRM:   // removed while we waited (the watchdog: the peer has exited)
        case EINVAL:  // removed before the call
          throw PeerGone(fmt::format(
              "sysv-mq: the queue was removed while {}: {}", doing,
              watch_.alive() ? "by the supervisor"
                             : fmt::format("the peer (pid {}) has exited", watch_.pid())));
        default:
          throw SystemError(err, fmt::format("sysv-mq: {}", doing));
      }
    }

    bool spin_;
    int flags_;
    size_t cap_;
    int tx_ = -1, rx_ = -1;
    MsgBuf tx_buf_, rx_buf_;
    PeerWatch watch_;
    std::optional<Watchdog> watchdog_;  // block mode; last member: stopped before the rest goes
  };
};

}  // namespace ipcperf::backends::sysv_mq
