#include "ipcperf/objects.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <utility>

#include <dirent.h>
#include <fcntl.h>
#include <mqueue.h>
#include <signal.h>
#include <sys/msg.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "ipcperf/sys.hpp"

namespace ipcperf {

namespace {

constexpr const char* kSysvRecord = "sysv-msqids";
constexpr const char* kPosixMqRecord = "posix-mqs";
constexpr std::string_view kPrefix = "ipcperf-";
// Far more than two queues' lines; a larger "record" was not written by us.
constexpr off_t kMaxRecordBytes = 1 << 16;
constexpr size_t kMaxDigits = 10;  // 4294967295, the largest counter; pids are smaller
// The most descriptors removing a private directory holds at once: its parent, the directory,
// and one record file or POSIX queue (see remove_private_dir_at). The stale sweep needs as many:
// a root instead of the parent.
constexpr int kRemovalFds = 3;

// ---- names ---------------------------------------------------------------------------------

// Takes a decimal number without sign or leading zero off the front of s.
std::optional<uint64_t> take_number(std::string_view& s) {
  size_t i = 0;
  uint64_t v = 0;
  for (; i < s.size() && i <= kMaxDigits && s[i] >= '0' && s[i] <= '9'; ++i) {
    v = v * 10 + static_cast<uint64_t>(s[i] - '0');
  }
  if (i == 0 || i > kMaxDigits || (i > 1 && s[0] == '0')) return std::nullopt;
  s.remove_prefix(i);
  return v;
}

// Takes "ipcperf-<pid>-" off the front of s; returns the pid.
std::optional<pid_t> take_prefix_pid(std::string_view& s) {
  if (s.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  s.remove_prefix(kPrefix.size());
  const auto pid = take_number(s);
  if (!pid || *pid == 0 || *pid > static_cast<uint64_t>(INT32_MAX)) return std::nullopt;
  if (s.empty() || s[0] != '-') return std::nullopt;
  s.remove_prefix(1);
  return static_cast<pid_t>(*pid);
}

bool is_alnum(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// No signal is sent; EPERM means alive (another user's process).
bool dead(pid_t pid) { return ::kill(pid, 0) != 0 && errno == ESRCH; }

// ---- checks --------------------------------------------------------------------------------

std::string join(const std::string& dir, std::string_view name) {
  if (!dir.empty() && dir.back() == '/') return dir + std::string(name);
  return fmt::format("{}/{}", dir, name);
}

std::string mode_text(mode_t m) { return fmt::format("{:04o}", m & 07777); }

std::string error_text(int err) {
  return fmt::format("{} ({})", std::strerror(err), errno_name(err));
}

std::string owner_text(uid_t uid) {
  return fmt::format("owned by uid {}, not {}", uid, ::geteuid());
}

// Why a directory is not a private one of ours (owner the effective uid, mode 0700); "" if it is.
std::string not_private(const struct stat& st) {
  if (!S_ISDIR(st.st_mode)) return "not a directory";
  if (st.st_uid != ::geteuid()) return owner_text(st.st_uid);
  if ((st.st_mode & 07777) != 0700) return fmt::format("mode {}, not 0700", mode_text(st.st_mode));
  return "";
}

// Why an entry (lstat) is not a regular file of ours; "" if it is.
std::string not_own_file(const struct stat& st) {
  if (S_ISLNK(st.st_mode)) return "a symbolic link";
  if (!S_ISREG(st.st_mode)) return "not a regular file";
  if (st.st_uid != ::geteuid()) return owner_text(st.st_uid);
  return "";
}

// Why an open of a directory with O_NOFOLLOW|O_DIRECTORY failed.
std::string open_dir_error(int err) {
  if (err == ELOOP) return "a symbolic link";
  if (err == ENOTDIR) return "not a directory";
  return error_text(err);
}

// Opens a directory relative to dirfd (AT_FDCWD: a path), never through a final symbolic link.
// O_NONBLOCK: something else planted under the name (a FIFO) must not make the open wait.
int open_dir_at(int dirfd, const std::string& name, bool nofollow = true) {
  return retry_eintr([&] {
    return ::openat(dirfd, name.c_str(),
                    O_RDONLY | O_DIRECTORY | O_NONBLOCK | O_CLOEXEC | (nofollow ? O_NOFOLLOW : 0));
  });
}

// A directory stream that owns its descriptor: the listing and the unlinkat()s use the same
// descriptor, so that removing a directory's entries needs no second one (fd limits).
class Dir {
 public:
  Dir() = default;
  explicit Dir(int fd) noexcept {
    if (fd < 0) return;
    d_ = ::fdopendir(fd);
    if (d_ == nullptr) ::close(fd);
  }
  Dir(Dir&& o) noexcept : d_(std::exchange(o.d_, nullptr)) {}
  Dir& operator=(Dir&& o) noexcept {
    if (this != &o) {
      if (d_ != nullptr) ::closedir(d_);
      d_ = std::exchange(o.d_, nullptr);
    }
    return *this;
  }
  Dir(const Dir&) = delete;
  Dir& operator=(const Dir&) = delete;
  ~Dir() {
    if (d_ != nullptr) ::closedir(d_);
  }
  [[nodiscard]] bool valid() const { return d_ != nullptr; }
  [[nodiscard]] int fd() const { return ::dirfd(d_); }
  // The names in the directory, without "." and "..".
  std::vector<std::string> names() {
    std::vector<std::string> out;
    ::rewinddir(d_);
    while (dirent* e = ::readdir(d_)) {
      const std::string_view n = e->d_name;
      if (n != "." && n != "..") out.emplace_back(n);
    }
    return out;
  }

 private:
  DIR* d_ = nullptr;
};

// ---- descriptors ---------------------------------------------------------------------------

bool out_of_descriptors(int err) { return err == EMFILE || err == ENFILE; }

// Descriptor slots held until destroyed, so that work which needs a few descriptors at once gets
// them later even when the process has run out meanwhile (a run that failed with EMFILE), or
// learns now that it cannot. O_PATH on "/": it always exists and needs no permission (a sandbox
// may lack /dev/null), and such a descriptor can do nothing but count against RLIMIT_NOFILE.
class FdReserve {
 public:
  FdReserve() = default;
  // Throws SystemError (EMFILE, ENFILE) when n cannot be opened; `what` says what they are for.
  FdReserve(int n, std::string_view what) {
    fds_.reserve(static_cast<size_t>(n));
    while (fds_.size() < static_cast<size_t>(n)) {
      Fd fd(retry_eintr([] { return ::open("/", O_PATH | O_CLOEXEC); }));
      if (!fd.valid()) throw_errno(fmt::format("open(\"/\", O_PATH) for {}", what));
      fds_.push_back(std::move(fd));
    }
  }

 private:
  std::vector<Fd> fds_;
};

// The reserve of each private directory this process made and has not removed yet, by the path
// make_private_dir() returned (which is what the backends pass to remove_private_dir()).
struct Reserves {
  std::mutex mutex;
  std::map<std::string, FdReserve> by_dir;
};
Reserves& reserves() {
  static Reserves r;
  return r;
}

void keep_reserve(const std::string& dir, FdReserve fds) {
  Reserves& r = reserves();
  std::lock_guard lock(r.mutex);
  r.by_dir[dir] = std::move(fds);
}

// Releases dir's reserve (there is none when another process made the directory).
void release_reserve(const std::string& dir) noexcept {
  Reserves& r = reserves();
  std::lock_guard lock(r.mutex);
  r.by_dir.erase(dir);
}

// Records the first shortage of descriptors the sweep met (see SweepReport::error).
void note_shortage(SweepReport& r, int err, std::string_view call) {
  if (r.error.empty()) r.error = SystemError(err, call).what();
}

// ---- records -------------------------------------------------------------------------------

void append_record(const std::string& dir, const char* name, const std::string& line) {
  const std::string path = join(dir, name);
  Fd f(retry_eintr([&] {
    return ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  }));
  if (!f.valid()) {
    throw_errno(fmt::format("open(\"{}\", O_WRONLY|O_APPEND|O_CREAT)", path),
                errno == EMFILE ? "raise the descriptor limit (ulimit -n)" : "");
  }
  // The umask may only have removed bits: say 0600 exactly.
  check_errno(fmt::format("fchmod(\"{}\", 0600)", path), [&] { return ::fchmod(f.get(), 0600); });
  write_full(f.get(), line.data(), line.size(), path);
  if (::close(f.release()) != 0) throw_errno(fmt::format("close(\"{}\")", path));
}

enum class Record { kAbsent, kRead, kRefused };

// Reads record `name` of the private directory open at dirfd, when it is a regular file of ours
// that nobody else can write and of a size we could have written.
Record read_record(int dirfd, const char* name, const std::string& dir, std::string& text,
                   SweepReport& r) {
  const std::string path = join(dir, name);
  Fd f(retry_eintr(
      [&] { return ::openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC); }));
  std::string why;
  struct stat st {};
  if (!f.valid()) {
    if (errno == ENOENT) return Record::kAbsent;
    if (out_of_descriptors(errno)) {
      // Unread, the queues it names would outlive a removed directory: keep both for later.
      note_shortage(r, errno, fmt::format("openat(\"{}\")", path));
      return Record::kRefused;
    }
    why = errno == ELOOP ? "a symbolic link" : error_text(errno);
  } else if (::fstat(f.get(), &st) != 0) {
    why = error_text(errno);
  } else {
    why = not_own_file(st);
    if (why.empty() && (st.st_mode & 022) != 0) {
      why = fmt::format("mode {}, writable by others", mode_text(st.st_mode));
    } else if (why.empty() && st.st_size > kMaxRecordBytes) {
      why = fmt::format("{} bytes, more than a record of ours", st.st_size);
    }
  }
  if (why.empty()) {
    text.assign(static_cast<size_t>(st.st_size), '\0');
    size_t got = 0;
    while (got < text.size()) {
      const ssize_t n = retry_eintr([&] { return ::read(f.get(), &text[got], text.size() - got); });
      if (n <= 0) break;
      got += static_cast<size_t>(n);
    }
    if (got == text.size()) return Record::kRead;
    why = "could not be read whole";
  }
  r.left_alone.push_back(
      fmt::format("{}: {}; the directory and its queues are left alone", path, why));
  return Record::kRefused;
}

// Unlinks the POSIX queues named in a record of the private directory `dir` of `owner`: names of
// that pid only, queues owned by the effective uid only. Returns false when it ran out of
// descriptors: the directory, with the record, must then stay for a later sweep.
bool remove_recorded_posix_queues(const std::string& text, pid_t owner, const std::string& dir,
                                  SweepReport& r) {
  std::istringstream in(text);
  for (std::string name; std::getline(in, name);) {
    if (name.empty()) continue;
    if (name[0] != '/' || pid_of_posix_queue_name(name) != owner) {
      r.left_alone.push_back(fmt::format(
          "POSIX message queue \"{}\" recorded in {}: not a name of pid {}", name, dir, owner));
      continue;
    }
    // Opened (not created) to see its owner: fstat on a queue descriptor gives the uid.
    const mqd_t q = ::mq_open(name.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (q < 0) {
      if (out_of_descriptors(errno)) {
        note_shortage(r, errno, fmt::format("mq_open(\"{}\")", name));
        return false;
      }
      if (errno != ENOENT) {
        r.left_alone.push_back(
            fmt::format("POSIX message queue {}: mq_open: {}", name, error_text(errno)));
      }
      continue;
    }
    struct stat st {};
    const int rc = ::fstat(q, &st);
    const int err = errno;
    ::mq_close(q);
    if (rc != 0) {
      r.left_alone.push_back(
          fmt::format("POSIX message queue {}: fstat: {}", name, error_text(err)));
    } else if (st.st_uid != ::geteuid()) {
      r.left_alone.push_back(
          fmt::format("POSIX message queue {}: {}", name, owner_text(st.st_uid)));
    } else if (::mq_unlink(name.c_str()) == 0) {
      r.removed.push_back(fmt::format("POSIX message queue {}", name));
    }
  }
  return true;
}

// Removes the System V queues named in a record (lines "msqid msg_ctime") when they are still
// the queues recorded and ours.
void remove_recorded_sysv_queues(const std::string& text, const std::string& dir, SweepReport& r) {
  std::istringstream in(text);
  long long id = 0;
  long long ctime = 0;
  while (in >> id >> ctime) {
    if (id < 0 || id > INT_MAX) continue;
    const int msqid = static_cast<int>(id);
    msqid_ds ds{};
    if (::msgctl(msqid, IPC_STAT, &ds) != 0) {
      // EINVAL / EIDRM: gone already (a peer's watchdog, or a cleanup that ran).
      if (errno != EINVAL && errno != EIDRM) {
        r.left_alone.push_back(fmt::format("System V message queue {} (recorded in {}): {}", msqid,
                                           dir, error_text(errno)));
      }
      continue;
    }
    std::string why;
    if (ds.msg_perm.cuid != ::geteuid() || ds.msg_perm.uid != ::geteuid()) {
      why = fmt::format("created by uid {} and owned by uid {}, not {}", ds.msg_perm.cuid,
                        ds.msg_perm.uid, ::geteuid());
    } else if ((ds.msg_perm.mode & 0777) != 0600) {
      why = fmt::format("mode {}, not 0600", mode_text(ds.msg_perm.mode));
    } else if (static_cast<long long>(ds.msg_ctime) != ctime) {
      why = "its msg_ctime is not the recorded one (the id now names another queue)";
    }
    if (!why.empty()) {
      r.left_alone.push_back(
          fmt::format("System V message queue {} (recorded in {}): {}", msqid, dir, why));
    } else if (::msgctl(msqid, IPC_RMID, nullptr) == 0) {
      r.removed.push_back(fmt::format("System V message queue {}", msqid));
    }
  }
}

// ---- private directories -------------------------------------------------------------------

// Removes the private directory `name` of the directory open at parent_fd (shown as `parent`)
// when it is ours (see objects.hpp), acting on its records when `records`.
void remove_private_dir_at(int parent_fd, const std::string& parent, const std::string& name,
                           bool records, SweepReport& r) {
  const std::string path = join(parent, name);
  const auto pid = pid_of_private_dir_name(name);
  if (!pid) {
    r.left_alone.push_back(fmt::format("{}: not named like a private directory of ours", path));
    return;
  }
  Fd fd(open_dir_at(parent_fd, name));
  if (!fd.valid()) {
    if (out_of_descriptors(errno)) {
      note_shortage(r, errno, fmt::format("open(\"{}\")", path));
    } else if (errno != ENOENT) {
      r.left_alone.push_back(fmt::format("{}: {}", path, open_dir_error(errno)));
    }
    return;
  }
  // Checked on the descriptor that is used from here on: the name cannot be swapped under us.
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return;
  if (const std::string why = not_private(st); !why.empty()) {
    r.left_alone.push_back(fmt::format("{}: {}", path, why));
    return;
  }
  if (records) {
    std::string text;
    switch (read_record(fd.get(), kPosixMqRecord, path, text, r)) {
      case Record::kRefused:
        return;
      case Record::kRead:
        if (!remove_recorded_posix_queues(text, *pid, path, r)) return;
        break;
      case Record::kAbsent:
        break;
    }
    switch (read_record(fd.get(), kSysvRecord, path, text, r)) {
      case Record::kRefused:
        return;
      case Record::kRead:
        remove_recorded_sysv_queues(text, path, r);
        break;
      case Record::kAbsent:
        break;
    }
  }
  {
    Dir d(fd.release());
    if (!d.valid()) return;
    for (const std::string& n : d.names()) {
      // Never a subdirectory (EISDIR without AT_REMOVEDIR), never through a symbolic link.
      if (::unlinkat(d.fd(), n.c_str(), 0) == 0) {
        r.removed.push_back(join(path, n));
      } else if (errno != ENOENT) {
        r.left_alone.push_back(fmt::format("{}: {}", join(path, n),
                                           errno == EISDIR ? "a directory" : error_text(errno)));
      }
    }
  }
  if (::unlinkat(parent_fd, name.c_str(), AT_REMOVEDIR) == 0) {
    r.removed.push_back(path);
  } else if (errno != ENOENT && errno != ENOTEMPTY && errno != EEXIST) {
    r.left_alone.push_back(fmt::format("{}: rmdir: {}", path, error_text(errno)));
  }
}

SweepReport remove_private_dir_path(const std::string& dir, bool records) {
  SweepReport r;
  const size_t slash = dir.rfind('/');
  if (slash == std::string::npos || slash + 1 == dir.size()) return r;
  const std::string parent = slash == 0 ? "/" : dir.substr(0, slash);
  Fd p(open_dir_at(AT_FDCWD, parent, /*nofollow=*/false));
  if (p.valid()) {
    remove_private_dir_at(p.get(), parent, dir.substr(slash + 1), records, r);
  } else if (out_of_descriptors(errno)) {
    note_shortage(r, errno, fmt::format("open(\"{}\")", parent));
  }
  return r;
}

// A personal root that exists (created now if need be, 0700) and is a directory of ours, 0700.
// Throws SystemError when out of descriptors: that says nothing about the root, and falling back
// to the shared temp directory for it would be a silent change of place.
bool usable_personal_root(const std::string& path) {
  const bool created = ::mkdir(path.c_str(), 0700) == 0;
  if (!created && errno != EEXIST) return false;
  Fd fd(open_dir_at(AT_FDCWD, path));
  if (!fd.valid() && out_of_descriptors(errno)) throw_errno(fmt::format("open(\"{}\")", path));
  if (!fd.valid()) return false;
  // The umask may have removed bits from a directory made here; one found is never changed.
  if (created) ::fchmod(fd.get(), 0700);
  struct stat st {};
  return ::fstat(fd.get(), &st) == 0 && not_private(st).empty();
}

// ---- the sweep -----------------------------------------------------------------------------

// Shared memory and /dev/mqueue: regular files of ours named `parse`'s way, of dead pids.
void sweep_files(const std::string& root, std::optional<pid_t> (*parse)(std::string_view),
                 SweepReport& r) {
  if (root.empty()) return;
  Dir d(open_dir_at(AT_FDCWD, root, /*nofollow=*/false));
  if (!d.valid()) {
    if (out_of_descriptors(errno)) note_shortage(r, errno, fmt::format("open(\"{}\")", root));
    return;
  }
  for (const std::string& n : d.names()) {
    const auto pid = parse(n);
    if (!pid || !dead(*pid)) continue;
    struct stat st {};
    if (::fstatat(d.fd(), n.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (const std::string why = not_own_file(st); !why.empty()) {
      r.left_alone.push_back(fmt::format("{}: {}", join(root, n), why));
    } else if (::unlinkat(d.fd(), n.c_str(), 0) == 0) {
      // A file of ours in a sticky directory: nobody else could have replaced it meanwhile.
      r.removed.push_back(join(root, n));
    }
  }
}

// The private directories of dead pids in `root`. A personal root is searched only when it is a
// directory of ours, 0700; the shared temp directory is not (only its entries are checked).
void sweep_private_root(const std::string& root, bool personal, const std::string& temp,
                        SweepReport& r) {
  if (root.empty()) return;
  Dir d(open_dir_at(AT_FDCWD, root, /*nofollow=*/personal));
  if (!d.valid()) {
    if (out_of_descriptors(errno)) {
      note_shortage(r, errno, fmt::format("open(\"{}\")", root));
    } else if (personal && errno != ENOENT) {
      r.left_alone.push_back(
          fmt::format("{}: {}; private directories go into {}", root, open_dir_error(errno), temp));
    }
    return;
  }
  if (personal) {
    struct stat st {};
    if (::fstat(d.fd(), &st) != 0) return;
    if (const std::string why = not_private(st); !why.empty()) {
      r.left_alone.push_back(
          fmt::format("{}: {}; private directories go into {}", root, why, temp));
      return;
    }
  }
  for (const std::string& n : d.names()) {
    const auto pid = pid_of_private_dir_name(n);
    if (pid && dead(*pid)) remove_private_dir_at(d.fd(), root, n, /*records=*/true, r);
  }
}

}  // namespace

// ---- names -----------------------------------------------------------------------------------

std::string temp_base() {
  const char* t = std::getenv("TMPDIR");
  if (t != nullptr && t[0] == '/') {
    std::string s = t;
    while (s.size() > 1 && s.back() == '/') s.pop_back();
    return s;
  }
  return "/tmp";
}

std::string make_object_name() {
  static std::atomic<unsigned> counter{0};
  return fmt::format("ipcperf-{}-{}", ::getpid(), counter.fetch_add(1));
}

std::optional<pid_t> pid_of_shm_name(std::string_view name) {
  const auto pid = take_prefix_pid(name);
  if (!pid || !take_number(name) || !name.empty()) return std::nullopt;
  return pid;
}

std::optional<pid_t> pid_of_posix_queue_name(std::string_view name) {
  if (!name.empty() && name[0] == '/') name.remove_prefix(1);
  const auto pid = take_prefix_pid(name);
  if (!pid || !take_number(name)) return std::nullopt;
  if (name.size() < 2 || name.size() > 9 || name[0] != '-') return std::nullopt;
  for (char c : name.substr(1)) {
    if (c < 'a' || c > 'z') return std::nullopt;
  }
  return pid;
}

std::optional<pid_t> pid_of_private_dir_name(std::string_view name) {
  const auto pid = take_prefix_pid(name);
  if (!pid || name.empty() || name[0] != 'd') return std::nullopt;
  name.remove_prefix(1);
  if (!take_number(name) || name.size() != 7 || name[0] != '.') return std::nullopt;
  for (char c : name.substr(1)) {
    if (!is_alnum(c)) return std::nullopt;
  }
  return pid;
}

// ---- private directories ---------------------------------------------------------------------

std::vector<std::string> personal_roots() {
  std::vector<std::string> roots;
  if (const char* x = std::getenv("XDG_RUNTIME_DIR"); x != nullptr && x[0] == '/') {
    std::string dir = x;
    while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
    // Ours and private, as the XDG spec has it: under sudo it is often the invoking user's.
    struct stat st {};
    if (::stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == ::geteuid() &&
        (st.st_mode & 077) == 0) {
      roots.push_back(join(dir, "ipcperf"));
    }
  }
  roots.push_back(join(temp_base(), fmt::format("ipcperf-{}", ::geteuid())));
  return roots;
}

std::string private_root() {
  for (const std::string& r : personal_roots()) {
    if (usable_personal_root(r)) return r;
  }
  return temp_base();
}

size_t private_dir_max_length() {
  size_t root = temp_base().size();
  for (const std::string& r : personal_roots()) root = std::max(root, r.size());
  // "/ipcperf-<pid>-d" + the counter (at most 10 digits) + ".XXXXXX"
  return root + fmt::format("/ipcperf-{}-d", ::getpid()).size() + kMaxDigits + 7;
}

std::string make_private_dir() {
  static std::atomic<unsigned> counter{0};
  std::string templ =
      fmt::format("{}/ipcperf-{}-d{}.XXXXXX", private_root(), ::getpid(), counter.fetch_add(1));
  if (::mkdtemp(templ.data()) == nullptr) {
    throw_errno(fmt::format("mkdtemp(\"{}\")", templ), "set TMPDIR to a writable directory");
  }
  // mkdtemp asks for 0700, which the umask may reduce: say 0700 exactly.
  Fd fd(open_dir_at(AT_FDCWD, templ));
  if (!fd.valid() || ::fchmod(fd.get(), 0700) != 0) {
    const int err = errno;
    ::rmdir(templ.c_str());
    throw SystemError(err, fmt::format("chmod(\"{}\", 0700)", templ));
  }
  fd.reset();
  // Held until remove_private_dir(): a run that fails because the process ran out of descriptors
  // must still be able to remove what it made. The directory is empty yet: rmdir needs none.
  try {
    keep_reserve(templ, FdReserve(kRemovalFds, fmt::format("removing \"{}\" later", templ)));
  } catch (...) {
    ::rmdir(templ.c_str());
    throw;
  }
  return templ;
}

void record_sysv_queue(const std::string& dir, int msqid) {
  msqid_ds ds{};
  check_errno("msgctl(IPC_STAT)", [&] { return ::msgctl(msqid, IPC_STAT, &ds); });
  append_record(dir, kSysvRecord,
                fmt::format("{} {}\n", msqid, static_cast<long long>(ds.msg_ctime)));
}

void record_posix_queue(const std::string& dir, const std::string& name) {
  if (name.empty() || name[0] != '/' || !pid_of_posix_queue_name(name)) {
    throw std::logic_error(fmt::format(
        "record_posix_queue: \"{}\" is not named /ipcperf-<pid>-<n>-<suffix>: the sweep would "
        "never remove it",
        name));
  }
  append_record(dir, kPosixMqRecord, name + "\n");
}

std::vector<std::string> remove_private_dir(const std::string& dir) noexcept {
  release_reserve(dir);
  try {
    return remove_private_dir_path(dir, /*records=*/true).removed;
  } catch (...) {
    // Cleanup never throws; what could not be removed is found by the next sweep.
    return {};
  }
}

void discard_private_dir(const std::string& dir) noexcept {
  release_reserve(dir);
  try {
    remove_private_dir_path(dir, /*records=*/false);
  } catch (...) {
  }
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

// ---- the sweep -------------------------------------------------------------------------------

ObjectRoots ObjectRoots::of_this_machine() {
  ObjectRoots r;
  r.shm = "/dev/shm";
  struct stat st {};
  if (::stat("/dev/mqueue", &st) == 0 && S_ISDIR(st.st_mode)) r.mqueue = "/dev/mqueue";
  r.personal_roots = ipcperf::personal_roots();
  r.temp = temp_base();
  return r;
}

SweepReport sweep_stale_objects(const ObjectRoots& roots) noexcept {
  SweepReport r;
  try {
    // All or nothing rather than a sweep that stops halfway: as many descriptors as it holds at
    // once, released just before it starts (only this thread opens any meanwhile).
    try {
      const FdReserve probe(kRemovalFds, "the stale sweep");
    } catch (const SystemError& e) {
      r.error = e.what();
      return r;
    }
    sweep_files(roots.shm, pid_of_shm_name, r);
    sweep_files(roots.mqueue, pid_of_posix_queue_name, r);
    for (const std::string& p : roots.personal_roots) {
      sweep_private_root(p, /*personal=*/true, roots.temp, r);
    }
    sweep_private_root(roots.temp, /*personal=*/false, roots.temp, r);
  } catch (...) {
    // Never throws (allocation failures included); the next sweep tries again.
  }
  return r;
}

std::vector<std::string> sweep_stale_objects() {
  return sweep_stale_objects(ObjectRoots::of_this_machine()).removed;
}

std::vector<std::string> objects_of(pid_t pid, const ObjectRoots& roots) {
  std::vector<std::string> found;
  auto collect = [&](const std::string& dir, bool nofollow) {
    if (dir.empty()) return;
    Dir d(open_dir_at(AT_FDCWD, dir, nofollow));
    if (!d.valid()) return;
    for (const std::string& n : d.names()) {
      // Any name after the pid, whatever its shape: a leak check wants to see everything.
      std::string_view s = n;
      if (take_prefix_pid(s) == pid) found.push_back(join(dir, n));
    }
  };
  collect(roots.shm, false);
  collect(roots.mqueue, false);
  for (const std::string& p : roots.personal_roots) collect(p, true);
  collect(roots.temp, false);
  return found;
}

std::vector<std::string> objects_of(pid_t pid) {
  return objects_of(pid, ObjectRoots::of_this_machine());
}

}  // namespace ipcperf
