#include "zarr/codecs/config.h"

#include <algorithm>

namespace nimbus::zarr::codec_internal {
namespace {

const nlohmann::json* FindMember(const nlohmann::json& configuration, const char* member) {
  if (!configuration.is_object()) return nullptr;
  auto it = configuration.find(member);
  return it == configuration.end() ? nullptr : &*it;
}

}  // namespace

Status MemberError(std::string_view codec, std::string_view member, std::string_view problem) {
  std::string m = "codec '";
  m += codec;
  m += "': configuration member '";
  m += member;
  m += "' ";
  m += problem;
  return InvalidArgumentError(std::move(m));
}

Status CheckMembers(const nlohmann::json& configuration, std::string_view codec,
                    std::initializer_list<std::string_view> allowed) {
  if (configuration.is_null()) return Status::Ok();
  if (!configuration.is_object()) {
    return InvalidArgumentError("codec '" + std::string(codec) +
                                "': configuration must be an object, got " + configuration.dump());
  }
  for (const auto& [key, value] : configuration.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      return InvalidArgumentError("codec '" + std::string(codec) +
                                  "': unknown configuration member '" + key + "'");
    }
  }
  return Status::Ok();
}

Result<std::optional<int64_t>> OptionalInt(const nlohmann::json& configuration,
                                           std::string_view codec, const char* member, int64_t min,
                                           int64_t max) {
  const nlohmann::json* value = FindMember(configuration, member);
  if (value == nullptr) return std::optional<int64_t>();
  bool in_range = false;
  int64_t v = 0;
  if (value->is_number_unsigned()) {
    uint64_t u = value->get<uint64_t>();
    in_range = u <= static_cast<uint64_t>(max) && (min <= 0 || u >= static_cast<uint64_t>(min));
    v = static_cast<int64_t>(u);
  } else if (value->is_number_integer()) {
    v = value->get<int64_t>();
    in_range = v >= min && v <= max;
  }
  if (!in_range) {
    return MemberError(codec, member,
                       "must be an integer from " + std::to_string(min) + " to " +
                           std::to_string(max) + ", got " + value->dump());
  }
  return std::optional<int64_t>(v);
}

Result<std::optional<std::string>> OptionalString(const nlohmann::json& configuration,
                                                  std::string_view codec, const char* member) {
  const nlohmann::json* value = FindMember(configuration, member);
  if (value == nullptr) return std::optional<std::string>();
  if (!value->is_string()) {
    return MemberError(codec, member, "must be a string, got " + value->dump());
  }
  return std::optional<std::string>(value->get<std::string>());
}

Result<std::optional<bool>> OptionalBool(const nlohmann::json& configuration,
                                         std::string_view codec, const char* member) {
  const nlohmann::json* value = FindMember(configuration, member);
  if (value == nullptr) return std::optional<bool>();
  if (!value->is_boolean()) {
    return MemberError(codec, member, "must be true or false, got " + value->dump());
  }
  return std::optional<bool>(value->get<bool>());
}

bool AsUnsigned(const nlohmann::json& j, uint64_t* out) {
  if (j.is_number_unsigned()) {
    *out = j.get<uint64_t>();
    return true;
  }
  if (j.is_number_integer() && j.get<int64_t>() >= 0) {
    *out = static_cast<uint64_t>(j.get<int64_t>());
    return true;
  }
  return false;
}

Status CorruptError(std::string_view codec, std::string_view problem) {
  std::string m(codec);
  m += ": ";
  m += problem;
  return PermanentError(std::move(m));
}

Status CheckDecodedSize(std::string_view codec, uint64_t actual, std::optional<uint64_t> expected) {
  if (!expected.has_value() || actual == *expected) return Status::Ok();
  return CorruptError(codec, "decompressed to " + std::to_string(actual) + " bytes, expected " +
                                 std::to_string(*expected));
}

std::string SizeLimitText(uint64_t limit, bool exact) {
  return (exact ? "the expected size of " : "the size limit of ") + std::to_string(limit) +
         " bytes";
}

}  // namespace nimbus::zarr::codec_internal
