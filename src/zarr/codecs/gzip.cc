#include "zarr/codecs/gzip.h"

#include <libdeflate.h>

#include <algorithm>
#include <array>

#include "zarr/codecs/config.h"

namespace nimbus::zarr {
namespace {

using codec_internal::CorruptError;

constexpr size_t kMinGzipMember = 18;  // 10-byte header + empty deflate block + 8-byte trailer
// Deflate cannot expand data more than about 1032:1, which bounds an honest size trailer.
constexpr uint64_t kMaxDeflateRatio = 1032;

struct CompressorDeleter {
  void operator()(libdeflate_compressor* c) const { libdeflate_free_compressor(c); }
};
struct DecompressorDeleter {
  void operator()(libdeflate_decompressor* d) const { libdeflate_free_decompressor(d); }
};

// libdeflate (de)compressors are not thread-safe but cheap to keep: one per thread (and level).
libdeflate_compressor* ThreadCompressor(int level) {
  thread_local std::array<std::unique_ptr<libdeflate_compressor, CompressorDeleter>, 10> cache;
  auto& slot = cache[static_cast<size_t>(level)];
  if (!slot) slot.reset(libdeflate_alloc_compressor(level));
  return slot.get();
}

libdeflate_decompressor* ThreadDecompressor() {
  thread_local std::unique_ptr<libdeflate_decompressor, DecompressorDeleter> d(
      libdeflate_alloc_decompressor());
  return d.get();
}

}  // namespace

Result<std::shared_ptr<const GzipCodec>> GzipCodec::FromJson(const nlohmann::json& configuration,
                                                             const BytesCodecContext& context) {
  NIMBUS_RETURN_IF_ERROR(codec_internal::CheckMembers(configuration, "gzip", {"level"}));
  NIMBUS_ASSIGN_OR_RETURN(std::optional<int64_t> level,
                          codec_internal::OptionalInt(configuration, "gzip", "level", 0, 9));
  return std::make_shared<const GzipCodec>(static_cast<int>(level.value_or(kDefaultLevel)),
                                           context.decoded_size);
}

Result<Buffer> GzipCodec::Encode(Buffer bytes) const {
  libdeflate_compressor* compressor = ThreadCompressor(level_);
  if (compressor == nullptr) return PermanentError("gzip: out of memory for the compressor");
  Buffer out = Buffer::Allocate(libdeflate_gzip_compress_bound(compressor, bytes.size()));
  size_t n =
      libdeflate_gzip_compress(compressor, bytes.data(), bytes.size(), out.data(), out.size());
  if (n == 0) return PermanentError("gzip: compression failed");
  out.Resize(n);
  return out;
}

Result<Buffer> GzipCodec::Decode(Buffer bytes) const {
  libdeflate_decompressor* decompressor = ThreadDecompressor();
  if (decompressor == nullptr) return PermanentError("gzip: out of memory for the decompressor");
  if (bytes.size() < kMinGzipMember) {
    return CorruptError("gzip",
                        std::to_string(bytes.size()) + " bytes is too short for a gzip member");
  }
  const bool exact = decoded_size_.has_value();
  const uint64_t limit = exact ? *decoded_size_ : codec_internal::kMaxUnknownDecodedSize;
  const auto* in = reinterpret_cast<const unsigned char*>(bytes.data());
  const size_t in_size = bytes.size();

  // Output capacity: the expected size when known; otherwise the last member's ISIZE trailer
  // (size mod 2^32) as a hint, trusted only as far as deflate can expand, then grown on demand.
  uint64_t capacity = limit;
  if (!exact) {
    uint64_t isize = 0;
    for (int i = 3; i >= 0; --i) isize = (isize << 8) | in[in_size - 4 + static_cast<size_t>(i)];
    capacity = std::min({std::max<uint64_t>(isize, 1024), in_size * kMaxDeflateRatio, limit});
  }
  Buffer out = Buffer::Allocate(capacity);
  size_t in_pos = 0;
  size_t out_pos = 0;
  while (in_pos < in_size) {
    // Zero padding after the last member is tolerated, as Python's gzip module does.
    if (out_pos > 0 &&
        std::all_of(in + in_pos, in + in_size, [](unsigned char c) { return c == 0; })) {
      break;
    }
    size_t in_used = 0;
    size_t out_used = 0;
    libdeflate_result r = libdeflate_gzip_decompress_ex(decompressor, in + in_pos, in_size - in_pos,
                                                        out.data() + out_pos, out.size() - out_pos,
                                                        &in_used, &out_used);
    if (r == LIBDEFLATE_SUCCESS) {
      in_pos += in_used;
      out_pos += out_used;
      continue;
    }
    if (r != LIBDEFLATE_INSUFFICIENT_SPACE) {
      return CorruptError("gzip", "corrupt or truncated data");
    }
    if (out.size() >= limit) {
      return CorruptError(
          "gzip", "decompressed data exceeds " + codec_internal::SizeLimitText(limit, exact));
    }
    // Retry this member with twice the room; only the finished members' bytes are kept.
    uint64_t grown = std::min<uint64_t>(limit, std::max<uint64_t>(out.size() * 2, 1 << 16));
    out.Resize(out_pos);
    out.Resize(grown);
  }
  out.Resize(out_pos);
  NIMBUS_RETURN_IF_ERROR(codec_internal::CheckDecodedSize("gzip", out.size(), decoded_size_));
  return out;
}

}  // namespace nimbus::zarr
