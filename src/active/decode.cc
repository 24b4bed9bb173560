#include "active/decode.h"

#include <libdeflate.h>

#include <cstring>
#include <memory>

#include "active/problem.h"
#include "zarr/codecs/blosc.h"
#include "zarr/codecs/zstd.h"

namespace nimbus::active {
namespace {

Status DecompressError(std::string_view codec, std::string_view why) {
  return MakeProblem(400, "failed to decompress data",
                     {std::string(codec) + ": " + std::string(why)});
}

struct DecompressorDeleter {
  void operator()(libdeflate_decompressor* d) const { libdeflate_free_decompressor(d); }
};

libdeflate_decompressor* ThreadDecompressor() {
  thread_local std::unique_ptr<libdeflate_decompressor, DecompressorDeleter> d(
      libdeflate_alloc_decompressor());
  return d.get();
}

// gzip (RFC 1952, members concatenated) and zlib (RFC 1950) through libdeflate. With a known
// size the output is allocated once; otherwise it doubles up to `limit`.
Result<Buffer> Inflate(bool gzip, const Buffer& in, std::optional<uint64_t> expected,
                       uint64_t limit) {
  libdeflate_decompressor* d = ThreadDecompressor();
  if (d == nullptr) return PermanentError("out of memory for a decompressor");
  std::string_view codec = gzip ? "gzip" : "zlib";
  uint64_t capacity = expected ? *expected : std::min<uint64_t>(limit, std::max<uint64_t>(
                                                                        in.size() * 4, 1 << 16));
  Buffer out = Buffer::Allocate(std::max<uint64_t>(capacity, 1));
  size_t in_pos = 0;
  size_t out_pos = 0;
  const auto* src = reinterpret_cast<const unsigned char*>(in.data());
  while (true) {
    size_t in_used = 0;
    size_t out_used = 0;
    libdeflate_result r =
        gzip ? libdeflate_gzip_decompress_ex(d, src + in_pos, in.size() - in_pos,
                                             out.data() + out_pos, capacity - out_pos, &in_used,
                                             &out_used)
             : libdeflate_zlib_decompress_ex(d, src + in_pos, in.size() - in_pos,
                                             out.data() + out_pos, capacity - out_pos, &in_used,
                                             &out_used);
    if (r == LIBDEFLATE_SUCCESS) {
      in_pos += in_used;
      out_pos += out_used;
      // Further gzip members follow when bytes remain (zero padding ends the stream).
      bool more = gzip && in_pos < in.size() && src[in_pos] == 0x1f;
      if (!more) break;
      continue;
    }
    if (r != LIBDEFLATE_INSUFFICIENT_SPACE) return DecompressError(codec, "corrupt or truncated data");
    if (expected) {
      return DecompressError(codec, "data decompresses to more than the " +
                                        std::to_string(*expected) + " bytes the shape describes");
    }
    if (capacity >= limit) {
      return DecompressError(codec, "data decompresses to more than the memory limit (" +
                                        std::to_string(limit) + " bytes)");
    }
    capacity = std::min<uint64_t>(limit, capacity * 2);
    out.Resize(out_pos);
    out.Resize(capacity);
  }
  out.Resize(out_pos);
  return out;
}

}  // namespace

Result<Buffer> Decompress(Compression compression, Buffer compressed,
                          std::optional<uint64_t> expected_size, uint64_t limit) {
  switch (compression) {
    case Compression::kNone: return compressed;
    case Compression::kGzip: return Inflate(true, compressed, expected_size, limit);
    case Compression::kZlib: return Inflate(false, compressed, expected_size, limit);
    case Compression::kZstd: {
      zarr::ZstdCodec codec(0, false, expected_size);
      auto out = codec.Decode(std::move(compressed));
      if (!out.ok()) return DecompressError("zstd", out.status().message());
      if (!expected_size && out->size() > limit) {
        return DecompressError("zstd", "data decompresses to more than the memory limit");
      }
      return out;
    }
    case Compression::kBlosc: {
      zarr::BloscCodec codec(zarr::BloscCodec::Options{}, expected_size);
      auto out = codec.Decode(std::move(compressed));
      if (!out.ok()) return DecompressError("blosc", out.status().message());
      if (!expected_size && out->size() > limit) {
        return DecompressError("blosc", "data decompresses to more than the memory limit");
      }
      return out;
    }
    case Compression::kBlosc2:
      return MakeProblem(400, "failed to decompress data",
                         {"blosc2: this nimbus-active was built without c-blosc2 (Debian 12 has "
                          "no libblosc2); use gzip, zlib, zstd or blosc"});
  }
  return compressed;
}

Result<Buffer> Unshuffle(Buffer shuffled, uint64_t element_size) {
  if (element_size <= 1) return shuffled;
  const size_t n = shuffled.size();
  if (n % element_size != 0) {
    return MakeProblem(400, "failed to apply filter",
                       {"shuffle: data length " + std::to_string(n) +
                        " is not a multiple of element_size " + std::to_string(element_size)});
  }
  const size_t count = n / element_size;
  Buffer out = Buffer::Allocate(n);
  const auto* src = reinterpret_cast<const unsigned char*>(shuffled.data());
  auto* dst = reinterpret_cast<unsigned char*>(out.data());
  // Byte plane j holds byte j of every element: gather them back element by element. Blocks of
  // elements keep both the planes being read and the output being written in cache.
  constexpr size_t kBlock = 4096;
  for (size_t begin = 0; begin < count; begin += kBlock) {
    size_t end = std::min(count, begin + kBlock);
    for (size_t j = 0; j < element_size; ++j) {
      const unsigned char* plane = src + j * count;
      for (size_t i = begin; i < end; ++i) dst[i * element_size + j] = plane[i];
    }
  }
  return out;
}

Buffer Shuffle(const Buffer& plain, uint64_t element_size) {
  const size_t count = plain.size() / element_size;
  Buffer out = Buffer::Allocate(plain.size());
  for (size_t i = 0; i < count; ++i) {
    for (size_t j = 0; j < element_size; ++j) {
      out.data()[j * count + i] = plain.data()[i * element_size + j];
    }
  }
  return out;
}

void ByteSwapInPlace(Buffer& data, size_t element_size) {
  const size_t n = data.size() / std::max<size_t>(element_size, 1);
  switch (element_size) {
    case 2: {
      auto* p = reinterpret_cast<uint16_t*>(data.data());
      for (size_t i = 0; i < n; ++i) p[i] = __builtin_bswap16(p[i]);
      break;
    }
    case 4: {
      auto* p = reinterpret_cast<uint32_t*>(data.data());
      for (size_t i = 0; i < n; ++i) p[i] = __builtin_bswap32(p[i]);
      break;
    }
    case 8: {
      auto* p = reinterpret_cast<uint64_t*>(data.data());
      for (size_t i = 0; i < n; ++i) p[i] = __builtin_bswap64(p[i]);
      break;
    }
    default: break;
  }
}

}  // namespace nimbus::active
