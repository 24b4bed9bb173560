#include "active/decode.h"

#include <libdeflate.h>

#include <algorithm>
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

namespace {

#if defined(__GNUC__) && !defined(__clang__)
#define NIMBUS_ACTIVE_VECTOR_UNSHUFFLE 1
// Byte planes back to elements by interleaving 16-byte vectors (a byte transpose): bytes of two
// planes, then 16-bit pairs, then 32-bit quads, as SSE2 unpack or NEON zip instructions. GCC
// vector extensions; other compilers take the byte loop below.
typedef uint8_t V8 __attribute__((vector_size(16)));
typedef uint16_t V16 __attribute__((vector_size(16)));
typedef uint32_t V32 __attribute__((vector_size(16)));
inline V8 Load16(const unsigned char* p) {
  V8 v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}
template <typename V>
inline void Store16(unsigned char* p, V v) {
  std::memcpy(p, &v, sizeof(v));
}
inline V8 Lo8(V8 a, V8 b) {
  return __builtin_shuffle(a, b, V8{0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23});
}
inline V8 Hi8(V8 a, V8 b) {
  return __builtin_shuffle(a, b, V8{8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31});
}
inline V16 Lo16(V16 a, V16 b) { return __builtin_shuffle(a, b, V16{0, 8, 1, 9, 2, 10, 3, 11}); }
inline V16 Hi16(V16 a, V16 b) { return __builtin_shuffle(a, b, V16{4, 12, 5, 13, 6, 14, 7, 15}); }
inline V32 Lo32(V32 a, V32 b) { return __builtin_shuffle(a, b, V32{0, 4, 1, 5}); }
inline V32 Hi32(V32 a, V32 b) { return __builtin_shuffle(a, b, V32{2, 6, 3, 7}); }

// Unshuffles the first count - count % 16 elements of element_size 2, 4 or 8; returns how many.
size_t UnshuffleVectors(const unsigned char* src, unsigned char* dst, size_t count,
                        size_t element_size) {
  size_t i = 0;
  if (element_size == 2) {
    for (; i + 16 <= count; i += 16) {
      V8 a = Load16(src + i), b = Load16(src + count + i);
      Store16(dst + 2 * i, Lo8(a, b));
      Store16(dst + 2 * i + 16, Hi8(a, b));
    }
  } else if (element_size == 4) {
    for (; i + 16 <= count; i += 16) {
      V8 a = Load16(src + i), b = Load16(src + count + i);
      V8 c = Load16(src + 2 * count + i), d = Load16(src + 3 * count + i);
      V16 abl = V16(Lo8(a, b)), abh = V16(Hi8(a, b)), cdl = V16(Lo8(c, d)), cdh = V16(Hi8(c, d));
      unsigned char* o = dst + 4 * i;
      Store16(o, Lo16(abl, cdl));
      Store16(o + 16, Hi16(abl, cdl));
      Store16(o + 32, Lo16(abh, cdh));
      Store16(o + 48, Hi16(abh, cdh));
    }
  } else if (element_size == 8) {
    for (; i + 16 <= count; i += 16) {
      V8 p[8];
      for (size_t j = 0; j < 8; ++j) p[j] = Load16(src + j * count + i);
      V16 l01 = V16(Lo8(p[0], p[1])), h01 = V16(Hi8(p[0], p[1]));
      V16 l23 = V16(Lo8(p[2], p[3])), h23 = V16(Hi8(p[2], p[3]));
      V16 l45 = V16(Lo8(p[4], p[5])), h45 = V16(Hi8(p[4], p[5]));
      V16 l67 = V16(Lo8(p[6], p[7])), h67 = V16(Hi8(p[6], p[7]));
      // Bytes 0-3 (a) and 4-7 (b) of elements i..i+15, four elements per vector.
      V32 a0 = V32(Lo16(l01, l23)), a1 = V32(Hi16(l01, l23));
      V32 a2 = V32(Lo16(h01, h23)), a3 = V32(Hi16(h01, h23));
      V32 b0 = V32(Lo16(l45, l67)), b1 = V32(Hi16(l45, l67));
      V32 b2 = V32(Lo16(h45, h67)), b3 = V32(Hi16(h45, h67));
      unsigned char* o = dst + 8 * i;
      Store16(o, Lo32(a0, b0));
      Store16(o + 16, Hi32(a0, b0));
      Store16(o + 32, Lo32(a1, b1));
      Store16(o + 48, Hi32(a1, b1));
      Store16(o + 64, Lo32(a2, b2));
      Store16(o + 80, Hi32(a2, b2));
      Store16(o + 96, Lo32(a3, b3));
      Store16(o + 112, Hi32(a3, b3));
    }
  }
  return i;
}
#endif

}  // namespace

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
  size_t done = 0;
#ifdef NIMBUS_ACTIVE_VECTOR_UNSHUFFLE
  // The common widths as a vector byte transpose (~3x the byte loop); the byte loop finishes.
  if (element_size == 2 || element_size == 4 || element_size == 8) {
    done = UnshuffleVectors(src, dst, count, element_size);
  }
#endif
  // Byte plane j holds byte j of every element: gather them back element by element. Blocks of
  // elements keep both the planes being read and the output being written in cache.
  constexpr size_t kBlock = 4096;
  for (size_t begin = done; begin < count; begin += kBlock) {
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
