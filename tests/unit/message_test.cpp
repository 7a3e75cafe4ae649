// The message format and its verification: every kind of damage is detected and named.
#include "ipcperf/message.hpp"

#include <gtest/gtest.h>

#include "support/backend_support.hpp"

namespace ipcperf {
namespace {

using testing_support::message;
std::vector<std::byte> msg(uint64_t seq, size_t size) { return message(seq, size); }

TEST(Message, IntactMessagesVerify) {
  for (size_t size : {16UL, 17UL, 23UL, 24UL, 64UL, 4095UL, 65536UL}) {
    for (uint64_t seq : {0ULL, 1ULL, 12345678901ULL}) {
      EXPECT_FALSE(verify_message(msg(seq, size), seq, size).has_value()) << size << " " << seq;
    }
  }
}

TEST(Message, LostDuplicatedReorderedAreNamed) {
  auto lost = verify_message(msg(7, 64), 5, 64);
  ASSERT_TRUE(lost);
  EXPECT_NE(lost->find("lost"), std::string::npos) << *lost;
  auto dup = verify_message(msg(4, 64), 5, 64);
  ASSERT_TRUE(dup);
  EXPECT_NE(dup->find("duplicated or reordered"), std::string::npos) << *dup;
}

TEST(Message, TruncatedIsNamed) {
  auto m = msg(3, 64);
  auto t = verify_message({m.data(), 40}, 3, 64);
  ASSERT_TRUE(t);
  EXPECT_NE(t->find("truncated"), std::string::npos) << *t;
  auto tiny = verify_message({m.data(), 8}, 3, 64);
  ASSERT_TRUE(tiny);
  EXPECT_NE(tiny->find("truncated"), std::string::npos) << *tiny;
}

TEST(Message, EveryCorruptedPayloadByteIsDetected) {
  for (size_t size : {17UL, 64UL, 100UL}) {
    for (size_t i = kMessageHeaderSize; i < size; ++i) {
      auto m = msg(9, size);
      m[i] ^= std::byte{0x01};
      auto why = verify_message(m, 9, size);
      ASSERT_TRUE(why) << "byte " << i << " of " << size;
      EXPECT_NE(why->find("corrupted"), std::string::npos);
      EXPECT_NE(why->find("byte " + std::to_string(i)), std::string::npos) << *why;
    }
  }
}

TEST(Message, StalePayloadFromAnotherSequenceIsDetected) {
  // Same header as seq 10, payload of seq 11: a ring that mixed two messages.
  auto m = msg(10, 64);
  auto other = msg(11, 64);
  std::copy(other.begin() + kMessageHeaderSize, other.end(), m.begin() + kMessageHeaderSize);
  EXPECT_TRUE(verify_message(m, 10, 64).has_value());
}

TEST(Message, FormatSize) {
  EXPECT_EQ(format_size(64), "64");
  EXPECT_EQ(format_size(4096), "4K");
  EXPECT_EQ(format_size(1048576), "1M");
  EXPECT_EQ(format_size(1000), "1000");
}

}  // namespace
}  // namespace ipcperf
