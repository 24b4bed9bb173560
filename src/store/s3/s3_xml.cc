#include "store/s3/s3_xml.h"

#include <pugixml.hpp>

#include <cstdio>
#include <cstring>
#include <ctime>
#include <sstream>

namespace nimbus::s3 {
namespace {

bool Load(pugi::xml_document& doc, std::string_view body) {
  return doc.load_buffer(body.data(), body.size(), pugi::parse_default, pugi::encoding_utf8);
}

std::string Text(const pugi::xml_node& node, const char* child) {
  return node.child(child).text().as_string();
}

}  // namespace

S3Error ParseError(std::string_view body) {
  S3Error e;
  pugi::xml_document doc;
  if (body.empty() || !Load(doc, body)) return e;
  pugi::xml_node err = doc.child("Error");
  if (!err) return e;
  e.code = Text(err, "Code");
  e.message = Text(err, "Message");
  e.request_id = Text(err, "RequestId");
  return e;
}

int64_t ParseHttpTime(std::string_view text) {
  std::tm tm{};
  std::string s(text);
  const char* end = strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (end == nullptr) end = strptime(s.c_str(), "%a, %d %b %Y %H:%M:%S", &tm);
  if (end == nullptr) return 0;
  return static_cast<int64_t>(timegm(&tm));
}

Result<ListPage> ParseListObjectsV2(std::string_view body) {
  pugi::xml_document doc;
  if (!Load(doc, body)) return PermanentError("ListObjectsV2: response is not XML");
  pugi::xml_node root = doc.child("ListBucketResult");
  if (!root) return PermanentError("ListObjectsV2: response has no ListBucketResult");
  ListPage page;
  for (pugi::xml_node c : root.children("Contents")) {
    store::ObjectInfo info;
    info.key = Text(c, "Key");
    info.size = c.child("Size").text().as_ullong();
    info.etag = Text(c, "ETag");
    info.last_modified = ParseHttpTime(Text(c, "LastModified"));
    page.objects.push_back(std::move(info));
  }
  for (pugi::xml_node p : root.children("CommonPrefixes")) {
    page.common_prefixes.push_back(Text(p, "Prefix"));
  }
  page.truncated = root.child("IsTruncated").text().as_bool();
  page.next_continuation_token = Text(root, "NextContinuationToken");
  if (page.truncated && page.next_continuation_token.empty()) {
    return PermanentError("ListObjectsV2: truncated page without a continuation token");
  }
  return page;
}

Result<std::string> ParseInitiateMultipartUpload(std::string_view body) {
  pugi::xml_document doc;
  if (!Load(doc, body)) return PermanentError("CreateMultipartUpload: response is not XML");
  std::string id = doc.child("InitiateMultipartUploadResult").child("UploadId").text().as_string();
  if (id.empty()) return PermanentError("CreateMultipartUpload: response has no UploadId");
  return id;
}

std::string BuildCompleteMultipartUpload(const std::vector<std::pair<int, std::string>>& parts) {
  pugi::xml_document doc;
  pugi::xml_node root = doc.append_child("CompleteMultipartUpload");
  for (const auto& [number, etag] : parts) {
    pugi::xml_node part = root.append_child("Part");
    part.append_child("PartNumber").text().set(number);
    part.append_child("ETag").text().set(etag.c_str());
  }
  std::ostringstream out;
  doc.save(out, "", pugi::format_raw);
  return out.str();
}

std::string BuildDeleteObjects(const std::vector<std::string>& full_keys) {
  pugi::xml_document doc;
  pugi::xml_node root = doc.append_child("Delete");
  root.append_child("Quiet").text().set("true");
  for (const auto& key : full_keys) {
    root.append_child("Object").append_child("Key").text().set(key.c_str());
  }
  std::ostringstream out;
  doc.save(out, "", pugi::format_raw);
  return out.str();
}

std::vector<std::pair<std::string, std::string>> ParseDeleteObjectsErrors(std::string_view body) {
  std::vector<std::pair<std::string, std::string>> errors;
  pugi::xml_document doc;
  if (!Load(doc, body)) return errors;
  for (pugi::xml_node e : doc.child("DeleteResult").children("Error")) {
    errors.emplace_back(Text(e, "Key"), Text(e, "Code") + ": " + Text(e, "Message"));
  }
  return errors;
}

}  // namespace nimbus::s3
