// A minimal CBOR (RFC 8949) decoder for the v2 response: definite-length items of every major type
// (unsigned and negative integers, byte and text strings, arrays, maps, simple values and floats),
// enough for any map a Reductionist-compatible server sends. Indefinite lengths and tags other than
// being skipped are refused with an error, as is nesting deeper than 32 levels.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace nimbus::active {

struct CborValue {
  enum class Type { kUnsigned, kNegative, kBytes, kText, kArray, kMap, kBool, kNull, kFloat };
  Type type = Type::kNull;
  uint64_t uint = 0;    // kUnsigned: the value; kNegative: n for the value -1 - n
  std::string string;   // kBytes, kText
  std::vector<CborValue> items;                          // kArray
  std::vector<std::pair<CborValue, CborValue>> entries;  // kMap, in order
  bool boolean = false;
  double number = 0;

  bool is_integer() const { return type == Type::kUnsigned || type == Type::kNegative; }
  // The integer as int64 when it fits.
  Result<int64_t> AsInt64() const;
  // A map's value under a text key, or null when absent.
  const CborValue* Find(std::string_view key) const;
};

// Decodes exactly one item that must span all of `data`.
Result<CborValue> DecodeCbor(std::string_view data);

}  // namespace nimbus::active
