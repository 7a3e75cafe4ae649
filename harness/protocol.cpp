#include "protocol.hpp"

#include <array>
#include <utility>

#include <fmt/format.h>

#include "ipcperf/names.hpp"
#include "ipcperf/sys.hpp"

namespace ipcperf {

namespace {

constexpr Names<Workload, 3> kWorkloadNames{{{Workload::kPingpong, "pingpong"},
                                             {Workload::kStream, "stream"},
                                             {Workload::kPaced, "paced"}}};
constexpr Names<PeerRole, 5> kRoleNames{{{PeerRole::kA, "A"},
                                         {PeerRole::kB, "B"},
                                         {PeerRole::kAB, "AB"},
                                         {PeerRole::kCoordinator, "coordinator"},
                                         {PeerRole::kWorker, "worker"}}};
constexpr Names<ControlKind, 6> kControlNames{{{ControlKind::kJob, "JOB"},
                                               {ControlKind::kReady, "READY"},
                                               {ControlKind::kGo, "GO"},
                                               {ControlKind::kResult, "RESULT"},
                                               {ControlKind::kError, "ERROR"},
                                               {ControlKind::kGone, "GONE"}}};

template <class E, size_t N>
E value_of(const Names<E, N>& names, std::string_view s, std::string_view what) {
  if (const auto v = find_value(names, s)) return *v;
  throw ProtocolError(fmt::format("unknown {} '{}'", what, s));
}

nlohmann::json parse_json(std::string_view text, std::string_view what) {
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw ProtocolError(fmt::format("{} is not valid JSON: {}", what, e.what()));
  }
}

// Reads field `key` of object `j` as T, naming the field when it is missing or of the wrong type.
template <class T>
T field(const nlohmann::json& j, const char* key, std::string_view what) {
  try {
    return j.at(key).get<T>();
  } catch (const nlohmann::json::exception&) {
    throw ProtocolError(fmt::format("{}: field '{}' is missing or not a {}", what, key,
                                    std::is_same_v<T, std::string> ? "string" : "number"));
  }
}

nlohmann::json outcome_to_json(const PeerOutcome& o) {
  return {{"messages", o.messages},
          {"bytes", o.bytes},
          {"elapsed_ns", o.elapsed_ns},
          {"verified", o.verified},
          {"lost", o.lost},
          {"max_lag_ns", o.max_lag_ns},
          {"sample_every", o.sample_every},
          {"refused", o.refused},
          {"cpu_user_ns", o.cpu_user_ns},
          {"cpu_sys_ns", o.cpu_sys_ns},
          {"ctx_voluntary", o.ctx_voluntary},
          {"ctx_involuntary", o.ctx_involuntary},
          {"latency", histogram_to_json(o.latency)}};
}

PeerOutcome outcome_from_json(const nlohmann::json& j) {
  constexpr std::string_view kWhat = "result";
  if (!j.is_object()) throw ProtocolError("result: an outcome is not a JSON object");
  PeerOutcome o;
  o.messages = field<uint64_t>(j, "messages", kWhat);
  o.bytes = field<uint64_t>(j, "bytes", kWhat);
  o.elapsed_ns = field<int64_t>(j, "elapsed_ns", kWhat);
  o.verified = field<uint64_t>(j, "verified", kWhat);
  o.lost = field<uint64_t>(j, "lost", kWhat);
  o.max_lag_ns = field<int64_t>(j, "max_lag_ns", kWhat);
  o.sample_every = field<uint32_t>(j, "sample_every", kWhat);
  o.refused = field<uint64_t>(j, "refused", kWhat);
  o.cpu_user_ns = field<int64_t>(j, "cpu_user_ns", kWhat);
  o.cpu_sys_ns = field<int64_t>(j, "cpu_sys_ns", kWhat);
  o.ctx_voluntary = field<int64_t>(j, "ctx_voluntary", kWhat);
  o.ctx_involuntary = field<int64_t>(j, "ctx_involuntary", kWhat);
  if (!j.contains("latency")) throw ProtocolError("result: field 'latency' is missing");
  o.latency = histogram_from_json(j.at("latency"));
  return o;
}

}  // namespace

std::string_view to_string(Workload w) { return name_of(kWorkloadNames, w); }
std::string_view to_string(PeerRole r) { return name_of(kRoleNames, r); }
std::string_view to_string(ControlKind k) { return name_of(kControlNames, k); }

std::string encode_job(const PeerJob& job) {
  nlohmann::json params = nlohmann::json::object();
  for (const auto& [k, v] : job.options.params) params[k] = v;
  const nlohmann::json j = {
      {"peer", to_string(job.peer)},
      {"role", std::string(to_string(job.role))},
      {"part", job.part},
      {"spec", job.spec},
      {"capacity", job.options.capacity},
      {"wait", std::string(to_string(job.options.wait))},
      {"max_message", job.options.max_message},
      {"params", params},
      {"workload", to_string(job.workload)},
      {"size", job.size},
      {"warmup", job.warmup},
      {"messages", job.messages},
      {"duration_ns", job.duration_ns},
      {"sample_every", job.sample_every},
      {"sample_auto", job.sample_auto},
      {"rate", job.rate},
      {"min_time_ns", job.min_time_ns},
      {"inject_delay_ns", job.inject_delay_ns},
      {"inject_stall_ns", job.inject_stall_ns},
      {"cpu_a", job.cpu_a},
      {"cpu_b", job.cpu_b},
      {"worker", job.worker},
      {"workers", job.workers},
      {"rank", job.rank},
  };
  return j.dump();
}

PeerJob decode_job(std::string_view text) {
  constexpr std::string_view kWhat = "job";
  const nlohmann::json j = parse_json(text, kWhat);
  if (!j.is_object()) throw ProtocolError("job: not a JSON object");
  PeerJob job;
  job.peer = value_of(kRoleNames, field<std::string>(j, "peer", kWhat), "peer role");
  const auto role = field<std::string>(j, "role", kWhat);
  if (role != "A" && role != "B") throw ProtocolError(fmt::format("job: unknown role '{}'", role));
  job.role = role == "A" ? Role::kA : Role::kB;
  job.part = field<std::string>(j, "part", kWhat);
  job.spec = field<std::string>(j, "spec", kWhat);
  job.options.capacity = field<size_t>(j, "capacity", kWhat);
  try {
    job.options.wait = parse_wait(field<std::string>(j, "wait", kWhat));
  } catch (const UsageError& e) {
    throw ProtocolError(fmt::format("job: {}", e.what()));
  }
  job.options.max_message = field<size_t>(j, "max_message", kWhat);
  if (!j.contains("params") || !j.at("params").is_object()) {
    throw ProtocolError("job: field 'params' is missing or not an object");
  }
  for (const auto& [k, v] : j.at("params").items()) {
    if (!v.is_string()) throw ProtocolError(fmt::format("job: param '{}' is not a string", k));
    job.options.params[k] = v.get<std::string>();
  }
  job.workload = value_of(kWorkloadNames, field<std::string>(j, "workload", kWhat), "workload");
  job.size = field<size_t>(j, "size", kWhat);
  job.warmup = field<uint64_t>(j, "warmup", kWhat);
  job.messages = field<uint64_t>(j, "messages", kWhat);
  job.duration_ns = field<int64_t>(j, "duration_ns", kWhat);
  job.sample_every = field<uint32_t>(j, "sample_every", kWhat);
  if (!j.contains("sample_auto") || !j.at("sample_auto").is_boolean()) {
    throw ProtocolError("job: field 'sample_auto' is missing or not a boolean");
  }
  job.sample_auto = j.at("sample_auto").get<bool>();
  job.rate = field<uint64_t>(j, "rate", kWhat);
  job.min_time_ns = field<int64_t>(j, "min_time_ns", kWhat);
  job.inject_delay_ns = field<int64_t>(j, "inject_delay_ns", kWhat);
  job.inject_stall_ns = field<int64_t>(j, "inject_stall_ns", kWhat);
  job.cpu_a = field<int>(j, "cpu_a", kWhat);
  job.cpu_b = field<int>(j, "cpu_b", kWhat);
  job.worker = field<uint32_t>(j, "worker", kWhat);
  job.workers = field<uint32_t>(j, "workers", kWhat);
  job.rank = field<int>(j, "rank", kWhat);
  return job;
}

std::string encode_result(const std::vector<PeerOutcome>& outcomes) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& o : outcomes) a.push_back(outcome_to_json(o));
  return nlohmann::json{{"outcomes", a}}.dump();
}

std::vector<PeerOutcome> decode_result(std::string_view text) {
  const nlohmann::json j = parse_json(text, "result");
  if (!j.is_object() || !j.contains("outcomes") || !j.at("outcomes").is_array() ||
      j.at("outcomes").empty()) {
    throw ProtocolError("result: expected {\"outcomes\": [...]} with at least one outcome");
  }
  std::vector<PeerOutcome> out;
  for (const auto& o : j.at("outcomes")) out.push_back(outcome_from_json(o));
  return out;
}

nlohmann::json histogram_to_json(const Histogram& h) {
  nlohmann::json buckets = nlohmann::json::array();
  for (const auto& b : h.buckets()) buckets.push_back({b.lo, b.count});
  return {{"digits", h.significant_digits()},
          {"count", h.count()},
          {"min", h.min()},
          {"max", h.max()},
          {"sum", h.sum()},
          {"buckets", buckets}};
}

Histogram histogram_from_json(const nlohmann::json& j) {
  try {
    Histogram h(j.at("digits").get<int>());
    for (const auto& b : j.at("buckets"))
      h.add_bucket(b.at(0).get<uint64_t>(), b.at(1).get<uint64_t>());
    h.restore_extremes(j.at("min").get<uint64_t>(), j.at("max").get<uint64_t>(),
                       j.at("sum").get<double>());
    return h;
  } catch (const std::exception& e) {
    throw ProtocolError(fmt::format("result: bad latency histogram: {}", e.what()));
  }
}

std::string encode_control(const ControlMessage& m) {
  std::string s(to_string(m.kind));
  if (!m.body.empty()) {
    s += ' ';
    s += m.body;
    for (size_t i = s.size() - m.body.size(); i < s.size(); ++i) {
      if (s[i] == '\n' || s[i] == '\r') s[i] = ' ';
    }
  }
  s += '\n';
  return s;
}

ControlMessage decode_control(std::string_view line) {
  const size_t space = line.find(' ');
  const std::string_view kind = line.substr(0, space);
  const std::string_view body = space == std::string_view::npos ? "" : line.substr(space + 1);
  ControlMessage m;
  bool known = false;
  for (const auto& [v, n] : kControlNames) {
    if (n == kind) {
      m.kind = v;
      known = true;
    }
  }
  // Show at most 80 characters of a bad line: it may be a whole stray JSON document.
  const std::string shown =
      line.size() > 80 ? std::string(line.substr(0, 80)) + "..." : std::string(line);
  if (!known) throw ProtocolError(fmt::format("unexpected control message '{}'", shown));
  const bool wants_body = m.kind != ControlKind::kReady && m.kind != ControlKind::kGo;
  if (wants_body && body.empty()) {
    throw ProtocolError(
        fmt::format("truncated control message '{}': {} needs a body", shown, kind));
  }
  if (!wants_body && space != std::string_view::npos) {
    throw ProtocolError(
        fmt::format("unexpected control message '{}': {} has no body", shown, kind));
  }
  m.body = std::string(body);
  return m;
}

void LineBuffer::feed(std::string_view bytes) { buf_.append(bytes); }

bool LineBuffer::next(std::string& line) {
  const size_t nl = buf_.find('\n');
  if (nl == std::string::npos) {
    if (buf_.size() > kMaxLine) {
      throw ProtocolError(fmt::format("control line longer than {} bytes", kMaxLine));
    }
    return false;
  }
  line.assign(buf_, 0, nl);
  buf_.erase(0, nl + 1);
  return true;
}

void send_control(int fd, const ControlMessage& m) {
  const std::string s = encode_control(m);
  write_full(fd, s.data(), s.size(), "control socket");
}

ControlMessage receive_control(int fd) {
  std::string line;
  char c = 0;
  for (;;) {
    if (!read_full(fd, &c, 1, "control socket")) {
      throw ProtocolError(line.empty() ? "the control socket closed before a message"
                                       : fmt::format("truncated control message '{}'", line));
    }
    if (c == '\n') break;
    line += c;
    if (line.size() > LineBuffer::kMaxLine) throw ProtocolError("control line too long");
  }
  return decode_control(line);
}

}  // namespace ipcperf
