// gzip, zstd and blosc: round trips, configuration handling, and hostile input.
#include <gtest/gtest.h>
#include <libdeflate.h>
#include <zlib.h>
#include <zstd.h>

#include <cmath>
#include <random>
#include <string>

#include "zarr/codecs/blosc.h"
#include "zarr/codecs/gzip.h"
#include "zarr/codecs/test_util.h"
#include "zarr/codecs/zstd.h"

namespace nimbus::zarr {
namespace {

using codec_testing::Type;

BytesCodecContext Context(const char* type, std::optional<uint64_t> size) {
  return BytesCodecContext{Type(type), size};
}

// Compressible but not trivial: a slowly varying float32 signal.
std::string SignalBytes(size_t count) {
  std::string out(count * 4, '\0');
  for (size_t i = 0; i < count; ++i) {
    float v = std::sin(static_cast<float>(i) * 0.01f) * 100.0f;
    std::memcpy(out.data() + i * 4, &v, 4);
  }
  return out;
}

std::string RandomString(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

void ExpectRoundTrip(const BytesToBytesCodec& codec, const std::string& data) {
  auto encoded = codec.Encode(Buffer::CopyOf(data));
  ASSERT_TRUE(encoded.ok()) << encoded.status().ToString();
  auto decoded = codec.Decode(std::move(encoded).value());
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_TRUE(decoded->view() == data) << codec.ToJson().dump();
}

std::string ZlibGzip(const std::string& data) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&z, data.size()) + 32, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

// --- gzip ---------------------------------------------------------------------------------------

TEST(GzipCodecTest, RoundTripsEveryLevel) {
  const std::string data = SignalBytes(10000);
  for (int level = 0; level <= 9; ++level) {
    auto codec = GzipCodec::FromJson({{"level", level}}, Context("float32", data.size()));
    ASSERT_TRUE(codec.ok()) << codec.status().ToString();
    ExpectRoundTrip(**codec, data);
    EXPECT_EQ((*codec)->ToJson(),
              nlohmann::json({{"name", "gzip"}, {"configuration", {{"level", level}}}}));
  }
}

TEST(GzipCodecTest, WritesGzipMembersZlibCanRead) {
  auto codec = GzipCodec::FromJson({{"level", 5}}, Context("uint8", std::nullopt));
  ASSERT_TRUE(codec.ok());
  const std::string data = SignalBytes(3000);
  auto encoded = (*codec)->Encode(Buffer::CopyOf(data));
  ASSERT_TRUE(encoded.ok());
  ASSERT_GE(encoded->size(), 18u);
  EXPECT_EQ(static_cast<unsigned char>(encoded->data()[0]), 0x1f);
  EXPECT_EQ(static_cast<unsigned char>(encoded->data()[1]), 0x8b);
  z_stream z{};
  ASSERT_EQ(inflateInit2(&z, 15 + 16), Z_OK);
  std::string out(data.size() + 10, '\0');
  z.next_in = reinterpret_cast<Bytef*>(encoded->data());
  z.avail_in = static_cast<uInt>(encoded->size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(inflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  inflateEnd(&z);
  EXPECT_EQ(out, data);
}

TEST(GzipCodecTest, DefaultsAndBadConfiguration) {
  auto codec = GzipCodec::FromJson(nlohmann::json::object(), Context("uint8", std::nullopt));
  ASSERT_TRUE(codec.ok());
  EXPECT_EQ((*codec)->level(), 5);
  for (const nlohmann::json& bad : {nlohmann::json{{"level", 10}}, nlohmann::json{{"level", -1}},
                                    nlohmann::json{{"level", "5"}}, nlohmann::json{{"level", 1.5}},
                                    nlohmann::json{{"lvl", 1}}}) {
    auto r = GzipCodec::FromJson(bad, Context("uint8", std::nullopt));
    ASSERT_FALSE(r.ok()) << bad.dump();
    EXPECT_EQ(r.status().kind(), ErrorKind::kInvalidArgument);
    EXPECT_NE(r.status().message().find("codec 'gzip'"), std::string::npos) << r.status().message();
  }
  auto r = GzipCodec::FromJson({{"level", 12}}, Context("uint8", std::nullopt));
  EXPECT_NE(r.status().message().find("'level'"), std::string::npos) << r.status().message();
}

TEST(GzipCodecTest, ReadsMultiMemberStreams) {
  const std::string a = SignalBytes(500);
  const std::string b = RandomString(777, 3);
  const std::string stream = ZlibGzip(a) + ZlibGzip(b) + ZlibGzip("");
  for (std::optional<uint64_t> size :
       {std::optional<uint64_t>(a.size() + b.size()), std::optional<uint64_t>()}) {
    auto codec = GzipCodec::FromJson(nullptr, Context("uint8", size));
    ASSERT_TRUE(codec.ok());
    auto decoded = (*codec)->Decode(Buffer::CopyOf(stream));
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    EXPECT_TRUE(decoded->view() == a + b);
  }
}

TEST(GzipCodecTest, GrowsWhenTheSizeTrailerLies) {
  const std::string data = SignalBytes(50000);
  std::string stream = ZlibGzip(data);
  // Rewrite ISIZE to claim 10 bytes: the decoder must grow instead of failing.
  stream[stream.size() - 4] = 10;
  stream[stream.size() - 3] = stream[stream.size() - 2] = stream[stream.size() - 1] = 0;
  auto codec = GzipCodec::FromJson(nullptr, Context("uint8", std::nullopt));
  ASSERT_TRUE(codec.ok());
  // libdeflate checks ISIZE against the data, so a lying trailer is corrupt data, not a crash.
  auto decoded = (*codec)->Decode(Buffer::CopyOf(stream));
  EXPECT_FALSE(decoded.ok());
  // An honest multi-member stream whose last ISIZE is small still needs growth.
  std::string two = ZlibGzip(data) + ZlibGzip("x");
  auto grown = (*codec)->Decode(Buffer::CopyOf(two));
  ASSERT_TRUE(grown.ok()) << grown.status().ToString();
  EXPECT_TRUE(grown->view() == data + "x");
}

TEST(GzipCodecTest, HostileInputIsAClearError) {
  const std::string data = SignalBytes(4096);
  const std::string stream = ZlibGzip(data);
  auto exact = GzipCodec::FromJson(nullptr, Context("float32", data.size()));
  auto smaller = GzipCodec::FromJson(nullptr, Context("float32", data.size() - 4));
  ASSERT_TRUE(exact.ok() && smaller.ok());
  for (size_t cut : {size_t{0}, size_t{5}, size_t{17}, stream.size() / 2, stream.size() - 1}) {
    auto r = (*exact)->Decode(Buffer::CopyOf(stream.substr(0, cut)));
    ASSERT_FALSE(r.ok()) << "cut " << cut;
    EXPECT_EQ(r.status().kind(), ErrorKind::kPermanent);
  }
  auto too_big = (*smaller)->Decode(Buffer::CopyOf(stream));
  ASSERT_FALSE(too_big.ok());
  EXPECT_NE(too_big.status().message().find("exceeds"), std::string::npos)
      << too_big.status().message();
  auto garbage = (*exact)->Decode(Buffer::CopyOf(RandomString(1000, 9)));
  EXPECT_FALSE(garbage.ok());
  std::string flipped = stream;
  flipped[flipped.size() / 2] ^= 0x55;
  EXPECT_FALSE((*exact)->Decode(Buffer::CopyOf(flipped)).ok());
}

// --- zstd ---------------------------------------------------------------------------------------

TEST(ZstdCodecTest, RoundTripsLevelsAndChecksum) {
  const std::string data = SignalBytes(20000);
  for (int level : {-5, 0, 1, 3, 9, 19}) {
    for (bool checksum : {false, true}) {
      auto codec = ZstdCodec::FromJson({{"level", level}, {"checksum", checksum}},
                                       Context("float32", data.size()));
      ASSERT_TRUE(codec.ok()) << codec.status().ToString();
      ExpectRoundTrip(**codec, data);
    }
  }
  auto defaults = ZstdCodec::FromJson(nlohmann::json::object(), Context("uint8", std::nullopt));
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(
      (*defaults)->ToJson(),
      nlohmann::json::parse(R"({"name":"zstd","configuration":{"level":0,"checksum":false}})"));
  ExpectRoundTrip(**defaults, "");
  ExpectRoundTrip(**defaults, RandomString(100000, 1));
}

TEST(ZstdCodecTest, ChecksumFlagIsWrittenAndVerified) {
  const std::string data = SignalBytes(1000);
  auto codec =
      ZstdCodec::FromJson({{"level", 1}, {"checksum", true}}, Context("float32", data.size()));
  ASSERT_TRUE(codec.ok());
  auto encoded = (*codec)->Encode(Buffer::CopyOf(data));
  ASSERT_TRUE(encoded.ok());
  std::string bytes = encoded->ToString();
  bytes[bytes.size() - 1] ^= 1;  // last byte belongs to the content checksum
  auto r = (*codec)->Decode(Buffer::CopyOf(bytes));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().kind(), ErrorKind::kPermanent);
}

TEST(ZstdCodecTest, DecodesFramesWithoutContentSizeAndSeveralFrames) {
  const std::string data = SignalBytes(30000);
  // A frame without the content size in its header, as streaming writers produce.
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 0);
  std::string frame(ZSTD_compressBound(data.size()), '\0');
  frame.resize(ZSTD_compress2(cctx, frame.data(), frame.size(), data.data(), data.size()));
  ZSTD_freeCCtx(cctx);
  ASSERT_EQ(ZSTD_getFrameContentSize(frame.data(), frame.size()), ZSTD_CONTENTSIZE_UNKNOWN);

  std::string second(ZSTD_compressBound(5), '\0');
  second.resize(ZSTD_compress(second.data(), second.size(), "hello", 5, 1));

  struct Case {
    std::string input;
    std::string expected;
  };
  for (const Case& c : {Case{frame, data}, Case{frame + second, data + "hello"},
                        Case{second + frame, "hello" + data}}) {
    for (std::optional<uint64_t> size :
         {std::optional<uint64_t>(c.expected.size()), std::optional<uint64_t>()}) {
      auto codec = ZstdCodec::FromJson(nullptr, Context("uint8", size));
      ASSERT_TRUE(codec.ok());
      auto decoded = (*codec)->Decode(Buffer::CopyOf(c.input));
      ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
      EXPECT_TRUE(decoded->view() == c.expected);
    }
  }
  // Exactly sized but the frames hold less: a clear error.
  auto larger = ZstdCodec::FromJson(nullptr, Context("uint8", data.size() + 1));
  auto short_output = (*larger)->Decode(Buffer::CopyOf(frame));
  ASSERT_FALSE(short_output.ok());
  EXPECT_NE(short_output.status().message().find("expected"), std::string::npos);
  // Unknown content size but more data than expected: refused, not allocated.
  auto small = ZstdCodec::FromJson(nullptr, Context("uint8", data.size() - 1));
  auto r = (*small)->Decode(Buffer::CopyOf(frame));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("exceeds"), std::string::npos) << r.status().message();
}

TEST(ZstdCodecTest, HostileInputIsAClearError) {
  const std::string data = SignalBytes(8192);
  auto codec = ZstdCodec::FromJson(nullptr, Context("float32", data.size()));
  ASSERT_TRUE(codec.ok());
  auto encoded = (*codec)->Encode(Buffer::CopyOf(data));
  ASSERT_TRUE(encoded.ok());
  const std::string frame = encoded->ToString();
  for (size_t cut : {size_t{0}, size_t{3}, size_t{8}, frame.size() / 2, frame.size() - 1}) {
    auto r = (*codec)->Decode(Buffer::CopyOf(frame.substr(0, cut)));
    ASSERT_FALSE(r.ok()) << "cut " << cut;
    EXPECT_EQ(r.status().kind(), ErrorKind::kPermanent);
  }
  // A frame claiming more than the chunk holds is refused before allocating.
  auto smaller = ZstdCodec::FromJson(nullptr, Context("float32", 1024));
  auto too_big = (*smaller)->Decode(Buffer::CopyOf(frame));
  ASSERT_FALSE(too_big.ok());
  EXPECT_NE(too_big.status().message().find("claim"), std::string::npos)
      << too_big.status().message();
  EXPECT_FALSE((*codec)->Decode(Buffer::CopyOf(RandomString(500, 2))).ok());
  EXPECT_FALSE((*codec)->Decode(Buffer::CopyOf(frame + "junk")).ok());
}

TEST(ZstdCodecTest, BadConfiguration) {
  for (const nlohmann::json& bad :
       {nlohmann::json{{"level", 23}}, nlohmann::json{{"checksum", 1}},
        nlohmann::json{{"level", "high"}}, nlohmann::json{{"extra", true}}}) {
    auto r = ZstdCodec::FromJson(bad, Context("uint8", std::nullopt));
    ASSERT_FALSE(r.ok()) << bad.dump();
    EXPECT_EQ(r.status().kind(), ErrorKind::kInvalidArgument);
    EXPECT_NE(r.status().message().find("codec 'zstd'"), std::string::npos);
  }
}

// --- blosc --------------------------------------------------------------------------------------

TEST(BloscCodecTest, RoundTripsEveryCompressorAndShuffle) {
  const std::string data = SignalBytes(25000);
  for (const char* cname : {"lz4", "lz4hc", "blosclz", "zstd", "zlib", "snappy"}) {
    for (const char* shuffle : {"noshuffle", "shuffle", "bitshuffle"}) {
      nlohmann::json config = {
          {"cname", cname}, {"clevel", 5}, {"shuffle", shuffle}, {"typesize", 4}, {"blocksize", 0}};
      auto codec = BloscCodec::FromJson(config, Context("float32", data.size()));
      if (!codec.ok() && codec.status().kind() == ErrorKind::kUnimplemented) continue;
      ASSERT_TRUE(codec.ok()) << codec.status().ToString();
      ExpectRoundTrip(**codec, data);
      EXPECT_EQ((*codec)->ToJson(), nlohmann::json({{"name", "blosc"}, {"configuration", config}}));
    }
  }
}

TEST(BloscCodecTest, DefaultsFollowTheDataTypeLikeZarrPython) {
  auto f64 = BloscCodec::FromJson(nlohmann::json::object(), Context("float64", 800));
  ASSERT_TRUE(f64.ok());
  EXPECT_EQ((*f64)->ToJson(), nlohmann::json::parse(R"({"name":"blosc","configuration":{
      "typesize":8,"cname":"zstd","clevel":5,"shuffle":"shuffle","blocksize":0}})"));
  auto u8 = BloscCodec::FromJson({{"cname", "lz4"}}, Context("uint8", 800));
  ASSERT_TRUE(u8.ok());
  EXPECT_EQ((*u8)->options().typesize, 1u);
  EXPECT_EQ((*u8)->options().shuffle, BloscCodec::Shuffle::kBitShuffle);
  auto str = BloscCodec::FromJson(nullptr, Context("string", std::nullopt));
  ASSERT_TRUE(str.ok());
  EXPECT_EQ((*str)->options().typesize, 1u);
  ExpectRoundTrip(**str, "");
  ExpectRoundTrip(**str, RandomString(3, 1));
}

TEST(BloscCodecTest, BadConfiguration) {
  struct Case {
    nlohmann::json config;
    const char* member;
  };
  for (const Case& c : {Case{{{"cname", "lzma"}}, "cname"}, Case{{{"clevel", 10}}, "clevel"},
                        Case{{{"shuffle", 1}}, "shuffle"}, Case{{{"shuffle", "byte"}}, "shuffle"},
                        Case{{{"typesize", 0}}, "typesize"}, Case{{{"blocksize", -1}}, "blocksize"},
                        Case{{{"level", 1}}, "level"}}) {
    auto r = BloscCodec::FromJson(c.config, Context("float32", std::nullopt));
    ASSERT_FALSE(r.ok()) << c.config.dump();
    EXPECT_EQ(r.status().kind(), ErrorKind::kInvalidArgument);
    EXPECT_NE(r.status().message().find(std::string("'") + c.member + "'"), std::string::npos)
        << r.status().message();
  }
}

TEST(BloscCodecTest, HostileInputIsAClearError) {
  const std::string data = SignalBytes(4096);
  auto codec = BloscCodec::FromJson({{"cname", "lz4"}}, Context("float32", data.size()));
  ASSERT_TRUE(codec.ok());
  auto encoded = (*codec)->Encode(Buffer::CopyOf(data));
  ASSERT_TRUE(encoded.ok());
  const std::string frame = encoded->ToString();
  for (size_t cut : {size_t{0}, size_t{10}, size_t{16}, frame.size() / 2, frame.size() - 1}) {
    auto r = (*codec)->Decode(Buffer::CopyOf(frame.substr(0, cut)));
    ASSERT_FALSE(r.ok()) << "cut " << cut;
    EXPECT_EQ(r.status().kind(), ErrorKind::kPermanent);
  }
  auto smaller = BloscCodec::FromJson({{"cname", "lz4"}}, Context("float32", 100));
  auto too_big = (*smaller)->Decode(Buffer::CopyOf(frame));
  ASSERT_FALSE(too_big.ok());
  EXPECT_NE(too_big.status().message().find("more than"), std::string::npos);
  // A header claiming 1 GiB on a small buffer must not allocate it.
  std::string lying = frame;
  uint32_t huge = 1u << 30;
  std::memcpy(lying.data() + 4, &huge, 4);
  EXPECT_FALSE((*codec)->Decode(Buffer::CopyOf(lying)).ok());
  std::string flipped = frame;
  for (size_t i = 16; i < flipped.size(); i += 7) flipped[i] ^= 0x5a;
  EXPECT_FALSE((*codec)->Decode(Buffer::CopyOf(flipped)).ok());
}

}  // namespace
}  // namespace nimbus::zarr
