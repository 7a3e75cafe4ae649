// CSV: Google Benchmark's columns first (so its CSV readers work), then ipcperf's. The rows are
// those of the JSON report, read back from to_json, so that the two files can never disagree.
#include <array>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "reporters/reporter.hpp"

namespace ipcperf {
namespace {

constexpr std::array<std::string_view, 41> kColumns{
    // Google Benchmark's CSV columns, in its order.
    "name", "iterations", "real_time", "cpu_time", "time_unit", "bytes_per_second",
    "items_per_second", "label", "error_occurred", "error_message",
    // ipcperf's.
    "backend", "workload", "family", "wait", "size_bytes", "repetitions", "p50_ns", "p90_ns",
    "p99_ns", "p999_ns", "p9999_ns", "max_ns", "verified_messages", "in_process", "sent_messages",
    "lost_messages", "loss_pct", "offered_rate", "achieved_rate", "cpu_ns_per_msg_a",
    "cpu_ns_per_msg_b", "sys_ns_per_msg_a", "sys_ns_per_msg_b", "ctx_switches_per_msg",
    "rate_not_kept", "median_ci_low_ns", "median_ci_high_ns", "items_per_second_ci_low",
    "items_per_second_ci_high", "unstable", "advice"};

// Measurements an error row does not have (the JSON carries zeros there for compare.py's sake;
// a spreadsheet should see empty cells, as in Google Benchmark's CSV).
bool is_measurement(std::string_view column) {
  return column == "iterations" || column == "real_time" || column == "cpu_time" ||
         column == "time_unit" || column == "bytes_per_second" || column == "items_per_second";
}

// RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled.
std::string csv_field(std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(s);
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '"') out += '"';
    out += ch;
  }
  out += '"';
  return out;
}

std::string cell(const nlohmann::json& row, std::string_view column) {
  const auto it = row.find(column);
  if (it == row.end() || it->is_null()) return {};
  if (it->is_string()) return csv_field(it->get_ref<const std::string&>());
  if (it->is_boolean()) return it->get<bool>() ? "true" : "false";
  if (it->is_number_unsigned()) return fmt::format("{}", it->get<uint64_t>());
  if (it->is_number_integer()) return fmt::format("{}", it->get<int64_t>());
  // Shortest text that reads back as the same double.
  if (it->is_number_float()) return fmt::format("{}", it->get<double>());
  return csv_field(it->dump());
}

}  // namespace

void write_csv(const RunResult& r, std::ostream& os) {
  std::vector<std::string> columns(kColumns.begin(), kColumns.end());
  // --reference: the speedup fields of the JSON, named after the reference as there.
  if (!r.reference.empty()) {
    for (const char* suffix : {"", "_ci_low", "_ci_high", "_n", "_note"})
      columns.push_back(fmt::format("speedup_vs_{}{}", r.reference, suffix));
  }
  std::string line;
  for (const auto& column : columns) {
    if (!line.empty()) line += ',';
    line += csv_field(column);
  }
  os << line << '\n';

  const nlohmann::json doc = to_json(r);
  for (const auto& row : doc["benchmarks"]) {
    const bool error = row.value("error_occurred", false);
    line.clear();
    for (size_t i = 0; i < columns.size(); ++i) {
      if (i > 0) line += ',';
      if (!(error && is_measurement(columns[i]))) line += cell(row, columns[i]);
    }
    os << line << '\n';
  }
}

}  // namespace ipcperf
