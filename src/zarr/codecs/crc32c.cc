#include "zarr/codecs/crc32c.h"

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

#include "zarr/codecs/config.h"

namespace nimbus::zarr {
namespace {

constexpr uint32_t kPolynomial = 0x82F63B78;  // Castagnoli, bit-reversed

// kTables[k][b]: CRC of byte b followed by k zero bytes, so eight table lookups advance the CRC
// over eight input bytes at once (slicing-by-8).
constexpr std::array<std::array<uint32_t, 256>, 8> MakeTables() {
  std::array<std::array<uint32_t, 256>, 8> tables{};
  for (uint32_t b = 0; b < 256; ++b) {
    uint32_t crc = b;
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ ((crc & 1) ? kPolynomial : 0);
    tables[0][b] = crc;
  }
  for (uint32_t b = 0; b < 256; ++b) {
    for (size_t k = 1; k < 8; ++k) {
      uint32_t prev = tables[k - 1][b];
      tables[k][b] = (prev >> 8) ^ tables[0][prev & 0xFF];
    }
  }
  return tables;
}

constexpr auto kTables = MakeTables();

uint64_t LoadLittle64(const unsigned char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];  // compiles to one load on little-endian
  return v;
}

uint32_t UpdatePortable(uint32_t crc, const unsigned char* p, size_t n) {
  while (n >= 8) {
    uint64_t word = LoadLittle64(p) ^ crc;
    crc = kTables[7][word & 0xFF] ^ kTables[6][(word >> 8) & 0xFF] ^
          kTables[5][(word >> 16) & 0xFF] ^ kTables[4][(word >> 24) & 0xFF] ^
          kTables[3][(word >> 32) & 0xFF] ^ kTables[2][(word >> 40) & 0xFF] ^
          kTables[1][(word >> 48) & 0xFF] ^ kTables[0][word >> 56];
    p += 8;
    n -= 8;
  }
  while (n-- > 0) crc = (crc >> 8) ^ kTables[0][(crc ^ *p++) & 0xFF];
  return crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) uint32_t UpdateSse42(uint32_t crc, const unsigned char* p,
                                                       size_t n) {
  uint64_t crc64 = crc;
  while (n >= 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);
    crc64 = _mm_crc32_u64(crc64, word);
    p += 8;
    n -= 8;
  }
  crc = static_cast<uint32_t>(crc64);
  while (n-- > 0) crc = _mm_crc32_u8(crc, *p++);
  return crc;
}

bool HaveSse42() {
  static const bool have = __builtin_cpu_supports("sse4.2");
  return have;
}
#endif

}  // namespace

uint32_t Crc32cPortable(const void* data, size_t size, uint32_t crc) {
  return ~UpdatePortable(~crc, static_cast<const unsigned char*>(data), size);
}

uint32_t Crc32c(const void* data, size_t size, uint32_t crc) {
#if defined(__x86_64__)
  if (HaveSse42()) return ~UpdateSse42(~crc, static_cast<const unsigned char*>(data), size);
#endif
  return Crc32cPortable(data, size, crc);
}

Result<std::shared_ptr<const Crc32cCodec>> Crc32cCodec::FromJson(
    const nlohmann::json& configuration) {
  NIMBUS_RETURN_IF_ERROR(codec_internal::CheckMembers(configuration, "crc32c", {}));
  return std::make_shared<const Crc32cCodec>();
}

Result<Buffer> Crc32cCodec::Encode(Buffer bytes) const {
  uint32_t crc = Crc32c(bytes.data(), bytes.size());
  unsigned char trailer[kChecksumSize];
  for (size_t i = 0; i < kChecksumSize; ++i)
    trailer[i] = static_cast<unsigned char>(crc >> (8 * i));
  bytes.Append(trailer, kChecksumSize);
  return bytes;
}

Result<Buffer> Crc32cCodec::Decode(Buffer bytes) const {
  if (bytes.size() < kChecksumSize) {
    return codec_internal::CorruptError(
        "crc32c", std::to_string(bytes.size()) + " bytes is too short to hold a checksum");
  }
  size_t payload = bytes.size() - kChecksumSize;
  const auto* trailer = reinterpret_cast<const unsigned char*>(bytes.data() + payload);
  uint32_t stored = 0;
  for (size_t i = 0; i < kChecksumSize; ++i) stored |= uint32_t{trailer[i]} << (8 * i);
  if (Crc32c(bytes.data(), payload) != stored) return PermanentError("crc32c checksum mismatch");
  bytes.Resize(payload);
  return bytes;
}

}  // namespace nimbus::zarr
