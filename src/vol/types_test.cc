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
  Hid compound(H5Tcreate(H5T_COMPOUND, 8));
  ASSERT_GE(H5Tinsert(compound.get(), "a", 0, H5T_NATIVE_DOUBLE), 0);
  r = DescribeType(compound.get());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().kind(), ErrorKind::kUnimplemented);
  EXPECT_THAT(r.status().message(), HasSubstr("compound"));
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
