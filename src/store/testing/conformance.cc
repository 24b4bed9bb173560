#include "store/testing/conformance.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace nimbus::store {

// Drivers without a configured server leave the suite uninstantiated; that is not an error.
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(StoreConformance);

std::string ConformanceParamName(const testing::TestParamInfo<ConformanceParam>& info) {
  return info.param.name;
}

void PrintTo(const ConformanceParam& param, std::ostream* os) { *os << param.name; }

void StoreConformance::SetUp() {
  const ConformanceParam& param = GetParam();
  if (!param.skip_reason.empty()) GTEST_SKIP() << param.skip_reason;
  ASSERT_TRUE(param.make_store) << "ConformanceParam '" << param.name << "' has no make_store";
  store_ = param.make_store();
  ASSERT_NE(store_, nullptr) << "make_store returned nullptr without a skip_reason";
}

void StoreConformance::TearDown() {
  if (store_ == nullptr) return;
  // Best effort: leave nothing behind on shared servers (each test has its own prefix).
  auto listed = store_->ListSync({});
  if (!listed.ok()) return;
  std::vector<std::string> keys;
  for (const ObjectInfo& o : listed->objects) keys.push_back(o.key);
  if (!keys.empty()) (void)store_->DeleteMany(std::move(keys)).Get();
}

namespace {

constexpr uint64_t kMiB = 1024 * 1024;

// --- assertion helpers ------------------------------------------------------------------------

testing::AssertionResult IsOk(const Status& status) {
  if (status.ok()) return testing::AssertionSuccess();
  return testing::AssertionFailure() << status.ToString();
}
template <typename T>
testing::AssertionResult IsOk(const Result<T>& result) {
  return IsOk(result.status());
}

testing::AssertionResult HasKind(const Status& status, ErrorKind kind) {
  if (status.kind() == kind) return testing::AssertionSuccess();
  return testing::AssertionFailure()
         << "expected " << ErrorKindName(kind) << ", got " << status.ToString();
}
template <typename T>
testing::AssertionResult HasKind(const Result<T>& result, ErrorKind kind) {
  return HasKind(result.status(), kind);
}

// Compares bytes, reporting sizes and the first difference instead of dumping both.
testing::AssertionResult SameBytes(std::string_view actual, std::string_view expected) {
  if (actual == expected) return testing::AssertionSuccess();
  size_t n = std::min(actual.size(), expected.size());
  size_t at = 0;
  while (at < n && actual[at] == expected[at]) ++at;
  auto failure = testing::AssertionFailure();
  failure << "got " << actual.size() << " bytes, expected " << expected.size();
  if (at < n) {
    failure << "; first difference at offset " << at << " (0x" << std::hex
            << int(static_cast<unsigned char>(actual[at])) << " vs 0x"
            << int(static_cast<unsigned char>(expected[at])) << std::dec << ")";
  }
  if (actual.size() + expected.size() <= 200) {
    failure << "\n  got:      \"" << actual << "\"\n  expected: \"" << expected << "\"";
  }
  return failure;
}

// --- data helpers ------------------------------------------------------------------------------

uint64_t SplitMix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

// Bytes [offset, offset+size) of an endless pattern in which every 8-byte word depends on its
// position, so misplaced, repeated or dropped parts are detected.
void FillPattern(uint64_t seed, uint64_t offset, char* out, size_t size) {
  uint64_t word_index = offset / 8;
  size_t skip = offset % 8;
  size_t written = 0;
  while (written < size) {
    uint64_t word = SplitMix64(seed * 0x100000001B3ULL + word_index++);
    char bytes[8];
    std::memcpy(bytes, &word, 8);
    size_t take = std::min<size_t>(8 - skip, size - written);
    std::memcpy(out + written, bytes + skip, take);
    written += take;
    skip = 0;
  }
}

std::string Pattern(uint64_t seed, uint64_t offset, size_t size) {
  std::string out(size, '\0');
  FillPattern(seed, offset, out.data(), size);
  return out;
}

std::string Slice(const std::string& s, ByteRange range) {
  auto [begin, end] = range.Resolve(s.size());
  return s.substr(begin, end - begin);
}

Result<std::string> Read(ObjectStore& store, const std::string& key,
                         ByteRange range = ByteRange::All()) {
  auto got = store.GetSync(key, range);
  if (!got.ok()) return got.status();
  return got->data.ToString();
}

std::vector<std::string> KeysOf(const ListResult& listed) {
  std::vector<std::string> keys;
  for (const ObjectInfo& o : listed.objects) keys.push_back(o.key);
  return keys;
}

// Sorted (byte order, like S3) and without duplicates.
testing::AssertionResult SortedUnique(const std::vector<std::string>& keys) {
  for (size_t i = 1; i < keys.size(); ++i) {
    if (!(keys[i - 1] < keys[i])) {
      return testing::AssertionFailure() << "not sorted/unique at " << i << ": '" << keys[i - 1]
                                         << "' then '" << keys[i] << "'";
    }
  }
  return testing::AssertionSuccess();
}

std::string NumberedKey(const char* format, int i) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), format, i);
  return buf;
}

// Puts all keys concurrently (value = the key itself) and waits for every put.
testing::AssertionResult PutAll(ObjectStore& store, const std::vector<std::string>& keys) {
  std::vector<Future<Result<PutResult>>> puts;
  puts.reserve(keys.size());
  for (const std::string& key : keys) puts.push_back(store.Put(key, Buffer::CopyOf(key)));
  std::vector<Result<PutResult>> results = WaitAll(puts);
  for (size_t i = 0; i < results.size(); ++i) {
    if (!results[i].ok()) {
      return testing::AssertionFailure()
             << "put '" << keys[i] << "': " << results[i].status().ToString();
    }
  }
  return testing::AssertionSuccess();
}

}  // namespace

// --- basics ------------------------------------------------------------------------------------

TEST_P(StoreConformance, DescribeNamesTheStore) { EXPECT_FALSE(store().Describe().empty()); }

TEST_P(StoreConformance, PutGetRoundTrip) {
  std::string bytes;
  for (int i = 0; i < 3000; ++i) bytes.push_back(static_cast<char>(i % 256));  // NUL, 0xFF, ...
  auto put = store().PutSync("round/trip.bin", bytes);
  ASSERT_TRUE(IsOk(put));
  EXPECT_FALSE(put->etag.empty());

  auto got = store().GetSync("round/trip.bin");
  ASSERT_TRUE(IsOk(got));
  EXPECT_TRUE(SameBytes(got->data.view(), bytes));
  EXPECT_EQ(got->info.size, bytes.size());

  // Overwrite with a shorter object: nothing of the old one may remain.
  ASSERT_TRUE(IsOk(store().PutSync("round/trip.bin", "short")));
  auto again = Read(store(), "round/trip.bin");
  ASSERT_TRUE(IsOk(again));
  EXPECT_TRUE(SameBytes(*again, "short"));
}

TEST_P(StoreConformance, EmptyObject) {
  ASSERT_TRUE(IsOk(store().PutSync("empty", "")));
  auto got = store().GetSync("empty");
  ASSERT_TRUE(IsOk(got));
  EXPECT_EQ(got->data.size(), 0u);

  auto head = store().HeadSync("empty");
  ASSERT_TRUE(IsOk(head));
  EXPECT_EQ(head->size, 0u);

  // Ranges of an empty object are empty, not errors.
  for (ByteRange range :
       {ByteRange::Range(0, 10), ByteRange::Suffix(5), ByteRange::From(0), ByteRange::From(3)}) {
    auto part = Read(store(), "empty", range);
    ASSERT_TRUE(IsOk(part)) << range.ToString();
    EXPECT_TRUE(part->empty()) << range.ToString();
  }

  auto listed = store().ListSync({});
  ASSERT_TRUE(IsOk(listed));
  ASSERT_EQ(listed->objects.size(), 1u);
  EXPECT_EQ(listed->objects[0].key, "empty");
  EXPECT_EQ(listed->objects[0].size, 0u);
}

// --- byte ranges -------------------------------------------------------------------------------

TEST_P(StoreConformance, ByteRanges) {
  const std::string bytes = Pattern(1, 0, 10'000);
  const uint64_t size = bytes.size();
  ASSERT_TRUE(IsOk(store().PutSync("ranges.bin", bytes)));

  struct Case {
    const char* what;
    ByteRange range;
    size_t expected_size;
  };
  const Case cases[] = {
      {"first bytes", ByteRange::Range(0, 16), 16},
      {"middle", ByteRange::Range(4321, 1234), 1234},
      {"last bytes", ByteRange::Range(size - 10, 10), 10},
      {"single byte", ByteRange::Range(777, 1), 1},
      {"suffix", ByteRange::Suffix(100), 100},
      {"suffix longer than object", ByteRange::Suffix(size + 50), size},
      {"from offset", ByteRange::From(9000), 1000},
      {"from zero", ByteRange::From(0), size},
      {"all", ByteRange::All(), size},
      {"running past the end", ByteRange::Range(size - 5, 100), 5},
      {"starting at the end", ByteRange::Range(size, 10), 0},
      {"starting past the end", ByteRange::Range(size + 1000, 10), 0},
      {"from past the end", ByteRange::From(size + 1), 0},
      {"zero length", ByteRange::Range(5, 0), 0},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.what) + " " + c.range.ToString());
    auto got = store().GetSync("ranges.bin", c.range);
    ASSERT_TRUE(IsOk(got));
    EXPECT_EQ(got->data.size(), c.expected_size);
    EXPECT_TRUE(SameBytes(got->data.view(), Slice(bytes, c.range)));
    // Every store reports the whole size with a non-empty range (Content-Range); an empty
    // result may come without one.
    if (c.expected_size > 0 || got->info.size != 0) {
      EXPECT_EQ(got->info.size, size);
    }
  }
}

TEST_P(StoreConformance, GetRangesInRequestOrder) {
  const std::string bytes = Pattern(2, 0, 50'000);
  ASSERT_TRUE(IsOk(store().PutSync("multi.bin", bytes)));
  const std::vector<ByteRange> ranges = {
      ByteRange::Range(40'000, 500), ByteRange::Range(0, 10),      ByteRange::Suffix(64),
      ByteRange::Range(100, 5000),   ByteRange::Range(200, 100),   ByteRange::From(49'990),
      ByteRange::Range(49'999, 50),  ByteRange::Range(60'000, 10), ByteRange::All(),
  };
  auto got = store().GetRanges("multi.bin", ranges).Get();
  ASSERT_TRUE(IsOk(got));
  ASSERT_EQ(got->size(), ranges.size());
  for (size_t i = 0; i < ranges.size(); ++i) {
    EXPECT_TRUE(SameBytes((*got)[i].view(), Slice(bytes, ranges[i])))
        << "range " << i << " " << ranges[i].ToString();
  }

  auto none = store().GetRanges("multi.bin", {}).Get();
  ASSERT_TRUE(IsOk(none));
  EXPECT_TRUE(none->empty());

  auto missing = store().GetRanges("no-such-key", {ByteRange::Range(0, 1)}).Get();
  EXPECT_TRUE(HasKind(missing, ErrorKind::kNotFound));
}

// --- missing keys, head, etags -----------------------------------------------------------------

TEST_P(StoreConformance, MissingKey) {
  EXPECT_TRUE(HasKind(store().GetSync("missing"), ErrorKind::kNotFound));
  EXPECT_TRUE(HasKind(store().GetSync("missing", ByteRange::Range(0, 10)), ErrorKind::kNotFound));
  EXPECT_TRUE(HasKind(store().GetSync("missing/deeper/key"), ErrorKind::kNotFound));
  EXPECT_TRUE(HasKind(store().HeadSync("missing"), ErrorKind::kNotFound));
  EXPECT_TRUE(IsOk(store().DeleteSync("missing")));

  // Deleting twice is fine too, and the object really is gone after the first delete.
  ASSERT_TRUE(IsOk(store().PutSync("gone", "x")));
  EXPECT_TRUE(IsOk(store().DeleteSync("gone")));
  EXPECT_TRUE(IsOk(store().DeleteSync("gone")));
  EXPECT_TRUE(HasKind(store().GetSync("gone"), ErrorKind::kNotFound));
  EXPECT_TRUE(HasKind(store().HeadSync("gone"), ErrorKind::kNotFound));
}

TEST_P(StoreConformance, HeadSizeAndEtag) {
  auto put = store().PutSync("head/obj", "0123456789");
  ASSERT_TRUE(IsOk(put));
  auto head = store().HeadSync("head/obj");
  ASSERT_TRUE(IsOk(head));
  EXPECT_EQ(head->key, "head/obj");
  EXPECT_EQ(head->size, 10u);
  EXPECT_FALSE(head->etag.empty());
  EXPECT_EQ(head->etag, put->etag);
  if (head->last_modified != 0) {
    int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
    EXPECT_LT(std::abs(head->last_modified - now), 24 * 3600) << "last_modified is not seconds";
  }
  auto got = store().GetSync("head/obj");
  ASSERT_TRUE(IsOk(got));
  EXPECT_EQ(got->info.etag, head->etag);

  // Same size, different bytes: the etag must change (content hashes and generations both do).
  auto put2 = store().PutSync("head/obj", "9876543210");
  ASSERT_TRUE(IsOk(put2));
  auto head2 = store().HeadSync("head/obj");
  ASSERT_TRUE(IsOk(head2));
  EXPECT_EQ(head2->size, 10u);
  EXPECT_NE(head2->etag, head->etag);
  EXPECT_EQ(head2->etag, put2->etag);

  // Listing reports the same size, and the same etag when it reports one.
  auto listed = store().ListSync({.prefix = "head/"});
  ASSERT_TRUE(IsOk(listed));
  ASSERT_EQ(listed->objects.size(), 1u);
  EXPECT_EQ(listed->objects[0].size, 10u);
  if (!listed->objects[0].etag.empty()) {
    EXPECT_EQ(listed->objects[0].etag, head2->etag);
  }
}

// --- listing -----------------------------------------------------------------------------------

TEST_P(StoreConformance, ListPrefixAndDelimiter) {
  const std::vector<std::string> keys = {"list/a.txt", "list/b/1",   "list/b/2", "list/c/d/e",
                                         "list/cz",    "list-other", "listing",  "zzz/last"};
  ASSERT_TRUE(PutAll(store(), keys));

  auto all = store().ListSync({});
  ASSERT_TRUE(IsOk(all));
  std::vector<std::string> sorted = keys;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(KeysOf(*all), sorted);
  EXPECT_TRUE(all->common_prefixes.empty());
  for (const ObjectInfo& o : all->objects) EXPECT_EQ(o.size, o.key.size()) << o.key;

  auto recursive = store().ListSync({.prefix = "list/"});
  ASSERT_TRUE(IsOk(recursive));
  EXPECT_EQ(KeysOf(*recursive), (std::vector<std::string>{"list/a.txt", "list/b/1", "list/b/2",
                                                          "list/c/d/e", "list/cz"}));

  auto grouped = store().ListSync({.prefix = "list/", .delimiter = "/"});
  ASSERT_TRUE(IsOk(grouped));
  EXPECT_EQ(KeysOf(*grouped), (std::vector<std::string>{"list/a.txt", "list/cz"}));
  EXPECT_EQ(grouped->common_prefixes, (std::vector<std::string>{"list/b/", "list/c/"}));

  // A prefix that is not a whole segment matches by characters, like S3.
  auto partial = store().ListSync({.prefix = "list/c", .delimiter = "/"});
  ASSERT_TRUE(IsOk(partial));
  EXPECT_EQ(KeysOf(*partial), (std::vector<std::string>{"list/cz"}));
  EXPECT_EQ(partial->common_prefixes, (std::vector<std::string>{"list/c/"}));

  auto top = store().ListSync({.delimiter = "/"});
  ASSERT_TRUE(IsOk(top));
  EXPECT_EQ(KeysOf(*top), (std::vector<std::string>{"list-other", "listing"}));
  EXPECT_EQ(top->common_prefixes, (std::vector<std::string>{"list/", "zzz/"}));

  auto chars = store().ListSync({.prefix = "list"});
  ASSERT_TRUE(IsOk(chars));
  EXPECT_EQ(chars->objects.size(), 7u);

  auto deep = store().ListSync({.prefix = "list/c/", .delimiter = "/"});
  ASSERT_TRUE(IsOk(deep));
  EXPECT_TRUE(deep->objects.empty());
  EXPECT_EQ(deep->common_prefixes, (std::vector<std::string>{"list/c/d/"}));

  auto exact = store().ListSync({.prefix = "list/b/1"});
  ASSERT_TRUE(IsOk(exact));
  EXPECT_EQ(KeysOf(*exact), (std::vector<std::string>{"list/b/1"}));
}

TEST_P(StoreConformance, ListEmptyPrefix) {
  auto fresh = store().ListSync({});
  ASSERT_TRUE(IsOk(fresh));
  EXPECT_TRUE(fresh->objects.empty());
  EXPECT_TRUE(fresh->common_prefixes.empty());

  ASSERT_TRUE(IsOk(store().PutSync("present/x", "1")));
  for (const char* prefix : {"absent/", "absent", "present/y", "presentx", "present/x/"}) {
    for (const char* delimiter : {"", "/"}) {
      auto listed = store().ListSync({.prefix = prefix, .delimiter = delimiter});
      ASSERT_TRUE(IsOk(listed)) << prefix;
      EXPECT_TRUE(listed->objects.empty()) << prefix << " delimiter '" << delimiter << "'";
      EXPECT_TRUE(listed->common_prefixes.empty()) << prefix << " delimiter '" << delimiter << "'";
    }
  }
}

TEST_P(StoreConformance, ListPaginatesBeyondOnePage) {
  // 550 direct objects and 550 one-object "directories": 1,100 keys recursively, and 1,100
  // entries (objects + common prefixes) with a delimiter.
  std::vector<std::string> keys;
  for (int i = 0; i < 550; ++i) keys.push_back(NumberedKey("pg/k%05d", i));
  for (int i = 0; i < 550; ++i) keys.push_back(NumberedKey("pg/d%04d/x", i));
  ASSERT_TRUE(PutAll(store(), keys));
  std::vector<std::string> sorted = keys;
  std::sort(sorted.begin(), sorted.end());

  for (int page_size : {1000, 100}) {
    SCOPED_TRACE("page_size " + std::to_string(page_size));
    auto listed = store().ListSync({.prefix = "pg/", .page_size = page_size});
    ASSERT_TRUE(IsOk(listed));
    std::vector<std::string> got = KeysOf(*listed);
    EXPECT_TRUE(SortedUnique(got));
    EXPECT_EQ(got.size(), sorted.size());
    EXPECT_TRUE(got == sorted) << "listing differs from the keys put";

    auto grouped = store().ListSync({.prefix = "pg/", .delimiter = "/", .page_size = page_size});
    ASSERT_TRUE(IsOk(grouped));
    std::vector<std::string> direct = KeysOf(*grouped);
    EXPECT_TRUE(SortedUnique(direct));
    EXPECT_TRUE(SortedUnique(grouped->common_prefixes));
    ASSERT_EQ(direct.size(), 550u);
    ASSERT_EQ(grouped->common_prefixes.size(), 550u);
    for (int i = 0; i < 550; ++i) {
      EXPECT_EQ(direct[i], NumberedKey("pg/k%05d", i));
      EXPECT_EQ(grouped->common_prefixes[i], NumberedKey("pg/d%04d/", i));
    }
  }
}

// --- conditional writes ------------------------------------------------------------------------

TEST_P(StoreConformance, ConditionalCreate) {
  if (!store().Capabilities().conditional_put) GTEST_SKIP() << "no conditional puts";
  PutOptions create_only{.if_none_match_any = true};

  auto first = store().PutSync("cond/new", "first", create_only);
  ASSERT_TRUE(IsOk(first));
  EXPECT_FALSE(first->etag.empty());

  auto second = store().PutSync("cond/new", "second", create_only);
  EXPECT_TRUE(HasKind(second, ErrorKind::kPreconditionFailed));
  auto kept = Read(store(), "cond/new");
  ASSERT_TRUE(IsOk(kept));
  EXPECT_TRUE(SameBytes(*kept, "first"));

  // Once deleted, the key can be created again.
  ASSERT_TRUE(IsOk(store().DeleteSync("cond/new")));
  ASSERT_TRUE(IsOk(store().PutSync("cond/new", "third", create_only)));
  auto third = Read(store(), "cond/new");
  ASSERT_TRUE(IsOk(third));
  EXPECT_TRUE(SameBytes(*third, "third"));
}

TEST_P(StoreConformance, ConditionalReplace) {
  if (!store().Capabilities().conditional_put) GTEST_SKIP() << "no conditional puts";
  auto v1 = store().PutSync("cond/obj", "version one");
  ASSERT_TRUE(IsOk(v1));

  auto v2 = store().PutSync("cond/obj", "version two", {.if_match = v1->etag});
  ASSERT_TRUE(IsOk(v2));
  EXPECT_NE(v2->etag, v1->etag);

  auto stale = store().PutSync("cond/obj", "version three", {.if_match = v1->etag});
  EXPECT_TRUE(HasKind(stale, ErrorKind::kPreconditionFailed));
  auto current = store().GetSync("cond/obj");
  ASSERT_TRUE(IsOk(current));
  EXPECT_TRUE(SameBytes(current->data.view(), "version two"));
  EXPECT_EQ(current->info.etag, v2->etag);

  // If-Match on a key that does not exist fails (412 or 404 depending on the service) and
  // creates nothing.
  auto absent = store().PutSync("cond/absent", "x", {.if_match = v2->etag});
  EXPECT_TRUE(absent.status().kind() == ErrorKind::kPreconditionFailed ||
              absent.status().kind() == ErrorKind::kNotFound)
      << absent.status().ToString();
  EXPECT_TRUE(HasKind(store().HeadSync("cond/absent"), ErrorKind::kNotFound));
}

// --- bulk delete -------------------------------------------------------------------------------

TEST_P(StoreConformance, DeleteManyThenListEmpty) {
  std::vector<std::string> keys;
  for (int i = 0; i < 1000; ++i) keys.push_back(NumberedKey("dm/%04d", i));
  for (int i = 0; i < 100; ++i) keys.push_back(NumberedKey("dm/sub/%03d", i));
  ASSERT_TRUE(PutAll(store(), keys));
  ASSERT_TRUE(IsOk(store().PutSync("keep", "k")));

  std::vector<std::string> doomed = keys;
  doomed.push_back("dm/never-existed");  // missing keys are not errors
  EXPECT_TRUE(IsOk(store().DeleteMany(std::move(doomed)).Get()));

  auto listed = store().ListSync({.prefix = "dm/"});
  ASSERT_TRUE(IsOk(listed));
  EXPECT_TRUE(listed->objects.empty()) << listed->objects.size() << " objects left";
  auto grouped = store().ListSync({.delimiter = "/"});
  ASSERT_TRUE(IsOk(grouped));
  EXPECT_EQ(KeysOf(*grouped), (std::vector<std::string>{"keep"}));
  EXPECT_TRUE(grouped->common_prefixes.empty());
  EXPECT_TRUE(HasKind(store().HeadSync("dm/0500"), ErrorKind::kNotFound));

  EXPECT_TRUE(IsOk(store().DeleteMany({}).Get()));
}

// --- large objects -----------------------------------------------------------------------------

TEST_P(StoreConformance, LargeObject) {
  if (!GetParam().slow_ok) GTEST_SKIP() << "slow tests disabled for " << GetParam().name;
  // Over 100 MiB and not a multiple of any part or block size.
  const uint64_t size = 103 * kMiB + 12'345;
  const uint64_t seed = 42;
  Buffer data = Buffer::Allocate(size);
  FillPattern(seed, 0, data.data(), size);

  auto put = store().Put("large/object.bin", std::move(data)).Get();
  ASSERT_TRUE(IsOk(put));

  auto head = store().HeadSync("large/object.bin");
  ASSERT_TRUE(IsOk(head));
  EXPECT_EQ(head->size, size);
  EXPECT_EQ(head->etag, put->etag);

  // Around typical part boundaries (5, 8, 16, 64, 100 MiB) and the ends.
  const std::vector<ByteRange> samples = {
      ByteRange::Range(0, kMiB),
      ByteRange::Range(5 * kMiB - 7, 14),
      ByteRange::Range(8 * kMiB - 3, 4096),
      ByteRange::Range(16 * kMiB - 1, 2),
      ByteRange::Range(64 * kMiB - 5000, 10'000),
      ByteRange::Range(100 * kMiB - 1000, 4096),
      ByteRange::Suffix(777),
      ByteRange::From(size - 10),
      ByteRange::Range(size - 100, 1000),
  };
  for (const ByteRange& range : samples) {
    auto part = Read(store(), "large/object.bin", range);
    ASSERT_TRUE(IsOk(part)) << range.ToString();
    auto [begin, end] = range.Resolve(size);
    EXPECT_TRUE(SameBytes(*part, Pattern(seed, begin, end - begin))) << range.ToString();
  }
  auto parts = store().GetRanges("large/object.bin", samples).Get();
  ASSERT_TRUE(IsOk(parts));
  ASSERT_EQ(parts->size(), samples.size());
  for (size_t i = 0; i < samples.size(); ++i) {
    auto [begin, end] = samples[i].Resolve(size);
    EXPECT_TRUE(SameBytes((*parts)[i].view(), Pattern(seed, begin, end - begin)))
        << samples[i].ToString();
  }

  // Full compare, chunk by chunk against the regenerated pattern.
  auto whole = store().GetSync("large/object.bin");
  ASSERT_TRUE(IsOk(whole));
  ASSERT_EQ(whole->data.size(), size);
  std::string expected;
  for (uint64_t offset = 0; offset < size; offset += 4 * kMiB) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(4 * kMiB, size - offset));
    expected.resize(n);
    FillPattern(seed, offset, expected.data(), n);
    ASSERT_TRUE(SameBytes(whole->data.view().substr(offset, n), expected))
        << "chunk at offset " << offset;
  }
}

// --- awkward keys ------------------------------------------------------------------------------

TEST_P(StoreConformance, KeysWithSpecialCharacters) {
  const std::vector<std::string> keys = {
      "with space/a b.txt", "données/ñ/日本", "plus+sign",      "percent%",
      "percent%20literal",  "eq=ual",         "amp&ersand",     "question?mark",
      "hash#tag",           "tilde~dash-",    "semi;colon:at@", "quote'paren()",
      "mix/a +%=&?#b/ü",
  };
  for (const std::string& key : keys) {
    ASSERT_TRUE(IsOk(store().PutSync(key, "value of " + key))) << key;
  }
  for (const std::string& key : keys) {
    auto got = Read(store(), key);
    ASSERT_TRUE(IsOk(got)) << key;
    EXPECT_TRUE(SameBytes(*got, "value of " + key)) << key;
    auto head = store().HeadSync(key);
    ASSERT_TRUE(IsOk(head)) << key;
    EXPECT_EQ(head->size, ("value of " + key).size()) << key;
  }

  auto listed = store().ListSync({});
  ASSERT_TRUE(IsOk(listed));
  std::vector<std::string> sorted = keys;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(KeysOf(*listed), sorted);

  auto grouped = store().ListSync({.delimiter = "/"});
  ASSERT_TRUE(IsOk(grouped));
  EXPECT_EQ(grouped->common_prefixes,
            (std::vector<std::string>{"données/", "mix/", "with space/"}));
  EXPECT_EQ(grouped->objects.size(), keys.size() - 3);

  auto unicode = store().ListSync({.prefix = "données/ñ/"});
  ASSERT_TRUE(IsOk(unicode));
  EXPECT_EQ(KeysOf(*unicode), (std::vector<std::string>{"données/ñ/日本"}));
  auto mixed = store().ListSync({.prefix = "mix/a +%=&?#b/"});
  ASSERT_TRUE(IsOk(mixed));
  EXPECT_EQ(KeysOf(*mixed), (std::vector<std::string>{"mix/a +%=&?#b/ü"}));

  for (const std::string& key : keys) EXPECT_TRUE(IsOk(store().DeleteSync(key))) << key;
  for (const std::string& key : keys) {
    EXPECT_TRUE(HasKind(store().HeadSync(key), ErrorKind::kNotFound)) << key;
  }
  auto after = store().ListSync({});
  ASSERT_TRUE(IsOk(after));
  EXPECT_TRUE(after->objects.empty());
}

}  // namespace nimbus::store
