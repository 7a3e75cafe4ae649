// The stale sweep and object naming (objects.hpp) against the attacks of issue 10: a symbolic
// link named like ours, planted directories and records naming a victim queue, a user's folder
// named like ours, squatted names; and the positive case, a dead run's objects are removed.
// Every test runs in a scratch directory (TMPDIR and the sweep's roots point into it; the real
// /tmp, /dev/shm and /dev/mqueue are only touched by names of this process or of a dead child)
// and asserts that nothing outside our own objects changed.
#include "ipcperf/objects.hpp"

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <dirent.h>
#include <fcntl.h>
#include <mqueue.h>
#include <pwd.h>
#include <sys/msg.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gtest/gtest.h>

#include "ipcperf/backend.hpp"
#include "registry.hpp"

namespace ipcperf {
namespace {

namespace fs = std::filesystem;

// Leaves this process exactly `free` descriptors to open (the soft RLIMIT_NOFILE lowered just
// above the highest open one, every slot below it taken) until destroyed: EMFILE on demand,
// whatever the limit the tests run under.
class DescriptorShortage {
 public:
  explicit DescriptorShortage(int free) {
    EXPECT_EQ(::getrlimit(RLIMIT_NOFILE, &saved_), 0);
    int highest = 2;
    if (DIR* d = ::opendir("/proc/self/fd")) {
      while (dirent* e = ::readdir(d)) highest = std::max(highest, std::atoi(e->d_name));
      ::closedir(d);
    }
    rlimit low = saved_;
    low.rlim_cur = static_cast<rlim_t>(highest) + 8;
    EXPECT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
    for (int fd; (fd = ::open("/", O_PATH | O_CLOEXEC)) >= 0;) held_.push_back(fd);
    EXPECT_EQ(errno, EMFILE);
    for (int i = 0; i < free && !held_.empty(); ++i) {
      ::close(held_.back());
      held_.pop_back();
    }
  }
  DescriptorShortage(const DescriptorShortage&) = delete;
  DescriptorShortage& operator=(const DescriptorShortage&) = delete;
  ~DescriptorShortage() {
    for (int fd : held_) ::close(fd);
    ::setrlimit(RLIMIT_NOFILE, &saved_);
  }

 private:
  rlimit saved_{};
  std::vector<int> held_;
};

// How many more descriptors this process can open now (up to 64).
int free_descriptors() {
  std::vector<int> fds;
  for (int fd; fds.size() < 64 && (fd = ::open("/", O_PATH | O_CLOEXEC)) >= 0;) fds.push_back(fd);
  for (int fd : fds) ::close(fd);
  return static_cast<int>(fds.size());
}

// A pid that is dead now: a child that exited at once (reused only after pid_max others).
pid_t dead_pid() {
  const pid_t p = ::fork();
  if (p == 0) ::_exit(0);
  ::waitpid(p, nullptr, 0);
  return p;
}

uid_t nobody() {
  const passwd* pw = ::getpwnam("nobody");
  return pw != nullptr ? pw->pw_uid : 65534;
}

std::string contents(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// Every entry under root (symbolic links not followed): type, mode, owner, link target, bytes.
std::map<std::string, std::string> snapshot(const std::string& root) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    const std::string p = e.path().string();
    struct stat st {};
    if (::lstat(p.c_str(), &st) != 0) continue;
    std::string d = fmt::format("type {:o} mode {:04o} uid {}", st.st_mode & S_IFMT,
                                st.st_mode & 07777, st.st_uid);
    if (S_ISLNK(st.st_mode)) d += " -> " + fs::read_symlink(p).string();
    if (S_ISREG(st.st_mode)) d += " [" + contents(p) + "]";
    out[p] = d;
  }
  return out;
}

std::string dump(const std::vector<std::string>& v) {
  return fmt::format("{}", fmt::join(v, "\n"));
}

bool mentions(const std::vector<std::string>& lines, const std::string& what) {
  for (const auto& l : lines) {
    if (l.find(what) != std::string::npos) return true;
  }
  return false;
}

void make_dir(const std::string& path, mode_t mode) {
  ASSERT_EQ(::mkdir(path.c_str(), 0700), 0) << path;
  ASSERT_EQ(::chmod(path.c_str(), mode), 0) << path;
}

void write_file(const std::string& path, const std::string& text, mode_t mode = 0600) {
  { std::ofstream(path) << text; }
  ASSERT_EQ(::chmod(path.c_str(), mode), 0) << path;
}

bool posix_queue_exists(const std::string& name) {
  const mqd_t q = ::mq_open(name.c_str(), O_RDONLY | O_CLOEXEC);
  if (q < 0) return false;
  ::mq_close(q);
  return true;
}

bool sysv_queue_exists(int id) {
  msqid_ds ds{};
  return ::msgctl(id, IPC_STAT, &ds) == 0;
}

long long sysv_ctime(int id) {
  msqid_ds ds{};
  EXPECT_EQ(::msgctl(id, IPC_STAT, &ds), 0);
  return static_cast<long long>(ds.msg_ctime);
}

class StaleSweep : public ::testing::Test {
 protected:
  void SetUp() override {
    // Not a shape the sweep (this one or an older build's) ever matches.
    char templ[] = "/tmp/ipcperf-sweep-test.XXXXXX";
    ASSERT_NE(::mkdtemp(templ), nullptr);
    scratch_ = templ;
    for (const char* v : {"TMPDIR", "XDG_RUNTIME_DIR"}) {
      if (const char* s = std::getenv(v)) saved_env_[v] = s;
    }
    tmp_ = scratch_ + "/tmp";
    make_dir(tmp_, 01777);  // like /tmp
    make_dir(scratch_ + "/shm", 01777);
    make_dir(scratch_ + "/mqueue", 01777);
    ::setenv("TMPDIR", tmp_.c_str(), 1);
    ::unsetenv("XDG_RUNTIME_DIR");
    roots_.shm = scratch_ + "/shm";
    roots_.mqueue = scratch_ + "/mqueue";
    roots_.personal_roots = personal_roots();
    roots_.temp = tmp_;
    dead_ = dead_pid();
    personal_ = fmt::format("{}/ipcperf-{}", tmp_, ::geteuid());
    // POSIX queues are optional in a kernel.
    const std::string probe = fmt::format("/ipcperf-{}-0-probe", dead_);
    const mqd_t q = ::mq_open(probe.c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600, nullptr);
    have_mq_ = q >= 0;
    if (have_mq_) {
      ::mq_close(q);
      ::mq_unlink(probe.c_str());
    }
  }
  void TearDown() override {
    for (const auto& n : queues_) ::mq_unlink(n.c_str());
    for (int id : msqids_) ::msgctl(id, IPC_RMID, nullptr);
    for (const char* v : {"TMPDIR", "XDG_RUNTIME_DIR"}) {
      if (auto it = saved_env_.find(v); it != saved_env_.end()) {
        ::setenv(v, it->second.c_str(), 1);
      } else {
        ::unsetenv(v);
      }
    }
    std::error_code ec;
    fs::remove_all(scratch_, ec);
  }

  // Sweeps and expects it to change nothing under the scratch tree and to remove nothing; every
  // one of `reported` is named among what it left alone.
  SweepReport sweep_expecting_no_change(const std::vector<std::string>& reported = {}) {
    const auto before = snapshot(scratch_);
    SweepReport r = sweep_stale_objects(roots_);
    EXPECT_EQ(snapshot(scratch_), before);
    EXPECT_TRUE(r.removed.empty()) << dump(r.removed);
    for (const auto& p : reported) {
      EXPECT_TRUE(mentions(r.left_alone, p)) << p << "\n" << dump(r.left_alone);
    }
    return r;
  }

  // A POSIX queue, 0600, removed at the end of the test. "" when the kernel has none.
  std::string victim_posix_queue(const std::string& name) {
    if (!have_mq_) return "";
    const mqd_t q = ::mq_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600, nullptr);
    EXPECT_GE(q, 0) << name << ": " << std::strerror(errno);
    if (q < 0) return "";
    ::mq_close(q);
    queues_.push_back(name);
    return name;
  }
  // The same, created by a child running as `uid` (a squatter).
  std::string posix_queue_of(uid_t uid, const std::string& name) {
    if (!have_mq_) return "";
    const pid_t p = ::fork();
    if (p == 0) {
      if (::setgid(uid) != 0 || ::setuid(uid) != 0) ::_exit(2);
      const mqd_t q = ::mq_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600, nullptr);
      ::_exit(q < 0 ? 1 : 0);
    }
    int status = 0;
    ::waitpid(p, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << name;
    queues_.push_back(name);
    return name;
  }
  int victim_sysv_queue() {
    const int id = ::msgget(IPC_PRIVATE, IPC_CREAT | 0600);
    EXPECT_GE(id, 0) << std::strerror(errno);
    if (id >= 0) msqids_.push_back(id);
    return id;
  }
  // A planted directory with records naming the victims: the sweep must read none of it.
  void plant_dir_with_records(const std::string& dir, mode_t mode, const std::string& posix_q,
                              int msqid) {
    make_dir(dir, mode);
    if (!posix_q.empty()) write_file(dir + "/posix-mqs", posix_q + "\n");
    write_file(dir + "/sysv-msqids", fmt::format("{} {}\n", msqid, sysv_ctime(msqid)));
    write_file(dir + "/data", "precious");
  }

  std::string scratch_, tmp_, personal_;
  ObjectRoots roots_;
  pid_t dead_ = 0;
  bool have_mq_ = false;
  std::vector<std::string> queues_;
  std::vector<int> msqids_;
  std::map<std::string, std::string> saved_env_;
};

TEST(ObjectNames, OnlyTheExactShapesAreOurs) {
  EXPECT_EQ(pid_of_shm_name("ipcperf-12-3"), 12);
  EXPECT_EQ(pid_of_shm_name("ipcperf-12-0"), 12);
  for (const char* n : {"ipcperf-2024-results", "ipcperf-012-3", "ipcperf-12-03", "ipcperf-12-3x",
                        "ipcperf-12-", "ipcperf-0-1", "ipcperf-99999999999-1", "ipcperf--1-2",
                        "ipcperf-12-3-ab", "xipcperf-12-3", "ipcperf-12-99999999999"}) {
    EXPECT_EQ(pid_of_shm_name(n), std::nullopt) << n;
  }
  EXPECT_EQ(pid_of_posix_queue_name("/ipcperf-12-3-ab"), 12);
  EXPECT_EQ(pid_of_posix_queue_name("ipcperf-12-3-ba"), 12);
  for (const char* n : {"/ipcperf-12-3", "/ipcperf-12-3-", "/ipcperf-12-3-AB", "/ipcperf-12-3-a.b",
                        "/ipcperf-12-3-abcdefghi", "/ipcperf-2024-results", "//ipcperf-12-3-ab"}) {
    EXPECT_EQ(pid_of_posix_queue_name(n), std::nullopt) << n;
  }
  EXPECT_EQ(pid_of_private_dir_name("ipcperf-12-d3.AbC123"), 12);
  for (const char* n : {"ipcperf-12-d3.AbC12", "ipcperf-12-d3.AbC1234", "ipcperf-12-d3.AbC_12",
                        "ipcperf-12-d3AbC1234", "ipcperf-12-3.AbC123", "ipcperf-12-d03.AbC123",
                        "ipcperf-2024-results", "ipcperf-12-d3.AbC12/"}) {
    EXPECT_EQ(pid_of_private_dir_name(n), std::nullopt) << n;
  }
  // What we make has the shape the sweep looks for.
  EXPECT_EQ(pid_of_shm_name(make_object_name()), ::getpid());
  EXPECT_EQ(pid_of_posix_queue_name("/" + make_object_name() + "-ab"), ::getpid());
}

TEST_F(StaleSweep, PrivateDirectoriesAndRecordsAreOwnerOnly) {
  const mode_t old_umask = ::umask(0);  // nothing may depend on the umask
  const std::string dir = make_private_dir();
  EXPECT_EQ(fs::path(dir).parent_path().string(), personal_);
  EXPECT_EQ(pid_of_private_dir_name(fs::path(dir).filename().string()), ::getpid());
  struct stat st {};
  ASSERT_EQ(::stat(personal_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700U);
  EXPECT_EQ(st.st_uid, ::geteuid());
  ASSERT_EQ(::stat(dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700U);
  record_posix_queue(dir, "/" + make_object_name() + "-ab");
  const int q = victim_sysv_queue();
  record_sysv_queue(dir, q);
  for (const char* rec : {"/posix-mqs", "/sysv-msqids"}) {
    ASSERT_EQ(::stat((dir + rec).c_str(), &st), 0) << rec;
    EXPECT_EQ(st.st_mode & 07777, 0600U) << rec;
  }
  ::umask(old_umask);
  EXPECT_THROW(record_posix_queue(dir, "/not-ours"), std::logic_error);
  const auto removed = remove_private_dir(dir);
  EXPECT_TRUE(mentions(removed, fmt::format("System V message queue {}", q))) << dump(removed);
  EXPECT_FALSE(fs::exists(dir));
  EXPECT_TRUE(fs::exists(personal_)) << "the per-user root stays";

  // $XDG_RUNTIME_DIR/ipcperf is preferred when XDG_RUNTIME_DIR is ours and 0700, never when it
  // is readable by others.
  const std::string xdg = scratch_ + "/xdg";
  make_dir(xdg, 0700);
  ::setenv("XDG_RUNTIME_DIR", xdg.c_str(), 1);
  const std::string in_xdg = make_private_dir();
  EXPECT_EQ(fs::path(in_xdg).parent_path().string(), xdg + "/ipcperf");
  remove_private_dir(in_xdg);
  ASSERT_EQ(::chmod(xdg.c_str(), 0755), 0);
  const std::string not_xdg = make_private_dir();
  EXPECT_EQ(fs::path(not_xdg).parent_path().string(), personal_);
  remove_private_dir(not_xdg);
}

TEST_F(StaleSweep, ASymbolicLinkNamedLikeOursIsNeverFollowed) {
  // The victim: a directory with files, and in it a directory that looks like one of ours (a
  // sweep that followed the link into it would empty it).
  const std::string victim = scratch_ + "/victim";
  make_dir(victim, 0755);
  write_file(victim + "/keep1", "one");
  write_file(victim + "/keep2", "two");
  const std::string inner = fmt::format("{}/ipcperf-{}-d0.AAAAAA", victim, dead_);
  make_dir(inner, 0700);
  write_file(inner + "/inner", "three");
  const std::vector<std::string> links = {
      fmt::format("{}/ipcperf-{}-d0.Link01", tmp_, dead_),  // a private directory
      personal_,                                            // the per-user root itself
      fmt::format("{}/ipcperf-{}-0", roots_.shm, dead_),    // a shared-memory object
      fmt::format("{}/ipcperf-{}-0-ab", roots_.mqueue, dead_),
  };
  ASSERT_EQ(::symlink(victim.c_str(), links[0].c_str()), 0);
  ASSERT_EQ(::symlink(victim.c_str(), links[1].c_str()), 0);
  ASSERT_EQ(::symlink((victim + "/keep1").c_str(), links[2].c_str()), 0);
  ASSERT_EQ(::symlink((victim + "/keep2").c_str(), links[3].c_str()), 0);
  const auto before = snapshot(scratch_);
  const SweepReport r = sweep_expecting_no_change(links);

  // Nothing is created through the link either: private directories go into TMPDIR itself.
  const std::string dir = make_private_dir();
  EXPECT_EQ(fs::path(dir).parent_path().string(), tmp_);
  remove_private_dir(dir);
  EXPECT_EQ(snapshot(scratch_), before);
}

TEST_F(StaleSweep, PlantedDirectoriesAndTheirRecordsAreLeftAlone) {
  const std::string mq = victim_posix_queue(fmt::format("/ipcperf-{}-7-ab", dead_));
  const int msq = victim_sysv_queue();
  ASSERT_GE(msq, 0);
  ASSERT_FALSE(private_root().empty());  // the real per-user root exists: plant into it too
  std::vector<std::string> planted = {
      fmt::format("{}/ipcperf-{}-d1.Mode55", tmp_, dead_),
      fmt::format("{}/ipcperf-{}-d2.Mode50", personal_, dead_),
  };
  plant_dir_with_records(planted[0], 0755, mq, msq);
  plant_dir_with_records(planted[1], 0750, mq, msq);
  if (::geteuid() == 0) {
    // Mode 0700 but another owner (root can chown; an attacker's own directory looks like this).
    const std::string d = fmt::format("{}/ipcperf-{}-d3.Nobody", tmp_, dead_);
    plant_dir_with_records(d, 0700, mq, msq);
    for (const auto& e : fs::directory_iterator(d)) {
      ASSERT_EQ(::lchown(e.path().c_str(), nobody(), nobody()), 0);
    }
    ASSERT_EQ(::chown(d.c_str(), nobody(), nobody()), 0);
    planted.push_back(d);
  }
  const SweepReport r = sweep_expecting_no_change(planted);
  EXPECT_TRUE(sysv_queue_exists(msq)) << "the victim System V queue was removed";
  if (!mq.empty()) {
    EXPECT_TRUE(posix_queue_exists(mq)) << "the victim POSIX queue was removed";
  }
}

TEST_F(StaleSweep, ASquattedPersonalRootIsNeitherSweptNorUsed) {
  const int msq = victim_sysv_queue();
  ASSERT_GE(msq, 0);
  // The per-user root made by someone else (as root: owned by nobody, 0700; otherwise 0755), with
  // a directory of ours-looking shape and a record inside.
  make_dir(personal_, ::geteuid() == 0 ? 0700 : 0755);
  const std::string inside = fmt::format("{}/ipcperf-{}-d0.Squat1", personal_, dead_);
  plant_dir_with_records(inside, 0700, "", msq);
  if (::geteuid() == 0) {
    ASSERT_EQ(::chown(personal_.c_str(), nobody(), nobody()), 0);
  }
  const auto before = snapshot(scratch_);
  const SweepReport r = sweep_expecting_no_change({personal_});
  EXPECT_TRUE(sysv_queue_exists(msq));

  EXPECT_EQ(private_root(), tmp_);
  const std::string dir = make_private_dir();
  EXPECT_EQ(fs::path(dir).parent_path().string(), tmp_);
  struct stat st {};
  ASSERT_EQ(::stat(dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700U);
  remove_private_dir(dir);
  EXPECT_EQ(snapshot(scratch_), before);
}

TEST_F(StaleSweep, AUserFolderNamedLikeOursSurvives) {
  make_dir(tmp_ + "/ipcperf-2024-results", 0755);
  write_file(tmp_ + "/ipcperf-2024-results/run.json", R"({"benchmarks": []})", 0644);
  // Near misses of each shape, all of them ours and 0700 where that matters.
  for (const std::string& n :
       {fmt::format("ipcperf-{}-0", dead_), fmt::format("ipcperf-{}-d0.short", dead_),
        fmt::format("ipcperf-{}-d0.TooLong", dead_), fmt::format("ipcperf-0{}-d0.AbCdEf", dead_),
        fmt::format("ipcperf-{}-d0.AbCdEf.bak", dead_), fmt::format("ipcperf-{}", dead_)}) {
    make_dir(tmp_ + "/" + n, 0700);
    write_file(tmp_ + "/" + n + "/file", "keep");
  }
  write_file(roots_.shm + "/ipcperf-2024-results", "keep");
  write_file(fmt::format("{}/ipcperf-{}-0.bak", roots_.shm, dead_), "keep");
  write_file(fmt::format("{}/ipcperf-0{}-0", roots_.shm, dead_), "keep");
  write_file(fmt::format("{}/ipcperf-{}-1-AB", roots_.mqueue, dead_), "keep");
  const SweepReport r = sweep_expecting_no_change();
  EXPECT_TRUE(r.left_alone.empty()) << "not named like ours, so not even reported:\n"
                                    << dump(r.left_alone);
}

TEST_F(StaleSweep, RecordsInADirectoryOfOursRemoveOnlyQueuesOfOurs) {
  // A real private directory of a dead run. Its records name: a queue of ours (removed), a POSIX
  // name of another pid, a System V queue whose ctime is not the recorded one, and as root a
  // POSIX and a System V queue of another owner.
  const std::string dir = fmt::format("{}/ipcperf-{}-d0.Record", private_root(), dead_);
  make_dir(dir, 0700);
  const std::string ours = victim_posix_queue(fmt::format("/ipcperf-{}-1-ab", dead_));
  const std::string other_pid = victim_posix_queue(fmt::format("/ipcperf-{}-1-ab", dead_pid()));
  const int msq_ours = victim_sysv_queue();
  const int msq_reused = victim_sysv_queue();
  std::string mq_nobody;
  int msq_nobody = -1;
  if (::geteuid() == 0) {
    mq_nobody = posix_queue_of(nobody(), fmt::format("/ipcperf-{}-2-ab", dead_));
    msq_nobody = victim_sysv_queue();
    msqid_ds ds{};
    ASSERT_EQ(::msgctl(msq_nobody, IPC_STAT, &ds), 0);
    ds.msg_perm.uid = nobody();
    ASSERT_EQ(::msgctl(msq_nobody, IPC_SET, &ds), 0);
  }
  std::string posix_rec, sysv_rec;
  for (const auto& n : {ours, other_pid, mq_nobody}) {
    if (!n.empty()) posix_rec += n + "\n";
  }
  sysv_rec += fmt::format("{} {}\n", msq_ours, sysv_ctime(msq_ours));
  sysv_rec += fmt::format("{} {}\n", msq_reused, sysv_ctime(msq_reused) - 1);
  if (msq_nobody >= 0) sysv_rec += fmt::format("{} {}\n", msq_nobody, sysv_ctime(msq_nobody));
  write_file(dir + "/posix-mqs", posix_rec);
  write_file(dir + "/sysv-msqids", sysv_rec);

  const SweepReport r = sweep_stale_objects(roots_);
  EXPECT_FALSE(fs::exists(dir)) << dump(r.left_alone);
  EXPECT_FALSE(sysv_queue_exists(msq_ours));
  EXPECT_TRUE(sysv_queue_exists(msq_reused));
  EXPECT_TRUE(mentions(r.left_alone, fmt::format("System V message queue {} ", msq_reused)))
      << dump(r.left_alone);
  if (msq_nobody >= 0) {
    EXPECT_TRUE(sysv_queue_exists(msq_nobody));
  }
  if (have_mq_) {
    EXPECT_FALSE(posix_queue_exists(ours));
    EXPECT_TRUE(posix_queue_exists(other_pid));
    EXPECT_TRUE(mentions(r.left_alone, other_pid)) << dump(r.left_alone);
    if (!mq_nobody.empty()) {
      EXPECT_TRUE(posix_queue_exists(mq_nobody));
      EXPECT_TRUE(mentions(r.left_alone, mq_nobody)) << dump(r.left_alone);
    }
  }
}

TEST_F(StaleSweep, ADeadRunsObjectsAreRemovedAndALiveRunsKept) {
  const std::string root = private_root();
  ASSERT_EQ(root, personal_);
  // Named like the backends name them, of the dead pid.
  const std::string shm = fmt::format("{}/ipcperf-{}-0", roots_.shm, dead_);
  const std::string mqfile = fmt::format("{}/ipcperf-{}-1-ab", roots_.mqueue, dead_);
  write_file(shm, "stale");
  write_file(mqfile, "stale");
  std::string pdir = fmt::format("{}/ipcperf-{}-d0.XXXXXX", root, dead_);
  ASSERT_NE(::mkdtemp(pdir.data()), nullptr);
  ASSERT_EQ(::mkfifo((pdir + "/a-to-b").c_str(), 0600), 0);
  const std::string mq = victim_posix_queue(fmt::format("/ipcperf-{}-2-ab", dead_));
  if (!mq.empty()) record_posix_queue(pdir, mq);
  const int msq = victim_sysv_queue();
  record_sysv_queue(pdir, msq);
  // Where older builds (and a squatted per-user root) put them.
  std::string legacy = fmt::format("{}/ipcperf-{}-d1.XXXXXX", tmp_, dead_);
  ASSERT_NE(::mkdtemp(legacy.data()), nullptr);
  write_file(legacy + "/sock", "");
  // A live run's objects (this process).
  const std::string live_shm = fmt::format("{}/ipcperf-{}-5", roots_.shm, ::getpid());
  write_file(live_shm, "live");
  const std::string live_dir = make_private_dir();
  auto expected = snapshot(scratch_);
  for (const auto& gone : {shm, mqfile, pdir, pdir + "/a-to-b", pdir + "/posix-mqs",
                           pdir + "/sysv-msqids", legacy, legacy + "/sock"}) {
    expected.erase(gone);
  }

  const SweepReport r = sweep_stale_objects(roots_);
  EXPECT_EQ(snapshot(scratch_), expected) << dump(r.removed);
  EXPECT_TRUE(r.left_alone.empty()) << dump(r.left_alone);
  for (const auto& gone : {shm, mqfile, pdir, legacy}) {
    EXPECT_TRUE(mentions(r.removed, gone)) << gone;
  }
  EXPECT_FALSE(sysv_queue_exists(msq));
  EXPECT_TRUE(mentions(r.removed, fmt::format("System V message queue {}", msq)));
  if (!mq.empty()) {
    EXPECT_FALSE(posix_queue_exists(mq));
    EXPECT_TRUE(mentions(r.removed, "POSIX message queue " + mq));
  }
  // objects_of sees what is left of each pid.
  EXPECT_TRUE(objects_of(dead_, roots_).empty()) << dump(objects_of(dead_, roots_));
  EXPECT_EQ(objects_of(::getpid(), roots_).size(), 2U) << dump(objects_of(::getpid(), roots_));
  remove_private_dir(live_dir);
}

// Predicts this process's next object name: the one make_object_name() returns after this call.
std::string next_object_name() {
  const std::string now = make_object_name();
  const unsigned n = std::stoul(now.substr(now.rfind('-') + 1));
  return fmt::format("ipcperf-{}-{}", ::getpid(), n + 1);
}

TEST_F(StaleSweep, AFailedPrepareRemovesOnlyWhatItCreated) {
  {
    SCOPED_TRACE("shm-spsc");
    auto b = make_backend("shm-spsc");
    ChannelOptions o;
    o.max_message = 64;
    o = b->resolve(o);
    const std::string squat = "/dev/shm/" + next_object_name();
    write_file(squat, "squatter");
    EXPECT_THROW(b->prepare(o), SystemError);
    EXPECT_EQ(contents(squat), "squatter");
    ::unlink(squat.c_str());
  }
  {
    SCOPED_TRACE("posix-mq");
    auto b = make_backend("posix-mq");
    ASSERT_NE(b, nullptr);
    ChannelOptions o;
    o.max_message = 64;
    o = b->resolve(o);
    if (!have_mq_) GTEST_SKIP() << "no POSIX message queues in this kernel";
    b->check(o);
    // The second queue's name is squatted (the first is created, then must be removed again).
    // The squatter is this very user: only "we did not create it" can keep it.
    const std::string squat = victim_posix_queue("/" + next_object_name() + "-ba");
    ASSERT_FALSE(squat.empty());
    const std::string first = squat.substr(0, squat.size() - 3) + "-ab";
    try {
      Endpoints ep = b->prepare(o);
      b->cleanup(ep);
      ADD_FAILURE() << "prepare succeeded on a squatted name";
    } catch (const SystemError& e) {
      EXPECT_NE(std::string(e.what()).find("EEXIST"), std::string::npos) << e.what();
    }
    EXPECT_TRUE(posix_queue_exists(squat)) << "the squatter's queue was unlinked";
    EXPECT_FALSE(posix_queue_exists(first)) << "the queue prepare created was left";
    EXPECT_TRUE(objects_of(::getpid(), roots_).empty()) << dump(objects_of(::getpid(), roots_));
  }
}

TEST_F(StaleSweep, UdsDgramSocketFilesAreOwnerOnly) {
  auto b = make_backend("uds-dgram");
  ASSERT_NE(b, nullptr);
  ChannelOptions o;
  o.max_message = 64;
  o = b->resolve(o);
  b->check(o);
  const mode_t old_umask = ::umask(0);
  Endpoints ep = b->prepare(o);
  ::umask(old_umask);
  int sockets = 0;
  for (const auto& obj : ep.objects) {
    struct stat st {};
    if (::lstat(obj.c_str(), &st) != 0 || !S_ISSOCK(st.st_mode)) continue;
    ++sockets;
    EXPECT_EQ(st.st_mode & 07777, 0600U) << obj;
  }
  EXPECT_EQ(sockets, 2);
  b->cleanup(ep);
  EXPECT_TRUE(objects_of(::getpid(), roots_).empty());
}

// ---- out of descriptors (issue 10, item 7) ----------------------------------------------------

// A private directory reserves what its removal needs: with no descriptor left to open (a run
// that failed with EMFILE), remove_private_dir() and discard_private_dir() still remove the
// directory, its entries and (remove_private_dir) the recorded queues.
TEST_F(StaleSweep, APrivateDirectoryIsRemovedWithNoDescriptorLeft) {
  for (const bool discard : {false, true}) {
    SCOPED_TRACE(discard ? "discard_private_dir" : "remove_private_dir");
    const std::string dir = make_private_dir();
    ASSERT_EQ(::mkfifo((dir + "/a-to-b").c_str(), 0600), 0);
    const std::string mq = victim_posix_queue("/" + make_object_name() + "-ab");
    if (!mq.empty()) record_posix_queue(dir, mq);
    const int msq = victim_sysv_queue();
    record_sysv_queue(dir, msq);
    {
      const DescriptorShortage none(0);
      ASSERT_LT(::open("/", O_PATH | O_CLOEXEC), 0);
      ASSERT_EQ(errno, EMFILE);
      if (discard) {
        discard_private_dir(dir);
      } else {
        const auto removed = remove_private_dir(dir);
        EXPECT_TRUE(mentions(removed, fmt::format("System V message queue {}", msq)))
            << dump(removed);
      }
      // What the reserve held is free again, and no more: the reserve was the directory's own.
      EXPECT_EQ(free_descriptors(), 3);
    }
    EXPECT_FALSE(fs::exists(dir));
    // discard_private_dir leaves the queues to the prepare() that created them.
    EXPECT_EQ(sysv_queue_exists(msq), discard);
    if (!mq.empty()) {
      EXPECT_EQ(posix_queue_exists(mq), discard);
    }
  }
}

// A directory whose removal could not be guaranteed is not made: EMFILE, nothing left.
TEST_F(StaleSweep, APrivateDirectoryIsNotMadeWithoutItsReserve) {
  const DescriptorShortage two(2);  // the directory's fchmod needs one, the reserve three
  try {
    const std::string dir = make_private_dir();
    remove_private_dir(dir);
    ADD_FAILURE() << "made " << dir << " with two descriptors free";
  } catch (const SystemError& e) {
    EXPECT_EQ(e.error(), EMFILE) << e.what();
    EXPECT_NE(std::string(e.what()).find("ulimit -n"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(objects_of(::getpid(), roots_).empty()) << dump(objects_of(::getpid(), roots_));
}

// The sweep out of descriptors says so (not "left alone", which means "not ours") and changes
// nothing; with the three it needs, it removes a dead run's directory, records and queues.
TEST_F(StaleSweep, TheSweepSaysWhenItRunsOutOfDescriptors) {
  const std::string root = private_root();
  std::string pdir = fmt::format("{}/ipcperf-{}-d0.XXXXXX", root, dead_);
  ASSERT_NE(::mkdtemp(pdir.data()), nullptr);
  ASSERT_EQ(::mkfifo((pdir + "/a-to-b").c_str(), 0600), 0);
  const std::string mq = victim_posix_queue(fmt::format("/ipcperf-{}-2-ab", dead_));
  if (!mq.empty()) record_posix_queue(pdir, mq);
  const int msq = victim_sysv_queue();
  record_sysv_queue(pdir, msq);
  const auto before = snapshot(scratch_);
  for (const int free : {0, 1, 2}) {
    SCOPED_TRACE(fmt::format("{} free", free));
    SweepReport r;
    {
      const DescriptorShortage shortage(free);
      r = sweep_stale_objects(roots_);
    }
    EXPECT_NE(r.error.find("EMFILE"), std::string::npos) << r.error;
    EXPECT_NE(r.error.find("ulimit -n"), std::string::npos) << r.error;
    EXPECT_TRUE(r.left_alone.empty()) << dump(r.left_alone);
    EXPECT_TRUE(r.removed.empty()) << dump(r.removed);
    EXPECT_EQ(snapshot(scratch_), before);
    EXPECT_TRUE(sysv_queue_exists(msq));
    if (!mq.empty()) {
      EXPECT_TRUE(posix_queue_exists(mq));
    }
  }
  SweepReport r;
  {
    const DescriptorShortage three(3);
    r = sweep_stale_objects(roots_);
  }
  EXPECT_TRUE(r.error.empty()) << r.error;
  EXPECT_TRUE(r.left_alone.empty()) << dump(r.left_alone);
  EXPECT_FALSE(fs::exists(pdir)) << dump(r.removed);
  EXPECT_FALSE(sysv_queue_exists(msq));
  if (!mq.empty()) {
    EXPECT_FALSE(posix_queue_exists(mq));
  }
}

}  // namespace
}  // namespace ipcperf
