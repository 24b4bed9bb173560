#include "store/azure/azure_store.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <pugixml.hpp>
#include <random>
#include <utility>
#include "core/strings.h"

namespace nimbus::store {
namespace azure_internal {

namespace {

bool IsUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == '~';
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The value of the first header named `name` (case-insensitive), or "".
std::string_view FindHeader(const http::Headers& headers, std::string_view name) {
  for (const auto& [n, v] : headers) {
    if (n.size() == name.size() && AsciiLower(n) == AsciiLower(name)) return v;
  }
  return {};
}

constexpr const char* kWeekdays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

bool ParseDigits(std::string_view s, int& out) {
  if (s.empty()) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

}  // namespace

std::string PercentEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size() * 3 / 2);
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (IsUnreserved(c)) {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

Result<std::string> PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    int hi = i + 2 < s.size() ? HexValue(s[i + 1]) : -1;
    int lo = i + 2 < s.size() ? HexValue(s[i + 2]) : -1;
    if (hi < 0 || lo < 0) {
      return InvalidArgumentError("malformed percent-escape in '" + std::string(s) + "'");
    }
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

std::string EncodeBlobPath(std::string_view blob_name) {
  std::string out;
  out.reserve(blob_name.size() + 8);
  size_t start = 0;
  while (true) {
    size_t slash = blob_name.find('/', start);
    std::string_view segment = blob_name.substr(start, slash - start);
    if (segment == ".") {
      out += "%2E";
    } else if (segment == "..") {
      out += "%2E%2E";
    } else {
      out += PercentEncode(segment);
    }
    if (slash == std::string_view::npos) break;
    out += '/';
    start = slash + 1;
  }
  return out;
}

std::string FormatHttpDate(int64_t unix_seconds) {
  using namespace std::chrono;
  sys_seconds t{seconds(unix_seconds)};
  sys_days day = floor<days>(t);
  year_month_day ymd(day);
  hh_mm_ss hms(t - day);
  char text[40];
  std::snprintf(text, sizeof(text), "%s, %02u %s %04d %02d:%02d:%02d GMT",
                kWeekdays[weekday(day).c_encoding()], static_cast<unsigned>(ymd.day()),
                kMonths[static_cast<unsigned>(ymd.month()) - 1], static_cast<int>(ymd.year()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return text;
}

int64_t ParseHttpDate(std::string_view text) {
  // "Sun, 06 Nov 1994 08:49:37 GMT": the weekday is redundant and not checked.
  size_t comma = text.find(", ");
  if (comma == std::string_view::npos) return 0;
  std::string_view rest = text.substr(comma + 2);
  if (rest.size() != 24 || rest.substr(20) != " GMT" || rest[2] != ' ' || rest[6] != ' ' ||
      rest[11] != ' ' || rest[14] != ':' || rest[17] != ':') {
    return 0;
  }
  int day_of_month = 0, year_number = 0, h = 0, m = 0, s = 0;
  if (!ParseDigits(rest.substr(0, 2), day_of_month) ||
      !ParseDigits(rest.substr(7, 4), year_number) || !ParseDigits(rest.substr(12, 2), h) ||
      !ParseDigits(rest.substr(15, 2), m) || !ParseDigits(rest.substr(18, 2), s)) {
    return 0;
  }
  unsigned month_number = 0;
  for (unsigned i = 0; i < 12; ++i) {
    if (rest.substr(3, 3) == kMonths[i]) month_number = i + 1;
  }
  using namespace std::chrono;
  year_month_day ymd{year(year_number), month(month_number), day(day_of_month)};
  if (month_number == 0 || !ymd.ok() || h > 23 || m > 59 || s > 60) return 0;
  return sys_days(ymd).time_since_epoch().count() * 86400ll + h * 3600 + m * 60 + s;
}

std::string SharedKeyStringToSign(const http::Request& request, std::string_view account) {
  std::string out = request.method + "\n";
  // Standard headers in the order the spec lists them; a request body's length when no explicit
  // header (the HTTP layer sends it), and empty rather than "0" (version 2015-02-21 and later).
  std::string content_length(FindHeader(request.headers, "Content-Length"));
  if (content_length.empty() && request.body) {
    content_length = std::to_string(request.BodyView().size());
  }
  if (content_length == "0") content_length.clear();
  for (std::string_view name :
       {"Content-Encoding", "Content-Language", "Content-Length", "Content-MD5", "Content-Type",
        "Date", "If-Modified-Since", "If-Match", "If-None-Match", "If-Unmodified-Since", "Range"}) {
    if (name == "Content-Length") {
      out += content_length;
    } else {
      out += FindHeader(request.headers, name);
    }
    out += '\n';
  }

  // x-ms-* headers: lower-case names sorted, values trimmed, repeated names joined by ','.
  std::map<std::string, std::string> ms_headers;
  for (const auto& [name, value] : request.headers) {
    std::string lower = AsciiLower(name);
    if (lower.rfind("x-ms-", 0) != 0) continue;
    auto [it, inserted] = ms_headers.try_emplace(lower, TrimWhitespace(value));
    if (!inserted) it->second += "," + std::string(TrimWhitespace(value));
  }
  for (const auto& [name, value] : ms_headers) out += name + ":" + value + "\n";

  // Canonicalized resource: the encoded path as sent, then the decoded query parameters.
  std::string_view url = request.url;
  size_t scheme = url.find("://");
  std::string_view after_scheme = scheme == std::string_view::npos ? url : url.substr(scheme + 3);
  size_t path_start = after_scheme.find_first_of("/?");
  std::string_view path_and_query =
      path_start == std::string_view::npos ? std::string_view() : after_scheme.substr(path_start);
  size_t question = path_and_query.find('?');
  std::string_view path = path_and_query.substr(0, question);
  out += "/";
  out += account;
  out += path.empty() ? "/" : path;

  std::map<std::string, std::vector<std::string>> params;
  if (question != std::string_view::npos) {
    std::string_view query = path_and_query.substr(question + 1);
    while (!query.empty()) {
      size_t amp = query.find('&');
      std::string_view item = query.substr(0, amp);
      query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
      if (item.empty()) continue;
      size_t eq = item.find('=');
      std::string_view raw_name = item.substr(0, eq);
      std::string_view raw_value =
          eq == std::string_view::npos ? std::string_view() : item.substr(eq + 1);
      // Our own URLs are well-formed; a bad escape is signed as it stands.
      auto name = PercentDecode(raw_name);
      auto value = PercentDecode(raw_value);
      params[AsciiLower(name.ok() ? *name : std::string(raw_name))].push_back(
          value.ok() ? *value : std::string(raw_value));
    }
  }
  for (auto& [name, values] : params) {
    std::sort(values.begin(), values.end());
    out += "\n" + name + ":";
    for (size_t i = 0; i < values.size(); ++i) {
      if (i > 0) out += ',';
      out += values[i];
    }
  }
  return out;
}

namespace {
std::string HmacSha256Base64(std::string_view raw_key, std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_size = 0;
  HMAC(EVP_sha256(), raw_key.data(), static_cast<int>(raw_key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest, &digest_size);
  return Base64Encode(std::string_view(reinterpret_cast<const char*>(digest), digest_size));
}
}  // namespace

Result<std::string> SharedKeySignature(std::string_view string_to_sign,
                                       std::string_view base64_key) {
  auto key = Base64Decode(base64_key);
  if (!key.ok()) return InvalidArgumentError("account key: " + key.status().message());
  return HmacSha256Base64(*key, string_to_sign);
}

ErrorBody ParseErrorBody(std::string_view xml) {
  ErrorBody out;
  pugi::xml_document doc;
  if (!doc.load_buffer(xml.data(), xml.size())) return out;
  pugi::xml_node error = doc.child("Error");
  out.code = error.child_value("Code");
  out.message = error.child_value("Message");
  out.detail = error.child_value("AuthenticationErrorDetail");
  return out;
}

namespace {
std::string OneLine(std::string text) {
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}
}  // namespace

std::string ErrorCode(const http::Response& response, const ErrorBody& body) {
  // HEAD responses have no body; the code is in a header.
  return body.code.empty() ? std::string(response.Header("x-ms-error-code")) : body.code;
}

Status ClassifyResponse(const http::Response& response, const RequestDescription& request) {
  int status = response.status;
  if (status >= 200 && status < 300) return Status::Ok();
  ErrorKind kind = ErrorKind::kPermanent;
  if (status == 404) {
    kind = ErrorKind::kNotFound;
  } else if (status == 412 || (status == 409 && request.conditional)) {
    kind = ErrorKind::kPreconditionFailed;
  } else if (status == 401 || status == 403) {
    kind = ErrorKind::kAccessDenied;
  } else if (status == 429 || status == 503) {
    kind = ErrorKind::kThrottled;
  } else if (status == 408 || status == 500 || status == 502 || status == 504) {
    kind = ErrorKind::kTransient;
  }
  ErrorBody body = ParseErrorBody(response.body.view());
  std::string code = ErrorCode(response, body);
  std::string message = request.operation;
  if (!request.blob.empty()) message += " of blob '" + request.blob + "'";
  message += " at " + request.url + " (" + request.store + "): HTTP " + std::to_string(status);
  if (!code.empty()) message += " " + code;
  if (!body.message.empty()) message += ": " + OneLine(body.message);
  if (!body.detail.empty()) message += " (" + OneLine(body.detail) + ")";
  if (body.code.empty() && !response.body.empty()) {
    // Not an Azure error document (a proxy, a load balancer): show its start.
    message += ": " + OneLine(std::string(response.body.view().substr(0, 200)));
  }
  return Status(kind, std::move(message), status);
}

namespace {
std::string QuoteEtag(std::string etag) {
  if (!etag.empty() && etag.front() != '"') etag = "\"" + etag + "\"";
  return etag;
}

Result<std::string> BlobNameOf(pugi::xml_node name_node) {
  std::string name = name_node.text().get();
  // Names with characters XML cannot carry come percent-encoded, flagged Encoded="true".
  if (name_node.attribute("Encoded").as_bool()) return PercentDecode(name);
  return name;
}
}  // namespace

Result<ListBlobsPage> ParseListBlobs(std::string_view xml) {
  pugi::xml_document doc;
  pugi::xml_parse_result parsed = doc.load_buffer(xml.data(), xml.size());
  if (!parsed) {
    return PermanentError(std::string("List Blobs: malformed XML response (") +
                          parsed.description() + " at offset " + std::to_string(parsed.offset) +
                          ")");
  }
  pugi::xml_node root = doc.child("EnumerationResults");
  if (!root) return PermanentError("List Blobs: response has no EnumerationResults element");
  ListBlobsPage page;
  for (pugi::xml_node node : root.child("Blobs").children()) {
    std::string_view kind = node.name();
    if (kind == "Blob") {
      ObjectInfo info;
      NIMBUS_ASSIGN_OR_RETURN(info.key, BlobNameOf(node.child("Name")));
      pugi::xml_node props = node.child("Properties");
      std::string_view length = props.child_value("Content-Length");
      auto [ptr, ec] = std::from_chars(length.data(), length.data() + length.size(), info.size);
      if (length.empty() || ec != std::errc() || ptr != length.data() + length.size()) {
        return PermanentError("List Blobs: blob '" + info.key + "' has a bad Content-Length '" +
                              std::string(length) + "'");
      }
      info.etag = QuoteEtag(props.child_value("Etag"));
      info.last_modified = ParseHttpDate(props.child_value("Last-Modified"));
      page.blobs.push_back(std::move(info));
    } else if (kind == "BlobPrefix") {
      NIMBUS_ASSIGN_OR_RETURN(std::string prefix, BlobNameOf(node.child("Name")));
      page.prefixes.push_back(std::move(prefix));
    }
  }
  page.next_marker = root.child_value("NextMarker");
  return page;
}

std::string BlockId(std::string_view upload_tag, uint32_t index) {
  char digits[16];
  std::snprintf(digits, sizeof(digits), "%08u", index);
  return Base64Encode(std::string(upload_tag) + digits);
}

std::string BlockListXml(const std::vector<std::string>& block_ids) {
  std::string xml = "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>";
  for (const std::string& id : block_ids) xml += "<Latest>" + id + "</Latest>";
  xml += "</BlockList>";
  return xml;
}

}  // namespace azure_internal

// -------------------------------------------------------------------------------------------------
// The store

using azure_internal::BlockId;
using azure_internal::EncodeBlobPath;
using azure_internal::ParseHttpDate;
using azure_internal::PercentEncode;

struct AzureStore::Context {
  AzureSettings settings;
  std::string container;
  std::string prefix;  // no leading or trailing '/'
  std::string container_url;
  std::string description;  // az://container/prefix
  std::string raw_key;      // decoded account key
  Status key_status;        // why the key is unusable, if it is
  http::RetryPolicy retry;

  std::string BlobName(std::string_view key) const {
    return prefix.empty() ? std::string(key) : prefix + "/" + std::string(key);
  }
  std::string BlobUrl(std::string_view blob) const {
    return container_url + "/" + EncodeBlobPath(blob);
  }

  // Adds date and version, then signs (SharedKey) or appends the SAS token.
  Status Authorize(http::Request& request) const {
    int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
    request.headers.emplace_back("x-ms-date", azure_internal::FormatHttpDate(now));
    request.headers.emplace_back("x-ms-version", std::string(azure_internal::kApiVersion));
    switch (settings.auth_mode()) {
      case AzureSettings::AuthMode::kSharedKey: {
        if (!key_status.ok()) return key_status;
        std::string string_to_sign =
            azure_internal::SharedKeyStringToSign(request, settings.account_name);
        request.headers.emplace_back("Authorization",
                                     "SharedKey " + settings.account_name + ":" +
                                         azure_internal::HmacSha256Base64(raw_key, string_to_sign));
        break;
      }
      case AzureSettings::AuthMode::kSas:
        request.url += request.url.find('?') == std::string::npos ? '?' : '&';
        request.url += settings.sas_token;
        break;
      case AzureSettings::AuthMode::kAnonymous:
        break;
    }
    return Status::Ok();
  }
};

namespace {

using Context = AzureStore::Context;
using ResponseFuture = Future<Result<http::Response>>;

// One logical request: what to send (before authorization) and how to describe it in errors.
struct RequestSpec {
  std::string operation;               // "Put Blob"
  std::string blob;                    // blob name; "" for container requests
  http::Request request;               // url without credentials
  std::vector<int> accepted_statuses;  // non-2xx statuses the caller handles itself
  bool conditional = false;            // carries If-Match / If-None-Match
};

Status Classify(const http::Response& response, const RequestSpec& spec, const Context& ctx) {
  azure_internal::RequestDescription description;
  description.operation = spec.operation;
  description.blob = spec.blob;
  description.url = spec.request.url.substr(0, spec.request.url.find('?'));
  description.store = ctx.description;
  description.conditional = spec.conditional;
  return azure_internal::ClassifyResponse(response, description);
}

Status StoreClosedError(const Context& ctx) {
  return PermanentError("Azure store " + ctx.description +
                        " was closed while an operation was in flight");
}

ResponseFuture Send(const std::shared_ptr<const Context>& ctx,
                    const std::shared_ptr<http::Client>& client, RequestSpec spec,
                    bool idempotent = true) {
  if (!client) return ReadyFuture(Result<http::Response>(StoreClosedError(*ctx)));
  auto shared_spec = std::make_shared<const RequestSpec>(std::move(spec));
  auto build = [ctx, shared_spec]() -> Result<http::Request> {
    http::Request request = shared_spec->request;  // fresh headers and date per attempt
    NIMBUS_RETURN_IF_ERROR(ctx->Authorize(request));
    return request;
  };
  auto classify = [ctx, shared_spec](const http::Response& response) -> Status {
    const auto& accepted = shared_spec->accepted_statuses;
    if (std::find(accepted.begin(), accepted.end(), response.status) != accepted.end()) {
      return Status::Ok();
    }
    return Classify(response, *shared_spec, *ctx);
  };
  return client->SendWithRetry(std::move(build), std::move(classify), ctx->retry, idempotent);
}

bool ParseUint(std::string_view text, uint64_t& out) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return !text.empty() && ec == std::errc() && ptr == text.data() + text.size();
}

// ObjectInfo from a Get Blob / Get Blob Properties response. The whole blob's size is the total
// of Content-Range on a ranged read, else Content-Length.
ObjectInfo InfoFromHeaders(std::string key, const http::Response& response, size_t body_size) {
  ObjectInfo info;
  info.key = std::move(key);
  info.etag = std::string(response.Header("etag"));
  info.last_modified = ParseHttpDate(response.Header("last-modified"));
  std::string_view content_range = response.Header("content-range");
  size_t slash = content_range.rfind('/');
  if (slash == std::string_view::npos || !ParseUint(content_range.substr(slash + 1), info.size)) {
    if (!ParseUint(response.Header("content-length"), info.size)) info.size = body_size;
  }
  return info;
}

RequestSpec HeadSpec(const Context& ctx, const std::string& blob) {
  RequestSpec spec;
  spec.operation = "Get Blob Properties";
  spec.blob = blob;
  spec.request.method = "HEAD";
  spec.request.url = ctx.BlobUrl(blob);
  spec.request.no_body = true;
  return spec;
}

Future<Result<ObjectInfo>> HeadBlob(const std::shared_ptr<const Context>& ctx,
                                    const std::shared_ptr<http::Client>& client, std::string key) {
  Promise<Result<ObjectInfo>> promise;
  Send(ctx, client, HeadSpec(*ctx, ctx->BlobName(key)))
      .Then([promise, key = std::move(key)](Result<http::Response>& response) {
        if (!response.ok()) return promise.Set(response.status());
        promise.Set(InfoFromHeaders(key, *response, 0));
      });
  return promise.future();
}

// Get in its several shapes; `client` is weak because continuations run on the client's thread.
struct GetOperation {
  std::shared_ptr<const Context> ctx;
  std::weak_ptr<http::Client> client;
  std::string key;
  ByteRange range;
  Promise<Result<GetResult>> promise;
  int suffix_attempts_left = 3;  // a suffix read restarts when the blob changes under it
};

void FinishEmpty(const std::shared_ptr<GetOperation>& op, Result<ObjectInfo>& info) {
  if (!info.ok()) return op->promise.Set(info.status());
  GetResult result;
  result.info = std::move(info).value();
  op->promise.Set(std::move(result));
}

// Reads [begin, end) (end 0 = to the end of the blob), optionally only from generation `etag`.
void ReadRange(const std::shared_ptr<GetOperation>& op, uint64_t begin, std::optional<uint64_t> end,
               std::string if_match);

void StartGet(const std::shared_ptr<GetOperation>& op) {
  const ByteRange& range = op->range;
  switch (range.kind) {
    case ByteRange::Kind::kAll:
      return ReadRange(op, 0, std::nullopt, "");
    case ByteRange::Kind::kFrom:
      return ReadRange(op, range.offset, std::nullopt, "");
    case ByteRange::Kind::kRange:
      if (range.length == 0) {
        // HTTP cannot ask for zero bytes; the properties still tell whether the blob exists.
        return HeadBlob(op->ctx, op->client.lock(), op->key).Then([op](Result<ObjectInfo>& info) {
          FinishEmpty(op, info);
        });
      }
      if (range.length > std::numeric_limits<uint64_t>::max() - range.offset) {
        return ReadRange(op, range.offset, std::nullopt, "");
      }
      return ReadRange(op, range.offset, range.offset + range.length, "");
    case ByteRange::Kind::kSuffix:
      // Azure takes no suffix ranges: learn the size, then read an explicit range of that
      // generation.
      return HeadBlob(op->ctx, op->client.lock(), op->key).Then([op](Result<ObjectInfo>& info) {
        if (!info.ok()) return op->promise.Set(info.status());
        auto [begin, end] = op->range.Resolve(info->size);
        if (begin == end) return FinishEmpty(op, info);
        ReadRange(op, begin, end, info->etag);
      });
  }
}

void ReadRange(const std::shared_ptr<GetOperation>& op, uint64_t begin, std::optional<uint64_t> end,
               std::string if_match) {
  const Context& ctx = *op->ctx;
  RequestSpec spec;
  spec.operation = "Get Blob";
  spec.blob = ctx.BlobName(op->key);
  spec.request.url = ctx.BlobUrl(spec.blob);
  bool ranged = begin > 0 || end.has_value();
  if (ranged) {
    std::string range = "bytes=" + std::to_string(begin) + "-";
    if (end) range += std::to_string(*end - 1);
    spec.request.headers.emplace_back("Range", std::move(range));
    constexpr uint64_t kMaxPresize = 64ull << 20;
    if (end && *end - begin <= kMaxPresize) spec.request.expected_response_size = *end - begin;
  }
  if (!if_match.empty()) spec.request.headers.emplace_back("If-Match", std::move(if_match));
  spec.accepted_statuses = {416};  // the range starts at or past the end of the blob

  Send(op->ctx, op->client.lock(), std::move(spec))
      .Then([op, ranged](Result<http::Response>& response) {
        if (!response.ok()) {
          if (response.status().kind() == ErrorKind::kPreconditionFailed &&
              op->range.kind == ByteRange::Kind::kSuffix && op->suffix_attempts_left-- > 0) {
            return StartGet(op);  // replaced between the size probe and the read
          }
          return op->promise.Set(response.status());
        }
        if (response->status == 416) {
          // Past the end (or an empty blob): no bytes, but the caller still gets the properties.
          return HeadBlob(op->ctx, op->client.lock(), op->key).Then([op](Result<ObjectInfo>& info) {
            FinishEmpty(op, info);
          });
        }
        GetResult result;
        result.info = InfoFromHeaders(op->key, *response, response->body.size());
        result.data = std::move(response->body);
        if (ranged && response->status == 200) {
          // The whole blob came back although a range was asked for: cut it here.
          auto [b, e] = op->range.Resolve(result.data.size());
          if (b != 0 || e != result.data.size()) {
            result.data = Buffer::CopyOf(result.data.view().substr(b, e - b));
          }
        }
        op->promise.Set(std::move(result));
      });
}

void AddConditions(http::Headers& headers, const PutOptions& options) {
  if (options.if_none_match_any) headers.emplace_back("If-None-Match", "*");
  if (!options.if_match.empty()) headers.emplace_back("If-Match", options.if_match);
}

bool IsConditional(const PutOptions& options) {
  return options.if_none_match_any || !options.if_match.empty();
}

// A write that names a generation of a blob that is not there has not met its precondition.
Result<PutResult> ToPutResult(Result<http::Response>& response, const PutOptions& options) {
  if (!response.ok()) {
    const Status& status = response.status();
    if (status.kind() == ErrorKind::kNotFound && !options.if_match.empty()) {
      return Status(ErrorKind::kPreconditionFailed, status.message(), status.http_status());
    }
    return status;
  }
  return PutResult{std::string(response->Header("etag"))};
}

// Put Block for each block_size slice (at most `window` in flight, all slicing one shared buffer),
// then Put Block List with the conditions.
struct BlockUpload {
  std::shared_ptr<const Context> ctx;
  std::weak_ptr<http::Client> client;
  std::string blob;
  std::shared_ptr<const Buffer> data;
  PutOptions options;
  std::string upload_tag;
  uint64_t block_size = 0;
  uint32_t block_count = 0;
  uint32_t window = 1;
  Promise<Result<PutResult>> promise;

  std::mutex mu;
  uint32_t next_block = 0;
  uint32_t in_flight = 0;
  uint32_t completed = 0;
  Status error;
  bool finished = false;
};

void OnBlockDone(const std::shared_ptr<BlockUpload>& upload, const Status& status);

void PumpBlocks(const std::shared_ptr<BlockUpload>& upload) {
  while (true) {
    uint32_t index;
    {
      std::lock_guard lock(upload->mu);
      if (!upload->error.ok() || upload->next_block == upload->block_count ||
          upload->in_flight >= upload->window) {
        return;
      }
      index = upload->next_block++;
      ++upload->in_flight;
    }
    const Context& ctx = *upload->ctx;
    RequestSpec spec;
    spec.operation = "Put Block";
    spec.blob = upload->blob;
    spec.request.method = "PUT";
    spec.request.url = ctx.BlobUrl(upload->blob) +
                       "?comp=block&blockid=" + PercentEncode(BlockId(upload->upload_tag, index));
    spec.request.body = upload->data;
    spec.request.body_offset = index * upload->block_size;
    spec.request.body_length =
        std::min<uint64_t>(upload->block_size, upload->data->size() - spec.request.body_offset);
    Send(upload->ctx, upload->client.lock(), std::move(spec))
        .Then(
            [upload](Result<http::Response>& response) { OnBlockDone(upload, response.status()); });
  }
}

void CommitBlocks(const std::shared_ptr<BlockUpload>& upload) {
  std::vector<std::string> ids;
  ids.reserve(upload->block_count);
  for (uint32_t i = 0; i < upload->block_count; ++i) ids.push_back(BlockId(upload->upload_tag, i));
  RequestSpec spec;
  spec.operation = "Put Block List";
  spec.blob = upload->blob;
  spec.conditional = IsConditional(upload->options);
  spec.request.method = "PUT";
  spec.request.url = upload->ctx->BlobUrl(upload->blob) + "?comp=blocklist";
  spec.request.body =
      std::make_shared<const Buffer>(Buffer::CopyOf(azure_internal::BlockListXml(ids)));
  spec.request.headers.emplace_back("Content-Type", "application/xml");
  if (!upload->options.content_type.empty()) {
    spec.request.headers.emplace_back("x-ms-blob-content-type", upload->options.content_type);
  }
  AddConditions(spec.request.headers, upload->options);
  // A retried conditional commit could fail on its own earlier success: not retried once sent.
  bool idempotent = !spec.conditional;
  Send(upload->ctx, upload->client.lock(), std::move(spec), idempotent)
      .Then([upload](Result<http::Response>& response) {
        upload->promise.Set(ToPutResult(response, upload->options));
      });
}

void OnBlockDone(const std::shared_ptr<BlockUpload>& upload, const Status& status) {
  {
    std::lock_guard lock(upload->mu);
    --upload->in_flight;
    ++upload->completed;
    if (!status.ok() && upload->error.ok()) upload->error = status;
  }
  PumpBlocks(upload);
  Status error;
  {
    std::lock_guard lock(upload->mu);
    if (upload->finished || upload->in_flight > 0) return;
    if (upload->error.ok() && upload->completed < upload->block_count) return;
    upload->finished = true;
    error = upload->error;
  }
  upload->data.reset();  // every block is sent; the commit does not need the bytes
  if (!error.ok()) return upload->promise.Set(error);
  CommitBlocks(upload);
}

// Lists every page, following NextMarker.
struct ListOperation {
  std::shared_ptr<const Context> ctx;
  std::weak_ptr<http::Client> client;
  std::string blob_prefix;  // store prefix included
  std::string delimiter;
  int page_size = 1000;
  ListResult result;
  Promise<Result<ListResult>> promise;
};

void FetchListPage(const std::shared_ptr<ListOperation>& op, const std::string& marker) {
  const Context& ctx = *op->ctx;
  RequestSpec spec;
  spec.operation = "List Blobs";
  std::string url = ctx.container_url + "?restype=container&comp=list";
  if (!op->blob_prefix.empty()) url += "&prefix=" + PercentEncode(op->blob_prefix);
  if (!op->delimiter.empty()) url += "&delimiter=" + PercentEncode(op->delimiter);
  if (!marker.empty()) url += "&marker=" + PercentEncode(marker);
  url += "&maxresults=" + std::to_string(op->page_size);
  spec.request.url = std::move(url);

  Send(op->ctx, op->client.lock(), std::move(spec)).Then([op](Result<http::Response>& response) {
    if (!response.ok()) return op->promise.Set(response.status());
    auto page = azure_internal::ParseListBlobs(response->body.view());
    if (!page.ok()) {
      return op->promise.Set(page.status().WithContext(op->ctx->description));
    }
    // Keys are relative to the store's prefix.
    const std::string& prefix = op->ctx->prefix;
    size_t strip = prefix.empty() ? 0 : prefix.size() + 1;
    auto relative = [&](const std::string& name) -> std::optional<std::string> {
      if (strip > 0 && (name.size() < strip || name.compare(0, prefix.size(), prefix) != 0 ||
                        name[prefix.size()] != '/')) {
        return std::nullopt;
      }
      return name.substr(strip);
    };
    for (ObjectInfo& info : page->blobs) {
      if (auto key = relative(info.key)) {
        info.key = std::move(*key);
        op->result.objects.push_back(std::move(info));
      }
    }
    for (const std::string& name : page->prefixes) {
      if (auto key = relative(name)) op->result.common_prefixes.push_back(std::move(*key));
    }
    if (!page->next_marker.empty()) return FetchListPage(op, page->next_marker);
    auto& objects = op->result.objects;
    std::sort(objects.begin(), objects.end(),
              [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
    std::sort(op->result.common_prefixes.begin(), op->result.common_prefixes.end());
    op->promise.Set(std::move(op->result));
  });
}

std::string_view TrimSlashes(std::string_view s) {
  while (!s.empty() && s.front() == '/') s.remove_prefix(1);
  while (!s.empty() && s.back() == '/') s.remove_suffix(1);
  return s;
}

std::string RandomUploadTag() {
  thread_local std::mt19937_64 generator{std::random_device{}()};
  char tag[17];
  std::snprintf(tag, sizeof(tag), "%016llx", static_cast<unsigned long long>(generator()));
  return tag;
}

template <typename T>
Future<Result<T>> ReadyError(Status status) {
  return ReadyFuture(Result<T>(std::move(status)));
}

}  // namespace

AzureStore::AzureStore(AzureSettings settings, std::string container, std::string prefix,
                       std::shared_ptr<http::Client> client)
    : client_(std::move(client)) {
  auto ctx = std::make_shared<Context>();
  ctx->settings = std::move(settings);
  ctx->container = std::move(container);
  ctx->prefix = std::string(TrimSlashes(prefix));
  std::string endpoint = ctx->settings.endpoint;
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
  ctx->container_url = endpoint + "/" + PercentEncode(ctx->container);
  ctx->description = "az://" + ctx->container + (ctx->prefix.empty() ? "" : "/" + ctx->prefix);
  if (!ctx->settings.account_key.empty()) {
    auto key = azure_internal::Base64Decode(ctx->settings.account_key);
    if (key.ok()) {
      ctx->raw_key = std::move(key).value();
    } else {
      ctx->key_status = InvalidArgumentError("account_key: " + key.status().message());
    }
  }
  ctx->retry.max_attempts = ctx->settings.retry_max_attempts;
  ctx->retry.deadline = ctx->settings.deadline;
  if (!client_) {
    http::ClientOptions options;
    options.max_connections = ctx->settings.max_connections;
    options.connect_timeout = ctx->settings.connect_timeout;
    client_ = std::make_shared<http::Client>(options);
  }
  ctx_ = std::move(ctx);
}

AzureStore::~AzureStore() = default;

std::string AzureStore::Describe() const { return ctx_->description; }

StoreCapabilities AzureStore::Capabilities() const {
  StoreCapabilities caps;
  caps.conditional_put = true;
  caps.atomic_put = true;  // a blob's content changes only when Put Blob / Put Block List commits
  return caps;
}

Future<Result<GetResult>> AzureStore::Get(std::string key, ByteRange range) {
  if (key.empty()) return ReadyError<GetResult>(InvalidArgumentError("Get: empty key"));
  auto op = std::make_shared<GetOperation>();
  op->ctx = ctx_;
  op->client = client_;
  op->key = std::move(key);
  op->range = range;
  Future<Result<GetResult>> out = op->promise.future();
  StartGet(op);
  return out;
}

Future<Result<PutResult>> AzureStore::Put(std::string key, Buffer data, PutOptions options) {
  if (key.empty()) return ReadyError<PutResult>(InvalidArgumentError("Put: empty key"));
  const AzureSettings& settings = ctx_->settings;
  std::string blob = ctx_->BlobName(key);
  auto shared_data = std::make_shared<const Buffer>(std::move(data));

  if (shared_data->size() <= settings.single_put_threshold) {
    RequestSpec spec;
    spec.operation = "Put Blob";
    spec.blob = blob;
    spec.conditional = IsConditional(options);
    spec.request.method = "PUT";
    spec.request.url = ctx_->BlobUrl(blob);
    spec.request.body = std::move(shared_data);
    spec.request.headers.emplace_back("x-ms-blob-type", "BlockBlob");
    if (!options.content_type.empty()) {
      spec.request.headers.emplace_back("Content-Type", options.content_type);
    }
    AddConditions(spec.request.headers, options);
    Promise<Result<PutResult>> promise;
    bool idempotent = !spec.conditional;
    Send(ctx_, client_, std::move(spec), idempotent)
        .Then([promise, options = std::move(options)](Result<http::Response>& response) {
          promise.Set(ToPutResult(response, options));
        });
    return promise.future();
  }

  constexpr uint64_t kMaxBlocks = 50'000;  // per blob, a service limit
  uint64_t block_size = std::max<uint64_t>(settings.block_size, 1);
  uint64_t blocks = (shared_data->size() + block_size - 1) / block_size;
  if (blocks > kMaxBlocks) {
    return ReadyError<PutResult>(InvalidArgumentError(
        "Put of '" + blob + "' to " + ctx_->description + ": " +
        std::to_string(shared_data->size()) + " bytes need " + std::to_string(blocks) +
        " blocks of block_size " + std::to_string(block_size) +
        "; Azure allows 50000 per blob: raise block_size"));
  }
  auto upload = std::make_shared<BlockUpload>();
  upload->ctx = ctx_;
  upload->client = client_;
  upload->blob = std::move(blob);
  upload->data = std::move(shared_data);
  upload->options = std::move(options);
  upload->upload_tag = RandomUploadTag();
  upload->block_size = block_size;
  upload->block_count = static_cast<uint32_t>(blocks);
  upload->window = static_cast<uint32_t>(std::max(1, settings.max_connections));
  Future<Result<PutResult>> out = upload->promise.future();
  PumpBlocks(upload);
  return out;
}

Future<Result<ObjectInfo>> AzureStore::Head(std::string key) {
  if (key.empty()) return ReadyError<ObjectInfo>(InvalidArgumentError("Head: empty key"));
  return HeadBlob(ctx_, client_, std::move(key));
}

Future<Status> AzureStore::Delete(std::string key) {
  if (key.empty()) return ReadyFuture(InvalidArgumentError("Delete: empty key"));
  RequestSpec spec;
  spec.operation = "Delete Blob";
  spec.blob = ctx_->BlobName(key);
  spec.request.method = "DELETE";
  spec.request.url = ctx_->BlobUrl(spec.blob);
  spec.request.headers.emplace_back("x-ms-delete-snapshots", "include");
  spec.accepted_statuses = {404};  // already gone
  Promise<Status> promise;
  Send(ctx_, client_, std::move(spec)).Then([promise](Result<http::Response>& response) {
    promise.Set(response.status());
  });
  return promise.future();
}

Future<Result<ListResult>> AzureStore::List(ListOptions options) {
  auto op = std::make_shared<ListOperation>();
  op->ctx = ctx_;
  op->client = client_;
  op->blob_prefix = ctx_->prefix.empty() ? options.prefix : ctx_->prefix + "/" + options.prefix;
  op->delimiter = std::move(options.delimiter);
  op->page_size = std::clamp(options.page_size, 1, 5000);  // the service's cap
  Future<Result<ListResult>> out = op->promise.future();
  FetchListPage(op, "");
  return out;
}

Status AzureStore::CreateContainerIfMissing() {
  RequestSpec spec;
  spec.operation = "Create Container";
  spec.request.method = "PUT";
  spec.request.url = ctx_->container_url + "?restype=container";
  spec.accepted_statuses = {409};
  RequestSpec copy = spec;
  Result<http::Response> response = Send(ctx_, client_, std::move(spec)).Get();
  if (!response.ok()) return response.status();
  if (response->status == 409) {
    azure_internal::ErrorBody body = azure_internal::ParseErrorBody(response->body.view());
    if (azure_internal::ErrorCode(*response, body) == "ContainerAlreadyExists") {
      return Status::Ok();
    }
    return Classify(*response, copy, *ctx_);
  }
  return Status::Ok();
}

}  // namespace nimbus::store
