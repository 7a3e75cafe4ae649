// FramedStream (ipcperf/framing.hpp) over a fake Io: an in-memory byte pipe whose read, write and
// writev move at most a few bytes per call and fail with EINTR or EAGAIN when told to, so that
// every partial-transfer and retry path runs without a kernel (and without timing). Each test
// checks every byte of what comes out and that the frames stay in step.
#include "ipcperf/framing.hpp"

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <sys/uio.h>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "ipcperf/sys.hpp"

namespace ipcperf {
namespace {

constexpr size_t kUnlimited = std::numeric_limits<size_t>::max();

// Thrown by the fake when a blocking read would wait forever (nothing buffered, writer open): a
// single-threaded test that reaches it has a bug, and says so instead of hanging.
struct WouldBlock : std::logic_error {
  using std::logic_error::logic_error;
};

// One direction of a stream: bytes written and not yet read, and what the calls were.
struct FakePipe {
  std::vector<std::byte> bytes;
  size_t read_pos = 0;
  bool writer_closed = false;  // then a read at the end returns 0 (EOF)
  // Each call moves at most 1, 2, ..., max_chunk, 1, 2, ... bytes (cycling; kUnlimited: all).
  size_t max_chunk = kUnlimited;
  // Every n-th call (counting read, write and writev together; 0: never) fails with this errno
  // and moves nothing.
  uint64_t fail_every = 0;
  int fail_errno = EINTR;
  // When nothing is buffered and the writer is open: on_empty (if set) may add bytes; if there
  // are still none, fail with empty_errno (0: throw WouldBlock).
  std::function<void(FakePipe&)> on_empty;
  int empty_errno = 0;
  // Once set, every read / write fails with it (ECONNRESET, EPIPE, ...).
  int read_errno = 0, write_errno = 0;

  uint64_t calls = 0, failures = 0;
  uint64_t reads = 0, writes = 0, writevs = 0;  // calls that moved bytes or saw EOF
  std::vector<size_t> write_sizes;              // n of each write() call
  std::vector<int> writev_counts;               // iovec count of each writev() call
  size_t chunk_step = 0;

  // Whether this call fails instead; sets errno.
  bool fail_now() {
    ++calls;
    if (fail_every != 0 && calls % fail_every == 0) {
      ++failures;
      errno = fail_errno;
      return true;
    }
    return false;
  }
  size_t chunk(size_t n) {
    if (max_chunk == kUnlimited) return n;
    const size_t c = 1 + chunk_step++ % max_chunk;
    return std::min(n, c);
  }
  [[nodiscard]] size_t buffered() const { return bytes.size() - read_pos; }
};

// The Io policy: forwards to a FakePipe (the same pipe for the writer's and the reader's stream).
struct FakeIo {
  FakePipe* pipe;

  ssize_t read(int /*fd*/, void* p, size_t n) const {
    FakePipe& f = *pipe;
    if (f.read_errno != 0) {
      errno = f.read_errno;
      return -1;
    }
    if (f.fail_now()) return -1;
    if (f.buffered() == 0 && !f.writer_closed && f.on_empty) f.on_empty(f);
    if (f.buffered() == 0) {
      if (f.writer_closed) {
        ++f.reads;
        return 0;
      }
      if (f.empty_errno == 0) throw WouldBlock("fake read: nothing buffered, writer open");
      errno = f.empty_errno;
      return -1;
    }
    const size_t k = f.chunk(std::min(n, f.buffered()));
    std::memcpy(p, f.bytes.data() + f.read_pos, k);
    f.read_pos += k;
    ++f.reads;
    return static_cast<ssize_t>(k);
  }

  // A write or writev that is to fail: errno is set.
  static bool write_fails(FakePipe& f) {
    if (f.write_errno != 0) {
      errno = f.write_errno;
      return true;
    }
    return f.fail_now();
  }

  ssize_t write(int /*fd*/, const void* p, size_t n) const {
    FakePipe& f = *pipe;
    f.write_sizes.push_back(n);
    if (write_fails(f)) return -1;
    const size_t k = f.chunk(n);
    const auto* b = static_cast<const std::byte*>(p);
    f.bytes.insert(f.bytes.end(), b, b + k);
    ++f.writes;
    return static_cast<ssize_t>(k);
  }

  ssize_t writev(int /*fd*/, const iovec* iov, int count) const {
    FakePipe& f = *pipe;
    f.writev_counts.push_back(count);
    if (write_fails(f)) return -1;
    size_t total = 0;
    for (int i = 0; i < count; ++i) total += iov[i].iov_len;
    size_t left = f.chunk(total);
    const size_t k = left;
    for (int i = 0; i < count && left > 0; ++i) {
      const size_t take = std::min(left, iov[i].iov_len);
      const auto* b = static_cast<const std::byte*>(iov[i].iov_base);
      f.bytes.insert(f.bytes.end(), b, b + take);
      left -= take;
    }
    ++f.writevs;
    return static_cast<ssize_t>(k);
  }
};

using Stream = FramedStream<FakeIo>;

// The pattern of message `seq`: every byte depends on the message and its position (also on
// position / 256, so that a slip by a whole number of 256-byte blocks shows too).
std::byte pattern(uint64_t seq, size_t i) {
  return static_cast<std::byte>((seq * 131 + i * 7 + (i >> 8) * 13 + 1) & 0xff);
}
std::vector<std::byte> make(uint64_t seq, size_t size) {
  std::vector<std::byte> m(size);
  for (size_t i = 0; i < size; ++i) m[i] = pattern(seq, i);
  return m;
}
// "" when `got` is message `seq` of `size` bytes, else what is wrong.
std::string wrong(std::span<const std::byte> got, uint64_t seq, size_t size) {
  if (got.size() != size) {
    return "message " + std::to_string(seq) + ": " + std::to_string(got.size()) +
           " bytes, expected " + std::to_string(size);
  }
  for (size_t i = 0; i < size; ++i) {
    if (got[i] != pattern(seq, i)) {
      return "message " + std::to_string(seq) + " (" + std::to_string(size) +
             " bytes): first wrong byte at " + std::to_string(i);
    }
  }
  return "";
}

constexpr size_t kK = 1024;
constexpr size_t kMiB = 1024 * 1024;
// Around the stream's 64 KiB buffers: a frame (4-byte length + message) that fills the receive
// buffer exactly, the largest that goes out in one write(), and the first that takes writev().
const std::vector<size_t> kSizes = {0,           1,           3,       4,           5,
                                    64 * kK - 4, 64 * kK - 3, 64 * kK, 64 * kK + 1, kMiB};

// A writer and a reader stream over one fake pipe.
struct Ends {
  FakePipe pipe;
  Stream tx, rx;
  Ends(size_t max_chunk, bool spin)
      : tx(-1, -1, spin, "fake-tx", FakeIo{&pipe}), rx(-1, -1, spin, "fake-rx", FakeIo{&pipe}) {
    pipe.max_chunk = max_chunk;
  }

  // Every size of kSizes sent and received, one at a time, each byte checked.
  void round_trip_every_size() {
    std::vector<std::byte> buf(kMiB);
    for (uint64_t seq = 0; seq < kSizes.size(); ++seq) {
      tx.send(make(seq, kSizes[seq]));
      const size_t n = rx.recv(buf);
      ASSERT_EQ(wrong({buf.data(), n}, seq, kSizes[seq]), "");
    }
  }
};

class Chunked : public ::testing::TestWithParam<size_t> {};

// Every size, one message at a time, each byte checked, with reads and writes of 1..N bytes.
TEST_P(Chunked, EverySizeRoundTripsByteForByte) {
  Ends e(GetParam(), false);
  std::vector<std::byte> buf(kMiB);
  uint64_t seq = 0;
  for (size_t size : kSizes) {
    const auto m = make(seq, size);
    e.tx.send(m);
    const size_t n = e.rx.recv(buf);
    EXPECT_EQ(wrong({buf.data(), n}, seq, size), "");
    EXPECT_EQ(e.pipe.buffered(), 0U) << "size " << size << ": the frame was not read whole";
    ++seq;
  }
}

// Many frames of mixed sizes written before any is read: the reader's buffer holds pieces of
// several frames at once and must cut them where the writer put the boundaries.
TEST_P(Chunked, BoundariesStayInStepAcrossManyMessages) {
  Ends e(GetParam(), false);
  std::mt19937_64 rng(42);
  std::vector<size_t> sizes;
  for (int round = 0; round < 2; ++round) {
    for (size_t s : kSizes) sizes.push_back(s);
  }
  for (int i = 0; i < 300; ++i) sizes.push_back(rng() % 300);  // many small frames in a row
  std::shuffle(sizes.begin(), sizes.end(), rng);
  for (uint64_t seq = 0; seq < sizes.size(); ++seq) e.tx.send(make(seq, sizes[seq]));
  e.pipe.writer_closed = true;
  std::vector<std::byte> buf(kMiB);
  for (uint64_t seq = 0; seq < sizes.size(); ++seq) {
    const size_t n = e.rx.recv(buf);
    ASSERT_EQ(wrong({buf.data(), n}, seq, sizes[seq]), "");
  }
  EXPECT_THROW(e.rx.recv(buf), PeerGone) << "the writer closed after the last frame";
}

std::string chunk_name(const ::testing::TestParamInfo<size_t>& p) {
  return p.param == kUnlimited ? std::string("Whole") : "UpTo" + std::to_string(p.param);
}
INSTANTIATE_TEST_SUITE_P(Framing, Chunked,
                         ::testing::Values(size_t{1}, size_t{2}, size_t{3}, size_t{5}, size_t{4099},
                                           64 * kK + 5, kUnlimited),
                         chunk_name);

// EINTR from every third call of either side is retried; nothing is lost or repeated.
TEST(Framing, EintrIsRetried) {
  Ends e(7, false);
  e.pipe.fail_every = 3;
  e.pipe.fail_errno = EINTR;
  e.round_trip_every_size();
  EXPECT_GT(e.pipe.failures, 100U);
}

// spin: EAGAIN (a non-blocking descriptor with no room or nothing to read) is polled again.
TEST(Framing, EagainIsPolledWithSpin) {
  Ends e(64 * kK - 1, true);
  e.pipe.fail_every = 2;
  e.pipe.fail_errno = EAGAIN;
  e.round_trip_every_size();
  EXPECT_GT(e.pipe.failures, 10U);
}

// spin: a reader that finds half a frame waits (EAGAIN) for the rest, in the header and in the
// body, and returns the message once it is all there.
TEST(Framing, SpinWaitsForTheRestOfAFrame) {
  for (size_t cut : {size_t{2}, size_t{4}, size_t{9}, size_t{4 + 100 - 1}}) {
    Ends e(kUnlimited, true);
    e.pipe.empty_errno = EAGAIN;
    e.tx.send(make(3, 100));
    const std::vector<std::byte> rest(e.pipe.bytes.begin() + static_cast<ptrdiff_t>(cut),
                                      e.pipe.bytes.end());
    e.pipe.bytes.resize(cut);
    int empty = 0;
    e.pipe.on_empty = [&](FakePipe& p) {
      if (++empty == 3) p.bytes.insert(p.bytes.end(), rest.begin(), rest.end());
    };
    std::vector<std::byte> buf(100);
    const size_t n = e.rx.recv(buf);
    EXPECT_EQ(wrong({buf.data(), n}, 3, 100), "") << "cut at " << cut;
    EXPECT_EQ(empty, 3) << "cut at " << cut;
  }
}

// Without spin, EAGAIN is an error like any other (a blocking descriptor never returns it).
// A system error says strerror once, names the errno, and tells what to raise for EMFILE.
TEST(SystemErrorText, StrerrorOnceAndTheLimitForEmfile) {
  const std::string eagain = SystemError(EAGAIN, "read(x)").what();
  EXPECT_EQ(eagain, fmt::format("read(x): {} (EAGAIN)", std::strerror(EAGAIN)));
  const std::string emfile = SystemError(EMFILE, "open(y)").what();
  EXPECT_NE(emfile.find("ulimit -n"), std::string::npos) << emfile;
  EXPECT_EQ(SystemError(EMFILE, "open(y)", "own hint").what(),
            fmt::format("open(y): {} (EMFILE); own hint", std::strerror(EMFILE)));
  EXPECT_EQ(SystemError(EMFILE, "open(y)").error(), EMFILE);
}

TEST(Framing, EagainWithoutSpinIsAnError) {
  Ends e(kUnlimited, false);
  e.pipe.empty_errno = EAGAIN;
  std::vector<std::byte> buf(64);
  try {
    e.rx.recv(buf);
    FAIL() << "recv returned";
  } catch (const SystemError& err) {
    EXPECT_EQ(err.error(), EAGAIN);
    EXPECT_NE(std::string(err.what()).find("read(fake-rx)"), std::string::npos) << err.what();
  }
  e.pipe.write_errno = EAGAIN;
  EXPECT_THROW(e.tx.send(make(0, 8)), SystemError);
}

// A small frame is one write(2) of length + message, and frames already buffered cost no read.
TEST(Framing, SmallFramesTakeOneCallEach) {
  Ends e(kUnlimited, false);
  for (uint64_t seq = 0; seq < 10; ++seq) e.tx.send(make(seq, 16 + seq));
  ASSERT_EQ(e.pipe.write_sizes.size(), 10U);
  for (uint64_t seq = 0; seq < 10; ++seq) EXPECT_EQ(e.pipe.write_sizes[seq], 4 + 16 + seq);
  EXPECT_TRUE(e.pipe.writev_counts.empty());
  std::vector<std::byte> buf(64);
  for (uint64_t seq = 0; seq < 10; ++seq) {
    const size_t n = e.rx.recv(buf);
    ASSERT_EQ(wrong({buf.data(), n}, seq, 16 + seq), "");
  }
  EXPECT_EQ(e.pipe.reads, 1U) << "all ten frames came in the first read";
}

// A frame larger than the staging buffer goes out as writev(length, message), continued where a
// short write stopped (also inside the 4-byte length).
TEST(Framing, LargeFramesGoOutAsWritev) {
  Ends e(3, false);
  e.tx.send(make(1, 64 * kK + 1));
  EXPECT_TRUE(e.pipe.write_sizes.empty());
  ASSERT_FALSE(e.pipe.writev_counts.empty());
  EXPECT_EQ(e.pipe.writev_counts[0], 2);
  EXPECT_EQ(e.pipe.writev_counts[1], 2) << "the second call still has a byte of the length";
  EXPECT_EQ(e.pipe.writev_counts.back(), 1);
  std::vector<std::byte> buf(64 * kK + 1);
  EXPECT_EQ(wrong({buf.data(), e.rx.recv(buf)}, 1, 64 * kK + 1), "");
}

// Size 0 with empty spans (data() may be null: nothing may be copied from or to it).
TEST(Framing, EmptyMessagesWithEmptySpans) {
  Ends e(kUnlimited, false);
  e.tx.send(std::span<const std::byte>{});
  e.tx.send(std::span<const std::byte>{});
  EXPECT_EQ(e.pipe.bytes.size(), 8U);
  EXPECT_EQ(e.rx.recv(std::span<std::byte>{}), 0U);
  EXPECT_EQ(e.rx.recv(std::span<std::byte>{}), 0U);
  EXPECT_EQ(e.pipe.buffered(), 0U);
}

std::string peer_gone_text(Stream& rx, std::span<std::byte> buf) {
  try {
    rx.recv(buf);
  } catch (const PeerGone& e) {
    return e.what();
  }
  return "(no PeerGone)";
}

// EOF between frames, inside the length and inside the message (small: through the receive
// buffer; large: read straight into the caller's buffer) is PeerGone, saying where.
TEST(Framing, EofIsPeerGone) {
  std::vector<std::byte> buf(kMiB);
  for (size_t chunk : {size_t{1}, kUnlimited}) {
    SCOPED_TRACE("chunk " + std::to_string(chunk));
    {
      Ends e(chunk, false);
      e.pipe.writer_closed = true;
      EXPECT_NE(peer_gone_text(e.rx, buf).find("the sending peer has closed"), std::string::npos);
    }
    for (size_t cut : {1, 2, 3}) {
      Ends e(chunk, false);
      e.tx.send(make(0, 100));
      e.pipe.bytes.resize(cut);
      e.pipe.writer_closed = true;
      EXPECT_NE(peer_gone_text(e.rx, buf).find("the sending peer has closed"), std::string::npos)
          << "EOF after " << cut << " bytes of the length";
    }
    for (size_t size : {size_t{100}, kMiB}) {
      Ends e(chunk, false);
      e.tx.send(make(0, size));
      e.pipe.bytes.resize(4 + size / 2);
      e.pipe.writer_closed = true;
      const std::string text = peer_gone_text(e.rx, buf);
      EXPECT_NE(text.find("in the middle of a message (" + std::to_string(size / 2) + " of " +
                          std::to_string(size) + " bytes)"),
                std::string::npos)
          << text;
    }
  }
}

// A frame longer than the caller's buffer: the stream is out of step or the peer misbehaves;
// the error says so with both sizes (and is not mistaken for a gone peer).
TEST(Framing, OversizeFrameIsAClearError) {
  Ends e(kUnlimited, false);
  e.tx.send(make(0, 100));
  std::vector<std::byte> buf(99);
  try {
    e.rx.recv(buf);
    FAIL() << "recv returned";
  } catch (const PeerGone& err) {
    FAIL() << "PeerGone: " << err.what();
  } catch (const std::runtime_error& err) {
    EXPECT_NE(
        std::string(err.what()).find("fake-rx: frame of 100 bytes exceeds the 99-byte buffer"),
        std::string::npos)
        << err.what();
  }
}

// Errors that mean the peer is gone, and one that does not.
TEST(Framing, ResetAndBrokenPipeArePeerGone) {
  std::vector<std::byte> buf(64);
  {
    Ends e(kUnlimited, false);
    e.pipe.read_errno = ECONNRESET;
    EXPECT_THROW(e.rx.recv(buf), PeerGone);
  }
  for (int err : {EPIPE, ECONNRESET}) {
    Ends e(kUnlimited, false);
    e.pipe.write_errno = err;
    EXPECT_THROW(e.tx.send(make(0, 8)), PeerGone);
    EXPECT_THROW(e.tx.send(make(0, 64 * kK + 1)), PeerGone) << "writev path";
  }
  {
    Ends e(kUnlimited, false);
    e.pipe.read_errno = EBADF;
    EXPECT_THROW(e.rx.recv(buf), SystemError);
    e.pipe.write_errno = EBADF;
    EXPECT_THROW(e.tx.send(make(0, 8)), SystemError);
  }
}

}  // namespace
}  // namespace ipcperf
