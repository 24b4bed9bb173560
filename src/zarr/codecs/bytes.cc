#include "zarr/codecs/bytes.h"

#include <algorithm>
#include <bit>
#include <cstring>

#include "zarr/codecs/config.h"

namespace nimbus::zarr {
namespace {

template <typename T, typename SwapFn>
void SwapWords(char* data, size_t size, SwapFn swap) {
  for (size_t i = 0; i + sizeof(T) <= size; i += sizeof(T)) {
    T v;
    std::memcpy(&v, data + i, sizeof(T));
    v = swap(v);
    std::memcpy(data + i, &v, sizeof(T));
  }
}

}  // namespace

void SwapBytesInPlace(char* data, size_t size, size_t swap_size) {
  switch (swap_size) {
    case 0:
    case 1:
      return;
    case 2:
      return SwapWords<uint16_t>(data, size, [](uint16_t v) { return __builtin_bswap16(v); });
    case 4:
      return SwapWords<uint32_t>(data, size, [](uint32_t v) { return __builtin_bswap32(v); });
    case 8:
      return SwapWords<uint64_t>(data, size, [](uint64_t v) { return __builtin_bswap64(v); });
    default:
      for (size_t i = 0; i + swap_size <= size; i += swap_size) {
        std::reverse(data + i, data + i + swap_size);
      }
  }
}

Result<std::shared_ptr<const BytesCodec>> BytesCodec::FromJson(const nlohmann::json& configuration,
                                                               const ChunkSpec& spec) {
  NIMBUS_RETURN_IF_ERROR(codec_internal::CheckMembers(configuration, "bytes", {"endian"}));
  const DataType& type = spec.data_type;
  if (type.variable_length()) {
    return InvalidArgumentError(
        "codec 'bytes' does not support the variable-length data type '" + type.name + "' (use " +
        (type.type_class == TypeClass::kString ? "vlen-utf8" : "vlen-bytes") + ")");
  }
  NIMBUS_ASSIGN_OR_RETURN(std::optional<std::string> endian_name,
                          codec_internal::OptionalString(configuration, "bytes", "endian"));
  Endian endian = Endian::kNone;
  if (endian_name.has_value()) {
    if (*endian_name == "little") {
      endian = Endian::kLittle;
    } else if (*endian_name == "big") {
      endian = Endian::kBig;
    } else {
      return codec_internal::MemberError(
          "bytes", "endian", "must be \"little\" or \"big\", got \"" + *endian_name + "\"");
    }
  }
  if (!type.has_endianness()) {
    endian = Endian::kNone;  // zarr-python drops a needless endian the same way
  } else if (endian == Endian::kNone) {
    return codec_internal::MemberError("bytes", "endian",
                                       "is required for the data type '" + type.name + "'");
  }
  return std::make_shared<const BytesCodec>(endian, type.swap_size);
}

nlohmann::json BytesCodec::ToJson() const {
  if (endian_ == Endian::kNone) return {{"name", "bytes"}};
  return {{"name", "bytes"},
          {"configuration", {{"endian", endian_ == Endian::kLittle ? "little" : "big"}}}};
}

bool BytesCodec::NeedsSwap() const {
  if (endian_ == Endian::kNone || swap_size_ <= 1) return false;
  return (endian_ == Endian::kLittle) != (std::endian::native == std::endian::little);
}

Result<Buffer> BytesCodec::Encode(const ChunkArray& chunk, const ChunkSpec& spec) const {
  uint64_t expected = spec.num_bytes();
  if (chunk.data.size() != expected) {
    return InvalidArgumentError("bytes: chunk holds " + std::to_string(chunk.data.size()) +
                                " bytes, expected " + std::to_string(expected));
  }
  Buffer out = Buffer::CopyOf(chunk.data.view());
  if (NeedsSwap()) SwapBytesInPlace(out.data(), out.size(), swap_size_);
  return out;
}

Result<Buffer> BytesCodec::EncodeInPlace(ChunkArray chunk, const ChunkSpec& spec) const {
  uint64_t expected = spec.num_bytes();
  if (chunk.data.size() != expected) {
    return InvalidArgumentError("bytes: chunk holds " + std::to_string(chunk.data.size()) +
                                " bytes, expected " + std::to_string(expected));
  }
  if (NeedsSwap()) SwapBytesInPlace(chunk.data.data(), chunk.data.size(), swap_size_);
  return std::move(chunk.data);
}

Result<ChunkArray> BytesCodec::Decode(Buffer bytes, const ChunkSpec& spec) const {
  uint64_t expected = spec.num_bytes();
  if (bytes.size() != expected) {
    return codec_internal::CorruptError("bytes", "chunk has " + std::to_string(bytes.size()) +
                                                     " bytes, expected " +
                                                     std::to_string(expected));
  }
  if (NeedsSwap()) SwapBytesInPlace(bytes.data(), bytes.size(), swap_size_);
  ChunkArray chunk;
  chunk.shape = spec.shape;
  chunk.data = std::move(bytes);
  return chunk;
}

}  // namespace nimbus::zarr
