// Downloads the bytes a request names, from S3 (SigV4 through the store layer's S3 driver) or a
// plain HTTP(S) server (v2 interface_type http/https), as one ranged GET.
//
// Credentials: the request's HTTP Basic credentials become the S3 access key id and secret (or are
// forwarded as Basic auth to an HTTP upstream); without them requests go out anonymous. A store is
// built per request from exactly those credentials, so nothing signed or fetched with one set of
// credentials is ever reused for another; only the connection pool is shared.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "active/request.h"
#include "core/buffer.h"
#include "core/future.h"
#include "core/status.h"
#include "store/http/http_client.h"

namespace nimbus::active {

struct BasicCredentials {
  std::string username;  // S3 access key id
  std::string password;  // S3 secret access key
};

// Parses an Authorization header value "Basic <base64(user:password)>"; nullopt when absent or
// not Basic; an error for malformed Basic credentials.
Result<std::optional<BasicCredentials>> ParseBasicAuthorization(std::string_view header);
std::string Base64Encode(std::string_view bytes);

// Where an S3 object is: endpoint "scheme://host[:port]", bucket and key (decoded, raw).
struct S3Location {
  std::string endpoint;
  std::string bucket;
  std::string key;
};
// v2: "scheme://host[:port]/bucket/key..." path-style; the path is percent-decoded without turning
// '+' into a space, and anything unescaped (spaces, brackets, '=', '+', unicode) is taken as is.
Result<S3Location> ParseS3Url(std::string_view url);
// v1: endpoint from `source` (its path is ignored), bucket and object as given.
Result<S3Location> S3LocationV1(const ActiveRequest& request);

// Percent-decodes %XX sequences; everything else (including '+') is kept.
std::string PercentDecode(std::string_view text);

struct FetchOptions {
  int max_downloads = 32;          // concurrent upstream requests (others queue)
  std::string s3_region = "us-east-1";
  int retry_max_attempts = 3;
  int deadline_ms = 60'000;
  int connect_timeout_ms = 10'000;
  bool verify_tls = true;
  std::string ca_bundle;
};

class Fetcher {
 public:
  explicit Fetcher(FetchOptions options);
  ~Fetcher();

  // The bytes [offset, offset + size) (or to the end) of the request's object. Errors are
  // MakeProblem statuses with Reductionist's messages and statuses (404 NoSuchKey -> 400 with the
  // code among the causes, AccessDenied -> 401, unreachable -> 500, ...).
  Future<Result<Buffer>> Fetch(const ActiveRequest& request,
                               const std::optional<BasicCredentials>& credentials);

 private:
  Future<Result<Buffer>> FetchS3(const ActiveRequest& request, S3Location location,
                                 const std::optional<BasicCredentials>& credentials);
  Future<Result<Buffer>> FetchHttp(const ActiveRequest& request,
                                   const std::optional<BasicCredentials>& credentials);
  FetchOptions options_;
  std::shared_ptr<http::Client> client_;
};

}  // namespace nimbus::active
