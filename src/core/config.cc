#include "core/config.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <utility>
#include "core/strings.h"

namespace nimbus {
namespace {
}  // namespace

EnvFn ProcessEnv() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* v = std::getenv(std::string(name).c_str());
    if (v == nullptr || *v == '\0') return std::nullopt;
    return std::string(v);
  };
}

EnvFn MapEnv(ConfigMap vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end() || it->second.empty()) return std::nullopt;
    return it->second;
  };
}

Result<ConfigMap> ParseConfigString(std::string_view text) {
  ConfigMap out;
  while (!text.empty()) {
    size_t end = text.find(';');
    std::string_view item = TrimWhitespace(text.substr(0, end));
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    if (item.empty()) continue;
    size_t eq = item.find('=');
    if (eq == std::string_view::npos) {
      return InvalidArgumentError("configuration item '" + std::string(item) +
                                  "' is not of the form key=value");
    }
    std::string key(TrimWhitespace(item.substr(0, eq)));
    if (key.empty()) return InvalidArgumentError("configuration item '" + std::string(item) +
                                                 "' has an empty key");
    out[key] = std::string(TrimWhitespace(item.substr(eq + 1)));
  }
  return out;
}

Status ParseSetArguments(const std::vector<std::string>& sets, ConfigMap* config) {
  for (const std::string& set : sets) {
    std::string last_key;
    size_t start = 0;
    while (start <= set.size()) {
      size_t comma = set.find(',', start);
      if (comma == std::string::npos) comma = set.size();
      std::string_view piece(set.data() + start, comma - start);
      size_t eq = piece.find('=');
      if (eq == std::string_view::npos) {
        if (last_key.empty()) {
          return InvalidArgumentError("--set expects key=value, got '" + set + "'");
        }
        (*config)[last_key] += "," + std::string(piece);
      } else if (eq == 0) {
        return InvalidArgumentError("--set has an empty key in '" + set + "'");
      } else {
        last_key = std::string(piece.substr(0, eq));
        (*config)[last_key] = std::string(piece.substr(eq + 1));
      }
      start = comma + 1;
    }
  }
  return Status::Ok();
}

Result<bool> ParseBool(std::string_view key, std::string_view value) {
  std::string v = AsciiLower(TrimWhitespace(value));
  if (v == "true" || v == "1" || v == "yes" || v == "on") return true;
  if (v == "false" || v == "0" || v == "no" || v == "off") return false;
  return InvalidArgumentError(std::string(key) + ": expected true or false, got '" +
                              std::string(value) + "'");
}

Result<long long> ParseInt(std::string_view key, std::string_view value) {
  std::string v(TrimWhitespace(value));
  char* end = nullptr;
  errno = 0;
  long long n = std::strtoll(v.c_str(), &end, 10);
  if (v.empty() || end != v.c_str() + v.size() || errno != 0) {
    return InvalidArgumentError(std::string(key) + ": expected an integer, got '" +
                                std::string(value) + "'");
  }
  return n;
}

}  // namespace nimbus
