#include "store/s3/s3_settings.h"

#include <algorithm>
#include <cctype>
#include <climits>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <map>
#include <optional>
#include <sstream>
#include <utility>
#include "core/strings.h"

namespace nimbus::s3 {
namespace {

using Addressing = S3Settings::Addressing;

std::string Quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

// Env files kept verbatim by some loaders (docker --env-file) leave the quotes of
// AWS_S3_ADDRESSING_STYLE="path" in the value; a value never legitimately has both.
std::string Unquote(std::string_view s) {
  s = TrimWhitespace(s);
  if (s.size() >= 2 && (s.front() == '"' || s.front() == '\'') && s.back() == s.front()) {
    s = s.substr(1, s.size() - 2);
  }
  return std::string(s);
}

// ---------------------------------------------------------------------------------------------
// Shared config / credentials files.

using IniValues = std::map<std::string, std::string>;
using IniSections = std::map<std::string, IniValues>;

// Drops a comment that starts after whitespace ("value  # note"); AWS keys and tokens never hold
// "#" or ";" so this cannot eat part of a secret.
std::string_view StripInlineComment(std::string_view value) {
  for (size_t i = 1; i < value.size(); ++i) {
    if ((value[i] == '#' || value[i] == ';') &&
        std::isspace(static_cast<unsigned char>(value[i - 1]))) {
      return TrimWhitespace(value.substr(0, i));
    }
  }
  return value;
}

// AWS-style INI: "[section]", "key = value", full-line comments (# ;), and nested blocks
//   s3 =
//     addressing_style = path
// stored as "s3.addressing_style". Other lines indented deeper continue the previous value.
Result<IniSections> ParseIni(std::string_view text, const std::string& path) {
  IniSections sections;
  IniValues* section = nullptr;
  std::string parent_key;  // key of the value an indented line belongs to
  bool parent_is_block = false;
  size_t parent_indent = 0;
  int line_number = 0;
  while (!text.empty()) {
    size_t end = std::min(text.find('\n'), text.size());
    std::string_view raw = text.substr(0, end);
    text = end == text.size() ? std::string_view() : text.substr(end + 1);
    ++line_number;
    if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
    std::string_view line = TrimWhitespace(raw);
    auto error = [&](std::string_view what) {
      return InvalidArgumentError(path + ":" + std::to_string(line_number) + ": " +
                                  std::string(what) + ", got " + Quoted(line));
    };
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;

    // As in Python's configparser (which the AWS CLI uses), a line indented deeper than the
    // previous key belongs to that key; equally indented keys are siblings.
    size_t indent = raw.find_first_not_of(" \t");
    if (section != nullptr && !parent_key.empty() && indent > parent_indent) {
      if (parent_is_block) {
        size_t eq = line.find('=');
        if (eq == std::string_view::npos) return error("expected 'key = value' in a nested block");
        (*section)[parent_key + "." + AsciiLower(TrimWhitespace(line.substr(0, eq)))] =
            std::string(StripInlineComment(TrimWhitespace(line.substr(eq + 1))));
      } else {
        std::string& value = (*section)[parent_key];
        value += "\n";
        value += StripInlineComment(line);
      }
      continue;
    }

    if (line.front() == '[') {
      if (line.back() != ']') return error("expected a section header '[name]'");
      section = &sections[std::string(TrimWhitespace(line.substr(1, line.size() - 2)))];
      parent_key.clear();
      continue;
    }
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) return error("expected 'key = value'");
    if (section == nullptr) return error("expected a section header before the first key");
    parent_key = AsciiLower(TrimWhitespace(line.substr(0, eq)));
    parent_indent = indent;
    if (parent_key.empty()) return error("expected a key before '='");
    std::string value(StripInlineComment(TrimWhitespace(line.substr(eq + 1))));
    parent_is_block = value.empty();
    (*section)[parent_key] = std::move(value);
  }
  return sections;
}

// Reads a file that may legitimately be absent (nullopt); anything else unreadable is an error.
Result<std::optional<std::string>> ReadOptionalFile(const std::string& path) {
  std::error_code ec;
  auto status = std::filesystem::status(path, ec);
  if (status.type() == std::filesystem::file_type::not_found) {
    return std::optional<std::string>();
  }
  if (ec) return InvalidArgumentError("cannot access " + path + ": " + ec.message());
  if (std::filesystem::is_directory(status)) {
    return InvalidArgumentError(path + " is a directory, expected an AWS config file");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return InvalidArgumentError("cannot open " + path);
  std::ostringstream contents;
  contents << in.rdbuf();
  if (in.bad()) return InvalidArgumentError("cannot read " + path);
  return std::optional<std::string>(contents.str());
}

// One profile's keys, each with a description of where it was found.
struct Profile {
  struct Entry {
    std::string value;
    std::string origin;  // "<path> [section]"
  };
  std::map<std::string, Entry> entries;
  std::vector<std::string> files_read;  // for "profile not found" messages

  const Entry* Find(std::string_view key) const {
    auto it = entries.find(std::string(key));
    return it == entries.end() || it->second.value.empty() ? nullptr : &it->second;
  }
};

std::string ExpandHome(const std::string& path, const EnvFn& env) {
  if (path.starts_with("~/")) {
    if (auto home = env("HOME")) return *home + path.substr(1);
  }
  return path;
}

std::optional<std::string> FilePath(const EnvFn& env, std::string_view variable,
                                    std::string_view default_name) {
  if (auto path = env(variable)) return ExpandHome(Unquote(*path), env);
  if (auto home = env("HOME")) return *home + "/.aws/" + std::string(default_name);
  return std::nullopt;
}

// Loads `name` from the config file (sections "[default]" / "[profile name]") and then the
// credentials file (sections "[name]"), the latter winning key by key. Returns whether the profile
// was found in either.
Result<bool> LoadProfile(const EnvFn& env, const std::string& name, Profile& profile) {
  bool found = false;
  auto load = [&](std::optional<std::string> path, bool is_config) -> Status {
    if (!path) return Status::Ok();
    NIMBUS_ASSIGN_OR_RETURN(std::optional<std::string> text, ReadOptionalFile(*path));
    profile.files_read.push_back(*path);
    if (!text) return Status::Ok();
    NIMBUS_ASSIGN_OR_RETURN(IniSections sections, ParseIni(*text, *path));
    std::vector<std::string> section_names;
    if (is_config) {
      if (name == "default") section_names.push_back("default");
      section_names.push_back("profile " + name);
    } else {
      section_names.push_back(name);
    }
    for (const std::string& section_name : section_names) {
      auto it = sections.find(section_name);
      if (it == sections.end()) continue;
      found = true;
      for (const auto& [key, value] : it->second) {
        profile.entries[key] = {value, *path + " [" + section_name + "]"};
      }
    }
    return Status::Ok();
  };
  NIMBUS_RETURN_IF_ERROR(load(FilePath(env, "AWS_CONFIG_FILE", "config"), /*is_config=*/true));
  NIMBUS_RETURN_IF_ERROR(
      load(FilePath(env, "AWS_SHARED_CREDENTIALS_FILE", "credentials"), /*is_config=*/false));
  return found;
}

// ---------------------------------------------------------------------------------------------
// Looking a setting up in the three sources, keeping a label that names where it came from.

struct Setting {
  std::string value;
  std::string source;  // "addressing", "AWS_S3_ADDRESSING_STYLE", "<path> [profile x] region"
};

class Sources {
 public:
  Sources(const ConfigMap& config, const EnvFn& env, const Profile& profile)
      : config_(config), env_(env), profile_(profile) {}

  std::optional<Setting> Explicit(std::string_view key) const {
    auto it = config_.find(key);
    if (it == config_.end() || TrimWhitespace(it->second).empty()) return std::nullopt;
    return Setting{std::string(TrimWhitespace(it->second)), std::string(key)};
  }
  std::optional<Setting> Env(std::string_view name) const {
    std::optional<std::string> value = env_(name);
    if (!value || Unquote(*value).empty()) return std::nullopt;
    return Setting{Unquote(*value), std::string(name)};
  }
  std::optional<Setting> File(std::string_view key) const {
    const Profile::Entry* entry = profile_.Find(key);
    if (entry == nullptr) return std::nullopt;
    return Setting{entry->value, entry->origin + " " + std::string(key)};
  }
  // The first source that has the setting, in precedence order.
  std::optional<Setting> First(std::string_view explicit_key,
                               std::initializer_list<std::string_view> env_names,
                               std::initializer_list<std::string_view> file_keys) const {
    if (!explicit_key.empty()) {
      if (auto s = Explicit(explicit_key)) return s;
    }
    for (std::string_view name : env_names) {
      if (auto s = Env(name)) return s;
    }
    for (std::string_view key : file_keys) {
      if (auto s = File(key)) return s;
    }
    return std::nullopt;
  }

 private:
  const ConfigMap& config_;
  const EnvFn& env_;
  const Profile& profile_;
};

Result<Addressing> ParseAddressing(const Setting& s) {
  std::string v = AsciiLower(s.value);
  if (v == "path") return Addressing::kPath;
  if (v == "virtual") return Addressing::kVirtual;
  if (v == "auto") return Addressing::kAuto;
  return InvalidArgumentError(s.source + ": expected path, virtual or auto, got " +
                              Quoted(s.value));
}

Result<int> ParsePositiveInt(const Setting& s) {
  NIMBUS_ASSIGN_OR_RETURN(long long n, ParseInt(s.source, s.value));
  if (n <= 0 || n > INT_MAX) {
    return InvalidArgumentError(s.source + ": expected a positive integer, got " + Quoted(s.value));
  }
  return static_cast<int>(n);
}

// "67108864", "64M", "64MiB", "1g": binary multiples.
Result<uint64_t> ParseByteSize(const Setting& s) {
  std::string_view text = TrimWhitespace(s.value);
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  std::string suffix = AsciiLower(TrimWhitespace(text.substr(digits)));
  int shift = -1;
  if (suffix.empty() || suffix == "b") shift = 0;
  if (suffix == "k" || suffix == "kib") shift = 10;
  if (suffix == "m" || suffix == "mib") shift = 20;
  if (suffix == "g" || suffix == "gib") shift = 30;
  auto error = [&] {
    return InvalidArgumentError(s.source +
                                ": expected a positive size in bytes (K, M, G suffixes " +
                                "allowed), got " + Quoted(s.value));
  };
  if (digits == 0 || digits > 18 || shift < 0) return error();
  uint64_t n = std::stoull(std::string(text.substr(0, digits)));
  if (n == 0 || n > (UINT64_MAX >> shift)) return error();
  return n << shift;
}

Result<bool> ParseSettingBool(const Setting& s) { return ParseBool(s.source, s.value); }

// "host:9000" -> "https://host:9000" (per use_tls); "http://h/" -> "http://h". Sets *has_scheme.
Result<std::string> NormalizeEndpoint(const Setting& s, bool use_tls, bool* has_scheme) {
  std::string_view text = TrimWhitespace(s.value);
  std::string scheme;
  std::string_view authority = text;
  size_t separator = text.find("://");
  *has_scheme = separator != std::string_view::npos;
  if (*has_scheme) {
    scheme = AsciiLower(text.substr(0, separator));
    authority = text.substr(separator + 3);
    if (scheme != "http" && scheme != "https") {
      return InvalidArgumentError(s.source + ": unsupported scheme " + Quoted(scheme) + " in " +
                                  Quoted(s.value) + " (expected http or https)");
    }
  } else {
    scheme = use_tls ? "https" : "http";
  }
  while (!authority.empty() && authority.back() == '/') authority.remove_suffix(1);
  auto bad = [&](std::string_view why) {
    return InvalidArgumentError(s.source + ": expected [http[s]://]host[:port], got " +
                                Quoted(s.value) + " (" + std::string(why) + ")");
  };
  if (authority.empty()) return bad("no host");
  if (authority.find_first_of("/?#@ \t") != std::string_view::npos) {
    return bad("a path, query, user or space is not supported");
  }
  // Port: digits after the last ':' that is not inside an IPv6 literal "[...]".
  size_t colon = authority.rfind(':');
  size_t bracket = authority.rfind(']');
  if (colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket)) {
    std::string_view port = authority.substr(colon + 1);
    if (colon == 0) return bad("no host");
    if (port.empty() || port.size() > 5 ||
        !std::all_of(port.begin(), port.end(),
                     [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }) ||
        std::stoi(std::string(port)) > 65535 || std::stoi(std::string(port)) == 0) {
      return bad("invalid port");
    }
  }
  return scheme + "://" + std::string(authority);
}

// Credentials come as a set from the first source that has any of them.
Status ResolveCredentials(const ConfigMap& config, const EnvFn& env, const Profile& profile,
                          const std::string& profile_name, S3Settings& out) {
  Sources sources(config, env, profile);
  if (auto anonymous = sources.Explicit("anonymous")) {
    NIMBUS_ASSIGN_OR_RETURN(bool is_anonymous, ParseSettingBool(*anonymous));
    if (is_anonymous) {
      out.credentials = {};
      out.credentials_source = "anonymous (explicit config)";
      return Status::Ok();
    }
  }

  struct Names {
    std::string_view key, secret, token;
  };
  auto take = [&](const std::optional<Setting>& key, const std::optional<Setting>& secret,
                  const std::optional<Setting>& token, const Names& names,
                  std::string_view where) -> Status {
    std::string suffix = where.empty() ? "" : " (" + std::string(where) + ")";
    if (!key) {
      return InvalidArgumentError(std::string(secret ? names.secret : names.token) +
                                  " is set but " + std::string(names.key) + " is not" + suffix);
    }
    if (!secret) {
      return InvalidArgumentError(std::string(names.key) + " is set but " +
                                  std::string(names.secret) + " is not" + suffix);
    }
    out.credentials.access_key_id = key->value;
    out.credentials.secret_access_key = secret->value;
    out.credentials.session_token = token ? token->value : "";
    return Status::Ok();
  };

  auto key = sources.Explicit("access_key_id");
  auto secret = sources.Explicit("secret_access_key");
  auto token = sources.Explicit("session_token");
  if (key || secret || token) {
    out.credentials_source = "explicit config";
    return take(key, secret, token, {"access_key_id", "secret_access_key", "session_token"},
                "explicit config");
  }

  // A session token alone in the environment is a leftover of an earlier session, not a source.
  key = sources.Env("AWS_ACCESS_KEY_ID");
  secret = sources.Env("AWS_SECRET_ACCESS_KEY");
  if (key || secret) {
    out.credentials_source = "environment";
    return take(key, secret, sources.Env("AWS_SESSION_TOKEN"),
                {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"}, "environment");
  }

  const Profile::Entry* file_key = profile.Find("aws_access_key_id");
  const Profile::Entry* file_secret = profile.Find("aws_secret_access_key");
  if (file_key != nullptr || file_secret != nullptr) {
    const Profile::Entry* present = file_key != nullptr ? file_key : file_secret;
    out.credentials_source = "profile " + Quoted(profile_name) + " in " + present->origin;
    return take(sources.File("aws_access_key_id"), sources.File("aws_secret_access_key"),
                sources.File("aws_session_token"),
                {"aws_access_key_id", "aws_secret_access_key", "aws_session_token"},
                out.credentials_source);
  }
  out.credentials = {};
  out.credentials_source = "anonymous";
  return Status::Ok();
}

}  // namespace

std::string_view AddressingName(S3Settings::Addressing addressing) {
  switch (addressing) {
    case Addressing::kPath:
      return "path";
    case Addressing::kVirtual:
      return "virtual";
    case Addressing::kAuto:
      break;
  }
  return "auto";
}

Result<S3Settings> ResolveS3Settings(const ConfigMap& explicit_config, const EnvFn& env) {
  S3Settings out;
  Profile no_profile;
  const Sources early(explicit_config, env, no_profile);

  // The profile decides which file sections the remaining settings are read from.
  std::optional<Setting> named_profile = early.First("profile", {"AWS_PROFILE"}, {});
  out.profile = named_profile ? named_profile->value : "default";
  Profile profile;
  NIMBUS_ASSIGN_OR_RETURN(bool profile_found, LoadProfile(env, out.profile, profile));
  if (!profile_found && named_profile && out.profile != "default") {
    std::string searched;
    for (const std::string& path : profile.files_read) {
      searched += (searched.empty() ? "" : " or ") + path;
    }
    if (searched.empty()) {
      searched = "no file (HOME, AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE are unset)";
    }
    return InvalidArgumentError(named_profile->source + ": profile " + Quoted(out.profile) +
                                " not found in " + searched);
  }
  const Sources sources(explicit_config, env, profile);

  NIMBUS_RETURN_IF_ERROR(ResolveCredentials(explicit_config, env, profile, out.profile, out));

  if (auto s = sources.First("region", {"AWS_REGION", "AWS_DEFAULT_REGION"}, {"region"})) {
    out.region = s->value;
  }
  if (auto s = sources.First("addressing", {"AWS_S3_ADDRESSING_STYLE"}, {"s3.addressing_style"})) {
    NIMBUS_ASSIGN_OR_RETURN(out.addressing, ParseAddressing(*s));
  }
  if (auto s = sources.First("tls", {"AWS_USE_TLS"}, {})) {
    NIMBUS_ASSIGN_OR_RETURN(out.use_tls, ParseSettingBool(*s));
  }
  if (auto s = sources.First("endpoint", {"AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"},
                             {"s3.endpoint_url", "endpoint_url"})) {
    bool has_scheme = false;
    NIMBUS_ASSIGN_OR_RETURN(out.endpoint, NormalizeEndpoint(*s, out.use_tls, &has_scheme));
    // A scheme written in the endpoint is the most specific statement about TLS.
    if (has_scheme) out.use_tls = out.endpoint.starts_with("https://");
  }
  if (auto s = sources.First("signed_payloads", {"AWS_SIGNED_PAYLOADS"}, {})) {
    NIMBUS_ASSIGN_OR_RETURN(out.signed_payloads, ParseSettingBool(*s));
  }
  if (auto s = sources.First("ca_bundle", {"AWS_CA_BUNDLE"}, {"ca_bundle"})) {
    out.ca_bundle = ExpandHome(s->value, env);
  }
  if (auto s = sources.Explicit("verify_tls")) {
    NIMBUS_ASSIGN_OR_RETURN(out.verify_tls, ParseSettingBool(*s));
  }

  struct IntSetting {
    std::string_view key;
    int* field;
  };
  for (const IntSetting& setting : {
           IntSetting{"max_connections", &out.max_connections},
           IntSetting{"connect_timeout_ms", &out.connect_timeout_ms},
           IntSetting{"stall_timeout_ms", &out.stall_timeout_ms},
           IntSetting{"retry_initial_backoff_ms", &out.retry_initial_backoff_ms},
           IntSetting{"retry_max_backoff_ms", &out.retry_max_backoff_ms},
           IntSetting{"deadline_ms", &out.deadline_ms},
       }) {
    if (auto s = sources.Explicit(setting.key)) {
      NIMBUS_ASSIGN_OR_RETURN(*setting.field, ParsePositiveInt(*s));
    }
  }
  if (auto s = sources.First("retry_max_attempts", {"AWS_MAX_ATTEMPTS"}, {"max_attempts"})) {
    NIMBUS_ASSIGN_OR_RETURN(out.retry_max_attempts, ParsePositiveInt(*s));
  }
  if (auto s = sources.Explicit("multipart_threshold")) {
    NIMBUS_ASSIGN_OR_RETURN(out.multipart_threshold, ParseByteSize(*s));
  }
  if (auto s = sources.Explicit("multipart_part_size")) {
    NIMBUS_ASSIGN_OR_RETURN(out.multipart_part_size, ParseByteSize(*s));
  }
  // After region: "auto" depends on it.
  if (auto s = sources.First("conditional_writes", {"NIMBUS_S3_CONDITIONAL_WRITES"}, {});
      s && AsciiLower(TrimWhitespace(s->value)) != "auto") {
    NIMBUS_ASSIGN_OR_RETURN(out.conditional_writes, ParseSettingBool(*s));
  } else {
    // Garage (region "garage" by default) accepts If-None-Match / If-Match on PutObject and
    // ignores them: a create-only PUT would silently overwrite.
    out.conditional_writes = out.region != "garage";
  }
  if (out.retry_initial_backoff_ms > out.retry_max_backoff_ms) {
    return InvalidArgumentError("retry_initial_backoff_ms (" +
                                std::to_string(out.retry_initial_backoff_ms) +
                                ") must not exceed retry_max_backoff_ms (" +
                                std::to_string(out.retry_max_backoff_ms) + ")");
  }
  return out;
}

}  // namespace nimbus::s3
