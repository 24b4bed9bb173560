#include "zarr/codecs/numcodecs.h"

#include <lz4.h>

#include <cstring>
#include <limits>

#include "zarr/codecs/config.h"

namespace nimbus::zarr {

// ---------------------------------------------------------------------------------------------
// numcodecs.shuffle

Result<std::shared_ptr<const NumcodecsShuffleCodec>> NumcodecsShuffleCodec::FromJson(
    const nlohmann::json& configuration, const BytesCodecContext& context) {
  NIMBUS_RETURN_IF_ERROR(
      codec_internal::CheckMembers(configuration, "numcodecs.shuffle", {"id", "elementsize"}));
  NIMBUS_ASSIGN_OR_RETURN(
      std::optional<int64_t> element_size,
      codec_internal::OptionalInt(configuration, "numcodecs.shuffle", "elementsize", 0,
                                  std::numeric_limits<int32_t>::max()));
  uint64_t size = element_size ? static_cast<uint64_t>(*element_size) : context.data_type.item_size;
  return std::make_shared<const NumcodecsShuffleCodec>(size);
}

Result<Buffer> NumcodecsShuffleCodec::Permute(Buffer bytes, bool shuffle) const {
  if (element_size_ <= 1 || bytes.empty()) return bytes;  // nothing to move
  if (bytes.size() % element_size_ != 0) {
    return codec_internal::CorruptError(
        "numcodecs.shuffle", std::to_string(bytes.size()) + " bytes are not whole elements of " +
                                 std::to_string(element_size_) + " bytes");
  }
  const uint64_t count = bytes.size() / element_size_;
  Buffer out = Buffer::Allocate(bytes.size());
  const char* in = bytes.data();
  char* to = out.data();
  for (uint64_t e = 0; e < count; ++e) {
    for (uint64_t b = 0; b < element_size_; ++b) {
      // Shuffled position of byte b of element e: block b, slot e.
      if (shuffle) {
        to[b * count + e] = in[e * element_size_ + b];
      } else {
        to[e * element_size_ + b] = in[b * count + e];
      }
    }
  }
  return out;
}

Result<Buffer> NumcodecsShuffleCodec::Encode(Buffer bytes) const {
  return Permute(std::move(bytes), true);
}

Result<Buffer> NumcodecsShuffleCodec::Decode(Buffer bytes) const {
  return Permute(std::move(bytes), false);
}

// ---------------------------------------------------------------------------------------------
// numcodecs.lz4

namespace {
constexpr size_t kSizeHeader = 4;
}  // namespace

Result<std::shared_ptr<const NumcodecsLz4Codec>> NumcodecsLz4Codec::FromJson(
    const nlohmann::json& configuration, const BytesCodecContext& context) {
  NIMBUS_RETURN_IF_ERROR(
      codec_internal::CheckMembers(configuration, "numcodecs.lz4", {"id", "acceleration"}));
  NIMBUS_ASSIGN_OR_RETURN(std::optional<int64_t> acceleration,
                          codec_internal::OptionalInt(configuration, "numcodecs.lz4",
                                                      "acceleration", std::numeric_limits<int32_t>::min(),
                                                      std::numeric_limits<int32_t>::max()));
  return std::make_shared<const NumcodecsLz4Codec>(
      static_cast<int>(acceleration.value_or(kDefaultAcceleration)), context.decoded_size);
}

Result<Buffer> NumcodecsLz4Codec::Encode(Buffer bytes) const {
  if (bytes.size() > static_cast<size_t>(LZ4_MAX_INPUT_SIZE)) {
    return InvalidArgumentError("numcodecs.lz4: a chunk of " + std::to_string(bytes.size()) +
                                " bytes is larger than LZ4 blocks can be (" +
                                std::to_string(LZ4_MAX_INPUT_SIZE) + ")");
  }
  const int source_size = static_cast<int>(bytes.size());
  const int bound = LZ4_compressBound(source_size);
  Buffer out = Buffer::Allocate(kSizeHeader + static_cast<size_t>(bound));
  auto* header = reinterpret_cast<unsigned char*>(out.data());
  for (size_t i = 0; i < kSizeHeader; ++i) {
    header[i] = static_cast<unsigned char>(static_cast<uint32_t>(source_size) >> (8 * i));
  }
  const int written = LZ4_compress_fast(bytes.data(), out.data() + kSizeHeader, source_size,
                                        bound, acceleration_);
  if (written <= 0 && source_size > 0) return PermanentError("numcodecs.lz4: compression failed");
  out.Resize(kSizeHeader + static_cast<size_t>(written));
  return out;
}

Result<Buffer> NumcodecsLz4Codec::Decode(Buffer bytes) const {
  if (bytes.size() < kSizeHeader) {
    return codec_internal::CorruptError(
        "numcodecs.lz4", std::to_string(bytes.size()) + " bytes cannot hold the size header");
  }
  const auto* header = reinterpret_cast<const unsigned char*>(bytes.data());
  uint32_t decoded = 0;
  for (size_t i = 0; i < kSizeHeader; ++i) decoded |= uint32_t{header[i]} << (8 * i);
  NIMBUS_RETURN_IF_ERROR(codec_internal::CheckDecodedSize("numcodecs.lz4", decoded, decoded_size_));
  if (!decoded_size_ && decoded > codec_internal::kMaxUnknownDecodedSize) {
    return codec_internal::CorruptError(
        "numcodecs.lz4", "the header claims " + std::to_string(decoded) + " bytes, over " +
                             codec_internal::SizeLimitText(codec_internal::kMaxUnknownDecodedSize,
                                                           false));
  }
  if (decoded > static_cast<uint32_t>(std::numeric_limits<int>::max()) ||
      bytes.size() - kSizeHeader > static_cast<size_t>(std::numeric_limits<int>::max())) {
    return codec_internal::CorruptError("numcodecs.lz4", "block too large");
  }
  Buffer out = Buffer::Allocate(decoded);
  const int got = LZ4_decompress_safe(bytes.data() + kSizeHeader, out.data(),
                                      static_cast<int>(bytes.size() - kSizeHeader),
                                      static_cast<int>(decoded));
  if (got < 0 || static_cast<uint32_t>(got) != decoded) {
    return codec_internal::CorruptError("numcodecs.lz4", "the LZ4 block does not decode to the " +
                                                             std::to_string(decoded) +
                                                             " bytes its header announces");
  }
  return out;
}

}  // namespace nimbus::zarr
