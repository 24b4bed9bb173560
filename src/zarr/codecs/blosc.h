// blosc (bytes -> bytes) on c-blosc 1.x: configuration {"cname", "clevel", "shuffle", "typesize",
// "blocksize"}. Missing typesize/shuffle are derived from the data type as zarr-python does
// (typesize = item size; shuffle = bitshuffle for 1-byte items, else shuffle). Uses the _ctx API
// with one internal thread, so codecs may run on any number of threads at once.
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

class BloscCodec : public BytesToBytesCodec {
 public:
  enum class Shuffle { kNoShuffle = 0, kShuffle = 1, kBitShuffle = 2 };  // c-blosc's values

  struct Options {
    std::string cname = "zstd";
    int clevel = 5;
    Shuffle shuffle = Shuffle::kShuffle;
    uint64_t typesize = 1;
    uint64_t blocksize = 0;  // 0: c-blosc chooses
  };

  // An unknown cname is kInvalidArgument; a known one this c-blosc was built without is
  // kUnimplemented.
  static Result<std::shared_ptr<const BloscCodec>> FromJson(const nlohmann::json& configuration,
                                                            const BytesCodecContext& context);
  BloscCodec(Options options, std::optional<uint64_t> decoded_size)
      : options_(std::move(options)), decoded_size_(decoded_size) {}

  std::string name() const override { return "blosc"; }
  nlohmann::json ToJson() const override;
  Result<Buffer> Encode(Buffer bytes) const override;
  Result<Buffer> Decode(Buffer bytes) const override;

  const Options& options() const { return options_; }

 private:
  Options options_;
  std::optional<uint64_t> decoded_size_;
};

}  // namespace nimbus::zarr
