#include "launcher.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>

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

constexpr size_t kStderrTail = 8192;

struct Child {
  pid_t pid = -1;
  Fd ctl;
  Fd err;
  std::string ctl_buf;
  std::string stderr_tail;
  bool ready = false;
  bool ctl_eof = false;
  bool err_eof = false;
  bool killed = false;
  bool gone = false;  // failed because the other peer went away
  PeerReport report;
  [[nodiscard]] bool done() const {
    return report.result.has_value() || !report.error.empty() || ctl_eof;
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
  std::vector<std::string> args;
  args.push_back(g_self_exe);
  args.insert(args.end(), p.args.begin(), p.args.end());
  args.push_back("--control-fd");
  args.push_back(std::to_string(ctl_child));
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
  ::signal(SIGINT, SIG_DFL);
  ::signal(SIGTERM, SIG_DFL);
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
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  ::sigaction(SIGHUP, &sa, nullptr);
}

bool interrupted() { return g_signal.load() != 0; }
int interrupt_signal() { return g_signal.load(); }

std::vector<PeerReport> run_peers(const std::vector<PeerLaunch>& peers, double timeout_s,
                                  Endpoints* endpoints) {
  std::vector<Child> kids(peers.size());
  const pid_t me = ::getpid();
  std::string spawn_error;
  for (size_t i = 0; i < peers.size(); ++i) {
    int sv[2];
    int ep[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
      spawn_error = SystemError(errno, "socketpair(control)").what();
      break;
    }
    kids[i].ctl = Fd(sv[0]);
    Fd child_ctl(sv[1]);
    if (::pipe2(ep, O_CLOEXEC) != 0) {
      spawn_error = SystemError(errno, "pipe2(stderr)").what();
      break;
    }
    kids[i].err = Fd(ep[0]);
    Fd child_err(ep[1]);
    try {
      kids[i].pid = spawn(peers[i], child_ctl.get(), child_err.get(), me);
    } catch (const std::exception& e) {
      spawn_error = e.what();
      break;
    }
  }
  if (endpoints != nullptr) endpoints->close_all();

  const int64_t deadline = now_ns() + static_cast<int64_t>(timeout_s * 1e9);
  bool go_sent = false;
  int culprit = -1;  // the first peer that failed on its own
  std::string run_error = spawn_error;
  if (!run_error.empty()) kill_all(kids);

  auto all_done = [&] {
    return std::all_of(kids.begin(), kids.end(),
                       [](const Child& k) { return k.pid < 0 || k.done(); });
  };
  while (run_error.empty() && !all_done()) {
    std::vector<pollfd> fds;
    std::vector<std::pair<size_t, bool>> who;  // (child, is_ctl)
    for (size_t i = 0; i < kids.size(); ++i) {
      if (kids[i].pid < 0) continue;
      if (!kids[i].ctl_eof) {
        fds.push_back({kids[i].ctl.get(), POLLIN, 0});
        who.emplace_back(i, true);
      }
      if (!kids[i].err_eof) {
        fds.push_back({kids[i].err.get(), POLLIN, 0});
        who.emplace_back(i, false);
      }
    }
    fds.push_back({g_signal_pipe[0], POLLIN, 0});
    const int64_t left_ms = (deadline - now_ns()) / 1'000'000;
    if (left_ms <= 0) {
      std::string waiting;
      for (size_t i = 0; i < kids.size(); ++i) {
        if (!kids[i].done()) waiting += (waiting.empty() ? "" : ", ") + peers[i].label;
      }
      run_error = fmt::format(
          "timed out after {} s (--timeout) waiting for peer {}{}; a peer "
          "is stuck or the case needs more time",
          timeout_s, waiting, go_sent ? "" : " to get ready");
      break;
    }
    const int n = ::poll(fds.data(), static_cast<nfds_t>(fds.size()),
                         static_cast<int>(std::min<int64_t>(left_ms, 1000)));
    if (n < 0 && errno != EINTR) {
      run_error = SystemError(errno, "poll(peers)").what();
      break;
    }
    if (interrupted()) {
      run_error = fmt::format("interrupted by signal {}", interrupt_signal());
      break;
    }
    if (n <= 0) continue;
    for (size_t j = 0; j + 1 < fds.size(); ++j) {
      if (fds[j].revents == 0) continue;
      Child& k = kids[who[j].first];
      char buf[4096];
      const ssize_t r = ::read(fds[j].fd, buf, sizeof buf);
      if (r < 0 && errno == EINTR) continue;
      if (!who[j].second) {
        if (r <= 0) {
          k.err_eof = true;
        } else {
          k.stderr_tail.append(buf, static_cast<size_t>(r));
          if (k.stderr_tail.size() > kStderrTail)
            k.stderr_tail.erase(0, k.stderr_tail.size() - kStderrTail);
        }
        continue;
      }
      if (r <= 0) {
        k.ctl_eof = true;
        continue;
      }
      k.ctl_buf.append(buf, static_cast<size_t>(r));
      for (size_t nl; (nl = k.ctl_buf.find('\n')) != std::string::npos;) {
        std::string line = k.ctl_buf.substr(0, nl);
        k.ctl_buf.erase(0, nl + 1);
        if (line == "READY") {
          k.ready = true;
        } else if (line.rfind("RESULT ", 0) == 0) {
          try {
            k.report.result = nlohmann::json::parse(line.substr(7));
          } catch (const std::exception& e) {
            k.report.error = fmt::format("unreadable result: {}", e.what());
          }
        } else if (line.rfind("ERROR ", 0) == 0) {
          k.report.error = line.substr(6);
        } else if (line.rfind("GONE ", 0) == 0) {
          k.report.error = line.substr(5);
          k.gone = true;
        } else {
          k.report.error = fmt::format("unexpected control message '{}'", line);
        }
      }
    }
    // One peer failed or died: the others cannot finish, stop them now. The cause is the peer
    // that died, else one that failed on its own, before one that only saw the other go (its
    // GONE and the other's death can arrive in the same poll round).
    if (culprit < 0) {
      int best_rank = 3;
      for (size_t i = 0; i < kids.size(); ++i) {
        const Child& k = kids[i];
        if (k.pid <= 0 || k.report.result) continue;
        const int rank = k.report.error.empty() ? (k.ctl_eof ? 0 : 3) : (k.gone ? 2 : 1);
        if (rank < best_rank) {
          best_rank = rank;
          culprit = static_cast<int>(i);
        }
      }
      if (culprit >= 0) kill_all(kids);
    }
    if (!go_sent && std::all_of(kids.begin(), kids.end(), [](const Child& k) { return k.ready; })) {
      for (auto& k : kids) {
        try {
          write_full(k.ctl.get(), "GO\n", 3, "control socket");
        } catch (const std::exception&) {
          // The peer died; its EOF is seen on the next poll.
        }
      }
      go_sent = true;
    }
  }
  if (!run_error.empty()) kill_all(kids);

  // Reap everyone and explain every failure.
  for (size_t i = 0; i < kids.size(); ++i) {
    Child& k = kids[i];
    if (k.pid < 0) {
      if (k.report.error.empty()) k.report.error = run_error.empty() ? "not started" : run_error;
      continue;
    }
    int status = 0;
    while (::waitpid(k.pid, &status, 0) < 0 && errno == EINTR) {
    }
    // Whatever stderr the peer wrote before it ended.
    for (;;) {
      char buf[4096];
      pollfd p{k.err.get(), POLLIN, 0};
      if (k.err_eof || ::poll(&p, 1, 0) <= 0) break;
      ssize_t r = ::read(k.err.get(), buf, sizeof buf);
      if (r <= 0) break;
      k.stderr_tail.append(buf, static_cast<size_t>(r));
    }
    if (k.report.result && k.report.error.empty()) {
      if (!run_error.empty()) {
        k.report.result.reset();
        k.report.error = run_error;
      }
      continue;
    }
    std::string why = k.report.error;
    if (why.empty()) {
      why = !run_error.empty() ? run_error
                               : fmt::format("peer {} {}", peers[i].label, describe_status(status));
    } else if (!run_error.empty() && why != run_error) {
      why = fmt::format("{}; {}", run_error, why);
    }
    const std::string tail = one_line(k.stderr_tail);
    if (!tail.empty())
      why += fmt::format(" [peer {} stderr: {}]", peers[i].label, tail.substr(0, 2000));
    k.report.result.reset();
    k.report.error = why;
  }
  // A peer killed by us because another failed: say so rather than "killed by signal 9".
  if (culprit >= 0 && run_error.empty()) {
    for (size_t i = 0; i < kids.size(); ++i) {
      if (static_cast<int>(i) != culprit && !kids[i].report.error.empty()) {
        kids[i].report.error = fmt::format("stopped because peer {} failed",
                                           peers[static_cast<size_t>(culprit)].label);
        kids[i].report.secondary = true;
      }
    }
  }
  std::vector<PeerReport> out;
  for (auto& k : kids) out.push_back(std::move(k.report));
  return out;
}

}  // namespace ipcperf
