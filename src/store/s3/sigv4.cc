#include "store/s3/sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <map>
#include "core/strings.h"

namespace nimbus::s3 {
namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";

bool IsUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == '~';
}

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Trims and collapses runs of blanks to one space (folded header lines arrive as blank runs).
std::string CanonicalHeaderValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  bool pending_space = false;
  for (char c : value) {
    if (IsBlank(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(c);
  }
  return out;
}

// Headers that hops or the HTTP library may add, drop or rewrite; signing them would break the
// signature in transit, and S3 does not require them to be signed.
bool IsUnsignableHeader(std::string_view lower_name) {
  static constexpr std::array<std::string_view, 6> kNames = {"authorization", "connection",
                                                             "expect",        "transfer-encoding",
                                                             "user-agent",    "x-amzn-trace-id"};
  return std::find(kNames.begin(), kNames.end(), lower_name) != kNames.end();
}

std::string CanonicalQuery(const QueryParams& params) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(params.size());
  for (const auto& [name, value] : params) {
    encoded.emplace_back(SigV4Encode(name, false), SigV4Encode(value, false));
  }
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [name, value] : encoded) {
    if (!out.empty()) out.push_back('&');
    out += name;
    out.push_back('=');
    out += value;
  }
  return out;
}

Status CheckCredentials(const Credentials& credentials) {
  if (credentials.access_key_id.empty() || credentials.secret_access_key.empty()) {
    return InvalidArgumentError(
        "SigV4: credentials need both an access key id and a secret access key");
  }
  return Status::Ok();
}

}  // namespace

std::string HexEncode(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 0xF]);
  }
  return out;
}

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr);
  return HexEncode(std::string_view(reinterpret_cast<const char*>(digest), length));
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &length);
  return std::string(reinterpret_cast<const char*>(mac), length);
}

std::string AmzDate(std::time_t time) {
  std::tm utc{};
  gmtime_r(&time, &utc);
  char text[32];
  size_t n = std::strftime(text, sizeof(text), "%Y%m%dT%H%M%SZ", &utc);
  return std::string(text, n);
}

std::string SigV4Encode(std::string_view s, bool keep_slash) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (IsUnreserved(c) || (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kDigits[c >> 4]);
      out.push_back(kDigits[c & 0xF]);
    }
  }
  return out;
}

std::string NormalizePath(std::string_view path) {
  // Segment stack: empty segments (duplicate slashes) and "." vanish, ".." pops.
  std::vector<std::string_view> segments;
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t end = std::min(path.find('/', pos), path.size());
    std::string_view segment = path.substr(pos, end - pos);
    pos = end + 1;
    if (segment.empty() || segment == ".") continue;
    if (segment == "..") {
      if (!segments.empty()) segments.pop_back();
      continue;
    }
    segments.push_back(segment);
  }
  // "/a/", "/a/b/." and "/a/b/.." all name the directory "/a/" (RFC 3986 section 5.2.4).
  std::string_view last = path.substr(path.rfind('/') + 1);
  bool ends_in_directory = last.empty() || last == "." || last == "..";
  std::string out = "/";
  for (size_t i = 0; i < segments.size(); ++i) {
    if (i > 0) out.push_back('/');
    out += segments[i];
  }
  if (ends_in_directory && !segments.empty()) out.push_back('/');
  return out;
}

void SignedRequest::AddAuthHeaders(http::Headers& headers) const {
  std::erase_if(headers, [&](const auto& header) {
    std::string name = AsciiLower(header.first);
    return std::any_of(headers_to_add.begin(), headers_to_add.end(),
                       [&](const auto& added) { return added.first == name; });
  });
  headers.insert(headers.end(), headers_to_add.begin(), headers_to_add.end());
}

Signer::Signer(size_t key_cache_capacity) : capacity_(std::max<size_t>(key_cache_capacity, 1)) {}

Signer::CacheStats Signer::cache_stats() const {
  std::lock_guard lock(mu_);
  return {hits_, misses_, cache_.size()};
}

std::string Signer::SigningKey(std::string_view secret, std::string_view date,
                               std::string_view region, std::string_view service) const {
  {
    std::lock_guard lock(mu_);
    for (auto it = cache_.begin(); it != cache_.end(); ++it) {
      if (it->secret == secret && it->date == date && it->region == region &&
          it->service == service) {
        cache_.splice(cache_.begin(), cache_, it);
        ++hits_;
        return cache_.front().key;
      }
    }
    ++misses_;
  }
  // Derived outside the lock; two threads missing at once both derive the same key, harmlessly.
  std::string key = HmacSha256("AWS4" + std::string(secret), date);
  key = HmacSha256(key, region);
  key = HmacSha256(key, service);
  key = HmacSha256(key, "aws4_request");

  std::lock_guard lock(mu_);
  bool present = std::any_of(cache_.begin(), cache_.end(), [&](const CachedKey& entry) {
    return entry.secret == secret && entry.date == date && entry.region == region &&
           entry.service == service;
  });
  if (!present) {
    cache_.push_front(
        {std::string(secret), std::string(date), std::string(region), std::string(service), key});
    if (cache_.size() > capacity_) cache_.pop_back();
  }
  return key;
}

Result<SignedRequest> Signer::SignHeaders(const Credentials& credentials,
                                          const SigningRequest& request,
                                          const SigningParams& params) const {
  return Sign(credentials, request, params, /*presign=*/false);
}

Result<SignedRequest> Signer::Presign(const Credentials& credentials, const SigningRequest& request,
                                      const SigningParams& params) const {
  return Sign(credentials, request, params, /*presign=*/true);
}

Result<SignedRequest> Signer::Sign(const Credentials& credentials, const SigningRequest& request,
                                   const SigningParams& params, bool presign) const {
  SignedRequest out;
  if (credentials.anonymous()) {
    out.anonymous = true;
    return out;
  }
  NIMBUS_RETURN_IF_ERROR(CheckCredentials(credentials));
  if (request.payload_hash.empty()) {
    return InvalidArgumentError("SigV4: empty payload hash (use UNSIGNED-PAYLOAD or the SHA-256)");
  }
  if (params.region.empty() || params.service.empty()) {
    return InvalidArgumentError("SigV4: region and service must not be empty");
  }
  if (presign && params.expires_seconds <= 0) {
    return InvalidArgumentError("SigV4: presigned expiry must be positive, got " +
                                std::to_string(params.expires_seconds));
  }

  out.amz_date = AmzDate(params.time);
  const std::string date = out.amz_date.substr(0, 8);
  out.credential_scope = date + "/" + params.region + "/" + params.service + "/aws4_request";
  const bool sign_token = !credentials.session_token.empty() && params.sign_session_token;
  const bool add_content_sha256 = !presign && params.add_content_sha256_header;

  // Canonical headers: lower-case names, sorted; duplicates merged in order of appearance. In the
  // header form the signer owns x-amz-date, x-amz-security-token and x-amz-content-sha256 (when
  // it adds it), so caller copies are replaced rather than signed twice.
  std::map<std::string, std::string> canonical_headers;
  auto owned_by_signer = [&](std::string_view name) {
    if (presign) return false;
    return name == "x-amz-date" || name == "x-amz-security-token" ||
           (add_content_sha256 && name == "x-amz-content-sha256");
  };
  for (const auto& [raw_name, raw_value] : request.headers) {
    std::string name = AsciiLower(raw_name);
    if (IsUnsignableHeader(name) || owned_by_signer(name)) continue;
    std::string value = CanonicalHeaderValue(raw_value);
    auto [it, inserted] = canonical_headers.try_emplace(name, value);
    if (!inserted) {
      it->second.push_back(',');
      it->second += value;
    }
  }
  if (canonical_headers.find("host") == canonical_headers.end()) {
    return InvalidArgumentError("SigV4: the request has no host header");
  }
  if (!presign) {
    canonical_headers["x-amz-date"] = out.amz_date;
    if (add_content_sha256) canonical_headers["x-amz-content-sha256"] = request.payload_hash;
    if (sign_token) canonical_headers["x-amz-security-token"] = credentials.session_token;
  }
  std::string canonical_header_block;
  for (const auto& [name, value] : canonical_headers) {
    if (!out.signed_headers.empty()) out.signed_headers.push_back(';');
    out.signed_headers += name;
    canonical_header_block += name;
    canonical_header_block.push_back(':');
    canonical_header_block += value;
    canonical_header_block.push_back('\n');
  }

  QueryParams query = request.query;
  if (presign) {
    query.emplace_back("X-Amz-Algorithm", std::string(kAlgorithm));
    query.emplace_back("X-Amz-Credential", credentials.access_key_id + "/" + out.credential_scope);
    query.emplace_back("X-Amz-Date", out.amz_date);
    query.emplace_back("X-Amz-Expires", std::to_string(params.expires_seconds));
    query.emplace_back("X-Amz-SignedHeaders", out.signed_headers);
    if (sign_token) query.emplace_back("X-Amz-Security-Token", credentials.session_token);
  }
  const std::string canonical_query = CanonicalQuery(query);

  std::string path = request.normalize_path ? NormalizePath(request.path) : request.path;
  if (path.empty()) path = "/";

  out.canonical_request = request.method + "\n" + path + "\n" + canonical_query + "\n" +
                          canonical_header_block + "\n" + out.signed_headers + "\n" +
                          request.payload_hash;
  out.string_to_sign = std::string(kAlgorithm) + "\n" + out.amz_date + "\n" + out.credential_scope +
                       "\n" + Sha256Hex(out.canonical_request);
  const std::string key =
      SigningKey(credentials.secret_access_key, date, params.region, params.service);
  out.signature = HexEncode(HmacSha256(key, out.string_to_sign));

  if (presign) {
    out.presigned_query = canonical_query;
    if (!credentials.session_token.empty() && !sign_token) {
      out.presigned_query +=
          "&X-Amz-Security-Token=" + SigV4Encode(credentials.session_token, false);
    }
    out.presigned_query += "&X-Amz-Signature=" + out.signature;
    return out;
  }

  out.authorization = std::string(kAlgorithm) + " Credential=" + credentials.access_key_id + "/" +
                      out.credential_scope + ", SignedHeaders=" + out.signed_headers +
                      ", Signature=" + out.signature;
  out.headers_to_add.emplace_back("x-amz-date", out.amz_date);
  if (add_content_sha256) {
    out.headers_to_add.emplace_back("x-amz-content-sha256", request.payload_hash);
  }
  if (!credentials.session_token.empty()) {
    out.headers_to_add.emplace_back("x-amz-security-token", credentials.session_token);
  }
  out.headers_to_add.emplace_back("authorization", out.authorization);
  return out;
}

}  // namespace nimbus::s3
