#include "reporters/hgrm_reporter.hpp"

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <ostream>
#include <sstream>
#include <stdexcept>
#include <system_error>

#include <fmt/format.h>

#include "output_file.hpp"

namespace ipcperf {

void write_hgrm(const Histogram& h, std::ostream& os, std::string_view comment, double unit_ratio,
                int ticks_per_half_distance) {
  for (size_t start = 0; start < comment.size();) {
    const size_t end = std::min(comment.find('\n', start), comment.size());
    os << "# " << comment.substr(start, end - start) << '\n';
    start = end + 1;
  }
  os << fmt::format("{:>12} {:>14} {:>10} {:>14}\n\n", "Value", "Percentile", "TotalCount",
                    "1/(1-Percentile)");
  const int digits = h.significant_digits();
  const uint64_t total = h.count();
  const auto buckets = h.buckets();

  // HdrHistogram's PercentileIterator over the non-empty buckets: a line for every percentile
  // level the cumulative count reaches (several levels may land in one bucket); after the last
  // bucket's line, one more at 100 %.
  double level = 0;  // percent
  uint64_t cumulative = 0;
  for (size_t i = 0; i < buckets.size(); ++i) {
    cumulative += buckets[i].count;
    const double value = static_cast<double>(buckets[i].hi) / unit_ratio;
    while ((100.0 * static_cast<double>(cumulative)) / static_cast<double>(total) >= level) {
      os << fmt::format("{:12.{}f} {:2.12f} {:10d} {:14.2f}\n", value, digits, level / 100.0,
                        cumulative, 1.0 / (1.0 - level / 100.0));
      // Fixed-size ticks within each half of the remaining distance to 100 %.
      const auto halvings = static_cast<int64_t>(std::log(100.0 / (100.0 - level)) / std::log(2.0));
      const auto ticks = static_cast<int64_t>(ticks_per_half_distance) *
                         static_cast<int64_t>(std::pow(2.0, halvings + 1));
      level += 100.0 / static_cast<double>(ticks);
      if (cumulative == total) {
        os << fmt::format("{:12.{}f} {:2.12f} {:10d}\n", value, digits, 1.0, cumulative);
        break;
      }
    }
  }

  double variance = 0;
  for (const auto& b : buckets) {
    // HdrHistogram's medianEquivalentValue: the middle of the bucket.
    const double mid = static_cast<double>(b.lo + (b.hi - b.lo + 1) / 2);
    variance += (mid - h.mean()) * (mid - h.mean()) * static_cast<double>(b.count);
  }
  const double stddev = total == 0 ? 0.0 : std::sqrt(variance / static_cast<double>(total));
  const double max =
      total == 0 ? 0.0 : static_cast<double>(h.bucket_range(h.index_of(h.max())).second);
  os << fmt::format("#[Mean    = {:12.{}f}, StdDeviation   = {:12.{}f}]\n", h.mean() / unit_ratio,
                    digits, stddev / unit_ratio, digits);
  os << fmt::format("#[Max     = {:12.{}f}, Total count    = {:12d}]\n", max / unit_ratio, digits,
                    total);
  os << fmt::format("#[Buckets = {:12d}, SubBuckets     = {:12d}]\n", h.bucket_count(),
                    h.sub_bucket_count());
}

std::string hgrm_file_name(std::string_view case_name) {
  std::string s(case_name);
  for (char& ch : s) {
    if (ch == '/') ch = '_';
  }
  return s + ".hgrm";
}

std::vector<std::string> write_hgrm_files(const RunResult& r, const std::string& dir) {
  std::vector<std::string> written;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec)
    throw std::runtime_error(fmt::format("--hgrm: cannot create '{}': {}", dir, ec.message()));
  for (const auto& c : r.cases) {
    if (c.latency.count() == 0) continue;
    const std::string path = (std::filesystem::path(dir) / hgrm_file_name(c.spec.name)).string();
    std::ostringstream f;
    const std::string what =
        c.spec.kind == "pingpong" ? "round-trip latency" : fmt::format("{} latency", c.spec.kind);
    write_hgrm(c.latency, f,
               fmt::format("ipcperf {}: {}{}, merged over repetitions; values in microseconds "
                           "(ns / {:.0f}), {} significant digits",
                           c.spec.name, what, c.sampling.empty() ? "" : " (" + c.sampling + ")",
                           kHgrmUnitRatio, c.latency.significant_digits()));
    // Whole or not at all, like --out and --csv (output_file.hpp).
    if (const std::string error = write_file_atomically(path, f.str()); !error.empty()) {
      throw std::runtime_error(fmt::format("--hgrm: could not write '{}': {}", path, error));
    }
    written.push_back(path);
  }
  return written;
}

}  // namespace ipcperf
