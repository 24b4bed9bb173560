// AWS Signature Version 4 (header and presigned-query forms). The signer is a pure function of its
// inputs plus a small cache of derived signing keys, so one instance is shared by every request of
// a store and may be called from any thread.
//
// S3 signs the path exactly as it is sent (no normalisation, single encoding); the generic AWS
// services normalise it first, which `SigningRequest::normalize_path` enables for the AWS test
// vectors.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ctime>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "store/http/http_client.h"

namespace nimbus::s3 {

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // temporary credentials only

  // No key at all: requests go out unsigned (public buckets).
  bool anonymous() const { return access_key_id.empty() && secret_access_key.empty(); }
};

// The payload hash S3 accepts when the body is not hashed (TLS already protects it in transit).
inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";
// Sha256Hex("") : the payload hash of a request without a body.
inline constexpr std::string_view kEmptyPayloadSha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

using QueryParams = std::vector<std::pair<std::string, std::string>>;

// What is signed. Everything the server will see and check must be here exactly as sent.
struct SigningRequest {
  std::string method = "GET";
  // The path exactly as on the wire, already percent-encoded ("/bucket/a%20b"). Empty means "/".
  std::string path = "/";
  // Decoded query parameters (name, value); the signer encodes and sorts them. A parameter without
  // a value ("?uploads") is ("uploads", "").
  QueryParams query;
  // Headers to sign, in any case and order; must include `host` (the value sent on the wire).
  // Duplicates are merged with ',' in order of appearance.
  http::Headers headers;
  // Lower-case hex SHA-256 of the body, or kUnsignedPayload.
  std::string payload_hash = std::string(kUnsignedPayload);
  // RFC 3986 remove_dot_segments plus collapse of duplicate slashes. Never for S3.
  bool normalize_path = false;
};

struct SigningParams {
  std::string region = "us-east-1";
  std::string service = "s3";
  std::time_t time = 0;  // signing time, seconds since the epoch (UTC)
  // Header form: send and sign x-amz-content-sha256 (S3 requires it on every signed request).
  bool add_content_sha256_header = true;
  // false: the session token is attached after signing instead of being signed (what some STS
  // clients do; only needed for the test vectors).
  bool sign_session_token = true;
  // Presigned form: validity in seconds (X-Amz-Expires; S3 allows 1..604800).
  int64_t expires_seconds = 3600;
};

// The intermediate and final results of one signing; intermediates are kept for tests and for
// diagnosing SignatureDoesNotMatch (S3 returns its own canonical request in the error body).
struct SignedRequest {
  bool anonymous = false;        // credentials were anonymous: nothing was signed or added
  std::string amz_date;          // 20150830T123600Z
  std::string credential_scope;  // 20150830/us-east-1/s3/aws4_request
  std::string signed_headers;    // host;x-amz-date
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;  // lower-case hex
  // Header form: the Authorization header value. Empty for the presigned form.
  std::string authorization;
  // Header form: x-amz-date, x-amz-content-sha256 (when requested), x-amz-security-token (when
  // the credentials have one) and authorization, to add to the request.
  http::Headers headers_to_add;
  // Presigned form: the complete encoded query string to send, the request's own parameters
  // included and X-Amz-Signature last.
  std::string presigned_query;

  // Removes any existing copies (any case) of the headers in headers_to_add from `headers`, then
  // appends headers_to_add.
  void AddAuthHeaders(http::Headers& headers) const;
};

class Signer {
 public:
  // Deriving a signing key costs four HMACs; it only changes with the day, so a few are kept.
  explicit Signer(size_t key_cache_capacity = 4);
  Signer(const Signer&) = delete;
  Signer& operator=(const Signer&) = delete;

  // Header form: Authorization plus x-amz-* headers. kInvalidArgument on incomplete credentials or
  // a request without a host header.
  Result<SignedRequest> SignHeaders(const Credentials& credentials, const SigningRequest& request,
                                    const SigningParams& params) const;
  // Presigned (query) form: X-Amz-Algorithm, -Credential, -Date, -Expires, -SignedHeaders,
  // -Security-Token and -Signature in the query string.
  Result<SignedRequest> Presign(const Credentials& credentials, const SigningRequest& request,
                                const SigningParams& params) const;

  struct CacheStats {
    uint64_t hits = 0;
    uint64_t misses = 0;
    size_t size = 0;
  };
  CacheStats cache_stats() const;

 private:
  struct CachedKey {
    std::string secret, date, region, service;
    std::string key;  // raw 32 bytes
  };
  std::string SigningKey(std::string_view secret, std::string_view date, std::string_view region,
                         std::string_view service) const;
  Result<SignedRequest> Sign(const Credentials& credentials, const SigningRequest& request,
                             const SigningParams& params, bool presign) const;

  const size_t capacity_;
  mutable std::mutex mu_;
  mutable std::list<CachedKey> cache_;  // most recently used first
  mutable uint64_t hits_ = 0;
  mutable uint64_t misses_ = 0;
};

// Lower-case hex of SHA-256(data).
std::string Sha256Hex(std::string_view data);
// Raw 32-byte HMAC-SHA256(key, data).
std::string HmacSha256(std::string_view key, std::string_view data);
// Lower-case hex of arbitrary bytes.
std::string HexEncode(std::string_view bytes);
// "20150830T123600Z" (UTC).
std::string AmzDate(std::time_t time);
// SigV4 encoding: everything but A-Z a-z 0-9 - _ . ~ as %XX (upper-case); '/' kept if keep_slash.
std::string SigV4Encode(std::string_view s, bool keep_slash);
// RFC 3986 remove_dot_segments with duplicate slashes collapsed; the result starts with '/'.
std::string NormalizePath(std::string_view path);

}  // namespace nimbus::s3
