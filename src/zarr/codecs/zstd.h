// zstd (bytes -> bytes) on libzstd: configuration {"level": int, "checksum": bool}. Writes one
// frame with the content size; reads any frames, including ones without a content size.
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

class ZstdCodec : public BytesToBytesCodec {
 public:
  static Result<std::shared_ptr<const ZstdCodec>> FromJson(const nlohmann::json& configuration,
                                                           const BytesCodecContext& context);
  ZstdCodec(int level, bool checksum, std::optional<uint64_t> decoded_size)
      : level_(level), checksum_(checksum), decoded_size_(decoded_size) {}

  std::string name() const override { return "zstd"; }
  nlohmann::json ToJson() const override {
    return {{"name", "zstd"}, {"configuration", {{"level", level_}, {"checksum", checksum_}}}};
  }
  Result<Buffer> Encode(Buffer bytes) const override;
  Result<Buffer> Decode(Buffer bytes) const override;

  int level() const { return level_; }
  bool checksum() const { return checksum_; }

 private:
  // Decodes frames whose total size is not known up front, growing the output up to `limit`.
  Result<Buffer> DecodeStreaming(const Buffer& bytes, uint64_t initial_capacity, uint64_t limit,
                                 bool exact) const;

  int level_;
  bool checksum_;
  std::optional<uint64_t> decoded_size_;
};

}  // namespace nimbus::zarr
