// Bytes -> bytes codecs of numcodecs that zarr-python 3 registers under the "numcodecs." prefix
// (zarr.codecs.numcodecs): nimbus writes them where an HDF5 filter has no Zarr core equivalent and
// reads them in arrays zarr-python wrote.
//
//   numcodecs.shuffle {"elementsize": n}: the byte shuffle HDF5's shuffle filter does: byte k of
//     every element is gathered into the k-th block. Input must be whole elements.
//   numcodecs.lz4 {"acceleration": a}: a 4-byte little-endian decoded size followed by one LZ4
//     block (LZ4_compress_fast with acceleration a), as numcodecs.LZ4 writes.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/buffer.h"
#include "core/status.h"
#include "zarr/codec.h"
#include "zarr/codecs/registry.h"

namespace nimbus::zarr {

class NumcodecsShuffleCodec : public BytesToBytesCodec {
 public:
  // A missing elementsize is the data type's item size (as zarr-python fills it in).
  static Result<std::shared_ptr<const NumcodecsShuffleCodec>> FromJson(
      const nlohmann::json& configuration, const BytesCodecContext& context);
  explicit NumcodecsShuffleCodec(uint64_t element_size) : element_size_(element_size) {}

  std::string name() const override { return "numcodecs.shuffle"; }
  nlohmann::json ToJson() const override {
    return {{"name", "numcodecs.shuffle"}, {"configuration", {{"elementsize", element_size_}}}};
  }
  Result<Buffer> Encode(Buffer bytes) const override;
  Result<Buffer> Decode(Buffer bytes) const override;
  std::optional<uint64_t> EncodedSize(uint64_t decoded_size) const override {
    return decoded_size;
  }

 private:
  Result<Buffer> Permute(Buffer bytes, bool shuffle) const;
  uint64_t element_size_;
};

class NumcodecsLz4Codec : public BytesToBytesCodec {
 public:
  static constexpr int kDefaultAcceleration = 1;  // numcodecs' default

  static Result<std::shared_ptr<const NumcodecsLz4Codec>> FromJson(
      const nlohmann::json& configuration, const BytesCodecContext& context);
  NumcodecsLz4Codec(int acceleration, std::optional<uint64_t> decoded_size)
      : acceleration_(acceleration), decoded_size_(decoded_size) {}

  std::string name() const override { return "numcodecs.lz4"; }
  nlohmann::json ToJson() const override {
    return {{"name", "numcodecs.lz4"}, {"configuration", {{"acceleration", acceleration_}}}};
  }
  Result<Buffer> Encode(Buffer bytes) const override;
  Result<Buffer> Decode(Buffer bytes) const override;

 private:
  int acceleration_;
  std::optional<uint64_t> decoded_size_;
};

}  // namespace nimbus::zarr
