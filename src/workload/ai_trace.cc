#include "workload/ai_trace.h"

#include <algorithm>
#include <array>
#include <cmath>

#include <fmt/format.h>

#include "base/file.h"
#include "base/random.h"
#include "base/text.h"

namespace rackscale {

const char* TopologyScopeName(TopologyScope s) {
  switch (s) {
    case TopologyScope::kAny: return "any";
    case TopologyScope::kBlock: return "block";
    case TopologyScope::kDomain: return "domain";
    case TopologyScope::kNode: return "node";
    case TopologyScope::kMultiSite: return "multi-site";
  }
  return "?";
}

bool ParseTopologyScope(std::string_view s, TopologyScope* out) {
  for (TopologyScope t : {TopologyScope::kAny, TopologyScope::kBlock, TopologyScope::kDomain,
                          TopologyScope::kNode, TopologyScope::kMultiSite}) {
    if (s == TopologyScopeName(t)) {
      *out = t;
      return true;
    }
  }
  return false;
}

namespace {

enum Col {
  kId, kSubmit, kRuntime, kGpus, kWalltime, kTenant, kCpu, kMem, kModels, kTopology, kPriority,
  kPreemptible, kGpuMilli, kCheckpoint, kNumCols
};
constexpr std::array<const char*, kNumCols> kColNames = {
    "id",  "submit",     "runtime", "gpus",     "walltime", "tenant",
    "cpu_milli", "memory_mib", "models", "topology", "priority", "preemptible", "gpu_milli", "checkpoint"};
constexpr size_t kMaxFields = 24;

}  // namespace

Result<AiWorkload> ParseAiCsv(std::string_view text, const std::string& source,
                              bool skip_bad_lines) {
  AiWorkload w;
  w.tenants.emplace_back();
  // The flat reader's bookkeeping: a Workload only to count bad lines.
  Workload counts;
  internal::BadLineSink sink(&counts, skip_bad_lines);
  Workload tenant_table;
  tenant_table.tenants.emplace_back();
  internal::TenantInterner tenants(&tenant_table);
  LineCursor cur(text);
  std::string_view line;
  std::string_view f[kMaxFields];
  std::array<int, kNumCols> pos;
  size_t ncols = 0;
  bool header = false;
  while (cur.Next(&line)) {
    if (Trim(line).empty()) continue;
    const int64_t ln = cur.line_no();
    if (!header) {
      // The required columns (id, submit, runtime, gpus) come first.
      if (Status st = internal::MapHeader(line, source, ln, kColNames.data(), kNumCols, kWalltime,
                                          pos.data(), &ncols);
          !st) {
        return st.error();
      }
      header = true;
      continue;
    }
    size_t n = internal::SplitDelimited(line, ',', f, kMaxFields);
    if (n != ncols) {
      if (!sink.Skip(Error::InvalidInput(source, ln, "",
                                         fmt::format("expected {} fields as in the header, found {}",
                                                     ncols, n)))) {
        return sink.TakeError();
      }
      continue;
    }
    auto field = [&](int c) { return pos[c] >= 0 ? Trim(f[pos[c]]) : std::string_view(); };
    AiJob j;
    j.line = ln;
    bool ok = true;
    auto bad = [&](int c, std::string msg) {
      ok = false;
      return sink.Skip(Error::InvalidInput(source, ln, kColNames[c], std::move(msg)));
    };
    struct IntCol {
      int col;
      int64_t* out;
      int64_t lo, hi;
    };
    int64_t gpus = 0, priority = 0, gpu_milli = 1000;
    const int64_t kBig = int64_t{1} << 50;
    IntCol ints[] = {{kId, &j.id, -kBig, kBig},          {kSubmit, &j.submit, -kBig, kBig},
                     {kRuntime, &j.runtime, -kBig, kBig}, {kGpus, &gpus, 0, 1 << 24},
                     {kWalltime, &j.requested, -kBig, kBig}, {kCpu, &j.cpu_milli, 0, kBig},
                     {kMem, &j.memory_mib, 0, kBig},      {kPriority, &priority, -1000000, 1000000},
                     {kGpuMilli, &gpu_milli, 1, 1000}};
    for (const IntCol& c : ints) {
      std::string_view tok = field(c.col);
      if (tok.empty() && c.col != kId && c.col != kSubmit && c.col != kRuntime && c.col != kGpus) {
        continue;  // optional and empty
      }
      auto v = ParseInt(tok);
      if (!v || *v < c.lo || *v > c.hi) {
        if (!bad(c.col, fmt::format("expected an integer in [{}, {}], got {}", c.lo, c.hi, Quote(tok)))) {
          return sink.TakeError();
        }
        break;
      }
      *c.out = *v;
    }
    if (!ok) continue;
    j.gpus = static_cast<int32_t>(gpus);
    j.gpu_milli = static_cast<int32_t>(gpu_milli);
    if (gpu_milli < 1000 && gpus != 1) {
      if (!bad(kGpuMilli, fmt::format("a share of a GPU ({} milli) needs gpus = 1, got {}",
                                      gpu_milli, gpus))) {
        return sink.TakeError();
      }
      continue;
    }
    j.priority = static_cast<int32_t>(priority);
    if (std::string_view t = field(kTopology); !t.empty() && !ParseTopologyScope(t, &j.topology)) {
      if (!bad(kTopology, fmt::format("expected any, block, domain, node or multi-site, got {}", Quote(t)))) {
        return sink.TakeError();
      }
      continue;
    }
    if (std::string_view p = field(kPreemptible); !p.empty()) {
      if (p == "1" || p == "true") {
        j.preemptible = true;
      } else if (!(p == "0" || p == "false")) {
        if (!bad(kPreemptible, fmt::format("expected 0, 1, true or false, got {}", Quote(p)))) {
          return sink.TakeError();
        }
        continue;
      }
    }
    if (std::string_view c = field(kCheckpoint); !c.empty()) {
      auto secs = ParseInt(c);
      if (c == "auto") {
        j.checkpoint = kCheckpointAuto;
      } else if (c == "none") {
        j.checkpoint = kCheckpointNone;
      } else if (secs && *secs > 0 && *secs <= int64_t{1} << 40) {
        j.checkpoint = static_cast<double>(*secs);
      } else {
        if (!bad(kCheckpoint, fmt::format("expected seconds > 0, auto or none, got {}", Quote(c)))) {
          return sink.TakeError();
        }
        continue;
      }
    }
    if (std::string_view m = field(kModels); !m.empty()) {
      j.models = 0;
      std::string_view names[kMaxGpuModels + 1];
      size_t k = internal::SplitDelimited(m, '|', names, kMaxGpuModels + 1);
      for (size_t i = 0; i < k && i <= kMaxGpuModels && ok; ++i) {
        auto id = Trim(names[i]).empty() ? std::nullopt : w.models.Intern(Trim(names[i]));
        if (!id) {
          if (!bad(kModels, fmt::format("expected GPU model names separated by '|', got {}", Quote(m)))) {
            return sink.TakeError();
          }
        } else {
          j.models |= GpuModelMask{1} << *id;
        }
      }
      if (!ok) continue;
    }
    j.tenant = tenants.Intern(field(kTenant));
    w.jobs.push_back(j);
  }
  if (!header) return Error::InvalidInput(source, 0, "header", "empty file; expected a header");
  // Ids must be unique: the same check as the flat readers', on a shadow
  // list of (id, line).
  {
    Workload ids;
    ids.jobs.reserve(w.jobs.size());
    for (const AiJob& j : w.jobs) {
      Job x;
      x.id = j.id;
      x.line = j.line;
      ids.jobs.push_back(x);
    }
    const size_t before = ids.jobs.size();
    internal::BadLineSink id_sink(&counts, skip_bad_lines);
    if (Status s = internal::RemoveDuplicateIds(&ids, source, &id_sink); !s) return s.error();
    if (ids.jobs.size() != before) {
      std::vector<AiJob> kept;
      kept.reserve(ids.jobs.size());
      size_t k = 0;
      for (const AiJob& j : w.jobs) {
        if (k < ids.jobs.size() && ids.jobs[k].line == j.line) {
          kept.push_back(j);
          ++k;
        }
      }
      w.jobs = std::move(kept);
    }
  }
  w.tenants = std::move(tenant_table.tenants);
  w.bad_lines = counts.bad_lines;
  w.bad_line_errors = std::move(counts.bad_line_errors);
  return w;
}

Result<AiWorkload> ReadAiWorkload(const std::string& path, bool skip_bad_lines,
                                  int32_t domain_gpus, const std::string& format) {
  auto data = ReadFileMaybeGz(path, "CSV");
  if (!data) return data.error();
  bool philly = format == "philly";
  if (format == "auto") {
    auto guessed = GuessTraceFormat(path, *data);
    philly = guessed.ok() && *guessed == TraceFormat::kPhilly;
  }
  if (philly) {
    auto p = ParsePhilly(*data, path, skip_bad_lines);
    if (!p) return p.error();
    AiWorkload w;
    w.tenants = p->tenants;
    w.bad_lines = p->bad_lines;
    w.bad_line_errors = p->bad_line_errors;
    for (const Job& x : p->jobs) {
      AiJob j;
      j.id = x.id;
      j.tenant = x.tenant;
      j.submit = x.submit;
      j.runtime = x.runtime;
      j.gpus = static_cast<int32_t>(std::clamp<SlotCount>(x.size, -1, 1 << 24));
      j.topology = j.gpus <= domain_gpus ? TopologyScope::kDomain : TopologyScope::kAny;
      j.line = x.line;
      w.jobs.push_back(j);
    }
    return w;
  }
  return ParseAiCsv(*data, path, skip_bad_lines);
}

std::string FormatAiCsv(const AiWorkload& w) {
  OutBuffer out;
  out.Reserve(w.jobs.size() * 64 + 128);
  // gpu_milli only when some pod shares a GPU: whole-GPU workloads keep the
  // twelve-column form.
  const bool shares = std::any_of(w.jobs.begin(), w.jobs.end(),
                                  [](const AiJob& j) { return j.fractional(); });
  out.Put("id,submit,runtime,gpus,walltime,tenant,cpu_milli,memory_mib,models,topology,priority,"
          "preemptible");
  const bool checkpoints = std::any_of(w.jobs.begin(), w.jobs.end(), [](const AiJob& j) {
    return j.checkpoint != kCheckpointDefault;
  });
  out.Put(shares ? ",gpu_milli" : "");
  out.Put(checkpoints ? ",checkpoint\n" : "\n");
  for (const AiJob& j : w.jobs) {
    out.PutInt(j.id);
    out.Put(',');
    out.PutInt(j.submit);
    out.Put(',');
    out.PutInt(j.runtime);
    out.Put(',');
    out.PutInt(j.gpus);
    out.Put(',');
    out.PutInt(j.requested);
    out.Put(',');
    out.Put(w.tenants[j.tenant]);
    out.Put(',');
    out.PutInt(j.cpu_milli);
    out.Put(',');
    out.PutInt(j.memory_mib);
    out.Put(',');
    if (j.models != kAnyGpuModel) {
      bool first = true;
      for (size_t m = 0; m < w.models.size(); ++m) {
        if ((j.models >> m) & 1u) {
          if (!first) out.Put('|');
          out.Put(w.models.name(static_cast<GpuModelId>(m)));
          first = false;
        }
      }
    }
    out.Put(',');
    out.Put(TopologyScopeName(j.topology));
    out.Put(',');
    out.PutInt(j.priority);
    out.Put(',');
    out.Put(j.preemptible ? '1' : '0');
    if (shares) {
      out.Put(',');
      out.PutInt(j.gpu_milli);
    }
    if (checkpoints) {
      out.Put(',');
      if (j.checkpoint == kCheckpointAuto) {
        out.Put("auto");
      } else if (j.checkpoint == kCheckpointNone) {
        out.Put("none");
      } else if (j.checkpoint > 0) {
        out.PutInt(static_cast<int64_t>(j.checkpoint));
      }
    }
    out.Put('\n');
  }
  return out.Take();
}

namespace {
// GPU shares of the fractional pods of Alibaba's openb default workload
// (openb_pod_list_default.csv: 3,078 of its 7,064 GPU pods ask for part of a
// GPU), as 100 equally likely draws: each share appears about as often as it
// does there, in percent (810: 35.0 %, 470: 24.4 %, 320: 10.7 %, ...; shares
// under 0.8 % of the pods are left out).
constexpr std::array<int32_t, 100> kShareMilli = [] {
  std::array<int32_t, 100> t{};
  // (milli, percent of fractional pods)
  constexpr std::pair<int32_t, int> kCounts[] = {{810, 35}, {470, 24}, {320, 11}, {650, 8},
                                                 {230, 5},  {460, 4},  {590, 3},  {160, 3},
                                                 {550, 2},  {220, 2},  {370, 2},  {110, 1}};
  size_t k = 0;
  for (auto [milli, pct] : kCounts) {
    for (int i = 0; i < pct; ++i) t[k++] = milli;
  }
  return t;
}();
}  // namespace

Result<AiWorkload> GenerateAi(const AiGenParams& p) {
  auto bad = [](const char* flag, const char* msg) {
    return Error::InvalidInput("gen ai", 0, flag, msg);
  };
  if (p.jobs < 1 || p.jobs > 100'000'000) return bad("--jobs", "expected 1 to 100,000,000 jobs");
  if (!(p.days > 0 && p.days <= 36500)) return bad("--days", "expected a span in (0, 36500] days");
  if (p.tenants < 1 || p.tenants > 10000) return bad("--tenants", "expected 1 to 10,000 tenants");
  if (!(p.cpu_fraction >= 0 && p.cpu_fraction <= 1)) return bad("--cpu-fraction", "expected [0, 1]");
  if (!(p.preemptible_fraction >= 0 && p.preemptible_fraction <= 1)) {
    return bad("--preemptible-fraction", "expected [0, 1]");
  }
  if (!(p.gang_fraction >= 0 && p.gang_fraction <= 1)) return bad("--gang-fraction", "expected [0, 1]");
  if (!(p.share_fraction >= 0 && p.share_fraction <= 1)) return bad("--share-fraction", "expected [0, 1]");
  if (p.max_gang < 256 || p.max_gang > (1 << 24)) return bad("--max-gang", "expected 256 to 2^24");
  if (p.domain_gpus < 1) return bad("--domain-gpus", "expected at least 1");
  if (!(p.load >= 0 && p.load <= 100)) return bad("--load", "expected an offered load in [0, 100]");
  if (p.load > 0 && p.capacity_gpus <= 0) return bad("--gpus", "--load needs the fleet's --gpus");
  Rng rng(p.seed);
  AiWorkload w;
  w.tenants.emplace_back();
  for (int32_t t = 0; t < p.tenants; ++t) w.tenants.push_back(fmt::format("t{}", t));
  // Tenant shares ~ 1/(rank), Zipf-like: a few big tenants, a long tail.
  std::vector<double> cum;
  double total = 0;
  for (int32_t t = 0; t < p.tenants; ++t) cum.push_back(total += 1.0 / (t + 1));
  const double span = p.days * 86400.0;
  const double gap = span / static_cast<double>(p.jobs);
  double t = 0;
  w.jobs.resize(static_cast<size_t>(p.jobs));
  const int max_pow = static_cast<int>(std::floor(std::log2(p.max_gang)));
  for (int64_t i = 0; i < p.jobs; ++i) {
    AiJob& j = w.jobs[static_cast<size_t>(i)];
    j.id = i + 1;
    t += rng.Exponential(gap);
    j.submit = static_cast<Seconds>(t);
    double u = rng.Uniform() * total;
    j.tenant = static_cast<TenantId>(1 + (std::lower_bound(cum.begin(), cum.end(), u) - cum.begin()));
    if (j.tenant > static_cast<TenantId>(p.tenants)) j.tenant = static_cast<TenantId>(p.tenants);
    double rt;
    if (rng.Bernoulli(p.cpu_fraction)) {
      j.gpus = 0;
      j.cpu_milli = 1000 * static_cast<int64_t>(std::exp2(rng.Below(7)));  // 1..64 cores
      j.memory_mib = j.cpu_milli * 4;
      rt = rng.LogNormal(std::log(600.0), 1.5);
    } else if (rng.Bernoulli(p.gang_fraction)) {
      // Gangs of 2^8 .. 2^max_pow GPUs, log-uniform; they run for hours to weeks.
      j.gpus = 1 << (8 + static_cast<int>(rng.Below(static_cast<uint64_t>(max_pow - 8 + 1))));
      if (p.max_gang_exact && j.gpus == 1 << max_pow) j.gpus = p.max_gang;
      rt = rng.LogNormal(std::log(12 * 3600.0), 1.0);
    } else {
      // Philly/Helios-like: mostly single GPUs, then 2/4/8, a few 16-128.
      double x = rng.Uniform();
      j.gpus = x < 0.55 ? 1 : x < 0.63 ? 2 : x < 0.73 ? 4 : x < 0.92 ? 8
                                                               : 16 << rng.Below(4);
      rt = rng.LogNormal(std::log(1800.0), 2.0);
    }
    j.runtime = static_cast<Seconds>(std::llround(std::clamp(rt, 1.0, 30 * 86400.0)));
    j.requested = static_cast<Seconds>(
                      std::ceil(static_cast<double>(j.runtime) * (1.0 + rng.Exponential(1.0)) / 900.0)) *
                  900;
    j.topology = j.gpus == 0 ? TopologyScope::kNode
                 : j.gpus <= p.domain_gpus ? TopologyScope::kDomain
                                           : TopologyScope::kAny;
    j.preemptible = j.gpus > 0 && j.gpus <= 8 && rng.Bernoulli(p.preemptible_fraction);
    // Drawn only when asked for, so that workloads without shares keep
    // their random stream (and bytes).
    if (p.share_fraction > 0 && j.gpus == 1 && rng.Bernoulli(p.share_fraction)) {
      j.gpu_milli = kShareMilli[rng.Below(kShareMilli.size())];
    }
  }
  if (p.load > 0 && p.capacity_gpus > 0) {
    // Scale GPU runtimes to the offered load; a few passes absorb the clamp.
    constexpr double kMaxRuntime = 60 * 86400.0;
    std::vector<double> base(w.jobs.size());
    for (size_t i = 0; i < w.jobs.size(); ++i) base[i] = static_cast<double>(w.jobs[i].runtime);
    const double target = p.load * static_cast<double>(p.capacity_gpus) * span;
    double k = 1;
    for (int pass = 0; pass < 8; ++pass) {
      double work = 0;
      for (size_t i = 0; i < w.jobs.size(); ++i) {
        if (w.jobs[i].gpus > 0) work += w.jobs[i].gpu_share() * std::min(base[i] * k, kMaxRuntime);
      }
      if (work <= 0) break;
      k *= target / work;
    }
    for (size_t i = 0; i < w.jobs.size(); ++i) {
      AiJob& j = w.jobs[i];
      if (j.gpus == 0) continue;
      j.runtime = static_cast<Seconds>(std::llround(std::clamp(base[i] * k, 1.0, kMaxRuntime)));
      j.requested = static_cast<Seconds>(std::ceil(static_cast<double>(j.runtime) * 1.5 / 900.0)) * 900;
    }
  }
  return w;
}

}  // namespace rackscale
