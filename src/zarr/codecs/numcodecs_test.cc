// numcodecs.shuffle and numcodecs.lz4: byte layouts checked against what numcodecs 0.16 writes,
// round trips, and hostile input. The structured data type (records) they are used with too.
#include <gtest/gtest.h>

#include <string>

#include "zarr/codec.h"
#include "zarr/codecs/numcodecs.h"
#include "zarr/codecs/registry.h"
#include "zarr/codecs/test_util.h"

namespace nimbus::zarr {
namespace {

using codec_testing::Type;
using nlohmann::json;

std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (char c : bytes) {
    out += kDigits[(static_cast<unsigned char>(c) >> 4) & 0xf];
    out += kDigits[static_cast<unsigned char>(c) & 0xf];
  }
  return out;
}

TEST(NumcodecsShuffleTest, MatchesNumcodecsByteLayoutAndRoundTrips) {
  auto codec = NumcodecsShuffleCodec::FromJson(json{{"elementsize", 4}},
                                               BytesCodecContext{Type("int32"), std::nullopt});
  ASSERT_TRUE(codec.ok()) << codec.status().ToString();
  std::string data;
  for (int32_t i = 0; i < 6; ++i) data.append(reinterpret_cast<const char*>(&i), 4);
  auto encoded = (*codec)->Encode(Buffer::CopyOf(data));
  ASSERT_TRUE(encoded.ok());
  // numcodecs.Shuffle(elementsize=4).encode(np.arange(6, dtype="<i4")).hex()
  EXPECT_EQ(Hex(encoded->view()), "000102030405000000000000000000000000000000000000");
  auto decoded = (*codec)->Decode(std::move(encoded).value());
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->view(), data);
  EXPECT_FALSE((*codec)->Decode(Buffer::CopyOf("abcde")).ok());  // not whole elements
  // Without elementsize the data type's item size applies, as zarr-python fills it in.
  auto implied = NumcodecsShuffleCodec::FromJson(json::object(),
                                                 BytesCodecContext{Type("float64"), std::nullopt});
  ASSERT_TRUE(implied.ok());
  EXPECT_EQ((*implied)->ToJson(), json::parse(
      R"({"name": "numcodecs.shuffle", "configuration": {"elementsize": 8}})"));
  EXPECT_NE(FindCodecFactory("numcodecs.shuffle"), nullptr);
}

TEST(NumcodecsLz4Test, SizeHeaderThenOneBlockAndHostileInput) {
  auto codec = NumcodecsLz4Codec::FromJson(json::object(),
                                           BytesCodecContext{Type("uint8"), std::nullopt});
  ASSERT_TRUE(codec.ok());
  std::string data;
  for (int i = 0; i < 100; ++i) data += "abc";
  auto encoded = (*codec)->Encode(Buffer::CopyOf(data));
  ASSERT_TRUE(encoded.ok());
  // numcodecs.LZ4().encode(b"abc" * 100): 18 bytes starting 2c 01 00 00 (300) then the block.
  EXPECT_EQ(encoded->size(), 18u);
  EXPECT_EQ(Hex(encoded->view().substr(0, 8)), "2c0100003f616263");
  auto decoded = (*codec)->Decode(std::move(encoded).value());
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->view(), data);
  // numcodecs' empty chunk: a zero header and an empty block.
  auto empty = (*codec)->Decode(Buffer::CopyOf(std::string("\0\0\0\0\0", 5)));
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_EQ(empty->size(), 0u);
  EXPECT_FALSE((*codec)->Decode(Buffer::CopyOf("ab")).ok());
  std::string lying("\xff\xff\x00\x00\x3f" "abc", 8);  // claims 65535 bytes
  EXPECT_FALSE((*codec)->Decode(Buffer::CopyOf(lying)).ok());
  EXPECT_EQ((*codec)->ToJson(), json::parse(
      R"({"name": "numcodecs.lz4", "configuration": {"acceleration": 1}})"));
}

TEST(StructuredTypeTest, FieldsArePackedAndFillValuesAreBase64) {
  auto type = DataType::FromJson(json::parse(R"({"name": "structured", "configuration": {
      "fields": [["a", "int32"], ["b", {"name": "structured", "configuration": {
                   "fields": [["x", "uint8"], ["y", "float64"]]}}],
                 ["s", {"name": "null_terminated_bytes", "configuration": {"length_bytes": 3}}]]}})"));
  ASSERT_TRUE(type.ok()) << type.status().ToString();
  EXPECT_EQ(type->type_class, TypeClass::kStructured);
  EXPECT_EQ(type->item_size, 4u + 9u + 3u);
  ASSERT_EQ(type->fields.size(), 3u);
  EXPECT_EQ(type->fields[2].offset, 13u);
  EXPECT_EQ(type->fields[1].type->fields[1].offset, 1u);
  EXPECT_FALSE(type->has_endianness());
  auto fill = ParseFillValue(*type, json("AQAAAAAAAAAAAAAAAGFiAA=="));
  ASSERT_TRUE(fill.ok()) << fill.status().ToString();
  EXPECT_EQ((*fill)[0], '\x01');
  EXPECT_EQ(FillValueToJson(*type, *fill), "AQAAAAAAAAAAAAAAAGFiAA==");
  EXPECT_EQ(ParseFillValue(*type, json(0))->size(), 16u);
  EXPECT_EQ(type->ToJson()["name"], "structured");

  EXPECT_FALSE(DataType::FromJson(json::parse(
      R"({"name": "structured", "configuration": {"fields": [["a", "string"]]}})")).ok());
  EXPECT_FALSE(DataType::FromJson(json::parse(
      R"({"name": "structured", "configuration": {"fields": [["a", "int8"], ["a", "int8"]]}})")).ok());
  EXPECT_FALSE(DataType::FromJson(json::parse(
      R"({"name": "structured", "configuration": {"fields": []}})")).ok());
}

}  // namespace
}  // namespace nimbus::zarr
