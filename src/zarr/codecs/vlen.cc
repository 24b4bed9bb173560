#include "zarr/codecs/vlen.h"

#include <cstdint>
#include <cstring>
#include <limits>

#include "zarr/codecs/config.h"

namespace nimbus::zarr {
namespace {

constexpr size_t kLengthSize = 4;
constexpr uint64_t kMaxU32 = std::numeric_limits<uint32_t>::max();

void PutLittle32(char* p, uint32_t v) {
  for (size_t i = 0; i < kLengthSize; ++i) p[i] = static_cast<char>(v >> (8 * i));
}

uint32_t GetLittle32(const char* p) {
  uint32_t v = 0;
  for (size_t i = 0; i < kLengthSize; ++i)
    v |= uint32_t{static_cast<unsigned char>(p[i])} << (8 * i);
  return v;
}

}  // namespace

bool IsValidUtf8(std::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const unsigned char* end = p + text.size();
  while (p < end) {
    // Skip ASCII eight bytes at a time: most text is mostly ASCII.
    while (end - p >= 8) {
      uint64_t word;
      std::memcpy(&word, p, 8);
      if (word & 0x8080808080808080ull) break;
      p += 8;
    }
    if (p == end) break;
    unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    size_t need;
    uint32_t code;
    uint32_t min;
    if (c >= 0xC2 && c <= 0xDF) {
      need = 1, code = c & 0x1F, min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
      need = 2, code = c & 0x0F, min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
      need = 3, code = c & 0x07, min = 0x10000;
    } else {
      return false;
    }
    if (static_cast<size_t>(end - p) <= need) return false;
    for (size_t k = 1; k <= need; ++k) {
      if ((p[k] & 0xC0) != 0x80) return false;
      code = (code << 6) | (p[k] & 0x3F);
    }
    if (code < min || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return false;
    p += need + 1;
  }
  return true;
}

Result<std::shared_ptr<const VlenCodec>> VlenCodec::FromJson(Kind kind,
                                                             const nlohmann::json& configuration,
                                                             const ChunkSpec& spec) {
  const char* codec = kind == Kind::kUtf8 ? "vlen-utf8" : "vlen-bytes";
  NIMBUS_RETURN_IF_ERROR(codec_internal::CheckMembers(configuration, codec, {}));
  TypeClass wanted = kind == Kind::kUtf8 ? TypeClass::kString : TypeClass::kBytes;
  if (spec.data_type.type_class != wanted) {
    return InvalidArgumentError(std::string("codec '") + codec + "' requires the data type '" +
                                (kind == Kind::kUtf8 ? "string" : "variable_length_bytes") +
                                "', not '" + spec.data_type.name + "'");
  }
  return std::make_shared<const VlenCodec>(kind);
}

Result<Buffer> VlenCodec::Encode(const ChunkArray& chunk, const ChunkSpec& spec) const {
  const uint64_t n = spec.num_elements();
  if (chunk.values.size() != n) {
    return InvalidArgumentError(name() + ": chunk holds " + std::to_string(chunk.values.size()) +
                                " values, expected " + std::to_string(n));
  }
  if (n > kMaxU32) {
    return InvalidArgumentError(name() + ": " + std::to_string(n) +
                                " elements do not fit the 32-bit count");
  }
  uint64_t total = kLengthSize;
  for (size_t i = 0; i < chunk.values.size(); ++i) {
    const std::string& v = chunk.values[i];
    if (v.size() > kMaxU32) {
      return InvalidArgumentError(name() + ": element " + std::to_string(i) + " has " +
                                  std::to_string(v.size()) + " bytes, more than 2^32-1");
    }
    // zarr-python cannot read a chunk with invalid UTF-8, so refuse to write one.
    if (kind_ == Kind::kUtf8 && !IsValidUtf8(v)) {
      return InvalidArgumentError(name() + ": element " + std::to_string(i) +
                                  " is not valid UTF-8");
    }
    total += kLengthSize + v.size();
  }
  Buffer out = Buffer::Allocate(total);
  char* p = out.data();
  PutLittle32(p, static_cast<uint32_t>(n));
  p += kLengthSize;
  for (const std::string& v : chunk.values) {
    PutLittle32(p, static_cast<uint32_t>(v.size()));
    p += kLengthSize;
    if (!v.empty()) std::memcpy(p, v.data(), v.size());
    p += v.size();
  }
  return out;
}

Result<ChunkArray> VlenCodec::Decode(Buffer bytes, const ChunkSpec& spec) const {
  const std::string codec = name();
  if (bytes.size() < kLengthSize) {
    return codec_internal::CorruptError(codec, "chunk of " + std::to_string(bytes.size()) +
                                                   " bytes is too short for the element count");
  }
  const char* p = bytes.data();
  const char* end = p + bytes.size();
  const uint64_t count = GetLittle32(p);
  p += kLengthSize;
  const uint64_t n = spec.num_elements();
  if (count != n) {
    return codec_internal::CorruptError(
        codec, "chunk holds " + std::to_string(count) + " elements, expected " + std::to_string(n));
  }
  // Each element takes at least its 4-byte length, so a count the bytes cannot hold is caught
  // before allocating the values.
  if (count > static_cast<uint64_t>(end - p) / kLengthSize) {
    return codec_internal::CorruptError(
        codec, "data truncated (element count " + std::to_string(count) + ")");
  }
  ChunkArray chunk;
  chunk.shape = spec.shape;
  chunk.values.resize(count);
  for (uint64_t i = 0; i < count; ++i) {
    if (end - p < static_cast<ptrdiff_t>(kLengthSize)) {
      return codec_internal::CorruptError(codec, "data truncated at element " + std::to_string(i));
    }
    uint32_t length = GetLittle32(p);
    p += kLengthSize;
    if (static_cast<uint64_t>(end - p) < length) {
      return codec_internal::CorruptError(codec, "data truncated at element " + std::to_string(i));
    }
    if (kind_ == Kind::kUtf8 && !IsValidUtf8(std::string_view(p, length))) {
      return codec_internal::CorruptError(codec,
                                          "element " + std::to_string(i) + " is not valid UTF-8");
    }
    chunk.values[i].assign(p, length);
    p += length;
  }
  // Trailing bytes are ignored, as numcodecs does.
  return chunk;
}

}  // namespace nimbus::zarr
