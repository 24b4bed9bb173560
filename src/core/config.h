// Settings as plain key/value pairs (from a VOL config string "k=v;k=v", a CLI, or a test) plus an
// injectable environment, so every resolution rule (explicit > environment > files > default) is
// testable without touching the real process environment.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace nimbus {

using ConfigMap = std::map<std::string, std::string, std::less<>>;

// Returns the variable's value, or nullopt when unset. Empty values count as unset.
using EnvFn = std::function<std::optional<std::string>(std::string_view)>;
EnvFn ProcessEnv();
EnvFn MapEnv(ConfigMap vars);

// Parses "key=value;key=value" (whitespace around keys/values trimmed; empty items ignored).
Result<ConfigMap> ParseConfigString(std::string_view text);

// Command-line settings: "--set a=1,b=2" and "--set a=1 --set b=2" are equivalent. A comma piece
// without '=' belongs to the previous value, so values containing commas pass through. Adds to
// `config`; the error quotes the offending argument.
Status ParseSetArguments(const std::vector<std::string>& sets, ConfigMap* config);

// Typed readers with clear errors naming the key ("max_connections: expected an integer, got 'x'").
Result<bool> ParseBool(std::string_view key, std::string_view value);  // true/false/1/0/yes/no/on/off
Result<long long> ParseInt(std::string_view key, std::string_view value);

}  // namespace nimbus
