// HdrHistogram's percentile-distribution text, the ".hgrm" files its plotter
// (hdrhistogram.github.io/HdrHistogram/plotFiles.html) and many latency tools read: what Java's
// AbstractHistogram.outputPercentileDistribution(out, 5, 1000.0) prints, line for line.
//
//        Value     Percentile TotalCount 1/(1-Percentile)
//
//        0.140 0.000000000000          1           1.00
//        ...
//   #[Mean    =        0.163, StdDeviation   =        0.012]
//   #[Max     =        0.267, Total count    =         1500]
//   #[Buckets =           32, SubBuckets     =         2048]
//
// Values are the histogram's nanoseconds divided by 1000 (the "output value unit scaling
// ratio"), so the files read in microseconds, as HdrHistogram users expect; each value is the
// highest value of its bucket (HdrHistogram's highestEquivalentValue). Percentile levels step
// as HdrHistogram's PercentileIterator does: 5 ticks per half distance to 100 %. The Mean line
// is the exact mean of the recorded values; StdDeviation is computed from bucket midpoints, as
// HdrHistogram does. A first line starting with '#' names the case and the unit (the plotter
// and HdrHistogram's own readers skip '#' lines).
#pragma once

#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

#include "results.hpp"
#include "stats/histogram.hpp"

namespace ipcperf {

inline constexpr double kHgrmUnitRatio = 1000.0;  // ns per output unit: microseconds

// One histogram as .hgrm text; `comment` (may be empty) goes first, as '#' lines.
void write_hgrm(const Histogram& h, std::ostream& os, std::string_view comment = {},
                double unit_ratio = kHgrmUnitRatio, int ticks_per_half_distance = 5);

// "pingpong/shm-spsc/size:64" -> "pingpong_shm-spsc_size:64.hgrm".
std::string hgrm_file_name(std::string_view case_name);

// Writes DIR/<case>.hgrm for every case with latency samples (creating DIR if needed) and
// returns the paths written. Throws std::runtime_error naming the file that could not be written.
std::vector<std::string> write_hgrm_files(const RunResult& r, const std::string& dir);

}  // namespace ipcperf
