#include "zarr/codecs/blosc.h"

#include <blosc.h>

#include <algorithm>
#include <array>
#include <climits>
#include <string_view>

#include "zarr/codecs/config.h"

namespace nimbus::zarr {
namespace {

using codec_internal::CorruptError;

constexpr std::array<std::string_view, 6> kCnames = {"blosclz", "lz4",  "lz4hc",
                                                     "snappy",  "zlib", "zstd"};
constexpr std::array<std::string_view, 3> kShuffleNames = {"noshuffle", "shuffle", "bitshuffle"};

}  // namespace

Result<std::shared_ptr<const BloscCodec>> BloscCodec::FromJson(const nlohmann::json& configuration,
                                                               const BytesCodecContext& context) {
  using codec_internal::MemberError;
  NIMBUS_RETURN_IF_ERROR(codec_internal::CheckMembers(
      configuration, "blosc", {"cname", "clevel", "shuffle", "typesize", "blocksize"}));
  Options options;
  const uint64_t item_size = context.data_type.item_size == 0 ? 1 : context.data_type.item_size;
  options.typesize = item_size;
  options.shuffle = item_size == 1 ? Shuffle::kBitShuffle : Shuffle::kShuffle;

  NIMBUS_ASSIGN_OR_RETURN(std::optional<std::string> cname,
                          codec_internal::OptionalString(configuration, "blosc", "cname"));
  if (cname.has_value()) {
    if (std::find(kCnames.begin(), kCnames.end(), *cname) == kCnames.end()) {
      return MemberError(
          "blosc", "cname",
          "must be one of blosclz, lz4, lz4hc, snappy, zlib, zstd, got \"" + *cname + "\"");
    }
    options.cname = *cname;
  }
  if (blosc_compname_to_compcode(options.cname.c_str()) < 0) {
    return UnimplementedError(
        "codec 'blosc': compressor '" + options.cname +
        "' is not available in this c-blosc build (available: " + blosc_list_compressors() + ")");
  }
  NIMBUS_ASSIGN_OR_RETURN(std::optional<int64_t> clevel,
                          codec_internal::OptionalInt(configuration, "blosc", "clevel", 0, 9));
  if (clevel.has_value()) options.clevel = static_cast<int>(*clevel);
  NIMBUS_ASSIGN_OR_RETURN(std::optional<std::string> shuffle,
                          codec_internal::OptionalString(configuration, "blosc", "shuffle"));
  if (shuffle.has_value()) {
    auto it = std::find(kShuffleNames.begin(), kShuffleNames.end(), *shuffle);
    if (it == kShuffleNames.end()) {
      return MemberError(
          "blosc", "shuffle",
          "must be \"noshuffle\", \"shuffle\" or \"bitshuffle\", got \"" + *shuffle + "\"");
    }
    options.shuffle = static_cast<Shuffle>(it - kShuffleNames.begin());
  }
  NIMBUS_ASSIGN_OR_RETURN(
      std::optional<int64_t> typesize,
      codec_internal::OptionalInt(configuration, "blosc", "typesize", 1, INT32_MAX));
  if (typesize.has_value()) options.typesize = static_cast<uint64_t>(*typesize);
  NIMBUS_ASSIGN_OR_RETURN(
      std::optional<int64_t> blocksize,
      codec_internal::OptionalInt(configuration, "blosc", "blocksize", 0, INT32_MAX));
  if (blocksize.has_value()) options.blocksize = static_cast<uint64_t>(*blocksize);
  return std::make_shared<const BloscCodec>(std::move(options), context.decoded_size);
}

nlohmann::json BloscCodec::ToJson() const {
  return {{"name", "blosc"},
          {"configuration",
           {{"typesize", options_.typesize},
            {"cname", options_.cname},
            {"clevel", options_.clevel},
            {"shuffle", kShuffleNames[static_cast<size_t>(options_.shuffle)]},
            {"blocksize", options_.blocksize}}}};
}

Result<Buffer> BloscCodec::Encode(Buffer bytes) const {
  if (bytes.size() > static_cast<size_t>(BLOSC_MAX_BUFFERSIZE)) {
    return InvalidArgumentError("blosc: " + std::to_string(bytes.size()) +
                                " bytes is more than c-blosc can compress at once (2 GiB)");
  }
  Buffer out = Buffer::Allocate(bytes.size() + BLOSC_MAX_OVERHEAD);
  int n = blosc_compress_ctx(options_.clevel, static_cast<int>(options_.shuffle),
                             static_cast<size_t>(options_.typesize), bytes.size(), bytes.data(),
                             out.data(), out.size(), options_.cname.c_str(),
                             static_cast<size_t>(options_.blocksize), /*numinternalthreads=*/1);
  if (n <= 0) return PermanentError("blosc: compression failed (code " + std::to_string(n) + ")");
  out.Resize(static_cast<size_t>(n));
  return out;
}

Result<Buffer> BloscCodec::Decode(Buffer bytes) const {
  size_t decoded = 0;
  // Checks the header against the buffer length, so the decompressor never reads past it.
  if (blosc_cbuffer_validate(bytes.data(), bytes.size(), &decoded) != 0) {
    return CorruptError("blosc", "not a valid blosc buffer (bad or truncated header)");
  }
  const bool exact = decoded_size_.has_value();
  const uint64_t limit = exact ? *decoded_size_ : codec_internal::kMaxUnknownDecodedSize;
  if (decoded > limit) {
    return CorruptError("blosc", "header claims " + std::to_string(decoded) + " bytes, more than " +
                                     codec_internal::SizeLimitText(limit, exact));
  }
  NIMBUS_RETURN_IF_ERROR(codec_internal::CheckDecodedSize("blosc", decoded, decoded_size_));
  Buffer out = Buffer::Allocate(decoded);
  if (decoded == 0) return out;
  int n = blosc_decompress_ctx(bytes.data(), out.data(), out.size(), /*numinternalthreads=*/1);
  if (n < 0 || static_cast<size_t>(n) != decoded) {
    return CorruptError("blosc", "corrupt data (code " + std::to_string(n) + ")");
  }
  return out;
}

}  // namespace nimbus::zarr
