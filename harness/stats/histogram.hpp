// A log-linear latency histogram in the spirit of HdrHistogram: values below 2^M are counted
// exactly; above, every power-of-two range is split into 2^(M-1) equal buckets, so the relative
// width of a bucket is at most 2^-(M-1). M follows from the significant digits asked for
// (3 digits -> M = 11 -> at most 0.098 % relative error). Recording is O(1) (one count-leading-
// zeros and an increment); histograms with the same precision merge by adding counts.
// Values are nanoseconds, 1 ns to 1 h (larger values are clamped to the top and counted).
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <stdexcept>
#include <utility>
#include <vector>

namespace ipcperf {

class Histogram {
 public:
  static constexpr uint64_t kMaxValue = 3'600'000'000'000ULL;  // 1 h in ns

  explicit Histogram(int significant_digits = 3) : digits_(significant_digits) {
    if (significant_digits < 1 || significant_digits > 5) {
      throw std::invalid_argument("histogram: significant digits must be 1..5");
    }
    // Smallest M with 2^-(M-1) <= 10^-digits.
    uint64_t p = 1;
    for (int i = 0; i < significant_digits; ++i) p *= 10;
    bits_ = static_cast<int>(std::bit_width(p - 1)) + 1;
    half_ = uint64_t{1} << (bits_ - 1);
    // The counts (about 260 KiB at 3 digits) are allocated on the first record: results hold
    // many histograms that stay empty (stream rows, peers that do not time).
  }

  [[nodiscard]] int significant_digits() const noexcept { return digits_; }
  // HdrHistogram's geometry (its .hgrm footer): sub-buckets per power-of-two range, and the number
  // of such ranges up to kMaxValue. Both equal those of an HdrHistogram over 1 ns .. 1 h with the
  // same significant digits (2048 and 32 at 3 digits): the bucket boundaries are the same too.
  [[nodiscard]] int sub_bucket_count() const noexcept { return static_cast<int>(half_ << 1); }
  [[nodiscard]] int bucket_count() const noexcept {
    return static_cast<int>(std::bit_width(kMaxValue)) - bits_ + 1;
  }
  // Upper bound of the relative error of a reported value.
  [[nodiscard]] double relative_error() const noexcept { return 1.0 / static_cast<double>(half_); }

  // Allocates (and zeroes) the counts now, so that a measured loop's first record() does not.
  void reserve() {
    if (counts_.empty()) allocate();
  }

  void record(uint64_t v, uint64_t n = 1) noexcept {
    if (v > kMaxValue) v = kMaxValue;
    if (counts_.empty()) [[unlikely]]
      allocate();
    counts_[index_of(v)] += n;
    total_ += n;
    sum_ += static_cast<double>(v) * static_cast<double>(n);
    min_ = std::min(min_, v);
    max_ = std::max(max_, v);
  }

  void merge(const Histogram& o) {
    if (o.digits_ != digits_)
      throw std::invalid_argument("histogram: merge of different precision");
    if (o.counts_.empty()) return;
    if (counts_.empty()) allocate();
    for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += o.counts_[i];
    total_ += o.total_;
    sum_ += o.sum_;
    min_ = std::min(min_, o.min_);
    max_ = std::max(max_, o.max_);
  }

  [[nodiscard]] uint64_t count() const noexcept { return total_; }
  [[nodiscard]] uint64_t min() const noexcept { return total_ == 0 ? 0 : min_; }
  [[nodiscard]] uint64_t max() const noexcept { return max_; }
  [[nodiscard]] double mean() const noexcept {
    return total_ == 0 ? 0.0 : sum_ / static_cast<double>(total_);
  }

  // The value at quantile q in [0, 1]: the representative value (bucket midpoint, clamped to the
  // observed min/max) of the bucket holding the ceil(q * count)-th smallest sample.
  [[nodiscard]] double quantile(double q) const noexcept {
    if (total_ == 0) return 0.0;
    if (q <= 0) return static_cast<double>(min());
    if (q >= 1) return static_cast<double>(max_);
    auto rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(total_)));
    rank = std::clamp<uint64_t>(rank, 1, total_);
    uint64_t seen = 0;
    for (size_t i = 0; i < counts_.size(); ++i) {
      seen += counts_[i];
      if (seen >= rank) {
        auto [lo, hi] = bucket_range(i);
        double mid = (static_cast<double>(lo) + static_cast<double>(hi)) / 2.0;
        return std::clamp(mid, static_cast<double>(min()), static_cast<double>(max_));
      }
    }
    return static_cast<double>(max_);
  }

  // Non-empty buckets as (lowest value, highest value, count).
  struct Bucket {
    uint64_t lo, hi, count;
  };
  [[nodiscard]] std::vector<Bucket> buckets() const {
    std::vector<Bucket> out;
    for (size_t i = 0; i < counts_.size(); ++i) {
      if (counts_[i] != 0) {
        auto [lo, hi] = bucket_range(i);
        out.push_back({lo, hi, counts_[i]});
      }
    }
    return out;
  }

  // Rebuilds from buckets() output (values are recorded at each bucket's low end), keeping the
  // exact min/max/sum when given.
  void add_bucket(uint64_t lo, uint64_t count) noexcept { record(lo, count); }
  void restore_extremes(uint64_t mn, uint64_t mx, double sum) noexcept {
    if (total_ == 0) return;
    min_ = mn;
    max_ = mx;
    sum_ = sum;
  }
  [[nodiscard]] double sum() const noexcept { return sum_; }

  // Bucket index for a value, and the closed value range [lo, hi] of a bucket.
  [[nodiscard]] size_t index_of(uint64_t v) const noexcept {
    const uint64_t full = half_ << 1;
    if (v < full) return static_cast<size_t>(v);
    const int shift = static_cast<int>(std::bit_width(v)) - bits_;  // >= 1
    return static_cast<size_t>(static_cast<uint64_t>(shift) * half_ + (v >> shift));
  }
  [[nodiscard]] std::pair<uint64_t, uint64_t> bucket_range(size_t i) const noexcept {
    const uint64_t full = half_ << 1;
    if (i < full) return {i, i};
    const uint64_t shift = (i - half_) / half_;
    const uint64_t mant = i - shift * half_;
    const uint64_t lo = mant << shift;
    return {lo, lo + (uint64_t{1} << shift) - 1};
  }

 private:
  void allocate() { counts_.assign(index_of(kMaxValue) + 1, 0); }

  int digits_;
  int bits_ = 0;
  uint64_t half_ = 0;
  std::vector<uint64_t> counts_;
  uint64_t total_ = 0;
  double sum_ = 0;
  uint64_t min_ = std::numeric_limits<uint64_t>::max();
  uint64_t max_ = 0;
};

}  // namespace ipcperf
