// Where backends put objects that live in a file system: a private directory per prepare(),
// $TMPDIR/ipcperf-<pid>-<n>.XXXXXX (mkdtemp, mode 0700), for FIFOs and socket paths; and a record
// of System V queues (which have no name) kept in that directory, so that the stale sweep can
// find the queues of a supervisor that was killed before its cleanup.
#pragma once

#include <string>
#include <sys/types.h>
#include <vector>

namespace ipcperf {

// The base directory: $TMPDIR when set and absolute, else /tmp.
std::string temp_base();

// Creates a private directory named after this process (see above). Throws SystemError.
std::string make_private_dir();

// Removes a private directory: every entry in it, the System V queues recorded in it (when their
// creator is still the one recorded), the POSIX queues recorded in it, and the directory. Safe on a
// missing directory. Returns what was removed.
std::vector<std::string> remove_private_dir(const std::string& dir) noexcept;

// Records a System V message queue created by this process in `dir` (file "sysv-msqids").
void record_sysv_queue(const std::string& dir, int msqid);

// Records the name of a POSIX message queue ("/ipcperf-<pid>-<n>...") in `dir` (file
// "posix-mqs"), before it is created: the stale sweep then finds it even where /dev/mqueue is
// not mounted (it is not on every machine; mq_open works without it).
void record_posix_queue(const std::string& dir, const std::string& name);

// The ids of the System V message queues whose creator uid is ours (from /proc/sysvipc/msg).
std::vector<int> own_sysv_queues();

// "ipcperf-<pid>-<n>": pid of the creating (supervisor) process, n counts per process. The stale
// sweep removes objects whose pid is dead.
std::string make_object_name();

// Removes the IPC objects of ipcperf processes that are no longer alive: /dev/shm and
// /dev/mqueue entries named ipcperf-<pid>-*, private directories $TMPDIR/ipcperf-<pid>-*
// (FIFOs, socket paths) and the System V queues recorded in them. Returns what was removed.
std::vector<std::string> sweep_stale_objects();

// Every object that exists now and was named after `pid` (the leak check of the tests).
std::vector<std::string> objects_of(pid_t pid);

}  // namespace ipcperf
