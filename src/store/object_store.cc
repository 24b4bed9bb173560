#include "store/object_store.h"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <limits>
#include <optional>
#include <system_error>
#include <utility>

namespace nimbus::store {

// ---------------------------------------------------------------------------------------------
// ByteRange

std::pair<uint64_t, uint64_t> ByteRange::Resolve(uint64_t size) const {
  switch (kind) {
    case Kind::kAll:
      return {0, size};
    case Kind::kRange: {
      uint64_t begin = std::min(offset, size);
      // Saturate so Range(offset, UINT64_MAX) means "to the end" instead of wrapping.
      uint64_t end =
          length > std::numeric_limits<uint64_t>::max() - offset ? size : offset + length;
      return {begin, std::clamp(end, begin, size)};
    }
    case Kind::kFrom: {
      uint64_t begin = std::min(offset, size);
      return {begin, size};
    }
    case Kind::kSuffix:
      return {size - std::min(length, size), size};
  }
  return {0, size};
}

std::string ByteRange::ToString() const {
  switch (kind) {
    case Kind::kAll:
      return "all";
    case Kind::kRange:
      // Built by appending: GCC 12 at -O3 reports a false -Wrestrict for "[" + std::string.
      {
        std::string out = "[";
        out += std::to_string(offset);
        out += ", ";
        out += length > std::numeric_limits<uint64_t>::max() - offset
                   ? std::string("end")
                   : std::to_string(offset + length);
        out += ")";
        return out;
      }
    case Kind::kFrom: {
      std::string out = "[";
      out += std::to_string(offset);
      out += ", end)";
      return out;
    }
    case Kind::kSuffix:
      return "last " + std::to_string(length);
  }
  return "?";
}

// ---------------------------------------------------------------------------------------------
// StoreUrl

namespace {

constexpr std::string_view kKnownSchemes[] = {"s3", "az", "file", "memory"};

bool IsKnownScheme(std::string_view scheme) {
  return std::find(std::begin(kKnownSchemes), std::end(kKnownSchemes), scheme) !=
         std::end(kKnownSchemes);
}

std::string ToLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool IsSchemeChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '-' || c == '.';
}

// Bucket, container and memory-store names: the characters every supported service allows.
bool IsValidBucketName(std::string_view name) {
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_';
  });
}

std::string_view TrimSlashes(std::string_view s) {
  while (!s.empty() && s.front() == '/') s.remove_prefix(1);
  while (!s.empty() && s.back() == '/') s.remove_suffix(1);
  return s;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<std::string> PercentDecode(std::string_view s, std::string_view url) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    int hi = i + 2 < s.size() ? HexValue(s[i + 1]) : -1;
    int lo = i + 2 < s.size() ? HexValue(s[i + 2]) : -1;
    if (hi < 0 || lo < 0) {
      return InvalidArgumentError("store URL '" + std::string(url) +
                                  "': bad percent escape (write a literal '%' as %25)");
    }
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  if (out.find('\0') != std::string::npos) {
    return InvalidArgumentError("store URL '" + std::string(url) + "' decodes to a NUL byte");
  }
  return out;
}

// Keeps RFC 3986 path characters (unreserved, sub-delims, ':', '@', '/'); escapes the rest.
std::string PercentEncodePath(std::string_view s) {
  static constexpr std::string_view kKeep = "-._~!$&'()*+,;=:@/";
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                kKeep.find(c) != std::string_view::npos;
    if (keep) {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0xF]);
    }
  }
  return out;
}

// Makes `path` absolute (relative to the working directory) and lexically normal, without a
// trailing '/' except for the root itself.
Result<std::string> AbsoluteDirectory(std::string_view path, std::string_view url) {
  if (path.empty()) return InvalidArgumentError("store URL '" + std::string(url) + "': empty path");
  std::filesystem::path p{std::string(path)};
  if (p.is_relative()) {
    std::error_code ec;
    std::filesystem::path cwd = std::filesystem::current_path(ec);
    if (ec) {
      return PermanentError("store URL '" + std::string(url) +
                            "': cannot resolve a relative path: " + ec.message());
    }
    p = cwd / p;
  }
  std::string out = p.lexically_normal().string();
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

Result<StoreUrl> ParseFileUrl(std::string_view rest, bool had_authority, std::string_view url) {
  if (rest.find_first_of("?#") != std::string_view::npos) {
    return InvalidArgumentError("file URL '" + std::string(url) +
                                "' has a query or fragment; percent-encode '?' as %3F and '#' "
                                "as %23, or pass a plain path");
  }
  std::string_view path = rest;
  if (had_authority) {
    // file://host/path: only an empty host or "localhost" names this machine (RFC 8089).
    size_t slash = rest.find('/');
    std::string_view host = rest.substr(0, slash);
    if (!host.empty() && ToLower(host) != "localhost") {
      return InvalidArgumentError("file URL '" + std::string(url) + "' names host '" +
                                  std::string(host) +
                                  "'; use file:///absolute/dir (three slashes) or a plain path");
    }
    if (slash == std::string_view::npos) {
      return InvalidArgumentError("file URL '" + std::string(url) + "' has no path");
    }
    path = rest.substr(slash);
  }
  if (path.empty() || path.front() != '/') {
    return InvalidArgumentError("file URL '" + std::string(url) + "' must hold an absolute path");
  }
  NIMBUS_ASSIGN_OR_RETURN(std::string decoded, PercentDecode(path, url));
  NIMBUS_ASSIGN_OR_RETURN(std::string dir, AbsoluteDirectory(decoded, url));
  return StoreUrl{"file", "", std::move(dir)};
}

}  // namespace

Result<StoreUrl> StoreUrl::Parse(std::string_view url) {
  if (url.empty()) return InvalidArgumentError("empty store URL");

  // A scheme is letters etc. before the first ':'; anything else is a plain path.
  size_t colon = url.find(':');
  bool has_scheme = colon != std::string_view::npos && colon > 0 &&
                    std::all_of(url.begin(), url.begin() + colon, IsSchemeChar);
  std::string scheme = has_scheme ? ToLower(url.substr(0, colon)) : "";
  bool has_authority = has_scheme && url.substr(colon + 1).substr(0, 2) == "//";

  if (!has_authority) {
    if (scheme == "file") return ParseFileUrl(url.substr(colon + 1), false, url);
    if (IsKnownScheme(scheme)) {
      return InvalidArgumentError("store URL '" + std::string(url) + "': expected " + scheme +
                                  "://...");
    }
    if (url.find("://") != std::string_view::npos) {
      return InvalidArgumentError("store URL '" + std::string(url) +
                                  "' has a malformed scheme (expected s3://, az://, file://, "
                                  "memory:// or a plain path)");
    }
    NIMBUS_ASSIGN_OR_RETURN(std::string dir, AbsoluteDirectory(url, url));
    return StoreUrl{"file", "", std::move(dir)};
  }

  std::string_view rest = url.substr(colon + 3);
  if (scheme == "file") return ParseFileUrl(rest, true, url);
  if (!IsKnownScheme(scheme)) {
    return InvalidArgumentError("store URL '" + std::string(url) + "': unknown scheme '" + scheme +
                                "' (expected s3, az, file or memory)");
  }

  size_t slash = rest.find('/');
  std::string_view bucket = rest.substr(0, slash);
  std::string_view prefix = slash == std::string_view::npos ? "" : rest.substr(slash + 1);
  const char* what = scheme == "s3" ? "bucket" : scheme == "az" ? "container" : "store name";
  if (bucket.empty()) {
    return InvalidArgumentError("store URL '" + std::string(url) + "' has an empty " + what);
  }
  if (!IsValidBucketName(bucket)) {
    return InvalidArgumentError("store URL '" + std::string(url) + "': invalid " + what + " '" +
                                std::string(bucket) + "' (letters, digits, '-', '.' and '_' only)");
  }
  return StoreUrl{std::move(scheme), std::string(bucket), std::string(TrimSlashes(prefix))};
}

std::string StoreUrl::ToString() const {
  if (scheme == "file") return "file://" + PercentEncodePath(prefix);
  std::string out = scheme + "://" + bucket;
  if (!prefix.empty()) out += "/" + prefix;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Default batch operations: issue the single operations, then gather their completions without
// blocking (the last continuation to run completes the combined future).

Future<Status> ObjectStore::DeleteMany(std::vector<std::string> keys) {
  if (keys.empty()) return ReadyFuture(Status::Ok());

  struct Gather {
    explicit Gather(std::vector<std::string> k) : keys(std::move(k)), statuses(keys.size()) {}
    std::vector<std::string> keys;
    std::vector<Status> statuses;
    std::atomic<size_t> remaining{0};
    Promise<Status> done;
  };
  auto gather = std::make_shared<Gather>(std::move(keys));
  gather->remaining = gather->keys.size();
  Future<Status> out = gather->done.future();

  for (size_t i = 0; i < gather->keys.size(); ++i) {
    Delete(gather->keys[i]).Then([gather, i](Status& status) {
      gather->statuses[i] = std::move(status);
      if (gather->remaining.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
      for (size_t j = 0; j < gather->statuses.size(); ++j) {
        if (!gather->statuses[j].ok()) {
          gather->done.Set(gather->statuses[j].WithContext("deleting '" + gather->keys[j] + "'"));
          return;
        }
      }
      gather->done.Set(Status::Ok());
    });
  }
  return out;
}

Future<Result<std::vector<Buffer>>> ObjectStore::GetRanges(std::string key,
                                                           std::vector<ByteRange> ranges) {
  if (ranges.empty()) return ReadyFuture(Result<std::vector<Buffer>>(std::vector<Buffer>{}));

  struct Gather {
    explicit Gather(size_t n) : results(n) {}
    std::vector<std::optional<Result<GetResult>>> results;
    std::atomic<size_t> remaining{0};
    Promise<Result<std::vector<Buffer>>> done;
  };
  auto gather = std::make_shared<Gather>(ranges.size());
  gather->remaining = ranges.size();
  Future<Result<std::vector<Buffer>>> out = gather->done.future();

  for (size_t i = 0; i < ranges.size(); ++i) {
    Get(key, ranges[i]).Then([gather, i](Result<GetResult>& result) {
      gather->results[i].emplace(std::move(result));
      if (gather->remaining.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
      std::vector<Buffer> buffers;
      buffers.reserve(gather->results.size());
      for (auto& r : gather->results) {
        if (!r->ok()) {
          gather->done.Set(r->status());
          return;
        }
        buffers.push_back(std::move(r->value().data));
      }
      gather->done.Set(std::move(buffers));
    });
  }
  return out;
}

}  // namespace nimbus::store
