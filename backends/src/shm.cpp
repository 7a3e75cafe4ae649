#include "ipcperf/shm.hpp"

#include <cerrno>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "ipcperf/sys.hpp"

namespace ipcperf {

namespace {
std::string slash(std::string_view name) { return fmt::format("/{}", name); }

void* map(int fd, size_t bytes, std::string_view name) {
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) throw_errno(fmt::format("mmap(\"/{}\", {} bytes)", name, bytes));
  return p;
}
}  // namespace

ShmRegion ShmRegion::create(std::string_view name, size_t bytes) {
  const std::string path = slash(name);
  Fd fd(::shm_open(path.c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600));
  if (!fd.valid()) {
    throw_errno(fmt::format("shm_open(\"{}\", O_CREAT|O_EXCL)", path),
                errno == EEXIST ? "a stale object of that name exists; run 'ipcperf clean'" : "");
  }
  if (::ftruncate(fd.get(), static_cast<off_t>(bytes)) != 0) {
    int err = errno;
    ::shm_unlink(path.c_str());
    throw SystemError(err, fmt::format("ftruncate(\"{}\", {})", path, bytes));
  }
  ShmRegion r;
  try {
    r.addr_ = map(fd.get(), bytes, name);
  } catch (...) {
    ::shm_unlink(path.c_str());
    throw;
  }
  r.size_ = bytes;
  // Touch every page now (zero-filled by the kernel) so that no page fault lands in a measured
  // phase; EINVAL/ENOMEM here would surface as SIGBUS later, so check with posix_fallocate.
  if (int err = ::posix_fallocate(fd.get(), 0, static_cast<off_t>(bytes)); err != 0) {
    ::shm_unlink(path.c_str());
    throw SystemError(err, fmt::format("posix_fallocate(\"{}\", {})", path, bytes),
                      "is /dev/shm full? (df -h /dev/shm)");
  }
  return r;
}

ShmRegion ShmRegion::open(std::string_view name) {
  const std::string path = slash(name);
  Fd fd(::shm_open(path.c_str(), O_RDWR | O_CLOEXEC, 0));
  if (!fd.valid()) throw_errno(fmt::format("shm_open(\"{}\", O_RDWR)", path));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) throw_errno(fmt::format("fstat(\"{}\")", path));
  ShmRegion r;
  r.size_ = static_cast<size_t>(st.st_size);
  r.addr_ = map(fd.get(), r.size_, name);
  return r;
}

bool ShmRegion::unlink(std::string_view name) noexcept {
  const std::string path = slash(name);
  return ::shm_unlink(path.c_str()) == 0;
}

ShmRegion::ShmRegion(ShmRegion&& o) noexcept : addr_(o.addr_), size_(o.size_) {
  o.addr_ = nullptr;
  o.size_ = 0;
}

ShmRegion& ShmRegion::operator=(ShmRegion&& o) noexcept {
  if (this != &o) {
    if (addr_ != nullptr) ::munmap(addr_, size_);
    addr_ = o.addr_;
    size_ = o.size_;
    o.addr_ = nullptr;
    o.size_ = 0;
  }
  return *this;
}

ShmRegion::~ShmRegion() {
  if (addr_ != nullptr) ::munmap(addr_, size_);
}

}  // namespace ipcperf
