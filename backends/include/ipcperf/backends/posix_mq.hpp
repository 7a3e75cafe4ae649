// posix-mq: two POSIX message queues, /ipcperf-<pid>-<n>-ab (A -> B) and -ba (B -> A), created by
// the supervisor (O_CREAT|O_EXCL, 0600) and opened by name by the peers.
// Hot path: one mq_timedsend(2) and one mq_timedreceive(2) per message, priority 0 always; the
// kernel copies the message into a msg_msg it allocates, and out into the receiver's buffer.
// Waits: block (the default: the calls sleep until an absolute deadline that is refreshed only
// after it has passed -- no clock read per message -- and then the peer's liveness is looked at),
// spin (O_NONBLOCK, busy retry). Queues outlive their users, so a dead peer is never signalled:
// the peer's pid comes from a hello when the channel opens.
#pragma once
#include <algorithm>
#include <cstring>
#include <vector>

#include <fcntl.h>
#include <linux/capability.h>
#include <mqueue.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fmt/format.h>

#include "ipcperf/backend.hpp"
#include "ipcperf/limits.hpp"
#include "ipcperf/liveness.hpp"
#include "ipcperf/objects.hpp"

namespace ipcperf::backends::posix_mq {

// With CAP_SYS_RESOURCE the sysctls do not bind; these do (include/linux/ipc_namespace.h).
constexpr long long kHardMsgMax = 65536;
constexpr long long kHardMsgSizeMax = 16 * 1024 * 1024;
// RLIMIT_MSGQUEUE charges per queue maxmsg * (sizeof(struct msg_msg) + msgsize) plus
// min(maxmsg, MQ_PRIO_MAX) posix_msg_tree_nodes (ipc/mqueue.c, mqueue_get_inode(); x86-64 sizes).
constexpr long long kMsgMsgBytes = 48;
constexpr long long kTreeNodeBytes = 48;
constexpr long long kMqPrioMax = 32768;

struct Limits {
  long long depth;      // largest mq_maxmsg we may ask for
  long long size;       // largest mq_msgsize
  long long depth_def;  // the depth mq_open gives without attributes
  long long rlimit;     // RLIMIT_MSGQUEUE (bytes, this user, all queues); -1 = unlimited
  bool privileged;      // CAP_SYS_RESOURCE
};

inline Limits limits() {
  Limits l{};
  l.privileged = has_capability(CAP_SYS_RESOURCE);
  l.depth =
      l.privileged ? kHardMsgMax : read_proc_number("/proc/sys/fs/mqueue/msg_max").value_or(10);
  l.size = l.privileged ? kHardMsgSizeMax
                        : read_proc_number("/proc/sys/fs/mqueue/msgsize_max").value_or(8192);
  l.depth_def = std::min(l.depth, read_proc_number("/proc/sys/fs/mqueue/msg_default").value_or(10));
  rlimit r{};
  l.rlimit = ::getrlimit(RLIMIT_MSGQUEUE, &r) == 0 && r.rlim_cur != RLIM_INFINITY
                 ? static_cast<long long>(r.rlim_cur)
                 : -1;
  return l;
}

// What RLIMIT_MSGQUEUE is charged for one queue.
inline long long charge(long long depth, long long msgsize) {
  return depth * (kMsgMsgBytes + msgsize) + std::min(depth, kMqPrioMax) * kTreeNodeBytes;
}

// The queue's shape for these options: mq_msgsize is the largest message of the run (so that the
// receiver's buffer of that size is enough: mq_receive wants one of at least mq_msgsize), and
// the depth is capacity / mq_msgsize -- or, with capacity 0 (the default), the kernel's own
// default depth (fs.mqueue.msg_default, 10).
struct Geometry {
  long long depth;
  long long msgsize;
};
inline Geometry geometry(const ChannelOptions& o, const Limits& l) {
  const long long msgsize = o.max_message != 0 ? static_cast<long long>(o.max_message) : l.size;
  const long long depth =
      o.capacity == 0 ? l.depth_def : static_cast<long long>(o.capacity) / msgsize;
  return {depth, msgsize};
}

[[noreturn]] inline void throw_mq_error(std::string_view call) {
  const int err = errno;
  switch (err) {
    case ENOSYS:
      throw Unsupported(fmt::format(
          "posix-mq: POSIX message queues are not available in this kernel ({}: ENOSYS; "
          "CONFIG_POSIX_MQUEUE)",
          call));
    case EMFILE: {
      // Both limits say EMFILE: the process's descriptors (a queue descriptor is one) and the
      // user's RLIMIT_MSGQUEUE bytes. Which one: can the process open a descriptor now?
      const Fd probe(::open("/", O_PATH | O_CLOEXEC));
      if (!probe.valid() && errno == EMFILE) throw SystemError(err, call);  // the ulimit -n hint
      throw SystemError(err, call,
                        "RLIMIT_MSGQUEUE exhausted for this user (ulimit -q; other queues count "
                        "too: ipcperf clean removes stale ones)");
    }
    case ENOSPC:
      throw SystemError(err, call, "too many queues (/proc/sys/fs/mqueue/queues_max)");
    case EINVAL:
      throw SystemError(
          err, call,
          "queue depth or message size above /proc/sys/fs/mqueue/msg_max or msgsize_max");
    default:
      throw SystemError(err, call);
  }
}

class Queue {
 public:
  Queue() = default;
  explicit Queue(mqd_t q) : q_(q) {}
  Queue(Queue&& o) noexcept : q_(std::exchange(o.q_, -1)) {}
  Queue& operator=(Queue&& o) noexcept {
    std::swap(q_, o.q_);
    return *this;
  }
  ~Queue() {
    if (q_ >= 0) ::mq_close(q_);
  }
  [[nodiscard]] mqd_t get() const { return q_; }

 private:
  mqd_t q_ = -1;
};

struct PosixMq {
  static const BackendInfo& info() {
    static const BackendInfo i{"posix-mq",
                               "two POSIX message queues (mq_timedsend/mq_timedreceive), "
                               "priority 0; capacity = depth x message size",
                               Family::kKernel,
                               0,  // 0: the kernel's default depth (msg_default) -- see geometry()
                               WaitSet{}.add(Wait::kBlock).add(Wait::kSpin),
                               Wait::kBlock};
    return i;
  }

  static size_t max_message(const ChannelOptions& o) {
    const Limits l = limits();
    long long m = l.size;
    // A message must fit a queue at least one deep.
    if (o.capacity != 0) m = std::min(m, static_cast<long long>(o.capacity));
    if (l.rlimit >= 0) {
      // Both queues must fit RLIMIT_MSGQUEUE: the largest message is the one that leaves the
      // depth at its least (1 with an explicit capacity, the default depth otherwise).
      const long long d = o.capacity != 0 ? 1 : l.depth_def;
      m = std::min(m, (l.rlimit / 2 - std::min(d, kMqPrioMax) * kTreeNodeBytes) / d - kMsgMsgBytes);
    }
    return static_cast<size_t>(std::max(m, 0LL));
  }

  static void check_size(const ChannelOptions& o) {
    const size_t max = max_message(o);
    if (o.max_message <= max) return;
    const Limits l = limits();
    std::string why;
    if (max == static_cast<size_t>(l.size)) {
      why = l.privileged ? "the kernel's hard limit for mq_msgsize"
                         : fmt::format(
                               "/proc/sys/fs/mqueue/msgsize_max; raise it with sysctl -w "
                               "fs.mqueue.msgsize_max={}",
                               o.max_message);
    } else if (o.capacity != 0 && max == o.capacity) {
      why = fmt::format("a queue must hold one message: give capacity {} or more", o.max_message);
    } else {
      why = fmt::format("both queues must fit RLIMIT_MSGQUEUE, {} bytes (ulimit -q)", l.rlimit);
    }
    throw UsageError(fmt::format("posix-mq: message size {} exceeds the maximum of {} bytes ({})",
                                 o.max_message, max, why));
  }

  static void check(const ChannelOptions& o) {
    // Is the mechanism there at all? Opening a name that does not exist creates nothing and
    // fails with ENOENT where queues work, ENOSYS where the kernel has none.
    errno = 0;
    const mqd_t probe = ::mq_open("/ipcperf-probe-nonexistent", O_RDONLY | O_CLOEXEC);
    if (probe >= 0) {
      ::mq_close(probe);
    } else if (errno == ENOSYS) {
      throw_mq_error("mq_open");
    }
    if (o.max_message == 0) return;  // no size yet ('ipcperf list'): nothing more to check
    const Limits l = limits();
    const Geometry g = geometry(o, l);
    if (g.depth > l.depth) {
      throw UsageError(fmt::format(
          "posix-mq: capacity {} with {}-byte messages needs a queue {} messages deep; the "
          "limit here is {} ({}), so give capacity {} or less, or leave it out for the "
          "default depth ({})",
          o.capacity, g.msgsize, g.depth, l.depth,
          l.privileged ? "the kernel's hard limit"
                       : fmt::format("/proc/sys/fs/mqueue/msg_max; raise it with sysctl -w "
                                     "fs.mqueue.msg_max={}",
                                     g.depth),
          l.depth * g.msgsize, l.depth_def));
    }
    if (l.rlimit >= 0 && 2 * charge(g.depth, g.msgsize) > l.rlimit) {
      throw UsageError(fmt::format(
          "posix-mq: two queues {} deep of {}-byte messages are charged {} bytes, more than "
          "RLIMIT_MSGQUEUE allows here ({} bytes; ulimit -q, or 'msgqueue' in "
          "/etc/security/limits.conf)",
          g.depth, g.msgsize, 2 * charge(g.depth, g.msgsize), l.rlimit));
    }
  }

  static Endpoints prepare(const ChannelOptions& o) {
    const Geometry g = geometry(o, limits());
    Endpoints ep;
    const std::string base = "/" + make_object_name();
    // The names are recorded in a private directory before the queues exist, so that the stale
    // sweep removes them after a killed supervisor even where /dev/mqueue is not mounted.
    const std::string dir = make_private_dir();
    mq_attr attr{};
    attr.mq_maxmsg = g.depth;
    attr.mq_msgsize = g.msgsize;
    std::vector<std::string> created;
    created.reserve(2);
    try {
      for (const char* suffix : {"-ab", "-ba"}) {
        const std::string name = base + suffix;
        record_posix_queue(dir, name);
        const mqd_t q = ::mq_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600, &attr);
        if (q < 0) {
          throw_mq_error(fmt::format("mq_open(\"{}\", O_CREAT|O_EXCL, maxmsg {}, msgsize {})", name,
                                     g.depth, g.msgsize));
        }
        created.push_back(name);
        ::mq_close(q);  // the name keeps the queue; the peers open it
        ep.objects.push_back("/dev/mqueue" + name);
      }
    } catch (...) {
      // Only the queues created here: a recorded name whose O_EXCL create failed is someone
      // else's (squatted), so the records are not acted on.
      for (const std::string& name : created) ::mq_unlink(name.c_str());
      discard_private_dir(dir);
      throw;
    }
    ep.objects.push_back(dir);
    ep.spec = base + "," + dir;
    return ep;
  }

  static void cleanup(Endpoints& ep) noexcept {
    // Unlinks the recorded queues and removes the directory.
    if (const size_t comma = ep.spec.find(','); comma != std::string::npos) {
      remove_private_dir(ep.spec.substr(comma + 1));
    }
  }

  class Channel {
   public:
    Channel(std::string_view spec, Role role, const ChannelOptions& o)
        : spin_(o.wait == Wait::kSpin), watch_("posix-mq") {
      const std::string base(spec.substr(0, spec.find(',')));
      const bool a = role == Role::kA;
      const int nb = spin_ ? O_NONBLOCK : 0;
      tx_ = open(base + (a ? "-ab" : "-ba"), O_WRONLY | O_CLOEXEC | nb);
      rx_ = open(base + (a ? "-ba" : "-ab"), O_RDONLY | O_CLOEXEC | nb);
      mq_attr attr{};
      check_errno("mq_getattr", [&] { return ::mq_getattr(rx_.get(), &attr); });
      msgsize_ = static_cast<size_t>(attr.mq_msgsize);
      scratch_.resize(msgsize_);
      const pid_t peer = exchange_hello(
          "posix-mq", [&](std::span<const std::byte> h) { send(h); },
          [&](std::span<std::byte> buf) -> long {
            deadline_ = realtime_deadline(kLivenessTimeoutNs);
            const ssize_t n = retry_eintr([&] {
              return ::mq_timedreceive(rx_.get(), reinterpret_cast<char*>(scratch_.data()),
                                       scratch_.size(), nullptr, &deadline_);
            });
            if (n >= 0) {
              std::memcpy(buf.data(), scratch_.data(),
                          std::min(buf.size(), static_cast<size_t>(n)));
              return n;
            }
            if (errno == EAGAIN) {
              ::usleep(200);  // spin mode, before the peer is there: no need to burn a CPU
              return -1;
            }
            if (errno == ETIMEDOUT) return -1;
            throw_errno("mq_timedreceive(posix-mq hello)");
          });
      watch_.watch(peer);
      deadline_ = realtime_deadline(kLivenessTimeoutNs);
    }

    void send(std::span<const std::byte> m) {
      for (;;) {
        // The deadline only matters when the queue is full (block mode): a stale one makes the
        // call return ETIMEDOUT at once instead of sleeping, and wait_more() renews it.
        if (::mq_timedsend(tx_.get(), reinterpret_cast<const char*>(m.data()), m.size(), 0,
                           &deadline_) == 0) [[likely]] {
          return;
        }
        if (!wait_more()) throw watch_.gone("sending");
      }
    }

    size_t recv(std::span<std::byte> b) {
      // mq_receive wants a buffer of at least mq_msgsize; the workloads pass exactly that.
      if (b.size() < msgsize_) [[unlikely]] {
        return recv_short(b);
      }
      bool last_look = false;
      for (;;) {
        const ssize_t n = ::mq_timedreceive(rx_.get(), reinterpret_cast<char*>(b.data()), b.size(),
                                            nullptr, last_look ? &kPast : &deadline_);
        if (n >= 0) [[likely]] {
          return static_cast<size_t>(n);
        }
        if (last_look && (errno == ETIMEDOUT || errno == EAGAIN)) throw watch_.gone("receiving");
        // The peer may have sent just before it died: one last look that does not wait.
        if (!wait_more()) last_look = true;
      }
    }

   private:
    static constexpr timespec kPast{0, 0};

    static Queue open(const std::string& name, int flags) {
      const mqd_t q = ::mq_open(name.c_str(), flags);
      if (q < 0) throw_mq_error(fmt::format("mq_open(\"{}\")", name));
      return Queue(q);
    }

    // A caller's buffer shorter than mq_msgsize: receive into scratch_ and copy.
    [[gnu::cold]] [[gnu::noinline]] size_t recv_short(std::span<std::byte> b) {
      const size_t n = recv(scratch_);
      if (n > b.size()) {
        throw std::runtime_error(
            fmt::format("posix-mq: a {}-byte message arrived for a {}-byte buffer", n, b.size()));
      }
      std::memcpy(b.data(), scratch_.data(), n);
      return n;
    }

    // After a failed call: true to try again, false when the peer has exited.
    [[gnu::cold]] [[gnu::noinline]] bool wait_more() {
      const int err = errno;
      switch (err) {
        case EINTR:
          return true;
        case EAGAIN:  // spin: empty or full
          return watch_.spin_tick();
        case ETIMEDOUT:  // block: the deadline passed (now, or long ago and it was stale)
          deadline_ = realtime_deadline(kLivenessTimeoutNs);
          return watch_.alive();
        default:
          throw SystemError(err, "posix-mq: mq_timedsend/mq_timedreceive");
      }
    }

    bool spin_;
    Queue tx_, rx_;
    size_t msgsize_ = 0;
    std::vector<std::byte> scratch_;
    timespec deadline_{};
    PeerWatch watch_;
  };
};

}  // namespace ipcperf::backends::posix_mq
