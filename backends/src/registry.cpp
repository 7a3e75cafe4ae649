// The explicit registry: one line per backend, in display order. No static self-registration.
#include <memory>

#include "ipcperf/backend.hpp"

namespace ipcperf {

std::unique_ptr<Backend> make_shm_spsc_backend();
std::unique_ptr<Backend> make_pipe_backend();
std::unique_ptr<Backend> make_uds_dgram_backend();
std::unique_ptr<Backend> make_udp_backend();
std::unique_ptr<Backend> make_posix_mq_backend();
std::unique_ptr<Backend> make_sysv_mq_backend();

std::span<const RegistryEntry> registry() {
  // clang-format off
  static const RegistryEntry entries[] = {
      {"shm-spsc", make_shm_spsc_backend},
      {"pipe", make_pipe_backend},
      {"uds-dgram", make_uds_dgram_backend},
      {"udp", make_udp_backend},
      {"posix-mq", make_posix_mq_backend},
      {"sysv-mq", make_sysv_mq_backend},
  };
  // clang-format on
  return entries;
}

}  // namespace ipcperf
