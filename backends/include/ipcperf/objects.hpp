// The objects ipcperf leaves in shared namespaces: how they are named, where they go, and the
// stale sweep that removes those of dead ipcperf processes, and only those.
//
// Names. The sweep matches exactly these shapes (decimal numbers without sign or leading zero)
// and nothing else, so that a user's /tmp/ipcperf-2024-results/ is never one of ours:
//   <shm root>/ipcperf-<pid>-<n>                 POSIX shared memory (make_object_name())
//   <mqueue root>/ipcperf-<pid>-<n>-<suffix>     POSIX message queues, suffix [a-z]{1,8}
//   <private root>/ipcperf-<pid>-d<n>.XXXXXX     private directories (mkdtemp: 6 of [A-Za-z0-9])
// <pid> is the creating (supervisor) process; n counts per process.
//
// Private directories (FIFOs, socket paths, records of queues) go into a per-user root:
// $XDG_RUNTIME_DIR/ipcperf when XDG_RUNTIME_DIR is ours and private, else $TMPDIR/ipcperf-<euid>
// ($TMPDIR or /tmp), each created 0700 and verified (a directory, not a symbolic link, owned by
// the effective uid, mode 0700). When neither verifies (another user squats the name) they go
// directly into $TMPDIR, where the mkdtemp suffix makes the name unpredictable. Older builds put
// them there too: the sweep looks in all three places.
//
// What the sweep removes, for a name above whose pid is dead:
//   - a shared-memory object or /dev/mqueue entry only when it is a regular file owned by the
//     effective uid; unlinkat() relative to the opened root, never through a symbolic link;
//   - a private directory only when openat(O_NOFOLLOW|O_DIRECTORY) opens it and fstat on that
//     descriptor shows the effective uid and mode 0700; only then are its records read (regular
//     files of ours, not writable by others), its entries unlinked relative to it (never a
//     subdirectory), and the directory removed relative to its root;
//   - a queue only when a record of such a directory names it and it is ours: a POSIX queue named
//     like ours after that directory's pid, owned by the effective uid (fstat on the mq_open()ed
//     descriptor); a System V queue whose creator and owner uid are the effective uid, whose mode
//     is 0600 and whose msg_ctime is the recorded one (msqid_ds carries no creator pid; the id
//     itself encodes a sequence number, so a reused id with the same ctime is not a concern).
// Anything else named like ours is reported (SweepReport::left_alone) and left alone.
//
// Descriptors. Removing a private directory holds up to three at once (its parent, the directory,
// a record or a queue). make_private_dir() reserves them with the directory and
// remove_private_dir() releases them just before it needs them: a process that has run out
// (EMFILE) in between, as a failed run has, still removes what it made. The sweep checks that it
// can open as many before it touches anything, and says so when it cannot (SweepReport::error).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <sys/types.h>

namespace ipcperf {

// The base temporary directory: $TMPDIR when set and absolute, else /tmp.
std::string temp_base();

// "ipcperf-<pid>-<n>": pid of the creating (supervisor) process, n counts per process. The stale
// sweep removes objects whose pid is dead.
std::string make_object_name();

// The pid in a name of the given shape (see the top of the file), or nullopt when the name is
// not exactly that shape.
std::optional<pid_t> pid_of_shm_name(std::string_view name);          // ipcperf-<pid>-<n>
std::optional<pid_t> pid_of_posix_queue_name(std::string_view name);  // [/]ipcperf-<pid>-<n>-<sfx>
std::optional<pid_t> pid_of_private_dir_name(std::string_view name);  // ipcperf-<pid>-d<n>.XXXXXX

// The per-user roots that may hold private directories, in order of preference (see above);
// they need not exist. Reads XDG_RUNTIME_DIR and TMPDIR.
std::vector<std::string> personal_roots();

// Where make_private_dir() puts directories now: the first personal root that exists or can be
// created and verifies, else temp_base(). Throws SystemError when out of descriptors (which says
// nothing about a root).
std::string private_root();

// The longest path make_private_dir() can return in this process (sun_path checks).
size_t private_dir_max_length();

// Creates a private directory named after this process (see above), mode 0700, and reserves the
// descriptors its removal needs (see above) until remove_private_dir() or discard_private_dir().
// Throws SystemError (EMFILE when they cannot be reserved; nothing is left then).
std::string make_private_dir();

// Removes a private directory (when it is one of ours, see above): every entry in it, the
// System V and POSIX queues recorded in it (when they are still ours), and the directory. Safe
// on a missing directory. Never throws. Returns what was removed.
std::vector<std::string> remove_private_dir(const std::string& dir) noexcept;

// Removes a private directory and its entries but not the queues its records name: for a
// prepare() that failed, which removes the queues it created itself (a recorded name whose
// O_EXCL create failed belongs to someone else).
void discard_private_dir(const std::string& dir) noexcept;

// Records a System V message queue created by this process in `dir` (file "sysv-msqids", 0600):
// its id and msg_ctime, so that a reused id is not mistaken for it.
void record_sysv_queue(const std::string& dir, int msqid);

// Records the name of a POSIX message queue ("/ipcperf-<pid>-<n>-<suffix>") in `dir` (file
// "posix-mqs", 0600), before it is created: the stale sweep then finds it even where
// /dev/mqueue is not mounted (it is not on every machine; mq_open works without it).
void record_posix_queue(const std::string& dir, const std::string& name);

// The ids of the System V message queues whose creator uid is ours (from /proc/sysvipc/msg).
std::vector<int> own_sysv_queues();

// Where the sweep and objects_of() look. Injectable so that tests never touch the machine's
// real state.
struct ObjectRoots {
  std::string shm;                          // "" = not searched
  std::string mqueue;                       // "" = not searched (not mounted everywhere)
  std::vector<std::string> personal_roots;  // searched only when ours and 0700
  std::string temp;                         // searched for private directories only

  // /dev/shm, /dev/mqueue (when mounted), personal_roots(), temp_base().
  static ObjectRoots of_this_machine();
};

struct SweepReport {
  std::vector<std::string> removed;     // what was removed
  std::vector<std::string> left_alone;  // "<object>: <why>", named like ours but not ours
  // Why the sweep did not look at everything: the first call that found no descriptor left
  // (EMFILE, ENFILE), as a SystemError says it; "" when it did. What it could not look at stays.
  std::string error;
};

// Removes the objects of ipcperf processes that are no longer alive (see the top of the file).
// Never throws.
SweepReport sweep_stale_objects(const ObjectRoots& roots) noexcept;
// The machine's roots; returns what was removed.
std::vector<std::string> sweep_stale_objects();

// Every object that exists now and was named after `pid`, whatever its type or owner (the leak
// check of the tests; reads only).
std::vector<std::string> objects_of(pid_t pid, const ObjectRoots& roots);
std::vector<std::string> objects_of(pid_t pid);

}  // namespace ipcperf
