// A minimal CBOR (RFC 8949) encoder: exactly what the v2 response needs (maps with text keys,
// text and byte strings, arrays of integers), in definite-length, shortest-form encoding.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace nimbus::active {

class CborWriter {
 public:
  void Map(uint64_t entries) { Head(5, entries); }
  void Array(uint64_t items) { Head(4, items); }
  void Text(std::string_view text) {
    Head(3, text.size());
    out_.append(text);
  }
  void Bytes(std::string_view bytes) {
    Head(2, bytes.size());
    out_.append(bytes);
  }
  void Uint(uint64_t value) { Head(0, value); }
  void Int(int64_t value) {
    if (value >= 0) Head(0, static_cast<uint64_t>(value));
    else Head(1, static_cast<uint64_t>(-(value + 1)));  // -1 - n, without overflow at INT64_MIN
  }

  const std::string& data() const { return out_; }
  std::string Take() { return std::move(out_); }
  void Reserve(size_t n) { out_.reserve(n); }

 private:
  void Head(uint8_t major, uint64_t value) {
    const auto m = static_cast<char>(major << 5);
    if (value < 24) {
      out_.push_back(static_cast<char>(m | static_cast<char>(value)));
    } else if (value <= 0xFF) {
      out_.push_back(static_cast<char>(m | 24));
      out_.push_back(static_cast<char>(value));
    } else if (value <= 0xFFFF) {
      out_.push_back(static_cast<char>(m | 25));
      BigEndian(value, 2);
    } else if (value <= 0xFFFFFFFFull) {
      out_.push_back(static_cast<char>(m | 26));
      BigEndian(value, 4);
    } else {
      out_.push_back(static_cast<char>(m | 27));
      BigEndian(value, 8);
    }
  }
  void BigEndian(uint64_t value, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) out_.push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
  }
  std::string out_;
};

}  // namespace nimbus::active
