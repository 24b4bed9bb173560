// AzureSettings: where an Azure Blob Storage account is and how to authenticate to it, resolved
// from explicit settings and the environment (explicit wins). Credentials are SharedKey (account
// key), a SAS token, or nothing (anonymous, public containers).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/config.h"
#include "core/status.h"

namespace nimbus::store {

struct AzureSettings {
  enum class AuthMode { kSharedKey, kSas, kAnonymous };

  std::string account_name;
  std::string account_key;  // base64, as the portal shows it; SharedKey auth when set
  std::string sas_token;    // query string without '?'; used when there is no account key
  // Blob service URL without trailing '/': "https://acct.blob.core.windows.net", or with the
  // account in the path ("http://127.0.0.1:10000/devstoreaccount1", Azurite) for path-style URLs.
  std::string endpoint;

  int max_connections = 32;
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds deadline{120'000};  // per operation, retries included
  int retry_max_attempts = 5;
  uint64_t block_size = 8ull << 20;             // Put Block size for large objects
  uint64_t single_put_threshold = 32ull << 20;  // larger objects are uploaded in blocks

  AuthMode auth_mode() const {
    if (!account_key.empty()) return AuthMode::kSharedKey;
    if (!sas_token.empty()) return AuthMode::kSas;
    return AuthMode::kAnonymous;
  }
};

// The pieces of an Azure storage connection string
// ("DefaultEndpointsProtocol=https;AccountName=a;AccountKey=k;EndpointSuffix=core.windows.net",
// "UseDevelopmentStorage=true", "BlobEndpoint=...;SharedAccessSignature=...").
struct AzureConnectionString {
  std::string account_name;
  std::string account_key;
  std::string sas_token;
  std::string blob_endpoint;  // explicit or derived from protocol, account and suffix
};

Result<AzureConnectionString> ParseAzureConnectionString(std::string_view text);

// Explicit keys: connection_string, account_name, account_key, sas_token, endpoint,
// max_connections, connect_timeout_ms, deadline_ms, retry_max_attempts, block_size,
// single_put_threshold (other keys are ignored: they belong to other drivers).
// Environment: AZURE_STORAGE_CONNECTION_STRING, else AZURE_STORAGE_ACCOUNT, AZURE_STORAGE_KEY,
// AZURE_STORAGE_SAS_TOKEN.
// An explicit connection string replaces the environment's account entirely; an explicit
// account_name different from the environment's drops the environment's credentials (they belong
// to another account); an explicit key or SAS replaces the environment's credential.
Result<AzureSettings> ResolveAzureSettings(const ConfigMap& explicit_config, const EnvFn& env);

// The Azurite / storage emulator account (public, documented well-known values).
inline constexpr std::string_view kAzuriteAccountName = "devstoreaccount1";
inline constexpr std::string_view kAzuriteAccountKey =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
inline constexpr std::string_view kAzuriteBlobEndpoint = "http://127.0.0.1:10000/devstoreaccount1";

namespace azure_internal {
// Standard base64 with padding; decoding rejects anything else (whitespace included).
std::string Base64Encode(std::string_view bytes);
Result<std::string> Base64Decode(std::string_view text);
}  // namespace azure_internal

}  // namespace nimbus::store
