// The explicit registry: one line per backend, in display order (the order of `ipcperf list`,
// `--backends all`, the table, and the charts' colours through the JSON context's "backends").
// No static self-registration: this list is the one place a backend is named.
#include "registry.hpp"

#include "backend_glue.hpp"
#include "ipcperf/backends/fifo.hpp"
#include "ipcperf/backends/pipe.hpp"
#include "ipcperf/backends/posix_mq.hpp"
#include "ipcperf/backends/shm_boost_spsc.hpp"
#include "ipcperf/backends/shm_mutex.hpp"
#include "ipcperf/backends/shm_spsc.hpp"
#include "ipcperf/backends/sysv_mq.hpp"
#include "ipcperf/backends/tcp.hpp"
#include "ipcperf/backends/thread_boost_spsc.hpp"
#include "ipcperf/backends/thread_moodycamel.hpp"
#include "ipcperf/backends/thread_spsc.hpp"
#include "ipcperf/backends/udp.hpp"
#include "ipcperf/backends/uds_dgram.hpp"
#include "ipcperf/backends/uds_seqpacket.hpp"
#include "ipcperf/backends/uds_stream.hpp"

namespace ipcperf {

std::span<const RegistryEntry> registry() {
  using namespace backends;  // NOLINT(google-build-using-namespace): one name per line below
  static const RegistryEntry entries[] = {
      // Shared memory.
      entry<shm_spsc::ShmSpsc>(),
      entry<shm_mutex::ShmMutex>(),
      entry<shm_boost_spsc::ShmBoostSpsc>(),
      // Kernel message passing.
      entry<pipe::Pipe>(),
      entry<fifo::Fifo>(),
      entry<uds_stream::UdsStream>(),
      entry<uds_dgram::UdsDgram>(),
      entry<uds_seqpacket::UdsSeqpacket>(),
      entry<tcp::Tcp>(),
      entry<udp::Udp>(),
      entry<posix_mq::PosixMq>(),
      entry<sysv_mq::SysvMq>(),
      // In-process references.
      entry<thread_spsc::ThreadSpsc>(),
      entry<thread_boost_spsc::ThreadBoostSpsc>(),
      entry<thread_moodycamel::ThreadMoodycamel>(),
  };
  return entries;
}

std::unique_ptr<Backend> make_backend(std::string_view name) {
  for (const auto& e : registry()) {
    if (e.name == name) return e.make();
  }
  return nullptr;
}

std::vector<std::string> backend_names() {
  std::vector<std::string> v;
  for (const auto& e : registry()) v.emplace_back(e.name);
  return v;
}

std::vector<BackendOption> backend_options() {
  std::vector<BackendOption> out;
  for (const auto& e : registry()) {
    for (const BackendOption& o : e.make()->info().options) {
      bool seen = false;
      for (const auto& have : out) seen = seen || have.flag == o.flag;
      if (!seen) out.push_back(o);
    }
  }
  return out;
}

namespace detail {
void rethrow_cause(std::exception_ptr (&errors)[2]) {
  for (bool want_gone : {false, true}) {
    for (auto& e : errors) {
      if (!e) continue;
      bool gone = false;
      try {
        std::rethrow_exception(e);
      } catch (const PeerGone&) {
        gone = true;
      } catch (...) {
      }
      if (gone == want_gone) std::rethrow_exception(e);
    }
  }
}
}  // namespace detail

}  // namespace ipcperf
