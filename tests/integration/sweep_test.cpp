// `ipcperf clean` end to end, with TMPDIR pointing into a scratch directory: a user's folder named
// like ours and a symbolic link named like ours pointing to a directory with files survive; a
// dead run's private directory (in the per-user root) and its recorded System V queue go.
// (The attacks one by one, with the sweep's roots injected, are in tests/unit/objects_test.cpp.)
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <sys/msg.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "ipcperf/objects.hpp"

namespace {

namespace fs = std::filesystem;

struct Outcome {
  int code = -1;
  std::string out;
};

// Runs the binary with TMPDIR=tmpdir and no XDG_RUNTIME_DIR; stdout and stderr together.
Outcome run_clean(const std::string& tmpdir) {
  int p[2];
  EXPECT_EQ(::pipe(p), 0);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(p[1], 1);
    ::dup2(p[1], 2);
    ::close(p[0]);
    ::setenv("TMPDIR", tmpdir.c_str(), 1);
    ::unsetenv("XDG_RUNTIME_DIR");
    ::execl(IPCPERF_BINARY, IPCPERF_BINARY, "clean", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(p[1]);
  Outcome r;
  char buf[4096];
  for (ssize_t n; (n = ::read(p[0], buf, sizeof buf)) > 0;)
    r.out.append(buf, static_cast<size_t>(n));
  ::close(p[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

pid_t dead_pid() {
  const pid_t p = ::fork();
  if (p == 0) ::_exit(0);
  ::waitpid(p, nullptr, 0);
  return p;
}

TEST(StaleSweepCli, CleanRemovesOnlyWhatADeadRunMade) {
  char templ[] = "/tmp/ipcperf-sweep-cli-test.XXXXXX";
  ASSERT_NE(::mkdtemp(templ), nullptr);
  const std::string tmp = templ;
  const pid_t dead = dead_pid();

  // A user's results folder named like ours.
  const std::string results = tmp + "/ipcperf-2024-results";
  fs::create_directories(results);
  { std::ofstream(results + "/run.json") << R"({"benchmarks": []})"; }
  // A symbolic link named like a private directory, to a directory with files.
  const std::string victim = tmp + "/victim";
  fs::create_directories(victim);
  { std::ofstream(victim + "/keep") << "keep"; }
  const std::string link = fmt::format("{}/ipcperf-{}-d0.Link01", tmp, dead);
  ASSERT_EQ(::symlink(victim.c_str(), link.c_str()), 0);
  // A dead run's private directory in the per-user root, with a recorded System V queue.
  const std::string root = fmt::format("{}/ipcperf-{}", tmp, ::geteuid());
  ASSERT_EQ(::mkdir(root.c_str(), 0700), 0);
  ASSERT_EQ(::chmod(root.c_str(), 0700), 0);
  std::string pdir = fmt::format("{}/ipcperf-{}-d1.XXXXXX", root, dead);
  ASSERT_NE(::mkdtemp(pdir.data()), nullptr);
  const int q = ::msgget(IPC_PRIVATE, IPC_CREAT | 0600);
  ASSERT_GE(q, 0);
  ipcperf::record_sysv_queue(pdir, q);

  const Outcome r = run_clean(tmp);
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_TRUE(fs::exists(results + "/run.json")) << r.out;
  EXPECT_TRUE(fs::is_symlink(link)) << r.out;
  EXPECT_TRUE(fs::exists(victim + "/keep")) << r.out;
  EXPECT_FALSE(fs::exists(pdir)) << r.out;
  EXPECT_NE(r.out.find(pdir), std::string::npos) << r.out;
  msqid_ds ds{};
  EXPECT_NE(::msgctl(q, IPC_STAT, &ds), 0) << "queue " << q << " survived: " << r.out;
  if (::msgctl(q, IPC_STAT, &ds) == 0) ::msgctl(q, IPC_RMID, nullptr);
  std::error_code ec;
  fs::remove_all(tmp, ec);
}

}  // namespace
