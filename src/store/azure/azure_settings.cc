#include "store/azure/azure_settings.h"

#include <array>
#include <cctype>
#include <optional>
#include <utility>
#include "core/strings.h"

namespace nimbus::store {
namespace azure_internal {

namespace {
constexpr char kBase64Alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}
}  // namespace

std::string Base64Encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t v = (static_cast<uint8_t>(bytes[i]) << 16) |
                 (static_cast<uint8_t>(bytes[i + 1]) << 8) | static_cast<uint8_t>(bytes[i + 2]);
    out += kBase64Alphabet[(v >> 18) & 63];
    out += kBase64Alphabet[(v >> 12) & 63];
    out += kBase64Alphabet[(v >> 6) & 63];
    out += kBase64Alphabet[v & 63];
  }
  size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t v = static_cast<uint8_t>(bytes[i]) << 16;
    if (rest == 2) v |= static_cast<uint8_t>(bytes[i + 1]) << 8;
    out += kBase64Alphabet[(v >> 18) & 63];
    out += kBase64Alphabet[(v >> 12) & 63];
    out += rest == 2 ? kBase64Alphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

Result<std::string> Base64Decode(std::string_view text) {
  if (text.size() % 4 != 0) {
    return InvalidArgumentError("not valid base64 (length " + std::to_string(text.size()) +
                                " is not a multiple of 4)");
  }
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    bool last = i + 4 == text.size();
    std::array<int, 4> v{};
    int padding = 0;
    for (int j = 0; j < 4; ++j) {
      char c = text[i + j];
      if (c == '=' && last && j >= 2) {
        ++padding;
        v[j] = 0;
        continue;
      }
      v[j] = padding > 0 ? -1 : Base64Value(c);  // data after '=' is invalid
      if (v[j] < 0) {
        return InvalidArgumentError("not valid base64 (unexpected character at offset " +
                                    std::to_string(i + j) + ")");
      }
    }
    uint32_t n = (v[0] << 18) | (v[1] << 12) | (v[2] << 6) | v[3];
    out += static_cast<char>((n >> 16) & 0xff);
    if (padding < 2) out += static_cast<char>((n >> 8) & 0xff);
    if (padding < 1) out += static_cast<char>(n & 0xff);
  }
  return out;
}

}  // namespace azure_internal

namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// Checks an endpoint URL and drops trailing slashes. `field` names the setting in errors.
Result<std::string> NormalizeEndpoint(std::string_view field, std::string_view url) {
  std::string_view rest;
  if (StartsWith(url, "https://")) {
    rest = url.substr(8);
  } else if (StartsWith(url, "http://")) {
    rest = url.substr(7);
  } else {
    return InvalidArgumentError(std::string(field) +
                                ": expected an http:// or https:// URL, got '" + std::string(url) +
                                "'");
  }
  if (rest.empty() || rest.front() == '/') {
    return InvalidArgumentError(std::string(field) + ": URL '" + std::string(url) +
                                "' has no host");
  }
  if (url.find_first_of("?#") != std::string_view::npos) {
    return InvalidArgumentError(std::string(field) + ": URL '" + std::string(url) +
                                "' must not have a query or fragment");
  }
  while (!url.empty() && url.back() == '/') url.remove_suffix(1);
  return std::string(url);
}

Status ValidateAccountKey(std::string_view field, std::string_view key) {
  auto decoded = azure_internal::Base64Decode(key);
  if (!decoded.ok()) {
    return InvalidArgumentError(std::string(field) + ": " + decoded.status().message());
  }
  if (decoded->empty()) return InvalidArgumentError(std::string(field) + ": empty key");
  return Status::Ok();
}

std::string NormalizeSas(std::string_view sas) {
  sas = TrimWhitespace(sas);
  if (!sas.empty() && sas.front() == '?') sas.remove_prefix(1);
  return std::string(sas);
}

Status ValidateSas(std::string_view field, std::string_view sas) {
  // Every SAS (service, account, user delegation) is signed; without `sig` it cannot work.
  if (!StartsWith(sas, "sig=") && sas.find("&sig=") == std::string_view::npos) {
    return InvalidArgumentError(std::string(field) +
                                ": not a SAS token (no 'sig' parameter); expected e.g. "
                                "'sv=...&sig=...'");
  }
  return Status::Ok();
}

// Keys of other services' endpoints, valid in a connection string and irrelevant to blobs.
constexpr std::string_view kIgnoredConnectionKeys[] = {
    "QueueEndpoint",          "TableEndpoint",
    "FileEndpoint",           "DfsEndpoint",
    "BlobSecondaryEndpoint",  "QueueSecondaryEndpoint",
    "TableSecondaryEndpoint", "FileSecondaryEndpoint",
    "DfsSecondaryEndpoint",
};

// One layer (explicit settings or the environment) of account identity.
struct Identity {
  std::string account_name;
  std::string account_key;
  std::string sas_token;
  std::string endpoint;
};

Identity FromConnectionString(AzureConnectionString cs) {
  return {std::move(cs.account_name), std::move(cs.account_key), std::move(cs.sas_token),
          std::move(cs.blob_endpoint)};
}

// Reads an integer setting within [min, max] into `out`, leaving it alone when absent.
template <typename T>
Status ReadInt(const ConfigMap& config, std::string_view key, long long min, long long max,
               T& out) {
  auto it = config.find(key);
  if (it == config.end()) return Status::Ok();
  NIMBUS_ASSIGN_OR_RETURN(long long value, ParseInt(key, it->second));
  if (value < min || value > max) {
    return InvalidArgumentError(std::string(key) + ": " + std::to_string(value) +
                                " is out of range [" + std::to_string(min) + ", " +
                                std::to_string(max) + "]");
  }
  out = static_cast<T>(value);
  return Status::Ok();
}

std::optional<std::string> Lookup(const ConfigMap& config, std::string_view key) {
  auto it = config.find(key);
  if (it == config.end() || TrimWhitespace(it->second).empty()) return std::nullopt;
  return std::string(TrimWhitespace(it->second));
}

}  // namespace

Result<AzureConnectionString> ParseAzureConnectionString(std::string_view text) {
  AzureConnectionString out;
  std::string protocol = "https";
  std::string suffix = "core.windows.net";
  bool development = false;
  while (!text.empty()) {
    size_t end = text.find(';');
    std::string_view item = TrimWhitespace(text.substr(0, end));
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    if (item.empty()) continue;
    size_t eq = item.find('=');
    if (eq == std::string_view::npos) {
      return InvalidArgumentError("connection string: item '" + std::string(item.substr(0, 40)) +
                                  "' is not of the form Key=Value");
    }
    std::string_view key = TrimWhitespace(item.substr(0, eq));
    // Values keep their '=' (base64 keys, SAS tokens).
    std::string_view value = TrimWhitespace(item.substr(eq + 1));
    if (EqualsIgnoreCase(key, "DefaultEndpointsProtocol")) {
      if (EqualsIgnoreCase(value, "https")) {
        protocol = "https";
      } else if (EqualsIgnoreCase(value, "http")) {
        protocol = "http";
      } else {
        return InvalidArgumentError(
            "connection string: DefaultEndpointsProtocol must be http or https, got '" +
            std::string(value) + "'");
      }
    } else if (EqualsIgnoreCase(key, "AccountName")) {
      out.account_name = std::string(value);
    } else if (EqualsIgnoreCase(key, "AccountKey")) {
      NIMBUS_RETURN_IF_ERROR(ValidateAccountKey("connection string: AccountKey", value));
      out.account_key = std::string(value);
    } else if (EqualsIgnoreCase(key, "BlobEndpoint")) {
      NIMBUS_ASSIGN_OR_RETURN(out.blob_endpoint,
                              NormalizeEndpoint("connection string: BlobEndpoint", value));
    } else if (EqualsIgnoreCase(key, "EndpointSuffix")) {
      if (value.empty() || value.find('/') != std::string_view::npos) {
        return InvalidArgumentError(
            "connection string: EndpointSuffix must be a domain like core.windows.net, got '" +
            std::string(value) + "'");
      }
      suffix = std::string(value);
    } else if (EqualsIgnoreCase(key, "SharedAccessSignature")) {
      out.sas_token = NormalizeSas(value);
      NIMBUS_RETURN_IF_ERROR(
          ValidateSas("connection string: SharedAccessSignature", out.sas_token));
    } else if (EqualsIgnoreCase(key, "UseDevelopmentStorage")) {
      NIMBUS_ASSIGN_OR_RETURN(development,
                              ParseBool("connection string: UseDevelopmentStorage", value));
    } else if (EqualsIgnoreCase(key, "DevelopmentStorageProxyUri")) {
      return InvalidArgumentError(
          "connection string: DevelopmentStorageProxyUri is not supported; give BlobEndpoint "
          "instead");
    } else {
      bool ignored = false;
      for (std::string_view known : kIgnoredConnectionKeys) ignored |= EqualsIgnoreCase(key, known);
      if (!ignored) {
        return InvalidArgumentError("connection string: unknown key '" + std::string(key) + "'");
      }
    }
  }
  if (development) {
    // Emulator defaults; keys given alongside (e.g. BlobEndpoint for another port) win.
    if (out.account_name.empty()) out.account_name = std::string(kAzuriteAccountName);
    if (out.account_key.empty() && out.sas_token.empty()) {
      out.account_key = std::string(kAzuriteAccountKey);
    }
    if (out.blob_endpoint.empty()) out.blob_endpoint = std::string(kAzuriteBlobEndpoint);
  }
  if (out.blob_endpoint.empty()) {
    if (out.account_name.empty()) {
      return InvalidArgumentError(
          "connection string: needs AccountName or BlobEndpoint (or UseDevelopmentStorage=true)");
    }
    out.blob_endpoint = protocol + "://" + out.account_name + ".blob." + suffix;
  }
  return out;
}

Result<AzureSettings> ResolveAzureSettings(const ConfigMap& explicit_config, const EnvFn& env) {
  // The environment's identity: a connection string takes precedence over the separate variables
  // (as with the Azure CLI).
  Identity from_env;
  if (auto cs = env("AZURE_STORAGE_CONNECTION_STRING")) {
    auto parsed = ParseAzureConnectionString(*cs);
    if (!parsed.ok()) return parsed.status().WithContext("AZURE_STORAGE_CONNECTION_STRING");
    from_env = FromConnectionString(std::move(parsed).value());
  } else {
    from_env.account_name = env("AZURE_STORAGE_ACCOUNT").value_or("");
    if (auto key = env("AZURE_STORAGE_KEY")) {
      NIMBUS_RETURN_IF_ERROR(ValidateAccountKey("AZURE_STORAGE_KEY", *key));
      from_env.account_key = *key;
    }
    if (auto sas = env("AZURE_STORAGE_SAS_TOKEN")) {
      from_env.sas_token = NormalizeSas(*sas);
      NIMBUS_RETURN_IF_ERROR(ValidateSas("AZURE_STORAGE_SAS_TOKEN", from_env.sas_token));
    }
  }

  // The explicit identity: connection string first, individual keys on top.
  Identity given;
  std::optional<std::string> connection_string = Lookup(explicit_config, "connection_string");
  if (connection_string) {
    auto parsed = ParseAzureConnectionString(*connection_string);
    if (!parsed.ok()) return parsed.status().WithContext("connection_string");
    given = FromConnectionString(std::move(parsed).value());
  }
  if (auto v = Lookup(explicit_config, "account_name")) given.account_name = *v;
  std::optional<std::string> explicit_key = Lookup(explicit_config, "account_key");
  std::optional<std::string> explicit_sas = Lookup(explicit_config, "sas_token");
  if (explicit_key) {
    NIMBUS_RETURN_IF_ERROR(ValidateAccountKey("account_key", *explicit_key));
    given.account_key = *explicit_key;
    if (!explicit_sas) given.sas_token.clear();
  }
  if (explicit_sas) {
    given.sas_token = NormalizeSas(*explicit_sas);
    NIMBUS_RETURN_IF_ERROR(ValidateSas("sas_token", given.sas_token));
    if (!explicit_key) given.account_key.clear();
  }
  if (auto v = Lookup(explicit_config, "endpoint")) {
    NIMBUS_ASSIGN_OR_RETURN(given.endpoint, NormalizeEndpoint("endpoint", *v));
  }

  Identity id;
  if (connection_string) {
    id = std::move(given);
  } else {
    id = std::move(from_env);
    if (!given.account_name.empty() && given.account_name != id.account_name) {
      // Another account: the environment's key, SAS and endpoint are not for it.
      id = Identity{given.account_name, "", "", ""};
    }
    if (!given.endpoint.empty()) id.endpoint = given.endpoint;
    if (!given.account_key.empty() || !given.sas_token.empty()) {
      id.account_key = given.account_key;
      id.sas_token = given.sas_token;
    }
  }

  if (id.endpoint.empty()) {
    if (id.account_name.empty()) {
      return InvalidArgumentError(
          "Azure storage account not configured: set connection_string, account_name or "
          "endpoint (or AZURE_STORAGE_CONNECTION_STRING / AZURE_STORAGE_ACCOUNT)");
    }
    id.endpoint = "https://" + id.account_name + ".blob.core.windows.net";
  }
  if (!id.account_key.empty() && id.account_name.empty()) {
    return InvalidArgumentError(
        "account_name: required with an account key (SharedKey signs with the account name)");
  }

  AzureSettings s;
  s.account_name = std::move(id.account_name);
  s.account_key = std::move(id.account_key);
  s.sas_token = std::move(id.sas_token);
  s.endpoint = std::move(id.endpoint);

  long long connect_timeout_ms = s.connect_timeout.count();
  long long deadline_ms = s.deadline.count();
  constexpr long long kMiB = 1ll << 20;
  NIMBUS_RETURN_IF_ERROR(ReadInt(explicit_config, "max_connections", 1, 1024, s.max_connections));
  NIMBUS_RETURN_IF_ERROR(
      ReadInt(explicit_config, "connect_timeout_ms", 1, 3'600'000, connect_timeout_ms));
  NIMBUS_RETURN_IF_ERROR(ReadInt(explicit_config, "deadline_ms", 1, 86'400'000, deadline_ms));
  NIMBUS_RETURN_IF_ERROR(
      ReadInt(explicit_config, "retry_max_attempts", 1, 100, s.retry_max_attempts));
  // Service limits: a block holds at most 4000 MiB, a single Put Blob at most 5000 MiB.
  NIMBUS_RETURN_IF_ERROR(ReadInt(explicit_config, "block_size", 1, 4000 * kMiB, s.block_size));
  NIMBUS_RETURN_IF_ERROR(
      ReadInt(explicit_config, "single_put_threshold", 0, 5000 * kMiB, s.single_put_threshold));
  s.connect_timeout = std::chrono::milliseconds(connect_timeout_ms);
  s.deadline = std::chrono::milliseconds(deadline_ms);
  return s;
}

}  // namespace nimbus::store
