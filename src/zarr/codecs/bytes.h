// bytes (array -> bytes): the elements in C order with a fixed byte order. Configuration
// {"endian": "little"|"big"}, required exactly when the data type has an endianness.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/buffer.h"
#include "core/status.h"
#include "zarr/chunk.h"
#include "zarr/codec.h"

namespace nimbus::zarr {

// Reverses the byte order of every `swap_size`-byte unit in place (size must be a multiple).
void SwapBytesInPlace(char* data, size_t size, size_t swap_size);

class BytesCodec : public ArrayToBytesCodec {
 public:
  // kNone: single-byte (or unswappable) types, written as {"name": "bytes"}.
  enum class Endian { kNone, kLittle, kBig };

  static Result<std::shared_ptr<const BytesCodec>> FromJson(const nlohmann::json& configuration,
                                                            const ChunkSpec& spec);
  BytesCodec(Endian endian, size_t swap_size) : endian_(endian), swap_size_(swap_size) {}

  std::string name() const override { return "bytes"; }
  nlohmann::json ToJson() const override;
  Result<Buffer> Encode(const ChunkArray& chunk, const ChunkSpec& spec) const override;
  Result<ChunkArray> Decode(Buffer bytes, const ChunkSpec& spec) const override;
  // Encode for a chunk the caller gives up: its buffer becomes the output (swapped in place when
  // needed), saving a copy of the whole chunk.
  Result<Buffer> EncodeInPlace(ChunkArray chunk, const ChunkSpec& spec) const;
  std::optional<uint64_t> EncodedSize(const ChunkSpec& spec) const override {
    return spec.num_bytes();
  }

  Endian endian() const { return endian_; }
  // Encoded bytes equal the in-memory (native) bytes: no swapping either way.
  bool native() const { return !NeedsSwap(); }

 private:
  bool NeedsSwap() const;

  Endian endian_;
  size_t swap_size_;
};

}  // namespace nimbus::zarr
