#include <gtest/gtest.h>

#include <cstring>
#include <numeric>

#include "zarr/codec.h"
#include "zarr/codecs/crc32c.h"
#include "zarr/codecs/test_util.h"

namespace nimbus::zarr {
namespace {

using codec_testing::ArrayOf;
using codec_testing::Chain;
using codec_testing::ExpectRoundTrip;
using codec_testing::Spec;
using codec_testing::StringsOf;
using codec_testing::ValuesOf;

constexpr uint64_t kMissing = ~uint64_t{0};

nlohmann::json Sharding(const nlohmann::json& configuration) {
  return nlohmann::json::array({{{"name", "sharding_indexed"}, {"configuration", configuration}}});
}

// 8x8 int32, inner chunks 4x4; inner chunk (0, 1) is all fill (`fill`).
std::vector<int32_t> ShardValues(int32_t fill) {
  std::vector<int32_t> v(64);
  std::iota(v.begin(), v.end(), 1);
  for (int r = 0; r < 4; ++r) {
    for (int c = 4; c < 8; ++c) v[r * 8 + c] = fill;
  }
  return v;
}

std::vector<uint64_t> ReadIndex(const std::string& bytes, size_t offset, size_t n) {
  std::vector<uint64_t> out(2 * n);
  std::memcpy(out.data(), bytes.data() + offset, 16 * n);
  return out;
}

TEST(ShardingCodecTest, LayoutWithIndexAtTheEnd) {
  ChunkSpec spec = Spec("int32", {8, 8});
  CodecChain chain = Chain(Sharding({{"chunk_shape", {4, 4}}}), spec);
  const ShardingCodec* sharding = chain.sharding();
  ASSERT_NE(sharding, nullptr);
  EXPECT_EQ(sharding->inner_grid(), (std::vector<uint64_t>{2, 2}));
  EXPECT_EQ(sharding->num_inner_chunks(), 4u);
  EXPECT_EQ(sharding->encoded_index_size(), 4 * 16 + 4u);
  EXPECT_EQ(sharding->index_location(), ShardingCodec::IndexLocation::kEnd);
  // Defaults are written out the way zarr-python writes them.
  EXPECT_EQ(chain.ToJson(), nlohmann::json::parse(R"([{"name":"sharding_indexed","configuration":{
      "chunk_shape":[4,4],
      "codecs":[{"name":"bytes","configuration":{"endian":"little"}}],
      "index_codecs":[{"name":"bytes","configuration":{"endian":"little"}},{"name":"crc32c"}],
      "index_location":"end"}}])"));

  auto encoded = chain.Encode(ArrayOf<int32_t>({8, 8}, ShardValues(0)));
  ASSERT_TRUE(encoded.ok()) << encoded.status().ToString();
  const std::string bytes = encoded->ToString();
  ASSERT_EQ(bytes.size(), 3 * 64 + 68u);  // one inner chunk omitted
  std::vector<uint64_t> index = ReadIndex(bytes, 3 * 64, 4);
  EXPECT_EQ(index, (std::vector<uint64_t>{0, 64, kMissing, kMissing, 64, 64, 128, 64}));
  uint32_t crc;
  std::memcpy(&crc, bytes.data() + bytes.size() - 4, 4);
  EXPECT_EQ(crc, Crc32c(bytes.data() + 3 * 64, 64));

  auto entries = sharding->DecodeIndex(Buffer::CopyOf(bytes.substr(3 * 64)));
  ASSERT_TRUE(entries.ok());
  EXPECT_TRUE((*entries)[1].missing());
  EXPECT_EQ((*entries)[3].offset, 128u);

  auto decoded = chain.Decode(Buffer::CopyOf(bytes));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(ValuesOf<int32_t>(*decoded), ShardValues(0));
}

TEST(ShardingCodecTest, IndexAtTheStartOffsetsIncludeTheIndex) {
  ChunkSpec spec = Spec("int32", {8, 8}, 7);
  CodecChain chain = Chain(Sharding({{"chunk_shape", {4, 4}}, {"index_location", "start"}}), spec);
  auto encoded = chain.Encode(ArrayOf<int32_t>({8, 8}, ShardValues(7)));
  ASSERT_TRUE(encoded.ok());
  const std::string bytes = encoded->ToString();
  ASSERT_EQ(bytes.size(), 68 + 3 * 64u);
  EXPECT_EQ(ReadIndex(bytes, 0, 4),
            (std::vector<uint64_t>{68, 64, kMissing, kMissing, 132, 64, 196, 64}));
  auto decoded = chain.Decode(Buffer::CopyOf(bytes));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(ValuesOf<int32_t>(*decoded), ShardValues(7));  // missing chunk reads as fill 7
}

TEST(ShardingCodecTest, RoundTripsWithCompressedInnerChunksAndOtherIndexChains) {
  ChunkSpec spec = Spec("float64", {6, 8, 4}, 1.5);
  std::vector<double> values(spec.num_elements());
  for (size_t i = 0; i < values.size(); ++i) values[i] = i % 5 == 0 ? 1.5 : i * 0.25;
  for (const char* location : {"start", "end"}) {
    for (const nlohmann::json& inner :
         {nlohmann::json::parse(R"([{"name":"bytes","configuration":{"endian":"big"}},
                                       {"name":"gzip","configuration":{"level":1}}])"),
          nlohmann::json::parse(R"([{"name":"transpose","configuration":{"order":[2,0,1]}},
                                       {"name":"bytes","configuration":{"endian":"little"}},
                                       {"name":"blosc","configuration":{"cname":"lz4"}},
                                       {"name":"crc32c"}])")}) {
      for (const nlohmann::json& index :
           {nlohmann::json::parse(R"([{"name":"bytes","configuration":{"endian":"little"}},
                                         {"name":"crc32c"}])"),
            nlohmann::json::parse(R"([{"name":"bytes","configuration":{"endian":"big"}}])")}) {
        CodecChain chain = Chain(Sharding({{"chunk_shape", {3, 2, 4}},
                                           {"codecs", inner},
                                           {"index_codecs", index},
                                           {"index_location", location}}),
                                 spec);
        EXPECT_EQ(chain.sharding()->encoded_index_size(),
                  2 * 4 * 1 * 16 + (index.size() == 2 ? 4u : 0u));
        ExpectRoundTrip(chain, ArrayOf<double>(spec.shape, values));
      }
    }
  }
}

TEST(ShardingCodecTest, AllFillShardEncodesToNothingAndMissingReadsAsFill) {
  ChunkSpec spec = Spec("uint16", {4, 4}, 9);
  CodecChain chain = Chain(Sharding({{"chunk_shape", {2, 2}}}), spec);
  auto encoded = chain.Encode(ChunkArray::Filled(spec));
  ASSERT_TRUE(encoded.ok());
  EXPECT_TRUE(encoded->empty());

  // An index with every entry missing decodes to fill.
  const ShardingCodec* sharding = chain.sharding();
  auto assembled = sharding->AssembleShard(std::vector<std::optional<Buffer>>(4));
  ASSERT_TRUE(assembled.ok());
  EXPECT_TRUE(assembled->empty());
  std::string index(64, '\xff');
  uint32_t crc = Crc32c(index.data(), index.size());
  index.append(reinterpret_cast<const char*>(&crc), 4);
  auto decoded = chain.Decode(Buffer::CopyOf(index));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(ValuesOf<uint16_t>(*decoded), std::vector<uint16_t>(16, 9));
}

TEST(ShardingCodecTest, AssembleShardFromEncodedInnerChunks) {
  ChunkSpec spec = Spec("uint8", {4}, 0);
  CodecChain chain = Chain(Sharding({{"chunk_shape", {2}}}), spec);
  const ShardingCodec* sharding = chain.sharding();
  std::vector<std::optional<Buffer>> inner(2);
  inner[1] = Buffer::CopyOf("\x05\x06");
  auto shard = sharding->AssembleShard(inner);
  ASSERT_TRUE(shard.ok());
  auto decoded = chain.Decode(std::move(shard).value());
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(ValuesOf<uint8_t>(*decoded), (std::vector<uint8_t>{0, 0, 5, 6}));
  inner.pop_back();
  auto wrong = sharding->AssembleShard(inner);
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().kind(), ErrorKind::kInvalidArgument);
}

TEST(ShardingCodecTest, VariableLengthAndNestedSharding) {
  ChunkSpec strings = Spec("string", {4, 2});
  CodecChain chain = Chain(Sharding({{"chunk_shape", {2, 1}},
                                     {"codecs", {{{"name", "vlen-utf8"}}, {{"name", "zstd"}}}}}),
                           strings);
  ExpectRoundTrip(chain, StringsOf({4, 2}, {"a", "", "", "", "bb", "日本", "", "x"}));
  auto empty = chain.Encode(StringsOf({4, 2}, std::vector<std::string>(8)));
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());

  ChunkSpec spec = Spec("int16", {8, 8});
  nlohmann::json nested =
      Sharding({{"chunk_shape", {4, 8}},
                {"codecs", Sharding({{"chunk_shape", {2, 2}}, {"index_location", "start"}})}});
  CodecChain outer = Chain(nested, spec);
  std::vector<int16_t> values(64);
  std::iota(values.begin(), values.end(), int16_t{-3});
  ExpectRoundTrip(outer, ArrayOf<int16_t>({8, 8}, values));
}

TEST(ShardingCodecTest, ConfigurationErrors) {
  ChunkSpec spec = Spec("int32", {8, 8});
  struct Case {
    nlohmann::json configuration;
    const char* expected;
  };
  for (const Case& c : {
           Case{nlohmann::json::object(), "'chunk_shape' is required"},
           Case{{{"chunk_shape", {3, 4}}}, "divide"},
           Case{{{"chunk_shape", {4}}}, "'chunk_shape'"},
           Case{{{"chunk_shape", {0, 4}}}, "'chunk_shape'"},
           Case{{{"chunk_shape", {4, 4}}, {"index_location", "middle"}}, "'index_location'"},
           Case{{{"chunk_shape", {4, 4}}, {"indexlocation", "end"}}, "'indexlocation'"},
           Case{{{"chunk_shape", {4, 4}},
                 {"index_codecs",
                  {{{"name", "bytes"}, {"configuration", {{"endian", "little"}}}},
                   {{"name", "gzip"}}}}},
                "index_codecs must have a fixed size"},
           Case{{{"chunk_shape", {4, 4}}, {"codecs", {{{"name", "gzip"}}}}}, "codecs"},
           Case{{{"chunk_shape", {4, 4}}, {"codecs", {{{"name", "nope"}}}}}, "'nope'"},
       }) {
    auto r = CodecChain::FromJson(Sharding(c.configuration), spec);
    ASSERT_FALSE(r.ok()) << c.configuration.dump();
    EXPECT_NE(r.status().message().find(c.expected), std::string::npos) << r.status().message();
    if (std::string(c.expected) == "index_codecs must have a fixed size") {
      EXPECT_EQ(r.status().kind(), ErrorKind::kInvalidArgument);
    }
  }
  // With an array -> array codec first the array layer cannot read inner chunks directly.
  CodecChain transposed =
      Chain(nlohmann::json::array({{{"name", "transpose"}, {"configuration", {{"order", {1, 0}}}}},
                                   Sharding({{"chunk_shape", {4, 4}}})[0]}),
            spec);
  EXPECT_EQ(transposed.sharding(), nullptr);
  std::vector<int32_t> values(64);
  std::iota(values.begin(), values.end(), 0);
  ExpectRoundTrip(transposed, ArrayOf<int32_t>({8, 8}, values));
}

TEST(ShardingCodecTest, HostileShardsAreClearErrors) {
  ChunkSpec spec = Spec("int32", {8, 8});
  CodecChain chain = Chain(Sharding({{"chunk_shape", {4, 4}}}), spec);
  auto encoded = chain.Encode(ArrayOf<int32_t>({8, 8}, ShardValues(0)));
  ASSERT_TRUE(encoded.ok());
  const std::string good = encoded->ToString();

  auto expect_permanent = [&](const std::string& bytes, const char* what, const char* label) {
    auto r = chain.Decode(Buffer::CopyOf(bytes));
    ASSERT_FALSE(r.ok()) << label;
    EXPECT_EQ(r.status().kind(), ErrorKind::kPermanent) << label;
    EXPECT_NE(r.status().message().find(what), std::string::npos)
        << label << ": " << r.status().message();
  };
  expect_permanent("", "smaller than its index", "empty");
  expect_permanent(good.substr(0, 40), "smaller than its index", "truncated");
  std::string flipped_index = good;
  flipped_index[good.size() - 20] ^= 1;
  expect_permanent(flipped_index, "crc32c checksum mismatch", "index crc");

  // Re-sign a lying index so only the bounds check can catch it.
  auto with_index = [&](std::vector<uint64_t> entries) {
    std::string bytes = good.substr(0, 3 * 64);
    std::string index(reinterpret_cast<const char*>(entries.data()), entries.size() * 8);
    uint32_t crc = Crc32c(index.data(), index.size());
    return bytes + index + std::string(reinterpret_cast<const char*>(&crc), 4);
  };
  expect_permanent(with_index({0, 64, kMissing, kMissing, 64, 64, 128, 1000}), "outside",
                   "past end");
  expect_permanent(with_index({0, 64, kMissing, kMissing, 64, 64, kMissing - 5, 64}), "invalid",
                   "overflow");
  expect_permanent(with_index({0, 64, kMissing, 3, 64, 64, 128, 64}), "invalid", "half missing");
  expect_permanent(with_index({0, 60, kMissing, kMissing, 64, 64, 128, 64}), "inner chunk (0, 0)",
                   "short inner chunk");
  auto index = chain.sharding()->DecodeIndex(Buffer::CopyOf("short"));
  ASSERT_FALSE(index.ok());
  EXPECT_EQ(index.status().kind(), ErrorKind::kPermanent);
}

TEST(ShardingCodecTest, ZeroDimensionalShard) {
  ChunkSpec spec = Spec("float32", {});
  CodecChain chain = Chain(Sharding({{"chunk_shape", nlohmann::json::array()}}), spec);
  EXPECT_EQ(chain.sharding()->num_inner_chunks(), 1u);
  ExpectRoundTrip(chain, ArrayOf<float>({}, {2.5f}));
}

}  // namespace
}  // namespace nimbus::zarr
