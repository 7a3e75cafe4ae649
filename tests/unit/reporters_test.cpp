// The reporters on a synthetic run: JSON rows and values (and Google Benchmark's compare.py
// accepting them), CSV columns and quoting, the terminal table and its unit formatting.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "floors/floor.hpp"
#include "reporters/reporter.hpp"
#include "reporters/units.hpp"
#include "stats/summary.hpp"

namespace ipcperf {
namespace {

using nlohmann::json;

constexpr const char* kPingpong = "pingpong/shm-spsc/size:64";
constexpr const char* kStream = "stream/pipe/size:4096";
constexpr const char* kSkipped = "pingpong/fifo/size:64";
constexpr const char* kFloor = "floor/cacheline";
constexpr uint64_t kSamplesPerRep = 300;  // enough for p50 and p90 per repetition, not for p99

RepSample ok_rep(int index, double real_ns, double scale_latency = 1.0) {
  RepSample r;
  r.rep_index = index;
  r.ok = true;
  r.messages = 100000 + static_cast<uint64_t>(index);
  r.verified = 2 * r.messages + 1000;
  r.real_ns = real_ns;
  r.cpu_ns = 2 * real_ns + 0.25;
  r.items_per_second = 1e9 / real_ns;
  r.bytes_per_second = 64e9 / real_ns;
  r.a.cpu_user_ns = 1000 + index;
  r.a.cpu_sys_ns = 200 + index;
  r.b.cpu_user_ns = 900 + index;
  r.b.cpu_sys_ns = 300 + index;
  r.a.ctx_voluntary = 1;
  r.a.ctx_involuntary = 2;
  r.b.ctx_voluntary = 3;
  r.b.ctx_involuntary = 4;
  for (uint64_t i = 0; i < kSamplesPerRep; ++i) {
    r.latency.record(
        static_cast<uint64_t>((120.0 + static_cast<double>(i % 50) * 3.0) * scale_latency));
  }
  return r;
}

// floor/cacheline (3 reps), a pingpong case (5 reps), a stream case whose third repetition
// failed, and a skipped case; summarised as the harness would.
RunResult make_run(double scale = 1.0, bool with_failures = true) {
  RunResult r;
  r.context = {{"date", "2024-06-01T12:00:00+00:00"},
               {"num_cpus", 8},
               {"library_build_type", "release"},
               {"ipcperf_seed", 42}};
  r.warnings = {"CPU frequency scaling is enabled"};

  CaseResult floor;
  floor.spec = {kFloor, "floor-cacheline", "", "floor", 0, "spin", 0, 0};
  floor.spec.bounds_round_trips = true;
  for (int i = 0; i < 3; ++i) {
    RepSample s = ok_rep(i, (50.0 + i) * scale);
    s.bytes_per_second = 0;
    s.latency = Histogram(3);
    floor.reps.push_back(s);
  }

  CaseResult pingpong;
  pingpong.spec = {kPingpong, "pingpong", "shm-spsc", "shared memory", 64, "spin", 65536, 1};
  pingpong.sampling = "1 in 64 round trips";
  const double rtts[] = {160, 163, 170, 158, 165};
  for (int i = 0; i < 5; ++i) pingpong.reps.push_back(ok_rep(i, rtts[i] * scale, scale));

  CaseResult stream;
  stream.spec = {kStream, "stream", "pipe", "kernel", 4096, "block", 65536, 2};
  for (int i = 0; i < 5; ++i) {
    RepSample s = ok_rep(i, (900.0 + 10 * i) * scale);
    s.latency = Histogram(3);
    if (with_failures && i == 2) {
      s.ok = false;
      s.error = R"(read("pipe"): peer gone, "EPIPE")";
    }
    stream.reps.push_back(s);
  }

  CaseResult skipped;
  skipped.spec = {kSkipped, "pingpong", "fifo", "kernel", 64, "block", 0, 3};
  if (with_failures) {
    skipped.status = CaseStatus::kSkipped;
    skipped.message = "fifo not built";
  } else {
    for (int i = 0; i < 5; ++i) skipped.reps.push_back(ok_rep(i, (2000.0 + 7 * i) * scale, scale));
  }

  r.cases = {floor, pingpong, stream, skipped};
  for (auto& c : r.cases) summarize(c);
  return r;
}

// A run of one case that ended before any repetition, with `message`.
RunResult unmeasured_run(CaseStatus status, const std::string& message) {
  RunResult r;
  CaseResult c;
  c.spec.name = "pingpong/tcp/size:64";
  c.status = status;
  c.message = message;
  r.cases.push_back(c);
  return r;
}

std::vector<json> rows_named(const json& doc, const std::string& name) {
  std::vector<json> out;
  for (const auto& row : doc["benchmarks"]) {
    if (row["name"] == name) out.push_back(row);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// JSON

TEST(JsonReporter, ContextIsCopiedWithWarnings) {
  const RunResult r = make_run();
  const json doc = to_json(r);
  ASSERT_TRUE(doc.contains("context"));
  ASSERT_TRUE(doc.contains("benchmarks"));
  EXPECT_EQ(doc["context"]["num_cpus"], 8);
  EXPECT_EQ(doc["context"]["library_build_type"], "release");
  EXPECT_EQ(doc["context"]["ipcperf_seed"], 42);
  EXPECT_EQ(doc["context"]["warnings"], json(r.warnings));
}

TEST(JsonReporter, RowsInGoogleBenchmarkOrder) {
  const json doc = to_json(make_run());
  std::vector<std::string> names, run_types;
  for (const auto& row : doc["benchmarks"]) {
    names.push_back(row["name"]);
    run_types.push_back(row["run_type"]);
  }
  const std::string p = kPingpong, s = kStream, f = kFloor;
  const std::vector<std::string> expected{
      f, f, f, f + "_mean", f + "_median", f + "_stddev", f + "_cv", p,       p,
      p, p, p, p + "_mean", p + "_median", p + "_stddev", p + "_cv", s,       s,
      s, s, s, s + "_mean", s + "_median", s + "_stddev", s + "_cv", kSkipped};
  EXPECT_EQ(names, expected);
  for (size_t i = 0; i < names.size(); ++i) {
    const bool aggregate = names[i].find('_') != std::string::npos;
    EXPECT_EQ(run_types[i], aggregate ? "aggregate" : "iteration") << names[i];
  }
}

TEST(JsonReporter, IterationRowsCarryTheRepetition) {
  const RunResult r = make_run();
  const CaseResult& c = r.cases[1];
  const auto rows = rows_named(to_json(r), kPingpong);
  ASSERT_EQ(rows.size(), c.reps.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    const json& row = rows[i];
    const RepSample& rep = c.reps[i];
    EXPECT_EQ(row["family_index"], 1);
    EXPECT_EQ(row["per_family_instance_index"], 0);
    EXPECT_EQ(row["run_name"], kPingpong);
    EXPECT_EQ(row["repetitions"], 5);
    EXPECT_EQ(row["repetition_index"], rep.rep_index);
    EXPECT_EQ(row["threads"], 1);
    EXPECT_EQ(row["iterations"], rep.messages);
    EXPECT_EQ(row["real_time"], rep.real_ns);
    EXPECT_EQ(row["cpu_time"], rep.cpu_ns);
    EXPECT_EQ(row["time_unit"], "ns");
    EXPECT_EQ(row["items_per_second"], rep.items_per_second);
    EXPECT_EQ(row["bytes_per_second"], rep.bytes_per_second);
    EXPECT_EQ(row["verified_messages"], rep.verified);
    EXPECT_EQ(row["size_bytes"], 64);
    EXPECT_EQ(row["capacity_bytes"], 65536);
    EXPECT_EQ(row["cpu_user_ns_a"], rep.a.cpu_user_ns);
    EXPECT_EQ(row["cpu_user_ns_b"], rep.b.cpu_user_ns);
    EXPECT_EQ(row["cpu_sys_ns_a"], rep.a.cpu_sys_ns);
    EXPECT_EQ(row["cpu_sys_ns_b"], rep.b.cpu_sys_ns);
    EXPECT_EQ(row["ctx_switches"], 10);
    EXPECT_EQ(row["backend"], "shm-spsc");
    EXPECT_EQ(row["workload"], "pingpong");
    EXPECT_EQ(row["family"], "shared memory");
    EXPECT_EQ(row["wait"], "spin");
    EXPECT_FALSE(row.contains("error_occurred"));
    // Latency of this repetition alone: 300 samples are enough for p50 and p90, not for p99.
    EXPECT_EQ(row["latency_samples"], kSamplesPerRep);
    EXPECT_EQ(row["p50_ns"], rep.latency.quantile(0.5));
    EXPECT_EQ(row["p90_ns"], rep.latency.quantile(0.9));
    EXPECT_FALSE(row.contains("p99_ns"));
    EXPECT_FALSE(row.contains("p999_ns"));
    EXPECT_FALSE(row.contains("p9999_ns"));
    EXPECT_EQ(row["max_ns"], rep.latency.max());
    EXPECT_EQ(row["min_ns"], rep.latency.min());
    EXPECT_EQ(row["mean_ns"], rep.latency.mean());
  }
}

TEST(JsonReporter, AggregateRowsCarryTheStatistics) {
  const RunResult r = make_run();
  const CaseResult& c = r.cases[1];
  const json doc = to_json(r);
  struct Expect {
    const char* name;
    double Stat::*field;
  };
  for (const auto& [name, field] : {Expect{"mean", &Stat::mean}, Expect{"median", &Stat::median},
                                    Expect{"stddev", &Stat::stddev}, Expect{"cv", &Stat::cv}}) {
    const auto rows = rows_named(doc, std::string(kPingpong) + "_" + name);
    ASSERT_EQ(rows.size(), 1U) << name;
    const json& row = rows[0];
    EXPECT_EQ(row["run_type"], "aggregate");
    EXPECT_EQ(row["aggregate_name"], name);
    EXPECT_EQ(row["run_name"], kPingpong);
    EXPECT_EQ(row["family_index"], 1);
    EXPECT_EQ(row["repetitions"], 5);
    EXPECT_EQ(row["threads"], 1);
    EXPECT_EQ(row["iterations"], 5);
    EXPECT_FALSE(row.contains("repetition_index"));
    EXPECT_EQ(row["real_time"], c.real_ns.*field);
    EXPECT_EQ(row["cpu_time"], c.cpu_ns.*field);
    EXPECT_EQ(row["items_per_second"], c.items_per_second.*field);
    EXPECT_EQ(row["bytes_per_second"], c.bytes_per_second.*field);
    if (std::string(name) == "cv") {
      EXPECT_EQ(row["aggregate_unit"], "percentage");
      EXPECT_FALSE(row.contains("time_unit"));  // as Google Benchmark writes a percentage
    } else {
      EXPECT_EQ(row["aggregate_unit"], "time");
      EXPECT_EQ(row["time_unit"], "ns");
    }
    EXPECT_EQ(row.contains("latency_histogram"), std::string(name) == "median");
  }
}

TEST(JsonReporter, MedianRowCarriesMergedLatency) {
  const RunResult r = make_run();
  const CaseResult& c = r.cases[1];
  const auto rows = rows_named(to_json(r), std::string(kPingpong) + "_median");
  ASSERT_EQ(rows.size(), 1U);
  const json& row = rows[0];
  ASSERT_EQ(c.latency.count(), 5 * kSamplesPerRep);
  EXPECT_EQ(row["latency_samples"], c.latency.count());
  EXPECT_EQ(row["p50_ns"], c.latency.quantile(0.5));
  EXPECT_EQ(row["p90_ns"], c.latency.quantile(0.9));
  EXPECT_EQ(row["p99_ns"], c.latency.quantile(0.99));  // 1500 samples >= 1000
  EXPECT_FALSE(row.contains("p999_ns"));               // < 10000
  EXPECT_FALSE(row.contains("p9999_ns"));              // < 100000
  EXPECT_EQ(row["max_ns"], c.latency.max());
  EXPECT_EQ(row["min_ns"], c.latency.min());
  EXPECT_EQ(row["mean_ns"], c.latency.mean());
  EXPECT_EQ(row["latency_sampling"], "1 in 64 round trips");
  EXPECT_EQ(row["latency_histogram_digits"], 3);

  const auto buckets = c.latency.buckets();
  const json& histogram = row["latency_histogram"];
  ASSERT_EQ(histogram.size(), buckets.size());
  for (size_t i = 0; i < buckets.size(); ++i) {
    EXPECT_EQ(histogram[i], json({buckets[i].lo, buckets[i].hi, buckets[i].count}));
  }
}

// The pingpong case again, with 10 repetitions (a 95 % CI exists from 6 on); `noisy` makes its
// last repetition an outlier that pushes the CV above 5 %.
RunResult ten_rep_run(bool noisy) {
  RunResult r = make_run(1.0, false);
  CaseResult& c = r.cases[1];
  c.reps.clear();
  const double rtts[] = {160, 163, 170, 158, 165, 161, 162, 164, 166, noisy ? 300.0 : 167.0};
  for (int i = 0; i < 10; ++i) c.reps.push_back(ok_rep(i, rtts[i]));
  summarize(c);
  return r;
}

TEST(JsonReporter, MedianRowCarriesTheConfidenceInterval) {
  const RunResult r = ten_rep_run(false);
  const CaseResult& c = r.cases[1];
  ASSERT_TRUE(c.real_ns.has_ci());
  const json doc = to_json(r);
  const json row = rows_named(doc, std::string(kPingpong) + "_median").at(0);
  // x(2) and x(9) of the 10 sorted round trips 158..170.
  EXPECT_EQ(row["median_ci_low_ns"], 160.0);
  EXPECT_EQ(row["median_ci_high_ns"], 167.0);
  EXPECT_EQ(row["items_per_second_ci_low"], 1e9 / 167.0);
  EXPECT_EQ(row["items_per_second_ci_high"], 1e9 / 160.0);
  EXPECT_NEAR(row["median_ci_level"].get<double>(), 1.0 - 22.0 / 1024, 1e-12);
  EXPECT_FALSE(row.contains("median_ci_note"));
  EXPECT_FALSE(row.contains("unstable"));
  // Only the median row carries it.
  EXPECT_FALSE(
      rows_named(doc, std::string(kPingpong) + "_mean").at(0).contains("median_ci_low_ns"));

  // 5 repetitions: no interval, a note instead.
  const json five = rows_named(to_json(make_run()), std::string(kPingpong) + "_median").at(0);
  EXPECT_FALSE(five.contains("median_ci_low_ns"));
  EXPECT_FALSE(five.contains("items_per_second_ci_low"));
  EXPECT_NE(five["median_ci_note"].get<std::string>().find("n too small"), std::string::npos);
}

TEST(JsonReporter, UnstableRowsCarryAdvice) {
  const RunResult r = ten_rep_run(true);
  const CaseResult& c = r.cases[1];
  ASSERT_TRUE(c.unstable);
  const json row = rows_named(to_json(r), std::string(kPingpong) + "_median").at(0);
  EXPECT_EQ(row["unstable"], true);
  EXPECT_EQ(row["advice"], c.advice);
  EXPECT_NE(c.advice.find("CV "), std::string::npos) << c.advice;

  std::ostringstream os;
  write_csv(r, os);
  EXPECT_NE(os.str().find(",true,\"CV "), std::string::npos) << "unstable and advice columns";
}

TEST(JsonReporter, NoLatencyCountersWithoutSamples) {
  const auto rows = rows_named(to_json(make_run()), std::string(kFloor) + "_median");
  ASSERT_EQ(rows.size(), 1U);
  for (const char* key : {"latency_samples", "p50_ns", "max_ns", "mean_ns", "latency_histogram"}) {
    EXPECT_FALSE(rows[0].contains(key)) << key;
  }
}

TEST(JsonReporter, FailedRepetitionRow) {
  const RunResult r = make_run();
  const auto rows = rows_named(to_json(r), kStream);
  ASSERT_EQ(rows.size(), 5U);
  const json& row = rows[2];
  EXPECT_EQ(row["run_type"], "iteration");
  EXPECT_EQ(row["repetition_index"], 2);
  EXPECT_EQ(row["family_index"], 2);
  EXPECT_EQ(row["error_occurred"], true);
  EXPECT_EQ(row["error_message"], r.cases[2].reps[2].error);
  // Zero times, as Google Benchmark writes on its error rows: compare.py needs the keys.
  EXPECT_EQ(row["real_time"], 0.0);
  EXPECT_EQ(row["cpu_time"], 0.0);
  EXPECT_EQ(row["iterations"], 0);
  for (const char* key : {"items_per_second", "bytes_per_second", "verified_messages", "p50_ns"}) {
    EXPECT_FALSE(row.contains(key)) << key;
  }
  // The other repetitions still make aggregates, over the four that passed.
  const auto median = rows_named(to_json(r), std::string(kStream) + "_median");
  ASSERT_EQ(median.size(), 1U);
  EXPECT_EQ(median[0]["iterations"], 4);
  EXPECT_EQ(median[0]["real_time"], r.cases[2].real_ns.median);
}

TEST(JsonReporter, SkippedCaseRow) {
  const auto rows = rows_named(to_json(make_run()), kSkipped);
  ASSERT_EQ(rows.size(), 1U);
  const json& row = rows[0];
  EXPECT_EQ(row["run_name"], kSkipped);
  EXPECT_EQ(row["run_type"], "iteration");
  EXPECT_EQ(row["repetitions"], 0);
  EXPECT_EQ(row["repetition_index"], 0);
  EXPECT_EQ(row["error_occurred"], true);
  EXPECT_EQ(row["error_message"], "skipped: fifo not built");
}

TEST(JsonReporter, CaseThatFailedBeforeAnyRepetitionStillHasARow) {
  const RunResult r = unmeasured_run(CaseStatus::kFailed, "socket: Address family not supported");
  const auto rows = rows_named(to_json(r), r.cases[0].spec.name);
  ASSERT_EQ(rows.size(), 1U);
  EXPECT_EQ(rows[0]["error_message"], r.cases[0].message);
}

TEST(JsonReporter, NeverWritesNanOrInfinity) {
  RunResult r;
  CaseResult c;
  c.spec.name = "pingpong/odd/size:64";
  RepSample s = ok_rep(0, std::numeric_limits<double>::infinity());
  s.items_per_second = std::numeric_limits<double>::quiet_NaN();
  s.error = "bad byte \xff";  // not UTF-8: must not make write_json throw
  c.reps = {s, ok_rep(1, 100)};
  RepSample bad = ok_rep(2, 100);
  bad.ok = false;
  bad.error = "bad byte \xff";
  c.reps.push_back(bad);
  summarize(c);
  r.cases.push_back(c);
  std::ostringstream os;
  ASSERT_NO_THROW(write_json(r, os));
  const std::string text = os.str();
  EXPECT_EQ(text.find("NaN"), std::string::npos);
  EXPECT_EQ(text.find("Infinity"), std::string::npos);
  EXPECT_EQ(text.find("null"), std::string::npos);
  const json doc = json::parse(text);
  EXPECT_EQ(doc["benchmarks"][0]["real_time"], 0.0);
}

// ---------------------------------------------------------------------------------------------
// CSV

// RFC 4180 records (quoted fields may hold commas, quotes and line breaks).
std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
  std::vector<std::vector<std::string>> records;
  std::vector<std::string> record;
  std::string field;
  bool quoted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char ch = text[i];
    if (quoted) {
      if (ch == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (ch == '"') {
        quoted = false;
      } else {
        field += ch;
      }
    } else if (ch == '"') {
      quoted = true;
    } else if (ch == ',') {
      record.push_back(std::move(field));
      field.clear();
    } else if (ch == '\n') {
      record.push_back(std::move(field));
      field.clear();
      records.push_back(std::move(record));
      record.clear();
    } else {
      field += ch;
    }
  }
  return records;
}

std::string csv_of(const RunResult& r) {
  std::ostringstream os;
  write_csv(r, os);
  return os.str();
}

size_t column(const std::vector<std::string>& header, const std::string& name) {
  for (size_t i = 0; i < header.size(); ++i) {
    if (header[i] == name) return i;
  }
  ADD_FAILURE() << "no column " << name;
  return 0;
}

TEST(CsvReporter, Header) {
  const std::string text = csv_of(make_run());
  EXPECT_EQ(text.substr(0, text.find('\n')),
            "name,iterations,real_time,cpu_time,time_unit,bytes_per_second,items_per_second,label,"
            "error_occurred,error_message,backend,workload,family,wait,size_bytes,repetitions,"
            "p50_ns,p90_ns,p99_ns,p999_ns,p9999_ns,max_ns,verified_messages,in_process,"
            "sent_messages,lost_messages,loss_pct,offered_rate,achieved_rate,cpu_ns_per_msg_a,"
            "cpu_ns_per_msg_b,sys_ns_per_msg_a,sys_ns_per_msg_b,ctx_switches_per_msg,"
            "rate_not_kept,median_ci_low_ns,median_ci_high_ns,items_per_second_ci_low,"
            "items_per_second_ci_high,unstable,advice");
}

TEST(CsvReporter, RowsParseBackToTheJsonRows) {
  const RunResult r = make_run();
  const auto records = parse_csv(csv_of(r));
  const json doc = to_json(r);
  ASSERT_EQ(records.size(), doc["benchmarks"].size() + 1);
  const auto& header = records[0];
  for (const auto& rec : records) ASSERT_EQ(rec.size(), header.size());
  for (size_t i = 1; i < records.size(); ++i) {
    EXPECT_EQ(records[i][0], doc["benchmarks"][i - 1]["name"]);
  }

  // The first pingpong repetition, every column.
  const RepSample& rep = r.cases[1].reps[0];
  const auto& row = records[1 + 7];  // after floor/cacheline's 3 iterations and 4 aggregates
  EXPECT_EQ(row[column(header, "name")], kPingpong);
  EXPECT_EQ(row[column(header, "iterations")], std::to_string(rep.messages));
  EXPECT_EQ(std::stod(row[column(header, "real_time")]), rep.real_ns);
  EXPECT_EQ(std::stod(row[column(header, "cpu_time")]), rep.cpu_ns);
  EXPECT_EQ(row[column(header, "time_unit")], "ns");
  EXPECT_EQ(std::stod(row[column(header, "bytes_per_second")]), rep.bytes_per_second);
  EXPECT_EQ(std::stod(row[column(header, "items_per_second")]), rep.items_per_second);
  EXPECT_EQ(row[column(header, "label")], "");
  EXPECT_EQ(row[column(header, "error_occurred")], "");
  EXPECT_EQ(row[column(header, "error_message")], "");
  EXPECT_EQ(row[column(header, "backend")], "shm-spsc");
  EXPECT_EQ(row[column(header, "workload")], "pingpong");
  EXPECT_EQ(row[column(header, "family")], "shared memory");
  EXPECT_EQ(row[column(header, "wait")], "spin");
  EXPECT_EQ(row[column(header, "size_bytes")], "64");
  EXPECT_EQ(row[column(header, "repetitions")], "5");
  EXPECT_EQ(std::stod(row[column(header, "p50_ns")]), rep.latency.quantile(0.5));
  EXPECT_EQ(std::stod(row[column(header, "p90_ns")]), rep.latency.quantile(0.9));
  EXPECT_EQ(row[column(header, "p99_ns")], "");  // too few samples in one repetition
  EXPECT_EQ(row[column(header, "max_ns")], std::to_string(rep.latency.max()));
  EXPECT_EQ(row[column(header, "verified_messages")], std::to_string(rep.verified));

  // The median aggregate: merged latency, enough samples for p99.
  const auto& median = records[1 + 7 + 6];
  EXPECT_EQ(median[0], std::string(kPingpong) + "_median");
  EXPECT_EQ(std::stod(median[column(header, "real_time")]), r.cases[1].real_ns.median);
  EXPECT_EQ(median[column(header, "iterations")], "5");
  EXPECT_EQ(std::stod(median[column(header, "p99_ns")]), r.cases[1].latency.quantile(0.99));
}

TEST(CsvReporter, ErrorRowsAreQuotedAndEmptyWhereNothingWasMeasured) {
  const RunResult r = make_run();
  const std::string text = csv_of(r);
  // The message holds a comma and quotes: quoted, with its quotes doubled.
  EXPECT_NE(text.find(R"csv("read(""pipe""): peer gone, ""EPIPE""")csv"), std::string::npos);
  const auto records = parse_csv(text);
  const auto& header = records[0];
  bool found = false;
  for (const auto& rec : records) {
    if (rec[column(header, "error_occurred")] != "true" || rec[0] != kStream) continue;
    found = true;
    EXPECT_EQ(rec[column(header, "error_message")], r.cases[2].reps[2].error);
    for (const char* col :
         {"iterations", "real_time", "cpu_time", "time_unit", "items_per_second"}) {
      EXPECT_EQ(rec[column(header, col)], "") << col;
    }
    EXPECT_EQ(rec[column(header, "backend")], "pipe");
  }
  EXPECT_TRUE(found);
}

TEST(CsvReporter, LineBreakInAMessageStaysInOneField) {
  const RunResult r = unmeasured_run(CaseStatus::kSkipped, "line one\nline two");
  const auto records = parse_csv(csv_of(r));
  ASSERT_EQ(records.size(), 2U);
  EXPECT_EQ(records[1][column(records[0], "error_message")], "skipped: line one\nline two");
}

// ---------------------------------------------------------------------------------------------
// Terminal table and units

TEST(Units, TimeWithThreeSignificantDigits) {
  EXPECT_EQ(format_time_ns(163), "163 ns");
  EXPECT_EQ(format_time_ns(163.4), "163 ns");
  EXPECT_EQ(format_time_ns(54200), "54.2 µs");
  EXPECT_EQ(format_time_ns(5420), "5.42 µs");
  EXPECT_EQ(format_time_ns(999.7), "1.00 µs");  // not "1000 ns"
  EXPECT_EQ(format_time_ns(99.96), "100 ns");   // not "100.0 ns"
  EXPECT_EQ(format_time_ns(1.5e6), "1.50 ms");
  EXPECT_EQ(format_time_ns(2.5e9), "2.50 s");
  EXPECT_EQ(format_time_ns(0), "0 ns");
  EXPECT_EQ(format_time_ns(0.5), "0.500 ns");
  EXPECT_EQ(format_time_ns(std::nan("")), "—");
}

TEST(Units, Rates) {
  EXPECT_EQ(format_rate(12.3e6), "12.3 M/s");
  EXPECT_EQ(format_rate(856000), "856 k/s");
  EXPECT_EQ(format_rate(1.05e9), "1.05 G/s");
  EXPECT_EQ(format_rate(12), "12.0/s");
  EXPECT_EQ(format_bytes_rate(1.23 * 1024 * 1024 * 1024), "1.23 GiB/s");
  EXPECT_EQ(format_bytes_rate(512.0 * 1024 * 1024), "512 MiB/s");
  EXPECT_EQ(format_bytes_rate(2048), "2.00 KiB/s");
  EXPECT_EQ(format_bytes_rate(100), "100 B/s");
  EXPECT_EQ(format_percent(0.012), "1.2%");
  EXPECT_EQ(format_percent(0.1534), "15.3%");
  EXPECT_EQ(format_percent(0), "0.0%");
}

// Every column unless `wide` is false (the default table: TableDefault tests).
std::string table_of(const RunResult& r, bool color = false, bool wide = true) {
  std::ostringstream os;
  write_table(r, os, {.color = color, .wide = wide});
  return os.str();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream is(text);
  for (std::string line; std::getline(is, line);) out.push_back(line);
  return out;
}

size_t display_width(const std::string& s) {
  size_t n = 0;
  for (char ch : s) n += (static_cast<unsigned char>(ch) & 0xC0) != 0x80 ? 1 : 0;
  return n;
}

// Display column where `needle` ends in `line`.
size_t end_column(const std::string& line, const std::string& needle) {
  const size_t at = line.find(needle);
  EXPECT_NE(at, std::string::npos) << needle << " not in: " << line;
  return at == std::string::npos ? 0 : display_width(line.substr(0, at + needle.size()));
}

TEST(TableReporter, RowsAndStatuses) {
  const RunResult r = make_run();
  const std::string text = table_of(r);
  for (const char* name : {kFloor, kPingpong, kStream, kSkipped}) {
    EXPECT_NE(text.find(name), std::string::npos) << name;
  }
  EXPECT_NE(text.find("FAILED: read(\"pipe\"): peer gone"), std::string::npos) << text;
  EXPECT_NE(text.find("skipped: fifo not built"), std::string::npos) << text;
  EXPECT_NE(text.find("—"), std::string::npos);  // floor/cacheline has no latency samples
  EXPECT_EQ(text.find('\033'), std::string::npos) << "colour codes without colour";
  for (const char* header : {"benchmark", "median", "±CV", "min", "max", "msg/s", "bytes/s", "p50",
                             "p99", "max lat", "CPU/msg", "×floor"}) {
    EXPECT_NE(lines_of(text)[0].find(header), std::string::npos) << header;
  }
}

TEST(TableReporter, ValuesInHumanUnits) {
  const RunResult r = make_run();
  const CaseResult& c = r.cases[1];
  const auto lines = lines_of(table_of(r));
  std::string row;
  for (const auto& line : lines) {
    if (line.rfind(kPingpong, 0) == 0) row = line;
  }
  ASSERT_FALSE(row.empty());
  EXPECT_NE(row.find("163 ns"), std::string::npos) << row;  // median of 158..170
  EXPECT_NE(row.find(format_percent(c.real_ns.cv)), std::string::npos) << row;
  EXPECT_NE(row.find("158 ns"), std::string::npos) << row;
  EXPECT_NE(row.find("170 ns"), std::string::npos) << row;
  EXPECT_NE(row.find("6.13 M/s"), std::string::npos) << row;  // 1e9 / 163
  EXPECT_NE(row.find(format_time_ns(c.latency.quantile(0.99))), std::string::npos) << row;
  EXPECT_NE(row.find("3.20×"), std::string::npos) << row;  // 163 / 51
  // p50 and p99 have enough merged samples here; the floor row has no samples at all.
  EXPECT_EQ(row.find("—"), std::string::npos) << row;
}

TEST(TableReporter, ColumnsAreAligned) {
  const auto lines = lines_of(table_of(make_run()));
  ASSERT_GE(lines.size(), 4U);
  const std::string& header = lines[0];
  EXPECT_EQ(display_width(lines[1]), display_width(header));  // the rule spans the header
  std::string floor_row, pingpong_row;
  for (const auto& line : lines) {
    if (line.rfind(kFloor, 0) == 0) floor_row = line;
    if (line.rfind(kPingpong, 0) == 0) pingpong_row = line;
  }
  // Right-aligned numbers end under their header, counting "µ", "±", "×", "—" as one column.
  EXPECT_EQ(end_column(pingpong_row, "163 ns"), end_column(header, "median"));
  EXPECT_EQ(end_column(floor_row, "51.0 ns"), end_column(header, "median"));
  EXPECT_EQ(end_column(pingpong_row, "3.20×"), end_column(header, "×floor"));
  EXPECT_EQ(display_width(pingpong_row), display_width(header));
}

TEST(TableReporter, PercentileNeedsEnoughSamples) {
  RunResult r = make_run();
  CaseResult& c = r.cases[1];
  c.latency = Histogram(3);
  for (int i = 0; i < 500; ++i) c.latency.record(150);  // enough for p50 (20), not p99 (1000)
  std::string row;
  for (const auto& line : lines_of(table_of(r))) {
    if (line.rfind(kPingpong, 0) == 0) row = line;
  }
  EXPECT_EQ(end_column(row, "—"), end_column(lines_of(table_of(r))[0], "p99"));
}

TEST(TableReporter, ColourOnlyWhenAsked) {
  RunResult r = make_run();
  // Make the pingpong case noisy: CV well above 5%.
  r.cases[1].reps[0].real_ns = 400;
  summarize(r.cases[1]);
  const std::string text = table_of(r, true);
  EXPECT_NE(text.find("\033[31m"), std::string::npos);  // failed: red
  EXPECT_NE(text.find("\033[33m"), std::string::npos);  // skipped and noisy: yellow
  EXPECT_NE(text.find("\033[0m"), std::string::npos);
  EXPECT_EQ(table_of(r, false).find('\033'), std::string::npos);
}

TEST(TableReporter, ConfidenceIntervalColumn) {
  const auto header = lines_of(table_of(make_run()))[0];
  EXPECT_NE(header.find("95% CI"), std::string::npos) << header;
  auto row_of = [](const std::string& text) {
    for (const auto& line : lines_of(text)) {
      if (line.rfind(kPingpong, 0) == 0) return line;
    }
    return std::string();
  };
  // 5 repetitions: said, not invented.
  const std::string five = table_of(make_run());
  EXPECT_NE(row_of(five).find("n too small"), std::string::npos) << five;
  EXPECT_NE(five.find("'n too small' below 6 repetitions"), std::string::npos) << five;
  // 10 repetitions: x(2)..x(9), in the median's unit, aligned under the header.
  const std::string ten = table_of(ten_rep_run(false));
  EXPECT_EQ(end_column(row_of(ten), "160–167 ns"), end_column(lines_of(ten)[0], "95% CI")) << ten;
  EXPECT_EQ(row_of(ten).find("n too small"), std::string::npos) << ten;
  EXPECT_EQ(ten.find("unstable"), std::string::npos) << ten;
}

TEST(TableReporter, UnstableRowsGetTheirAdviceUnderTheTable) {
  const RunResult r = ten_rep_run(true);
  const std::string text = table_of(r);
  EXPECT_NE(text.find(fmt::format("  ! {}: {}", kPingpong, r.cases[1].advice)), std::string::npos)
      << text;
  EXPECT_NE(text.find("n·(h/5%)²"), std::string::npos) << "the rule is explained: " << text;
  EXPECT_NE(r.cases[1].advice.find("--reps"), std::string::npos) << r.cases[1].advice;
}

TEST(TableReporter, NotesOnlyForRowsShown) {
  const std::string text = table_of(make_run());
  std::vector<std::string> notes;
  for (const auto& line : lines_of(text)) {
    if (line.rfind("  ", 0) == 0) notes.push_back(line);
  }
  ASSERT_FALSE(notes.empty());
  auto has = [&](const std::string& s) {
    for (const auto& n : notes) {
      if (n.find(s) != std::string::npos) return true;
    }
    return false;
  };
  EXPECT_TRUE(has("repetitions"));
  EXPECT_TRUE(has("RTT/2"));
  EXPECT_TRUE(has("1 in 64 round trips"));
  EXPECT_TRUE(has("10/(1-p)"));
  EXPECT_TRUE(has("CPU/msg"));
  EXPECT_TRUE(has("×floor"));
  EXPECT_FALSE(has("receiver")) << "the only stream case failed";

  // A stream-only run: its note, and none of pingpong's.
  RunResult stream_only = make_run(1.0, false);
  stream_only.cases = {stream_only.cases[2]};
  const std::string stream_text = table_of(stream_only);
  EXPECT_NE(stream_text.find("receiver"), std::string::npos) << stream_text;
  EXPECT_EQ(stream_text.find("RTT/2"), std::string::npos) << stream_text;
  EXPECT_EQ(stream_text.find("ratio to"), std::string::npos) << stream_text;
  EXPECT_EQ(stream_text.find("10/(1-p)"), std::string::npos) << stream_text;
}

// The table's lines, up to the rule under the header and the rows, without the notes.
std::vector<std::string> table_lines(const std::string& text) {
  std::vector<std::string> out;
  for (const auto& line : lines_of(text)) {
    if (line.rfind("  ", 0) == 0 && line.size() > 2 && line[2] != ' ') break;  // the notes
    out.push_back(line);
  }
  return out;
}

std::vector<std::string> headers_of(const std::string& header) {
  std::vector<std::string> out;
  std::istringstream is(header);
  for (std::string word; is >> word;) out.push_back(word);
  return out;
}

// The notes of a default table with their wrapped lines joined again.
std::string unwrapped(std::string text) {
  for (size_t at; (at = text.find("\n    ")) != std::string::npos;) text.replace(at, 5, " ");
  return text;
}

TEST(TableDefault, FitsInAHundredColumnsWithTheDefaultColumns) {
  const RunResult r = ten_rep_run(true);  // unstable rows: long advice lines under the table
  const std::string wrapped = table_of(r, false, false);
  for (const auto& line : lines_of(wrapped)) EXPECT_LE(display_width(line), 100U) << line;
  EXPECT_NE(unwrapped(wrapped).find(fmt::format("  ! {}: {}", kPingpong, r.cases[1].advice)),
            std::string::npos)
      << wrapped;
  const std::string text = unwrapped(table_of(make_run(), false, false));
  const auto lines = table_lines(text);
  ASSERT_GE(lines.size(), 6U) << text;
  EXPECT_EQ(headers_of(lines[0]), (std::vector<std::string>{"benchmark", "median", "±CV", "msg/s",
                                                            "p99", "CPU/msg", "×floor"}))
      << text;
  EXPECT_NE(text.find("not shown, to fit 100 columns: 95% CI, min, max, bytes/s, p50, max lat "
                      "(--wide shows every column)"),
            std::string::npos)
      << text;
  // Notes speak only of the columns shown.
  EXPECT_EQ(text.find("min, max: the extremes"), std::string::npos) << text;
  EXPECT_EQ(text.find("confidence interval"), std::string::npos) << text;
  EXPECT_NE(text.find("  p99: latency percentile of sampled"), std::string::npos) << text;
  // The pingpong row keeps its figures, aligned under the header.
  std::string row;
  for (const auto& line : lines) {
    if (line.rfind(kPingpong, 0) == 0) row = line;
  }
  EXPECT_EQ(end_column(row, "163 ns"), end_column(lines[0], "median")) << text;
  EXPECT_EQ(end_column(row, "3.20×"), end_column(lines[0], "×floor")) << text;
  EXPECT_EQ(display_width(lines[1]), display_width(lines[0])) << "the rule spans the header";
}

TEST(TableDefault, LongNamesDropTheLeastNeededColumnsFirst) {
  RunResult r = make_run();
  r.cases[1].spec.name = std::string(kPingpong) + "/" + std::string(50, 'x');
  const std::string text = unwrapped(table_of(r, false, false));
  const auto lines = table_lines(text);
  for (const auto& line : lines) EXPECT_LE(display_width(line), 100U) << line;
  const auto headers = headers_of(lines[0]);
  EXPECT_EQ(headers.front(), "benchmark");
  EXPECT_EQ(headers[1], "median") << "the median is never dropped";
  EXPECT_EQ(std::count(headers.begin(), headers.end(), "CPU/msg"), 0) << "dropped first: " << text;
  EXPECT_NE(text.find("CPU/msg"), std::string::npos) << "named among the hidden: " << text;
  EXPECT_EQ(text.find("CPU/msg: user+system"), std::string::npos) << "no note for it: " << text;
}

TEST(TableDefault, LongMessagesWrapUnderTheirFirstColumn) {
  RunResult r = make_run();
  r.cases[3].message = "fifo not built: " + std::string(30, 'a') + " " + std::string(30, 'b') +
                       " " + std::string(30, 'c') + " " + std::string(30, 'd');
  const auto lines = table_lines(table_of(r, false, false));
  size_t at = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    EXPECT_LE(display_width(lines[i]), 100U) << lines[i];
    if (lines[i].rfind(kSkipped, 0) == 0) at = i;
  }
  ASSERT_GT(at, 0U);
  ASSERT_GT(lines.size(), at + 1);
  const size_t column = lines[at].find("skipped: ");
  EXPECT_EQ(lines[at + 1].find_first_not_of(' '), column) << lines[at + 1];
  EXPECT_NE(lines[at + 1].find(std::string(30, 'c')), std::string::npos) << lines[at + 1];
  // --wide keeps the message on one line.
  EXPECT_NE(table_of(r, false, true).find(r.cases[3].message), std::string::npos);
}

TEST(TableDefault, ANameWiderThanTheLimitIsNeverCut) {
  RunResult r = make_run();
  const std::string name = std::string(kPingpong) + "/" + std::string(120, 'y');
  r.cases[1].spec.name = name;
  const std::string text = table_of(r, false, false);
  EXPECT_NE(text.find(name + "  "), std::string::npos) << text;
  EXPECT_EQ(headers_of(table_lines(text)[0]), (std::vector<std::string>{"benchmark", "median"}));
}

TEST(TableDefault, WideShowsEveryColumnAndNoHiddenNote) {
  const std::string text = table_of(make_run(), false, true);
  EXPECT_EQ(headers_of(lines_of(text)[0]).size(), 15U) << "95% CI and max lat are two words";
  EXPECT_EQ(text.find("not shown"), std::string::npos) << text;
  EXPECT_NE(text.find("min, max: the extremes"), std::string::npos) << text;
}

TEST(TableDefault, InjectedFaultsAreSaidFirst) {
  RunResult r = make_run();
  EXPECT_EQ(table_of(r).find("INJECTED"), std::string::npos) << "none without the context field";
  r.context["injected_faults"] = {{"delay_ns", 0}, {"stall_ns", 0}};
  EXPECT_EQ(table_of(r).find("INJECTED"), std::string::npos) << "none when both are 0";
  r.context["injected_faults"] = {{"delay_ns", 20000}, {"stall_ns", 5000000}};
  for (const bool wide : {true, false}) {
    const std::string text = unwrapped(table_of(r, false, wide));
    const auto lines = lines_of(text);
    const auto first_note = std::find_if(lines.begin(), lines.end(), [](const std::string& l) {
      return l.rfind("  ", 0) == 0 && l.size() > 2 && l[2] != ' ';
    });
    ASSERT_NE(first_note, lines.end()) << text;
    EXPECT_EQ(first_note->rfind("  INJECTED FAULTS: the receiver waits 20.0 µs per message and "
                                "stalls once for 5.00 ms",
                                0),
              0U)
        << text;
  }
}

TEST(TableDefault, FloorsAreFoundByWhatTheyBoundNotByName) {
  RunResult r = make_run();
  r.cases[0].spec.name = "floor/renamed";
  const std::string text = unwrapped(table_of(r, false, false));
  EXPECT_NE(text.find("3.20×"), std::string::npos) << text;
  EXPECT_NE(text.find("ratio to the floor/renamed round trip"), std::string::npos) << text;
  // The floor's note is the registered floor's own summary.
  const Floor* cacheline = find_floor("floor-cacheline");
  ASSERT_NE(cacheline, nullptr);
  EXPECT_NE(text.find(std::string(cacheline->info().summary)), std::string::npos) << text;
  r.cases[0].spec.bounds_round_trips = false;
  EXPECT_EQ(table_of(r, false, false).find("3.20×"), std::string::npos)
      << "no bounding floor, no ratio";
}

// ---------------------------------------------------------------------------------------------
// --reference: the speedup fields, the ×ref column and the summary lines. The speedups are set
// as add_speedups would (speedup_test.cpp tests how they are computed): reporters only format.

CaseResult reference_case(const std::string& kind, const std::string& backend, size_t size,
                          int index, int reps = 6) {
  CaseResult c;
  c.spec = {fmt::format("{}/{}/size:{}", kind, backend, size),
            kind,
            backend,
            "kernel",
            size,
            "block",
            0,
            index};
  for (int i = 0; i < reps; ++i) c.reps.push_back(ok_rep(i, 1000.0 + i));
  summarize(c);
  return c;
}

Speedup speedup_of(double median, double lo, double hi, int n, int rounds = 6) {
  Speedup s;
  s.reference_case = "its pipe case";
  s.basis = "pipe's round trip / this case's";
  s.n = n;
  s.rounds = rounds;
  s.median = median;
  if (n >= kMinRepsForMedianCi) {
    s.ci_low = lo;
    s.ci_high = hi;
    s.ci_level = 0.96875;
  }
  for (int i = 0; i < n; ++i) s.per_rep.emplace_back(i, median + i);
  return s;
}

RunResult reference_run() {
  RunResult r;
  r.reference = "pipe";
  r.cases.push_back(reference_case("pingpong", "pipe", 64, 0));
  r.cases.push_back(reference_case("pingpong", "shm-spsc", 64, 1));
  r.cases.back().speedup = speedup_of(212, 198, 227, 6);
  r.cases.push_back(reference_case("stream", "uds-stream", 4096, 2));
  r.cases.back().speedup = speedup_of(0.8, 0.7, 0.9, 6);
  r.cases.push_back(reference_case("pingpong", "tcp", 64, 3, 3));
  r.cases.back().speedup = speedup_of(2, 0, 0, 3, 3);
  r.cases.push_back(reference_case("pingpong", "fifo", 4096, 4));
  Speedup none;
  none.rounds = 6;
  none.reference_case = "pingpong/pipe/size:4096";
  none.missing = "the reference case pingpong/pipe/size:4096 failed";
  r.cases.back().speedup = none;
  r.cases.push_back(reference_case("stream", "uds-dgram", 4096, 5));
  r.cases.back().speedup = speedup_of(1.05, 0.95, 1.2, 6);
  return r;
}

TEST(ReferenceSpeedup, JsonMedianAndIterationRowsAndContext) {
  const json doc = to_json(reference_run());
  EXPECT_EQ(doc["context"]["reference"], "pipe");
  EXPECT_NE(doc["context"]["reference_method"].get<std::string>().find("paired"),
            std::string::npos);
  const json median = rows_named(doc, "pingpong/shm-spsc/size:64_median").at(0);
  EXPECT_DOUBLE_EQ(median["speedup_vs_pipe"].get<double>(), 212);
  EXPECT_DOUBLE_EQ(median["speedup_vs_pipe_ci_low"].get<double>(), 198);
  EXPECT_DOUBLE_EQ(median["speedup_vs_pipe_ci_high"].get<double>(), 227);
  EXPECT_EQ(median["speedup_vs_pipe_n"], 6);
  EXPECT_FALSE(median.contains("speedup_vs_pipe_note")) << median;
  // Each repetition row carries its own round's ratio.
  const auto iterations = rows_named(doc, "pingpong/shm-spsc/size:64");
  ASSERT_EQ(iterations.size(), 6U);
  EXPECT_DOUBLE_EQ(iterations[2]["speedup_vs_pipe"].get<double>(), 214);
  // The reference's own rows have no speedup; nor do the other aggregates.
  for (const auto& row : doc["benchmarks"]) {
    const std::string name = row["name"];
    if (name.rfind("pingpong/pipe/", 0) == 0 || name.find("_mean") != std::string::npos) {
      EXPECT_FALSE(row.contains("speedup_vs_pipe")) << row;
    }
  }
  const json few = rows_named(doc, "pingpong/tcp/size:64_median").at(0);
  EXPECT_DOUBLE_EQ(few["speedup_vs_pipe"].get<double>(), 2);
  EXPECT_FALSE(few.contains("speedup_vs_pipe_ci_low"));
  EXPECT_EQ(few["speedup_vs_pipe_note"], "no interval: n = 3 < 6");
  const json failed = rows_named(doc, "pingpong/fifo/size:4096_median").at(0);
  EXPECT_FALSE(failed.contains("speedup_vs_pipe"));
  EXPECT_EQ(failed["speedup_vs_pipe_note"],
            "no number: the reference case pingpong/pipe/size:4096 failed");
  // Without --reference nothing of it.
  const json plain = to_json(make_run());
  EXPECT_FALSE(plain["context"].contains("reference"));
}

TEST(ReferenceSpeedup, CsvHasItsColumns) {
  const std::string text = csv_of(reference_run());
  const std::string header = text.substr(0, text.find('\n'));
  EXPECT_NE(header.find(",advice,speedup_vs_pipe,speedup_vs_pipe_ci_low,speedup_vs_pipe_ci_high,"
                        "speedup_vs_pipe_n,speedup_vs_pipe_note"),
            std::string::npos)
      << header;
  const auto lines = lines_of(text);
  const auto row = std::find_if(lines.begin(), lines.end(), [](const std::string& l) {
    return l.rfind("pingpong/shm-spsc/size:64_median,", 0) == 0;
  });
  ASSERT_NE(row, lines.end());
  EXPECT_NE(row->find(",212,198,227,6,"), std::string::npos) << *row;
  EXPECT_EQ(csv_of(make_run()).find("speedup_vs"), std::string::npos);
}

TEST(ReferenceSpeedup, TableColumnAndSummaryLines) {
  const std::string text = table_of(reference_run(), false, false);
  for (const auto& line : lines_of(text)) EXPECT_LE(display_width(line), 100U) << line;
  const auto lines = table_lines(text);
  ASSERT_GE(lines.size(), 8U) << text;
  EXPECT_EQ(headers_of(lines[0]).back(), "×ref") << text;
  auto row_of = [&](const std::string& name) {
    for (const auto& line : lines) {
      if (line.rfind(name + " ", 0) == 0) return line;
    }
    ADD_FAILURE() << name << " not in " << text;
    return std::string();
  };
  EXPECT_EQ(end_column(row_of("pingpong/shm-spsc/size:64"), "212×"), end_column(lines[0], "×ref"));
  EXPECT_EQ(end_column(row_of("pingpong/pipe/size:64"), "ref"), end_column(lines[0], "×ref"));
  EXPECT_EQ(end_column(row_of("pingpong/fifo/size:4096"), "—"), end_column(lines[0], "×ref"));
  // One line per case compared, grouped by workload and size, hyperfine's way.
  const auto all = lines_of(text);
  const auto at = std::find(all.begin(), all.end(),
                            "shm-spsc ran 212 × (198–227) faster than pipe at pingpong/64 B");
  ASSERT_NE(at, all.end()) << text;
  ASSERT_NE(at + 1, all.end());
  EXPECT_EQ(*(at + 1), "tcp ran 2.00 × faster than pipe at pingpong/64 B, no interval (n = 3 < 6)");
  // Below 1: slower, by the inverse, with the inverted interval (1/0.9 .. 1/0.7).
  EXPECT_NE(text.find("\nuds-stream ran 1.25 × (1.11–1.43) slower than pipe at stream/4 KiB\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("\nuds-dgram ran 1.05 × (0.950–1.20) faster than pipe at stream/4 KiB, the "
                      "interval includes 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("\nfifo: no comparison with pipe at pingpong/4 KiB: the reference case "
                      "pingpong/pipe/size:4096 failed\n"),
            std::string::npos)
      << text;
  EXPECT_NE(unwrapped(text).find("×ref: speedup over pipe (>1: faster)"), std::string::npos)
      << text;
  // --wide shows it too; a run without --reference has no such column.
  EXPECT_NE(lines_of(table_of(reference_run(), false, true))[0].find("×ref"), std::string::npos);
  EXPECT_EQ(table_of(make_run(), false, true).find("×ref"), std::string::npos);
  EXPECT_EQ(table_of(make_run(), false, false).find("×ref"), std::string::npos);
}

TEST(ReferenceSpeedup, PartlyPairedRoundsAreCounted) {
  RunResult r = reference_run();
  r.cases[1].speedup = speedup_of(212, 198, 227, 6, 7);
  EXPECT_NE(table_of(r).find("faster than pipe at pingpong/64 B, 6 of 7 rounds paired"),
            std::string::npos);
  const json median = rows_named(to_json(r), "pingpong/shm-spsc/size:64_median").at(0);
  EXPECT_EQ(median["speedup_vs_pipe_note"], "paired by rep_index: 6 of 7 rounds had both passing");
}

// ---------------------------------------------------------------------------------------------
// Google Benchmark's compare.py must accept two of our files.

constexpr const char* kPython = "/usr/bin/python3";
constexpr const char* kComparePy = "/usr/share/benchmark/compare.py";

struct Command {
  int status = -1;
  std::string output;
};

Command run_command(const std::string& command) {
  Command result;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  for (size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;)
    result.output.append(buffer, n);
  result.status = ::pclose(pipe);
  return result;
}

class ComparePy : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(kComparePy) || !std::filesystem::exists(kPython)) {
      GTEST_SKIP() << kComparePy << " or " << kPython << " is absent";
    }
    // compare.py imports scipy for its U test.
    if (run_command(std::string(kPython) + " -c 'import scipy.stats'").status != 0) {
      GTEST_SKIP() << "scipy is not importable by " << kPython;
    }
    std::string tmpl = (std::filesystem::temp_directory_path() / "ipcperf-compare-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  std::string write(const std::string& file, const RunResult& r) {
    const auto path = dir_ / file;
    std::ofstream os(path);
    write_json(r, os);
    return path.string();
  }

  Command compare(const std::string& flags, const std::string& a, const std::string& b) {
    return run_command(std::string(kPython) + " " + kComparePy + " --no-color " + flags +
                       " benchmarks '" + a + "' '" + b + "'");
  }

  // compare.py with `flags` on a and b, expected to succeed without a Python traceback.
  Command compare_ok(const std::string& flags, const std::string& a, const std::string& b) {
    Command c = compare(flags, a, b);
    EXPECT_TRUE(WIFEXITED(c.status) && WEXITSTATUS(c.status) == 0) << c.output;
    EXPECT_EQ(c.output.find("Traceback"), std::string::npos) << c.output;
    return c;
  }

  std::filesystem::path dir_;
};

TEST_F(ComparePy, AcceptsTwoRuns) {
  const std::string a = write("A.json", make_run(1.0, false));
  const std::string b = write("B.json", make_run(1.1, false));
  const Command c = compare_ok("", a, b);
  EXPECT_NE(c.output.find(kPingpong), std::string::npos) << c.output;
  EXPECT_NE(c.output.find(std::string(kPingpong) + "_median"), std::string::npos) << c.output;
  // Five repetitions on both sides: the U test runs.
  EXPECT_NE(c.output.find(std::string(kPingpong) + "_pvalue"), std::string::npos) << c.output;
  EXPECT_NE(c.output.find("OVERALL_GEOMEAN"), std::string::npos) << c.output;
}

TEST_F(ComparePy, AcceptsAggregatesOnly) {
  const std::string a = write("A.json", make_run(1.0, false));
  const std::string b = write("B.json", make_run(0.9, false));
  const Command c = compare_ok("--display_aggregates_only", a, b);
  EXPECT_NE(c.output.find(std::string(kStream) + "_median"), std::string::npos) << c.output;
}

TEST_F(ComparePy, AcceptsFailedAndSkippedCases) {
  // B has a failed repetition and a skipped case where A has neither, and the other way round.
  const std::string a = write("A.json", make_run(1.0, false));
  const std::string b = write("B.json", make_run(1.05, true));
  for (const auto& [x, y] : {std::pair{a, b}, std::pair{b, a}}) {
    const Command c = compare_ok("", x, y);
    EXPECT_NE(c.output.find(kPingpong), std::string::npos) << c.output;
  }
}

}  // namespace
}  // namespace ipcperf
