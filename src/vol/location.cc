#include "vol/location.h"

#include <filesystem>
#include <optional>
#include <vector>

#include "core/strings.h"

namespace nimbus::vol {
namespace {

bool HasStoreScheme(std::string_view name) {
  for (std::string_view scheme : {"s3://", "az://", "file://", "memory://"}) {
    if (name.size() >= scheme.size() && AsciiLower(name.substr(0, scheme.size())) == scheme) {
      return true;
    }
  }
  return false;
}

// The file name as a key prefix: components joined by '/', no empty or "." components; ".." is
// refused (object stores have no parent directories, and it would escape the base).
Result<std::string> KeyPrefixOf(std::string_view name) {
  std::string out;
  size_t pos = 0;
  while (pos <= name.size()) {
    size_t slash = name.find('/', pos);
    std::string_view part =
        name.substr(pos, slash == std::string_view::npos ? std::string_view::npos : slash - pos);
    if (part == "..") {
      return InvalidArgumentError("file name '" + std::string(name) +
                                  "' contains '..', which object stores cannot resolve");
    }
    if (!part.empty() && part != ".") {
      if (!out.empty()) out += '/';
      out += part;
    }
    if (slash == std::string_view::npos) break;
    pos = slash + 1;
  }
  if (out.empty()) return InvalidArgumentError("file name '" + std::string(name) + "' is empty");
  return out;
}

std::string JoinUrl(std::string base, const std::string& key_prefix) {
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base + "/" + key_prefix;
}

}  // namespace

ConnectorInfo ConnectorInfo::FromString(std::string_view text) {
  ConnectorInfo info;
  info.text = std::string(TrimWhitespace(text));
  auto parsed = ParseConfigString(info.text);
  if (parsed.ok()) {
    info.settings = std::move(parsed).value();
  } else {
    info.parse_status = parsed.status().WithContext("nimbus connector configuration '" +
                                                    info.text + "'");
  }
  return info;
}

Result<FileLocation> ResolveFileLocation(std::string_view name, const ConnectorInfo* info,
                                         const EnvFn& env) {
  if (info != nullptr && !info->parse_status.ok()) return info->parse_status;
  FileLocation location;
  std::optional<std::string> base;
  if (info != nullptr) {
    location.settings = info->settings;
    if (auto it = location.settings.find("store"); it != location.settings.end()) {
      base = it->second;
      location.settings.erase(it);
    }
  }
  if (name.empty()) return InvalidArgumentError("empty file name");
  if (HasStoreScheme(name)) {
    location.store_url = std::string(name);
    return location;
  }
  if (!base) base = env("NIMBUS_STORE_URL");
  if (!base) {
    std::string platform = AsciiLower(env("STORAGE_PLATFORM").value_or("file"));
    std::optional<std::string> bucket = env("BUCKET_NAME");
    if (platform == "s3" || platform == "azure") {
      if (!bucket) {
        return InvalidArgumentError(
            "STORAGE_PLATFORM=" + env("STORAGE_PLATFORM").value_or("") +
            " needs BUCKET_NAME (the " + (platform == "s3" ? "bucket" : "container") +
            " that holds the files), or set NIMBUS_STORE_URL or the connector's store=URL");
      }
      base = (platform == "s3" ? "s3://" : "az://") + *bucket;
    } else if (platform == "file") {
      if (bucket) {
        base = *bucket;  // a directory
      } else {
        // No base: the name is a path, relative to the current directory.
        std::filesystem::path p{std::string(name)};
        std::error_code ec;
        if (p.is_relative()) p = std::filesystem::current_path(ec) / p;
        if (ec) return PermanentError("cannot resolve '" + std::string(name) + "': " + ec.message());
        std::string dir = p.lexically_normal().string();
        while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
        if (dir == "/") return InvalidArgumentError("file name '" + std::string(name) +
                                                    "' names the root directory");
        location.store_url = dir;
        return location;
      }
    } else {
      return InvalidArgumentError("STORAGE_PLATFORM='" + env("STORAGE_PLATFORM").value_or("") +
                                  "' is not one of S3, Azure, File");
    }
  }
  NIMBUS_ASSIGN_OR_RETURN(std::string key_prefix, KeyPrefixOf(name));
  location.store_url = JoinUrl(*base, key_prefix);
  return location;
}

}  // namespace nimbus::vol
