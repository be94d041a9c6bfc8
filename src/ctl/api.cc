#include "ctl/api.h"

#include <charconv>
#include <cmath>
#include <initializer_list>
#include <set>
#include <utility>

#include <nlohmann/json.hpp>

#include "base/text.h"

namespace rackscale::ctl {
namespace {

using Json = nlohmann::json;
using OrderedJson = nlohmann::ordered_json;

// Containers larger than any decoder accepts are refused while parsing, so
// that a body of a million tiny values stops early.
constexpr size_t kMaxArrayItems = kMaxBatch;
constexpr size_t kMaxObjectMembers = kMaxEnv;

// Bytes safe in a field path or a long message (base/text.h's Quote
// quotes short values): printable ASCII as is,
// any other byte as \xNN; longer input is cut at `shown` bytes with "...".
std::string Printable(std::string_view s, size_t shown = 64) {
  constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < s.size() && i < shown; ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  if (s.size() > shown) out += "...";
  return out;
}

std::string Member(const std::string& path, std::string_view key) {
  return path.empty() ? Printable(key) : path + "." + Printable(key);
}
std::string Item(const std::string& path, size_t i) { return path + "[" + std::to_string(i) + "]"; }

std::string Range(int64_t lo, int64_t hi) { return std::to_string(lo) + ".." + std::to_string(hi); }

// The first error of a decode; every check after it is skipped.
class Errors {
 public:
  bool Fail(std::string field, std::string message) {
    if (!error_) error_ = ApiError::Invalid(std::move(field), std::move(message));
    return false;
  }
  bool ok() const { return !error_.has_value(); }
  template <typename T>
  Decoded<T> Result(T value) {
    if (error_) return Decoded<T>{std::nullopt, std::move(*error_)};
    return Decoded<T>{std::move(value), {}};
  }

 private:
  std::optional<ApiError> error_;
};

// nlohmann's SAX interface, building the DOM as json::parse would, but
// refusing (returning false stops the parse) duplicate keys, nesting deeper
// than kMaxJsonDepth and oversized containers, each with the JSON path
// where it happened. Integers the DOM cannot hold (beyond uint64 or below
// int64) arrive as floats and are refused by the integer checks.
class DomBuilder {
 public:
  explicit DomBuilder(Errors* errors) : errors_(errors) {}
  Json& root() { return root_; }

  bool null() { return Put(Json(nullptr)) != nullptr; }
  bool boolean(bool b) { return Put(Json(b)) != nullptr; }
  bool number_integer(Json::number_integer_t v) { return Put(Json(v)) != nullptr; }
  bool number_unsigned(Json::number_unsigned_t v) { return Put(Json(v)) != nullptr; }
  bool number_float(Json::number_float_t v, const Json::string_t& /*text*/) { return Put(Json(v)) != nullptr; }
  bool string(Json::string_t& s) { return Put(Json(std::move(s))) != nullptr; }
  // Only binary formats (CBOR, ...) produce these; JSON text never does.
  bool binary(Json::binary_t& /*b*/) { return errors_->Fail(Here(), "binary values are not JSON"); }
  bool start_object(size_t /*elements*/) { return Open(Json::object()); }
  bool start_array(size_t /*elements*/) { return Open(Json::array()); }
  bool end_object() { return Close(); }
  bool end_array() { return Close(); }
  bool key(Json::string_t& k) {
    Json* object = stack_.back();
    if (object->contains(k)) return errors_->Fail(Member(paths_.back(), k), "duplicate key " + Quote(k));
    if (object->size() >= kMaxObjectMembers) {
      return errors_->Fail(paths_.back(), "more than " + std::to_string(kMaxObjectMembers) + " members");
    }
    key_ = std::move(k);
    in_value_ = true;
    return true;
  }
  bool parse_error(size_t /*position*/, const std::string& /*last_token*/, const nlohmann::detail::exception& e) {
    // "[json.exception.parse_error.101] parse error at line 1, column 9: ..." without the bracketed id.
    std::string_view what = e.what();
    if (size_t at = what.find("] "); at != std::string_view::npos) what.remove_prefix(at + 2);
    return errors_->Fail(Here(), "invalid JSON: " + Printable(what, 200));
  }

 private:
  // The path of the value being read: the pending key's, the next array
  // item's, or the innermost container's.
  std::string Here() const {
    if (stack_.empty()) return "";
    if (stack_.back()->is_array()) return Item(paths_.back(), stack_.back()->size());
    return in_value_ ? Member(paths_.back(), key_) : paths_.back();
  }
  Json* Put(Json v) {
    if (stack_.empty()) {
      root_ = std::move(v);
      return &root_;
    }
    Json* top = stack_.back();
    if (top->is_array()) {
      if (top->size() >= kMaxArrayItems) {
        errors_->Fail(paths_.back(), "more than " + std::to_string(kMaxArrayItems) + " entries");
        return nullptr;
      }
      top->push_back(std::move(v));
      return &top->back();
    }
    in_value_ = false;
    Json& slot = (*top)[key_];
    slot = std::move(v);
    return &slot;
  }
  bool Open(Json container) {
    if (stack_.size() >= kMaxJsonDepth) {
      return errors_->Fail(Here(), "nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
    }
    std::string path = Here();
    Json* j = Put(std::move(container));
    if (j == nullptr) return false;
    stack_.push_back(j);
    paths_.push_back(std::move(path));
    return true;
  }
  bool Close() {
    stack_.pop_back();
    paths_.pop_back();
    return true;
  }

  Errors* errors_;
  Json root_;
  std::vector<Json*> stack_;        // open containers, outermost first (pointers stay valid: see Put)
  std::vector<std::string> paths_;  // their JSON paths
  std::string key_;                 // the innermost object's pending key
  bool in_value_ = false;           // key_ read, its value not yet
};

bool Parse(std::string_view text, Json* out, Errors* errors) {
  DomBuilder builder(errors);
  if (!Json::sax_parse(text.data(), text.data() + text.size(), &builder)) {
    return errors->Fail("", "invalid JSON");  // kept only if the builder recorded nothing
  }
  *out = std::move(builder.root());
  return true;
}

// ---- Values ----------------------------------------------------------------------------------------------------

// JSON's integers: nlohmann gives non-negative ones as unsigned, negative ones as signed, and
// anything with a fraction or an exponent (3.0, 1e3) as a float.
bool ReadInt(const Json& v, const std::string& field, int64_t lo, int64_t hi, int64_t* out, Errors* e) {
  std::string range = "(must be " + Range(lo, hi) + ")";
  int64_t x = 0;
  if (v.is_number_unsigned()) {
    uint64_t u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(INT64_MAX)) return e->Fail(field, "out of range: " + std::to_string(u) + " " + range);
    x = static_cast<int64_t>(u);
  } else if (v.is_number_integer()) {
    x = v.get<int64_t>();
  } else if (v.is_number_float()) {
    // An integer literal beyond uint64 / int64 arrives as a float too.
    if (std::abs(v.get<double>()) >= 0x1p63) return e->Fail(field, "out of range: " + v.dump() + " " + range);
    return e->Fail(field, "must be an integer in " + Range(lo, hi) + " (no fraction, no exponent), not " + v.dump());
  } else {
    return e->Fail(field, "must be an integer in " + Range(lo, hi) + ", not " + std::string(v.type_name()));
  }
  if (x < lo || x > hi) return e->Fail(field, "out of range: " + std::to_string(x) + " " + range);
  *out = x;
  return true;
}

template <typename T>
bool ReadInt(const Json& v, const std::string& field, int64_t lo, int64_t hi, T* out, Errors* e) {
  int64_t x = 0;
  if (!ReadInt(v, field, lo, hi, &x, e)) return false;
  *out = static_cast<T>(x);
  return true;
}

bool ReadBool(const Json& v, const std::string& field, bool* out, Errors* e) {
  if (!v.is_boolean()) return e->Fail(field, "must be true or false, not " + std::string(v.type_name()));
  *out = v.get<bool>();
  return true;
}

bool ReadDouble(const Json& v, const std::string& field, double* out, Errors* e) {
  if (!v.is_number()) return e->Fail(field, "must be a number, not " + std::string(v.type_name()));
  *out = v.get<double>();
  return true;
}

// ASCII only, whatever the locale (<cctype>'s would follow it).
bool IsAlpha(unsigned char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
bool IsDigit(unsigned char c) { return c >= '0' && c <= '9'; }

bool IsName(std::string_view s) {
  if (s.empty() || s.size() > kMaxNameBytes) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (!IsAlpha(c) && !IsDigit(c) && (i == 0 || (c != '.' && c != '_' && c != '-'))) return false;
  }
  return true;
}

bool IsEnvName(std::string_view s) {
  if (s.empty() || s.size() > kMaxNameBytes) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (!IsAlpha(c) && c != '_' && (i == 0 || !IsDigit(c))) return false;
  }
  return true;
}

// How a string field is checked. The parser has already refused invalid
// UTF-8 (and unpaired surrogate escapes) in every string.
enum class Str : uint8_t {
  kName,      // required name
  kOptName,   // name or ""
  kText,      // no control characters (C0, DEL, C1)
  kBytes,     // no NUL
  kAscii,     // printable ASCII (0x20..0x7e)
  kAddr,      // [A-Za-z0-9._:-]*
};

constexpr char kNameRule[] = "must be a name: [A-Za-z0-9][A-Za-z0-9._-]{0,127}";

bool CheckString(std::string_view s, const std::string& field, Str kind, size_t max_bytes, Errors* e) {
  if (kind == Str::kName || (kind == Str::kOptName && !s.empty())) {
    return IsName(s) ? true : e->Fail(field, std::string(kNameRule) + ", not " + Quote(s));
  }
  if (s.size() > max_bytes) {
    return e->Fail(field, "too long: " + std::to_string(s.size()) + " bytes (at most " + std::to_string(max_bytes) +
                              ")");
  }
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    const char* bad = nullptr;  // what the byte is, if refused
    switch (kind) {
      case Str::kName:
      case Str::kOptName: break;  // checked above
      case Str::kText:
        // U+0080..U+009F are C2 80..C2 9F in UTF-8.
        if (c < 0x20 || c == 0x7f || (c == 0xc2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) < 0xa0)) {
          bad = "a control character";
        }
        break;
      case Str::kBytes:
        if (c == 0) bad = "a NUL byte";
        break;
      case Str::kAscii:
        if (c < 0x20 || c > 0x7e) bad = "a non-printable byte";
        break;
      case Str::kAddr:
        if (!IsAlpha(c) && !IsDigit(c) && c != '.' && c != '_' && c != ':' && c != '-') {
          bad = "a byte not in [A-Za-z0-9._:-]";
        }
        break;
    }
    if (bad) return e->Fail(field, std::string("contains ") + bad + " at byte " + std::to_string(i));
  }
  return true;
}

bool ReadString(const Json& v, const std::string& field, Str kind, size_t max_bytes, std::string* out, Errors* e) {
  if (!v.is_string()) return e->Fail(field, "must be a string, not " + std::string(v.type_name()));
  const auto& s = v.get_ref<const std::string&>();
  if (!CheckString(s, field, kind, max_bytes, e)) return false;
  *out = s;
  return true;
}

bool ReadEnum(const Json& v, const std::string& field, std::initializer_list<std::string_view> allowed,
              std::string* out, Errors* e) {
  std::string list;
  for (std::string_view a : allowed) list += (list.empty() ? "" : " | ") + std::string(a);
  if (!v.is_string()) return e->Fail(field, "must be one of " + list + ", not " + std::string(v.type_name()));
  const auto& s = v.get_ref<const std::string&>();
  for (std::string_view a : allowed) {
    if (s == a) {
      *out = s;
      return true;
    }
  }
  return e->Fail(field, "must be one of " + list + ", not " + Quote(s));
}

// Calls item(value, path) for each entry of an array of min..max entries.
template <typename F>
bool ReadArray(const Json& v, const std::string& field, size_t min, size_t max, Errors* e, F item) {
  if (!v.is_array()) return e->Fail(field, "must be an array, not " + std::string(v.type_name()));
  if (v.size() < min || v.size() > max) {
    return e->Fail(field, "must have " + std::to_string(min) + ".." + std::to_string(max) + " entries, not " +
                              std::to_string(v.size()));
  }
  for (size_t i = 0; i < v.size(); ++i) {
    if (!item(v[i], Item(field, i))) return false;
  }
  return true;
}

bool ReadCommand(const Json& v, const std::string& field, std::vector<std::string>* out, Errors* e) {
  std::vector<std::string> args;
  bool ok = ReadArray(v, field, 0, kMaxArgs, e, [&](const Json& a, const std::string& path) {
    std::string s;
    if (!ReadString(a, path, Str::kBytes, kMaxArgBytes, &s, e)) return false;
    args.push_back(std::move(s));
    return true;
  });
  if (ok) *out = std::move(args);
  return ok;
}

bool ReadEnv(const Json& v, const std::string& field, std::map<std::string, std::string>* out, Errors* e) {
  if (!v.is_object()) return e->Fail(field, "must be an object, not " + std::string(v.type_name()));
  if (v.size() > kMaxEnv) {
    return e->Fail(field, "too many entries: " + std::to_string(v.size()) + " (at most " + std::to_string(kMaxEnv) +
                              ")");
  }
  std::map<std::string, std::string> env;
  for (const auto& [name, value] : v.items()) {
    std::string path = Member(field, name);
    if (!IsEnvName(name)) {
      return e->Fail(path, "env name must match [A-Za-z_][A-Za-z0-9_]* (at most " + std::to_string(kMaxNameBytes) +
                               " bytes), not " + Quote(name));
    }
    if (!ReadString(value, path, Str::kBytes, kMaxEnvValueBytes, &env[name], e)) return false;
  }
  *out = std::move(env);
  return true;
}

// One JSON object's members: the constructor refuses a non-object and
// unknown members; each Read* reads one member if present (a required one
// must be). Every call returns false once any error was recorded.
class ObjectReader {
 public:
  ObjectReader(const Json& v, std::string path, std::initializer_list<std::string_view> known, Errors* e)
      : v_(v), path_(std::move(path)), e_(e) {
    if (!e_->ok()) return;
    if (!v.is_object()) {
      e_->Fail(path_, (path_.empty() ? "the body must be a JSON object, not " : "must be an object, not ") +
                          std::string(v.type_name()));
      return;
    }
    for (const auto& [key, value] : v.items()) {
      bool found = false;
      for (std::string_view k : known) found = found || k == key;
      if (!found) {
        e_->Fail(Member(path_, key), "unknown field " + Quote(key));
        return;
      }
    }
  }
  ObjectReader(const ObjectReader&) = delete;
  ObjectReader& operator=(const ObjectReader&) = delete;

  // The member `key` if present and no error yet; a required absent member is an error.
  const Json* Get(std::string_view key, bool required) {
    if (!e_->ok()) return nullptr;
    auto it = v_.find(key);
    if (it == v_.end()) {
      if (required) e_->Fail(Member(path_, key), "required");
      return nullptr;
    }
    return &*it;
  }
  std::string Path(std::string_view key) const { return Member(path_, key); }

  template <typename T>
  bool Int(std::string_view key, int64_t lo, int64_t hi, T* out, bool required = false) {
    const Json* v = Get(key, required);
    return v ? ReadInt(*v, Path(key), lo, hi, out, e_) : e_->ok();
  }
  bool Bool(std::string_view key, bool* out) {
    const Json* v = Get(key, false);
    return v ? ReadBool(*v, Path(key), out, e_) : e_->ok();
  }
  bool String(std::string_view key, Str kind, size_t max_bytes, std::string* out, bool required = false) {
    const Json* v = Get(key, required);
    return v ? ReadString(*v, Path(key), kind, max_bytes, out, e_) : e_->ok();
  }
  bool Name(std::string_view key, std::string* out) { return String(key, Str::kName, kMaxNameBytes, out, true); }
  bool OptName(std::string_view key, std::string* out) { return String(key, Str::kOptName, kMaxNameBytes, out); }
  bool Enum(std::string_view key, std::initializer_list<std::string_view> allowed, std::string* out,
            bool required = false) {
    const Json* v = Get(key, required);
    return v ? ReadEnum(*v, Path(key), allowed, out, e_) : e_->ok();
  }
  bool Command(std::string_view key, std::vector<std::string>* out, bool required = false) {
    const Json* v = Get(key, required);
    return v ? ReadCommand(*v, Path(key), out, e_) : e_->ok();
  }
  bool Env(std::string_view key, std::map<std::string, std::string>* out, bool required = false) {
    const Json* v = Get(key, required);
    return v ? ReadEnv(*v, Path(key), out, e_) : e_->ok();
  }
  // Calls item(value, path) for each entry of the array member `key` (min..max entries).
  template <typename F>
  bool Array(std::string_view key, size_t min, size_t max, bool required, F item) {
    const Json* v = Get(key, required);
    return v ? ReadArray(*v, Path(key), min, max, e_, item) : e_->ok();
  }
  bool ok() const { return e_->ok(); }
  bool Fail(std::string_view key, std::string message) { return e_->Fail(Path(key), std::move(message)); }

 private:
  const Json& v_;
  std::string path_;
  Errors* e_;
};

bool ReadTaskRef(ObjectReader& r, TaskRef* out) {
  r.Int("job", 1, kMaxJobId, &out->job, true);
  r.Int("attempt", 1, INT32_MAX, &out->attempt, true);
  r.Int("rank", 0, kMaxGpus - 1, &out->rank, true);
  return r.ok();
}

const char* OnNodeLostName(OnNodeLost o) {
  switch (o) {
    case OnNodeLost::kRequeue: return "requeue";
    case OnNodeLost::kFail: return "fail";
    default: return "";
  }
}

std::string Dump(const OrderedJson& j) {
  // Decoded strings are valid UTF-8; replace keeps encoding total for any other.
  return j.dump(-1, ' ', false, OrderedJson::error_handler_t::replace);
}

OrderedJson EnvJson(const std::map<std::string, std::string>& env) {
  OrderedJson j = OrderedJson::object();
  for (const auto& [k, v] : env) j[k] = v;
  return j;
}

}  // namespace

std::string ApiError::ToJson() const {
  OrderedJson inner = {{"code", code}, {"message", message}};
  if (!field.empty()) inner["field"] = field;
  return Dump(OrderedJson{{"error", inner}});
}

// ---- Jobs --------------------------------------------------------------------------------------------------------
//
// Each decoder reads its members in the order of api.h; the readers skip
// every call after the first error, which is the one reported.

Decoded<JobSubmit> DecodeJobSubmit(std::string_view body) {
  Errors e;
  Json doc;
  JobSubmit s;
  if (!Parse(body, &doc, &e)) return e.Result(std::move(s));
  ObjectReader r(doc, "",
                 {"name", "tenant", "gpus", "cpus", "nodes", "topology", "gpu_model", "priority", "preemptible",
                  "time_limit_s", "checkpoint_s", "on_node_lost", "command", "env", "duration_s", "request_id"},
                 &e);
  r.String("name", Str::kText, kMaxNameBytes, &s.name);
  r.OptName("tenant", &s.tenant);
  r.Int("gpus", 0, kMaxGpus, &s.gpus);
  r.Int("cpus", 0, kMaxGpus, &s.cpus);
  r.Int("nodes", 0, kMaxNodes, &s.nodes);
  r.Enum("topology", {"any", "block", "domain", "node", "multi-site"}, &s.topology);
  r.OptName("gpu_model", &s.gpu_model);
  r.Int("priority", -kMaxPriority, kMaxPriority, &s.priority);
  r.Bool("preemptible", &s.preemptible);
  r.Int("time_limit_s", 1, kMaxTimeLimitS, &s.time_limit_s, true);
  r.Int("checkpoint_s", 0, kMaxTimeLimitS, &s.checkpoint_s);
  std::string on_node_lost;
  r.Enum("on_node_lost", {"requeue", "fail"}, &on_node_lost);
  r.Command("command", &s.command);
  r.Env("env", &s.env);
  r.Int("duration_s", 0, kMaxTimeLimitS, &s.duration_s);
  r.String("request_id", Str::kAscii, kMaxNameBytes, &s.request_id);
  if (!r.ok()) return e.Result(std::move(s));
  if (!on_node_lost.empty()) s.on_node_lost = on_node_lost == "requeue" ? OnNodeLost::kRequeue : OnNodeLost::kFail;
  if (s.gpus == 0 && s.cpus == 0) {
    r.Fail("gpus", "must be 1.." + std::to_string(kMaxGpus) + " (or 0 with cpus > 0)");
  } else if (s.gpus > 0 && s.cpus > 0) {
    r.Fail("cpus", "must be 0 when gpus > 0 (a CPU job has gpus 0)");
  } else if (s.nodes > 0 && (s.gpus == 0 || s.gpus % s.nodes != 0)) {
    r.Fail("nodes", "must divide gpus: " + std::to_string(s.gpus) + " GPUs on " + std::to_string(s.nodes) +
                        " whole nodes");
  }
  return e.Result(std::move(s));
}

std::string EncodeJobSubmit(const JobSubmit& s) {
  OrderedJson j = {{"name", s.name},
                   {"tenant", s.tenant},
                   {"gpus", s.gpus},
                   {"cpus", s.cpus},
                   {"nodes", s.nodes},
                   {"topology", s.topology},
                   {"gpu_model", s.gpu_model},
                   {"priority", s.priority},
                   {"preemptible", s.preemptible},
                   {"time_limit_s", s.time_limit_s},
                   {"checkpoint_s", s.checkpoint_s}};
  if (s.on_node_lost != OnNodeLost::kDefault) j["on_node_lost"] = OnNodeLostName(s.on_node_lost);
  j["command"] = s.command;
  j["env"] = EnvJson(s.env);
  j["duration_s"] = s.duration_s;
  j["request_id"] = s.request_id;
  return Dump(j);
}

// ---- Admin -------------------------------------------------------------------------------------------------------

Decoded<TenantPut> DecodeTenantPut(std::string_view body) {
  Errors e;
  Json doc;
  TenantPut t;
  if (!Parse(body, &doc, &e)) return e.Result(std::move(t));
  ObjectReader r(doc, "", {"weight", "nominal_gpus", "cohort", "borrowing_limit_gpus"}, &e);
  if (const Json* w = r.Get("weight", false); w && ReadDouble(*w, "weight", &t.weight, &e)) {
    // A JSON number too large for a double (1e999) arrives as infinity.
    if (!std::isfinite(t.weight) || t.weight <= 0 || t.weight > 1e6) {
      r.Fail("weight", "must be > 0 and <= 1e6, not " + w->dump());
    }
  }
  r.Int("nominal_gpus", -1, kMaxGpuQuota, &t.nominal_gpus);
  r.OptName("cohort", &t.cohort);
  r.Int("borrowing_limit_gpus", -1, kMaxGpuQuota, &t.borrowing_limit_gpus);
  return e.Result(std::move(t));
}

std::string EncodeTenantPut(const TenantPut& t) {
  return Dump({{"weight", t.weight},
               {"nominal_gpus", t.nominal_gpus},
               {"cohort", t.cohort},
               {"borrowing_limit_gpus", t.borrowing_limit_gpus}});
}

namespace {

void ReadWindow(ObjectReader& r, int64_t* start, int64_t* end) {
  r.Int("start", 0, kMaxUnixTime, start, true);
  r.Int("end", 0, kMaxUnixTime, end, true);
  if (r.ok() && *start >= *end) r.Fail("end", "must be after start (" + std::to_string(*start) + ")");
}

}  // namespace

Decoded<DedicatedPost> DecodeDedicatedPost(std::string_view body) {
  Errors e;
  Json doc;
  DedicatedPost d;
  if (!Parse(body, &doc, &e)) return e.Result(std::move(d));
  ObjectReader r(doc, "", {"tenant", "domain_type", "site", "domains", "start", "end", "lend"}, &e);
  r.Name("tenant", &d.tenant);
  r.Name("domain_type", &d.domain_type);
  r.OptName("site", &d.site);
  r.Int("domains", 1, kMaxGpus, &d.domains, true);
  ReadWindow(r, &d.start, &d.end);
  r.Bool("lend", &d.lend);
  return e.Result(std::move(d));
}

std::string EncodeDedicatedPost(const DedicatedPost& d) {
  return Dump({{"tenant", d.tenant},
               {"domain_type", d.domain_type},
               {"site", d.site},
               {"domains", d.domains},
               {"start", d.start},
               {"end", d.end},
               {"lend", d.lend}});
}

Decoded<WindowPut> DecodeWindowPut(std::string_view body) {
  Errors e;
  Json doc;
  WindowPut w;
  if (!Parse(body, &doc, &e)) return e.Result(std::move(w));
  ObjectReader r(doc, "", {"start", "end"}, &e);
  ReadWindow(r, &w.start, &w.end);
  return e.Result(std::move(w));
}

Decoded<TokenPost> DecodeTokenPost(std::string_view body) {
  Errors e;
  Json doc;
  TokenPost t;
  if (!Parse(body, &doc, &e)) return e.Result(std::move(t));
  ObjectReader r(doc, "", {"role", "tenant", "agent"}, &e);
  r.Enum("role", {"admin", "tenant", "agent"}, &t.role, true);
  // The bound name is required with its role and refused with any other.
  for (auto [key, out] : {std::pair{"tenant", &t.tenant}, std::pair{"agent", &t.agent}}) {
    if (t.role == key) {
      r.Name(key, out);
    } else if (r.Get(key, false)) {
      r.Fail(key, std::string("only with role ") + key);
    }
  }
  return e.Result(std::move(t));
}

Decoded<DrainPost> DecodeDrainPost(std::string_view body) {
  Errors e;
  DrainPost d;
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) return e.Result(std::move(d));
  Json doc;
  if (!Parse(body, &doc, &e)) return e.Result(std::move(d));
  ObjectReader r(doc, "", {"reason"}, &e);
  r.String("reason", Str::kText, kMaxReasonBytes, &d.reason);
  return e.Result(std::move(d));
}

// ---- Agents ------------------------------------------------------------------------------------------------------

Decoded<AgentRegister> DecodeAgentRegister(std::string_view body) {
  Errors e;
  Json doc;
  AgentRegister a;
  if (!Parse(body, &doc, &e)) return e.Result(std::move(a));
  ObjectReader r(doc, "", {"nodes"}, &e);
  std::set<std::string> seen;
  r.Array("nodes", 1, kMaxBatch, true, [&](const Json& v, const std::string& path) {
    NodeInventory n;
    ObjectReader o(v, path, {"name", "gpus", "gpu_model", "addr"}, &e);
    o.Name("name", &n.name);
    o.Int("gpus", 0, kMaxNodeGpus, &n.gpus, true);
    o.OptName("gpu_model", &n.gpu_model);
    o.String("addr", Str::kAddr, kMaxAddrBytes, &n.addr);
    if (!o.ok()) return false;
    if (n.gpus == 0 && !n.gpu_model.empty()) return o.Fail("gpu_model", "must be empty on a node without GPUs");
    if (!seen.insert(n.name).second) return o.Fail("name", "duplicate node " + Quote(n.name));
    a.nodes.push_back(std::move(n));
    return true;
  });
  return e.Result(std::move(a));
}

Decoded<AgentHeartbeat> DecodeAgentHeartbeat(std::string_view body) {
  Errors e;
  Json doc;
  AgentHeartbeat h;
  if (!Parse(body, &doc, &e)) return e.Result(std::move(h));
  ObjectReader r(doc, "", {"nodes", "running"}, &e);
  std::set<std::string> nodes;
  r.Array("nodes", 0, kMaxBatch, false, [&](const Json& v, const std::string& path) {
    std::string name;
    if (!ReadString(v, path, Str::kName, kMaxNameBytes, &name, &e)) return false;
    if (!nodes.insert(name).second) return e.Fail(path, "duplicate node " + Quote(name));
    h.nodes.push_back(std::move(name));
    return true;
  });
  std::set<TaskRef> running;
  r.Array("running", 0, kMaxBatch, false, [&](const Json& v, const std::string& path) {
    TaskRef t;
    ObjectReader o(v, path, {"job", "attempt", "rank"}, &e);
    if (!ReadTaskRef(o, &t)) return false;
    if (!running.insert(t).second) return e.Fail(path, "duplicate task");
    h.running.push_back(t);
    return true;
  });
  return e.Result(std::move(h));
}

Decoded<AgentReport> DecodeAgentReport(std::string_view body) {
  Errors e;
  Json doc;
  AgentReport a;
  if (!Parse(body, &doc, &e)) return e.Result(std::move(a));
  ObjectReader r(doc, "", {"reports"}, &e);
  r.Array("reports", 1, kMaxBatch, true, [&](const Json& v, const std::string& path) {
    TaskReport t;
    ObjectReader o(v, path, {"job", "attempt", "rank", "state", "exit_code", "signal", "log"}, &e);
    ReadTaskRef(o, &t.task);
    o.Enum("state", {"running", "exited"}, &t.state, true);
    o.Int("exit_code", -1, 255, &t.exit_code);  // -1: ended, status unknown (an adopted task)
    o.Int("signal", 0, 64, &t.signal);
    o.String("log", Str::kBytes, kMaxArgBytes, &t.log);
    if (!o.ok()) return false;
    if (t.state == "running" && (t.exit_code != 0 || t.signal != 0)) {
      return o.Fail(t.exit_code != 0 ? "exit_code" : "signal", "must be 0 while running");
    }
    a.reports.push_back(std::move(t));
    return true;
  });
  return e.Result(std::move(a));
}

// ---- Tasks -------------------------------------------------------------------------------------------------------

std::string EncodeTask(const Task& t) {
  return Dump({{"job", t.ref.job},
               {"attempt", t.ref.attempt},
               {"rank", t.ref.rank},
               {"node", t.node},
               {"gpus", t.gpus},
               {"world_size", t.world_size},
               {"nnodes", t.nnodes},
               {"master_addr", t.master_addr},
               {"master_port", t.master_port},
               {"command", t.command},
               {"env", EnvJson(t.env)},
               {"duration_s", t.duration_s},
               {"grace_s", t.grace_s},
               {"tenant", t.tenant}});
}

Decoded<Task> DecodeTask(std::string_view json) {
  Errors e;
  Json doc;
  Task t;
  if (!Parse(json, &doc, &e)) return e.Result(std::move(t));
  ObjectReader r(doc, "",
                 {"job", "attempt", "rank", "node", "gpus", "world_size", "nnodes", "master_addr", "master_port",
                  "command", "env", "duration_s", "grace_s", "tenant"},
                 &e);
  constexpr bool kRequired = true;  // every member: EncodeTask writes them all
  ReadTaskRef(r, &t.ref);
  r.Name("node", &t.node);
  std::set<int32_t> gpus;
  r.Array("gpus", 0, kMaxNodeGpus, kRequired, [&](const Json& v, const std::string& path) {
    int32_t g = 0;
    if (!ReadInt(v, path, 0, kMaxNodeGpus - 1, &g, &e)) return false;
    if (!gpus.insert(g).second) return e.Fail(path, "duplicate GPU " + std::to_string(g));
    t.gpus.push_back(g);
    return true;
  });
  r.Int("world_size", 0, kMaxGpus, &t.world_size, kRequired);
  r.Int("nnodes", 1, kMaxGpus, &t.nnodes, kRequired);
  r.String("master_addr", Str::kAddr, kMaxAddrBytes, &t.master_addr, kRequired);
  r.Int("master_port", 1, 65535, &t.master_port, kRequired);
  r.Command("command", &t.command, kRequired);
  r.Env("env", &t.env, kRequired);
  r.Int("duration_s", 0, kMaxTimeLimitS, &t.duration_s, kRequired);
  r.Int("grace_s", 0, kMaxGraceS, &t.grace_s, kRequired);
  r.Name("tenant", &t.tenant);
  if (r.ok() && t.ref.rank >= t.nnodes) r.Fail("rank", "must be below nnodes (" + std::to_string(t.nnodes) + ")");
  return e.Result(std::move(t));
}

// ---- Query parameters --------------------------------------------------------------------------------------------

Decoded<int64_t> DecodeIntParam(std::string_view name, std::string_view text, int64_t lo, int64_t hi) {
  Errors e;
  std::string field(name);
  std::string want = "must be a decimal integer in " + Range(lo, hi);
  bool digits = !text.empty() && text.size() <= 20;
  for (size_t i = 0; digits && i < text.size(); ++i) {
    digits = IsDigit(text[i]) || (i == 0 && text[i] == '-' && lo < 0 && text.size() > 1);
  }
  int64_t x = 0;
  if (!digits) {
    e.Fail(field, want + ", not " + Quote(text));
  } else if (std::from_chars(text.data(), text.data() + text.size(), x).ec != std::errc() || x < lo || x > hi) {
    e.Fail(field, "out of range: " + std::string(text) + " (" + want + ")");
  }
  return e.Result(x);
}

Decoded<std::vector<std::string>> DecodeListParam(std::string_view name, std::string_view text, size_t max_items) {
  Errors e;
  std::string field(name);
  std::vector<std::string> items;
  size_t start = 0;
  while (e.ok()) {
    size_t comma = text.find(',', start);
    std::string_view item = text.substr(start, comma == std::string_view::npos ? text.size() - start : comma - start);
    if (items.size() == max_items) {
      e.Fail(field, "too many items (at most " + std::to_string(max_items) + ")");
    } else if (!IsName(item)) {
      e.Fail(field, "item " + std::to_string(items.size() + 1) + " " + kNameRule + ", not " + Quote(item));
    } else {
      items.emplace_back(item);
    }
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return e.Result(std::move(items));
}

}  // namespace rackscale::ctl
