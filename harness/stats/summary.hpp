// Statistics over repetitions: median, mean, stddev, CV, min, max of each metric, over the
// repetitions that passed; latency histograms merged across repetitions.
#pragma once

#include <span>

#include "results.hpp"

namespace ipcperf {

// Order statistics of xs (empty -> all zero, n = 0). stddev is the sample standard deviation
// (n - 1), cv = stddev / mean (as Google Benchmark computes it).
Stat compute_stat(std::span<const double> xs);

// Fills the Stat fields and the merged histogram of c from c.reps; sets status kFailed (with the
// first failing repetition's error as message) when any repetition failed.
void summarize(CaseResult& c);

// Minimum samples behind a percentile p: 10 / (1 - p), so nobody quotes p99.99 from 1000 samples.
uint64_t min_samples_for(double p);

}  // namespace ipcperf
