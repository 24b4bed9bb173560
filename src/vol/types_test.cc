#include "vol/types.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "vol/attribute_values.h"

namespace nimbus::vol {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

StoredType Stored(hid_t type) {
  auto st = StoredTypeOf(type);
  EXPECT_TRUE(st.ok()) << st.status().ToString();
  return std::move(st).value();
}

TEST(TypesTest, IntegersAndFloatsOfEveryStandardSizeAndOrder) {
  struct Case {
    hid_t type;
    const char* zarr;
    const char* endian;
  };
  const Case cases[] = {
      {H5T_STD_I8LE, "int8", ""},         {H5T_STD_U8BE, "uint8", ""},
      {H5T_STD_I16BE, "int16", "big"},    {H5T_STD_U16LE, "uint16", "little"},
      {H5T_STD_I32LE, "int32", "little"}, {H5T_STD_U32BE, "uint32", "big"},
      {H5T_STD_I64BE, "int64", "big"},    {H5T_STD_U64LE, "uint64", "little"},
      {H5T_IEEE_F16BE, "float16", "big"}, {H5T_IEEE_F32LE, "float32", "little"},
      {H5T_IEEE_F64BE, "float64", "big"},
  };
  for (const Case& c : cases) {
    StoredType st = Stored(c.type);
    EXPECT_GT(H5Tequal(st.file_type.get(), c.type), 0) << st.description;
    EXPECT_EQ(H5Tget_order(st.engine_type.get()), H5Tget_order(H5T_NATIVE_INT)) << st.description;
    auto enc = ZarrEncodingOf(st.description);
    ASSERT_TRUE(enc.ok());
    EXPECT_EQ(enc->data_type.name, c.zarr);
    EXPECT_EQ(enc->endian, c.endian);
    auto back = DescriptionFromZarr(enc->data_type, enc->endian.empty() ? "little" : enc->endian);
    ASSERT_TRUE(back.ok());
    if (H5Tget_size(c.type) > 1) {
      EXPECT_EQ(*back, st.description);
    }
  }
  EXPECT_EQ(Stored(H5T_STD_I32BE).description,
            json::parse(R"({"class":"integer","size":4,"signed":true,"order":"big"})"));
}

TEST(TypesTest, NonStandardLayoutsAndOtherClassesAreRefusedByName) {
  Hid odd(H5Tcopy(H5T_STD_I32LE));
  ASSERT_GE(H5Tset_precision(odd.get(), 20), 0);
  auto r = DescribeType(odd.get());
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("non-standard"));
  Hid sequence(H5Tvlen_create(H5T_NATIVE_INT));
  r = DescribeType(sequence.get());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().kind(), ErrorKind::kUnimplemented);
  EXPECT_THAT(r.status().message(), HasSubstr("variable-length sequence"));
  // Variable-length strings cannot sit inside records (their values are not fixed-size bytes).
  Hid vlen(H5Tcopy(H5T_C_S1));
  H5Tset_size(vlen.get(), H5T_VARIABLE);
  Hid with_text(H5Tcreate(H5T_COMPOUND, 16));
  ASSERT_GE(H5Tinsert(with_text.get(), "id", 0, H5T_NATIVE_INT), 0);
  ASSERT_GE(H5Tinsert(with_text.get(), "name", 8, vlen.get()), 0);
  r = DescribeType(with_text.get());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().kind(), ErrorKind::kUnimplemented);
  EXPECT_THAT(r.status().message(), HasSubstr("member 'name'"));
  EXPECT_THAT(r.status().message(), HasSubstr("variable-length strings inside compound"));
}

// A record as h5py makes them, with what makes records hard: padding, a big-endian member, a nested
// compound, an array member, a fixed string and an enum.
Hid MakeRecordType() {
  Hid inner(H5Tcreate(H5T_COMPOUND, 6));
  H5Tinsert(inner.get(), "x", 0, H5T_STD_U8LE);
  H5Tinsert(inner.get(), "y", 2, H5T_IEEE_F32LE);
  hsize_t dims[2] = {2, 3};
  Hid vec(H5Tarray_create2(H5T_STD_I16BE, 2, dims));
  Hid text(H5Tcopy(H5T_C_S1));
  H5Tset_size(text.get(), 5);
  H5Tset_strpad(text.get(), H5T_STR_NULLPAD);
  Hid level(H5Tenum_create(H5T_STD_I16LE));
  int16_t low = -1, high = 300;
  H5Tenum_insert(level.get(), "LOW", &low);
  H5Tenum_insert(level.get(), "HIGH", &high);
  Hid record(H5Tcreate(H5T_COMPOUND, 48));
  H5Tinsert(record.get(), "a", 0, H5T_STD_I32LE);
  H5Tinsert(record.get(), "b", 8, H5T_IEEE_F64BE);  // 4 bytes of padding before it
  H5Tinsert(record.get(), "sub", 16, inner.get());
  H5Tinsert(record.get(), "vec", 22, vec.get());
  H5Tinsert(record.get(), "s", 34, text.get());
  H5Tinsert(record.get(), "level", 40, level.get());
  return record;
}

TEST(TypesTest, CompoundsKeepTheirExactLayoutAndAreStoredAsPackedLittleEndianRecords) {
  Hid record = MakeRecordType();
  StoredType st = Stored(record.get());
  EXPECT_EQ(st.description["class"], "compound");
  EXPECT_EQ(st.description["size"], 48);
  EXPECT_EQ(st.description["members"][1],
            json::parse(R"({"name":"b","offset":8,"type":{"class":"float","size":8,
                            "order":"big"}})"));
  EXPECT_GT(H5Tequal(st.file_type.get(), record.get()), 0);  // exact round trip
  EXPECT_TRUE(st.has_compound);
  // Engine form: packed (4 + 8 + 5 + 12 + 5 + 2 = 36 bytes), every number little-endian.
  EXPECT_EQ(st.size, 36u);
  EXPECT_EQ(H5Tget_member_offset(st.engine_type.get(), 1), 4u);
  Hid b(H5Tget_member_type(st.engine_type.get(), 1));
  EXPECT_EQ(H5Tget_order(b.get()), H5T_ORDER_LE);
  auto enc = ZarrEncodingOf(st.description);
  ASSERT_TRUE(enc.ok()) << enc.status().ToString();
  EXPECT_EQ(enc->endian, "");
  EXPECT_EQ(enc->data_type.ToJson(), json::parse(R"({"name": "structured", "configuration": {
    "fields": [["a", "int32"], ["b", "float64"],
               ["sub", {"name": "structured", "configuration": {"fields": [["x", "uint8"],
                                                                        ["y", "float32"]]}}],
               ["vec", {"name": "raw_bytes", "configuration": {"length_bytes": 12}}],
               ["s", {"name": "null_terminated_bytes", "configuration": {"length_bytes": 5}}],
               ["level", "int16"]]}})"));
  EXPECT_EQ(enc->data_type.item_size, st.size);

  // What HDF5 conversion makes of it: a big-endian double becomes little-endian bytes.
  std::vector<unsigned char> value(48, 0);
  const double b_value = 2.5;
  unsigned char be[8];
  std::memcpy(be, &b_value, 8);
  for (int i = 0; i < 8; ++i) value[8 + i] = be[7 - i];
  std::vector<unsigned char> background(48, 0);
  ASSERT_GE(H5Tconvert(record.get(), st.engine_type.get(), 1, value.data(), background.data(),
                       H5P_DEFAULT), 0);
  double stored;
  std::memcpy(&stored, value.data() + 4, 8);
  EXPECT_EQ(stored, 2.5);

  // Written by zarr-python: the packed record as a compound of little-endian members.
  auto back = DescriptionFromZarr(enc->data_type, "");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ((*back)["size"], 36);
  EXPECT_EQ((*back)["members"][1]["offset"], 4);
  EXPECT_EQ((*back)["members"][1]["type"]["order"], "little");
  EXPECT_EQ((*back)["members"][3]["type"]["class"], "opaque");  // arrays are raw bytes there
  EXPECT_EQ(MakeStoredType(*back)->size, st.size);
}

TEST(TypesTest, ArraysOpaqueAndBackgroundNeeds) {
  hsize_t dims[1] = {3};
  Hid triple(H5Tarray_create2(H5T_IEEE_F32BE, 1, dims));
  StoredType st = Stored(triple.get());
  EXPECT_EQ(st.description, json::parse(R"({"class":"array","dims":[3],
      "base":{"class":"float","size":4,"order":"big"}})"));
  EXPECT_GT(H5Tequal(st.file_type.get(), triple.get()), 0);
  EXPECT_FALSE(st.has_compound);
  EXPECT_EQ(ZarrEncodingOf(st.description)->data_type.ToJson(),
            json::parse(R"({"name":"raw_bytes","configuration":{"length_bytes":12}})"));

  Hid blob(H5Tcreate(H5T_OPAQUE, 7));
  H5Tset_tag(blob.get(), "camera frame");
  st = Stored(blob.get());
  EXPECT_EQ(st.description, json::parse(R"({"class":"opaque","size":7,"tag":"camera frame"})"));
  EXPECT_GT(H5Tequal(st.file_type.get(), blob.get()), 0);
  EXPECT_EQ(ZarrEncodingOf(st.description)->data_type.name, "raw_bytes");
  EXPECT_EQ(TypeSummary(st.description), "7-byte opaque");

  // Converting into a record from a memory type with fewer members must start from old values.
  Hid record = MakeRecordType();
  Hid only_a(H5Tcreate(H5T_COMPOUND, 4));
  H5Tinsert(only_a.get(), "a", 0, H5T_NATIVE_INT);
  EXPECT_TRUE(ConversionNeedsOldValues(only_a.get(), record.get()));
  EXPECT_FALSE(ConversionNeedsOldValues(record.get(), only_a.get()));
  EXPECT_FALSE(ConversionNeedsOldValues(record.get(), record.get()));
}

TEST(AttributeValuesTest, RecordsArePlainJsonObjectsListsAndBase64) {
  Hid record = MakeRecordType();
  StoredType st = Stored(record.get());
  json value = json::parse(R"({"a": -3, "b": 0.5, "sub": {"x": 7, "y": -1.25},
      "vec": [[1, 2, 3], [4, 5, 6]], "s": "abc", "level": 300})");
  std::vector<char> engine(st.size * 2);
  json two = json::array({value, value});
  two[1]["a"] = 4;
  ASSERT_TRUE(DecodeAttributeValue(two, st, std::vector<hsize_t>{2}, engine.data()).ok());
  int32_t a;
  std::memcpy(&a, engine.data() + st.size, 4);
  EXPECT_EQ(a, 4);
  auto back = EncodeAttributeValue(st, std::vector<hsize_t>{2}, engine.data());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, two);

  Hid blob(H5Tcreate(H5T_OPAQUE, 3));
  StoredType opaque = Stored(blob.get());
  const char bytes[3] = {'\x00', '\x01', '\xff'};
  auto j = EncodeAttributeValue(opaque, std::vector<hsize_t>{}, bytes);
  ASSERT_TRUE(j.ok());
  EXPECT_EQ(*j, "AAH/");
  char out[3];
  ASSERT_TRUE(DecodeAttributeValue(*j, opaque, std::vector<hsize_t>{}, out).ok());
  EXPECT_EQ(std::memcmp(out, bytes, 3), 0);
  auto missing = DecodeAttributeValue(json::parse(R"({"a": 1})"), st, std::vector<hsize_t>{},
                                      engine.data());
  EXPECT_FALSE(missing.ok());
  EXPECT_THAT(missing.message(), HasSubstr("lacks member 'b'"));
}

TEST(TypesTest, StringsEnumsAndBooleans) {
  Hid fixed(H5Tcopy(H5T_C_S1));
  H5Tset_size(fixed.get(), 7);
  H5Tset_strpad(fixed.get(), H5T_STR_SPACEPAD);
  H5Tset_cset(fixed.get(), H5T_CSET_UTF8);
  StoredType st = Stored(fixed.get());
  EXPECT_EQ(st.description, json::parse(R"({"class":"string","length":7,"charset":"utf-8",
                                            "padding":"spacepad"})"));
  EXPECT_GT(H5Tequal(st.file_type.get(), fixed.get()), 0);
  EXPECT_EQ(ZarrEncodingOf(st.description)->data_type.name, "null_terminated_bytes");

  Hid vlen(H5Tcopy(H5T_C_S1));
  H5Tset_size(vlen.get(), H5T_VARIABLE);
  st = Stored(vlen.get());
  EXPECT_TRUE(st.variable_string);
  EXPECT_EQ(ZarrEncodingOf(st.description)->data_type.name, "variable_length_bytes");  // ASCII
  H5Tset_cset(vlen.get(), H5T_CSET_UTF8);
  EXPECT_EQ(ZarrEncodingOf(Stored(vlen.get()).description)->data_type.name, "string");

  Hid boolean(H5Tenum_create(H5T_NATIVE_INT8));
  int8_t f = 0, t = 1;
  H5Tenum_insert(boolean.get(), "FALSE", &f);
  H5Tenum_insert(boolean.get(), "TRUE", &t);
  st = Stored(boolean.get());
  EXPECT_TRUE(IsBoolEnum(st.description));
  EXPECT_EQ(ZarrEncodingOf(st.description)->data_type.name, "bool");

  Hid colors(H5Tenum_create(H5T_STD_U16BE));
  uint16_t red = 0x0102, blue = 7;  // values in the base type's (big-endian) representation
  uint16_t red_be = static_cast<uint16_t>((red >> 8) | (red << 8));
  uint16_t blue_be = static_cast<uint16_t>((blue >> 8) | (blue << 8));
  H5Tenum_insert(colors.get(), "RED", &red_be);
  H5Tenum_insert(colors.get(), "BLUE", &blue_be);
  st = Stored(colors.get());
  EXPECT_FALSE(IsBoolEnum(st.description));
  EXPECT_EQ(st.description["members"], json::parse(R"([["RED", 258], ["BLUE", 7]])"));
  EXPECT_GT(H5Tequal(st.file_type.get(), colors.get()), 0);
  EXPECT_EQ(ZarrEncodingOf(st.description)->endian, "big");
}

TEST(AttributeValuesTest, NumbersRoundTripExactlyThroughJson) {
  StoredType st = Stored(H5T_IEEE_F64BE);
  const double values[] = {1.5, std::numeric_limits<double>::quiet_NaN(),
                           std::numeric_limits<double>::infinity(), -0.0, 1e-310, -7};
  AttributeShape shape = std::vector<hsize_t>{2, 3};
  auto j = EncodeAttributeValue(st, shape, values);
  ASSERT_TRUE(j.ok());
  EXPECT_EQ((*j)[0][1], "NaN");
  EXPECT_EQ((*j)[0][2], "Infinity");
  double back[6];
  ASSERT_TRUE(DecodeAttributeValue(json::parse(j->dump()), st, shape, back).ok());
  EXPECT_TRUE(std::isnan(back[1]));
  EXPECT_EQ(std::memcmp(back + 2, values + 2, 4 * sizeof(double)), 0);  // -0.0 and subnormals
  EXPECT_EQ(back[0], 1.5);

  StoredType u64 = Stored(H5T_STD_U64LE);
  uint64_t big = std::numeric_limits<uint64_t>::max();
  j = EncodeAttributeValue(u64, std::vector<hsize_t>{}, &big);
  ASSERT_TRUE(j.ok());
  EXPECT_EQ(j->dump(), "18446744073709551615");
  uint64_t got = 0;
  ASSERT_TRUE(DecodeAttributeValue(json::parse(j->dump()), u64, std::vector<hsize_t>{}, &got).ok());
  EXPECT_EQ(got, big);

  auto wrong = DecodeAttributeValue(json::parse("[1, 2]"), u64, std::vector<hsize_t>{3}, &got);
  EXPECT_FALSE(wrong.ok());
  EXPECT_THAT(wrong.message(), HasSubstr("shape"));
}

TEST(AttributeValuesTest, StringsAndInference) {
  Hid fixed(H5Tcopy(H5T_C_S1));
  H5Tset_size(fixed.get(), 4);
  H5Tset_strpad(fixed.get(), H5T_STR_NULLPAD);
  StoredType st = Stored(fixed.get());
  const char raw[] = {'a', 'b', 0, 0, 'w', 'x', 'y', 'z'};
  auto j = EncodeAttributeValue(st, std::vector<hsize_t>{2}, raw);
  ASSERT_TRUE(j.ok());
  EXPECT_EQ(*j, json::parse(R"(["ab", "wxyz"])"));
  char back[8];
  ASSERT_TRUE(DecodeAttributeValue(*j, st, std::vector<hsize_t>{2}, back).ok());
  EXPECT_EQ(std::memcmp(back, raw, 8), 0);

  const char invalid[] = {'\xff', 0, 0, 0};
  auto bad = EncodeAttributeValue(st, std::vector<hsize_t>{}, invalid);
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("UTF-8"));
  EXPECT_TRUE(IsValidUtf8("gr\xc3\xbc\xc3\x9f"));
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));      // overlong
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));  // surrogate
  EXPECT_FALSE(IsValidUtf8("\xe2\x82"));      // truncated

  auto inferred = InferAttribute(json::parse("[[1, 2.5], [3, 4]]"));
  ASSERT_TRUE(inferred.ok());
  EXPECT_EQ(inferred->type_description["class"], "float");
  EXPECT_EQ(*inferred->shape, (std::vector<hsize_t>{2, 2}));
  EXPECT_EQ(InferAttribute(json("text"))->type_description["length"], "variable");
  EXPECT_TRUE(IsBoolEnum(InferAttribute(json(true))->type_description));
  EXPECT_EQ(InferAttribute(json(18446744073709551615ull))->type_description["signed"], false);
  EXPECT_FALSE(InferAttribute(json::parse("[[1], [2, 3]]")).ok());
  EXPECT_FALSE(InferAttribute(json::parse(R"({"a": 1})")).ok());
  EXPECT_FALSE(InferAttribute(json::parse("[]")).ok());
}

}  // namespace
}  // namespace nimbus::vol
