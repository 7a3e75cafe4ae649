// The .hgrm writer: HdrHistogram's percentile-distribution text, line for line on a small
// histogram worked out by hand, and, parsed back from a file, every line agrees with
// Histogram::quantile and the counts; the footer carries mean, max, count and the geometry.
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "reporters/hgrm_reporter.hpp"
#include "stats/summary.hpp"

namespace ipcperf {
namespace {

namespace fs = std::filesystem;

TEST(Hgrm, SmallHistogramAsHdrHistogramPrintsIt) {
  Histogram h(3);
  for (uint64_t v : {1, 2, 3, 4}) h.record(v);
  std::ostringstream os;
  write_hgrm(h, os, "", 1.0);
  // Levels step by 10 % up to 50 %, by 5 % up to 75 %, then 2.5 %; a level is printed at the
  // first value whose cumulative share reaches it, and the last value once more at 100 %.
  const std::string expected =
      "       Value     Percentile TotalCount 1/(1-Percentile)\n"
      "\n"
      "       1.000 0.000000000000          1           1.00\n"
      "       1.000 0.100000000000          1           1.11\n"
      "       1.000 0.200000000000          1           1.25\n"
      "       2.000 0.300000000000          2           1.43\n"
      "       2.000 0.400000000000          2           1.67\n"
      "       2.000 0.500000000000          2           2.00\n"
      "       3.000 0.550000000000          3           2.22\n"
      "       3.000 0.600000000000          3           2.50\n"
      "       3.000 0.650000000000          3           2.86\n"
      "       3.000 0.700000000000          3           3.33\n"
      "       3.000 0.750000000000          3           4.00\n"
      "       4.000 0.775000000000          4           4.44\n"
      "       4.000 1.000000000000          4\n"
      "#[Mean    =        2.500, StdDeviation   =        1.118]\n"
      "#[Max     =        4.000, Total count    =            4]\n"
      "#[Buckets =           32, SubBuckets     =         2048]\n";
  EXPECT_EQ(os.str(), expected);
}

struct Line {
  double value, percentile;
  uint64_t total;
  double inverse;  // NaN on the 100 % line, which has none
};

struct Parsed {
  std::vector<std::string> comments;
  std::string header;
  std::vector<Line> lines;
  double mean = -1, stddev = -1, max = -1;
  uint64_t count = 0;
  int buckets = 0, sub_buckets = 0;
};

Parsed parse(std::istream& is) {
  Parsed p;
  std::string line;
  while (std::getline(is, line) && line.rfind("# ", 0) == 0) p.comments.push_back(line);
  p.header = line;
  std::getline(is, line);
  EXPECT_EQ(line, "") << "a blank line follows the header";
  while (std::getline(is, line)) {
    if (line.rfind("#[Mean", 0) == 0) {
      EXPECT_EQ(std::sscanf(line.c_str(), "#[Mean = %lf, StdDeviation = %lf]", &p.mean, &p.stddev),
                2)
          << line;
    } else if (line.rfind("#[Max", 0) == 0) {
      unsigned long long n = 0;
      EXPECT_EQ(std::sscanf(line.c_str(), "#[Max = %lf, Total count = %llu]", &p.max, &n), 2);
      p.count = n;
    } else if (line.rfind("#[Buckets", 0) == 0) {
      EXPECT_EQ(
          std::sscanf(line.c_str(), "#[Buckets = %d, SubBuckets = %d]", &p.buckets, &p.sub_buckets),
          2);
    } else {
      std::istringstream ls(line);
      Line l{0, 0, 0, std::nan("")};
      ls >> l.value >> l.percentile >> l.total;
      EXPECT_TRUE(ls) << line;
      if (!(ls >> l.inverse)) l.inverse = std::nan("");
      p.lines.push_back(l);
    }
  }
  return p;
}

TEST(Hgrm, ParsedBackAgreesWithQuantile) {
  // Round trips of a few hundred ns with a long tail, 200000 samples as a run merges them.
  Histogram h(3);
  std::mt19937_64 rng(42);
  std::lognormal_distribution<double> d(std::log(300.0), 0.6);
  for (int i = 0; i < 200000; ++i) h.record(static_cast<uint64_t>(d(rng)) + 1);
  h.record(5'000'000);  // one 5 ms stall

  const fs::path dir = fs::temp_directory_path() / fmt::format("ipcperf-hgrm-test-{}", ::getpid());
  RunResult r;
  CaseResult c;
  c.spec.name = "pingpong/shm-spsc/size:64";
  c.spec.kind = "pingpong";
  c.sampling = "1 in 64 round trips";
  c.latency = h;
  CaseResult empty;  // a stream case: no latency, no file
  empty.spec.name = "stream/shm-spsc/size:64";
  r.cases = {c, empty};
  const auto written = write_hgrm_files(r, dir.string());
  ASSERT_EQ(written.size(), 1U);
  EXPECT_EQ(fs::path(written[0]).filename(), "pingpong_shm-spsc_size:64.hgrm");

  std::ifstream f(written[0]);
  const Parsed p = parse(f);
  fs::remove_all(dir);

  ASSERT_EQ(p.comments.size(), 1U);
  EXPECT_NE(p.comments[0].find("microseconds"), std::string::npos) << p.comments[0];
  EXPECT_NE(p.comments[0].find(c.spec.name), std::string::npos) << p.comments[0];
  EXPECT_EQ(p.header, "       Value     Percentile TotalCount 1/(1-Percentile)");
  ASSERT_GT(p.lines.size(), 50U);

  // Bucket totals, to check the TotalCount column.
  auto cumulative_through = [&](uint64_t ns) {
    uint64_t n = 0;
    for (const auto& b : h.buckets()) {
      if (b.lo <= ns) n += b.count;
    }
    return n;
  };
  double prev_p = -1, prev_v = -1;
  for (size_t i = 0; i < p.lines.size(); ++i) {
    const Line& l = p.lines[i];
    const auto ns = static_cast<uint64_t>(std::llround(l.value * 1000.0));
    // Each value is the highest value of its bucket, in µs.
    EXPECT_EQ(h.bucket_range(h.index_of(ns)).second, ns) << l.value;
    EXPECT_GE(l.percentile, prev_p);
    EXPECT_GE(l.value, prev_v);
    prev_p = l.percentile;
    prev_v = l.value;
    EXPECT_EQ(l.total, cumulative_through(ns)) << l.value;
    if (i + 1 == p.lines.size()) {
      EXPECT_EQ(l.percentile, 1.0);
      EXPECT_EQ(l.total, h.count());
      EXPECT_EQ(ns, h.bucket_range(h.index_of(h.max())).second);
      EXPECT_TRUE(std::isnan(l.inverse));
      continue;
    }
    // The value at each percentile level lies in the bucket Histogram::quantile picks for it.
    const double q = h.quantile(l.percentile);
    EXPECT_EQ(h.index_of(static_cast<uint64_t>(q)), h.index_of(ns))
        << "p" << l.percentile * 100 << ": hgrm " << l.value << " µs, quantile " << q << " ns";
    // 1/(1-p) to two decimals, from p before its rounding to 12 decimals (which moves 1/(1-p) by
    // up to 0.5e-12 / (1-p)^2).
    const double inverse = 1.0 / (1.0 - l.percentile);
    EXPECT_NEAR(l.inverse, inverse, 0.006 + inverse * inverse * 1e-12);
  }
  // The usual levels are there, and the stall shows at the top.
  for (double level : {0.5, 0.9, 0.99, 0.999}) {
    bool found = false;
    for (const auto& l : p.lines) found |= std::fabs(l.percentile - level) < 0.001;
    EXPECT_TRUE(found) << level;
  }
  EXPECT_NEAR(p.lines.back().value, 5000.0, 5000.0 * h.relative_error());

  EXPECT_NEAR(p.mean, h.mean() / 1000.0, 0.0005);
  EXPECT_GT(p.stddev, 0);
  EXPECT_NEAR(p.max, 5000.0, 5000.0 * h.relative_error());
  EXPECT_EQ(p.count, h.count());
  EXPECT_EQ(p.buckets, 32);
  EXPECT_EQ(p.sub_buckets, 2048);
}

TEST(Hgrm, FileNames) {
  EXPECT_EQ(hgrm_file_name("pingpong/shm-spsc/size:64"), "pingpong_shm-spsc_size:64.hgrm");
  EXPECT_EQ(hgrm_file_name("floor/cacheline"), "floor_cacheline.hgrm");
}

TEST(Hgrm, UnwritableDirectoryIsAnError) {
  RunResult r;
  CaseResult c;
  c.spec.name = "pingpong/pipe/size:64";
  c.latency.record(1000);
  r.cases = {c};
  EXPECT_THROW(write_hgrm_files(r, "/proc/ipcperf-no-such-dir"), std::runtime_error);
}

}  // namespace
}  // namespace ipcperf
