// Data types and fill values against what zarr-python 3.1.6 writes and reads: every core type,
// the zarr-python extension types, and every JSON fill form of the v3 spec.
#include "zarr/data_type.h"

#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>

namespace nimbus::zarr {
namespace {

using nlohmann::json;

std::string Hex(const std::string& bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (char c : bytes) {
    out += kDigits[static_cast<uint8_t>(c) >> 4];
    out += kDigits[static_cast<uint8_t>(c) & 0xf];
  }
  return out;
}

DataType Type(const json& j) {
  Result<DataType> type = DataType::FromJson(j);
  EXPECT_TRUE(type.ok()) << j.dump() << ": " << type.status().ToString();
  return type.ok() ? *type : DataType{};
}

// The fill's bytes as hex (native order), or the error.
std::string FillHex(const DataType& type, const json& j) {
  Result<std::string> fill = ParseFillValue(type, j);
  if (!fill.ok()) return "error: " + fill.status().message();
  return Hex(*fill);
}

template <typename T>
std::string HexOf(T value) {
  std::string bytes(sizeof(T), '\0');
  std::memcpy(bytes.data(), &value, sizeof(T));
  return Hex(bytes);
}

TEST(DataTypeTest, CoreTypes) {
  struct Expected {
    const char* name;
    TypeClass type_class;
    size_t item_size;
    size_t swap_size;
  };
  const Expected kTypes[] = {
      {"bool", TypeClass::kBool, 1, 1},
      {"int8", TypeClass::kInt, 1, 1},
      {"int16", TypeClass::kInt, 2, 2},
      {"int32", TypeClass::kInt, 4, 4},
      {"int64", TypeClass::kInt, 8, 8},
      {"uint8", TypeClass::kUInt, 1, 1},
      {"uint16", TypeClass::kUInt, 2, 2},
      {"uint32", TypeClass::kUInt, 4, 4},
      {"uint64", TypeClass::kUInt, 8, 8},
      {"float16", TypeClass::kFloat, 2, 2},
      {"float32", TypeClass::kFloat, 4, 4},
      {"float64", TypeClass::kFloat, 8, 8},
      {"complex64", TypeClass::kComplex, 8, 4},
      {"complex128", TypeClass::kComplex, 16, 8},
      {"r8", TypeClass::kRawBits, 1, 1},
      {"r24", TypeClass::kRawBits, 3, 1},
      {"r128", TypeClass::kRawBits, 16, 1},
      {"string", TypeClass::kString, 0, 1},
      {"variable_length_bytes", TypeClass::kBytes, 0, 1},
  };
  for (const Expected& e : kTypes) {
    SCOPED_TRACE(e.name);
    Result<DataType> type = DataType::FromName(e.name);
    ASSERT_TRUE(type.ok()) << type.status().ToString();
    EXPECT_EQ(type->name, e.name);
    EXPECT_EQ(type->type_class, e.type_class);
    EXPECT_EQ(type->item_size, e.item_size);
    EXPECT_EQ(type->swap_size, e.swap_size);
    EXPECT_EQ(type->has_endianness(), e.swap_size > 1);
    EXPECT_EQ(type->variable_length(), e.item_size == 0);
    EXPECT_EQ(type->ToJson(), json(e.name));  // core names are written as plain strings
    // The object form means the same type.
    Result<DataType> object_form = DataType::FromJson({{"name", e.name}});
    ASSERT_TRUE(object_form.ok()) << object_form.status().ToString();
    EXPECT_EQ(*object_form, *type);
  }
}

TEST(DataTypeTest, ZarrPythonExtensionTypes) {
  struct Expected {
    const char* json_text;  // as zarr-python 3.1.6 writes it
    TypeClass type_class;
    size_t item_size;
    size_t swap_size;
  };
  const Expected kTypes[] = {
      {R"({"name": "null_terminated_bytes", "configuration": {"length_bytes": 7}})",
       TypeClass::kFixedBytes, 7, 1},
      {R"({"name": "fixed_length_utf32", "configuration": {"length_bytes": 20}})",
       TypeClass::kFixedUtf32, 20, 4},
      {R"({"name": "raw_bytes", "configuration": {"length_bytes": 3}})", TypeClass::kRawBytes, 3,
       1},
      {R"({"name": "numpy.datetime64", "configuration": {"unit": "s", "scale_factor": 1}})",
       TypeClass::kDateTime, 8, 8},
      {R"({"name": "numpy.timedelta64", "configuration": {"unit": "ms", "scale_factor": 10}})",
       TypeClass::kDateTime, 8, 8},
      {R"({"name": "numpy.datetime64", "configuration": {"unit": "generic", "scale_factor": 1}})",
       TypeClass::kDateTime, 8, 8},
  };
  for (const Expected& e : kTypes) {
    SCOPED_TRACE(e.json_text);
    const json written = json::parse(e.json_text);
    Result<DataType> type = DataType::FromJson(written);
    ASSERT_TRUE(type.ok()) << type.status().ToString();
    EXPECT_EQ(type->name, written["name"]);
    EXPECT_EQ(type->type_class, e.type_class);
    EXPECT_EQ(type->item_size, e.item_size);
    EXPECT_EQ(type->swap_size, e.swap_size);
    EXPECT_EQ(type->configuration, written["configuration"]);
    EXPECT_EQ(type->ToJson(), written);
  }
}

TEST(DataTypeTest, Errors) {
  struct Case {
    const char* json_text;
    ErrorKind kind;
    const char* message;
  };
  const Case kCases[] = {
      {R"("int128")", ErrorKind::kUnimplemented, "data type 'int128' is not supported"},
      {R"({"name": "foo", "configuration": {}})", ErrorKind::kUnimplemented,
       "data type 'foo' is not supported"},
      {R"("<i4")", ErrorKind::kUnimplemented, "data type '<i4' is not supported"},
      {R"("r12")", ErrorKind::kUnimplemented, "data type 'r12' is not supported"},
      {R"("r0")", ErrorKind::kUnimplemented, "data type 'r0' is not supported"},
      {R"("r016")", ErrorKind::kUnimplemented, "data type 'r016' is not supported"},
      {R"(5)", ErrorKind::kInvalidArgument, "data_type must be a string or an object, got 5"},
      {R"({"configuration": {}})", ErrorKind::kInvalidArgument, "needs a string 'name'"},
      {R"("raw_bytes")", ErrorKind::kInvalidArgument,
       "data type 'raw_bytes' needs a configuration"},
      {R"({"name": "int32", "configuration": {"x": 1}})", ErrorKind::kInvalidArgument,
       "data type 'int32' takes no configuration"},
      {R"({"name": "int32", "foo": 1})", ErrorKind::kInvalidArgument,
       "unsupported data_type member 'foo'"},
      {R"({"name": "raw_bytes", "configuration": {"length_bytes": 0}})",
       ErrorKind::kInvalidArgument, "length_bytes must be a positive integer, got 0"},
      {R"({"name": "fixed_length_utf32", "configuration": {"length_bytes": 6}})",
       ErrorKind::kInvalidArgument, "length_bytes must be a positive multiple of 4, got 6"},
      {R"({"name": "null_terminated_bytes", "configuration": {}})", ErrorKind::kInvalidArgument,
       "configuration needs 'length_bytes'"},
      {R"({"name": "null_terminated_bytes", "configuration": {"length_bytes": 2, "x": 0}})",
       ErrorKind::kInvalidArgument, "unsupported configuration member 'x'"},
      {R"({"name": "numpy.datetime64", "configuration": {"unit": "s"}})",
       ErrorKind::kInvalidArgument, "configuration needs 'scale_factor'"},
      {R"({"name": "numpy.datetime64", "configuration": {"unit": "xx", "scale_factor": 1}})",
       ErrorKind::kInvalidArgument, "unknown unit \"xx\""},
      {R"({"name": "numpy.datetime64", "configuration": {"unit": "s", "scale_factor": 0}})",
       ErrorKind::kInvalidArgument, "scale_factor must be an integer in [1, 2^31-1]"},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.json_text);
    Result<DataType> type = DataType::FromJson(json::parse(c.json_text));
    ASSERT_FALSE(type.ok());
    EXPECT_EQ(type.status().kind(), c.kind);
    EXPECT_NE(type.status().message().find(c.message), std::string::npos)
        << type.status().message();
  }
}

TEST(DataTypeTest, MustUnderstandFlagIsTolerated) {
  Result<DataType> type =
      DataType::FromJson(json::parse(R"({"name": "int32", "must_understand": false})"));
  ASSERT_TRUE(type.ok()) << type.status().ToString();
  EXPECT_EQ(type->ToJson(), json("int32"));
  // It cannot make an unknown type acceptable: a reader cannot skip the data type.
  Result<DataType> unknown =
      DataType::FromJson(json::parse(R"({"name": "bfloat16", "must_understand": false})"));
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().message(), "data type 'bfloat16' is not supported");
}

// (data_type, fill_value) exactly as zarr-python 3.1.6 writes them, and the element bytes numpy
// reads back (little-endian hex). Generated with zarr.create_array(..., fill_value=...).
struct ZarrPythonFill {
  const char* data_type;
  const char* fill_value;
  const char* bytes_hex;
};
const ZarrPythonFill kZarrPythonFills[] = {
    {R"("bool")", R"(false)", "00"},
    {R"("bool")", R"(true)", "01"},
    {R"("int8")", R"(-128)", "80"},
    {R"("int8")", R"(127)", "7f"},
    {R"("int16")", R"(-32768)", "0080"},
    {R"("int32")", R"(-5)", "fbffffff"},
    {R"("int64")", R"(-9223372036854775808)", "0000000000000080"},
    {R"("int64")", R"(9223372036854775807)", "ffffffffffffff7f"},
    {R"("uint8")", R"(255)", "ff"},
    {R"("uint16")", R"(65535)", "ffff"},
    {R"("uint32")", R"(4294967295)", "ffffffff"},
    {R"("uint64")", R"(18446744073709551615)", "ffffffffffffffff"},
    {R"("uint64")", R"(9223372036854775808)", "0000000000000080"},
    {R"("float16")", R"(1.5)", "003e"},
    {R"("float16")", R"("NaN")", "007e"},
    {R"("float16")", R"("Infinity")", "007c"},
    {R"("float16")", R"(65504.0)", "ff7b"},
    {R"("float16")", R"(-0.0)", "0080"},
    {R"("float16")", R"(5.960464477539063e-08)", "0100"},
    {R"("float32")", R"("NaN")", "0000c07f"},
    {R"("float32")", R"("-Infinity")", "000080ff"},
    {R"("float32")", R"(0.10000000149011612)", "cdcccc3d"},
    {R"("float32")", R"(3.0)", "00004040"},
    {R"("float64")", R"(1e+300)", "9c7500883ce4377e"},
    {R"("float64")", R"(-0.0)", "0000000000000080"},
    {R"("float64")", R"(0.1)", "9a9999999999b93f"},
    {R"("float64")", R"(5e-324)", "0100000000000000"},
    {R"("complex64")", R"([1.0, 2.0])", "0000803f00000040"},
    {R"("complex128")", R"(["NaN", "-Infinity"])", "000000000000f87f000000000000f0ff"},
    {R"("complex128")", R"([0.0, 0.0])", "00000000000000000000000000000000"},
    {R"({"name": "null_terminated_bytes", "configuration": {"length_bytes": 7}})", R"("")",
     "00000000000000"},
    {R"({"name": "null_terminated_bytes", "configuration": {"length_bytes": 7}})", R"("YWI=")",
     "61620000000000"},
    {R"({"name": "null_terminated_bytes", "configuration": {"length_bytes": 3}})", R"("YWJj")",
     "616263"},
    {R"({"name": "fixed_length_utf32", "configuration": {"length_bytes": 20}})", R"("h\u00e9llo")",
     "68000000e90000006c0000006c0000006f000000"},
    {R"({"name": "fixed_length_utf32", "configuration": {"length_bytes": 8}})", R"("")",
     "0000000000000000"},
    {R"({"name": "fixed_length_utf32", "configuration": {"length_bytes": 12}})",
     R"("\ud83d\ude00")", "00f601000000000000000000"},
    {R"({"name": "raw_bytes", "configuration": {"length_bytes": 3}})", R"("AAAA")", "000000"},
    {R"({"name": "raw_bytes", "configuration": {"length_bytes": 3}})", R"("AQL/")", "0102ff"},
    {R"({"name": "numpy.datetime64", "configuration": {"unit": "s", "scale_factor": 1}})", R"(5)",
     "0500000000000000"},
    {R"({"name": "numpy.datetime64", "configuration": {"unit": "s", "scale_factor": 1}})",
     R"(-9223372036854775808)", "0000000000000080"},
    {R"({"name": "numpy.timedelta64", "configuration": {"unit": "ms", "scale_factor": 1}})",
     R"(-7)", "f9ffffffffffffff"},
    {R"("string")", R"("")", ""},
    {R"("string")", R"("h\u00e9")", "68c3a9"},
    {R"("variable_length_bytes")", R"("")", ""},
    {R"("variable_length_bytes")", R"("/wA=")", "ff00"},
};

TEST(FillValueTest, RoundTripsWhatZarrPythonWrites) {
  if constexpr (std::endian::native != std::endian::little) GTEST_SKIP() << "hex is little-endian";
  for (const ZarrPythonFill& f : kZarrPythonFills) {
    SCOPED_TRACE(std::string(f.data_type) + " " + f.fill_value);
    const DataType type = Type(json::parse(f.data_type));
    const json written = json::parse(f.fill_value);
    Result<std::string> fill = ParseFillValue(type, written);
    ASSERT_TRUE(fill.ok()) << fill.status().ToString();
    EXPECT_EQ(Hex(*fill), f.bytes_hex);
    const json back = FillValueToJson(type, *fill);
    EXPECT_EQ(back, written);
    // Same JSON text too: 3.0 stays a float, 5 stays an integer.
    EXPECT_EQ(back.dump(), written.dump());
  }
}

TEST(FillValueTest, NullIsTheZeroValue) {
  for (const char* name : {"bool", "int32", "uint64", "float16", "float64", "complex128", "r16"}) {
    const DataType type = Type(name);
    EXPECT_EQ(FillHex(type, nullptr), std::string(2 * type.item_size, '0')) << name;
  }
  EXPECT_EQ(
      FillHex(Type(json::parse(R"({"name": "raw_bytes", "configuration": {"length_bytes": 2}})")),
              nullptr),
      "0000");
  Result<std::string> empty = ParseFillValue(Type("string"), nullptr);
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*empty, "");
}

TEST(FillValueTest, Integers) {
  EXPECT_EQ(FillHex(Type("int8"), -128), "80");
  EXPECT_EQ(FillHex(Type("int8"), 127), "7f");
  EXPECT_EQ(FillHex(Type("uint8"), 255), "ff");
  EXPECT_EQ(FillHex(Type("int16"), 1.0), HexOf<int16_t>(1));  // zarr-python accepts integral floats
  EXPECT_EQ(FillHex(Type("int64"), json::parse("-9223372036854775808")),
            HexOf(std::numeric_limits<int64_t>::min()));
  EXPECT_EQ(FillHex(Type("uint64"), json::parse("18446744073709551615")), "ffffffffffffffff");
  EXPECT_EQ(FillHex(Type("uint64"), json::parse("9223372036854775808")), HexOf(uint64_t{1} << 63));
  EXPECT_EQ(FillValueToJson(Type("uint64"), std::string(8, '\xff')).dump(), "18446744073709551615");

  EXPECT_EQ(FillHex(Type("int8"), 200),
            "error: fill_value 200 is out of range for data type 'int8' [-128, 127]");
  EXPECT_EQ(FillHex(Type("uint8"), -1),
            "error: fill_value -1 is out of range for data type 'uint8' [0, 255]");
  EXPECT_EQ(FillHex(Type("int64"), json::parse("9223372036854775808")),
            "error: fill_value 9223372036854775808 is out of range for data type 'int64' "
            "[-9223372036854775808, 9223372036854775807]");
  EXPECT_EQ(FillHex(Type("uint64"), json::parse("18446744073709551616")),
            "error: fill_value 1.8446744073709552e+19 is not valid for data type 'uint64': "
            "expected an integer");
  EXPECT_EQ(FillHex(Type("int32"), 1.5),
            "error: fill_value 1.5 is not valid for data type 'int32': expected an integer");
  EXPECT_EQ(FillHex(Type("int32"), "0"),
            "error: fill_value \"0\" is not valid for data type 'int32': expected an integer");
  EXPECT_EQ(FillHex(Type("int32"), true),
            "error: fill_value true is not valid for data type 'int32': expected an integer");
}

TEST(FillValueTest, Bool) {
  EXPECT_EQ(FillHex(Type("bool"), true), "01");
  EXPECT_EQ(FillHex(Type("bool"), false), "00");
  EXPECT_EQ(FillHex(Type("bool"), 1), "01");  // zarr-python accepts 0 and 1
  EXPECT_EQ(FillHex(Type("bool"), 2),
            "error: fill_value 2 is not valid for data type 'bool': expected true or false");
  EXPECT_EQ(FillValueToJson(Type("bool"), std::string(1, '\1')), json(true));
}

TEST(FillValueTest, FloatSpecialsAndHex) {
  const DataType f32 = Type("float32");
  const DataType f64 = Type("float64");
  EXPECT_EQ(FillHex(f32, "NaN"), HexOf<uint32_t>(0x7fc00000));
  EXPECT_EQ(FillHex(f64, "NaN"), HexOf<uint64_t>(0x7ff8000000000000));
  EXPECT_EQ(FillHex(f32, "Infinity"), HexOf<uint32_t>(0x7f800000));
  EXPECT_EQ(FillHex(f32, "-Infinity"), HexOf<uint32_t>(0xff800000));
  EXPECT_EQ(FillHex(f64, "-Infinity"), HexOf<uint64_t>(0xfff0000000000000));
  // Hex is the element's bit pattern as an unsigned integer, stored natively.
  EXPECT_EQ(FillHex(f32, "0x7fc00001"), HexOf<uint32_t>(0x7fc00001));
  EXPECT_EQ(FillHex(f32, "0x7FC00001"), HexOf<uint32_t>(0x7fc00001));
  EXPECT_EQ(FillHex(f32, "0x3f800000"), HexOf(1.0f));
  EXPECT_EQ(FillHex(f64, "0x3ff0000000000000"), HexOf(1.0));
  EXPECT_EQ(FillHex(f64, "0xfff8000000000001"), HexOf<uint64_t>(0xfff8000000000001));
  EXPECT_EQ(FillHex(f32, "0x3f80"),
            "error: fill_value \"0x3f80\" is not valid for data type 'float32': expected a hex "
            "bit pattern of exactly 8 digits");
  EXPECT_EQ(FillHex(f32, "0x3f80000g"),
            "error: fill_value \"0x3f80000g\" is not valid for data type 'float32': expected a "
            "hex bit pattern");
  EXPECT_EQ(FillHex(f32, "nan"),
            "error: fill_value \"nan\" is not valid for data type 'float32': expected a number, "
            "\"NaN\", \"Infinity\", \"-Infinity\" or a \"0x\" hex bit pattern");
  EXPECT_EQ(FillHex(f64, true).substr(0, 6), "error:");

  // Numbers round to the nearest value; past the largest float, to infinity (IEEE, as numpy).
  EXPECT_EQ(FillHex(f32, 1), HexOf(1.0f));
  EXPECT_EQ(FillHex(f32, json::parse("16777217")), HexOf(16777216.0f));
  EXPECT_EQ(FillHex(f32, 1e40), HexOf(std::numeric_limits<float>::infinity()));
  EXPECT_EQ(FillHex(f32, -1e40), HexOf(-std::numeric_limits<float>::infinity()));
  EXPECT_EQ(FillHex(f32, 3.4028235e38), HexOf(std::numeric_limits<float>::max()));
  EXPECT_EQ(FillHex(f64, -0.0), HexOf(-0.0));
  EXPECT_EQ(FillHex(f64, json::parse("18446744073709551615")), HexOf(18446744073709551616.0));

  // Writing: canonical NaN as "NaN", any other NaN as hex so its bits survive.
  auto write32 = [&](uint32_t bits) {
    return FillValueToJson(f32, std::string(reinterpret_cast<const char*>(&bits), 4));
  };
  EXPECT_EQ(write32(0x7fc00000), json("NaN"));
  EXPECT_EQ(write32(0x7fc00001), json("0x7fc00001"));
  EXPECT_EQ(write32(0xffc00000), json("0xffc00000"));
  EXPECT_EQ(write32(0x7f800000), json("Infinity"));
  EXPECT_EQ(write32(0xff800000), json("-Infinity"));
  EXPECT_EQ(write32(0x3f800000).dump(), "1.0");
  EXPECT_EQ(write32(0x80000000).dump(), "-0.0");
  const uint64_t nan64 = 0x7ff0000000000001;
  EXPECT_EQ(FillValueToJson(f64, std::string(reinterpret_cast<const char*>(&nan64), 8)),
            json("0x7ff0000000000001"));
}

TEST(FillValueTest, Float16) {
  const DataType f16 = Type("float16");
  struct Case {
    json value;
    uint16_t bits;
  };
  const Case kCases[] = {
      {1.0, 0x3c00},
      {-2.0, 0xc000},
      {1.5, 0x3e00},
      {0.1, 0x2e66},
      {65504.0, 0x7bff},  // largest half
      {65519.0, 0x7bff},  // below the rounding midpoint to infinity
      {65520.0, 0x7c00},  // the midpoint: ties to even, which is infinity
      {1e10, 0x7c00},
      {-1e10, 0xfc00},
      {6.103515625e-05, 0x0400},         // smallest normal, 2^-14
      {5.960464477539063e-08, 0x0001},   // smallest subnormal, 2^-24
      {2.9802322387695312e-08, 0x0000},  // 2^-25: tie between 0 and 2^-24, even is 0
      {8.940696716308594e-08, 0x0002},   // 3 * 2^-25: tie between 1 and 2 (x 2^-24), even is 2
      {1.00048828125, 0x3c00},           // 1 + 2^-11: tie, even mantissa stays
      {1.00146484375, 0x3c02},           // 1 + 3 * 2^-11: tie, rounds up to even
      {6.097555160522461e-05, 0x03ff},   // largest subnormal, 1023 * 2^-24
      {6.1005353927612305e-05, 0x0400},  // 1023.5 * 2^-24: tie, rounds up into the normals
      {1e-30, 0x0000},
      {-0.0, 0x8000},
      {json::parse("70000"), 0x7c00},
      {json::parse("-3"), 0xc200},
      {"NaN", 0x7e00},
      {"Infinity", 0x7c00},
      {"-Infinity", 0xfc00},
      {"0x7e01", 0x7e01},
      {"0x3C00", 0x3c00},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.value.dump());
    EXPECT_EQ(FillHex(f16, c.value), HexOf(c.bits));
  }
  EXPECT_EQ(FillHex(f16, "0x3c0000").substr(0, 6), "error:");
  auto write16 = [&](uint16_t bits) {
    return FillValueToJson(f16, std::string(reinterpret_cast<const char*>(&bits), 2));
  };
  EXPECT_EQ(write16(0x3c00).dump(), "1.0");
  EXPECT_EQ(write16(0x2e66).dump(), "0.0999755859375");
  EXPECT_EQ(write16(0x7bff).dump(), "65504.0");
  EXPECT_EQ(write16(0x0001).dump(), "5.960464477539063e-08");
  EXPECT_EQ(write16(0x8000).dump(), "-0.0");
  EXPECT_EQ(write16(0x7e00), json("NaN"));
  EXPECT_EQ(write16(0x7e01), json("0x7e01"));
  EXPECT_EQ(write16(0xfe00), json("0xfe00"));
  EXPECT_EQ(write16(0xfc00), json("-Infinity"));
  // Every finite half survives write then parse.
  for (uint32_t bits = 0; bits <= 0xffff; ++bits) {
    const json written = write16(static_cast<uint16_t>(bits));
    Result<std::string> back = ParseFillValue(f16, written);
    ASSERT_TRUE(back.ok()) << written.dump();
    uint16_t parsed;
    std::memcpy(&parsed, back->data(), 2);
    ASSERT_EQ(parsed, bits) << written.dump();
  }
}

TEST(FillValueTest, Complex) {
  const DataType c64 = Type("complex64");
  const DataType c128 = Type("complex128");
  EXPECT_EQ(FillHex(c64, json::parse("[1, 2]")), HexOf(1.0f) + HexOf(2.0f));
  EXPECT_EQ(FillHex(c64, json::parse(R"(["0x7fc00001", "-Infinity"])")),
            HexOf<uint32_t>(0x7fc00001) + HexOf(-std::numeric_limits<float>::infinity()));
  EXPECT_EQ(FillHex(c128, json::parse(R"(["NaN", 0.5])")),
            HexOf<uint64_t>(0x7ff8000000000000) + HexOf(0.5));
  EXPECT_EQ(FillHex(c64, 1),
            "error: fill_value 1 is not valid for data type 'complex64': expected a [real, "
            "imaginary] pair");
  EXPECT_EQ(FillHex(c64, json::parse("[1, 2, 3]")).substr(0, 6), "error:");
  EXPECT_EQ(FillHex(c64, json::parse(R"([1, "0x3ff0000000000000"])")),
            "error: fill_value \"0x3ff0000000000000\" is not valid for data type 'complex64': "
            "expected a hex bit pattern of exactly 8 digits");
  Result<std::string> fill = ParseFillValue(c64, json::parse(R"(["0x7fc00001", 2.5])"));
  ASSERT_TRUE(fill.ok());
  EXPECT_EQ(FillValueToJson(c64, *fill).dump(), R"(["0x7fc00001",2.5])");
}

TEST(FillValueTest, RawBits) {
  const DataType r24 = Type("r24");
  EXPECT_EQ(FillHex(r24, json::parse("[1, 2, 255]")), "0102ff");
  EXPECT_EQ(FillValueToJson(r24, "\x01\x02\xff").dump(), "[1,2,255]");
  // An integer is the bits' unsigned value, least significant byte first.
  EXPECT_EQ(FillHex(r24, 0x0a0b0c), "0c0b0a");
  EXPECT_EQ(FillHex(r24, 0), "000000");
  EXPECT_EQ(FillHex(r24, 1 << 24),
            "error: fill_value 16777216 is not valid for data type 'r24': expected an integer "
            "below 2^24");
  EXPECT_EQ(FillHex(r24, json::parse("[1, 2]")),
            "error: fill_value [1,2] is not valid for data type 'r24': expected an array of 3 "
            "byte values");
  EXPECT_EQ(FillHex(r24, json::parse("[1, 2, 256]")),
            "error: fill_value [1,2,256] is not valid for data type 'r24': expected byte values "
            "in [0, 255]");
  EXPECT_EQ(FillHex(Type("r128"), json::parse("18446744073709551615")),
            "ffffffffffffffff0000000000000000");
}

TEST(FillValueTest, ExtensionTypes) {
  const DataType s7 = Type(
      json::parse(R"({"name": "null_terminated_bytes", "configuration": {"length_bytes": 7}})"));
  const DataType u2 =
      Type(json::parse(R"({"name": "fixed_length_utf32", "configuration": {"length_bytes": 8}})"));
  const DataType v3 =
      Type(json::parse(R"({"name": "raw_bytes", "configuration": {"length_bytes": 3}})"));
  const DataType dt = Type(json::parse(
      R"({"name": "numpy.datetime64", "configuration": {"unit": "s", "scale_factor": 1}})"));
  // Byte fills are base64 (zarr-python: S7 b"ab" -> "YWI=", V3 zeros -> "AAAA").
  EXPECT_EQ(FillHex(s7, "YWI="), "61620000000000");
  EXPECT_EQ(FillHex(s7, "YWI"), "61620000000000");  // unpadded base64 is read too
  EXPECT_EQ(FillHex(s7, "YWJjZGVmZ2g="),
            "error: fill_value \"YWJjZGVmZ2g=\" decodes to 8 bytes, more than data type "
            "'null_terminated_bytes' holds (7)");
  EXPECT_EQ(FillHex(s7, "ab!"),
            "error: fill_value \"ab!\" is not valid for data type 'null_terminated_bytes': "
            "expected a base64 string");
  EXPECT_EQ(FillHex(v3, "AQ=="), "010000");  // shorter values are zero-padded, as zarr-python does
  EXPECT_EQ(FillValueToJson(v3, std::string(3, '\0')), json("AAAA"));
  EXPECT_EQ(FillValueToJson(s7, std::string("ab\0\0\0\0\0", 7)), json("YWI="));
  EXPECT_EQ(FillValueToJson(s7, std::string("a\0b\0\0\0\0", 7)), json("YQBi"));  // inner NUL kept
  // UTF-32 fills are strings, stored as native code units padded with zeros.
  EXPECT_EQ(FillHex(u2, "\xc3\xa9"), HexOf<uint32_t>(0xe9) + HexOf<uint32_t>(0));
  EXPECT_EQ(FillHex(u2, "abc"),
            "error: fill_value \"abc\" has 3 characters, more than data type "
            "'fixed_length_utf32' holds (2)");
  EXPECT_EQ(FillHex(u2, 5).substr(0, 6), "error:");
  EXPECT_EQ(FillValueToJson(u2, std::string("a\0\0\0\0\0\0\0", 8)), json("a"));
  // Datetimes are int64; NaT is the minimum.
  EXPECT_EQ(FillHex(dt, "NaT"), HexOf(std::numeric_limits<int64_t>::min()));
  EXPECT_EQ(FillHex(dt, -1), HexOf<int64_t>(-1));
  EXPECT_EQ(FillHex(dt, json::parse("9223372036854775808")),
            "error: fill_value 9223372036854775808 is not valid for data type "
            "'numpy.datetime64': expected an int64 or \"NaT\"");
  // Variable-length: strings as they are, bytes as base64.
  Result<std::string> text = ParseFillValue(Type("string"), "h\xc3\xa9");
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, "h\xc3\xa9");
  EXPECT_EQ(FillHex(Type("string"), 5),
            "error: fill_value 5 is not valid for data type 'string': expected a string");
  Result<std::string> bytes = ParseFillValue(Type("variable_length_bytes"), "YWIAYw==");
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(*bytes, std::string("ab\0c", 4));
  EXPECT_EQ(FillValueToJson(Type("variable_length_bytes"), std::string("ab\0c", 4)),
            json("YWIAYw=="));
}

TEST(FillValueTest, FloatTextMatchesPython) {
  // Python's json.dumps(float) spellings (repr), which zarr-python writes. One known difference,
  // same value: numbers in [1e15, 1e16) come out as "1e+15" where Python writes
  // "1000000000000000.0" (nlohmann switches to exponents one digit earlier).
  const DataType f64 = Type("float64");
  for (const char* text : {"1e+16", "100000000000000.0", "1e-05", "0.0001", "123.456", "-2.5e-300",
                           "1.7976931348623157e+308", "5e-324"}) {
    Result<std::string> fill = ParseFillValue(f64, json::parse(text));
    ASSERT_TRUE(fill.ok()) << text;
    EXPECT_EQ(FillValueToJson(f64, *fill).dump(), text);
  }
}

TEST(FillValueTest, MalformedFillWritesNull) {
  EXPECT_TRUE(FillValueToJson(Type("int32"), "ab").is_null());
}

}  // namespace
}  // namespace nimbus::zarr
