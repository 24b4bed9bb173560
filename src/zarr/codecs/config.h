// Helpers shared by the codec implementations: reading a codec's "configuration" object with
// errors that name the codec and the member, and the size limits decoders respect.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace nimbus::zarr::codec_internal {

// Decoders that cannot know their output size (variable-length chunks, a compressor after a
// compressor) refuse to produce more than this; growth follows the data actually produced, so a
// lying size field never makes us allocate more than the input really expands to.
inline constexpr uint64_t kMaxUnknownDecodedSize = uint64_t{1} << 31;

// kInvalidArgument "codec 'gzip': configuration member 'level' <problem>".
Status MemberError(std::string_view codec, std::string_view member, std::string_view problem);

// Checks that `configuration` is an object (null counts as empty) whose members are all in
// `allowed`: zarr-python rejects unknown members too, so a typo does not silently do nothing.
Status CheckMembers(const nlohmann::json& configuration, std::string_view codec,
                    std::initializer_list<std::string_view> allowed);

// Members that may be absent (nullopt); present with the wrong type or out of range is an error.
Result<std::optional<int64_t>> OptionalInt(const nlohmann::json& configuration,
                                           std::string_view codec, const char* member, int64_t min,
                                           int64_t max);
Result<std::optional<std::string>> OptionalString(const nlohmann::json& configuration,
                                                  std::string_view codec, const char* member);
Result<std::optional<bool>> OptionalBool(const nlohmann::json& configuration,
                                         std::string_view codec, const char* member);

// A JSON integer >= 0 (nlohmann types literal ints as signed and parsed ones as unsigned).
bool AsUnsigned(const nlohmann::json& j, uint64_t* out);

// Decoding errors are kPermanent: the stored bytes are bad and retrying will not help.
Status CorruptError(std::string_view codec, std::string_view problem);

// When the chain fixes the decoded size, anything else is corrupt data (a clear message here
// beats a confusing one from the next codec).
Status CheckDecodedSize(std::string_view codec, uint64_t actual, std::optional<uint64_t> expected);

// "expected size N" phrase for messages, or "a size limit of N" when only the cap is known.
std::string SizeLimitText(uint64_t limit, bool exact);

}  // namespace nimbus::zarr::codec_internal
