// crc32c (bytes -> bytes): appends the little-endian CRC-32C (Castagnoli) of the data; decoding
// verifies and strips it. Also the checksum function itself, for anyone who needs CRC-32C.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/buffer.h"
#include "core/status.h"
#include "zarr/codec.h"

namespace nimbus::zarr {

// CRC-32C of `size` bytes, continuing from `crc` (0 to start): Crc32c(b, Crc32c(a)) equals the
// CRC of a followed by b. Uses SSE4.2 when the CPU has it, slicing-by-8 tables otherwise.
uint32_t Crc32c(const void* data, size_t size, uint32_t crc = 0);
// The portable path alone (tests compare it with the hardware path).
uint32_t Crc32cPortable(const void* data, size_t size, uint32_t crc = 0);

class Crc32cCodec : public BytesToBytesCodec {
 public:
  static constexpr size_t kChecksumSize = 4;

  static Result<std::shared_ptr<const Crc32cCodec>> FromJson(const nlohmann::json& configuration);

  std::string name() const override { return "crc32c"; }
  nlohmann::json ToJson() const override { return {{"name", "crc32c"}}; }
  Result<Buffer> Encode(Buffer bytes) const override;
  // kPermanent "crc32c checksum mismatch" when the stored checksum is wrong.
  Result<Buffer> Decode(Buffer bytes) const override;
  std::optional<uint64_t> EncodedSize(uint64_t decoded_size) const override {
    return decoded_size + kChecksumSize;
  }
};

}  // namespace nimbus::zarr
