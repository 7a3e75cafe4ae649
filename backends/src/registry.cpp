// The explicit registry: one line per backend, in display order. No static self-registration.
#include <memory>

#include "ipcperf/backend.hpp"

namespace ipcperf {

// Shared memory.
std::unique_ptr<Backend> make_shm_spsc_backend();
std::unique_ptr<Backend> make_shm_mutex_backend();
std::unique_ptr<Backend> make_shm_boost_spsc_backend();
// Kernel message passing.
std::unique_ptr<Backend> make_pipe_backend();
std::unique_ptr<Backend> make_fifo_backend();
std::unique_ptr<Backend> make_uds_stream_backend();
std::unique_ptr<Backend> make_uds_dgram_backend();
std::unique_ptr<Backend> make_uds_seqpacket_backend();
std::unique_ptr<Backend> make_tcp_backend();
std::unique_ptr<Backend> make_udp_backend();
std::unique_ptr<Backend> make_posix_mq_backend();
std::unique_ptr<Backend> make_sysv_mq_backend();
// In-process references.
std::unique_ptr<Backend> make_thread_spsc_backend();
std::unique_ptr<Backend> make_thread_boost_spsc_backend();
std::unique_ptr<Backend> make_thread_moodycamel_backend();

std::span<const RegistryEntry> registry() {
  // clang-format off
  static const RegistryEntry entries[] = {
      {"shm-spsc", make_shm_spsc_backend},
      {"shm-mutex", make_shm_mutex_backend},
      {"shm-boost-spsc", make_shm_boost_spsc_backend},
      {"pipe", make_pipe_backend},
      {"fifo", make_fifo_backend},
      {"uds-stream", make_uds_stream_backend},
      {"uds-dgram", make_uds_dgram_backend},
      {"uds-seqpacket", make_uds_seqpacket_backend},
      {"tcp", make_tcp_backend},
      {"udp", make_udp_backend},
      {"posix-mq", make_posix_mq_backend},
      {"sysv-mq", make_sysv_mq_backend},
      {"thread-spsc", make_thread_spsc_backend},
      {"thread-boost-spsc", make_thread_boost_spsc_backend},
      {"thread-moodycamel", make_thread_moodycamel_backend},
  };
  // clang-format on
  return entries;
}

}  // namespace ipcperf
