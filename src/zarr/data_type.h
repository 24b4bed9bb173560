// Zarr v3 data types: the core spec's numeric types plus the extension types zarr-python 3 writes
// (fixed-length strings and bytes, variable-length strings and bytes, raw bytes). The engine keeps
// chunks in memory in C order, native endianness: fixed-size types as packed bytes, and
// variable-length types as std::string values (see ChunkArray).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace nimbus::zarr {

enum class TypeClass {
  kBool,         // "bool", 1 byte, 0 or 1
  kInt,          // "int8" .. "int64"
  kUInt,         // "uint8" .. "uint64"
  kFloat,        // "float16", "float32", "float64"
  kComplex,      // "complex64", "complex128" (two floats)
  kRawBits,      // "r8", "r16", ... (core spec raw bits, multiple of 8)
  kRawBytes,     // zarr-python "raw_bytes" {length_bytes}: numpy void "V<n>"
  kFixedBytes,   // zarr-python "null_terminated_bytes" {length_bytes}: numpy "S<n>"
  kFixedUtf32,   // zarr-python "fixed_length_utf32" {length_bytes}: numpy "U<n>" (4 bytes/char)
  kDateTime,     // zarr-python "numpy.datetime64"/"numpy.timedelta64" {unit, scale_factor}: int64
  kString,       // "string": variable-length UTF-8 (vlen-utf8 codec)
  kBytes,        // "variable_length_bytes": variable-length bytes (vlen-bytes codec)
  kStructured,   // zarr-python "structured" {fields: [[name, data type], ...]}: a numpy record,
                 // fields packed in order, each field's numbers little-endian (no bytes-codec
                 // endian: zarr-python reads fields with its default, little); fixed size only
};

struct DataType {
  TypeClass type_class = TypeClass::kUInt;
  std::string name;  // the Zarr name: "int32", "r24", "fixed_length_utf32", ...
  // Bytes per element in a fixed-size chunk buffer; 0 for variable-length types.
  size_t item_size = 1;
  // Unit of byte swapping for the "bytes" codec's endian setting: item_size for numbers, the
  // component size for complex, 4 for UTF-32, 1 (no swapping) for bool/bytes/raw types.
  size_t swap_size = 1;
  // Extension types' configuration as written ({"length_bytes": 7}, {"unit": "s", ...}).
  nlohmann::json configuration;
  // kStructured: the fields in order, with their byte offsets in the packed record.
  struct Field {
    std::string name;
    size_t offset = 0;
    std::shared_ptr<const DataType> type;
  };
  std::vector<Field> fields;

  bool variable_length() const {
    return type_class == TypeClass::kString || type_class == TypeClass::kBytes;
  }
  // Whether the "bytes" codec needs an endian setting for this type.
  bool has_endianness() const { return swap_size > 1; }

  // Accepts a name string ("int32") or an object ({"name": ..., "configuration": ...}).
  // Unknown types: kUnimplemented naming the type.
  static Result<DataType> FromJson(const nlohmann::json& j);
  nlohmann::json ToJson() const;
  // Convenience for code and tests: FromJson(name) for the simple names.
  static Result<DataType> FromName(const std::string& name) { return FromJson(name); }

  bool operator==(const DataType& o) const {
    return name == o.name && configuration == o.configuration;
  }
};

// Standard base64 (zarr-python's text form of bytes); decoding tolerates missing padding.
std::string Base64Encode(std::string_view bytes);
bool Base64Decode(std::string_view text, std::string* out);

// Fill values: the element's bytes in native endianness for fixed-size types (item_size bytes),
// or the value itself for variable-length types. Parses every JSON form the v3 spec allows for
// the type: numbers, true/false, "NaN", "Infinity", "-Infinity", "0x..." hex bit patterns for
// floats, [re, im] for complex, base64 or strings for the extension types as zarr-python writes.
// `null` means the type's default (zero / empty).
Result<std::string> ParseFillValue(const DataType& type, const nlohmann::json& j);
nlohmann::json FillValueToJson(const DataType& type, const std::string& fill);

}  // namespace nimbus::zarr
