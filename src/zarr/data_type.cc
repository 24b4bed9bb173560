#include "zarr/data_type.h"

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <string_view>
#include <utility>

namespace nimbus::zarr {
namespace {

using nlohmann::json;

// Fill values and chunks hold elements in native byte order; everything below relies on the
// usual IEEE 754 layouts.
static_assert(std::numeric_limits<float>::is_iec559 && std::numeric_limits<double>::is_iec559);
static_assert(std::endian::native == std::endian::little ||
              std::endian::native == std::endian::big);

// ---------------------------------------------------------------------------------------------
// base64 (zarr-python's form for byte fill values).

constexpr char kBase64Alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

}  // namespace

std::string Base64Encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t v = (uint32_t{static_cast<uint8_t>(bytes[i])} << 16) |
                 (uint32_t{static_cast<uint8_t>(bytes[i + 1])} << 8) |
                 uint32_t{static_cast<uint8_t>(bytes[i + 2])};
    out += kBase64Alphabet[(v >> 18) & 63];
    out += kBase64Alphabet[(v >> 12) & 63];
    out += kBase64Alphabet[(v >> 6) & 63];
    out += kBase64Alphabet[v & 63];
  }
  const size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t v = uint32_t{static_cast<uint8_t>(bytes[i])} << 16;
    if (rest == 2) v |= uint32_t{static_cast<uint8_t>(bytes[i + 1])} << 8;
    out += kBase64Alphabet[(v >> 18) & 63];
    out += kBase64Alphabet[(v >> 12) & 63];
    out += rest == 2 ? kBase64Alphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

namespace {

int Base64Digit(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

}  // namespace

bool Base64Decode(std::string_view text, std::string* out) {
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  if (text.size() % 4 == 1) return false;
  out->clear();
  out->reserve(text.size() / 4 * 3 + 2);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    const int d = Base64Digit(c);
    if (d < 0) return false;
    acc = (acc << 6) | static_cast<uint32_t>(d);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return true;
}

namespace {

// ---------------------------------------------------------------------------------------------
// Small encoders: UTF-8 <-> code points.

// Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF.
bool DecodeUtf8(std::string_view text, std::u32string* out) {
  out->clear();
  size_t i = 0;
  while (i < text.size()) {
    const auto b0 = static_cast<uint8_t>(text[i]);
    int extra = 0;
    char32_t cp = 0;
    char32_t min = 0;
    if (b0 < 0x80) {
      cp = b0;
    } else if ((b0 & 0xe0) == 0xc0) {
      extra = 1, cp = b0 & 0x1f, min = 0x80;
    } else if ((b0 & 0xf0) == 0xe0) {
      extra = 2, cp = b0 & 0x0f, min = 0x800;
    } else if ((b0 & 0xf8) == 0xf0) {
      extra = 3, cp = b0 & 0x07, min = 0x10000;
    } else {
      return false;
    }
    if (text.size() - i - 1 < static_cast<size_t>(extra)) return false;  // truncated sequence
    for (int k = 1; k <= extra; ++k) {
      const auto b = static_cast<uint8_t>(text[i + k]);
      if ((b & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (b & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    out->push_back(cp);
    i += 1 + extra;
  }
  return true;
}

void AppendUtf8(char32_t cp, std::string* out) {
  if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) cp = 0xfffd;  // keep the JSON valid
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xc0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xe0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else {
    out->push_back(static_cast<char>(0xf0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  }
}

// ---------------------------------------------------------------------------------------------
// Native-endian element bytes.

template <typename T>
std::string BytesOf(T value) {
  std::string out(sizeof(T), '\0');
  std::memcpy(out.data(), &value, sizeof(T));
  return out;
}

template <typename T>
T ValueOf(std::string_view bytes) {
  T value;
  std::memcpy(&value, bytes.data(), sizeof(T));
  return value;
}

// An unsigned integer of `width` bytes (1, 2, 4 or 8) in native order.
std::string UIntBytes(uint64_t bits, size_t width) {
  switch (width) {
    case 1:
      return BytesOf(static_cast<uint8_t>(bits));
    case 2:
      return BytesOf(static_cast<uint16_t>(bits));
    case 4:
      return BytesOf(static_cast<uint32_t>(bits));
    default:
      return BytesOf(bits);
  }
}

uint64_t UIntOfBytes(std::string_view bytes) {
  switch (bytes.size()) {
    case 1:
      return ValueOf<uint8_t>(bytes);
    case 2:
      return ValueOf<uint16_t>(bytes);
    case 4:
      return ValueOf<uint32_t>(bytes);
    default:
      return ValueOf<uint64_t>(bytes);
  }
}

// ---------------------------------------------------------------------------------------------
// IEEE half precision. Conversion from double rounds once, to nearest even, as the spec asks
// (going through float first could round twice).

uint64_t ShiftRightRoundEven(uint64_t value, int shift) {
  if (shift <= 0) return value;
  if (shift >= 64) return 0;  // callers only shift values below 2^53, so this is < half an ulp
  const uint64_t quotient = value >> shift;
  const uint64_t remainder = value & ((uint64_t{1} << shift) - 1);
  const uint64_t half = uint64_t{1} << (shift - 1);
  if (remainder > half || (remainder == half && (quotient & 1))) return quotient + 1;
  return quotient;
}

uint16_t DoubleToHalfBits(double value) {
  const auto bits = std::bit_cast<uint64_t>(value);
  const auto sign = static_cast<uint16_t>((bits >> 48) & 0x8000);
  const int biased_exponent = static_cast<int>((bits >> 52) & 0x7ff);
  const uint64_t mantissa = bits & ((uint64_t{1} << 52) - 1);
  if (biased_exponent == 0x7ff) {
    if (mantissa == 0) return sign | 0x7c00;
    return sign | 0x7e00 | static_cast<uint16_t>((mantissa >> 42) & 0x1ff);  // keep the payload top
  }
  if (biased_exponent == 0) return sign;  // double subnormals are far below half's range
  const int exponent = biased_exponent - 1023;
  const uint64_t significand = (uint64_t{1} << 52) | mantissa;  // value = significand * 2^(e-52)
  if (exponent >= -14) {
    uint64_t q = ShiftRightRoundEven(significand, 42);  // 11 significant bits
    int e = exponent;
    if (q == 2048) q = 1024, ++e;
    if (e > 15) return sign | 0x7c00;
    return sign | static_cast<uint16_t>(((e + 15) << 10) | (q & 0x3ff));
  }
  // Subnormal: bits are the multiple of 2^-24; a carry to 1024 is exactly the smallest normal.
  const uint64_t q = ShiftRightRoundEven(significand, 28 - exponent);
  return sign | static_cast<uint16_t>(q);
}

double HalfBitsToDouble(uint16_t half) {
  const double sign = (half & 0x8000) ? -1.0 : 1.0;
  const int exponent = (half >> 10) & 0x1f;
  const int mantissa = half & 0x3ff;
  if (exponent == 0) return sign * std::ldexp(mantissa, -24);
  if (exponent == 31) {
    return mantissa == 0 ? sign * std::numeric_limits<double>::infinity()
                         : std::numeric_limits<double>::quiet_NaN();
  }
  return sign * std::ldexp(mantissa + 1024, exponent - 25);
}

// double -> float with IEEE overflow to infinity (a plain cast of an out-of-range value is UB).
float DoubleToFloat(double value) {
  constexpr double kMax = std::numeric_limits<float>::max();
  // Halfway between FLT_MAX and 2^128: at or beyond it, round-to-nearest gives infinity.
  const double kOverflow = std::ldexp(1.0, 128) - std::ldexp(1.0, 103);
  if (std::isfinite(value) && std::fabs(value) > kMax) {
    if (std::fabs(value) >= kOverflow) {
      return value > 0 ? std::numeric_limits<float>::infinity()
                       : -std::numeric_limits<float>::infinity();
    }
    return value > 0 ? std::numeric_limits<float>::max() : -std::numeric_limits<float>::max();
  }
  return static_cast<float>(value);
}

// Canonical NaN bit patterns of the spec's "NaN" (sign 0, mantissa MSB 1, rest 0).
uint64_t CanonicalNanBits(size_t width) {
  switch (width) {
    case 2:
      return 0x7e00;
    case 4:
      return 0x7fc00000;
    default:
      return 0x7ff8000000000000;
  }
}

// ---------------------------------------------------------------------------------------------
// Data type table.

struct SimpleType {
  std::string_view name;
  TypeClass type_class;
  size_t item_size;
  size_t swap_size;
};

constexpr SimpleType kSimpleTypes[] = {
    {"bool", TypeClass::kBool, 1, 1},         {"int8", TypeClass::kInt, 1, 1},
    {"int16", TypeClass::kInt, 2, 2},         {"int32", TypeClass::kInt, 4, 4},
    {"int64", TypeClass::kInt, 8, 8},         {"uint8", TypeClass::kUInt, 1, 1},
    {"uint16", TypeClass::kUInt, 2, 2},       {"uint32", TypeClass::kUInt, 4, 4},
    {"uint64", TypeClass::kUInt, 8, 8},       {"float16", TypeClass::kFloat, 2, 2},
    {"float32", TypeClass::kFloat, 4, 4},     {"float64", TypeClass::kFloat, 8, 8},
    {"complex64", TypeClass::kComplex, 8, 4}, {"complex128", TypeClass::kComplex, 16, 8},
    {"string", TypeClass::kString, 0, 1},     {"variable_length_bytes", TypeClass::kBytes, 0, 1},
};

constexpr std::string_view kRawBytesName = "raw_bytes";
constexpr std::string_view kFixedBytesName = "null_terminated_bytes";
constexpr std::string_view kFixedUtf32Name = "fixed_length_utf32";
constexpr std::string_view kDateTimeName = "numpy.datetime64";
constexpr std::string_view kTimeDeltaName = "numpy.timedelta64";
constexpr std::string_view kStructuredName = "structured";

// The units zarr-python (numpy) accepts for datetime64/timedelta64.
constexpr std::string_view kTimeUnits[] = {"Y",  "M",  "W",  "D",  "h",  "m",  "s",      "ms",
                                           "us", "μs", "ns", "ps", "fs", "as", "generic"};

bool NeedsConfiguration(std::string_view name) {
  return name == kRawBytesName || name == kFixedBytesName || name == kFixedUtf32Name ||
         name == kDateTimeName || name == kTimeDeltaName || name == kStructuredName;
}

// "r8", "r16", ...: a positive multiple of 8 bits, written without leading zeros.
bool ParseRawBitsName(std::string_view name, size_t* bits) {
  if (name.size() < 2 || name[0] != 'r' || name[1] == '0') return false;
  uint64_t n = 0;
  for (char c : name.substr(1)) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + static_cast<uint64_t>(c - '0');
    if (n > (uint64_t{1} << 40)) return false;
  }
  if (n % 8 != 0) return false;
  *bits = static_cast<size_t>(n);
  return true;
}

std::string Quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

// Parsed JSON holds non-negative integers as unsigned, but JSON built in C++ (json(5)) holds
// them as signed: accept both.
bool IsNonNegativeInteger(const json& j) {
  return j.is_number_unsigned() || (j.is_number_integer() && j.get<int64_t>() >= 0);
}

// Checks a configuration holds exactly `allowed` members (extensions here have no optional ones).
Status CheckConfigurationMembers(std::string_view type_name, const json& configuration,
                                 std::initializer_list<std::string_view> allowed) {
  for (const auto& [key, value] : configuration.items()) {
    bool known = false;
    for (std::string_view a : allowed) known = known || key == a;
    if (!known) {
      return InvalidArgumentError("data type " + Quoted(type_name) +
                                  ": unsupported configuration member " + Quoted(key));
    }
  }
  for (std::string_view a : allowed) {
    if (!configuration.contains(std::string(a))) {
      return InvalidArgumentError("data type " + Quoted(type_name) + ": configuration needs " +
                                  Quoted(a));
    }
  }
  return Status::Ok();
}

Result<DataType> DataTypeFromJson(const json& j);

// zarr-python's "structured": {"fields": [[name, data type], ...]}, fields packed in order.
Result<DataType> StructuredType(const json& configuration) {
  NIMBUS_RETURN_IF_ERROR(CheckConfigurationMembers(kStructuredName, configuration, {"fields"}));
  const json& fields = configuration["fields"];
  if (!fields.is_array() || fields.empty()) {
    return InvalidArgumentError("data type 'structured': fields must be a non-empty list");
  }
  DataType type;
  type.name = std::string(kStructuredName);
  type.type_class = TypeClass::kStructured;
  type.swap_size = 1;
  type.item_size = 0;
  for (const json& field : fields) {
    if (!field.is_array() || field.size() != 2 || !field[0].is_string()) {
      return InvalidArgumentError("data type 'structured': field " +
                                  field.dump(-1, ' ', false, json::error_handler_t::replace) +
                                  " is not [name, data type]");
    }
    const std::string& field_name = field[0].get_ref<const std::string&>();
    for (const DataType::Field& seen : type.fields) {
      if (seen.name == field_name) {
        return InvalidArgumentError("data type 'structured': field " + Quoted(field_name) +
                                    " appears twice");
      }
    }
    auto field_type = DataTypeFromJson(field[1]);
    if (!field_type.ok()) {
      return field_type.status().WithContext("data type 'structured', field " +
                                             Quoted(field_name));
    }
    if (field_type->variable_length()) {
      return UnimplementedError("data type 'structured': field " + Quoted(field_name) +
                                " has the variable-length type " + Quoted(field_type->name) +
                                ", which records cannot hold");
    }
    type.fields.push_back(DataType::Field{
        field_name, type.item_size, std::make_shared<const DataType>(std::move(field_type).value())});
    type.item_size += type.fields.back().type->item_size;
  }
  type.configuration = {{"fields", fields}};
  return type;
}

Result<DataType> ExtensionType(const std::string& name, const json& configuration) {
  if (name == kStructuredName) return StructuredType(configuration);
  DataType type;
  type.name = name;
  if (name == kDateTimeName || name == kTimeDeltaName) {
    NIMBUS_RETURN_IF_ERROR(
        CheckConfigurationMembers(name, configuration, {"unit", "scale_factor"}));
    const json& unit = configuration["unit"];
    bool known_unit = false;
    if (unit.is_string()) {
      for (std::string_view u : kTimeUnits)
        known_unit = known_unit || unit.get_ref<const std::string&>() == u;
    }
    if (!known_unit) {
      return InvalidArgumentError("data type " + Quoted(name) + ": unknown unit " +
                                  unit.dump(-1, ' ', false, json::error_handler_t::replace));
    }
    const json& scale = configuration["scale_factor"];
    if (!IsNonNegativeInteger(scale) || scale.get<uint64_t>() < 1 ||
        scale.get<uint64_t>() > uint64_t{std::numeric_limits<int32_t>::max()}) {
      return InvalidArgumentError("data type " + Quoted(name) +
                                  ": scale_factor must be an integer in [1, 2^31-1], got " +
                                  scale.dump());
    }
    type.type_class = TypeClass::kDateTime;
    type.item_size = 8;
    type.swap_size = 8;
    type.configuration = {{"unit", unit}, {"scale_factor", scale}};
    return type;
  }
  NIMBUS_RETURN_IF_ERROR(CheckConfigurationMembers(name, configuration, {"length_bytes"}));
  const json& length = configuration["length_bytes"];
  const bool utf32 = name == kFixedUtf32Name;
  if (!IsNonNegativeInteger(length) || length.get<uint64_t>() < 1 ||
      length.get<uint64_t>() > (uint64_t{1} << 31) || (utf32 && length.get<uint64_t>() % 4 != 0)) {
    return InvalidArgumentError("data type " + Quoted(name) + ": length_bytes must be a positive " +
                                (utf32 ? "multiple of 4" : "integer") + ", got " + length.dump());
  }
  type.item_size = length.get<size_t>();
  if (name == kRawBytesName) {
    type.type_class = TypeClass::kRawBytes;
    type.swap_size = 1;
  } else if (name == kFixedBytesName) {
    type.type_class = TypeClass::kFixedBytes;
    type.swap_size = 1;
  } else {
    type.type_class = TypeClass::kFixedUtf32;
    type.swap_size = 4;
  }
  type.configuration = {{"length_bytes", length}};
  return type;
}

// `configuration` is null when absent.
Result<DataType> MakeType(const std::string& name, const json& configuration) {
  const bool has_configuration = configuration.is_object() && !configuration.empty();
  if (NeedsConfiguration(name)) {
    if (!configuration.is_object()) {
      return InvalidArgumentError("data type " + Quoted(name) + " needs a configuration");
    }
    return ExtensionType(name, configuration);
  }
  DataType type;
  type.name = name;
  bool found = false;
  for (const SimpleType& simple : kSimpleTypes) {
    if (simple.name == name) {
      type.type_class = simple.type_class;
      type.item_size = simple.item_size;
      type.swap_size = simple.swap_size;
      found = true;
      break;
    }
  }
  size_t bits = 0;
  if (!found && ParseRawBitsName(name, &bits)) {
    type.type_class = TypeClass::kRawBits;
    type.item_size = bits / 8;
    type.swap_size = 1;
    found = true;
  }
  if (!found) return UnimplementedError("data type " + Quoted(name) + " is not supported");
  if (has_configuration) {
    return InvalidArgumentError("data type " + Quoted(name) + " takes no configuration, got " +
                                configuration.dump());
  }
  return type;
}

// ---------------------------------------------------------------------------------------------
// Fill value parsing per type class.

Status BadFill(const DataType& type, const json& j, std::string_view expected) {
  return InvalidArgumentError(
      "fill_value " + j.dump(-1, ' ', false, json::error_handler_t::replace) +
      " is not valid for data type " + Quoted(type.name) + ": expected " + std::string(expected));
}

// An integral JSON value across the whole int64 and uint64 ranges.
struct IntegralValue {
  bool negative = false;
  uint64_t bits = 0;  // the value when !negative, else the int64 value's bits
};

bool AsIntegral(const json& j, IntegralValue* out) {
  if (j.is_number_unsigned()) {
    out->negative = false;
    out->bits = j.get<uint64_t>();
    return true;
  }
  if (j.is_number_integer()) {
    const auto v = j.get<int64_t>();
    out->negative = v < 0;
    out->bits = static_cast<uint64_t>(v);
    return true;
  }
  if (j.is_number_float()) {
    // zarr-python accepts integral floats (1.0) for integer types.
    const double d = j.get<double>();
    if (!std::isfinite(d) || std::trunc(d) != d) return false;
    if (d >= 0) {
      if (d >= 18446744073709551616.0) return false;
      out->negative = false;
      out->bits = static_cast<uint64_t>(d);
    } else {
      if (d < -9223372036854775808.0) return false;
      out->negative = true;
      out->bits = static_cast<uint64_t>(static_cast<int64_t>(d));
    }
    return true;
  }
  return false;
}

Result<std::string> ParseIntFill(const DataType& type, const json& j) {
  IntegralValue v;
  if (!AsIntegral(j, &v)) return BadFill(type, j, "an integer");
  const unsigned bits = static_cast<unsigned>(type.item_size * 8);
  if (type.type_class == TypeClass::kUInt) {
    const uint64_t max = bits == 64 ? ~uint64_t{0} : (uint64_t{1} << bits) - 1;
    if (v.negative || v.bits > max) {
      return InvalidArgumentError("fill_value " + j.dump() + " is out of range for data type " +
                                  Quoted(type.name) + " [0, " + std::to_string(max) + "]");
    }
    return UIntBytes(v.bits, type.item_size);
  }
  const int64_t max =
      bits == 64 ? std::numeric_limits<int64_t>::max() : (int64_t{1} << (bits - 1)) - 1;
  const int64_t min = -max - 1;
  const bool in_range =
      v.negative ? static_cast<int64_t>(v.bits) >= min : v.bits <= static_cast<uint64_t>(max);
  if (!in_range) {
    return InvalidArgumentError("fill_value " + j.dump() + " is out of range for data type " +
                                Quoted(type.name) + " [" + std::to_string(min) + ", " +
                                std::to_string(max) + "]");
  }
  return UIntBytes(v.bits, type.item_size);  // two's complement, truncated
}

// One IEEE float of `width` bytes from any of the spec's forms.
Result<std::string> ParseFloatComponent(const DataType& type, const json& j, size_t width) {
  constexpr std::string_view kExpected =
      "a number, \"NaN\", \"Infinity\", \"-Infinity\" or a \"0x\" hex bit pattern";
  double value = 0;
  if (j.is_string()) {
    const auto& s = j.get_ref<const std::string&>();
    if (s == "NaN") return UIntBytes(CanonicalNanBits(width), width);
    if (s == "Infinity") {
      value = std::numeric_limits<double>::infinity();
    } else if (s == "-Infinity") {
      value = -std::numeric_limits<double>::infinity();
    } else if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
      // The bit pattern as an unsigned integer of exactly the element's width.
      if (s.size() != 2 + 2 * width) {
        return BadFill(type, j,
                       "a hex bit pattern of exactly " + std::to_string(2 * width) + " digits");
      }
      uint64_t bits = 0;
      for (char c : std::string_view(s).substr(2)) {
        int d = -1;
        if (c >= '0' && c <= '9') d = c - '0';
        if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
        if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
        if (d < 0) return BadFill(type, j, "a hex bit pattern");
        bits = (bits << 4) | static_cast<uint64_t>(d);
      }
      return UIntBytes(bits, width);
    } else {
      return BadFill(type, j, kExpected);
    }
  } else if (j.is_number_unsigned()) {
    const auto u = j.get<uint64_t>();
    if (width == 4) return BytesOf(static_cast<float>(u));  // one rounding, directly to float
    value = static_cast<double>(u);
  } else if (j.is_number_integer()) {
    const auto i = j.get<int64_t>();
    if (width == 4) return BytesOf(static_cast<float>(i));
    value = static_cast<double>(i);
  } else if (j.is_number_float()) {
    value = j.get<double>();
  } else {
    return BadFill(type, j, kExpected);
  }
  switch (width) {
    case 2:
      return BytesOf(DoubleToHalfBits(value));
    case 4:
      return BytesOf(DoubleToFloat(value));
    default:
      return BytesOf(value);
  }
}

Result<std::string> ParseRawBitsFill(const DataType& type, const json& j) {
  std::string out(type.item_size, '\0');
  if (j.is_array()) {
    if (j.size() != type.item_size) {
      return BadFill(type, j, "an array of " + std::to_string(type.item_size) + " byte values");
    }
    for (size_t i = 0; i < j.size(); ++i) {
      if (!IsNonNegativeInteger(j[i]) || j[i].get<uint64_t>() > 255) {
        return BadFill(type, j, "byte values in [0, 255]");
      }
      out[i] = static_cast<char>(j[i].get<uint64_t>());
    }
    return out;
  }
  // An integer is taken as the bits' unsigned value, least significant byte first.
  if (IsNonNegativeInteger(j)) {
    uint64_t v = j.get<uint64_t>();
    if (type.item_size < 8 && v >> (8 * type.item_size) != 0) {
      return BadFill(type, j, "an integer below 2^" + std::to_string(8 * type.item_size));
    }
    for (size_t i = 0; i < type.item_size && i < 8; ++i)
      out[i] = static_cast<char>((v >> (8 * i)) & 0xff);
    return out;
  }
  return BadFill(type, j, "an array of byte values or a non-negative integer");
}

Result<std::string> ParseBase64Fill(const DataType& type, const json& j, bool pad_to_item_size) {
  std::string bytes;
  if (!j.is_string() || !Base64Decode(j.get_ref<const std::string&>(), &bytes)) {
    return BadFill(type, j, "a base64 string");
  }
  if (!pad_to_item_size) return bytes;
  if (bytes.size() > type.item_size) {
    return InvalidArgumentError("fill_value " + j.dump() + " decodes to " +
                                std::to_string(bytes.size()) + " bytes, more than data type " +
                                Quoted(type.name) + " holds (" + std::to_string(type.item_size) +
                                ")");
  }
  bytes.resize(type.item_size, '\0');
  return bytes;
}

Result<std::string> ParseUtf32Fill(const DataType& type, const json& j) {
  std::u32string code_points;
  if (!j.is_string() || !DecodeUtf8(j.get_ref<const std::string&>(), &code_points)) {
    return BadFill(type, j, "a UTF-8 string");
  }
  if (code_points.size() * 4 > type.item_size) {
    return InvalidArgumentError("fill_value " + j.dump() + " has " +
                                std::to_string(code_points.size()) +
                                " characters, more than data type " + Quoted(type.name) +
                                " holds (" + std::to_string(type.item_size / 4) + ")");
  }
  std::string out(type.item_size, '\0');
  for (size_t i = 0; i < code_points.size(); ++i) {
    const auto unit = static_cast<uint32_t>(code_points[i]);
    std::memcpy(out.data() + 4 * i, &unit, 4);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Fill value writing.

json FloatComponentToJson(std::string_view bytes) {
  const size_t width = bytes.size();
  const uint64_t bits = UIntOfBytes(bytes);
  double value = 0;
  switch (width) {
    case 2:
      value = HalfBitsToDouble(static_cast<uint16_t>(bits));
      break;
    case 4:
      value = ValueOf<float>(bytes);
      break;
    default:
      value = ValueOf<double>(bytes);
      break;
  }
  if (std::isnan(value)) {
    if (bits == CanonicalNanBits(width)) return "NaN";
    // Only the hex form keeps a non-canonical NaN's sign and payload.
    static constexpr char kHex[] = "0123456789abcdef";
    std::string hex = "0x";
    for (int shift = static_cast<int>(8 * width) - 4; shift >= 0; shift -= 4) {
      hex += kHex[(bits >> shift) & 0xf];
    }
    return hex;
  }
  if (std::isinf(value)) return value > 0 ? "Infinity" : "-Infinity";
  return value;  // a JSON float: 0.0, 1.5, 1e+300, as zarr-python writes
}

Result<DataType> DataTypeFromJson(const json& j) {
  if (j.is_string()) return MakeType(j.get<std::string>(), json());
  if (!j.is_object()) {
    return InvalidArgumentError("data_type must be a string or an object, got " +
                                j.dump(-1, ' ', false, json::error_handler_t::replace));
  }
  const auto name = j.find("name");
  if (name == j.end() || !name->is_string()) {
    return InvalidArgumentError("data_type object needs a string 'name', got " + j.dump());
  }
  json configuration;
  for (const auto& [key, value] : j.items()) {
    if (key == "name") continue;
    if (key == "configuration") {
      if (!value.is_object()) {
        return InvalidArgumentError("data_type 'configuration' must be an object, got " +
                                    value.dump());
      }
      configuration = value;
    } else if (key == "must_understand") {
      // The spec does not let data types be ignored, so the flag changes nothing; accept it.
      if (!value.is_boolean()) {
        return InvalidArgumentError("data_type 'must_understand' must be a boolean");
      }
    } else {
      return InvalidArgumentError("unsupported data_type member " + Quoted(key));
    }
  }
  return MakeType(name->get<std::string>(), configuration);
}

Result<std::string> ParseFill(const DataType& type, const json& j) {
  if (j.is_null()) return std::string(type.item_size, '\0');
  switch (type.type_class) {
    case TypeClass::kBool:
      if (j.is_boolean()) return std::string(1, j.get<bool>() ? '\1' : '\0');
      // zarr-python also accepts 0 and 1.
      if (IsNonNegativeInteger(j) && j.get<uint64_t>() <= 1) {
        return std::string(1, static_cast<char>(j.get<uint64_t>()));
      }
      return BadFill(type, j, "true or false");
    case TypeClass::kInt:
    case TypeClass::kUInt:
      return ParseIntFill(type, j);
    case TypeClass::kFloat:
      return ParseFloatComponent(type, j, type.item_size);
    case TypeClass::kComplex: {
      if (!j.is_array() || j.size() != 2) return BadFill(type, j, "a [real, imaginary] pair");
      const size_t half = type.item_size / 2;
      NIMBUS_ASSIGN_OR_RETURN(std::string re, ParseFloatComponent(type, j[0], half));
      NIMBUS_ASSIGN_OR_RETURN(std::string im, ParseFloatComponent(type, j[1], half));
      return re + im;
    }
    case TypeClass::kRawBits:
      return ParseRawBitsFill(type, j);
    case TypeClass::kRawBytes:
    case TypeClass::kFixedBytes:
      return ParseBase64Fill(type, j, /*pad_to_item_size=*/true);
    case TypeClass::kFixedUtf32:
      return ParseUtf32Fill(type, j);
    case TypeClass::kDateTime: {
      if (j.is_string() && j.get_ref<const std::string&>() == "NaT") {
        return BytesOf(std::numeric_limits<int64_t>::min());
      }
      IntegralValue v;
      if (!AsIntegral(j, &v) ||
          (!v.negative && v.bits > uint64_t{std::numeric_limits<int64_t>::max()})) {
        return BadFill(type, j, "an int64 or \"NaT\"");
      }
      return BytesOf(v.bits);
    }
    case TypeClass::kString:
      if (!j.is_string()) return BadFill(type, j, "a string");
      return j.get<std::string>();
    case TypeClass::kBytes:
      return ParseBase64Fill(type, j, /*pad_to_item_size=*/false);
    case TypeClass::kStructured:
      // zarr-python writes the record's bytes in base64 and accepts 0 for all-zero records.
      if (IsNonNegativeInteger(j) && j.get<uint64_t>() == 0) return std::string(type.item_size, '\0');
      return ParseBase64Fill(type, j, /*pad_to_item_size=*/true);
  }
  return BadFill(type, j, "a value of the data type");
}

}  // namespace

// The parsers check types before every access; the catches are the boundary for anything they
// miss (nlohmann::json throws).
Result<DataType> DataType::FromJson(const nlohmann::json& j) {
  try {
    return DataTypeFromJson(j);
  } catch (const json::exception& e) {
    return InvalidArgumentError(std::string("invalid data_type: ") + e.what());
  }
}

Result<std::string> ParseFillValue(const DataType& type, const nlohmann::json& j) {
  try {
    return ParseFill(type, j);
  } catch (const json::exception& e) {
    return InvalidArgumentError("invalid fill_value for data type " + Quoted(type.name) + ": " +
                                e.what());
  }
}

nlohmann::json DataType::ToJson() const {
  if (NeedsConfiguration(name)) return {{"name", name}, {"configuration", configuration}};
  return name;
}

nlohmann::json FillValueToJson(const DataType& type, const std::string& fill) {
  if (!type.variable_length() && fill.size() != type.item_size) return nullptr;  // malformed
  switch (type.type_class) {
    case TypeClass::kBool:
      return fill[0] != 0;
    case TypeClass::kInt:
      switch (type.item_size) {
        case 1:
          return ValueOf<int8_t>(fill);
        case 2:
          return ValueOf<int16_t>(fill);
        case 4:
          return ValueOf<int32_t>(fill);
        default:
          return ValueOf<int64_t>(fill);
      }
    case TypeClass::kUInt:
      return UIntOfBytes(fill);
    case TypeClass::kFloat:
      return FloatComponentToJson(fill);
    case TypeClass::kComplex: {
      const std::string_view bytes(fill);
      const size_t half = type.item_size / 2;
      return json::array(
          {FloatComponentToJson(bytes.substr(0, half)), FloatComponentToJson(bytes.substr(half))});
    }
    case TypeClass::kRawBits: {
      json bytes = json::array();
      for (char c : fill) bytes.push_back(static_cast<uint8_t>(c));
      return bytes;
    }
    case TypeClass::kRawBytes:
      return Base64Encode(fill);
    case TypeClass::kFixedBytes: {
      // numpy "S" values end at the first trailing NUL; zarr-python writes the stripped bytes.
      std::string_view bytes(fill);
      while (!bytes.empty() && bytes.back() == '\0') bytes.remove_suffix(1);
      return Base64Encode(bytes);
    }
    case TypeClass::kFixedUtf32: {
      size_t count = fill.size() / 4;
      while (count > 0 && ValueOf<uint32_t>(std::string_view(fill).substr(4 * (count - 1))) == 0) {
        --count;
      }
      std::string utf8;
      for (size_t i = 0; i < count; ++i) {
        AppendUtf8(static_cast<char32_t>(ValueOf<uint32_t>(std::string_view(fill).substr(4 * i))),
                   &utf8);
      }
      return utf8;
    }
    case TypeClass::kDateTime:
      return ValueOf<int64_t>(fill);
    case TypeClass::kString:
      return fill;
    case TypeClass::kBytes:
    case TypeClass::kStructured:
      return Base64Encode(fill);
  }
  return nullptr;
}

}  // namespace nimbus::zarr
