// S3Settings: everything the S3 driver needs to know before its first request, resolved once from
// explicit configuration, the environment and the AWS shared config/credentials files.
//
// Precedence, per setting: explicit config > environment > shared files (the selected profile) >
// default. Credentials are resolved as a set (key id, secret and token come from one source) and
// fall back to anonymous when no source has any.
//
// Explicit keys (ConfigMap; empty values count as unset; keys not listed are ignored because the
// map also carries other drivers' settings):
//
//   key                        value (default)                      environment; file key
//   ------------------------   ------------------------------------ ------------------------------
//   endpoint                   [http[s]://]host[:port] (AWS)        AWS_ENDPOINT_URL_S3,
//                                                                   AWS_ENDPOINT_URL;
//                                                                   s3.endpoint_url, endpoint_url
//   region                     name (us-east-1)                     AWS_REGION, AWS_DEFAULT_REGION;
//                                                                   region
//   addressing                 path | virtual | auto (auto)         AWS_S3_ADDRESSING_STYLE;
//                                                                   s3.addressing_style
//   tls                        bool (true); only without a scheme   AWS_USE_TLS
//                              in the endpoint
//   signed_payloads            bool (false: UNSIGNED-PAYLOAD)       AWS_SIGNED_PAYLOADS
//   profile                    name (default)                       AWS_PROFILE
//   access_key_id              credentials: all three come from      AWS_ACCESS_KEY_ID;
//                              the first source that has any;       aws_access_key_id
//   secret_access_key          key id and secret are required       AWS_SECRET_ACCESS_KEY;
//                              together                             aws_secret_access_key
//   session_token              (none: anonymous)                    AWS_SESSION_TOKEN;
//                                                                   aws_session_token
//   anonymous                  bool (false): never sign             -
//   max_connections            int > 0 (32)                         -
//   connect_timeout_ms         int > 0 (10000)                      -
//   stall_timeout_ms           int > 0 (30000)                      -
//   ca_bundle                  PEM file path (system default)       AWS_CA_BUNDLE; ca_bundle
//   verify_tls                 bool (true)                          -
//   retry_max_attempts         int > 0 (5)                          AWS_MAX_ATTEMPTS; max_attempts
//   retry_initial_backoff_ms   int > 0 (100)                        -
//   retry_max_backoff_ms       int > 0 (5000)                       -
//   deadline_ms                int > 0 (120000)                     -
//   multipart_threshold        bytes, K/M/G suffixes (64M)          -
//   multipart_part_size        bytes, K/M/G suffixes (16M)          -
//   conditional_writes         auto | true | false (auto)           NIMBUS_S3_CONDITIONAL_WRITES
//                              whether the server honours If-None-Match: * and If-Match on PUT
//                              (and CompleteMultipartUpload); auto = true, except for region
//                              "garage": Garage (2.x) ignores both headers and overwrites
//
// Booleans accept true/false/1/0/yes/no/on/off. Size suffixes are binary (K = KiB, M = MiB, G =
// GiB; "KiB", "MiB", "GiB" also accepted). S3 rejects parts under 5 MiB (except the last); smaller
// sizes are accepted here so tests against fake servers can exercise multipart with little data.
//
// Files: AWS_SHARED_CREDENTIALS_FILE (default $HOME/.aws/credentials, sections "[name]") and
// AWS_CONFIG_FILE (default $HOME/.aws/config, sections "[default]" and "[profile name]"). Within a
// profile, the credentials file wins over the config file. A profile named explicitly (config or
// AWS_PROFILE) must exist in one of them; a missing "default" profile is fine.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/config.h"
#include "core/status.h"
#include "store/s3/sigv4.h"

namespace nimbus::s3 {

struct S3Settings {
  // path: https://host/bucket/key. virtual: https://bucket.host/key. auto: virtual on AWS when the
  // bucket name is DNS-compatible, path otherwise and on custom endpoints (the driver decides).
  enum class Addressing { kAuto, kPath, kVirtual };

  // "scheme://host[:port]" without a trailing '/', scheme http or https; empty = AWS's endpoint.
  std::string endpoint;
  std::string region = "us-east-1";
  Addressing addressing = Addressing::kAuto;
  // Whether to use https. With an endpoint this always agrees with its scheme.
  bool use_tls = true;
  // true: hash every body into x-amz-content-sha256 (some S3-compatible stores require it);
  // false: UNSIGNED-PAYLOAD, which saves a pass over every upload.
  bool signed_payloads = false;
  Credentials credentials;  // anonymous when empty
  // Where the credentials came from, for error messages ("environment", "profile 'x' in <path>").
  std::string credentials_source = "anonymous";
  std::string profile;  // the profile that was consulted ("default" when none was named)

  int max_connections = 32;
  int connect_timeout_ms = 10'000;
  int stall_timeout_ms = 30'000;
  std::string ca_bundle;  // empty = system default
  bool verify_tls = true;

  int retry_max_attempts = 5;
  int retry_initial_backoff_ms = 100;
  int retry_max_backoff_ms = 5'000;
  int deadline_ms = 120'000;

  uint64_t multipart_threshold = uint64_t{64} << 20;
  uint64_t multipart_part_size = uint64_t{16} << 20;

  // Conditional PUTs (If-None-Match: *, If-Match) are sent only when true; otherwise the store
  // reports StoreCapabilities::conditional_put = false (callers fall back) and refuses conditional
  // options with kUnimplemented instead of letting the server silently overwrite.
  bool conditional_writes = true;
};

// "auto", "path" or "virtual".
std::string_view AddressingName(S3Settings::Addressing addressing);

// Resolves the settings (see the table above). Errors are kInvalidArgument and name the key or
// variable and where it came from; unknown explicit keys are ignored.
Result<S3Settings> ResolveS3Settings(const ConfigMap& explicit_config, const EnvFn& env);

}  // namespace nimbus::s3
