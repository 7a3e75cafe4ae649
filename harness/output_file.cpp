#include "output_file.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "ipcperf/sys.hpp"

namespace ipcperf {

namespace {

std::string directory_of(const std::string& path) {
  const std::string dir = std::filesystem::path(path).parent_path().string();
  return dir.empty() ? "." : dir;
}

std::string_view kind_of(mode_t mode) {
  if (S_ISDIR(mode)) return "directory";
  if (S_ISFIFO(mode)) return "FIFO";
  if (S_ISCHR(mode) || S_ISBLK(mode)) return "device";
  if (S_ISSOCK(mode)) return "socket";
  return "special file";
}

std::string reason(std::string_view what) {
  return fmt::format("{}: {}", what, std::strerror(errno));
}

// Writes all of `content` to fd; "" or what failed.
std::string write_all(int fd, std::string_view content) {
  for (size_t done = 0; done < content.size();) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return reason("write");
    done += static_cast<size_t>(n);
  }
  return "";
}

}  // namespace

void check_output_path(const std::string& path, std::string_view option) {
  if (path.empty()) return;
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    throw UsageError(fmt::format("{}: '{}' is a {}, not a regular file: name a new or regular file",
                                 option, path, kind_of(st.st_mode)));
  }
  const std::string dir = directory_of(path);
  struct stat ds {};
  if (::stat(dir.c_str(), &ds) != 0 || !S_ISDIR(ds.st_mode)) {
    throw UsageError(
        fmt::format("{}: cannot write '{}': the directory '{}' does not exist", option, path, dir));
  }
  if (::access(dir.c_str(), W_OK | X_OK) != 0) {
    throw UsageError(
        fmt::format("{}: cannot write into '{}': {}", option, dir, std::strerror(errno)));
  }
}

std::string write_file_atomically(const std::string& path, std::string_view content) {
  const std::filesystem::path target(path);
  std::string temp = (std::filesystem::path(directory_of(path)) /
                      fmt::format(".{}.tmp-XXXXXX", target.filename().string()))
                         .string();
  const int fd = ::mkostemp(temp.data(), O_CLOEXEC);
  if (fd < 0) return reason(fmt::format("creating a temporary file in {}", directory_of(path)));
  const mode_t mask = ::umask(0);
  ::umask(mask);
  std::string error = write_all(fd, content);
  if (error.empty() && ::fchmod(fd, 0666 & ~mask) != 0) error = reason("fchmod");
  if (error.empty() && ::fsync(fd) != 0) error = reason("fsync");
  if (::close(fd) != 0 && error.empty()) error = reason("close");
  if (error.empty() && ::rename(temp.c_str(), path.c_str()) != 0) error = reason("rename");
  if (!error.empty()) ::unlink(temp.c_str());
  return error;
}

}  // namespace ipcperf
