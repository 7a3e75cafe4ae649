// The peer protocol's codec (protocol.hpp): every field survives encode -> decode, and a
// malformed or truncated control line or job is a ProtocolError naming what is wrong, never a
// crash. And the launcher's choice of the peer to blame (launcher.hpp).
#include "protocol.hpp"

#include <string>
#include <tuple>

#include <gtest/gtest.h>

#include "launcher.hpp"

namespace ipcperf {
namespace {

PeerJob full_job() {
  PeerJob j;
  j.peer = PeerRole::kWorker;
  j.role = Role::kB;
  j.part = "tcp";
  j.spec = "7:40123";
  j.options.capacity = 65536;
  j.options.wait = Wait::kYield;
  j.options.max_message = 4096;
  j.options.params["tcp-nodelay"] = "0";
  j.workload = Workload::kPaced;
  j.size = 4096;
  j.warmup = 17;
  j.messages = 123456789012ULL;
  j.duration_ns = 987654321;
  j.sample_every = 8;
  j.sample_auto = true;
  j.rate = 100000;
  j.min_time_ns = 5'000'000;
  j.inject_delay_ns = 20'000;
  j.inject_stall_ns = 3'000'000;
  j.cpu_a = 3;
  j.cpu_b = 5;
  j.worker = 2;
  j.workers = 4;
  j.rank = 1;
  return j;
}

TEST(Protocol, EveryJobFieldSurvivesEncodeDecode) {
  const PeerJob j = full_job();
  const PeerJob d = decode_job(encode_job(j));
  EXPECT_EQ(d.peer, j.peer);
  EXPECT_EQ(d.role, j.role);
  EXPECT_EQ(d.part, j.part);
  EXPECT_EQ(d.spec, j.spec);
  EXPECT_EQ(d.options.capacity, j.options.capacity);
  EXPECT_EQ(d.options.wait, j.options.wait);
  EXPECT_EQ(d.options.max_message, j.options.max_message);
  EXPECT_EQ(d.options.params, j.options.params);
  EXPECT_EQ(d.workload, j.workload);
  EXPECT_EQ(d.size, j.size);
  EXPECT_EQ(d.warmup, j.warmup);
  EXPECT_EQ(d.messages, j.messages);
  EXPECT_EQ(d.duration_ns, j.duration_ns);
  EXPECT_EQ(d.sample_every, j.sample_every);
  EXPECT_EQ(d.sample_auto, j.sample_auto);
  EXPECT_EQ(d.rate, j.rate);
  EXPECT_EQ(d.min_time_ns, j.min_time_ns);
  EXPECT_EQ(d.inject_delay_ns, j.inject_delay_ns);
  EXPECT_EQ(d.inject_stall_ns, j.inject_stall_ns);
  EXPECT_EQ(d.cpu_a, j.cpu_a);
  EXPECT_EQ(d.cpu_b, j.cpu_b);
  EXPECT_EQ(d.worker, j.worker);
  EXPECT_EQ(d.workers, j.workers);
  EXPECT_EQ(d.rank, j.rank);
  // And the encoding is stable: encode(decode(x)) == x.
  EXPECT_EQ(encode_job(d), encode_job(j));
}

TEST(Protocol, EveryRoleAndWorkloadRoundTrips) {
  for (PeerRole r :
       {PeerRole::kA, PeerRole::kB, PeerRole::kAB, PeerRole::kCoordinator, PeerRole::kWorker}) {
    PeerJob j;
    j.peer = r;
    EXPECT_EQ(decode_job(encode_job(j)).peer, r) << to_string(r);
  }
  for (Workload w : {Workload::kPingpong, Workload::kStream, Workload::kPaced}) {
    PeerJob j;
    j.workload = w;
    EXPECT_EQ(decode_job(encode_job(j)).workload, w) << to_string(w);
  }
}

TEST(Protocol, OutcomesSurviveEncodeDecodeWithTheirHistogram) {
  PeerOutcome a;
  a.messages = 1000;
  a.bytes = 64000;
  a.elapsed_ns = 123456;
  a.verified = 2000;
  a.lost = 3;
  a.cpu_user_ns = 11;
  a.cpu_sys_ns = 22;
  a.ctx_voluntary = 33;
  a.ctx_involuntary = 44;
  a.max_lag_ns = 55;
  a.sample_every = 64;
  a.refused = 2;
  for (uint64_t v : {100ULL, 250ULL, 250ULL, 99999ULL, 123456789ULL}) a.latency.record(v);
  PeerOutcome b;
  b.messages = 7;
  const auto d = decode_result(encode_result({a, b}));
  ASSERT_EQ(d.size(), 2U);
  EXPECT_EQ(d[0].messages, a.messages);
  EXPECT_EQ(d[0].bytes, a.bytes);
  EXPECT_EQ(d[0].elapsed_ns, a.elapsed_ns);
  EXPECT_EQ(d[0].verified, a.verified);
  EXPECT_EQ(d[0].lost, a.lost);
  EXPECT_EQ(d[0].cpu_user_ns, a.cpu_user_ns);
  EXPECT_EQ(d[0].cpu_sys_ns, a.cpu_sys_ns);
  EXPECT_EQ(d[0].ctx_voluntary, a.ctx_voluntary);
  EXPECT_EQ(d[0].ctx_involuntary, a.ctx_involuntary);
  EXPECT_EQ(d[0].max_lag_ns, a.max_lag_ns);
  EXPECT_EQ(d[0].sample_every, a.sample_every);
  EXPECT_EQ(d[0].refused, a.refused);
  EXPECT_EQ(d[0].latency.count(), 5U);
  EXPECT_EQ(d[0].latency.min(), a.latency.min());
  EXPECT_EQ(d[0].latency.max(), a.latency.max());
  EXPECT_EQ(d[0].latency.quantile(0.5), a.latency.quantile(0.5));
  EXPECT_EQ(d[1].messages, 7U);
  EXPECT_EQ(d[1].latency.count(), 0U);
}

TEST(Protocol, ControlMessagesRoundTrip) {
  for (const ControlMessage& m :
       {ControlMessage{ControlKind::kJob, "{\"x\":1}"}, ControlMessage{ControlKind::kReady, ""},
        ControlMessage{ControlKind::kGo, ""}, ControlMessage{ControlKind::kResult, "{}"},
        ControlMessage{ControlKind::kError, "peer A: it broke"},
        ControlMessage{ControlKind::kGone, "peer B: peer went away"}}) {
    std::string line = encode_control(m);
    ASSERT_EQ(line.back(), '\n');
    line.pop_back();
    EXPECT_EQ(decode_control(line), m) << line;
  }
}

TEST(Protocol, ANewlineInABodyStaysOneLine) {
  const std::string line = encode_control({ControlKind::kError, "two\nlines\r"});
  EXPECT_EQ(line, "ERROR two lines \n");
}

// decode(text) throws a ProtocolError that says `says`.
template <class Decode>
void expect_decode_error(Decode decode, const std::string& text, const std::string& says) {
  try {
    decode(text);
    ADD_FAILURE() << "no error for '" << text << "'";
  } catch (const ProtocolError& e) {
    EXPECT_NE(std::string(e.what()).find(says), std::string::npos) << e.what();
  }
}

void expect_protocol_error(const std::string& line, const std::string& says) {
  expect_decode_error([](const std::string& t) { (void)decode_control(t); }, line, says);
}

TEST(Protocol, MalformedControlLinesAreClearErrors) {
  expect_protocol_error("", "unexpected control message");
  expect_protocol_error("HELLO", "unexpected control message 'HELLO'");
  expect_protocol_error("ready", "unexpected control message");
  expect_protocol_error("RESULT", "truncated control message 'RESULT'");
  expect_protocol_error("RESULT ", "truncated");
  expect_protocol_error("ERROR", "needs a body");
  expect_protocol_error("GO now", "GO has no body");
  expect_protocol_error(std::string(500, 'x'), "...");  // a long line is shown shortened
}

void expect_job_error(const std::string& text, const std::string& says) {
  expect_decode_error([](const std::string& t) { (void)decode_job(t); }, text, says);
}

TEST(Protocol, MalformedOrTruncatedJobsAreClearErrors) {
  const std::string good = encode_job(full_job());
  expect_job_error(good.substr(0, good.size() / 2), "not valid JSON");
  expect_job_error("[]", "not a JSON object");
  expect_job_error("{}", "field 'peer'");
  // The good job with one field changed (a null value: removed) says what is wrong with it.
  const std::vector<std::tuple<std::string, nlohmann::json, std::string>> broken = {
      {"size", nullptr, "field 'size' is missing"},
      {"size", "big", "field 'size'"},
      {"peer", "C", "unknown peer role 'C'"},
      {"workload", "farm2", "unknown workload 'farm2'"},
      {"wait", "nap", "nap"},
      {"params", {{"tcp-nodelay", 0}}, "param 'tcp-nodelay' is not a string"},
  };
  for (const auto& [key, value, says] : broken) {
    nlohmann::json j = nlohmann::json::parse(good);
    if (value.is_null()) {
      j.erase(key);
    } else {
      j[key] = value;
    }
    expect_job_error(j.dump(), says);
  }
}

TEST(Protocol, MalformedResultsAreClearErrors) {
  EXPECT_THROW(decode_result("{\"outcomes\": []}"), ProtocolError);
  EXPECT_THROW(decode_result("{\"outcomes\": [{}]}"), ProtocolError);
  EXPECT_THROW(decode_result("{\"outcomes\""), ProtocolError);
  nlohmann::json j = nlohmann::json::parse(encode_result({PeerOutcome{}}));
  j["outcomes"][0]["latency"] = {{"digits", 9}};
  EXPECT_THROW(decode_result(j.dump()), ProtocolError);
}

TEST(Protocol, LineBufferSplitsAStreamIntoLines) {
  LineBuffer b;
  std::string line;
  b.feed("REA");
  EXPECT_FALSE(b.next(line));
  b.feed("DY\nRESULT {}\nGO");
  ASSERT_TRUE(b.next(line));
  EXPECT_EQ(line, "READY");
  ASSERT_TRUE(b.next(line));
  EXPECT_EQ(line, "RESULT {}");
  EXPECT_FALSE(b.next(line));
  b.feed("\n");
  ASSERT_TRUE(b.next(line));
  EXPECT_EQ(line, "GO");
}

// ---- the launcher's culprit ----------------------------------------------------------------

PeerState running() { return {true, false, false, false, false}; }
PeerState died() { return {true, false, false, false, true}; }
PeerState errored() { return {true, false, true, false, false}; }
PeerState saw_gone() { return {true, false, true, true, false}; }
PeerState finished() { return {true, true, false, false, true}; }

TEST(Launcher, NobodyToBlameWhileAllRunOrFinished) {
  EXPECT_EQ(pick_culprit({running(), running()}), -1);
  EXPECT_EQ(pick_culprit({finished(), running()}), -1);
  EXPECT_EQ(pick_culprit({finished(), finished()}), -1);
  EXPECT_EQ(pick_culprit({}), -1);
}

TEST(Launcher, APeerThatDiedIsBlamedBeforeOneThatSawItGo) {
  // Its GONE and the other's death can arrive in the same poll round.
  EXPECT_EQ(pick_culprit({saw_gone(), died()}), 1);
  EXPECT_EQ(pick_culprit({died(), saw_gone()}), 0);
  EXPECT_EQ(pick_culprit({errored(), died()}), 1);
}

TEST(Launcher, APeerThatFailedOnItsOwnIsBlamedBeforeOneThatSawItGo) {
  EXPECT_EQ(pick_culprit({saw_gone(), errored()}), 1);
  EXPECT_EQ(pick_culprit({errored(), saw_gone()}), 0);
  EXPECT_EQ(pick_culprit({saw_gone(), running()}), 0);  // all we know so far
}

TEST(Launcher, TiesGoToTheFirstAndUnstartedPeersAreNeverBlamed) {
  EXPECT_EQ(pick_culprit({errored(), errored()}), 0);
  PeerState unstarted = died();
  unstarted.started = false;
  EXPECT_EQ(pick_culprit({unstarted, saw_gone()}), 1);
  EXPECT_EQ(pick_culprit({finished(), died(), errored()}), 1);
}

TEST(Launcher, FirstFailureSkipsSecondaryReports) {
  std::vector<PeerReport> r(3);
  r[0].outcomes.resize(1);
  r[1].error = "stopped because peer C failed";
  r[1].secondary = true;
  r[2].error = "peer C: boom";
  ASSERT_NE(first_failure(r), nullptr);
  EXPECT_EQ(first_failure(r)->error, "peer C: boom");
  r[2].error.clear();
  r[2].outcomes.resize(1);
  EXPECT_EQ(first_failure(r)->error, "stopped because peer C failed");
  r[1].error.clear();
  EXPECT_EQ(first_failure(r), nullptr);
}

}  // namespace
}  // namespace ipcperf
