// AzureStore: ObjectStore on Azure Blob Storage (block blobs) through the shared HTTP client.
// Keys map to blob names "<prefix>/<key>" in one container. Small objects are one Put Blob; larger
// ones are Put Block (concurrently) + Put Block List, which also carries the conditional headers,
// so a conditional write of any size is atomic.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "store/azure/azure_settings.h"
#include "store/http/http_client.h"
#include "store/object_store.h"

namespace nimbus::store {

class AzureStore final : public ObjectStore {
 public:
  // `prefix` has no leading or trailing '/' (they are dropped); `client` may be shared between
  // stores, and is created from the settings when null.
  AzureStore(AzureSettings settings, std::string container, std::string prefix,
             std::shared_ptr<http::Client> client = nullptr);
  ~AzureStore() override;

  std::string Describe() const override;
  StoreCapabilities Capabilities() const override;

  Future<Result<GetResult>> Get(std::string key, ByteRange range = ByteRange::All()) override;
  Future<Result<PutResult>> Put(std::string key, Buffer data, PutOptions options = {}) override;
  Future<Result<ObjectInfo>> Head(std::string key) override;
  Future<Status> Delete(std::string key) override;
  Future<Result<ListResult>> List(ListOptions options) override;
  // DeleteMany and GetRanges: the base class's concurrent single requests (the Blob Batch API
  // is not used).

  // Creates the container when it does not exist (tests, tools); blocks.
  Status CreateContainerIfMissing();

  // Endpoint, names and credentials; shared with in-flight requests (no client inside, so a
  // request finishing on the client's thread never holds the last reference to the client).
  struct Context;

 private:
  std::shared_ptr<const Context> ctx_;
  std::shared_ptr<http::Client> client_;
};

// Protocol pieces, exposed for unit tests.
namespace azure_internal {

inline constexpr std::string_view kApiVersion = "2021-08-06";

// RFC 3986 percent-encoding: unreserved characters are kept, every other byte becomes %XX.
std::string PercentEncode(std::string_view s);
// Inverse of PercentEncode ('+' stays '+'); fails on a malformed escape.
Result<std::string> PercentDecode(std::string_view s);
// A blob name as a URL path: each '/'-separated segment percent-encoded; "." and ".." segments are
// escaped so no HTTP layer collapses them as dot segments.
std::string EncodeBlobPath(std::string_view blob_name);

// "Sun, 06 Nov 1994 08:49:37 GMT" (RFC 1123, always English, independent of the locale).
std::string FormatHttpDate(int64_t unix_seconds);
// Seconds since the epoch, or 0 when `text` is not an RFC 1123 date.
int64_t ParseHttpDate(std::string_view text);

// The SharedKey string-to-sign of a request (Blob service, version 2015-02-21 and later): verb,
// standard headers (Content-Length empty when 0), canonicalized x-ms- headers and the
// canonicalized resource "/<account><encoded path>\n<param>:<decoded value>...".
std::string SharedKeyStringToSign(const http::Request& request, std::string_view account);
// base64(HMAC-SHA256(base64decode(key), string_to_sign)).
Result<std::string> SharedKeySignature(std::string_view string_to_sign,
                                       std::string_view base64_key);

// <Error><Code/><Message/>[<AuthenticationErrorDetail/>]</Error>; fields empty when absent.
struct ErrorBody {
  std::string code;
  std::string message;
  std::string detail;
};
ErrorBody ParseErrorBody(std::string_view xml);
// The Azure error code: from the body, else the x-ms-error-code header (HEAD has no body).
std::string ErrorCode(const http::Response& response, const ErrorBody& body);

// What a request was: for error messages, and to classify its response.
struct RequestDescription {
  std::string operation;     // "Put Blob"
  std::string blob;          // blob name; "" for container requests
  std::string url;           // without the query, so no SAS token reaches a message
  std::string store;         // az://container/prefix
  bool conditional = false;  // carried If-Match / If-None-Match
};
// 2xx: ok. Otherwise an error whose kind follows the status (404 not found; 412, and 409 on a
// conditional write, precondition failed; 401/403 access denied; 429/503 throttled;
// 408/500/502/504 transient; anything else permanent) and whose message holds the Azure error
// code and message, the HTTP status, the blob and the URL.
Status ClassifyResponse(const http::Response& response, const RequestDescription& request);

// One List Blobs page: blob names are full (prefix included) and decoded; etags quoted.
struct ListBlobsPage {
  std::vector<ObjectInfo> blobs;
  std::vector<std::string> prefixes;
  std::string next_marker;
};
Result<ListBlobsPage> ParseListBlobs(std::string_view xml);

// Block ids of one upload: base64 of `upload_tag` + the 8-digit index, so every id of the upload
// has the same length and concurrent uploads of the same blob do not share ids.
std::string BlockId(std::string_view upload_tag, uint32_t index);
std::string BlockListXml(const std::vector<std::string>& block_ids);

}  // namespace azure_internal
}  // namespace nimbus::store
