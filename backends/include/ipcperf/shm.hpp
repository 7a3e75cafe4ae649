// A mapping of a POSIX shared-memory object: created by the supervisor (0600, O_CREAT|O_EXCL),
// attached by the peers (never created there), unlinked by the supervisor at cleanup.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ipcperf {

class ShmRegion {
 public:
  ShmRegion() = default;
  // Creates /name with `bytes` bytes (zero-filled) and maps it. Throws SystemError with a hint
  // (e.g. /dev/shm full).
  static ShmRegion create(std::string_view name, size_t bytes);
  // Maps an existing /name read-write; its size is taken from the object.
  static ShmRegion open(std::string_view name);
  // Removes /name; returns false when it did not exist. Never throws.
  static bool unlink(std::string_view name) noexcept;

  ShmRegion(ShmRegion&& o) noexcept;
  ShmRegion& operator=(ShmRegion&& o) noexcept;
  ShmRegion(const ShmRegion&) = delete;
  ShmRegion& operator=(const ShmRegion&) = delete;
  ~ShmRegion();

  [[nodiscard]] void* data() const noexcept { return addr_; }
  [[nodiscard]] size_t size() const noexcept { return size_; }

 private:
  void* addr_ = nullptr;
  size_t size_ = 0;
};

}  // namespace ipcperf
