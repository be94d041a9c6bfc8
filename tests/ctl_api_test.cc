// The API codec (src/ctl/api.h): for every decoder, tables of bodies it
// accepts and bodies it refuses (with the field path and a part of the
// message each refusal must carry); encode/decode round trips; the parser's
// own refusals (duplicate keys, deep nesting, floats and overflow where
// integers belong, invalid UTF-8); query parameters; the error's JSON.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ctl/api.h"
#include "ctl/openapi.h"

namespace rackscale::ctl {
namespace {

struct Reject {
  std::string body;
  std::string field;    // the error's field, exactly
  std::string message;  // a part of the error's message
};

// Runs `decode` over accepted and refused bodies; a refusal is 400
// invalid_argument with the table's field and message part.
template <typename T>
void CheckTable(const std::function<Decoded<T>(std::string_view)>& decode, const std::vector<std::string>& accepts,
                const std::vector<Reject>& rejects) {
  for (const auto& body : accepts) {
    auto d = decode(body);
    EXPECT_TRUE(d.ok()) << body << "\n  -> " << d.error.ToJson();
  }
  for (const auto& r : rejects) {
    auto d = decode(r.body);
    if (d.ok()) {
      ADD_FAILURE() << "accepted: " << r.body;
      continue;
    }
    EXPECT_EQ(d.error.status, 400) << r.body;
    EXPECT_EQ(d.error.code, "invalid_argument") << r.body;
    EXPECT_EQ(d.error.field, r.field) << r.body << "\n  -> " << d.error.ToJson();
    EXPECT_NE(d.error.message.find(r.message), std::string::npos)
        << r.body << "\n  -> " << d.error.message << "\n  wanted: " << r.message;
  }
}

// A job body: `extra` members added to a valid minimal job ({"gpus": 8, "time_limit_s": 60}).
std::string Job(const std::string& extra) {
  return R"({"gpus": 8, "time_limit_s": 60)" + (extra.empty() ? std::string() : ", " + extra) + "}";
}

std::string Repeat(const std::string& s, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out += s;
  return out;
}

TEST(CtlApiJobSubmit, AcceptsAndRefuses) {
  const std::string max_limit = std::to_string(kMaxTimeLimitS);
  std::vector<std::string> accepts = {
      Job(""),
      R"({"cpus": 4, "time_limit_s": 1})",
      R"({"gpus": 0, "cpus": 4, "time_limit_s": 1})",
      // docs/api.md's example.
      R"({"name": "pretrain-7b", "tenant": "t0", "gpus": 16, "cpus": 0, "nodes": 2, "topology": "domain",
          "gpu_model": "H100", "priority": 0, "preemptible": false, "time_limit_s": 3600, "checkpoint_s": 600,
          "on_node_lost": "requeue", "command": ["python", "train.py"], "env": {"EPOCHS": "3"},
          "duration_s": 120, "request_id": "client-chosen-id"})",
      // Optional strings may be "".
      Job(R"("name": "", "tenant": "", "gpu_model": "", "request_id": "")"),
      R"({"gpus": 1048576, "nodes": 65536, "time_limit_s": 1})",
      Job(R"("priority": -1000000, "preemptible": true)"),
      Job(R"("priority": 1000000)"),
      R"({"gpus": 1, "time_limit_s": )" + max_limit + R"(, "checkpoint_s": )" + max_limit + R"(, "duration_s": )" +
          max_limit + "}",
      Job(R"("topology": "multi-site", "on_node_lost": "fail")"),
      Job(R"("command": [], "env": {}, "priority": -0)"),
      Job(R"("name": "日本語 run \"quoted\"", "command": ["sh", "-c", "echo a\nb\tc"], "env": {"_X1": "é\u0001"})"),
      Job(R"("request_id": " !~az")"),
      Job(R"("command": [)" + Repeat(R"("x",)", 255) + R"("x"])"),
      Job(R"("command": [")" + std::string(kMaxArgBytes, 'a') + R"("])"),
      Job(R"("name": ")" + std::string(kMaxNameBytes, 'n') + R"(")"),
      "\xef\xbb\xbf" + Job(""),  // a UTF-8 byte order mark
      " \n\t" + Job("") + "\r\n",
  };
  std::vector<Reject> rejects = {
      // Not a JSON object.
      {"", "", "invalid JSON"},
      {"null", "", "the body must be a JSON object, not null"},
      {"[]", "", "the body must be a JSON object, not array"},
      {"42", "", "the body must be a JSON object"},
      {R"("job")", "", "the body must be a JSON object"},
      {Job("") + " x", "", "invalid JSON"},
      {Job("") + Job(""), "", "invalid JSON"},
      {R"({"gpus": 8, /* c */ "time_limit_s": 60})", "", "invalid JSON"},
      {R"({"gpus": 8, "time_limit_s": 60,})", "", "invalid JSON"},
      {R"({'gpus': 8})", "", "invalid JSON"},
      // Unknown fields, named.
      {Job(R"("gpu": 1)"), "gpu", "unknown field 'gpu'"},
      {Job(R"("Gpus": 1)"), "Gpus", "unknown field"},
      {Job(R"("a\u0000b": 1)"), "a\\x00b", "unknown field 'a\\x00b'"},
      // Duplicate keys (nlohmann would keep the last silently).
      {R"({"gpus": 8, "time_limit_s": 60, "gpus": 1})", "gpus", "duplicate key 'gpus'"},
      {Job(R"("env": {"A": "1", "B": "2", "A": "3"})"), "env.A", "duplicate key 'A'"},
      // Integers: JSON integers in range; 3.0 and 1e3 are not integers.
      {R"({"gpus": 3.0, "time_limit_s": 60})", "gpus", "must be an integer in 0..1048576"},
      {R"({"gpus": 1e3, "time_limit_s": 60})", "gpus", "no fraction, no exponent"},
      {R"({"gpus": 1E1, "time_limit_s": 60})", "gpus", "must be an integer"},
      {R"({"gpus": 1.5, "time_limit_s": 60})", "gpus", "must be an integer"},
      {R"({"gpus": "8", "time_limit_s": 60})", "gpus", "must be an integer in 0..1048576, not string"},
      {R"({"gpus": true, "time_limit_s": 60})", "gpus", "not boolean"},
      {R"({"gpus": null, "time_limit_s": 60})", "gpus", "not null"},
      {R"({"gpus": -1, "time_limit_s": 60})", "gpus", "out of range: -1 (must be 0..1048576)"},
      {R"({"gpus": 1048577, "time_limit_s": 60})", "gpus", "out of range: 1048577 (must be 0..1048576)"},
      {R"({"gpus": 9223372036854775807, "time_limit_s": 60})", "gpus", "(must be 0..1048576)"},
      {R"({"gpus": 9223372036854775808, "time_limit_s": 60})", "gpus",
       "out of range: 9223372036854775808 (must be 0..1048576)"},
      {R"({"gpus": 18446744073709551616, "time_limit_s": 60})", "gpus", "out of range"},
      {R"({"gpus": -9223372036854775809, "time_limit_s": 60})", "gpus", "out of range"},
      {R"({"gpus": 1, "time_limit_s": 1e999})", "time_limit_s", "invalid JSON"},
      {R"({"gpus": 08, "time_limit_s": 60})", "", "invalid JSON"},  // "0" was read; "8" is out of place
      {R"({"gpus": +8, "time_limit_s": 60})", "gpus", "invalid JSON"},
      {R"({"gpus": 8})", "time_limit_s", "required"},
      {R"({"gpus": 8, "time_limit_s": 0})", "time_limit_s", "(must be 1..315360000)"},
      {R"({"gpus": 8, "time_limit_s": 315360001})", "time_limit_s", "(must be 1..315360000)"},
      {R"({"gpus": 8, "time_limit_s": 60.0})", "time_limit_s", "must be an integer"},
      {Job(R"("checkpoint_s": -1)"), "checkpoint_s", "must be 0..315360000"},
      {Job(R"("duration_s": 315360001)"), "duration_s", "must be 0..315360000"},
      {Job(R"("priority": 1000001)"), "priority", "must be -1000000..1000000"},
      {Job(R"("priority": -1000001)"), "priority", "must be -1000000..1000000"},
      {Job(R"("nodes": 65537)"), "nodes", "must be 0..65536"},
      {Job(R"("cpus": 1048577)"), "cpus", "must be 0..1048576"},
      // gpus, cpus and nodes together.
      {R"({"time_limit_s": 60})", "gpus", "or 0 with cpus > 0"},
      {R"({"gpus": 0, "time_limit_s": 60})", "gpus", "or 0 with cpus > 0"},
      {Job(R"("cpus": 4)"), "cpus", "must be 0 when gpus > 0"},
      {R"({"gpus": 16, "nodes": 3, "time_limit_s": 60})", "nodes", "must divide gpus"},
      {R"({"gpus": 2, "nodes": 4, "time_limit_s": 60})", "nodes", "must divide gpus"},
      {R"({"cpus": 4, "nodes": 1, "time_limit_s": 60})", "nodes", "must divide gpus"},
      // Enums and booleans.
      {Job(R"("topology": "ring")"), "topology", "must be one of any | block | domain | node | multi-site"},
      {Job(R"("topology": "ANY")"), "topology", "not 'ANY'"},
      {Job(R"("topology": 1)"), "topology", "not number"},
      {Job(R"("on_node_lost": "retry")"), "on_node_lost", "requeue | fail"},
      {Job(R"("preemptible": "yes")"), "preemptible", "must be true or false"},
      {Job(R"("preemptible": 1)"), "preemptible", "must be true or false"},
      // Names and text.
      {Job(R"("tenant": "bad name")"), "tenant", "must be a name"},
      {Job(R"("tenant": "-t0")"), "tenant", "must be a name"},
      {Job(R"("tenant": "t\u00e9")"), "tenant", "must be a name"},
      {Job(R"("tenant": ")" + std::string(kMaxNameBytes + 1, 't') + R"(")"), "tenant", "must be a name"},
      {Job(R"("gpu_model": "H100 SXM")"), "gpu_model", "must be a name"},
      {Job(R"("tenant": 7)"), "tenant", "must be a string, not number"},
      {Job(R"("name": ")" + std::string(kMaxNameBytes + 1, 'n') + R"(")"), "name", "too long: 129 bytes (at most 128)"},
      {Job(R"("name": "a\nb")"), "name", "contains a control character at byte 1"},
      {Job(R"("name": "a\u007fb")"), "name", "control character"},
      {Job(R"("name": "a\u0085b")"), "name", "control character"},
      {Job("\"name\": \"a\xff\""), "name", "invalid JSON"},
      {Job("\"name\": \"\xc0\xaf\""), "name", "invalid JSON"},         // overlong '/'
      {Job("\"name\": \"\xed\xa0\x80\""), "name", "invalid JSON"},     // a surrogate's UTF-8
      {Job(R"("name": "\ud800")"), "name", "invalid JSON"},            // unpaired surrogate escape
      {Job("\"name\": \"a\tb\""), "name", "invalid JSON"},             // raw control character
      {Job(R"("request_id": "caf\u00e9")"), "request_id", "non-printable byte at byte 3"},
      {Job(R"("request_id": "a\tb")"), "request_id", "non-printable"},
      {Job(R"("request_id": ")" + std::string(kMaxNameBytes + 1, 'r') + R"(")"), "request_id", "too long"},
      // command.
      {Job(R"("command": "python train.py")"), "command", "must be an array, not string"},
      {Job(R"("command": ["a", "b", 3])"), "command[2]", "must be a string, not number"},
      {Job(R"("command": ["a", "b\u0000"])"), "command[1]", "contains a NUL byte at byte 1"},
      {Job(R"("command": [)" + Repeat(R"("x",)", 256) + R"("x"])"), "command", "must have 0..256 entries, not 257"},
      {Job(R"("command": [")" + std::string(kMaxArgBytes + 1, 'a') + R"("])"), "command[0]", "too long: 4097"},
      // env.
      {Job(R"("env": ["A=1"])"), "env", "must be an object, not array"},
      {Job(R"("env": {"PATH": 1})"), "env.PATH", "must be a string, not number"},
      {Job(R"("env": {"PATH": "/bin\u0000"})"), "env.PATH", "NUL byte"},
      {Job(R"("env": {"1X": "a"})"), "env.1X", "env name must match"},
      {Job(R"("env": {"A-B": "a"})"), "env.A-B", "env name must match"},
      {Job(R"("env": {"": "a"})"), "env.", "env name must match"},
      {Job(R"("env": {"A": ")" + std::string(kMaxEnvValueBytes + 1, 'v') + R"("})"), "env.A", "too long"},
      {Job(R"("env": {")" + std::string(kMaxNameBytes + 1, 'E') + R"(": ""})"), "env." + std::string(64, 'E') + "...",
       "at most 128 bytes"},
  };
  // 257 env entries: refused while parsing (no object has more than kMaxEnv members).
  std::string env;
  for (size_t i = 0; i <= kMaxEnv; ++i) env += (i ? ", \"V" : "\"V") + std::to_string(i) + "\": \"x\"";
  rejects.push_back({Job(R"("env": {)" + env + "}"), "env", "more than 256 members"});
  CheckTable<JobSubmit>(DecodeJobSubmit, accepts, rejects);
}

TEST(CtlApiJobSubmit, DecodesEveryField) {
  auto d = DecodeJobSubmit(
      R"({"name": "pretrain-7b", "tenant": "t0", "gpus": 16, "nodes": 2, "topology": "domain", "gpu_model": "H100",
          "priority": -5, "preemptible": true, "time_limit_s": 3600, "checkpoint_s": 600, "on_node_lost": "requeue",
          "command": ["python", "train.py"], "env": {"EPOCHS": "3", "A": ""}, "duration_s": 120,
          "request_id": "r-1"})");
  ASSERT_TRUE(d.ok()) << d.error.ToJson();
  const JobSubmit& s = *d.value;
  EXPECT_EQ(s.name, "pretrain-7b");
  EXPECT_EQ(s.tenant, "t0");
  EXPECT_EQ(s.gpus, 16);
  EXPECT_EQ(s.cpus, 0);
  EXPECT_EQ(s.nodes, 2);
  EXPECT_EQ(s.topology, "domain");
  EXPECT_EQ(s.gpu_model, "H100");
  EXPECT_EQ(s.priority, -5);
  EXPECT_TRUE(s.preemptible);
  EXPECT_EQ(s.time_limit_s, 3600);
  EXPECT_EQ(s.checkpoint_s, 600);
  EXPECT_EQ(s.on_node_lost, OnNodeLost::kRequeue);
  EXPECT_EQ(s.command, (std::vector<std::string>{"python", "train.py"}));
  EXPECT_EQ(s.env, (std::map<std::string, std::string>{{"A", ""}, {"EPOCHS", "3"}}));
  EXPECT_EQ(s.duration_s, 120);
  EXPECT_EQ(s.request_id, "r-1");

  auto defaults = DecodeJobSubmit(Job(""));
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults.value->topology, "any");
  EXPECT_EQ(defaults.value->on_node_lost, OnNodeLost::kDefault);
  EXPECT_EQ(DecodeJobSubmit(Job(R"("on_node_lost": "fail")")).value->on_node_lost, OnNodeLost::kFail);
}

TEST(CtlApiJobSubmit, RoundTrips) {
  for (const std::string& body : std::vector<std::string>{
           Job(""),
           R"({"cpus": 3, "time_limit_s": 7})",
           Job(R"("on_node_lost": "fail", "priority": -1000000, "checkpoint_s": 315360000)"),
           Job(R"("on_node_lost": "requeue", "nodes": 8, "topology": "block", "preemptible": true)"),
           Job(R"("name": "ünïcode \"q\" \\ /", "tenant": "t.0_x-y", "gpu_model": "GB200", "request_id": "~ id ~")"),
           Job(R"("command": ["sh", "-c", "printf 'a\nb'", ""],)"
               R"("env": {"Z": "\u0001", "_": "\ud83d\ude00", "a1": ""})"),
       }) {
    auto a = DecodeJobSubmit(body);
    ASSERT_TRUE(a.ok()) << body << " -> " << a.error.ToJson();
    std::string encoded = EncodeJobSubmit(*a.value);
    auto b = DecodeJobSubmit(encoded);
    ASSERT_TRUE(b.ok()) << encoded << " -> " << b.error.ToJson();
    EXPECT_EQ(*a.value, *b.value) << encoded;
    EXPECT_EQ(EncodeJobSubmit(*b.value), encoded);
  }
}

TEST(CtlApiParser, DeepNestingIsRefusedWhileParsing) {
  // 1 MiB of '[' would build a million nested arrays; the parser stops at depth 33.
  auto d = DecodeJobSubmit(std::string(kMaxBodyBytes, '['));
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.error.message.find("nested deeper than 32 levels"), std::string::npos) << d.error.message;
  EXPECT_EQ(d.error.field, Repeat("[0]", 32));

  std::string objects;
  for (int i = 0; i < 100000; ++i) objects += R"({"a":)";
  d = DecodeJobSubmit(objects);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.error.message.find("nested deeper"), std::string::npos);
  EXPECT_EQ(d.error.field, Repeat("a.", 31) + "a");

  // 32 levels are parsed (and refused by the decoder for their shape, not their depth).
  std::string deep = Job(R"("env": )" + std::string(31, '[') + std::string(31, ']'));
  d = DecodeJobSubmit(deep);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error.field, "env");
  EXPECT_NE(d.error.message.find("must be an object"), std::string::npos);
  d = DecodeJobSubmit(Job(R"("env": )" + std::string(32, '[') + std::string(32, ']')));
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.error.message.find("nested deeper"), std::string::npos);
}

TEST(CtlApiParser, OversizedArraysAreRefusedWhileParsing) {
  std::string ones = "[" + Repeat("1,", kMaxBatch) + "1]";
  auto d = DecodeAgentHeartbeat(R"({"nodes": )" + ones + "}");
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error.field, "nodes");
  EXPECT_NE(d.error.message.find("more than 10000 entries"), std::string::npos) << d.error.message;
  d = DecodeAgentHeartbeat(R"({"x": [[], )" + ones + "]}");
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error.field, "x[1]");
}

TEST(CtlApiParser, ErrorsPointAtTheValueBeingRead) {
  struct Case {
    std::string body, field;
  };
  for (const Case& c : std::vector<Case>{
           {R"({"env": {"A": "x)", "env.A"},
           {R"({"command": ["a", tru]})", "command[1]"},
           {"{\"reports\": [{\"log\": \"\xfe\"}]}", "reports[0].log"},
           {"{\"a\": 1, \"\xff\": 2}", ""},
           {R"({"a": 1 "b": 2})", ""},
       }) {
    auto d = DecodeAgentReport(c.body);
    ASSERT_FALSE(d.ok()) << c.body;
    EXPECT_EQ(d.error.field, c.field) << c.body << " -> " << d.error.ToJson();
    EXPECT_NE(d.error.message.find("invalid JSON"), std::string::npos) << d.error.message;
  }
}

TEST(CtlApiTenantPut, AcceptsAndRefuses) {
  CheckTable<TenantPut>(
      DecodeTenantPut,
      {"{}", R"({"weight": 1})", R"({"weight": 0.001, "nominal_gpus": -1, "cohort": "", "borrowing_limit_gpus": -1})",
       R"({"weight": 1e6, "nominal_gpus": 1099511627776, "cohort": "c1", "borrowing_limit_gpus": 0})",
       R"({"weight": 5e-324})"},
      {
          {R"({"weight": 0})", "weight", "must be > 0 and <= 1e6"},
          {R"({"weight": -1.5})", "weight", "must be > 0"},
          {R"({"weight": -0.0})", "weight", "must be > 0"},
          {R"({"weight": 1e-400})", "weight", "must be > 0"},
          {R"({"weight": 1000000.5})", "weight", "<= 1e6"},
          {R"({"weight": 1e999})", "weight", "invalid JSON"},
          {R"({"weight": "1"})", "weight", "must be a number, not string"},
          {R"({"nominal_gpus": -2})", "nominal_gpus", "must be -1..1099511627776"},
          {R"({"nominal_gpus": 1099511627777})", "nominal_gpus", "must be -1..1099511627776"},
          {R"({"nominal_gpus": 8.0})", "nominal_gpus", "must be an integer"},
          {R"({"borrowing_limit_gpus": -3})", "borrowing_limit_gpus", "out of range"},
          {R"({"cohort": "a b"})", "cohort", "must be a name"},
          {R"({"quota": 1})", "quota", "unknown field"},
          {R"({"weight": 1, "weight": 2})", "weight", "duplicate key"},
          {"[1]", "", "must be a JSON object"},
      });
}

TEST(CtlApiTenantPut, RoundTrips) {
  for (double w : {1.0, 0.1, 1.0 / 3, 5e-324, 1e6, 123456.789}) {
    TenantPut t{w, 12, "c.1", 0};
    auto d = DecodeTenantPut(EncodeTenantPut(t));
    ASSERT_TRUE(d.ok()) << EncodeTenantPut(t) << " -> " << d.error.ToJson();
    EXPECT_EQ(*d.value, t) << EncodeTenantPut(t);
  }
}

TEST(CtlApiDedicated, AcceptsAndRefuses) {
  const std::string ok = R"("tenant": "t0", "domain_type": "gb200", "domains": 4, "start": 100, "end": 200)";
  CheckTable<DedicatedPost>(
      DecodeDedicatedPost,
      {"{" + ok + "}", "{" + ok + R"(, "site": "east", "lend": false})", "{" + ok + R"(, "site": ""})"},
      {
          {R"({"domain_type": "gb200", "domains": 4, "start": 100, "end": 200})", "tenant", "required"},
          {R"({"tenant": "", "domain_type": "gb200", "domains": 4, "start": 100, "end": 200})", "tenant",
           "must be a name"},
          {R"({"tenant": "t0", "domains": 4, "start": 100, "end": 200})", "domain_type", "required"},
          {R"({"tenant": "t0", "domain_type": "gb200", "start": 100, "end": 200})", "domains", "required"},
          {R"({"tenant": "t0", "domain_type": "gb200", "domains": 0, "start": 100, "end": 200})", "domains",
           "must be 1..1048576"},
          {R"({"tenant": "t0", "domain_type": "gb200", "domains": 4, "start": 200, "end": 200})", "end",
           "must be after start (200)"},
          {R"({"tenant": "t0", "domain_type": "gb200", "domains": 4, "start": -1, "end": 200})", "start",
           "must be 0..253402300799"},
          {R"({"tenant": "t0", "domain_type": "gb200", "domains": 4, "start": 1, "end": 253402300800})", "end",
           "out of range"},
          {R"({"tenant": "t0", "domain_type": "gb200", "domains": 4, "start": 1})", "end", "required"},
          {"{" + ok + R"(, "lend": "no"})", "lend", "must be true or false"},
          {"{" + ok + R"(, "site": "a/b"})", "site", "must be a name"},
          {"{" + ok + R"(, "id": 3})", "id", "unknown field"},
      });
  DedicatedPost d{"t0", "gb200", "", 7, 1, 2, false};
  auto back = DecodeDedicatedPost(EncodeDedicatedPost(d));
  ASSERT_TRUE(back.ok()) << back.error.ToJson();
  EXPECT_EQ(*back.value, d);
}

TEST(CtlApiWindowPut, AcceptsAndRefuses) {
  CheckTable<WindowPut>(DecodeWindowPut, {R"({"start": 0, "end": 1})", R"({"end": 253402300799, "start": 5})"},
                        {
                            {R"({"start": 5, "end": 4})", "end", "must be after start"},
                            {R"({"end": 4})", "start", "required"},
                            {R"({"start": 1, "end": 2, "tenant": "t0"})", "tenant", "unknown field 'tenant'"},
                            {R"({"start": 1, "end": 2, "domain_type": "x"})", "domain_type", "unknown field"},
                            {R"({"start": 1.5, "end": 2})", "start", "must be an integer"},
                        });
  auto w = DecodeWindowPut(R"({"start": 10, "end": 20})");
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w.value->start, 10);
  EXPECT_EQ(w.value->end, 20);
}

TEST(CtlApiTokenPost, AcceptsAndRefuses) {
  CheckTable<TokenPost>(DecodeTokenPost,
                        {R"({"role": "admin"})", R"({"role": "tenant", "tenant": "t0"})",
                         R"({"agent": "rack-12", "role": "agent"})"},
                        {
                            {"{}", "role", "required"},
                            {R"({"role": "root"})", "role", "must be one of admin | tenant | agent"},
                            {R"({"role": "tenant"})", "tenant", "required"},
                            {R"({"role": "tenant", "tenant": ""})", "tenant", "must be a name"},
                            {R"({"role": "agent"})", "agent", "required"},
                            {R"({"role": "admin", "tenant": "t0"})", "tenant", "only with role tenant"},
                            {R"({"role": "agent", "agent": "a", "tenant": "t0"})", "tenant", "only with role tenant"},
                            {R"({"role": "tenant", "tenant": "t0", "agent": "a"})", "agent", "only with role agent"},
                            {R"({"role": "admin", "name": "x"})", "name", "unknown field"},
                        });
  auto t = DecodeTokenPost(R"({"role": "agent", "agent": "rack-12"})");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t.value->role, "agent");
  EXPECT_EQ(t.value->agent, "rack-12");
  EXPECT_EQ(t.value->tenant, "");
}

TEST(CtlApiDrainPost, AcceptsAndRefuses) {
  CheckTable<DrainPost>(DecodeDrainPost,
                        {"", " \r\n", "{}", R"({"reason": "maintenance: DIMM 3 \"flaky\""})",
                         R"({"reason": ")" + std::string(kMaxReasonBytes, 'r') + R"("})"},
                        {
                            {R"({"reason": 1})", "reason", "must be a string"},
                            {R"({"reason": ")" + std::string(kMaxReasonBytes + 1, 'r') + R"("})", "reason",
                             "too long: 1025 bytes (at most 1024)"},
                            {R"({"reason": "a\u0007"})", "reason", "control character"},
                            {R"({"why": ""})", "why", "unknown field"},
                            {"null", "", "must be a JSON object"},
                            {"x", "", "invalid JSON"},
                        });
  EXPECT_EQ(DecodeDrainPost(R"({"reason": "r"})").value->reason, "r");
}

TEST(CtlApiAgentRegister, AcceptsAndRefuses) {
  std::vector<std::string> accepts = {
      R"({"nodes": [{"name": "east-d0002-n00", "gpus": 8, "gpu_model": "H100", "addr": "10.0.0.5"}]})",
      R"({"nodes": [{"name": "cpu-1", "gpus": 0}, {"name": "g-1", "gpus": 1024, "addr": "fe80::1"}]})",
      R"({"nodes": [{"name": "n", "gpus": 4, "gpu_model": "", "addr": ""}]})",
  };
  std::vector<Reject> rejects = {
      {"{}", "nodes", "required"},
      {R"({"nodes": []})", "nodes", "must have 1..10000 entries, not 0"},
      {R"({"nodes": {}})", "nodes", "must be an array, not object"},
      {R"({"nodes": ["n1"]})", "nodes[0]", "must be an object, not string"},
      {R"({"nodes": [{"gpus": 8}]})", "nodes[0].name", "required"},
      {R"({"nodes": [{"name": "n1"}]})", "nodes[0].gpus", "required"},
      {R"({"nodes": [{"name": "n1", "gpus": 8}, {"name": "n2", "gpus": 8.5}]})", "nodes[1].gpus", "must be an integer"},
      {R"({"nodes": [{"name": "n1", "gpus": 1025}]})", "nodes[0].gpus", "must be 0..1024"},
      {R"({"nodes": [{"name": "n1", "gpus": 8}, {"name": "n1", "gpus": 8}]})", "nodes[1].name", "duplicate node 'n1'"},
      {R"({"nodes": [{"name": "n1", "gpus": 0, "gpu_model": "H100"}]})", "nodes[0].gpu_model", "must be empty"},
      {R"({"nodes": [{"name": "n1", "gpus": 8, "addr": "10.0.0.5 "}]})", "nodes[0].addr", "not in [A-Za-z0-9._:-]"},
      {R"({"nodes": [{"name": "n1", "gpus": 8, "addr": ")" + std::string(kMaxAddrBytes + 1, 'a') + R"("}]})",
       "nodes[0].addr", "too long"},
      {R"({"nodes": [{"name": "n1", "gpus": 8, "port": 1}]})", "nodes[0].port", "unknown field 'port'"},
      {R"({"nodes": [{"name": "n1", "gpus": 8, "gpus": 4}]})", "nodes[0].gpus", "duplicate key"},
  };
  std::string many;
  for (size_t i = 0; i <= kMaxBatch; ++i) {
    many += (i ? "," : "") + std::string(R"({"name":"n)") + std::to_string(i) + R"(","gpus":1})";
  }
  rejects.push_back({R"({"nodes": [)" + many + "]}", "nodes", "more than 10000 entries"});
  CheckTable<AgentRegister>(DecodeAgentRegister, accepts, rejects);

  auto d = DecodeAgentRegister(accepts[1]);
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d.value->nodes.size(), 2u);
  EXPECT_EQ(d.value->nodes[1].name, "g-1");
  EXPECT_EQ(d.value->nodes[1].gpus, 1024);
  EXPECT_EQ(d.value->nodes[1].addr, "fe80::1");
  EXPECT_EQ(d.value->nodes[0].gpu_model, "");
}

TEST(CtlApiAgentHeartbeat, AcceptsAndRefuses) {
  CheckTable<AgentHeartbeat>(
      DecodeAgentHeartbeat,
      {"{}", R"({"nodes": []})", R"({"nodes": ["a", "b"], "running": [{"job": 42, "attempt": 1, "rank": 0}]})",
       R"({"running": [{"job": 9007199254740991, "attempt": 2147483647, "rank": 1048575},
                       {"job": 1, "attempt": 1, "rank": 0}]})"},
      {
          {R"({"nodes": ["a", "a"]})", "nodes[1]", "duplicate node 'a'"},
          {R"({"nodes": ["a", 1]})", "nodes[1]", "must be a string"},
          {R"({"nodes": ["a b"]})", "nodes[0]", "must be a name"},
          {R"({"running": [{"job": 0, "attempt": 1, "rank": 0}]})", "running[0].job", "must be 1..9007199254740991"},
          {R"({"running": [{"job": 9007199254740992, "attempt": 1, "rank": 0}]})", "running[0].job", "out of range"},
          {R"({"running": [{"job": 1, "attempt": 0, "rank": 0}]})", "running[0].attempt", "must be 1..2147483647"},
          {R"({"running": [{"job": 1, "attempt": 2147483648, "rank": 0}]})", "running[0].attempt", "out of range"},
          {R"({"running": [{"job": 1, "attempt": 1}]})", "running[0].rank", "required"},
          {R"({"running": [{"job": 1, "attempt": 1, "rank": -1}]})", "running[0].rank", "must be 0..1048575"},
          {R"({"running": [{"job": 1, "attempt": 1, "rank": 0}, {"job": 1, "attempt": 1, "rank": 0}]})", "running[1]",
           "duplicate task"},
          {R"({"running": [{"job": 1, "attempt": 1, "rank": 0, "state": "x"}]})", "running[0].state", "unknown field"},
          {R"({"running": null})", "running", "must be an array, not null"},
          {R"({"kill": []})", "kill", "unknown field"},
      });
  auto h = DecodeAgentHeartbeat(R"({"nodes": ["a", "b"], "running": [{"job": 42, "attempt": 3, "rank": 1}]})");
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h.value->nodes, (std::vector<std::string>{"a", "b"}));
  ASSERT_EQ(h.value->running.size(), 1u);
  EXPECT_EQ(h.value->running[0], (TaskRef{42, 3, 1}));
}

TEST(CtlApiAgentReport, AcceptsAndRefuses) {
  const std::string ref = R"("job": 42, "attempt": 1, "rank": 0)";
  auto report = [&](const std::string& extra) { return "{" + ref + ", " + extra + "}"; };
  CheckTable<AgentReport>(
      DecodeAgentReport,
      {R"({"reports": [)" + report(R"("state": "running")") + "]}",
       R"({"reports": [)" + report(R"("state": "exited", "exit_code": 255, "signal": 9, "log": "/var/log/j 42.log")") +
           "]}",
       R"({"reports": [)" + report(R"("state": "running", "exit_code": 0, "signal": 0)") + "]}",
       R"({"reports": [)" + report(R"("state": "exited", "exit_code": -1)") + "]}"},
      {
          {"{}", "reports", "required"},
          {R"({"reports": []})", "reports", "must have 1..10000 entries, not 0"},
          {R"({"reports": [)" + report(R"("state": "done")") + "]}", "reports[0].state", "running | exited"},
          {R"({"reports": [)" + report(R"("exit_code": 0)") + "]}", "reports[0].state", "required"},
          {R"({"reports": [)" + report(R"("state": "exited")") + ", " + report(R"("state": "exited")") + ", " +
               report(R"("state": "exited")") + R"(, {"job": 1, "attempt": 1, "rank": 1.0, "state": "exited"}]})",
           "reports[3].rank", "must be an integer"},
          {R"({"reports": [)" + report(R"("state": "exited", "exit_code": 256)") + "]}", "reports[0].exit_code",
           "must be -1..255"},
          {R"({"reports": [)" + report(R"("state": "exited", "exit_code": -2)") + "]}", "reports[0].exit_code",
           "must be -1..255"},
          {R"({"reports": [)" + report(R"("state": "exited", "signal": 65)") + "]}", "reports[0].signal",
           "must be 0..64"},
          {R"({"reports": [)" + report(R"("state": "running", "exit_code": 1)") + "]}", "reports[0].exit_code",
           "must be 0 while running"},
          {R"({"reports": [)" + report(R"("state": "running", "signal": 15)") + "]}", "reports[0].signal",
           "must be 0 while running"},
          {R"({"reports": [)" + report(R"("state": "exited", "log": "a\u0000b")") + "]}", "reports[0].log", "NUL"},
          {R"({"reports": [)" + report(R"("state": "exited", "pid": 7)") + "]}", "reports[0].pid", "unknown field"},
      });
  auto r = DecodeAgentReport(R"({"reports": [)" + report(R"("state": "exited", "exit_code": 3, "log": "/l")") + "]}");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.value->reports.size(), 1u);
  const TaskReport& t = r.value->reports[0];
  EXPECT_EQ(t.task, (TaskRef{42, 1, 0}));
  EXPECT_EQ(t.state, "exited");
  EXPECT_EQ(t.exit_code, 3);
  EXPECT_EQ(t.signal, 0);
  EXPECT_EQ(t.log, "/l");
}

Task SampleTask() {
  Task t;
  t.ref = {42, 2, 1};
  t.node = "east-d0002-n01";
  t.gpus = {4, 5, 6, 7};
  t.world_size = 16;
  t.nnodes = 2;
  t.master_addr = "10.0.0.5";
  t.master_port = 29501;
  t.command = {"python", "train.py", "--lr=3e-4", "naïve \"arg\"\n"};
  t.env = {{"EPOCHS", "3"}, {"_EMPTY", ""}, {"UTF", "\xe2\x82\xac"}};
  t.duration_s = 120;
  t.grace_s = 30;
  t.tenant = "t0";
  return t;
}

TEST(CtlApiTask, RoundTrips) {
  Task cpu;
  cpu.ref = {1, 1, 0};
  cpu.node = "cpu-0";
  cpu.tenant = "t1";
  for (const Task& t : {SampleTask(), cpu}) {
    std::string json = EncodeTask(t);
    auto d = DecodeTask(json);
    ASSERT_TRUE(d.ok()) << json << " -> " << d.error.ToJson();
    EXPECT_EQ(*d.value, t) << json;
    EXPECT_EQ(EncodeTask(*d.value), json);
  }
  // The encoding is the object of docs/api.md, fields in its order.
  EXPECT_EQ(EncodeTask(cpu),
            R"({"job":1,"attempt":1,"rank":0,"node":"cpu-0","gpus":[],"world_size":0,"nnodes":1,"master_addr":"",)"
            R"("master_port":29500,"command":[],"env":{},"duration_s":0,"grace_s":10,"tenant":"t1"})");
}

TEST(CtlApiTask, Refuses) {
  nlohmann::json good = nlohmann::json::parse(EncodeTask(SampleTask()));
  auto with = [&](const char* key, nlohmann::json value) {
    nlohmann::json j = good;
    j[key] = std::move(value);
    return j.dump();
  };
  auto without = [&](const char* key) {
    nlohmann::json j = good;
    j.erase(key);
    return j.dump();
  };
  std::vector<Reject> rejects = {
      {with("gpus", {0, 1, 1}), "gpus[2]", "duplicate GPU 1"},
      {with("gpus", {1024}), "gpus[0]", "must be 0..1023"},
      {with("gpus", 3), "gpus", "must be an array"},
      {with("rank", 2), "rank", "must be below nnodes (2)"},
      {with("nnodes", 0), "nnodes", "must be 1..1048576"},
      {with("master_port", 0), "master_port", "must be 1..65535"},
      {with("master_port", 65536), "master_port", "must be 1..65535"},
      {with("master_addr", "host name"), "master_addr", "not in [A-Za-z0-9._:-]"},
      {with("grace_s", 3601), "grace_s", "must be 0..3600"},
      {with("world_size", -1), "world_size", "out of range"},
      {with("duration_s", 1.5), "duration_s", "must be an integer"},
      {with("node", ""), "node", "must be a name"},
      {with("tenant", "t 0"), "tenant", "must be a name"},
      {with("env", {{"9", "x"}}), "env.9", "env name must match"},
      {with("command", {"a", 1}), "command[1]", "must be a string"},
      {with("extra", 1), "extra", "unknown field 'extra'"},
      {"[" + good.dump() + "]", "", "must be a JSON object"},
  };
  for (const char* key : {"job", "attempt", "rank", "node", "gpus", "world_size", "nnodes", "master_addr",
                          "master_port", "command", "env", "duration_s", "grace_s", "tenant"}) {
    rejects.push_back({without(key), key, "required"});
  }
  CheckTable<Task>(DecodeTask, {good.dump()}, rejects);
}

TEST(CtlApiParams, IntParam) {
  struct Case {
    std::string text;
    int64_t lo, hi;
    std::optional<int64_t> want;  // nullopt: refused
  };
  for (const Case& c : std::vector<Case>{
           {"0", 0, 10, 0},
           {"10", 1, 10, 10},
           {"007", 0, 10, 7},
           {"-5", -10, 10, -5},
           {"9223372036854775807", INT64_MIN, INT64_MAX, INT64_MAX},
           {"-9223372036854775808", INT64_MIN, INT64_MAX, INT64_MIN},
           {"", 0, 10, std::nullopt},
           {"+5", 0, 10, std::nullopt},
           {"+5", -10, 10, std::nullopt},
           {"-5", 0, 10, std::nullopt},
           {"-0", 0, 10, std::nullopt},
           {"-", -10, 10, std::nullopt},
           {" 5", 0, 10, std::nullopt},
           {"5 ", 0, 10, std::nullopt},
           {"5x", 0, 10, std::nullopt},
           {"1.0", 0, 10, std::nullopt},
           {"1e3", 0, 10000, std::nullopt},
           {"0x10", 0, 100, std::nullopt},
           {"11", 0, 10, std::nullopt},
           {"9223372036854775808", INT64_MIN, INT64_MAX, std::nullopt},
           {"-9223372036854775809", INT64_MIN, INT64_MAX, std::nullopt},
           {"99999999999999999999999", 0, 10, std::nullopt},
           {std::string("1\0", 2), 0, 10, std::nullopt},
       }) {
    auto d = DecodeIntParam("limit", c.text, c.lo, c.hi);
    ASSERT_EQ(d.ok(), c.want.has_value()) << "'" << c.text << "' " << d.error.ToJson();
    if (c.want) {
      EXPECT_EQ(*d.value, *c.want);
    } else {
      EXPECT_EQ(d.error.field, "limit");
      EXPECT_EQ(d.error.status, 400);
      EXPECT_NE(d.error.message.find(std::to_string(c.lo) + ".." + std::to_string(c.hi)), std::string::npos)
          << d.error.message;
    }
  }
}

TEST(CtlApiParams, ListParam) {
  auto d = DecodeListParam("state", "pending,running", 5);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(*d.value, (std::vector<std::string>{"pending", "running"}));
  EXPECT_TRUE(DecodeListParam("fields", "a,b,c,d,e", 5).ok());
  EXPECT_TRUE(DecodeListParam("tenant", "t0", 1).ok());
  for (const std::string& bad : {std::string(""), std::string(","), std::string("a,"), std::string(",a"),
                                 std::string("a,,b"), std::string("a b"), std::string("a;b"), std::string("-a"),
                                 std::string(kMaxNameBytes + 1, 'x'), std::string("a,b,c,d,e,f"),
                                 std::string("a\xff")}) {
    auto r = DecodeListParam("state", bad, 5);
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error.field, "state");
  }
  EXPECT_NE(DecodeListParam("state", "a,b,c", 2).error.message.find("at most 2"), std::string::npos);
}

TEST(CtlApiError, ToJson) {
  EXPECT_EQ(ApiError::Invalid("env.PATH", "too long").ToJson(),
            R"({"error":{"code":"invalid_argument","message":"too long","field":"env.PATH"}})");
  ApiError e{404, "not_found", "no job 7", ""};
  EXPECT_EQ(e.ToJson(), R"({"error":{"code":"not_found","message":"no job 7"}})");
  // Whatever a message holds, the answer is valid JSON.
  ApiError odd = ApiError::Invalid("a\"b", std::string("q\"\\\n\x01\xff", 6));
  auto j = nlohmann::json::parse(odd.ToJson(), nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << odd.ToJson();
  EXPECT_EQ(j["error"]["field"], "a\"b");
  // Every decoder error is too (paths and messages quote input bytes as \xNN).
  auto d = DecodeJobSubmit("{\"x\xff\": 1}");
  ASSERT_FALSE(d.ok());
  EXPECT_FALSE(nlohmann::json::parse(d.error.ToJson(), nullptr, false).is_discarded()) << d.error.ToJson();
}

std::string ReadSource(const std::string& rel) {
  std::ifstream f(std::string(RACKSCALE_SOURCE_DIR) + "/" + rel, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// Every "$ref" under `j` names a node of `doc`.
void ExpectRefsResolve(const nlohmann::json& doc, const nlohmann::json& j) {
  if (j.is_object()) {
    if (auto it = j.find("$ref"); it != j.end()) {
      std::string ref = it->get<std::string>();
      ASSERT_EQ(ref.rfind("#/", 0), 0u) << ref;
      EXPECT_TRUE(doc.contains(nlohmann::json::json_pointer(ref.substr(1)))) << ref;
    }
  }
  if (j.is_structured()) {
    for (const auto& v : j) ExpectRefsResolve(doc, v);
  }
}

TEST(CtlApiOpenApi, EmbeddedDocumentIsDocsOpenApiJson) {
  EXPECT_EQ(std::string(OpenApiJson()), ReadSource("docs/openapi.json"));
  auto doc = nlohmann::json::parse(OpenApiJson(), nullptr, false);
  ASSERT_FALSE(doc.is_discarded());
  EXPECT_EQ(doc["openapi"], "3.0.3");
  EXPECT_TRUE(doc["components"]["securitySchemes"]["bearerAuth"].is_object());
  ExpectRefsResolve(doc, doc);
}

TEST(CtlApiOpenApi, CoversEveryRouteOfDocsApiMd) {
  auto doc = nlohmann::json::parse(OpenApiJson(), nullptr, false);
  ASSERT_FALSE(doc.is_discarded());
  const nlohmann::json& paths = doc["paths"];
  // "/v1/..." anywhere in docs/api.md, with the methods written before it ("GET|PUT|DELETE /v1/tenants/{name}").
  const std::string md = ReadSource("docs/api.md");
  const std::regex route(R"((?:((?:GET|POST|PUT|DELETE)(?:\|(?:GET|POST|PUT|DELETE))*) )?(/v1/[A-Za-z0-9_.{}/-]+))");
  int routes = 0, methods = 0;
  for (auto it = std::sregex_iterator(md.begin(), md.end(), route); it != std::sregex_iterator(); ++it) {
    std::string path = (*it)[2];
    while (path.back() == '.' || path.back() == '/') path.pop_back();
    ++routes;
    ASSERT_TRUE(paths.contains(path)) << path << " (docs/api.md) is not in docs/openapi.json";
    std::stringstream list((*it)[1]);
    for (std::string m; std::getline(list, m, '|');) {
      if (m.empty()) continue;
      std::transform(m.begin(), m.end(), m.begin(), [](unsigned char c) { return std::tolower(c); });
      EXPECT_TRUE(paths[path].contains(m)) << m << " " << path << " is not in docs/openapi.json";
      ++methods;
    }
  }
  EXPECT_GE(routes, 25);
  EXPECT_GE(methods, 25);
  for (const char* p : {"/healthz", "/readyz", "/metrics"}) EXPECT_TRUE(paths.contains(p)) << p;
}

TEST(CtlApiOpenApi, SchemasMatchTheDecoders) {
  auto doc = nlohmann::json::parse(OpenApiJson(), nullptr, false);
  ASSERT_FALSE(doc.is_discarded());
  const nlohmann::json& schemas = doc["components"]["schemas"];
  // Every field the encoders write is a property of the schema, and request schemas are closed.
  auto keys = [](const std::string& json) {
    std::set<std::string> k;
    nlohmann::json j = nlohmann::json::parse(json);
    for (const auto& [key, value] : j.items()) k.insert(key);
    return k;
  };
  JobSubmit s;
  s.gpus = 1;
  s.time_limit_s = 1;
  s.on_node_lost = OnNodeLost::kFail;
  for (const auto& [name, json] : std::vector<std::pair<std::string, std::string>>{
           {"JobSubmit", EncodeJobSubmit(s)},
           {"TenantPut", EncodeTenantPut({})},
           {"DedicatedPost", EncodeDedicatedPost({})},
           {"Task", EncodeTask(SampleTask())}}) {
    const nlohmann::json& schema = schemas[name];
    EXPECT_EQ(schema["additionalProperties"], false) << name;
    std::set<std::string> props;
    for (const auto& [key, value] : schema["properties"].items()) props.insert(key);
    EXPECT_EQ(keys(json), props) << name;
  }
  const nlohmann::json& job = schemas["JobSubmit"]["properties"];
  EXPECT_EQ(job["gpus"]["maximum"], kMaxGpus);
  EXPECT_EQ(job["nodes"]["maximum"], kMaxNodes);
  EXPECT_EQ(job["priority"]["maximum"], kMaxPriority);
  EXPECT_EQ(job["time_limit_s"]["maximum"], kMaxTimeLimitS);
  EXPECT_EQ(job["command"]["maxItems"], kMaxArgs);
  EXPECT_EQ(job["command"]["items"]["maxLength"], kMaxArgBytes);
  EXPECT_EQ(job["env"]["maxProperties"], kMaxEnv);
  EXPECT_EQ(job["env"]["additionalProperties"]["maxLength"], kMaxEnvValueBytes);
  EXPECT_EQ(schemas["Task"]["required"].size(), schemas["Task"]["properties"].size());
  EXPECT_EQ(schemas["TaskRef"]["properties"]["job"]["maximum"], kMaxJobId);
  for (const auto& [type, field] : std::vector<std::pair<std::string, std::string>>{
           {"AgentRegister", "nodes"}, {"AgentHeartbeat", "nodes"}, {"AgentHeartbeat", "running"},
           {"AgentReport", "reports"}}) {
    EXPECT_EQ(schemas[type]["properties"][field]["maxItems"], kMaxBatch) << type << "." << field;
  }
}

}  // namespace
}  // namespace rackscale::ctl
