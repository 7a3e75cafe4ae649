#include "ipcperf/objects.hpp"

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <dirent.h>
#include <mqueue.h>
#include <signal.h>
#include <sys/msg.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "ipcperf/shm.hpp"
#include "ipcperf/sys.hpp"

namespace ipcperf {

namespace {
constexpr const char* kSysvRecord = "sysv-msqids";
constexpr const char* kPosixMqRecord = "posix-mqs";
}  // namespace

std::string temp_base() {
  const char* t = std::getenv("TMPDIR");
  if (t != nullptr && t[0] == '/') {
    std::string s = t;
    while (s.size() > 1 && s.back() == '/') s.pop_back();
    return s;
  }
  return "/tmp";
}

std::string make_private_dir() {
  static std::atomic<unsigned> counter{0};
  std::string templ =
      fmt::format("{}/ipcperf-{}-d{}.XXXXXX", temp_base(), ::getpid(), counter.fetch_add(1));
  if (::mkdtemp(templ.data()) == nullptr) {
    throw_errno(fmt::format("mkdtemp(\"{}\")", templ), "set TMPDIR to a writable directory");
  }
  // mkdtemp creates 0700 already; say it again in case of an odd umask-less libc.
  ::chmod(templ.c_str(), 0700);
  return templ;
}

void record_sysv_queue(const std::string& dir, int msqid) {
  msqid_ds ds{};
  check_errno("msgctl(IPC_STAT)", [&] { return ::msgctl(msqid, IPC_STAT, &ds); });
  std::ofstream f(dir + "/" + kSysvRecord, std::ios::app);
  f << msqid << ' ' << static_cast<long long>(ds.msg_ctime) << '\n';
  if (!f) throw std::runtime_error(fmt::format("cannot write {}/{}", dir, kSysvRecord));
}

void record_posix_queue(const std::string& dir, const std::string& name) {
  std::ofstream f(dir + "/" + kPosixMqRecord, std::ios::app);
  f << name << '\n';
  if (!f) throw std::runtime_error(fmt::format("cannot write {}/{}", dir, kPosixMqRecord));
}

std::vector<std::string> remove_private_dir(const std::string& dir) noexcept {
  std::vector<std::string> removed;
  try {
    // Names carry the creator's pid, so a recorded name is ours alone.
    std::ifstream mqs(dir + "/" + kPosixMqRecord);
    for (std::string name; std::getline(mqs, name);) {
      if (!name.empty() && ::mq_unlink(name.c_str()) == 0) {
        removed.push_back(fmt::format("POSIX message queue {}", name));
      }
    }
    std::ifstream rec(dir + "/" + kSysvRecord);
    int id = 0;
    long long ctime = 0;
    while (rec >> id >> ctime) {
      msqid_ds ds{};
      // Only the queue that was recorded: an id can be reused after its queue is gone.
      if (::msgctl(id, IPC_STAT, &ds) == 0 && static_cast<long long>(ds.msg_ctime) == ctime &&
          ds.msg_perm.cuid == ::geteuid() && ::msgctl(id, IPC_RMID, nullptr) == 0) {
        removed.push_back(fmt::format("System V message queue {}", id));
      }
    }
    if (DIR* d = ::opendir(dir.c_str())) {
      while (dirent* e = ::readdir(d)) {
        const std::string_view n = e->d_name;
        if (n == "." || n == "..") continue;
        const std::string path = dir + "/" + e->d_name;
        if (::unlink(path.c_str()) == 0) removed.push_back(path);
      }
      ::closedir(d);
    }
    if (::rmdir(dir.c_str()) == 0) removed.push_back(dir);
  } catch (...) {
    // Cleanup never throws; what could not be removed is found by the next sweep.
  }
  return removed;
}

std::vector<int> own_sysv_queues() {
  std::vector<int> ids;
  std::ifstream f("/proc/sysvipc/msg");
  std::string line;
  std::getline(f, line);  // header
  // key msqid perms cbytes qnum lspid lrpid uid gid cuid cgid stime rtime ctime
  while (std::getline(f, line)) {
    std::istringstream in(line);
    long long key = 0, msqid = 0, perms = 0, cbytes = 0, qnum = 0, lspid = 0, lrpid = 0, uid = 0,
              gid = 0, cuid = -1;
    if (in >> key >> msqid >> perms >> cbytes >> qnum >> lspid >> lrpid >> uid >> gid >> cuid &&
        cuid == static_cast<long long>(::geteuid())) {
      ids.push_back(static_cast<int>(msqid));
    }
  }
  return ids;
}

std::string make_object_name() {
  static std::atomic<unsigned> counter{0};
  return fmt::format("ipcperf-{}-{}", ::getpid(), counter.fetch_add(1));
}

namespace {
// The pid in "ipcperf-<pid>-<n>", or 0 when the name is not ours.
pid_t owner_of(std::string_view name) {
  constexpr std::string_view kPrefix = "ipcperf-";
  if (name.substr(0, kPrefix.size()) != kPrefix) return 0;
  name.remove_prefix(kPrefix.size());
  pid_t pid = 0;
  size_t i = 0;
  for (; i < name.size() && name[i] >= '0' && name[i] <= '9'; ++i) pid = pid * 10 + (name[i] - '0');
  if (i == 0 || i >= name.size() || name[i] != '-') return 0;
  return pid;
}

bool dead(pid_t pid) { return ::kill(pid, 0) != 0 && errno == ESRCH; }
}  // namespace

namespace {

// Calls f(dir, name, owner pid) for each entry of dir named ipcperf-<pid>-*.
template <class F>
void for_each_named(const std::string& dir, F&& f) {
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d)) {
      if (const pid_t pid = owner_of(e->d_name); pid > 0) f(std::string(e->d_name), pid);
    }
    ::closedir(d);
  }
}

}  // namespace

std::vector<std::string> sweep_stale_objects() {
  std::vector<std::string> removed;
  for_each_named("/dev/shm", [&](const std::string& n, pid_t pid) {
    if (dead(pid) && ShmRegion::unlink(n)) removed.push_back("/dev/shm/" + n);
  });
  for_each_named("/dev/mqueue", [&](const std::string& n, pid_t pid) {
    if (dead(pid) && ::mq_unlink(("/" + n).c_str()) == 0) removed.push_back("/dev/mqueue/" + n);
  });
  const std::string base = temp_base();
  for_each_named(base, [&](const std::string& n, pid_t pid) {
    if (!dead(pid)) return;
    auto r = remove_private_dir(base + "/" + n);
    removed.insert(removed.end(), r.begin(), r.end());
  });
  return removed;
}

std::vector<std::string> objects_of(pid_t pid) {
  std::vector<std::string> found;
  auto collect = [&](const std::string& dir) {
    for_each_named(dir, [&](const std::string& n, pid_t owner) {
      if (owner == pid) found.push_back(dir + "/" + n);
    });
  };
  collect("/dev/shm");
  collect("/dev/mqueue");
  collect(temp_base());
  return found;
}


}  // namespace ipcperf
