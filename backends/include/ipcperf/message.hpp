// The measured message: every message carries its sequence number and size, and a payload
// derived from the sequence number, so that a lost, duplicated, reordered, truncated or corrupted
// message is detected on receipt.
//
//   offset 0   u64 seq      sequence number (warm-up messages count too)
//   offset 8   u32 size     total message size in bytes, header included
//   offset 12  u32 flags    kLast marks the final message of a phase (duration-bounded runs)
//   offset 16  payload      word i (8 bytes) = mix(seq) + i; a partial last word holds the low
//                           bytes of that value
//
// Fill and check are plain loops over 8-byte words that the compiler vectorises (ipcperf_micro on
// the reference VM: fill 64 KiB 2.5 us, check 3.3 us, i.e. 18-24 GB/s; 64 B: 2-3 ns).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>

namespace ipcperf {

inline constexpr size_t kMessageHeaderSize = 16;
inline constexpr size_t kMinMessageSize = kMessageHeaderSize;

struct MessageHeader {
  uint64_t seq;
  uint32_t size;
  uint32_t flags;
};
static_assert(sizeof(MessageHeader) == kMessageHeaderSize);

inline constexpr uint32_t kFlagLast = 1U << 0;
// Marks the receiver's acknowledgement that ends a stream phase.
inline constexpr uint32_t kFlagAck = 1U << 1;

// Per-sequence payload seed: a multiplicative hash so that neighbouring messages differ in
// every word.
constexpr uint64_t payload_seed(uint64_t seq) noexcept { return (seq + 1) * 0x9E3779B97F4A7C15ULL; }

// Writes header and payload of message `seq` into buf (buf.size() is the message size,
// >= kMinMessageSize).
inline void fill_message(std::span<std::byte> buf, uint64_t seq, uint32_t flags = 0) noexcept {
  const MessageHeader h{seq, static_cast<uint32_t>(buf.size()), flags};
  std::memcpy(buf.data(), &h, sizeof h);
  const uint64_t seed = payload_seed(seq);
  const size_t payload = buf.size() - kMessageHeaderSize;
  const size_t words = payload / 8;
  std::byte* p = buf.data() + kMessageHeaderSize;
  for (size_t i = 0; i < words; ++i) {
    const uint64_t w = seed + i;
    std::memcpy(p + i * 8, &w, 8);
  }
  const size_t rest = payload % 8;
  if (rest != 0) {
    const uint64_t w = seed + words;
    std::memcpy(p + words * 8, &w, rest);
  }
}

// Reads the header of a received message (buf.size() >= kMessageHeaderSize).
inline MessageHeader read_header(std::span<const std::byte> buf) noexcept {
  MessageHeader h{};
  std::memcpy(&h, buf.data(), sizeof h);
  return h;
}

// True when the payload of buf matches message `seq`.
inline bool payload_ok(std::span<const std::byte> buf, uint64_t seq) noexcept {
  const uint64_t seed = payload_seed(seq);
  const size_t payload = buf.size() - kMessageHeaderSize;
  const size_t words = payload / 8;
  const std::byte* p = buf.data() + kMessageHeaderSize;
  uint64_t diff = 0;
  for (size_t i = 0; i < words; ++i) {
    uint64_t w;
    std::memcpy(&w, p + i * 8, 8);
    diff |= w ^ (seed + i);
  }
  const size_t rest = payload % 8;
  if (rest != 0) {
    uint64_t w = 0;
    uint64_t want = seed + words;
    std::memcpy(&w, p + words * 8, rest);
    diff |= (w ^ want) & ((uint64_t{1} << (rest * 8)) - 1);
  }
  return diff == 0;
}

// Verifies a received message against what was expected. Returns an empty optional when it is
// correct, otherwise a sentence saying what is wrong (lost, duplicated, reordered, truncated,
// corrupted).
std::optional<std::string> verify_message(std::span<const std::byte> received, uint64_t want_seq,
                                          size_t want_size);

// Formats a size in bytes the way the CLI accepts it back ("64", "4K", "1M", "1000").
std::string format_size(size_t bytes);

}  // namespace ipcperf
