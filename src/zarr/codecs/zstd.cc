#include "zarr/codecs/zstd.h"

#include <zstd.h>

#include <algorithm>

#include "zarr/codecs/config.h"

namespace nimbus::zarr {
namespace {

using codec_internal::CorruptError;
using codec_internal::SizeLimitText;

struct CCtxDeleter {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct DCtxDeleter {
  void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};

// Contexts are not thread-safe but expensive to create: one per thread.
ZSTD_CCtx* ThreadCCtx() {
  thread_local std::unique_ptr<ZSTD_CCtx, CCtxDeleter> c(ZSTD_createCCtx());
  return c.get();
}

ZSTD_DCtx* ThreadDCtx() {
  thread_local std::unique_ptr<ZSTD_DCtx, DCtxDeleter> d(ZSTD_createDCtx());
  return d.get();
}

std::string ZstdErrorText(size_t code) { return ZSTD_getErrorName(code); }

// Sum of the content sizes of all frames (skippable frames count 0), ZSTD_CONTENTSIZE_UNKNOWN when
// a frame omits its size, ZSTD_CONTENTSIZE_ERROR when the data is not a sequence of frames.
unsigned long long TotalContentSize(const char* data, size_t size) {
  unsigned long long total = 0;
  bool unknown = false;
  while (size > 0) {
    unsigned long long content = ZSTD_getFrameContentSize(data, size);
    if (content == ZSTD_CONTENTSIZE_ERROR) return ZSTD_CONTENTSIZE_ERROR;
    size_t frame = ZSTD_findFrameCompressedSize(data, size);
    if (ZSTD_isError(frame) || frame == 0 || frame > size) return ZSTD_CONTENTSIZE_ERROR;
    if (content == ZSTD_CONTENTSIZE_UNKNOWN) {
      unknown = true;
    } else if (__builtin_add_overflow(total, content, &total)) {
      return ZSTD_CONTENTSIZE_ERROR;
    }
    data += frame;
    size -= frame;
  }
  return unknown ? ZSTD_CONTENTSIZE_UNKNOWN : total;
}

}  // namespace

Result<std::shared_ptr<const ZstdCodec>> ZstdCodec::FromJson(const nlohmann::json& configuration,
                                                             const BytesCodecContext& context) {
  NIMBUS_RETURN_IF_ERROR(
      codec_internal::CheckMembers(configuration, "zstd", {"level", "checksum"}));
  NIMBUS_ASSIGN_OR_RETURN(std::optional<int64_t> level,
                          codec_internal::OptionalInt(configuration, "zstd", "level",
                                                      ZSTD_minCLevel(), ZSTD_maxCLevel()));
  NIMBUS_ASSIGN_OR_RETURN(std::optional<bool> checksum,
                          codec_internal::OptionalBool(configuration, "zstd", "checksum"));
  return std::make_shared<const ZstdCodec>(static_cast<int>(level.value_or(0)),
                                           checksum.value_or(false), context.decoded_size);
}

Result<Buffer> ZstdCodec::Encode(Buffer bytes) const {
  ZSTD_CCtx* cctx = ThreadCCtx();
  if (cctx == nullptr) return PermanentError("zstd: out of memory for the compression context");
  ZSTD_CCtx_reset(cctx, ZSTD_reset_session_and_parameters);
  size_t r = ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level_);
  if (!ZSTD_isError(r)) r = ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, checksum_ ? 1 : 0);
  if (ZSTD_isError(r)) return PermanentError("zstd: " + ZstdErrorText(r));
  Buffer out = Buffer::Allocate(ZSTD_compressBound(bytes.size()));
  r = ZSTD_compress2(cctx, out.data(), out.size(), bytes.data(), bytes.size());
  if (ZSTD_isError(r)) return PermanentError("zstd: compression failed: " + ZstdErrorText(r));
  out.Resize(r);
  return out;
}

Result<Buffer> ZstdCodec::Decode(Buffer bytes) const {
  ZSTD_DCtx* dctx = ThreadDCtx();
  if (dctx == nullptr) return PermanentError("zstd: out of memory for the decompression context");
  if (bytes.empty()) return CorruptError("zstd", "empty input");
  const bool exact = decoded_size_.has_value();
  const uint64_t limit = exact ? *decoded_size_ : codec_internal::kMaxUnknownDecodedSize;
  // Sum of the frames' content sizes; unknown when any frame omits it.
  unsigned long long claimed = TotalContentSize(bytes.data(), bytes.size());
  if (claimed == ZSTD_CONTENTSIZE_ERROR) return CorruptError("zstd", "not valid zstd frames");
  if (claimed != ZSTD_CONTENTSIZE_UNKNOWN) {
    if (claimed > limit) {
      return CorruptError("zstd", "frames claim " + std::to_string(claimed) + " bytes, more than " +
                                      SizeLimitText(limit, exact));
    }
    // With an expected size the claim is bounded by it: decode in one shot (libzstd checks the
    // claim against the data). Without one, a claim is not trusted with a large allocation.
    if (exact || claimed <= (uint64_t{1} << 24)) {
      Buffer out = Buffer::Allocate(claimed);
      ZSTD_DCtx_reset(dctx, ZSTD_reset_session_and_parameters);
      size_t r = ZSTD_decompressDCtx(dctx, out.data(), out.size(), bytes.data(), bytes.size());
      if (ZSTD_isError(r)) return CorruptError("zstd", ZstdErrorText(r));
      out.Resize(r);
      NIMBUS_RETURN_IF_ERROR(codec_internal::CheckDecodedSize("zstd", out.size(), decoded_size_));
      return out;
    }
  }
  uint64_t initial =
      exact ? limit + 1
            : std::min<uint64_t>({limit + 1, std::max<uint64_t>(bytes.size() * 4, 1 << 16)});
  return DecodeStreaming(bytes, initial, limit, exact);
}

Result<Buffer> ZstdCodec::DecodeStreaming(const Buffer& bytes, uint64_t initial_capacity,
                                          uint64_t limit, bool exact) const {
  ZSTD_DCtx* dctx = ThreadDCtx();
  ZSTD_DCtx_reset(dctx, ZSTD_reset_session_and_parameters);
  // Capacity runs to limit + 1 so that output past the limit is seen, not mistaken for the end.
  Buffer out = Buffer::Allocate(std::max<uint64_t>(initial_capacity, 1));
  ZSTD_inBuffer in{bytes.data(), bytes.size(), 0};
  ZSTD_outBuffer sink{out.data(), out.size(), 0};
  while (true) {
    if (sink.pos == sink.size) {
      if (sink.size > limit) {
        return CorruptError("zstd", "decompressed data exceeds " + SizeLimitText(limit, exact));
      }
      uint64_t grown = std::min<uint64_t>(limit + 1, std::max<uint64_t>(sink.size * 2, 1 << 16));
      out.Resize(sink.pos);
      out.Resize(grown);
      sink.dst = out.data();
      sink.size = out.size();
    }
    size_t r = ZSTD_decompressStream(dctx, &sink, &in);
    if (ZSTD_isError(r)) return CorruptError("zstd", ZstdErrorText(r));
    if (r == 0 && in.pos == in.size) break;  // last frame complete, all input used
    if (in.pos == in.size && sink.pos < sink.size) {
      return CorruptError("zstd", "truncated frame");
    }
  }
  if (sink.pos > limit) {
    return CorruptError("zstd", "decompressed data exceeds " + SizeLimitText(limit, exact));
  }
  out.Resize(sink.pos);
  NIMBUS_RETURN_IF_ERROR(codec_internal::CheckDecodedSize("zstd", out.size(), decoded_size_));
  return out;
}

}  // namespace nimbus::zarr
