#include "launcher.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include "ipcperf/sys.hpp"
#include "ipcperf/wait.hpp"
#include "protocol.hpp"

namespace ipcperf {

namespace {

std::string g_self_exe;
std::atomic<int> g_signal{0};
int g_signal_pipe[2] = {-1, -1};

void on_signal(int sig) {
  g_signal.store(sig);
  if (g_signal_pipe[1] >= 0) {
    const char c = 1;
    [[maybe_unused]] ssize_t n = ::write(g_signal_pipe[1], &c, 1);
  }
}

// The terminating signals the supervisor catches: each stops the run, which removes every IPC
// object and exits 128 + N. SIGPIPE is ignored instead (a reader of stdout that quits makes the
// table's writes fail with EPIPE; the result files are still written), and so is SIGXFSZ (a file
// size limit makes the write fail with EFBIG, reported, the old file kept).
constexpr int kCaughtSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM};

constexpr size_t kStderrTail = 8192;

// The state letter of /proc/<pid>/stat ('R', 'S', 'T' stopped, ...), '?' when unreadable.
char process_state(pid_t pid) {
  std::ifstream f(fmt::format("/proc/{}/stat", pid));
  std::string line;
  if (!std::getline(f, line)) return '?';
  const size_t paren = line.rfind(')');  // the command name may hold spaces and parentheses
  return paren != std::string::npos && paren + 2 < line.size() ? line[paren + 2] : '?';
}

struct Child {
  pid_t pid = -1;
  Fd ctl;
  Fd err;
  LineBuffer lines;
  std::string stderr_tail;
  bool ready = false;
  bool ctl_eof = false;
  bool err_eof = false;
  bool killed = false;
  bool gone = false;  // failed because the other peer went away
  PeerReport report;
  [[nodiscard]] bool has_result() const { return !report.outcomes.empty(); }
  [[nodiscard]] bool done() const { return has_result() || !report.error.empty() || ctl_eof; }
  [[nodiscard]] PeerState state() const {
    return {pid > 0, has_result(), !report.error.empty(), gone, ctl_eof};
  }
};

std::string describe_status(int status) {
  if (WIFEXITED(status)) return fmt::format("exited with status {}", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    const char* name = ::sigabbrev_np(sig);
    return fmt::format("was killed by signal {} (SIG{})", sig, name != nullptr ? name : "?");
  }
  return fmt::format("ended with wait status {}", status);
}

std::string one_line(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  std::replace(s.begin(), s.end(), '\n', ' ');
  return s;
}

void kill_all(std::vector<Child>& kids) {
  for (auto& k : kids) {
    if (k.pid > 0 && !k.killed) {
      ::kill(k.pid, SIGKILL);
      k.killed = true;
    }
  }
}

pid_t spawn(const PeerLaunch& p, int ctl_child, int err_child, pid_t supervisor) {
  // Everything the child needs is built before fork: after it, only async-signal-safe calls.
  std::vector<std::string> args = {g_self_exe, "peer", "--control-fd", std::to_string(ctl_child)};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  cpu_set_t set;
  CPU_ZERO(&set);
  if (p.cpu >= 0) CPU_SET(p.cpu, &set);

  const pid_t pid = ::fork();
  if (pid < 0) throw_errno("fork", "too many processes? (ulimit -u)");
  if (pid > 0) return pid;

  // Child.
  for (int sig : kCaughtSignals) ::signal(sig, SIG_DFL);
  ::signal(SIGXFSZ, SIG_DFL);
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the supervisor
  if (::getppid() != supervisor) ::_exit(127);
  auto die = [](const char* what) {
    const char* msg = ::strerror(errno);
    [[maybe_unused]] ssize_t n = ::write(2, what, ::strlen(what));
    n = ::write(2, ": ", 2);
    n = ::write(2, msg, ::strlen(msg));
    n = ::write(2, "\n", 1);
    ::_exit(127);
  };
  if (::dup2(err_child, 2) < 0) die("dup2(stderr)");
  if (p.cpu >= 0 && ::sched_setaffinity(0, sizeof set, &set) != 0) die("sched_setaffinity");
  if (::fcntl(ctl_child, F_SETFD, 0) != 0) die("fcntl(control fd)");
  for (int fd : p.inherit) {
    if (::fcntl(fd, F_SETFD, 0) != 0) die("fcntl(inherited fd)");
  }
  ::execv(argv[0], argv.data());
  die("execv");
  return -1;
}

}  // namespace

void set_self_exe(std::string path) { g_self_exe = std::move(path); }
const std::string& self_exe() { return g_self_exe; }

void install_interrupt_handler() {
  if (g_signal_pipe[0] < 0) {
    if (::pipe2(g_signal_pipe, O_CLOEXEC | O_NONBLOCK) != 0) throw_errno("pipe2(signal pipe)");
  }
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  ::sigemptyset(&sa.sa_mask);
  for (int sig : kCaughtSignals) ::sigaction(sig, &sa, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  ::signal(SIGXFSZ, SIG_IGN);
}

bool interrupted() { return g_signal.load() != 0; }
int interrupt_signal() { return g_signal.load(); }

namespace {

// One case's peers, from spawn to reap.
class Session {
 public:
  Session(const std::vector<PeerLaunch>& peers, double timeout_s)
      : peers_(peers),
        kids_(peers.size()),
        timeout_s_(timeout_s),
        deadline_(now_ns() + static_cast<int64_t>(std::min(timeout_s, 1e9) * 1e9)) {}

  std::vector<PeerReport> run(Endpoints* endpoints) {
    spawn_all();
    if (endpoints != nullptr) endpoints->close_all();
    if (!run_error_.empty()) kill_all(kids_);
    while (run_error_.empty() && !all_done()) pump();
    if (!run_error_.empty()) kill_all(kids_);
    for (size_t i = 0; i < kids_.size(); ++i) reap(i);
    blame_secondary();
    std::vector<PeerReport> out;
    for (auto& k : kids_) out.push_back(std::move(k.report));
    return out;
  }

 private:
  // Forks each peer with a control socket and a stderr pipe, and sends it its JOB.
  void spawn_all() {
    const pid_t me = ::getpid();
    for (size_t i = 0; i < peers_.size() && run_error_.empty(); ++i) {
      try {
        int sv[2];
        check_errno("socketpair(control)",
                    [&] { return ::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv); });
        kids_[i].ctl = Fd(sv[0]);
        Fd child_ctl(sv[1]);
        int ep[2];
        check_errno("pipe2(stderr)", [&] { return ::pipe2(ep, O_CLOEXEC); });
        kids_[i].err = Fd(ep[0]);
        Fd child_err(ep[1]);
        kids_[i].pid = spawn(peers_[i], child_ctl.get(), child_err.get(), me);
        // The job fits the socket's buffer: this write does not wait for the peer.
        send_control(kids_[i].ctl.get(), {ControlKind::kJob, encode_job(peers_[i].job)});
      } catch (const std::exception& e) {
        run_error_ = e.what();
      }
    }
  }

  [[nodiscard]] bool all_done() const {
    return std::all_of(kids_.begin(), kids_.end(),
                       [](const Child& k) { return k.pid < 0 || k.done(); });
  }

  // One poll round over every control socket and stderr pipe (and the signal pipe): reads what
  // arrived, then stops everyone if a peer failed, or sends GO once all are ready.
  void pump() {
    std::vector<pollfd> fds;
    std::vector<std::pair<size_t, bool>> who;  // (child, is_ctl)
    for (size_t i = 0; i < kids_.size(); ++i) {
      if (kids_[i].pid < 0) continue;
      if (!kids_[i].ctl_eof) {
        fds.push_back({kids_[i].ctl.get(), POLLIN, 0});
        who.emplace_back(i, true);
      }
      if (!kids_[i].err_eof) {
        fds.push_back({kids_[i].err.get(), POLLIN, 0});
        who.emplace_back(i, false);
      }
    }
    fds.push_back({g_signal_pipe[0], POLLIN, 0});
    const int64_t left_ms = (deadline_ - now_ns()) / 1'000'000;
    if (left_ms <= 0) {
      run_error_ = timeout_message();
      return;
    }
    const int n = ::poll(fds.data(), static_cast<nfds_t>(fds.size()),
                         static_cast<int>(std::min<int64_t>(left_ms, 1000)));
    if (n < 0 && errno != EINTR) {
      run_error_ = SystemError(errno, "poll(peers)").what();
      return;
    }
    if (interrupted()) {
      run_error_ = fmt::format("interrupted by signal {}", interrupt_signal());
      return;
    }
    if (n <= 0) return;
    for (size_t j = 0; j + 1 < fds.size(); ++j) {
      if (fds[j].revents != 0) read_from(kids_[who[j].first], fds[j].fd, who[j].second);
    }
    stop_on_failure();
    send_go_when_ready();
  }

  // Names the peers not done; a stopped one (SIGSTOP, a debugger) is named as the culprit, since
  // the other then only waits for it.
  std::string timeout_message() const {
    std::string waiting, stopped;
    for (size_t i = 0; i < kids_.size(); ++i) {
      if (kids_[i].done()) continue;
      waiting += (waiting.empty() ? "" : ", ") + peers_[i].label;
      const char state = process_state(kids_[i].pid);
      if (state == 'T' || state == 't') stopped += (stopped.empty() ? "" : ", ") + peers_[i].label;
    }
    if (!stopped.empty()) {
      return fmt::format(
          "timed out after {} s (--timeout): peer {} is stopped (SIGSTOP or a debugger), the other "
          "waited for it",
          timeout_s_, stopped);
    }
    return fmt::format(
        "timed out after {} s (--timeout) waiting for peer {}{}; a peer is stuck or the case "
        "needs more time",
        timeout_s_, waiting, go_sent_ ? "" : " to get ready");
  }

  void read_from(Child& k, int fd, bool is_ctl) {
    char buf[4096];
    const ssize_t r = ::read(fd, buf, sizeof buf);
    if (r < 0 && errno == EINTR) return;
    if (!is_ctl) {
      if (r <= 0) {
        k.err_eof = true;
        return;
      }
      k.stderr_tail.append(buf, static_cast<size_t>(r));
      if (k.stderr_tail.size() > kStderrTail)
        k.stderr_tail.erase(0, k.stderr_tail.size() - kStderrTail);
      return;
    }
    if (r <= 0) {
      k.ctl_eof = true;
      return;
    }
    try {
      k.lines.feed({buf, static_cast<size_t>(r)});
      for (std::string line; k.lines.next(line);) on_message(k, decode_control(line));
    } catch (const ProtocolError& e) {
      k.report.error = e.what();
    }
  }

  static void on_message(Child& k, const ControlMessage& m) {
    switch (m.kind) {
      case ControlKind::kReady:
        k.ready = true;
        return;
      case ControlKind::kResult:
        k.report.outcomes = decode_result(m.body);
        return;
      case ControlKind::kGone:
        k.gone = true;
        [[fallthrough]];
      case ControlKind::kError:
        k.report.error = m.body;
        return;
      case ControlKind::kJob:
      case ControlKind::kGo:
        break;
    }
    throw ProtocolError(fmt::format("unexpected {} from a peer", to_string(m.kind)));
  }

  // One peer failed or died: the others cannot finish, stop them now.
  void stop_on_failure() {
    if (culprit_ >= 0) return;
    std::vector<PeerState> states;
    for (const auto& k : kids_) states.push_back(k.state());
    culprit_ = pick_culprit(states);
    if (culprit_ >= 0) kill_all(kids_);
  }

  void send_go_when_ready() {
    if (go_sent_ ||
        !std::all_of(kids_.begin(), kids_.end(), [](const Child& k) { return k.ready; }))
      return;
    for (auto& k : kids_) {
      try {
        send_control(k.ctl.get(), {ControlKind::kGo, ""});
      } catch (const std::exception&) {
        // The peer died; its EOF is seen on the next poll.
      }
    }
    go_sent_ = true;
  }

  // Waits for peer i and explains its failure, with whatever it wrote to stderr.
  void reap(size_t i) {
    Child& k = kids_[i];
    if (k.pid < 0) {
      if (k.report.error.empty()) k.report.error = run_error_.empty() ? "not started" : run_error_;
      return;
    }
    int status = 0;
    while (::waitpid(k.pid, &status, 0) < 0 && errno == EINTR) {
    }
    drain_stderr(k);
    if (k.has_result() && k.report.error.empty()) {
      if (!run_error_.empty()) {
        k.report.outcomes.clear();
        k.report.error = run_error_;
      }
      return;
    }
    std::string why = k.report.error;
    if (why.empty()) {
      why = !run_error_.empty()
                ? run_error_
                : fmt::format("peer {} {}", peers_[i].label, describe_status(status));
    } else if (!run_error_.empty() && why != run_error_) {
      why = fmt::format("{}; {}", run_error_, why);
    }
    const std::string tail = one_line(k.stderr_tail);
    if (!tail.empty())
      why += fmt::format(" [peer {} stderr: {}]", peers_[i].label, tail.substr(0, 2000));
    k.report.outcomes.clear();
    k.report.error = why;
  }

  static void drain_stderr(Child& k) {
    for (;;) {
      char buf[4096];
      pollfd p{k.err.get(), POLLIN, 0};
      if (k.err_eof || ::poll(&p, 1, 0) <= 0) break;
      const ssize_t r = ::read(k.err.get(), buf, sizeof buf);
      if (r <= 0) break;
      k.stderr_tail.append(buf, static_cast<size_t>(r));
    }
  }

  // A peer killed by us because another failed: say so rather than "killed by signal 9".
  void blame_secondary() {
    if (culprit_ < 0 || !run_error_.empty()) return;
    for (size_t i = 0; i < kids_.size(); ++i) {
      if (static_cast<int>(i) != culprit_ && !kids_[i].report.error.empty()) {
        kids_[i].report.error = fmt::format("stopped because peer {} failed",
                                            peers_[static_cast<size_t>(culprit_)].label);
        kids_[i].report.secondary = true;
      }
    }
  }

  const std::vector<PeerLaunch>& peers_;
  std::vector<Child> kids_;
  double timeout_s_;
  int64_t deadline_;
  bool go_sent_ = false;
  int culprit_ = -1;       // the first peer that failed on its own
  std::string run_error_;  // the case failed as a whole: spawn, timeout, signal, poll
};

}  // namespace

int pick_culprit(const std::vector<PeerState>& peers) {
  int culprit = -1;
  int best_rank = 3;
  for (size_t i = 0; i < peers.size(); ++i) {
    const PeerState& p = peers[i];
    if (!p.started || p.has_result) continue;
    // 0: died without a word; 1: failed on its own; 2: saw the other go; 3: still running.
    const int rank = !p.failed ? (p.ctl_eof ? 0 : 3) : (p.gone ? 2 : 1);
    if (rank < best_rank) {
      best_rank = rank;
      culprit = static_cast<int>(i);
    }
  }
  return culprit;
}

const PeerReport* first_failure(const std::vector<PeerReport>& reports) {
  for (bool secondary : {false, true}) {
    for (const auto& r : reports) {
      if (!r.error.empty() && r.secondary == secondary) return &r;
    }
  }
  return nullptr;
}

std::vector<PeerReport> run_peers(const std::vector<PeerLaunch>& peers, double timeout_s,
                                  Endpoints* endpoints) {
  return Session(peers, timeout_s).run(endpoints);
}

}  // namespace ipcperf
