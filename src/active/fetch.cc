#include "active/fetch.h"

#include <cstring>

#include "active/problem.h"
#include "core/strings.h"
#include "store/s3/s3_store.h"

namespace nimbus::active {
namespace {

constexpr char kBase64Alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::optional<std::string> Base64Decode(std::string_view text) {
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    if (c == '=') break;
    const char* pos = std::strchr(kBase64Alphabet, c);
    if (pos == nullptr || c == '\0') return std::nullopt;
    buffer = (buffer << 6) | static_cast<uint32_t>(pos - kBase64Alphabet);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xFF));
    }
  }
  return out;
}

// "scheme://authority" and the rest ("/path?query"), split leniently: the path is everything
// after the authority up to '?' or '#'.
struct UrlParts {
  std::string scheme;
  std::string authority;
  std::string path;
  std::string query;  // with its '?', or empty
};

Result<UrlParts> SplitUrl(std::string_view url) {
  size_t sep = url.find("://");
  if (sep == std::string_view::npos || sep == 0) {
    return MakeProblem(400, "request data is not valid",
                       {"url: relative URL without a base: `" + std::string(url) + "`"});
  }
  UrlParts parts;
  parts.scheme = AsciiLower(url.substr(0, sep));
  std::string_view rest = url.substr(sep + 3);
  size_t slash = rest.find_first_of("/?#");
  parts.authority = std::string(rest.substr(0, slash));
  rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  size_t hash = rest.find('#');
  if (hash != std::string_view::npos) rest = rest.substr(0, hash);
  size_t question = rest.find('?');
  parts.path = std::string(rest.substr(0, question));
  if (question != std::string_view::npos) parts.query = std::string(rest.substr(question));
  if (parts.authority.empty()) {
    return MakeProblem(400, "request data is not valid",
                       {"url: URL has no host: `" + std::string(url) + "`"});
  }
  return parts;
}

Status S3Problem(const Status& status) {
  const std::string cause = status.message();
  switch (status.kind()) {
    case ErrorKind::kAccessDenied:
      return MakeProblem(401, "error retrieving object from S3 storage", {cause});
    case ErrorKind::kNotFound:
    case ErrorKind::kPreconditionFailed:
      return MakeProblem(400, "error retrieving object from S3 storage", {cause});
    case ErrorKind::kInvalidArgument:
      return MakeProblem(400, "S3 request error", {cause});
    default:
      return MakeProblem(500, "error retrieving object from S3 storage", {cause});
  }
}

}  // namespace

std::string Base64Encode(std::string_view bytes) {
  std::string out;
  out.reserve(4 * ((bytes.size() + 2) / 3));
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t v = (static_cast<uint8_t>(bytes[i]) << 16) | (static_cast<uint8_t>(bytes[i + 1]) << 8) |
                 static_cast<uint8_t>(bytes[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out.push_back(kBase64Alphabet[(v >> s) & 0x3F]);
  }
  if (i + 1 == bytes.size()) {
    uint32_t v = static_cast<uint8_t>(bytes[i]) << 16;
    out.push_back(kBase64Alphabet[(v >> 18) & 0x3F]);
    out.push_back(kBase64Alphabet[(v >> 12) & 0x3F]);
    out += "==";
  } else if (i + 2 == bytes.size()) {
    uint32_t v = (static_cast<uint8_t>(bytes[i]) << 16) | (static_cast<uint8_t>(bytes[i + 1]) << 8);
    out.push_back(kBase64Alphabet[(v >> 18) & 0x3F]);
    out.push_back(kBase64Alphabet[(v >> 12) & 0x3F]);
    out.push_back(kBase64Alphabet[(v >> 6) & 0x3F]);
    out.push_back('=');
  }
  return out;
}

Result<std::optional<BasicCredentials>> ParseBasicAuthorization(std::string_view header) {
  header = TrimWhitespace(header);
  if (header.empty()) return std::optional<BasicCredentials>();
  if (header.size() < 6 || AsciiLower(header.substr(0, 6)) != "basic ") {
    return std::optional<BasicCredentials>();  // another scheme: not credentials for us
  }
  auto decoded = Base64Decode(TrimWhitespace(header.substr(6)));
  size_t colon = decoded ? decoded->find(':') : std::string::npos;
  if (!decoded || colon == std::string::npos) {
    return MakeProblem(401, "invalid Authorization header",
                       {"Basic credentials must be base64(\"access_key:secret_key\")"});
  }
  return std::optional<BasicCredentials>(
      BasicCredentials{decoded->substr(0, colon), decoded->substr(colon + 1)});
}

std::string PercentDecode(std::string_view text) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && hex(text[i + 1]) >= 0 && hex(text[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex(text[i + 1]) * 16 + hex(text[i + 2])));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

Result<S3Location> ParseS3Url(std::string_view url) {
  NIMBUS_ASSIGN_OR_RETURN(UrlParts parts, SplitUrl(url));
  if (parts.scheme != "http" && parts.scheme != "https") {
    return MakeProblem(400, "S3 request error",
                       {"S3 URL scheme must be http or https, got `" + parts.scheme + "`"});
  }
  std::string_view path = parts.path;
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  size_t slash = path.find('/');
  S3Location location;
  location.endpoint = parts.scheme + "://" + parts.authority;
  if (slash != std::string_view::npos) {
    location.bucket = PercentDecode(path.substr(0, slash));
    location.key = PercentDecode(path.substr(slash + 1));
  }
  if (location.bucket.empty() || location.key.empty()) {
    return MakeProblem(400, "S3 request error", {"S3 URL must have bucket/object"});
  }
  return location;
}

Result<S3Location> S3LocationV1(const ActiveRequest& request) {
  NIMBUS_ASSIGN_OR_RETURN(UrlParts parts, SplitUrl(request.source));
  if (parts.scheme != "http" && parts.scheme != "https") {
    return MakeProblem(400, "S3 request error",
                       {"source scheme must be http or https, got `" + parts.scheme + "`"});
  }
  return S3Location{parts.scheme + "://" + parts.authority, request.bucket, request.object};
}

Fetcher::Fetcher(FetchOptions options) : options_(std::move(options)) {
  http::ClientOptions client_options;
  client_options.max_connections = std::max(1, options_.max_downloads);
  client_options.connect_timeout = std::chrono::milliseconds(options_.connect_timeout_ms);
  client_options.verify_tls = options_.verify_tls;
  client_options.ca_bundle = options_.ca_bundle;
  client_ = std::make_shared<http::Client>(client_options);
}

Fetcher::~Fetcher() = default;

Future<Result<Buffer>> Fetcher::Fetch(const ActiveRequest& request,
                                      const std::optional<BasicCredentials>& credentials) {
  if (request.version == ApiVersion::kV2 && request.interface_type != InterfaceType::kS3) {
    return FetchHttp(request, credentials);
  }
  Result<S3Location> location =
      request.version == ApiVersion::kV1 ? S3LocationV1(request) : ParseS3Url(request.url);
  if (!location.ok()) return ReadyFuture(Result<Buffer>(location.status()));
  return FetchS3(request, std::move(*location), credentials);
}

Future<Result<Buffer>> Fetcher::FetchS3(const ActiveRequest& request, S3Location location,
                                        const std::optional<BasicCredentials>& credentials) {
  s3::S3Settings settings;
  settings.endpoint = location.endpoint;
  settings.use_tls = location.endpoint.rfind("https://", 0) == 0;
  settings.region = options_.s3_region;
  settings.addressing = s3::S3Settings::Addressing::kPath;
  if (credentials) {
    settings.credentials.access_key_id = credentials->username;
    settings.credentials.secret_access_key = credentials->password;
    settings.credentials_source = "request Basic auth";
  }
  settings.retry_max_attempts = options_.retry_max_attempts;
  settings.deadline_ms = options_.deadline_ms;
  settings.verify_tls = options_.verify_tls;
  settings.ca_bundle = options_.ca_bundle;
  auto store = std::make_shared<s3::S3Store>(std::move(settings), location.bucket, "", client_);

  store::ByteRange range = store::ByteRange::All();
  if (request.size) range = store::ByteRange::Range(request.offset, *request.size);
  else if (request.offset > 0) range = store::ByteRange::From(request.offset);
  const std::optional<uint64_t> size = request.size;
  const uint64_t offset = request.offset;

  Promise<Result<Buffer>> promise;
  auto future = promise.future();
  store->Get(location.key, range).Then([promise, store, size, offset](
                                           Result<store::GetResult>& got) {
    if (!got.ok()) return promise.Set(S3Problem(got.status()));
    if (size && got->data.size() != *size) {
      return promise.Set(MakeProblem(
          400, "error retrieving object from S3 storage",
          {"object has " + std::to_string(got->info.size) + " bytes; offset " +
           std::to_string(offset) + " + size " + std::to_string(*size) + " lies beyond it"}));
    }
    promise.Set(std::move(got->data));
  });
  return future;
}

Future<Result<Buffer>> Fetcher::FetchHttp(const ActiveRequest& request,
                                          const std::optional<BasicCredentials>& credentials) {
  Result<UrlParts> parts = SplitUrl(request.url);
  if (!parts.ok()) return ReadyFuture(Result<Buffer>(parts.status()));
  const bool want_tls = request.interface_type == InterfaceType::kHttps;
  if (parts->scheme != (want_tls ? "https" : "http")) {
    return ReadyFuture(Result<Buffer>(MakeProblem(
        400, "HTTP request error",
        {"interface_type " + std::string(want_tls ? "https" : "http") + " needs a " +
         (want_tls ? "https" : "http") + ":// URL, got `" + parts->scheme + "://`"})));
  }
  // Re-encode the path exactly once, whatever mix of escaped and raw characters it came with.
  std::string url = parts->scheme + "://" + parts->authority +
                    http::UriEncode(PercentDecode(parts->path), /*keep_slash=*/true) + parts->query;
  std::string range;
  if (request.size) {
    range = "bytes=" + std::to_string(request.offset) + "-" +
            std::to_string(request.offset + *request.size - 1);
  } else if (request.offset > 0) {
    range = "bytes=" + std::to_string(request.offset) + "-";
  }
  std::string authorization;
  if (credentials) {
    authorization = "Basic " + Base64Encode(credentials->username + ":" + credentials->password);
  }
  auto build = [url, range, authorization, expected = request.size.value_or(0)]()
      -> Result<http::Request> {
    http::Request r;
    r.url = url;
    if (!range.empty()) r.headers.emplace_back("range", range);
    if (!authorization.empty()) r.headers.emplace_back("authorization", authorization);
    r.expected_response_size = expected;
    return r;
  };
  auto classify = [](const http::Response& r) -> Status {
    if (r.status == 200 || r.status == 206) return Status::Ok();
    if (r.status == 429 || r.status >= 500) {
      return Status(ErrorKind::kTransient, "HTTP request failed with status: " +
                                               std::to_string(r.status), r.status);
    }
    return Status(r.status == 401 || r.status == 403 ? ErrorKind::kAccessDenied
                  : r.status == 404                   ? ErrorKind::kNotFound
                                                      : ErrorKind::kPermanent,
                  "HTTP request failed with status: " + std::to_string(r.status), r.status);
  };
  http::RetryPolicy policy;
  policy.max_attempts = options_.retry_max_attempts;
  policy.deadline = std::chrono::milliseconds(options_.deadline_ms);

  Promise<Result<Buffer>> promise;
  auto future = promise.future();
  const uint64_t offset = request.offset;
  const std::optional<uint64_t> size = request.size;
  client_->SendWithRetry(build, classify, policy)
      .Then([promise, offset, size](Result<http::Response>& r) {
        if (!r.ok()) {
          const Status& s = r.status();
          int code = s.kind() == ErrorKind::kAccessDenied ? 401
                     : s.http_status() >= 500 || s.http_status() == 0 ? 500
                                                                     : 400;
          return promise.Set(MakeProblem(code, "HTTP request error", {s.message()}));
        }
        Buffer body = std::move(r->body);
        if (r->status == 200 && (offset > 0 || size)) {
          // The server ignored the Range header: cut the range out of the whole object in place.
          if (offset > body.size() || (size && offset + *size > body.size())) {
            return promise.Set(MakeProblem(400, "HTTP request error",
                                           {"object is shorter than offset + size"}));
          }
          size_t n = size ? *size : body.size() - offset;
          std::memmove(body.data(), body.data() + offset, n);
          body.Resize(n);
        }
        if (size && body.size() != *size) {
          return promise.Set(MakeProblem(400, "HTTP request error",
                                         {"upstream returned " + std::to_string(body.size()) +
                                          " bytes, expected " + std::to_string(*size)}));
        }
        promise.Set(std::move(body));
      });
  return future;
}

}  // namespace nimbus::active
