// The fleet model: TOML descriptions, the shipped examples, openb node lists
// as clusters, and errors that name the line and the key path.
#include <gtest/gtest.h>

#include "model/fleet.h"
#include "test_util.h"
#include "workload/openb.h"

namespace rackscale {
namespace {

const char* kMini = R"(
[accelerators.X]
busy_watts = 700
idle_watts = 100

[nodes.gpu4]
cpu_milli = 64000
memory_mib = 262144
gpus = 4
accelerator = "X"

[nodes.cpu]
cpu_milli = 96000
memory_mib = 393216

[domains.D8]
node = "gpu4"
nodes = 2

[[sites]]
name = "a"
power_cap_mw = 1.5

  [[sites.pools]]
  domain = "D8"
  count = 5
  per_block = 2

  [[sites.pools]]
  node = "cpu"
  count = 3
)";

TEST(FleetToml, BuildsTheTopology) {
  auto f = ParseFleetToml(kMini, "mini.toml");
  ASSERT_TRUE(f.ok()) << f.error().ToString();
  // 5 domains of type D8 in blocks of 2 -> 3 blocks (2, 2, 1); 3 CPU nodes in one block.
  EXPECT_EQ(f->sites.size(), 1u);
  EXPECT_EQ(f->blocks.size(), 4u);
  EXPECT_EQ(f->blocks[2].num_domains, 1);
  EXPECT_EQ(f->domains.size(), 8u);
  EXPECT_EQ(f->nodes.size(), 13u);  // 5 x 2 GPU nodes + 3 CPU nodes
  EXPECT_EQ(f->TotalGpus(), 40);
  EXPECT_EQ(f->TotalCpuMilli(), 10 * 64000 + 3 * 96000);
  EXPECT_EQ(f->domains[0].gpus, 8);
  EXPECT_EQ(f->domains[5].gpus, 0);
  EXPECT_EQ(f->domain_types.back().name, "node:cpu");
  // Every level is a contiguous range of the next.
  for (size_t d = 0; d < f->domains.size(); ++d) {
    const Domain& dom = f->domains[d];
    for (int32_t n = dom.first_node; n < dom.first_node + dom.num_nodes; ++n) {
      EXPECT_EQ(f->nodes[static_cast<size_t>(n)].domain, static_cast<int32_t>(d));
    }
  }
  EXPECT_DOUBLE_EQ(f->sites[0].power_cap_mw, 1.5);
  EXPECT_EQ(f->sites[0].num_blocks, 4);
}

void ExpectError(const std::string& text, int64_t line, const std::string& field,
                 const std::string& fragment) {
  auto f = ParseFleetToml(text, "t.toml");
  ASSERT_FALSE(f.ok()) << "accepted: " << text;
  EXPECT_EQ(f.error().line, line) << f.error().ToString();
  EXPECT_EQ(f.error().field, field) << f.error().ToString();
  EXPECT_NE(f.error().message.find(fragment), std::string::npos) << f.error().ToString();
}

TEST(FleetToml, ErrorsNameLineAndKeyPath) {
  std::string t = kMini;
  auto replace = [&](const std::string& from, const std::string& to) {
    std::string s = t;
    s.replace(s.find(from), from.size(), to);
    return s;
  };
  ExpectError(replace("count = 5", "count = -5"), 26, "sites[0].pools[0].count", "expected an integer in [1");
  ExpectError(replace("count = 5", "count = \"five\""), 26, "sites[0].pools[0].count", "expected an integer");
  ExpectError(replace("accelerator = \"X\"", "accelerator = \"Y\""), 10, "nodes.gpu4.accelerator",
              "unknown accelerator type 'Y'");
  ExpectError(replace("per_block = 2", "per_blok = 2"), 27, "sites[0].pools[0].per_blok", "unknown key");
  ExpectError(replace("node = \"gpu4\"", "node = \"gpu5\""), 17, "domains.D8.node", "unknown node type");
  ExpectError(replace("busy_watts = 700", "busy_watts = 700\nbusy_watts = 1"), 4, "",
              "TOML syntax");
  ExpectError(replace("name = \"a\"\n", ""), 20, "sites[0].name", "missing");
  ExpectError("[nodes.x]\ncpu_milli = 1\nmemory_mib = 1\n", 1, "sites", "missing");
  ExpectError(replace("  domain = \"D8\"\n", "  domain = \"D8\"\n  node = \"cpu\"\n"), 25,
              "sites[0].pools[0].domain", "exactly one");
}

TEST(FleetToml, PlainAsciiOnly) {
  // Found by fuzz/fuzz_toml.cc: toml++ 3.3 reaches an unreachable branch on
  // some non-ASCII code points it scans outside strings, even after a syntax
  // error; rackscale refuses non-ASCII first, with the line.
  auto bad = ParseFleetToml("a = 1\n\xef\xb4\xbf\n", "t.toml");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().line, 2);
  EXPECT_NE(bad.error().message.find("non-ASCII"), std::string::npos);
  EXPECT_FALSE(ParseTenantsToml("\xef\xb4\xbf", "t.toml").ok());
  EXPECT_FALSE(ParseTenantsToml("a = 1==='=\xc3\xbe\n", "t.toml").ok());
  auto in_string = ParseFleetToml(std::string(kMini) + "# ok\nx = \"caf\xc3\xa9\"\n", "t.toml");
  ASSERT_FALSE(in_string.ok());
  EXPECT_NE(in_string.error().message.find("non-ASCII"), std::string::npos);
  // Not even in comments (toml++ may be inside a string there).
  auto in_comment = ParseFleetToml("  # caf\xc3\xa9\n" + std::string(kMini), "t.toml");
  ASSERT_FALSE(in_comment.ok());
  EXPECT_EQ(in_comment.error().line, 1);
}

TEST(FleetToml, ShippedExamplesLoad) {
  for (const char* ex : {"small.toml", "mixed.toml", "fleet-500k.toml", "llama3-16k.toml"}) {
    auto f = ReadFleetToml(std::string(RACKSCALE_SOURCE_DIR) + "/examples/" + ex);
    ASSERT_TRUE(f.ok()) << f.error().ToString();
    EXPECT_GT(f->TotalGpus(), 0) << ex;
  }
  auto big = ReadFleetToml(std::string(RACKSCALE_SOURCE_DIR) + "/examples/fleet-500k.toml");
  EXPECT_EQ(big->TotalGpus(), 504000);
  EXPECT_EQ(big->domains.size(), 7000u + 10560u);
  EXPECT_GE(big->TotalCpuMilli() - 126000LL * 144000, 2'000'000LL * 1000);  // CPU nodes: >= 2M cores
}

TEST(TenantsToml, ServicesAndPricesAndTheirErrors) {
  auto ok = ParseTenantsToml(R"([[tenants]]
name = "inf"
reserved_usd_per_gpu_hour = 2.5
[[services]]
name = "chat"
tenant = "inf"
rate = "0:1000,3600:2000"
tokens_per_request = 500
gpus_per_replica = 8
tokens_per_s_per_replica = 9000
max_replicas = 4
count = 3
stagger_hours = 8
)",
                             "t.toml");
  ASSERT_TRUE(ok.ok()) << ok.error().ToString();
  EXPECT_DOUBLE_EQ(ok->tenants[0].reserved_usd_per_gpu_hour, 2.5);
  ASSERT_EQ(ok->services.size(), 1u);
  EXPECT_EQ(ok->services[0].count, 3);
  EXPECT_EQ(ok->services[0].max_replicas, 4);
  auto both = ParseTenantsToml(
      "[[tenants]]\nname = \"a\"\n[[services]]\nname = \"s\"\ntenant = \"a\"\ntrace = \"x.csv\"\n"
      "rate = \"5\"\ngpus_per_replica = 8\ntokens_per_s_per_replica = 1\nmax_replicas = 1\n",
      "t.toml");
  ASSERT_FALSE(both.ok());
  EXPECT_EQ(both.error().field, "services[0].trace");
  EXPECT_EQ(both.error().line, 6);  // the line of `trace`
  auto minmax = ParseTenantsToml(
      "[[tenants]]\nname = \"a\"\n[[services]]\nname = \"s\"\ntenant = \"a\"\nrate = \"5\"\n"
      "gpus_per_replica = 8\ntokens_per_s_per_replica = 1\nmin_replicas = 3\nmax_replicas = 2\n",
      "t.toml");
  ASSERT_FALSE(minmax.ok());
  EXPECT_EQ(minmax.error().field, "services[0].min_replicas");
  auto missing = ParseTenantsToml(
      "[[tenants]]\nname = \"a\"\n[[services]]\nname = \"s\"\ntenant = \"a\"\nrate = \"5\"\n",
      "t.toml");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().field, "services[0].gpus_per_replica");
  auto spares = ParseFleetToml(R"([accelerators.A]
busy_watts = 1
[nodes.n]
cpu_milli = 1000
memory_mib = 1
gpus = 1
accelerator = "A"
[domains.D]
node = "n"
nodes = 1
[[sites]]
name = "s"
  [[sites.pools]]
  domain = "D"
  count = 2
  spares = 2
)",
                               "f.toml");
  ASSERT_FALSE(spares.ok());
  EXPECT_EQ(spares.error().field, "sites[0].pools[0].spares");
  EXPECT_EQ(spares.error().line, 16);
}

TEST(FleetFromNodeList, OpenbNodesLoadDirectlyAsACluster) {
  RACKSCALE_REQUIRE_TRACE(path, "openb/openb_node_list_all_node.csv");
  auto f = LoadFleet(path);
  ASSERT_TRUE(f.ok()) << f.error().ToString();
  EXPECT_EQ(f->nodes.size(), 1523u);
  EXPECT_EQ(f->domains.size(), 1523u);
  EXPECT_EQ(f->TotalGpus(), 6212);
  EXPECT_EQ(f->models.size(), 7u);
}

}  // namespace
}  // namespace rackscale

namespace rackscale {
namespace {

// What FormatFleetToml writes, ParseFleetSpec reads back to the same spec:
// every number exactly (0.1, 1/3, days of 365/12), names with quotes and
// backslashes, node pools, spares and retire days.
TEST(FleetToml, WrittenSpecReadsBackTheSame) {
  auto spec = ParseFleetSpec(kMini, "mini.toml");
  ASSERT_TRUE(spec.ok()) << spec.error().ToString();
  spec->comment = "a comment\nof two lines";
  spec->catalog.accelerators[0].price_usd = 0.1;
  spec->catalog.accelerators[0].failures_per_year = 1.0 / 3;
  spec->sites[0].name = "we\"ird\\site";
  spec->sites[0].power_cap_mw = 1e-7;
  spec->sites[0].pools[0].online_day = 365.0 / 12;
  spec->sites[0].pools[0].retire_day = 3 * 365.0 / 12;
  spec->sites[0].pools[0].spares = 1;
  spec->sites[0].pools[0].comment = "ordered 2026-02";
  const std::string text = FormatFleetToml(*spec);
  auto back = ParseFleetSpec(text, "written.toml");
  ASSERT_TRUE(back.ok()) << back.error().ToString() << "\n" << text;
  // Comments are written, not read; all else is the same spec.
  FleetSpec bare = *spec;
  bare.comment.clear();
  for (SiteSpec& site : bare.sites) {
    for (PoolSpec& p : site.pools) p.comment.clear();
  }
  EXPECT_EQ(FormatFleetToml(*back), FormatFleetToml(bare));
  ASSERT_EQ(back->sites.size(), 1u);
  EXPECT_EQ(back->sites[0].name, "we\"ird\\site");
  EXPECT_EQ(back->sites[0].power_cap_mw, 1e-7);
  EXPECT_EQ(back->catalog.accelerators[0].price_usd, 0.1);
  EXPECT_EQ(back->catalog.accelerators[0].failures_per_year, 1.0 / 3);
  EXPECT_EQ(back->sites[0].pools[0].online_day, 365.0 / 12);
  EXPECT_EQ(back->sites[0].pools[0].retire_day, 3 * 365.0 / 12);
  EXPECT_EQ(back->sites[0].pools[0].spares, 1);
  EXPECT_EQ(back->sites[0].pools[1].node, "cpu");
  EXPECT_EQ(back->sites[0].pools[1].retire_day, -1);
  // And the fleets built from both are the same topology.
  auto a = BuildFleet(*spec, "a");
  auto b = BuildFleet(*back, "b");
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_EQ(a->domains.size(), b->domains.size());
  for (size_t d = 0; d < a->domains.size(); ++d) {
    EXPECT_EQ(a->domains[d].online, b->domains[d].online);
    EXPECT_EQ(a->domains[d].retire, b->domains[d].retire);
    EXPECT_EQ(a->domains[d].spare, b->domains[d].spare);
    EXPECT_EQ(a->domains[d].block, b->domains[d].block);
  }
}

TEST(FleetToml, BuildFleetNamesThePoolAtFault) {
  auto spec = ParseFleetSpec(kMini, "mini.toml");
  ASSERT_TRUE(spec.ok());
  spec->sites[0].pools[1].node = "nope";
  auto f = BuildFleet(*spec, "plan");
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.error().field, "sites[0].pools[1].node");
  EXPECT_NE(f.error().message.find("nope"), std::string::npos);
}

TEST(TenantsToml, WrittenConfigReadsBackTheSame) {
  TenantsConfig cfg;
  cfg.tenants.push_back(TenantSpec{"lab", 4, -1, "", -1, 2.34, 2.34, 0});
  cfg.tenants.push_back(TenantSpec{"od1", 1, 128, "c", 16, 0, 3.5, 1.4});
  DedicatedSpec d;
  d.tenant = "lab";
  d.domain_type = "NVL72";
  d.domains = 7;
  d.start_day = 365.0 / 12;
  d.end_day = 91.25;
  d.lend = false;
  cfg.dedicated.push_back(d);
  ServiceDef s;
  s.name = "lab-inference";
  s.tenant = "lab";
  s.rate = "1234567.8";
  s.gpus_per_replica = 72;
  s.tokens_per_s_per_replica = 864000;
  s.max_replicas = 3;
  s.batch_slots = 256;
  cfg.services.push_back(s);
  const std::string text = FormatTenantsToml(cfg, "written by a test");
  auto back = ParseTenantsToml(text, "t.toml");
  ASSERT_TRUE(back.ok()) << back.error().ToString() << "\n" << text;
  EXPECT_EQ(FormatTenantsToml(*back, "written by a test"), text);
  ASSERT_EQ(back->dedicated.size(), 1u);
  EXPECT_EQ(back->dedicated[0].start_day, 365.0 / 12);
  EXPECT_FALSE(back->dedicated[0].lend);
  EXPECT_EQ(back->tenants[1].nominal_gpus, 128);
  EXPECT_EQ(back->tenants[1].spot_usd_per_gpu_hour, 1.4);
  ASSERT_EQ(back->services.size(), 1u);
  EXPECT_EQ(back->services[0].rate, "1234567.8");
  EXPECT_EQ(back->services[0].batch_slots, 256);
}

}  // namespace
}  // namespace rackscale
