// bytes, transpose, vlen-utf8 and vlen-bytes.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <numeric>

#include "zarr/codecs/bytes.h"
#include "zarr/codecs/test_util.h"
#include "zarr/codecs/transpose.h"
#include "zarr/codecs/vlen.h"

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

const nlohmann::json kLittle = {{"name", "bytes"}, {"configuration", {{"endian", "little"}}}};
const nlohmann::json kBig = {{"name", "bytes"}, {"configuration", {{"endian", "big"}}}};

// --- bytes --------------------------------------------------------------------------------------

TEST(BytesCodecTest, RoundTripsEveryFixedSizeTypeInBothByteOrders) {
  const std::vector<nlohmann::json> types = {
      "bool",
      "int8",
      "int16",
      "int32",
      "int64",
      "uint8",
      "uint16",
      "uint32",
      "uint64",
      "float16",
      "float32",
      "float64",
      "complex64",
      "complex128",
      "r8",
      "r24",
      "r64",
      {{"name", "fixed_length_utf32"}, {"configuration", {{"length_bytes", 12}}}},
      {{"name", "null_terminated_bytes"}, {"configuration", {{"length_bytes", 5}}}},
      {{"name", "raw_bytes"}, {"configuration", {{"length_bytes", 3}}}},
      {{"name", "numpy.datetime64"}, {"configuration", {{"unit", "s"}, {"scale_factor", 1}}}}};
  for (const nlohmann::json& type : types) {
    ChunkSpec spec = Spec(type, {3, 7});
    for (const nlohmann::json& codec : {kLittle, kBig}) {
      CodecChain chain = Chain(nlohmann::json::array({codec}), spec);
      ExpectRoundTrip(chain, RandomBytes(spec.shape, spec.data_type.item_size, 11));
    }
  }
}

TEST(BytesCodecTest, BigEndianSwapsEachNumberComponentAndCodeUnit) {
  CodecChain i32 = Chain(nlohmann::json::array({kBig}), Spec("int32", {2}));
  auto bytes = i32.Encode(ArrayOf<int32_t>({2}, {0x01020304, -2}));
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(bytes->ToString(), FromHex("01020304fffffffe"));

  // complex64: each float32 component is swapped on its own, real part first.
  CodecChain c64 = Chain(nlohmann::json::array({kBig}), Spec("complex64", {1}));
  auto cbytes = c64.Encode(ArrayOf<float>({1}, {1.0f, -2.0f}));
  ASSERT_TRUE(cbytes.ok());
  EXPECT_EQ(cbytes->ToString(), FromHex("3f800000c0000000"));

  // UTF-32: each 4-byte code unit is swapped, not the whole 12-byte element.
  ChunkSpec u3 =
      Spec({{"name", "fixed_length_utf32"}, {"configuration", {{"length_bytes", 12}}}}, {1});
  CodecChain utf32 = Chain(nlohmann::json::array({kBig}), u3);
  auto ubytes = utf32.Encode(ArrayOf<uint32_t>({1}, {'a', 'b', 0x1F600}));
  ASSERT_TRUE(ubytes.ok());
  EXPECT_EQ(ubytes->ToString(), FromHex("00000061000000620001f600"));

  auto decoded = utf32.Decode(Buffer::CopyOf(FromHex("00000061000000620001f600")));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(ValuesOf<uint32_t>(*decoded), (std::vector<uint32_t>{'a', 'b', 0x1F600}));
}

TEST(BytesCodecTest, EndianIsRequiredExactlyForMultiByteTypes) {
  auto missing =
      CodecChain::FromJson(nlohmann::json::parse(R"([{"name":"bytes"}])"), Spec("float32", {4}));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().kind(), ErrorKind::kInvalidArgument);
  EXPECT_NE(missing.status().message().find("'endian'"), std::string::npos);

  // Single-byte types: written without configuration, a needless endian is dropped.
  for (const char* type : {"uint8", "bool", "int8", "r8"}) {
    CodecChain chain = Chain(nlohmann::json::array({kBig}), Spec(type, {4}));
    EXPECT_EQ(chain.ToJson(), nlohmann::json::parse(R"([{"name":"bytes"}])")) << type;
    EXPECT_TRUE(chain.IsRawNative());
  }
  CodecChain f32 = Chain(nlohmann::json::array({kLittle}), Spec("float32", {4}));
  EXPECT_EQ(f32.ToJson(), nlohmann::json::array({kLittle}));
  EXPECT_TRUE(f32.IsRawNative());
  EXPECT_FALSE(Chain(nlohmann::json::array({kBig}), Spec("float32", {4})).IsRawNative());

  auto bad = CodecChain::FromJson(
      nlohmann::json::parse(R"([{"name":"bytes","configuration":{"endian":"middle"}}])"),
      Spec("int16", {4}));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("codec 'bytes'"), std::string::npos);
}

TEST(BytesCodecTest, WrongSizesAreErrors) {
  CodecChain chain = Chain(nlohmann::json::array({kLittle}), Spec("int32", {4}));
  auto short_chunk = chain.Decode(Buffer::CopyOf("abc"));
  ASSERT_FALSE(short_chunk.ok());
  EXPECT_EQ(short_chunk.status().kind(), ErrorKind::kPermanent);
  EXPECT_FALSE(chain.Decode(Buffer::CopyOf(std::string(17, 'x'))).ok());
  EXPECT_FALSE(chain.Encode(ArrayOf<int32_t>({4}, {1, 2, 3})).ok());
  EXPECT_FALSE(chain.Encode(ArrayOf<int32_t>({2, 2}, {1, 2, 3, 4})).ok());  // wrong shape
}

TEST(BytesCodecTest, RefusesVariableLengthTypes) {
  auto r = CodecChain::FromJson(nlohmann::json::array({kLittle}), Spec("string", {2}));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("vlen-utf8"), std::string::npos);
}

// --- transpose ----------------------------------------------------------------------------------

// The element of the transposed array at `out` (C order) by the definition:
// out[i0, i1, i2] = in[j] where j[order[k]] = i[k].
template <typename T>
std::vector<T> NaiveTranspose(const std::vector<T>& in, const std::array<uint64_t, 3>& shape,
                              const std::array<size_t, 3>& order) {
  std::array<uint64_t, 3> out_shape = {shape[order[0]], shape[order[1]], shape[order[2]]};
  std::vector<T> out;
  for (uint64_t a = 0; a < out_shape[0]; ++a) {
    for (uint64_t b = 0; b < out_shape[1]; ++b) {
      for (uint64_t c = 0; c < out_shape[2]; ++c) {
        std::array<uint64_t, 3> i = {a, b, c};
        std::array<uint64_t, 3> j{};
        for (size_t k = 0; k < 3; ++k) j[order[k]] = i[k];
        out.push_back(in[(j[0] * shape[1] + j[1]) * shape[2] + j[2]]);
      }
    }
  }
  return out;
}

TEST(TransposeCodecTest, EveryPermutationIn3D) {
  const std::array<uint64_t, 3> shape = {2, 3, 5};
  std::vector<int16_t> values(30);
  std::iota(values.begin(), values.end(), int16_t{-4});
  ChunkSpec spec = Spec("int16", {2, 3, 5});
  std::array<size_t, 3> order = {0, 1, 2};
  do {
    nlohmann::json codecs = nlohmann::json::array(
        {{{"name", "transpose"}, {"configuration", {{"order", order}}}}, kLittle});
    CodecChain chain = Chain(codecs, spec);
    EXPECT_EQ(chain.ToJson(), codecs);
    auto bytes = chain.Encode(ArrayOf<int16_t>({2, 3, 5}, values));
    ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
    std::vector<int16_t> encoded(30);
    std::memcpy(encoded.data(), bytes->data(), 60);
    EXPECT_EQ(encoded, NaiveTranspose(values, shape, order)) << order[0] << order[1] << order[2];
    auto decoded = chain.Decode(std::move(bytes).value());
    ASSERT_TRUE(decoded.ok());
    EXPECT_EQ(decoded->shape, spec.shape);
    EXPECT_EQ(ValuesOf<int16_t>(*decoded), values);
    EXPECT_EQ(chain.sharding(), nullptr);
    EXPECT_FALSE(chain.IsRawNative());
  } while (std::next_permutation(order.begin(), order.end()));
}

TEST(TransposeCodecTest, OddItemSizesStringsAndBigEndian) {
  ChunkSpec raw = Spec("r24", {4, 3, 2});
  nlohmann::json f_order = nlohmann::json::array(
      {{{"name", "transpose"}, {"configuration", {{"order", {2, 1, 0}}}}}, kBig});
  ExpectRoundTrip(Chain(f_order, raw), RandomBytes(raw.shape, 3, 5));
  ChunkSpec c128 = Spec("complex128", {3, 4});
  nlohmann::json swap2 =
      nlohmann::json::array({{{"name", "transpose"}, {"configuration", {{"order", {1, 0}}}}},
                             kBig,
                             {{"name", "crc32c"}}});
  ExpectRoundTrip(Chain(swap2, c128), RandomBytes(c128.shape, 16, 6));

  ChunkSpec strings = Spec("string", {2, 3});
  nlohmann::json vlen =
      nlohmann::json::array({{{"name", "transpose"}, {"configuration", {{"order", {1, 0}}}}},
                             {{"name", "vlen-utf8"}, {"configuration", nlohmann::json::object()}}});
  CodecChain chain = Chain(vlen, strings);
  auto bytes = chain.Encode(StringsOf({2, 3}, {"a", "b", "c", "d", "e", "f"}));
  ASSERT_TRUE(bytes.ok());
  auto plain = Chain(nlohmann::json::array({vlen[1]}), Spec("string", {3, 2}));
  auto transposed = plain.Decode(std::move(bytes).value());
  ASSERT_TRUE(transposed.ok());
  EXPECT_EQ(transposed->values, (std::vector<std::string>{"a", "d", "b", "e", "c", "f"}));
  ExpectRoundTrip(chain, StringsOf({2, 3}, {"a", "", "ccc", "d", "é", "f"}));
}

TEST(TransposeCodecTest, LegacyOrderStringsAndErrors) {
  ChunkSpec spec = Spec("uint8", {2, 3, 4});
  CodecChain c_order = Chain(nlohmann::json::parse(
                                 R"([{"name":"transpose","configuration":{"order":"C"}},
                                     {"name":"bytes"}])"),
                             spec);
  EXPECT_EQ(c_order.ToJson()[0]["configuration"]["order"], nlohmann::json({0, 1, 2}));
  CodecChain f_order = Chain(nlohmann::json::parse(
                                 R"([{"name":"transpose","configuration":{"order":"F"}},
                                     {"name":"bytes"}])"),
                             spec);
  EXPECT_EQ(f_order.ToJson()[0]["configuration"]["order"], nlohmann::json({2, 1, 0}));
  ExpectRoundTrip(f_order, RandomBytes(spec.shape, 1, 3));

  for (const char* order :
       {R"([0, 1])", R"([0, 1, 1])", R"([0, 1, 3])", R"([0, 1, -2])", R"("X")", R"([0, 1, 2.0])"}) {
    auto r = CodecChain::FromJson(
        nlohmann::json::parse(std::string(R"([{"name":"transpose","configuration":{"order":)") +
                              order + R"(}},{"name":"bytes"}])"),
        spec);
    ASSERT_FALSE(r.ok()) << order;
    EXPECT_EQ(r.status().kind(), ErrorKind::kInvalidArgument);
    EXPECT_NE(r.status().message().find("'order'"), std::string::npos) << r.status().message();
  }
  auto missing = CodecChain::FromJson(
      nlohmann::json::parse(R"([{"name":"transpose"},{"name":"bytes"}])"), spec);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("'order' is required"), std::string::npos);
}

TEST(TransposeCodecTest, ZeroDimensional) {
  ChunkSpec scalar = Spec("float64", {});
  CodecChain chain =
      Chain(nlohmann::json::array(
                {{{"name", "transpose"}, {"configuration", {{"order", nlohmann::json::array()}}}},
                 kLittle}),
            scalar);
  ExpectRoundTrip(chain, ArrayOf<double>({}, {3.25}));
}

// --- vlen ---------------------------------------------------------------------------------------

const nlohmann::json kVlenUtf8 = {{"name", "vlen-utf8"},
                                  {"configuration", nlohmann::json::object()}};
const nlohmann::json kVlenBytes = {{"name", "vlen-bytes"},
                                   {"configuration", nlohmann::json::object()}};

TEST(VlenCodecTest, NumcodecsLayout) {
  CodecChain chain = Chain(nlohmann::json::array({kVlenUtf8}), Spec("string", {3}));
  auto bytes = chain.Encode(StringsOf({3}, {"ab", "", "\xc3\xa9"}));
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(bytes->ToString(), FromHex("03000000"
                                       "0200000061620000000002000000c3a9"));
  EXPECT_EQ(chain.ToJson(), nlohmann::json::array({kVlenUtf8}));
  CodecChain raw = Chain(nlohmann::json::array({"vlen-bytes"}), Spec("variable_length_bytes", {2}));
  EXPECT_EQ(raw.ToJson(), nlohmann::json::array({kVlenBytes}));
  ExpectRoundTrip(raw, StringsOf({2}, {std::string("\0\xff\x80", 3), ""}));
}

TEST(VlenCodecTest, RoundTripsManyShapes) {
  for (std::vector<uint64_t> shape :
       {std::vector<uint64_t>{}, std::vector<uint64_t>{0}, std::vector<uint64_t>{5, 4}}) {
    ChunkSpec spec = Spec("string", shape);
    std::vector<std::string> values(spec.num_elements());
    for (size_t i = 0; i < values.size(); ++i) values[i] = std::string(i, 'a' + i % 26) + "日本";
    ExpectRoundTrip(Chain({kVlenUtf8, {{"name", "zstd"}}}, spec), StringsOf(shape, values));
    ExpectRoundTrip(Chain({kVlenBytes, {{"name", "gzip"}}}, Spec("variable_length_bytes", shape)),
                    StringsOf(shape, values));
  }
}

TEST(VlenCodecTest, RequiresMatchingTypes) {
  auto a = CodecChain::FromJson(nlohmann::json::array({kVlenUtf8}), Spec("int32", {2}));
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.status().message().find("codec 'vlen-utf8'"), std::string::npos);
  EXPECT_FALSE(CodecChain::FromJson(nlohmann::json::array({kVlenBytes}), Spec("string", {2})).ok());
  EXPECT_FALSE(
      CodecChain::FromJson(nlohmann::json::array({kVlenUtf8}), Spec("variable_length_bytes", {2}))
          .ok());
}

TEST(VlenCodecTest, Utf8IsValidated) {
  EXPECT_TRUE(IsValidUtf8("plain ascii text, long enough for the fast path"));
  EXPECT_TRUE(IsValidUtf8("\xc3\xa9\xe6\x97\xa5\xf0\x9f\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // past U+10FFFF
  EXPECT_FALSE(IsValidUtf8("abcdefgh\xe6\x97"));  // truncated
  EXPECT_FALSE(IsValidUtf8("\x80"));

  CodecChain chain = Chain(nlohmann::json::array({kVlenUtf8}), Spec("string", {1}));
  auto encoded = chain.Encode(StringsOf({1}, {"\xff"}));
  ASSERT_FALSE(encoded.ok());
  EXPECT_EQ(encoded.status().kind(), ErrorKind::kInvalidArgument);
  auto decoded = chain.Decode(Buffer::CopyOf(FromHex("0100000001000000ff")));
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().kind(), ErrorKind::kPermanent);
}

TEST(VlenCodecTest, HostileInputIsAClearError) {
  CodecChain chain = Chain(nlohmann::json::array({kVlenBytes}), Spec("variable_length_bytes", {2}));
  for (const char* hex :
       {"", "020000", "02000000", "0200000001000000", "020000000100000061ffffffff",
        "0300000001000000610100000062", "ffffffff"}) {
    auto r = chain.Decode(Buffer::CopyOf(FromHex(hex)));
    ASSERT_FALSE(r.ok()) << hex;
    EXPECT_EQ(r.status().kind(), ErrorKind::kPermanent) << hex;
  }
  // A count matching the chunk but more than the bytes can hold fails before allocating.
  ChunkSpec huge = Spec("variable_length_bytes", {1u << 30});
  CodecChain big = Chain(nlohmann::json::array({kVlenBytes}), huge);
  auto r = big.Decode(Buffer::CopyOf(FromHex("0000004000000000")));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("truncated"), std::string::npos) << r.status().message();
  // Trailing bytes are ignored, like numcodecs.
  auto ok = chain.Decode(Buffer::CopyOf(FromHex("020000000100000061010000006200")));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->values, (std::vector<std::string>{"a", "b"}));
}

}  // namespace
}  // namespace nimbus::zarr
