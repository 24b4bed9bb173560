// The codec chain: building it from zarr.json "codecs", its errors, and decoding chunks written
// by zarr-python 3.1.6 (numcodecs 0.16). The fixtures below were produced by writing small
// arrays with each codec chain to a zarr.storage.MemoryStore and dumping the raw chunk bytes.
#include "zarr/codec.h"

#include <gtest/gtest.h>

#include <atomic>
#include <numeric>
#include <random>
#include <string_view>
#include <thread>

#include "zarr/codecs/registry.h"
#include "zarr/codecs/test_util.h"

namespace nimbus::zarr {
namespace {

using codec_testing::ArrayOf;
using codec_testing::Chain;
using codec_testing::ExpectRoundTrip;
using codec_testing::FromHex;
using codec_testing::RandomBytes;
using codec_testing::Spec;
using codec_testing::StringsOf;
using codec_testing::ValuesOf;

// --- zarr-python 3.1.6 fixtures (generated; metadata as written in zarr.json) -------------------

// bytes_int16: shape [4, 5]
constexpr std::string_view k_bytes_int16_meta =
    R"({"data_type": "int16", "fill_value": 0, "chunk_shape": [4, 5],
        "codecs": [{"name": "bytes", "configuration": {"endian": "little"}}]})";
constexpr std::string_view k_bytes_int16_c_0_0 =
    "f9fffafffbfffcfffdfffeffffff00000100020003000400050006000700080009000a000b000c00";
// bytes_big_float64: shape [2, 3]
constexpr std::string_view k_bytes_big_float64_meta =
    R"({"data_type": "float64", "fill_value": 0.0, "chunk_shape": [2, 3],
        "codecs": [{"name": "bytes", "configuration": {"endian": "big"}}]})";
constexpr std::string_view k_bytes_big_float64_c_0_0 =
    "bff8000000000000bfe66666666666663fb99999999999a03fecccccccccccd03ffb33333333333440040000"
    "00000000";
// gzip_int32: shape [3, 4]
constexpr std::string_view k_gzip_int32_meta =
    R"({"data_type": "int32", "fill_value": 0, "chunk_shape": [3, 4],
        "codecs": [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "gzip",
        "configuration": {"level": 5}}]})";
constexpr std::string_view k_gzip_int32_c_0_0 =
    "1f8b0800e551016b00ffab78f3ff7fc287ffff3dbefcff6ff0e3ff7f893fffff3300c10b6606860bec0c0c3b"
    "b8191816f0333074083330148833300000918bead030000000";
// zstd_float32: shape [4, 6]
constexpr std::string_view k_zstd_float32_meta =
    R"({"data_type": "float32", "fill_value": 0.0, "chunk_shape": [4, 6],
        "codecs": [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "zstd",
        "configuration": {"level": 3, "checksum": true}}]})";
constexpr std::string_view k_zstd_float32_c_0_0 =
    "28b52ffd2460050200c2050e19a027190eff67dfeffbaab7ef2bace7a51748a6afebc5c526052d4e71892b87"
    "b8c3198e5ce10837b82e70803beed378184f79c8d3730139010001c002815e48b8";
// blosc_shuffle_uint16: shape [8, 8]
constexpr std::string_view k_blosc_shuffle_uint16_meta =
    R"({"data_type": "uint16", "fill_value": 0, "chunk_shape": [8, 8],
        "codecs": [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "blosc",
        "configuration": {"typesize": 2, "cname": "zstd", "clevel": 5, "shuffle": "shuffle",
        "blocksize": 0}}]})";
constexpr std::string_view k_blosc_shuffle_uint16_c_0_0 =
    "0201910280000000800000006a000000140000005200000028b52ffd20804d02001404000306090c0f121518"
    "1b1e2124272a2d303336393c3f4245484b4e5154575a5d606366696c6f7275787b7e8184878a8d909396999c"
    "9fa2a5a8abaeb1b4b7babd00010001251005";
// blosc_bitshuffle_lz4_float32: shape [4, 8]
constexpr std::string_view k_blosc_bitshuffle_lz4_float32_meta =
    R"({"data_type": "float32", "fill_value": 0.0, "chunk_shape": [4, 8],
        "codecs": [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "blosc",
        "configuration": {"typesize": 4, "cname": "lz4", "clevel": 5, "shuffle": "bitshuffle",
        "blocksize": 0}}]})";
constexpr std::string_view k_blosc_bitshuffle_lz4_float32_c_0_0 =
    "0201360480000000800000009000000000000000a56a573fb7c7683fc381103ecfbd41bf107c75bf8c0f8fbe"
    "4630283f95467d3f3101d33ef7440bbf5cff7fbfd85c09bf2320d73e72987d3f4479263f116893be251e76bf"
    "b34040bf6979193ec8b6693f102f563f150511bce6a158bffcd367bf388707be0737433f0ed5743f2ab48a3e"
    "e9e329bfa4ef7cbf06decebe";
// crc32c_uint8: shape [10]
constexpr std::string_view k_crc32c_uint8_meta =
    R"({"data_type": "uint8", "fill_value": 0, "chunk_shape": [10], "codecs": [{"name": "bytes"},
        {"name": "crc32c"}]})";
constexpr std::string_view k_crc32c_uint8_c_0 = "0001020304050607080931212c02";
// sharded_end_int32: shape [8, 8]
constexpr std::string_view k_sharded_end_int32_meta =
    R"({"data_type": "int32", "fill_value": 0, "chunk_shape": [8, 8],
        "codecs": [{"name": "sharding_indexed", "configuration": {"chunk_shape": [4, 4],
        "codecs": [{"name": "bytes", "configuration": {"endian": "little"}}],
        "index_codecs": [{"name": "bytes", "configuration": {"endian": "little"}},
        {"name": "crc32c"}], "index_location": "end"}}]})";
constexpr std::string_view k_sharded_end_int32_c_0_0 =
    "01000000020000000300000004000000090000000a0000000b0000000c000000110000001200000013000000"
    "14000000190000001a0000001b0000001c00000021000000220000002300000024000000290000002a000000"
    "2b0000002c00000031000000320000003300000034000000390000003a0000003b0000003c00000025000000"
    "2600000027000000280000002d0000002e0000002f0000003000000035000000360000003700000038000000"
    "3d0000003e0000003f0000004000000000000000000000004000000000000000ffffffffffffffffffffffff"
    "ffffffff4000000000000000400000000000000080000000000000004000000000000000212abd3f";
// sharded_start_uint16: shape [4, 4]
constexpr std::string_view k_sharded_start_uint16_meta =
    R"({"data_type": "uint16", "fill_value": 7, "chunk_shape": [4, 4],
        "codecs": [{"name": "sharding_indexed", "configuration": {"chunk_shape": [2, 2],
        "codecs": [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "zstd",
        "configuration": {"level": 1, "checksum": false}}], "index_codecs": [{"name": "bytes",
        "configuration": {"endian": "little"}}, {"name": "crc32c"}],
        "index_location": "start"}}]})";
constexpr std::string_view k_sharded_start_uint16_c_0_0 =
    "4400000000000000110000000000000055000000000000001100000000000000ffffffffffffffffffffffff"
    "ffffffff6600000000000000110000000000000002c9f0b928b52ffd2008410000640065006800690028b52f"
    "fd2008410000660067006a006b0028b52ffd20084100006e006f0072007300";
// vlen_utf8: shape [2, 3]
constexpr std::string_view k_vlen_utf8_meta =
    R"({"data_type": "string", "fill_value": "", "chunk_shape": [2, 3],
        "codecs": [{"name": "vlen-utf8", "configuration": {}}]})";
constexpr std::string_view k_vlen_utf8_c_0_0 =
    "060000000100000061000000000600000068c3a96c6c6f09000000e697a5e69cace8aa9e0300000078797a02"
    "0000006f6b";
// vlen_utf8_zstd: shape [4]
constexpr std::string_view k_vlen_utf8_zstd_meta =
    R"({"data_type": "string", "fill_value": "", "chunk_shape": [4],
        "codecs": [{"name": "vlen-utf8", "configuration": {}}, {"name": "zstd",
        "configuration": {"level": 0, "checksum": false}}]})";
constexpr std::string_view k_vlen_utf8_zstd_c_0 =
    "28b52ffd20221101000400000005000000616c7068610400000062657461000000000500000067616d6d61";
// vlen_bytes: shape [3]
constexpr std::string_view k_vlen_bytes_meta =
    R"({"data_type": "variable_length_bytes", "fill_value": "", "chunk_shape": [3],
        "codecs": [{"name": "vlen-bytes", "configuration": {}}]})";
constexpr std::string_view k_vlen_bytes_c_0 = "030000000200000000010000000003000000616263";
// transpose_int16: shape [2, 3, 4]
constexpr std::string_view k_transpose_int16_meta =
    R"({"data_type": "int16", "fill_value": 0, "chunk_shape": [2, 3, 4],
        "codecs": [{"name": "transpose", "configuration": {"order": [2, 0, 1]}}, {"name": "bytes",
        "configuration": {"endian": "little"}}]})";
constexpr std::string_view k_transpose_int16_c_0_0_0 =
    "0000040008000c00100014000100050009000d0011001500020006000a000e0012001600030007000b000f00"
    "13001700";
// complex64_big: shape [4]
constexpr std::string_view k_complex64_big_meta =
    R"({"data_type": "complex64", "fill_value": [0.0, 0.0], "chunk_shape": [4],
        "codecs": [{"name": "bytes", "configuration": {"endian": "big"}}]})";
constexpr std::string_view k_complex64_big_c_0 =
    "3f80000040000000c06000003e8000000000000000000000501502f9bf800000";
// utf32_big: shape [4]
constexpr std::string_view k_utf32_big_meta =
    R"({"data_type": {"name": "fixed_length_utf32", "configuration": {"length_bytes": 12}},
        "fill_value": "", "chunk_shape": [4], "codecs": [{"name": "bytes",
        "configuration": {"endian": "big"}}]})";
constexpr std::string_view k_utf32_big_c_0 =
    "00000061000000620000000000000078000000790000007a0000000000000000000000000000007100000000"
    "00000000";

// ------------------------------------------------------------------------------------------------

struct Fixture {
  ChunkSpec spec;
  nlohmann::json codecs;
  CodecChain chain;
};

Fixture Load(std::string_view metadata) {
  nlohmann::json meta = nlohmann::json::parse(metadata);
  Fixture f;
  f.spec =
      Spec(meta["data_type"], meta["chunk_shape"].get<std::vector<uint64_t>>(), meta["fill_value"]);
  f.codecs = meta["codecs"];
  f.chain = Chain(f.codecs, f.spec);
  // What we write back must be what zarr-python wrote.
  EXPECT_EQ(f.chain.ToJson(), f.codecs);
  return f;
}

ChunkArray DecodeHex(const Fixture& f, std::string_view hex) {
  auto decoded = f.chain.Decode(Buffer::CopyOf(FromHex(hex)));
  EXPECT_TRUE(decoded.ok()) << decoded.status().ToString();
  return decoded.ok() ? std::move(decoded).value() : ChunkArray();
}

// Our encoding of `chunk` is byte-for-byte zarr-python's (codecs without a compressor).
void ExpectSameBytes(const Fixture& f, const ChunkArray& chunk, std::string_view hex) {
  auto encoded = f.chain.Encode(codec_testing::Copy(chunk));
  ASSERT_TRUE(encoded.ok()) << encoded.status().ToString();
  EXPECT_EQ(encoded->ToString(), FromHex(hex));
}

template <typename T>
std::vector<T> Iota(size_t n, T start, T step = 1) {
  std::vector<T> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<T>(start + static_cast<T>(i) * step);
  return v;
}

TEST(ZarrPythonFixtureTest, BytesLittleAndBig) {
  Fixture i16 = Load(k_bytes_int16_meta);
  ChunkArray a = DecodeHex(i16, k_bytes_int16_c_0_0);
  EXPECT_EQ(ValuesOf<int16_t>(a), Iota<int16_t>(20, -7));
  EXPECT_EQ(a.shape, (std::vector<uint64_t>{4, 5}));
  EXPECT_TRUE(i16.chain.IsRawNative());
  ExpectSameBytes(i16, a, k_bytes_int16_c_0_0);

  Fixture f64 = Load(k_bytes_big_float64_meta);
  ChunkArray b = DecodeHex(f64, k_bytes_big_float64_c_0_0);
  EXPECT_EQ(ValuesOf<double>(b),
            (std::vector<double>{-1.5, -0.7, 0.10000000000000009, 0.9000000000000004,
                                 1.7000000000000002, 2.5}));
  EXPECT_FALSE(f64.chain.IsRawNative());
  ExpectSameBytes(f64, b, k_bytes_big_float64_c_0_0);

  Fixture c64 = Load(k_complex64_big_meta);
  ChunkArray c = DecodeHex(c64, k_complex64_big_c_0);
  EXPECT_EQ(ValuesOf<float>(c), (std::vector<float>{1, 2, -3.5, 0.25, 0, 0, 1e10f, -1}));
  ExpectSameBytes(c64, c, k_complex64_big_c_0);

  Fixture u32 = Load(k_utf32_big_meta);
  ChunkArray d = DecodeHex(u32, k_utf32_big_c_0);
  EXPECT_EQ(ValuesOf<uint32_t>(d),
            (std::vector<uint32_t>{'a', 'b', 0, 'x', 'y', 'z', 0, 0, 0, 'q', 0, 0}));
  ExpectSameBytes(u32, d, k_utf32_big_c_0);
}

TEST(ZarrPythonFixtureTest, Compressors) {
  Fixture gz = Load(k_gzip_int32_meta);
  EXPECT_EQ(ValuesOf<int32_t>(DecodeHex(gz, k_gzip_int32_c_0_0)), Iota<int32_t>(12, -5000, 1000));

  Fixture zs = Load(k_zstd_float32_meta);
  EXPECT_EQ(ValuesOf<float>(DecodeHex(zs, k_zstd_float32_c_0_0)), Iota<float>(24, 0, 0.25f));

  Fixture bs = Load(k_blosc_shuffle_uint16_meta);
  EXPECT_EQ(ValuesOf<uint16_t>(DecodeHex(bs, k_blosc_shuffle_uint16_c_0_0)),
            Iota<uint16_t>(64, 0, 3));

  Fixture bl = Load(k_blosc_bitshuffle_lz4_float32_meta);
  EXPECT_EQ(ValuesOf<float>(DecodeHex(bl, k_blosc_bitshuffle_lz4_float32_c_0_0)),
            (std::vector<float>{0.0f,
                                0.8414710164070129f,
                                0.9092974066734314f,
                                0.14112000167369843f,
                                -0.756802499294281f,
                                -0.9589242935180664f,
                                -0.279415488243103f,
                                0.6569865942001343f,
                                0.9893582463264465f,
                                0.41211846470832825f,
                                -0.5440210700035095f,
                                -0.9999902248382568f,
                                -0.5365729331970215f,
                                0.42016705870628357f,
                                0.9906073808670044f,
                                0.6502878665924072f,
                                -0.2879033386707306f,
                                -0.9613974690437317f,
                                -0.7509872317314148f,
                                0.14987720549106598f,
                                0.9129452705383301f,
                                0.8366556167602539f,
                                -0.008851309306919575f,
                                -0.8462203741073608f,
                                -0.9055783748626709f,
                                -0.13235175609588623f,
                                0.7625584006309509f,
                                0.9563759565353394f,
                                0.2709057927131653f,
                                -0.6636338829994202f,
                                -0.9880316257476807f,
                                -0.4040376543998718f}));

  Fixture crc = Load(k_crc32c_uint8_meta);
  ChunkArray c = DecodeHex(crc, k_crc32c_uint8_c_0);
  EXPECT_EQ(ValuesOf<uint8_t>(c), Iota<uint8_t>(10, 0));
  ExpectSameBytes(crc, c, k_crc32c_uint8_c_0);
  std::string corrupt = FromHex(k_crc32c_uint8_c_0);
  corrupt[3] ^= 1;
  auto bad = crc.chain.Decode(Buffer::CopyOf(corrupt));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "crc32c checksum mismatch");
}

TEST(ZarrPythonFixtureTest, Sharded) {
  Fixture end = Load(k_sharded_end_int32_meta);
  ASSERT_NE(end.chain.sharding(), nullptr);
  ChunkArray a = DecodeHex(end, k_sharded_end_int32_c_0_0);
  std::vector<int32_t> expected = Iota<int32_t>(64, 1);
  for (int r = 0; r < 4; ++r) {
    for (int col = 4; col < 8; ++col) expected[r * 8 + col] = 0;
  }
  EXPECT_EQ(ValuesOf<int32_t>(a), expected);
  ExpectSameBytes(end, a, k_sharded_end_int32_c_0_0);

  Fixture start = Load(k_sharded_start_uint16_meta);
  ASSERT_NE(start.chain.sharding(), nullptr);
  EXPECT_EQ(start.chain.sharding()->index_location(), ShardingCodec::IndexLocation::kStart);
  std::vector<uint16_t> values = Iota<uint16_t>(16, 100);
  for (int r = 2; r < 4; ++r) {
    for (int col = 0; col < 2; ++col) values[r * 4 + col] = 7;  // omitted: the fill value
  }
  ChunkArray b = DecodeHex(start, k_sharded_start_uint16_c_0_0);
  EXPECT_EQ(ValuesOf<uint16_t>(b), values);
  ExpectRoundTrip(start.chain, b);
}

TEST(ZarrPythonFixtureTest, VariableLengthAndTranspose) {
  Fixture utf8 = Load(k_vlen_utf8_meta);
  ChunkArray a = DecodeHex(utf8, k_vlen_utf8_c_0_0);
  EXPECT_EQ(a.values,
            (std::vector<std::string>{"a", "", "h\xc3\xa9llo",
                                      "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", "xyz", "ok"}));
  ExpectSameBytes(utf8, a, k_vlen_utf8_c_0_0);

  Fixture zutf8 = Load(k_vlen_utf8_zstd_meta);
  EXPECT_EQ(DecodeHex(zutf8, k_vlen_utf8_zstd_c_0).values,
            (std::vector<std::string>{"alpha", "beta", "", "gamma"}));

  Fixture raw = Load(k_vlen_bytes_meta);
  ChunkArray b = DecodeHex(raw, k_vlen_bytes_c_0);
  EXPECT_EQ(b.values, (std::vector<std::string>{std::string("\0\1", 2), "", "abc"}));
  ExpectSameBytes(raw, b, k_vlen_bytes_c_0);

  Fixture tr = Load(k_transpose_int16_meta);
  ChunkArray c = DecodeHex(tr, k_transpose_int16_c_0_0_0);
  EXPECT_EQ(c.shape, (std::vector<uint64_t>{2, 3, 4}));
  EXPECT_EQ(ValuesOf<int16_t>(c), Iota<int16_t>(24, 0));
  ExpectSameBytes(tr, c, k_transpose_int16_c_0_0_0);
  EXPECT_EQ(tr.chain.sharding(), nullptr);
}

// --- building chains ----------------------------------------------------------------------------

TEST(CodecChainTest, UnknownCodecIsUnimplementedAndListsTheSupportedOnes) {
  auto r = CodecChain::FromJson(nlohmann::json::parse(R"([{"name":"bytes"},{"name":"foo"}])"),
                                Spec("uint8", {4}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().kind(), ErrorKind::kUnimplemented);
  EXPECT_EQ(r.status().message(),
            "codec 'foo' is not supported (supported: blosc, bytes, crc32c, gzip, "
            "numcodecs.lz4, numcodecs.shuffle, sharding_indexed, transpose, vlen-bytes, "
            "vlen-utf8, zstd)");
  EXPECT_NE(FindCodecFactory("zstd"), nullptr);
  EXPECT_NE(FindCodecFactory("numcodecs.lz4"), nullptr);
  EXPECT_EQ(FindCodecFactory("lz4"), nullptr);
}

TEST(CodecChainTest, RejectsBadShapesOfTheList) {
  ChunkSpec spec = Spec("int16", {4});
  struct Case {
    const char* codecs;
    const char* expected;
  };
  for (const Case& c : {
           Case{R"([])", "array -> bytes codec"},
           Case{R"([{"name":"gzip"}])", "must come after"},
           Case{R"([{"name":"gzip"},{"name":"bytes","configuration":{"endian":"little"}}])",
                "must come after"},
           Case{R"([{"name":"bytes","configuration":{"endian":"little"}},
                    {"name":"bytes","configuration":{"endian":"big"}}])",
                "only one array -> bytes"},
           Case{R"([{"name":"bytes","configuration":{"endian":"little"}},
                    {"name":"transpose","configuration":{"order":[0]}}])",
                "must come before"},
           Case{R"([{"name":"transpose","configuration":{"order":[0]}}])", "array -> bytes codec"},
           Case{R"({"name":"bytes"})", "must be a list"},
           Case{R"([42])", "each entry"},
           Case{R"([{"configuration":{}}])", "each entry"},
           Case{R"([{"name":"bytes","configuration":[1]}])", "configuration must be an object"},
           Case{R"([{"name":"bytes","configuration":{"endian":"little","x":1}}])", "'x'"},
       }) {
    auto r = CodecChain::FromJson(nlohmann::json::parse(c.codecs), spec);
    ASSERT_FALSE(r.ok()) << c.codecs;
    EXPECT_EQ(r.status().kind(), ErrorKind::kInvalidArgument) << c.codecs;
    EXPECT_NE(r.status().message().find(c.expected), std::string::npos)
        << c.codecs << " -> " << r.status().message();
  }
}

TEST(CodecChainTest, ShortFormNamesAndExplicitDefaultsOnWrite) {
  ChunkSpec spec = Spec("uint16", {16});
  CodecChain chain = Chain(nlohmann::json::parse(R"([{"name":"bytes","configuration":{
      "endian":"little"}}, "crc32c", {"name":"zstd"}, {"name":"blosc"}, {"name":"gzip"}])"),
                           spec);
  EXPECT_EQ(chain.ToJson(), nlohmann::json::parse(R"([
      {"name":"bytes","configuration":{"endian":"little"}},
      {"name":"crc32c"},
      {"name":"zstd","configuration":{"level":0,"checksum":false}},
      {"name":"blosc","configuration":{"typesize":2,"cname":"zstd","clevel":5,
                                       "shuffle":"shuffle","blocksize":0}},
      {"name":"gzip","configuration":{"level":5}}])"));
  EXPECT_EQ(chain.FixedEncodedSize(), std::nullopt);
  ExpectRoundTrip(chain, RandomBytes({16}, 2, 1));

  CodecChain fixed = Chain(nlohmann::json::parse(R"([{"name":"bytes","configuration":{
      "endian":"big"}}, "crc32c", "crc32c"])"),
                           spec);
  EXPECT_EQ(fixed.FixedEncodedSize(), 32u + 8u);
  ExpectRoundTrip(fixed, RandomBytes({16}, 2, 2));
}

TEST(CodecChainTest, RoundTripsEveryDataTypeClassThroughACompressor) {
  const nlohmann::json types[] = {
      "bool",
      "int8",
      "int64",
      "uint32",
      "float16",
      "float64",
      "complex128",
      "r16",
      {{"name", "fixed_length_utf32"}, {"configuration", {{"length_bytes", 8}}}},
      {{"name", "null_terminated_bytes"}, {"configuration", {{"length_bytes", 3}}}},
      {{"name", "numpy.timedelta64"}, {"configuration", {{"unit", "ms"}, {"scale_factor", 1}}}}};
  for (const nlohmann::json& type : types) {
    ChunkSpec spec = Spec(type, {5, 6});
    for (const char* codecs : {
             R"([{"name":"bytes","configuration":{"endian":"big"}},{"name":"zstd"}])",
             R"([{"name":"transpose","configuration":{"order":[1,0]}},
                 {"name":"bytes","configuration":{"endian":"little"}},
                 {"name":"blosc","configuration":{"cname":"lz4","shuffle":"bitshuffle"}}])",
             R"([{"name":"sharding_indexed","configuration":{"chunk_shape":[5,2],
                 "codecs":[{"name":"bytes","configuration":{"endian":"big"}},{"name":"gzip"}]}}])",
         }) {
      ExpectRoundTrip(Chain(nlohmann::json::parse(codecs), spec),
                      RandomBytes(spec.shape, spec.data_type.item_size, 4));
    }
  }
}

TEST(CodecChainTest, DecodeRefusesMoreThanTheChunkHolds) {
  // 4 KiB of zeros compressed claims 4096 bytes; the chunk holds 64.
  ChunkSpec big = Spec("uint8", {4096});
  ChunkSpec small = Spec("uint8", {64});
  for (const char* compressor : {"gzip", "zstd", "blosc"}) {
    nlohmann::json codecs = nlohmann::json::array({{{"name", "bytes"}}, {{"name", compressor}}});
    auto bomb = Chain(codecs, big).Encode(ChunkArray::Filled(big));
    ASSERT_TRUE(bomb.ok());
    auto r = Chain(codecs, small).Decode(std::move(bomb).value());
    ASSERT_FALSE(r.ok()) << compressor;
    EXPECT_EQ(r.status().kind(), ErrorKind::kPermanent) << compressor;
    EXPECT_NE(r.status().message().find("64"), std::string::npos) << r.status().message();
  }
}

// Mutated and truncated chunks for every codec: decoding returns errors (or, where the damage
// happens to be consistent, some chunk of the right size) and never crashes or over-reads; the
// sanitizer builds make the "never" meaningful.
TEST(CodecChainTest, DecodeSurvivesRandomCorruption) {
  const char* chains[] = {
      R"([{"name":"bytes","configuration":{"endian":"big"}},{"name":"gzip"}])",
      R"([{"name":"bytes","configuration":{"endian":"little"}},{"name":"zstd"}])",
      R"([{"name":"bytes","configuration":{"endian":"little"}},{"name":"blosc","configuration":{
          "cname":"lz4","shuffle":"bitshuffle"}}])",
      R"([{"name":"bytes","configuration":{"endian":"little"}},{"name":"blosc","configuration":{
          "cname":"zstd","shuffle":"shuffle"}}])",
      R"([{"name":"transpose","configuration":{"order":[1,0]}},
          {"name":"bytes","configuration":{"endian":"little"}},{"name":"crc32c"}])",
      R"([{"name":"sharding_indexed","configuration":{"chunk_shape":[4,4],
          "codecs":[{"name":"bytes","configuration":{"endian":"little"}},{"name":"zstd"}],
          "index_codecs":[{"name":"bytes","configuration":{"endian":"little"}}]}}])",
      R"([{"name":"sharding_indexed","configuration":{"chunk_shape":[2,8],"index_location":"start",
          "codecs":[{"name":"bytes","configuration":{"endian":"little"}}],
          "index_codecs":[{"name":"bytes","configuration":{"endian":"little"}}]}}])",
  };
  ChunkSpec spec = Spec("uint32", {8, 8});
  std::vector<uint32_t> values(64);
  for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<uint32_t>(i % 9 == 0 ? 0 : i);
  std::mt19937 rng(42);
  for (const char* codecs : chains) {
    CodecChain chain = Chain(nlohmann::json::parse(codecs), spec);
    auto encoded = chain.Encode(ArrayOf<uint32_t>({8, 8}, values));
    ASSERT_TRUE(encoded.ok()) << encoded.status().ToString();
    const std::string good = encoded->ToString();
    for (int trial = 0; trial < 300; ++trial) {
      std::string bad = good;
      if (trial % 3 == 0) {
        bad.resize(rng() % bad.size());
      } else {
        for (int flips = 1 + static_cast<int>(rng() % 4); flips > 0; --flips) {
          bad[rng() % bad.size()] ^= static_cast<char>(1 + rng() % 255);
        }
      }
      auto decoded = chain.Decode(Buffer::CopyOf(bad));
      if (decoded.ok()) {
        EXPECT_EQ(decoded->data.size(), spec.num_bytes()) << codecs;
      } else {
        EXPECT_TRUE(decoded.status().kind() == ErrorKind::kPermanent ||
                    decoded.status().kind() == ErrorKind::kInvalidArgument)
            << decoded.status().ToString();
      }
    }
  }
  // Strings too: vlen lengths are the lying sizes there.
  ChunkSpec strings = Spec("string", {6});
  CodecChain vlen = Chain(nlohmann::json::parse(R"([{"name":"vlen-utf8"}])"), strings);
  auto encoded = vlen.Encode(StringsOf({6}, {"one", "two", "", "four", "five", "six"}));
  ASSERT_TRUE(encoded.ok());
  const std::string good = encoded->ToString();
  for (int trial = 0; trial < 300; ++trial) {
    std::string bad = good;
    bad[rng() % bad.size()] ^= static_cast<char>(1 + rng() % 255);
    if (trial % 2 == 0) bad.resize(rng() % bad.size());
    auto decoded = vlen.Decode(Buffer::CopyOf(bad));
    if (decoded.ok()) {
      EXPECT_EQ(decoded->values.size(), 6u);
    }
  }
}

TEST(CodecChainTest, ChainIsUsableFromManyThreads) {
  ChunkSpec spec = Spec("float32", {64, 64});
  CodecChain chain = Chain(nlohmann::json::parse(R"([
      {"name":"sharding_indexed","configuration":{"chunk_shape":[16,16],
        "codecs":[{"name":"bytes","configuration":{"endian":"little"}},{"name":"zstd"},
                  {"name":"crc32c"}]}}])"),
                           spec);
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        ChunkArray chunk = RandomBytes(spec.shape, 4, static_cast<uint32_t>(t * 100 + i));
        auto bytes = chain.Encode(codec_testing::Copy(chunk));
        if (!bytes.ok()) {
          ++failures;
          continue;
        }
        auto back = chain.Decode(std::move(bytes).value());
        if (!back.ok() || back->data.view() != chunk.data.view()) ++failures;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
}

}  // namespace
}  // namespace nimbus::zarr
