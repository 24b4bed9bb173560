// gzip (bytes -> bytes) on libdeflate: configuration {"level": 0-9}. Writes one gzip member (what
// Python's gzip module reads); reads any number of concatenated members.
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

class GzipCodec : public BytesToBytesCodec {
 public:
  static constexpr int kDefaultLevel = 5;  // zarr-python's default

  static Result<std::shared_ptr<const GzipCodec>> FromJson(const nlohmann::json& configuration,
                                                           const BytesCodecContext& context);
  GzipCodec(int level, std::optional<uint64_t> decoded_size)
      : level_(level), decoded_size_(decoded_size) {}

  std::string name() const override { return "gzip"; }
  nlohmann::json ToJson() const override {
    return {{"name", "gzip"}, {"configuration", {{"level", level_}}}};
  }
  Result<Buffer> Encode(Buffer bytes) const override;
  Result<Buffer> Decode(Buffer bytes) const override;

  int level() const { return level_; }

 private:
  int level_;
  std::optional<uint64_t> decoded_size_;
};

}  // namespace nimbus::zarr
