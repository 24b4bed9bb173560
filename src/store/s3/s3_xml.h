// The S3 XML documents nimbus reads and writes: error bodies, ListObjectsV2 pages, multipart
// upload ids/completion, and batch delete. Pure functions, tested without a server.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "store/object_store.h"

namespace nimbus::s3 {

struct S3Error {
  std::string code;        // "NoSuchKey", "SlowDown", ...; empty when the body had none
  std::string message;
  std::string request_id;
};
// Parses <Error><Code/><Message/><RequestId/></Error>; returns an empty S3Error for other bodies.
S3Error ParseError(std::string_view body);

struct ListPage {
  std::vector<store::ObjectInfo> objects;  // keys as the server returned them (full keys)
  std::vector<std::string> common_prefixes;
  bool truncated = false;
  std::string next_continuation_token;
};
Result<ListPage> ParseListObjectsV2(std::string_view body);

Result<std::string> ParseInitiateMultipartUpload(std::string_view body);  // the UploadId
// (part number, etag) in order.
std::string BuildCompleteMultipartUpload(const std::vector<std::pair<int, std::string>>& parts);
std::string BuildDeleteObjects(const std::vector<std::string>& full_keys);
// The per-key errors of a DeleteObjects response: (key, "Code: Message").
std::vector<std::pair<std::string, std::string>> ParseDeleteObjectsErrors(std::string_view body);

// ISO 8601 ("2024-01-02T03:04:05.000Z") or RFC 1123 ("Tue, 02 Jan 2024 03:04:05 GMT") to seconds;
// 0 when unparseable.
int64_t ParseHttpTime(std::string_view text);

}  // namespace nimbus::s3
