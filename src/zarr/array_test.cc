// ZarrArray on the memory store, against a plain in-memory model of the array: every codec chain
// (raw, gzip, zstd, blosc, crc32c, sharded), partial writes, fill values, selections, resize,
// concurrent metadata updates and what actually lands in the store.
#include "zarr/array.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "store/memory/memory_store.h"
#include "zarr/testing_metadata.h"

namespace nimbus::zarr {
namespace {

using store::MemoryStore;

using test_util::Meta;

const char* kRaw = R"([{"name":"bytes","configuration":{"endian":"little"}}])";
const char* kGzip = R"([{"name":"bytes","configuration":{"endian":"little"}},{"name":"gzip","configuration":{"level":1}}])";
const char* kZstd = R"([{"name":"bytes","configuration":{"endian":"little"}},{"name":"zstd","configuration":{"level":1,"checksum":false}}])";
const char* kBlosc = R"([{"name":"bytes","configuration":{"endian":"little"}},{"name":"blosc","configuration":{"cname":"lz4","clevel":5,"shuffle":"shuffle","typesize":4,"blocksize":0}}])";
const char* kCrc = R"([{"name":"bytes","configuration":{"endian":"big"}},{"name":"crc32c"}])";
const char* kSharded = R"([{"name":"sharding_indexed","configuration":{"chunk_shape":[4,8],
  "codecs":[{"name":"bytes","configuration":{"endian":"little"}},{"name":"zstd","configuration":{"level":1,"checksum":false}}],
  "index_codecs":[{"name":"bytes","configuration":{"endian":"little"}},{"name":"crc32c"}],"index_location":"end"}}])";
const char* kShardedStart = R"([{"name":"sharding_indexed","configuration":{"chunk_shape":[4,8],
  "codecs":[{"name":"bytes","configuration":{"endian":"little"}}],
  "index_codecs":[{"name":"bytes","configuration":{"endian":"little"}},{"name":"crc32c"}],"index_location":"start"}}])";

// The model: a dense C-order copy of what the array should hold.
struct Model {
  std::vector<uint64_t> shape;
  std::vector<float> v;
  float& at(uint64_t i, uint64_t j) { return v[i * shape[1] + j]; }
};

std::vector<float> ReadAll(ZarrArray& a) {
  std::vector<float> out(a.shape()[0] * a.shape()[1], -1);
  Status s = a.Read(Selection::All(a.shape()), out.data());
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

class ArrayCodecs : public testing::TestWithParam<const char*> {};

TEST_P(ArrayCodecs, RandomWritesAndReadsMatchModel) {
  auto store = std::make_shared<MemoryStore>("t");
  std::vector<uint64_t> shape{37, 53};
  std::vector<uint64_t> chunks = std::string(GetParam()).find("sharding") != std::string::npos
                                     ? std::vector<uint64_t>{16, 32}
                                     : std::vector<uint64_t>{8, 16};
  auto array = ZarrArray::Create(store, "g/a", Meta(shape, chunks, GetParam(), "float32", 0.5));
  ASSERT_TRUE(array.ok()) << array.status().ToString();
  Model model{shape, std::vector<float>(37 * 53, 0.5f)};
  EXPECT_EQ(ReadAll(**array), model.v) << "a new array reads as fill";

  std::mt19937 rng(7);
  auto pick = [&](uint64_t lo, uint64_t hi) {
    return std::uniform_int_distribution<uint64_t>(lo, hi)(rng);
  };
  for (int round = 0; round < 25; ++round) {
    // A random strided hyperslab write.
    uint64_t r0 = pick(0, 36), c0 = pick(0, 52);
    uint64_t rs = pick(1, 3), cs = pick(1, 3);
    uint64_t rn = pick(1, (36 - r0) / rs + 1), cn = pick(1, (52 - c0) / cs + 1);
    Selection sel = Selection::Orthogonal(
        {DimSelection::Hyperslab(r0, rs, rn, 1), DimSelection::Hyperslab(c0, cs, cn, 1)});
    std::vector<float> data(rn * cn);
    for (auto& x : data) x = static_cast<float>(pick(0, 1000)) / 8;
    Layout layout = round % 3 == 0 ? Layout::kF : Layout::kC;
    ASSERT_TRUE((*array)->Write(sel, data.data(), layout).ok());
    for (uint64_t i = 0; i < rn; ++i) {
      for (uint64_t j = 0; j < cn; ++j) {
        float x = layout == Layout::kC ? data[i * cn + j] : data[j * rn + i];
        model.at(r0 + i * rs, c0 + j * cs) = x;
      }
    }
    ASSERT_EQ(ReadAll(**array), model.v) << "round " << round;
  }
  // Reopen from the store (fresh metadata, no state) and read a point selection.
  auto again = ZarrArray::Open(store, "g/a");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  std::vector<uint64_t> pts{0, 0, 36, 52, 17, 3, 5, 50};
  std::vector<float> got(4);
  ASSERT_TRUE((*again)->Read(Selection::Points(2, pts), got.data()).ok());
  EXPECT_EQ(got, (std::vector<float>{model.at(0, 0), model.at(36, 52), model.at(17, 3),
                                     model.at(5, 50)}));
}

INSTANTIATE_TEST_SUITE_P(Chains, ArrayCodecs,
                         testing::Values(kRaw, kGzip, kZstd, kBlosc, kCrc, kSharded, kShardedStart));

TEST(Array, AllFillChunksAreNotStoredAndMissingChunksReadAsFill) {
  auto store = std::make_shared<MemoryStore>("t");
  auto a = ZarrArray::Create(store, "a", Meta({8, 8}, {4, 4}, kRaw, "int32", 7));
  ASSERT_TRUE(a.ok());
  std::vector<int32_t> ones(16, 1);
  ASSERT_TRUE((*a)->Write(Selection::Box(std::vector<uint64_t>{0, 0}, std::vector<uint64_t>{4, 4}),
                          ones.data())
                  .ok());
  EXPECT_TRUE(store->HeadSync("a/c/0/0").ok());
  EXPECT_EQ(store->HeadSync("a/c/1/1").status().kind(), ErrorKind::kNotFound);
  // Writing fill over the whole chunk removes it from the store.
  std::vector<int32_t> sevens(16, 7);
  ASSERT_TRUE((*a)->Write(Selection::Box(std::vector<uint64_t>{0, 0}, std::vector<uint64_t>{4, 4}),
                          sevens.data())
                  .ok());
  EXPECT_EQ(store->HeadSync("a/c/0/0").status().kind(), ErrorKind::kNotFound);
  std::vector<int32_t> all(64);
  ASSERT_TRUE((*a)->Read(Selection::All((*a)->shape()), all.data()).ok());
  EXPECT_EQ(all, std::vector<int32_t>(64, 7));
}

TEST(Array, RawChunkSparseReadUsesRangesNotWholeChunks) {
  auto store = std::make_shared<MemoryStore>("t");
  auto options = ArrayOptions{};
  // A store with high latency relative to bandwidth would merge; make requests cheap.
  options.model = std::make_shared<TransferModel>(0.0001, 1e9);
  auto a = ZarrArray::Create(store, "a", Meta({512, 512}, {512, 512}, kRaw), ZarrArray::CreateMode::kExclusive, options);
  ASSERT_TRUE(a.ok());
  std::vector<float> data(512 * 512);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<float>(i);
  ASSERT_TRUE((*a)->Write(Selection::All((*a)->shape()), data.data()).ok());
  auto before = (*a)->stats();
  // Every 100th row: 6 rows of 2 KiB from a 1 MiB chunk.
  std::vector<float> rows(6 * 512);
  Selection sel = Selection::Orthogonal(
      {DimSelection::Hyperslab(0, 100, 6, 1), DimSelection::Range(0, 512)});
  ASSERT_TRUE((*a)->Read(sel, rows.data()).ok());
  for (uint64_t r = 0; r < 6; ++r) EXPECT_EQ(rows[r * 512 + 5], static_cast<float>(r * 100 * 512 + 5));
  auto after = (*a)->stats();
  uint64_t moved = after.bytes_read - before.bytes_read;
  EXPECT_LE(moved, 6 * 512 * 4 * 11 / 10) << "sparse read within 1.1x of the minimum bytes";
}

TEST(Array, SparseReadAcrossManyChunksTakesWholeChunksWhenRoundTripsDominate) {
  auto store = std::make_shared<MemoryStore>("t");
  auto options = ArrayOptions{};
  options.max_in_flight = 8;
  // 10 ms per request, 100 MB/s: one 128 KiB chunk costs 11 ms whole. Alone, its 8 small ranges
  // would run in one parallel round (10 ms) and win; but 16 chunks share the 8 requests in flight,
  // so each chunk's ranges take 8 rounds and whole chunks are cheaper.
  options.model = std::make_shared<TransferModel>(0.010, 1e8);
  auto a = ZarrArray::Create(store, "a", Meta({1024, 512}, {64, 512}, kRaw), ZarrArray::CreateMode::kExclusive, options);
  ASSERT_TRUE(a.ok());
  std::vector<float> data(1024 * 512);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<float>(i);
  ASSERT_TRUE((*a)->Write(Selection::All((*a)->shape()), data.data()).ok());
  auto before = (*a)->stats();
  std::vector<float> rows(128 * 512);
  Selection sel = Selection::Orthogonal({DimSelection::Hyperslab(0, 8, 128, 1), DimSelection::Range(0, 512)});
  ASSERT_TRUE((*a)->Read(sel, rows.data()).ok());
  for (uint64_t r = 0; r < 128; ++r) EXPECT_EQ(rows[r * 512 + 3], static_cast<float>(r * 8 * 512 + 3));
  auto after = (*a)->stats();
  EXPECT_EQ(after.bytes_read - before.bytes_read, data.size() * sizeof(float)) << "16 whole chunks";
}

TEST(Array, ShardedSparseReadFetchesOnlyNeededInnerChunks) {
  auto store = std::make_shared<MemoryStore>("t");
  const char* codecs = R"([{"name":"sharding_indexed","configuration":{"chunk_shape":[32,32],
    "codecs":[{"name":"bytes","configuration":{"endian":"little"}},{"name":"zstd","configuration":{"level":1,"checksum":false}}],
    "index_codecs":[{"name":"bytes","configuration":{"endian":"little"}},{"name":"crc32c"}],"index_location":"end"}}])";
  auto a = ZarrArray::Create(store, "s", Meta({256, 256}, {256, 256}, codecs));
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  std::vector<float> data(256 * 256);
  for (size_t i = 0; i < data.size(); ++i) data[i] = std::sin(static_cast<float>(i));
  ASSERT_TRUE((*a)->Write(Selection::All((*a)->shape()), data.data()).ok());
  auto shard = store->HeadSync("s/c/0/0");
  ASSERT_TRUE(shard.ok());
  auto before = (*a)->stats();
  float one = 0;
  ASSERT_TRUE((*a)->Read(Selection::Points(2, {133, 17}), &one).ok());
  EXPECT_EQ(one, data[133 * 256 + 17]);
  auto moved = (*a)->stats().bytes_read - before.bytes_read;
  // 64 inner chunks: the index (64 * 16 + 4 bytes) plus one ~4 KiB inner chunk.
  EXPECT_LT(moved, 64 * 16 + 4 + 32 * 32 * 4 + 512) << "index + one inner chunk";
  EXPECT_LT(moved * 10, shard->size) << "not the whole shard";
}

TEST(Array, ResizeShrinkThenGrowShowsFill) {
  auto store = std::make_shared<MemoryStore>("t");
  auto a = ZarrArray::Create(store, "r", Meta({10, 10}, {4, 4}, kZstd, "float32", -1));
  ASSERT_TRUE(a.ok());
  std::vector<float> ones(100, 1);
  ASSERT_TRUE((*a)->Write(Selection::All((*a)->shape()), ones.data()).ok());
  ASSERT_TRUE((*a)->Resize({5, 5}).ok());
  EXPECT_EQ(store->HeadSync("r/c/2/2").status().kind(), ErrorKind::kNotFound);
  EXPECT_TRUE(store->HeadSync("r/c/1/1").ok());
  ASSERT_TRUE((*a)->Resize({10, 10}).ok());
  auto reopened = ZarrArray::Open(store, "r");
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ((*reopened)->shape(), (std::vector<uint64_t>{10, 10}));
  std::vector<float> all(100);
  ASSERT_TRUE((*reopened)->Read(Selection::All((*reopened)->shape()), all.data()).ok());
  for (int i = 0; i < 10; ++i) {
    for (int j = 0; j < 10; ++j) {
      EXPECT_EQ(all[i * 10 + j], (i < 5 && j < 5) ? 1.0f : -1.0f) << i << "," << j;
    }
  }
}

TEST(Array, ConcurrentMetadataUpdatesAreNotLost) {
  auto store = std::make_shared<MemoryStore>("t");
  auto a = ZarrArray::Create(store, "m", Meta({4}, {2}, kRaw));
  ASSERT_TRUE(a.ok());
  auto b = ZarrArray::Open(store, "m");  // a second handle, same etag
  ASSERT_TRUE(b.ok());
  ASSERT_TRUE((*a)->Resize({8}).ok());
  // b is stale: its conditional write fails, it reloads and re-applies on the new metadata.
  ASSERT_TRUE((*b)->SetAttributes({{"units", "m"}}).ok());
  auto c = ZarrArray::Open(store, "m");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ((*c)->shape(), std::vector<uint64_t>{8});
  EXPECT_EQ((*c)->metadata().attributes["units"], "m");
}

TEST(Array, ExclusiveCreateRefusesExistingArray) {
  auto store = std::make_shared<MemoryStore>("t");
  ASSERT_TRUE(ZarrArray::Create(store, "x", Meta({4}, {2}, kRaw)).ok());
  auto again = ZarrArray::Create(store, "x", Meta({4}, {2}, kRaw));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().kind(), ErrorKind::kPreconditionFailed);
  auto over = ZarrArray::Create(store, "x", Meta({6}, {2}, kRaw), ZarrArray::CreateMode::kOverwrite);
  ASSERT_TRUE(over.ok()) << over.status().ToString();
}

TEST(Array, VariableLengthStrings) {
  auto store = std::make_shared<MemoryStore>("t");
  auto a = ZarrArray::Create(
      store, "v", Meta({5}, {2}, R"([{"name":"vlen-utf8","configuration":{}}])", "string", ""));
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  std::vector<std::string> in{"a", "", "données", "日本", "x y z"};
  ASSERT_TRUE((*a)->WriteValues(Selection::All((*a)->shape()), in.data()).ok());
  std::vector<std::string> out(5);
  ASSERT_TRUE((*a)->ReadValues(Selection::All((*a)->shape()), out.data()).ok());
  EXPECT_EQ(out, in);
  float wrong;
  EXPECT_EQ((*a)->Read(Selection::All((*a)->shape()), &wrong).kind(), ErrorKind::kInvalidArgument);
}

TEST(Array, OutOfBoundsSelectionIsAClearError) {
  auto store = std::make_shared<MemoryStore>("t");
  auto a = ZarrArray::Create(store, "o", Meta({4, 4}, {2, 2}, kRaw));
  ASSERT_TRUE(a.ok());
  float x[4];
  Status s = (*a)->Read(Selection::Box(std::vector<uint64_t>{3, 3}, std::vector<uint64_t>{2, 2}), x);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("memory://t/o"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("dimension 0"), std::string::npos) << s.message();
}

TEST(Groups, CreateListAndDelete) {
  auto store = std::make_shared<MemoryStore>("t");
  ASSERT_TRUE(CreateGroup(*store, "", {{"title", "root"}}).ok());
  ASSERT_TRUE(CreateGroup(*store, "g1").ok());
  ASSERT_TRUE(ZarrArray::Create(store, "g1/a", Meta({4}, {2}, kRaw)).ok());
  ASSERT_TRUE(ZarrArray::Create(store, "b", Meta({4}, {2}, kRaw)).ok());
  auto kids = ListChildren(*store, "");
  ASSERT_TRUE(kids.ok());
  EXPECT_EQ(*kids, (std::vector<std::string>{"b", "g1"}));
  auto node = ReadNode(*store, "");
  ASSERT_TRUE(node.ok());
  ASSERT_TRUE(std::holds_alternative<GroupMetadata>(*node));
  EXPECT_EQ(std::get<GroupMetadata>(*node).attributes["title"], "root");
  ASSERT_TRUE(DeleteNode(*store, "g1").ok());
  kids = ListChildren(*store, "");
  EXPECT_EQ(*kids, std::vector<std::string>{"b"});
  EXPECT_EQ(ReadNode(*store, "g1/a").status().kind(), ErrorKind::kNotFound);
}

}  // namespace
}  // namespace nimbus::zarr
