// Message verification (the slow path that says what is wrong) and size formatting.
#include "ipcperf/message.hpp"

#include <vector>

#include <fmt/format.h>

namespace ipcperf {

std::optional<std::string> verify_message(std::span<const std::byte> received, uint64_t want_seq,
                                          size_t want_size) {
  if (received.size() < kMessageHeaderSize) {
    return fmt::format("truncated message: {} bytes received, expected {} (seq {})",
                       received.size(), want_size, want_seq);
  }
  const MessageHeader h = read_header(received);
  if (h.seq != want_seq) {
    if (h.seq < want_seq) {
      return fmt::format("duplicated or reordered message: seq {} received, expected {}", h.seq,
                         want_seq);
    }
    return fmt::format("lost message(s): seq {} received, expected {} ({} missing)", h.seq,
                       want_seq, h.seq - want_seq);
  }
  if (received.size() != want_size || h.size != want_size) {
    return fmt::format("{} message seq {}: {} bytes received, header says {}, expected {}",
                       received.size() < want_size ? "truncated" : "wrong-size", want_seq,
                       received.size(), h.size, want_size);
  }
  if (!payload_ok(received, want_seq)) {
    // Find the first bad byte for the message.
    std::vector<std::byte> good(want_size);
    fill_message(good, want_seq, h.flags);
    size_t i = kMessageHeaderSize;
    while (i < want_size && good[i] == received[i]) ++i;
    return fmt::format(
        "corrupted payload in message seq {} ({} bytes): first difference at byte {}", want_seq,
        want_size, i);
  }
  return std::nullopt;
}

std::string format_size(size_t bytes) {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) == 0) return fmt::format("{}M", bytes >> 20);
  if (bytes >= 1024 && bytes % 1024 == 0) return fmt::format("{}K", bytes >> 10);
  return fmt::format("{}", bytes);
}

}  // namespace ipcperf
