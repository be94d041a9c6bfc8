#include <gtest/gtest.h>

#include "base/file.h"
#include "base/random.h"
#include "base/text.h"
#include "model/cluster.h"
#include "test_util.h"

namespace rackscale {
namespace {

TEST(Text, ParseTruncatedTruncatesTowardZero) {
  EXPECT_EQ(*ParseTruncated("12"), 12);
  EXPECT_EQ(*ParseTruncated("12.9"), 12);
  EXPECT_EQ(*ParseTruncated("1.29e1"), 12);
  EXPECT_EQ(*ParseTruncated("-0.5"), 0);
  EXPECT_EQ(*ParseTruncated("-1.5"), -1);
  EXPECT_EQ(*ParseTruncated("-1"), -1);
  EXPECT_FALSE(ParseTruncated(""));
  EXPECT_FALSE(ParseTruncated("1x"));
  EXPECT_FALSE(ParseTruncated("nan"));
  EXPECT_FALSE(ParseTruncated("inf"));
  EXPECT_FALSE(ParseTruncated("1e300"));
}

TEST(Text, LineCursorStripsCrAndCountsLines) {
  LineCursor c("a\r\nb\n\nc");
  std::string_view l;
  std::vector<std::string> got;
  while (c.Next(&l)) got.emplace_back(l);
  EXPECT_EQ(got, (std::vector<std::string>{"a", "b", "", "c"}));
  EXPECT_EQ(c.line_no(), 4);
}

TEST(Text, QuoteEscapesUnprintableBytes) {
  EXPECT_EQ(Quote(std::string("a\x01z", 3)), "'a\\x01z'");
  EXPECT_EQ(Quote(std::string(50, 'x')), "'" + std::string(40, 'x') + "...'");
}

TEST(Error, ToStringNamesSourceLineAndField) {
  Error e = Error::InvalidInput("t.swf", 12, "run time", "expected a number, got 'x'");
  EXPECT_EQ(e.ToString(), "t.swf:12: field 'run time': expected a number, got 'x'");
  EXPECT_EQ(Error::Io("f", "cannot open").ToString(), "f: cannot open");
}

TEST(File, GzipRoundTripAndTruncatedStreamIsAnError) {
  std::string dir = testing::TempDir();
  std::string plain = dir + "/a.txt";
  ASSERT_TRUE(WriteFile(plain, "hello\nworld\n").ok());
  std::string out;
  ASSERT_EQ(testing::RunCommand("gzip -k " + plain, &out), 0) << out;
  auto r = ReadFileMaybeGz(plain + ".gz");
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(*r, "hello\nworld\n");
  std::FILE* f = std::fopen((plain + ".gz").c_str(), "rb");
  std::string raw(4096, '\0');
  raw.resize(std::fread(raw.data(), 1, raw.size(), f));
  std::fclose(f);
  auto bad = Gunzip(std::string_view(raw).substr(0, raw.size() - 6), "cut.gz");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().ToString().find("cut.gz"), std::string::npos);
  EXPECT_FALSE(ReadFileMaybeGz(dir + "/missing").ok());
  EXPECT_EQ(ReadFileMaybeGz(dir + "/missing").error().kind, ErrorKind::kIo);
}

TEST(Cluster, ParsesFlatSpec) {
  EXPECT_EQ(ParseClusterSpec("flat:100", "x")->slots, 100);
  for (const char* bad : {"flat:0", "flat:-1", "flat:", "flat:1x", "grid:4", "100"}) {
    auto r = ParseClusterSpec(bad, "--cluster");
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().field, "cluster");
  }
}

TEST(Random, SameSeedSameStreamAndUniformInRange) {
  Rng a(42), b(42), c(43);
  bool differs = false;
  for (int i = 0; i < 1000; ++i) {
    uint64_t x = a.Next();
    EXPECT_EQ(x, b.Next());
    differs |= x != c.Next();
  }
  EXPECT_TRUE(differs);
  Rng r(7);
  double sum = 0;
  for (int i = 0; i < 100000; ++i) {
    double u = r.Uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u;
    ASSERT_LT(r.Below(10), 10u);
  }
  EXPECT_NEAR(sum / 100000, 0.5, 0.01);
}

}  // namespace
}  // namespace rackscale
