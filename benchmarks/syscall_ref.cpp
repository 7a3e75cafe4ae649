// The system-call reference: for each kernel mechanism, the minimal hand-written ping-pong of the
// same system calls the ipcperf backend uses, between the same two pinned CPUs. ipcperf's
// pingpong RTT for a kernel backend should be within 10 % of it; a larger gap is harness or
// backend overhead (framing, verification, extra calls) and shows up here rather than being
// guessed at. scripts/syscall-ref.sh runs both tools and prints the comparison.
//
//   ipcperf_syscall_ref [--cpus A,B] [--sizes 64,4K,64K] [Google Benchmark flags...]
//
// The parent (the benchmark thread, pinned to CPU A) sends `size` bytes and waits for them to
// come back; a forked child pinned to CPU B echoes them. Both use blocking calls. Nothing is
// verified beyond the byte counts: that is the point, this is the floor of the mechanism.
// One iteration = one round trip; time per iteration is real (wall) time.
//
// Lifetime: objects are created before the fork (names like the backends': ipcperf-<pid>-<n>,
// private directories from make_private_dir(), so `ipcperf clean` also sweeps what a killed
// run left) and removed by destructors after the child is killed; the child dies with the
// parent (PR_SET_PDEATHSIG). A watchdog thread sleeping on the child's pidfd makes the parent's
// blocked call fail (EINTR) if the child dies, so no benchmark can hang on a dead echo.
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <mqueue.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <sys/msg.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include "ipcperf/backend.hpp"
#include "ipcperf/objects.hpp"
#include "ipcperf/pinning.hpp"
#include "ipcperf/sys.hpp"

namespace ipcperf {
namespace {

int g_cpu_a = 0, g_cpu_b = 0;

// Round trips before the timed loop, in every call of a benchmark function: the child has to be
// scheduled in and both sides' pages and caches warmed, as ipcperf's --warmup does.
constexpr int kWarmup = 200;

// Set by the watchdog thread (release) before it signals the main thread; read (acquire) by the
// main thread after a call failed with EINTR, so that it knows the echo child has died.
std::atomic<bool> g_child_gone{false};

// A failure on the parent's side: which call, and errno (0: EOF or a short transfer).
const char* g_failed_call = "";
int g_failed_errno = 0;

bool fail(const char* call, int err) {
  g_failed_call = call;
  g_failed_errno = err;
  return false;
}

// The watchdog pokes the main thread with SIGUSR1 to interrupt a blocked call; in the echo
// child no signal is handled, so EINTR cannot come up there.
bool retry_after(int err) { return err == EINTR && !g_child_gone.load(std::memory_order_acquire); }

// Byte streams (pipe, fifo, stream sockets): read(2)/write(2), continued over partial transfers
// (a 64 KiB message does not fit a socket's or pipe's buffer in one go).
bool write_all(int fd, const std::byte* p, size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (retry_after(errno)) continue;
      return fail("write", errno);
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}
bool read_all(int fd, std::byte* p, size_t n) {
  while (n > 0) {
    const ssize_t r = ::read(fd, p, n);
    if (r > 0) {
      p += r;
      n -= static_cast<size_t>(r);
    } else if (r == 0) {
      return fail("read (end of file)", 0);
    } else if (!retry_after(errno)) {
      return fail("read", errno);
    }
  }
  return true;
}

// Message sockets (seqpacket, datagram): one send(2), one recv(2); the length is the only check.
bool send_msg(int fd, const std::byte* p, size_t n) {
  for (;;) {
    const ssize_t w = ::send(fd, p, n, 0);
    if (w == static_cast<ssize_t>(n)) return true;
    if (w >= 0) return fail("send (short)", 0);
    if (!retry_after(errno)) return fail("send", errno);
  }
}
bool recv_msg(int fd, std::byte* p, size_t n) {
  for (;;) {
    const ssize_t r = ::recv(fd, p, n, 0);
    if (r == static_cast<ssize_t>(n)) return true;
    if (r >= 0) return fail("recv (short or end of file)", 0);
    if (!retry_after(errno)) return fail("recv", errno);
  }
}

void pin_to(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  check_errno(fmt::format("sched_setaffinity(CPU {})", cpu),
              [&] { return ::sched_setaffinity(0, sizeof set, &set); });
}

// A blocking setup call of the parent (open of a FIFO, accept) that the child must answer.
template <class F>
int parent_wait(const char* call, F&& f) {
  for (;;) {
    const int r = f();
    if (r >= 0) return r;
    if (!retry_after(errno)) {
      fail(call, errno);
      return -1;
    }
  }
}

size_t read_proc_size(const char* path) {
  std::ifstream f(path);
  size_t v = 0;
  return (f >> v) ? v : 0;
}

// Thrown by a mechanism's constructor when it cannot run here: the benchmark is skipped with the
// reason (SkipWithError), the others go on.
class Skip : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// --- the echo child and its watchdog ---------------------------------------------------------

class EchoChild {
 public:
  // Forks; the child pins itself to g_cpu_b, runs body (which returns when a call fails, e.g. on
  // end of file) and exits without running any destructor of the parent's objects.
  template <class Body>
  explicit EchoChild(Body body) {
    const pid_t parent = ::getpid();
    pid_ = check_errno("fork", [] { return ::fork(); });
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the benchmark
      if (::getppid() != parent) ::_exit(3);
      int status = 0;
      try {
        pin_to(g_cpu_b);
        body();
        if (g_failed_errno != 0) {
          std::fprintf(stderr, "syscall_ref echo child: %s: %s\n", g_failed_call,
                       std::strerror(g_failed_errno));
          status = 1;
        }
      } catch (const std::exception& e) {
        std::fprintf(stderr, "syscall_ref echo child: %s\n", e.what());
        status = 2;
      }
      ::_exit(status);
    }
    pidfd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
    if (pidfd_ < 0) {
      const int err = errno;
      stop();
      throw SystemError(err, "pidfd_open(echo child)");
    }
    g_child_gone.store(false, std::memory_order_relaxed);
    main_ = ::pthread_self();
    watchdog_ = std::thread([this] { watch(); });
  }
  EchoChild(const EchoChild&) = delete;
  EchoChild& operator=(const EchoChild&) = delete;
  ~EchoChild() { stop(); }

  // After a failure in the parent: why (the failed call, and the child's fate if it has died).
  std::string failure() {
    std::string what;
    int status = 0;
    if (g_child_gone.load(std::memory_order_acquire)) {
      if (!reaped_ && ::waitpid(pid_, &status, 0) == pid_) reaped_ = true;
    } else {
      what = g_failed_errno != 0
                 ? fmt::format("{}: {} ({})", g_failed_call, std::strerror(g_failed_errno),
                               errno_name(g_failed_errno))
                 : std::string(g_failed_call);
      // An end of file or EPIPE usually means the child has just died: say so when it has.
      if (reaped_ || ::waitpid(pid_, &status, WNOHANG) != pid_) return what;
      reaped_ = true;
      what += "; ";
    }
    if (WIFSIGNALED(status)) {
      return what + fmt::format("the echo child was killed by signal {}", WTERMSIG(status));
    }
    return what + fmt::format("the echo child exited with status {} (see its message above)",
                              WEXITSTATUS(status));
  }

 private:
  // Sleeps until the child exits. A child that dies while the benchmark runs makes the main
  // thread's blocked call return EINTR; the signal is repeated until the main thread stops us,
  // since a single one could land just before it enters the call.
  void watch() {
    pollfd p{pidfd_, POLLIN, 0};
    while (::poll(&p, 1, -1) < 0 && errno == EINTR) {
    }
    // Pairs with the release store in stop(): after a deliberate kill we just leave.
    if (stopping_.load(std::memory_order_acquire)) return;
    g_child_gone.store(true, std::memory_order_release);  // pairs with retry_after()'s acquire
    while (!stopping_.load(std::memory_order_acquire)) {
      ::pthread_kill(main_, SIGUSR1);
      ::usleep(1000);
    }
  }

  void stop() noexcept {
    stopping_.store(true, std::memory_order_release);  // pairs with the loads in watch()
    if (!reaped_) ::kill(pid_, SIGKILL);
    if (watchdog_.joinable()) watchdog_.join();  // the pidfd turns readable once the child died
    if (!reaped_) {
      while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
      }
      reaped_ = true;
    }
    if (pidfd_ >= 0) ::close(pidfd_);
    pidfd_ = -1;
    g_child_gone.store(false, std::memory_order_relaxed);
  }

  pid_t pid_ = -1;
  int pidfd_ = -1;
  bool reaped_ = false;
  pthread_t main_{};
  std::atomic<bool> stopping_{false};
  std::thread watchdog_;
};

// A private directory (FIFOs, socket paths, the System V record), removed with its contents.
class PrivateDir {
 public:
  PrivateDir() : path_(make_private_dir()) {}
  PrivateDir(const PrivateDir&) = delete;
  PrivateDir& operator=(const PrivateDir&) = delete;
  ~PrivateDir() { remove_private_dir(path_); }
  [[nodiscard]] std::string file(std::string_view name) const {
    return path_ + "/" + std::string(name);
  }
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  std::string path_;
};

sockaddr_un unix_address(const std::string& path) {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  if (path.size() >= sizeof a.sun_path) {
    throw Skip(
        fmt::format("socket path '{}' is longer than {} bytes (set TMPDIR to a shorter "
                    "directory)",
                    path, sizeof a.sun_path - 1));
  }
  std::memcpy(a.sun_path, path.c_str(), path.size() + 1);
  return a;
}

Fd make_socket(int domain, int type) {
  return Fd(check_errno("socket", [&] { return ::socket(domain, type | SOCK_CLOEXEC, 0); }));
}

// --- the mechanisms ---------------------------------------------------------------------------
// Each: constructor (creates the objects, before the fork), child(buf, n) (the echo loop, in the
// child), attach() (the parent's side after the fork; false on failure), round_trip(buf, n).

// pipe: two anonymous pipes, write(2) / read(2), default pipe size (64 KiB, as ipcperf's
// default capacity).
struct PipeRef {
  Fd ab_r, ab_w, ba_r, ba_w;
  explicit PipeRef(size_t) {
    int ab[2], ba[2];
    check_errno("pipe2", [&] { return ::pipe2(ab, O_CLOEXEC); });
    ab_r.reset(ab[0]);
    ab_w.reset(ab[1]);
    check_errno("pipe2", [&] { return ::pipe2(ba, O_CLOEXEC); });
    ba_r.reset(ba[0]);
    ba_w.reset(ba[1]);
  }
  void child(std::byte* b, size_t n) {
    while (read_all(ab_r.get(), b, n) && write_all(ba_w.get(), b, n)) {
    }
  }
  bool attach() {
    ab_r.reset();  // the child's ends: its death then also reads as EOF / EPIPE
    ba_w.reset();
    return true;
  }
  bool round_trip(std::byte* b, size_t n) {
    return write_all(ab_w.get(), b, n) && read_all(ba_r.get(), b, n);
  }
};

// fifo: two named pipes (mkfifo 0600) in a private directory, opened by path in the same order
// on both sides (A->B first) so the blocking opens cannot deadlock.
struct FifoRef {
  PrivateDir dir;
  std::string ab = dir.file("ab"), ba = dir.file("ba");
  Fd w, r;
  explicit FifoRef(size_t) {
    for (const auto& p : {ab, ba}) {
      check_errno(fmt::format("mkfifo({})", p), [&] { return ::mkfifo(p.c_str(), 0600); });
    }
  }
  void child(std::byte* b, size_t n) {
    Fd cr(check_errno("open(ab)", [&] { return ::open(ab.c_str(), O_RDONLY | O_CLOEXEC); }));
    Fd cw(check_errno("open(ba)", [&] { return ::open(ba.c_str(), O_WRONLY | O_CLOEXEC); }));
    while (read_all(cr.get(), b, n) && write_all(cw.get(), b, n)) {
    }
  }
  bool attach() {
    w.reset(parent_wait("open(ab)", [&] { return ::open(ab.c_str(), O_WRONLY | O_CLOEXEC); }));
    if (!w.valid()) return false;
    r.reset(parent_wait("open(ba)", [&] { return ::open(ba.c_str(), O_RDONLY | O_CLOEXEC); }));
    return r.valid();
  }
  bool round_trip(std::byte* b, size_t n) {
    return write_all(w.get(), b, n) && read_all(r.get(), b, n);
  }
};

void set_nodelay(int fd) {
  const int one = 1;
  check_errno("setsockopt(TCP_NODELAY)",
              [&] { return ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); });
}

// The child of a stream-socket mechanism: connects to the parent's listener and echoes.
template <class Addr>
void connect_and_echo(int family, const Addr& addr, bool nodelay, std::byte* b, size_t n) {
  Fd s = make_socket(family, SOCK_STREAM);
  if (nodelay) set_nodelay(s.get());
  check_errno("connect", [&] {
    return ::connect(s.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  });
  while (read_all(s.get(), b, n) && write_all(s.get(), b, n)) {
  }
}

// The parent of a stream-socket mechanism: accepts the child's connection, then closes the
// listener. Invalid when the child died first.
Fd accept_child(Fd& listener) {
  Fd conn(parent_wait(
      "accept", [&] { return ::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC); }));
  listener.reset();
  return conn;
}

// uds-stream: AF_UNIX SOCK_STREAM on a filesystem path; the parent listens and accepts, the
// child connects. write(2) / read(2).
struct UdsStreamRef {
  PrivateDir dir;
  sockaddr_un addr = unix_address(dir.file("s.sock"));
  Fd listener, conn;
  explicit UdsStreamRef(size_t) {
    listener = make_socket(AF_UNIX, SOCK_STREAM);
    check_errno("bind", [&] {
      return ::bind(listener.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
    });
    check_errno("listen", [&] { return ::listen(listener.get(), 1); });
  }
  void child(std::byte* b, size_t n) { connect_and_echo(AF_UNIX, addr, false, b, n); }
  bool attach() {
    conn = accept_child(listener);
    return conn.valid();
  }
  bool round_trip(std::byte* b, size_t n) {
    return write_all(conn.get(), b, n) && read_all(conn.get(), b, n);
  }
};

// The message-socket mechanisms (uds-seqpacket, uds-dgram, udp): one connected socket per side;
// the child echoes on b, the parent sends and receives on a. Each derived struct only sets them up.
struct MessageSocketRef {
  Fd a, b;
  void child(std::byte* buf, size_t n) {
    while (recv_msg(b.get(), buf, n) && send_msg(b.get(), buf, n)) {
    }
  }
  bool attach() {
    b.reset();
    return true;
  }
  bool round_trip(std::byte* buf, size_t n) {
    return send_msg(a.get(), buf, n) && recv_msg(a.get(), buf, n);
  }
};

// uds-seqpacket: socketpair(AF_UNIX, SOCK_SEQPACKET); one send(2), one recv(2) per message.
struct UdsSeqpacketRef : MessageSocketRef {
  explicit UdsSeqpacketRef(size_t) {
    int sv[2];
    check_errno("socketpair",
                [&] { return ::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv); });
    a.reset(sv[0]);
    b.reset(sv[1]);
  }
};

// uds-dgram: AF_UNIX SOCK_DGRAM sockets bound to a.sock and b.sock in a private directory and
// connected to each other; send(2) / recv(2).
struct UdsDgramRef : MessageSocketRef {
  PrivateDir dir;
  explicit UdsDgramRef(size_t) {
    const sockaddr_un aa = unix_address(dir.file("a.sock")), ba = unix_address(dir.file("b.sock"));
    a = make_socket(AF_UNIX, SOCK_DGRAM);
    b = make_socket(AF_UNIX, SOCK_DGRAM);
    auto sa = [](const sockaddr_un& x) { return reinterpret_cast<const sockaddr*>(&x); };
    check_errno("bind(a.sock)", [&] { return ::bind(a.get(), sa(aa), sizeof aa); });
    check_errno("bind(b.sock)", [&] { return ::bind(b.get(), sa(ba), sizeof ba); });
    check_errno("connect(a->b)", [&] { return ::connect(a.get(), sa(ba), sizeof ba); });
    check_errno("connect(b->a)", [&] { return ::connect(b.get(), sa(aa), sizeof aa); });
  }
};

sockaddr_in loopback(uint16_t port_be) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = port_be;
  return a;
}

sockaddr_in bound_address(int fd) {
  sockaddr_in a{};
  socklen_t len = sizeof a;
  check_errno("getsockname",
              [&] { return ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len); });
  return a;
}

// tcp: 127.0.0.1, ephemeral port, TCP_NODELAY on both ends; write(2) / read(2).
struct TcpRef {
  Fd listener, conn;
  sockaddr_in addr{};
  explicit TcpRef(size_t) {
    listener = make_socket(AF_INET, SOCK_STREAM);
    const sockaddr_in any = loopback(0);
    check_errno("bind(127.0.0.1:0)", [&] {
      return ::bind(listener.get(), reinterpret_cast<const sockaddr*>(&any), sizeof any);
    });
    check_errno("listen", [&] { return ::listen(listener.get(), 1); });
    addr = bound_address(listener.get());
  }
  void child(std::byte* b, size_t n) { connect_and_echo(AF_INET, addr, true, b, n); }
  bool attach() {
    conn = accept_child(listener);
    if (!conn.valid()) return false;
    set_nodelay(conn.get());
    return true;
  }
  bool round_trip(std::byte* b, size_t n) {
    return write_all(conn.get(), b, n) && read_all(conn.get(), b, n);
  }
};

// udp: two sockets on 127.0.0.1, ephemeral ports, connected to each other; send(2) / recv(2).
// UDP may drop: the parent's socket has a 1 s receive timeout so that a lost datagram fails the
// benchmark instead of hanging it (SO_RCVTIMEO adds no system call; ipcperf's udp backend
// uses a receive timeout too).
struct UdpRef : MessageSocketRef {
  static constexpr size_t kMaxPayload = 65507;  // 65535 - 20 (IPv4 header) - 8 (UDP header)
  explicit UdpRef(size_t n) {
    if (n > kMaxPayload) {
      throw Skip(fmt::format("udp: {} bytes exceed the IPv4 UDP payload limit of {} bytes", n,
                             kMaxPayload));
    }
    a = make_socket(AF_INET, SOCK_DGRAM);
    b = make_socket(AF_INET, SOCK_DGRAM);
    const sockaddr_in any = loopback(0);
    for (int fd : {a.get(), b.get()}) {
      check_errno("bind(127.0.0.1:0)",
                  [&] { return ::bind(fd, reinterpret_cast<const sockaddr*>(&any), sizeof any); });
    }
    const sockaddr_in aa = bound_address(a.get()), ba = bound_address(b.get());
    check_errno("connect(a->b)", [&] {
      return ::connect(a.get(), reinterpret_cast<const sockaddr*>(&ba), sizeof ba);
    });
    check_errno("connect(b->a)", [&] {
      return ::connect(b.get(), reinterpret_cast<const sockaddr*>(&aa), sizeof aa);
    });
    const timeval tv{1, 0};
    check_errno("setsockopt(SO_RCVTIMEO)",
                [&] { return ::setsockopt(a.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv); });
  }
};

// posix-mq: two queues, mq_send(3) / mq_receive(3) (the mq_timedsend / mq_timedreceive system
// calls), priority 0. Depth 1: a ping-pong never has more than one message in flight per
// direction, and it keeps two queues of 64 KiB messages within RLIMIT_MSGQUEUE (800 KiB).
// The names are unlinked as soon as both queues are open: the descriptors survive the fork,
// and nothing is left behind whatever happens next.
struct PosixMqRef {
  class Queue {
   public:
    Queue(const std::string& name, size_t n) {
      mq_attr attr{};
      attr.mq_maxmsg = 1;
      attr.mq_msgsize = static_cast<long>(n);
      q_ = ::mq_open(name.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600, &attr);
      if (q_ == static_cast<mqd_t>(-1)) {
        const int err = errno;
        if (err == ENOSYS) throw Skip("posix-mq: POSIX message queues are not available (ENOSYS)");
        if (err == EINVAL || err == EMFILE || err == ENOMEM) {
          throw Skip(fmt::format(
              "posix-mq: mq_open(msgsize {}): {} ({}); limit /proc/sys/fs/mqueue/msgsize_max = "
              "{} (root: up to 16 MiB), RLIMIT_MSGQUEUE bounds depth x size",
              n, std::strerror(err), errno_name(err),
              read_proc_size("/proc/sys/fs/mqueue/msgsize_max")));
        }
        throw SystemError(err, fmt::format("mq_open({})", name));
      }
      ::mq_unlink(name.c_str());
    }
    Queue(const Queue&) = delete;
    Queue& operator=(const Queue&) = delete;
    ~Queue() { ::mq_close(q_); }
    [[nodiscard]] mqd_t get() const { return q_; }

   private:
    mqd_t q_;
  };

  std::string base = "/" + make_object_name();
  Queue ab, ba;
  explicit PosixMqRef(size_t n) : ab(base + "-ab", n), ba(base + "-ba", n) {}

  static bool send(mqd_t q, const std::byte* p, size_t n) {
    while (::mq_send(q, reinterpret_cast<const char*>(p), n, 0) != 0) {
      if (!retry_after(errno)) return fail("mq_send", errno);
    }
    return true;
  }
  static bool receive(mqd_t q, std::byte* p, size_t n) {
    for (;;) {
      const ssize_t r = ::mq_receive(q, reinterpret_cast<char*>(p), n, nullptr);
      if (r == static_cast<ssize_t>(n)) return true;
      if (r >= 0) return fail("mq_receive (short)", 0);
      if (!retry_after(errno)) return fail("mq_receive", errno);
    }
  }
  void child(std::byte* b, size_t n) {
    while (receive(ab.get(), b, n) && send(ba.get(), b, n)) {
    }
  }
  bool attach() { return true; }
  bool round_trip(std::byte* b, size_t n) {
    return send(ab.get(), b, n) && receive(ba.get(), b, n);
  }
};

// sysv-mq: one System V queue per direction, msgsnd(2) / msgrcv(2), type 1. Recorded in a
// private directory so that `ipcperf clean` finds the queues of a killed run; removed with
// IPC_RMID by remove_private_dir().
struct SysvMqRef {
  PrivateDir dir;
  int ab = -1, ba = -1;
  std::vector<std::byte> msg;  // long mtype, then the message
  explicit SysvMqRef(size_t n) : msg(sizeof(long) + n) {
    const size_t msgmax = read_proc_size("/proc/sys/kernel/msgmax");
    const size_t msgmnb = read_proc_size("/proc/sys/kernel/msgmnb");
    if (n > msgmax || n > msgmnb) {
      throw Skip(fmt::format(
          "sysv-mq: {} bytes exceed /proc/sys/kernel/msgmax = {} or msgmnb = {} (sysctl "
          "kernel.msgmax / kernel.msgmnb)",
          n, msgmax, msgmnb));
    }
    for (int* id : {&ab, &ba}) {
      *id = ::msgget(IPC_PRIVATE, IPC_CREAT | 0600);
      if (*id < 0) {
        if (errno == ENOSYS) throw Skip("sysv-mq: System V message queues are not available");
        throw_errno("msgget(IPC_PRIVATE)");
      }
      record_sysv_queue(dir.path(), *id);
    }
    const long type = 1;
    std::memcpy(msg.data(), &type, sizeof type);
  }
  static bool send(int q, const void* m, size_t n) {
    while (::msgsnd(q, m, n, 0) != 0) {
      if (!retry_after(errno)) return fail("msgsnd", errno);
    }
    return true;
  }
  static bool receive(int q, void* m, size_t n) {
    for (;;) {
      const ssize_t r = ::msgrcv(q, m, n, 0, 0);
      if (r == static_cast<ssize_t>(n)) return true;
      if (r >= 0) return fail("msgrcv (short)", 0);
      if (!retry_after(errno)) return fail("msgrcv", errno);
    }
  }
  void child(std::byte*, size_t n) {
    while (receive(ab, msg.data(), n) && send(ba, msg.data(), n)) {
    }
  }
  bool attach() { return true; }
  bool round_trip(std::byte*, size_t n) {
    return send(ab, msg.data(), n) && receive(ba, msg.data(), n);
  }
};

// --- the benchmark ----------------------------------------------------------------------------

template <class M>
void pingpong_ref(benchmark::State& state) {
  const auto n = static_cast<size_t>(state.range(0));
  try {
    // Declared in this order so that the child is killed before the objects are removed.
    M m(n);
    std::vector<std::byte> buf(n);
    EchoChild echo([&] { m.child(buf.data(), n); });
    if (!m.attach()) {
      state.SkipWithError(echo.failure().c_str());
      return;
    }
    for (int i = 0; i < kWarmup; ++i) {
      if (!m.round_trip(buf.data(), n)) {
        state.SkipWithError(echo.failure().c_str());
        return;
      }
    }
    for (auto _ : state) {
      if (!m.round_trip(buf.data(), n)) [[unlikely]] {
        state.SkipWithError(echo.failure().c_str());
        break;
      }
    }
    state.SetItemsProcessed(state.iterations());  // round trips per second
    state.SetBytesProcessed(state.iterations() * 2 * static_cast<int64_t>(n));  // both ways
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
  }
}

struct Mechanism {
  const char* name;
  void (*fn)(benchmark::State&);
};
constexpr Mechanism kMechanisms[] = {
    {"pipe", pingpong_ref<PipeRef>},
    {"fifo", pingpong_ref<FifoRef>},
    {"uds-stream", pingpong_ref<UdsStreamRef>},
    {"uds-dgram", pingpong_ref<UdsDgramRef>},
    {"uds-seqpacket", pingpong_ref<UdsSeqpacketRef>},
    {"tcp", pingpong_ref<TcpRef>},
    {"udp", pingpong_ref<UdpRef>},
    {"posix-mq", pingpong_ref<PosixMqRef>},
    {"sysv-mq", pingpong_ref<SysvMqRef>},
};

// --- command line (our flags, taken out before Google Benchmark sees argv) --------------------

std::vector<std::string> split(std::string_view s) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    const size_t comma = s.find(',', start);
    out.emplace_back(s.substr(start, comma - start));
    if (comma == std::string_view::npos) return out;
    start = comma + 1;
  }
}

// "64", "4K", "64k", "1M" (x1024).
int64_t parse_size(const std::string& s) {
  int64_t v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  std::string_view rest(p, s.data() + s.size() - p);
  if (ec == std::errc() && (rest == "K" || rest == "k")) {
    v *= 1024;
  } else if (ec == std::errc() && (rest == "M" || rest == "m")) {
    v *= int64_t{1024} * 1024;
  } else if (ec != std::errc() || !rest.empty()) {
    v = -1;
  }
  if (v < 1)
    throw UsageError(fmt::format("--sizes: '{}' is not a size in bytes (K/M suffixes)", s));
  return v;
}

struct Options {
  std::vector<int64_t> sizes{64, 4096, 65536};
};

// Takes --cpus A,B and --sizes LIST (also as --x=value) out of argv.
Options parse_own_flags(int& argc, char** argv) {
  Options o;
  const auto allowed = allowed_cpus();
  if (allowed.empty()) throw UsageError("sched_getaffinity failed: no CPU to run on");
  g_cpu_a = allowed[0];
  g_cpu_b = allowed.size() > 1 ? allowed[1] : allowed[0];
  int out = 1;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    std::string value;
    std::string_view flag;
    for (std::string_view f : {"--cpus", "--sizes"}) {
      if (a == f && i + 1 < argc) {
        flag = f;
        value = argv[++i];
      } else if (a.starts_with(std::string(f) + "=")) {
        flag = f;
        value = std::string(a.substr(f.size() + 1));
      }
    }
    if (flag == "--cpus") {
      const auto items = split(value);
      if (items.size() != 2) {
        throw UsageError(fmt::format("--cpus: '{}' must be two CPUs A,B (e.g. 0,1)", value));
      }
      int cpu[2];
      for (int k = 0; k < 2; ++k) {
        const auto& s = items[static_cast<size_t>(k)];
        const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), cpu[k]);
        if (ec != std::errc() || p != s.data() + s.size() ||
            std::find(allowed.begin(), allowed.end(), cpu[k]) == allowed.end()) {
          throw UsageError(fmt::format("--cpus: '{}' is not a CPU this process may use", s));
        }
      }
      g_cpu_a = cpu[0];
      g_cpu_b = cpu[1];
    } else if (flag == "--sizes") {
      o.sizes.clear();
      for (const auto& s : split(value)) o.sizes.push_back(parse_size(s));
    } else {
      argv[out++] = argv[i];
    }
  }
  argc = out;
  argv[argc] = nullptr;
  return o;
}

void on_sigusr1(int) {}  // only there to interrupt a blocked call (no SA_RESTART)

}  // namespace
}  // namespace ipcperf

int main(int argc, char** argv) {
  using namespace ipcperf;
  Options opts;
  try {
    opts = parse_own_flags(argc, argv);
    pin_to(g_cpu_a);  // the benchmark runs in this thread; the echo child pins itself to B
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ipcperf_syscall_ref: %s\n", e.what());
    return 2;
  }
  // A write to a dead child's pipe or socket must fail with EPIPE, not kill the benchmark.
  ::signal(SIGPIPE, SIG_IGN);
  struct sigaction sa {};
  sa.sa_handler = on_sigusr1;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: the blocked call must return EINTR
  ::sigaction(SIGUSR1, &sa, nullptr);

  for (const auto& m : kMechanisms) {
    auto* b = benchmark::RegisterBenchmark(fmt::format("syscall_ref/{}", m.name).c_str(), m.fn);
    b->ArgName("size")->UseRealTime()->Unit(benchmark::kNanosecond);
    for (int64_t s : opts.sizes) b->Arg(s);
  }
  benchmark::AddCustomContext("cpus_pinned", fmt::format("{},{}", g_cpu_a, g_cpu_b));
  benchmark::AddCustomContext(
      "pinning", fmt::format("timing parent on CPU {}, echo child on CPU {}", g_cpu_a, g_cpu_b));
  benchmark::AddCustomContext("unit",
                              "real_time = ns per round trip; items_per_second = round trips/s");
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
