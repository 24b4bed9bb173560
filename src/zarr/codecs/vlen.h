// vlen-utf8 and vlen-bytes (array -> bytes) for the variable-length data types "string" and
// "variable_length_bytes", in numcodecs' VLenUTF8/VLenBytes format: a little-endian u32 element
// count, then for each element in C order a little-endian u32 byte length and the bytes.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "core/buffer.h"
#include "core/status.h"
#include "zarr/chunk.h"
#include "zarr/codec.h"

namespace nimbus::zarr {

// Whether `text` is well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF),
// which is what Python's decoder accepts.
bool IsValidUtf8(std::string_view text);

class VlenCodec : public ArrayToBytesCodec {
 public:
  enum class Kind { kUtf8, kBytes };

  // Refuses data types other than "string" (vlen-utf8) / "variable_length_bytes" (vlen-bytes).
  static Result<std::shared_ptr<const VlenCodec>> FromJson(Kind kind,
                                                           const nlohmann::json& configuration,
                                                           const ChunkSpec& spec);
  explicit VlenCodec(Kind kind) : kind_(kind) {}

  std::string name() const override { return kind_ == Kind::kUtf8 ? "vlen-utf8" : "vlen-bytes"; }
  nlohmann::json ToJson() const override {
    return {{"name", name()}, {"configuration", nlohmann::json::object()}};
  }
  Result<Buffer> Encode(const ChunkArray& chunk, const ChunkSpec& spec) const override;
  Result<ChunkArray> Decode(Buffer bytes, const ChunkSpec& spec) const override;

 private:
  Kind kind_;
};

}  // namespace nimbus::zarr
