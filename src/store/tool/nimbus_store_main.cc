// nimbus-store: get/put/head/ls/rm against any store URL (s3://, az://, file://, memory://).
//
// Objects are named URL/KEY: for bucket stores the first path segment is the bucket and the rest
// the key (s3://bucket/a/b -> store s3://bucket, key a/b); for directories the last segment is the
// key. `--store URL` names the store explicitly, and then arguments are plain keys.
//
// Exit codes: 0 success, 1 the operation failed ("nimbus-store: <status>" on stderr), 2 usage.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <exception>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/buffer.h"
#include "core/config.h"
#include "core/status.h"
#include "store/object_store.h"
#include "store/store_factory.h"

namespace nimbus::store::tool {
namespace {

constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

using Json = nlohmann::json;

// Options shared by every command.
struct GlobalOptions {
  std::vector<std::string> sets;  // "k=v" or "k=v,k2=v2"
  std::string store_url;          // --store: arguments are then plain keys
  bool json = false;
};

// One object: which store and which key inside it.
struct ObjectRef {
  std::string store_url;
  std::string key;
};

// A usage mistake found after parsing (exit 2 rather than 1).
struct UsageError {
  std::string message;
};

int Fail(const Status& status) {
  std::fprintf(stderr, "nimbus-store: %s\n", status.ToString().c_str());
  return kExitFailure;
}

int FailUsage(const std::string& message) {
  std::fprintf(stderr, "nimbus-store: %s\n", message.c_str());
  return kExitUsage;
}

bool IsBucketScheme(std::string_view scheme) { return scheme != "file" && !scheme.empty(); }

// Splits URL/KEY into the store and the key (see the file comment).
Result<ObjectRef> SplitObjectUrl(const std::string& arg, const GlobalOptions& global) {
  if (!global.store_url.empty()) {
    if (arg.empty()) return InvalidArgumentError("empty key");
    return ObjectRef{global.store_url, arg};
  }
  size_t sep = arg.find("://");
  std::string scheme = sep == std::string::npos ? "" : arg.substr(0, sep);
  if (IsBucketScheme(scheme)) {
    size_t bucket_end = arg.find('/', sep + 3);
    if (bucket_end == std::string::npos || bucket_end + 1 >= arg.size()) {
      return InvalidArgumentError("'" + arg + "' names no object: expected " + scheme +
                                  "://BUCKET/KEY");
    }
    return ObjectRef{arg.substr(0, bucket_end), arg.substr(bucket_end + 1)};
  }
  std::string path = arg;
  if (scheme.empty()) path = std::filesystem::absolute(arg).lexically_normal().string();
  size_t slash = path.rfind('/');
  if (slash == std::string::npos || slash + 1 >= path.size()) {
    return InvalidArgumentError("'" + arg + "' names no object: expected DIR/KEY");
  }
  std::string dir = path.substr(0, slash);
  if (dir.empty() || dir == "file://") dir += "/";
  return ObjectRef{dir, path.substr(slash + 1)};
}

// Store URL for ls: a plain relative path becomes absolute so the file driver sees one form.
std::string NormalizeStoreUrl(const std::string& url) {
  if (url.find("://") != std::string::npos) return url;
  return std::filesystem::absolute(url).lexically_normal().string();
}

class StoreCache {
 public:
  explicit StoreCache(ConfigMap config) : config_(std::move(config)) {}

  Result<std::shared_ptr<ObjectStore>> Open(const std::string& url) {
    auto it = stores_.find(url);
    if (it != stores_.end()) return it->second;
    auto store = OpenStore(url, config_);
    if (!store.ok()) return store.status();
    stores_.emplace(url, *store);
    return *store;
  }

 private:
  ConfigMap config_;
  std::map<std::string, std::shared_ptr<ObjectStore>> stores_;
};

std::string FormatTime(int64_t seconds) {
  if (seconds == 0) return "-";
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

Json InfoJson(const ObjectInfo& info) {
  Json j;
  j["key"] = info.key;
  j["size"] = info.size;
  j["etag"] = info.etag;
  j["last_modified"] = info.last_modified;
  return j;
}

// Keys are arbitrary bytes; invalid UTF-8 is replaced rather than failing the dump.
void PrintJson(const Json& j) {
  std::string text = j.dump(2, ' ', false, Json::error_handler_t::replace);
  std::fprintf(stdout, "%s\n", text.c_str());
}

Status ErrnoStatus(const std::string& what) {
  return PermanentError(what + ": " + std::strerror(errno));
}

Result<Buffer> ReadAll(const std::string& path) {
  bool from_stdin = path == "-";
  std::FILE* file = from_stdin ? stdin : std::fopen(path.c_str(), "rb");
  if (file == nullptr) return ErrnoStatus("reading " + path);
  Buffer data;
  // Pre-size regular files so a large upload is read in one pass without regrowth.
  std::error_code ec;
  if (!from_stdin && std::filesystem::is_regular_file(path, ec)) {
    auto size = std::filesystem::file_size(path, ec);
    if (!ec) data.Reserve(size + 1);
  }
  constexpr size_t kChunk = 1 << 20;
  for (;;) {
    size_t old_size = data.size();
    if (data.capacity() - old_size < kChunk)
      data.Reserve(std::max(data.capacity() * 2, old_size + kChunk));
    data.Resize(data.capacity());
    size_t n = std::fread(data.data() + old_size, 1, data.size() - old_size, file);
    data.Resize(old_size + n);
    if (n == 0) break;
  }
  bool failed = std::ferror(file) != 0;
  if (!from_stdin) std::fclose(file);
  if (failed) return ErrnoStatus("reading " + path);
  return data;
}

Status WriteAll(const std::string& path, std::string_view bytes) {
  bool to_stdout = path.empty() || path == "-";
  std::FILE* file = to_stdout ? stdout : std::fopen(path.c_str(), "wb");
  if (file == nullptr) return ErrnoStatus("writing " + path);
  size_t n = std::fwrite(bytes.data(), 1, bytes.size(), file);
  bool failed = n != bytes.size() || std::fflush(file) != 0;
  if (!to_stdout) failed = std::fclose(file) != 0 || failed;
  if (failed) return ErrnoStatus("writing " + (to_stdout ? std::string("stdout") : path));
  return Status::Ok();
}

// "a-b" (inclusive, as in HTTP Range), "a-" (from a to the end) or "-n" (last n bytes).
std::optional<ByteRange> ParseRange(const std::string& text) {
  size_t dash = text.find('-');
  if (dash == std::string::npos) return std::nullopt;
  auto parse = [](std::string_view s) -> std::optional<uint64_t> {
    if (s.empty()) return std::nullopt;
    uint64_t v = 0;
    for (char c : s) {
      if (c < '0' || c > '9') return std::nullopt;
      if (v > (UINT64_MAX - 9) / 10) return std::nullopt;
      v = v * 10 + static_cast<uint64_t>(c - '0');
    }
    return v;
  };
  std::string_view first(text.data(), dash);
  std::string_view last(text.data() + dash + 1, text.size() - dash - 1);
  if (first.empty()) {
    auto n = parse(last);
    if (!n) return std::nullopt;
    return ByteRange::Suffix(*n);
  }
  auto begin = parse(first);
  if (!begin) return std::nullopt;
  if (last.empty()) return ByteRange::From(*begin);
  auto end = parse(last);
  if (!end || *end < *begin) return std::nullopt;
  return ByteRange::Range(*begin, *end - *begin + 1);
}

struct GetArgs {
  std::string target;
  std::string range;
  std::optional<uint64_t> suffix;
  std::string output;
};

int RunGet(const GetArgs& args, const GlobalOptions& global, StoreCache& stores) {
  ByteRange range = ByteRange::All();
  if (!args.range.empty()) {
    auto parsed = ParseRange(args.range);
    if (!parsed) return FailUsage("--range expects a-b, a- or -n, got '" + args.range + "'");
    range = *parsed;
  } else if (args.suffix) {
    range = ByteRange::Suffix(*args.suffix);
  }
  auto ref = SplitObjectUrl(args.target, global);
  if (!ref.ok()) return FailUsage(ref.status().message());
  auto store = stores.Open(ref->store_url);
  if (!store.ok()) return Fail(store.status());
  auto got = (*store)->GetSync(ref->key, range);
  if (!got.ok()) return Fail(got.status());
  Status written = WriteAll(args.output, got->data.view());
  if (!written.ok()) return Fail(written);
  return 0;
}

struct PutArgs {
  std::string target;
  std::string source;
  bool if_none_match = false;
  std::string if_match;
  std::string content_type;
};

int RunPut(const PutArgs& args, const GlobalOptions& global, StoreCache& stores) {
  auto ref = SplitObjectUrl(args.target, global);
  if (!ref.ok()) return FailUsage(ref.status().message());
  auto data = ReadAll(args.source);
  if (!data.ok()) return Fail(data.status());
  uint64_t size = data->size();
  PutOptions options;
  options.if_none_match_any = args.if_none_match;
  options.if_match = args.if_match;
  if (!args.content_type.empty()) options.content_type = args.content_type;
  auto store = stores.Open(ref->store_url);
  if (!store.ok()) return Fail(store.status());
  auto put = (*store)->Put(ref->key, std::move(*data), std::move(options)).Get();
  if (!put.ok()) return Fail(put.status());
  if (global.json) {
    PrintJson(Json{{"key", ref->key}, {"size", size}, {"etag", put->etag}});
  } else {
    std::fprintf(stdout, "%s\n", put->etag.c_str());
  }
  return 0;
}

int RunHead(const std::string& target, const GlobalOptions& global, StoreCache& stores) {
  auto ref = SplitObjectUrl(target, global);
  if (!ref.ok()) return FailUsage(ref.status().message());
  auto store = stores.Open(ref->store_url);
  if (!store.ok()) return Fail(store.status());
  auto info = (*store)->HeadSync(ref->key);
  if (!info.ok()) return Fail(info.status());
  if (info->key.empty()) info->key = ref->key;
  if (global.json) {
    PrintJson(InfoJson(*info));
  } else {
    std::fprintf(stdout, "key: %s\nsize: %llu\netag: %s\nlast_modified: %s\n", info->key.c_str(),
                 static_cast<unsigned long long>(info->size), info->etag.c_str(),
                 FormatTime(info->last_modified).c_str());
  }
  return 0;
}

struct LsArgs {
  std::string url;
  std::string prefix;
  std::optional<std::string> delimiter;
  bool recursive = false;
  int page_size = 1000;
};

int RunLs(const LsArgs& args, const GlobalOptions& global, StoreCache& stores) {
  std::string url = global.store_url.empty() ? args.url : global.store_url;
  if (url.empty()) return FailUsage("ls needs a store URL");
  if (!global.store_url.empty() && !args.url.empty()) {
    return FailUsage("ls takes either --store or a URL, not both");
  }
  ListOptions options;
  options.prefix = args.prefix;
  // Like `aws s3 ls`: one level by default; --recursive lists every key.
  options.delimiter = args.delimiter.value_or(args.recursive ? "" : "/");
  options.page_size = args.page_size;
  auto store = stores.Open(NormalizeStoreUrl(url));
  if (!store.ok()) return Fail(store.status());
  auto listed = (*store)->ListSync(options);
  if (!listed.ok()) return Fail(listed.status());
  if (global.json) {
    Json objects = Json::array();
    for (const ObjectInfo& info : listed->objects) objects.push_back(InfoJson(info));
    PrintJson(Json{{"objects", std::move(objects)}, {"common_prefixes", listed->common_prefixes}});
    return 0;
  }
  for (const std::string& prefix : listed->common_prefixes) {
    std::fprintf(stdout, "%20s  %12s  %s\n", "", "PRE", prefix.c_str());
  }
  for (const ObjectInfo& info : listed->objects) {
    std::fprintf(stdout, "%20s  %12llu  %s\n", FormatTime(info.last_modified).c_str(),
                 static_cast<unsigned long long>(info.size), info.key.c_str());
  }
  return 0;
}

int RunRm(const std::vector<std::string>& targets, const GlobalOptions& global,
          StoreCache& stores) {
  // Group by store so each store gets one DeleteMany (which may batch).
  std::map<std::string, std::vector<std::string>> keys_by_store;
  for (const std::string& target : targets) {
    auto ref = SplitObjectUrl(target, global);
    if (!ref.ok()) return FailUsage(ref.status().message());
    keys_by_store[ref->store_url].push_back(ref->key);
  }
  for (auto& [url, keys] : keys_by_store) {
    auto store = stores.Open(url);
    if (!store.ok()) return Fail(store.status());
    Status deleted = keys.size() == 1 ? (*store)->DeleteSync(keys.front())
                                      : (*store)->DeleteMany(std::move(keys)).Get();
    if (!deleted.ok()) return Fail(deleted);
  }
  return 0;
}

int Main(int argc, char** argv) {
  CLI::App app{
      "nimbus-store: read and write objects in any nimbus store.\n"
      "Objects are URL/KEY (s3://bucket/key, az://container/key, file:///dir/key)\n"
      "or plain keys with --store URL.",
      "nimbus-store"};
  app.require_subcommand(1);
  // Global options may also follow the command name.
  app.fallthrough();

  GlobalOptions global;
  app.add_option("--set", global.sets,
                 "Explicit store setting key=value (repeatable; commas separate several)")
      ->type_name("KEY=VALUE");
  app.add_option("--store", global.store_url, "Store URL; object arguments are then plain keys");
  app.add_flag("--json", global.json, "JSON output (head, ls, put)");

  GetArgs get_args;
  CLI::App* get = app.add_subcommand("get", "Read an object (or a byte range) to stdout or a file");
  get->add_option("object", get_args.target, "URL/KEY")->required();
  CLI::Option* range_opt = get->add_option("--range", get_args.range,
                                           "Bytes a-b (inclusive), a- (to the end) or -n (last n)");
  get->add_option("--suffix", get_args.suffix, "Last N bytes")->excludes(range_opt);
  get->add_option("-o,--output", get_args.output, "Output file (default stdout)");

  PutArgs put_args;
  CLI::App* put = app.add_subcommand("put", "Write an object from a file or stdin (-)");
  put->add_option("object", put_args.target, "URL/KEY")->required();
  put->add_option("source", put_args.source, "File to upload, or - for stdin")->required();
  CLI::Option* none_match =
      put->add_flag("--if-none-match", put_args.if_none_match, "Create only (If-None-Match: *)");
  put->add_option("--if-match", put_args.if_match, "Replace only this ETag")->excludes(none_match);
  put->add_option("--content-type", put_args.content_type, "Content-Type of the object");

  std::string head_target;
  CLI::App* head = app.add_subcommand("head", "Show an object's size, ETag and modification time");
  head->add_option("object", head_target, "URL/KEY")->required();

  LsArgs ls_args;
  CLI::App* ls = app.add_subcommand("ls", "List keys under a store URL");
  ls->add_option("url", ls_args.url, "Store URL (s3://bucket/prefix, file:///dir, ...)");
  ls->add_option("--prefix", ls_args.prefix, "Only keys starting with this");
  CLI::Option* delimiter_opt =
      ls->add_option("--delimiter", ls_args.delimiter, "Group keys by this (default /)");
  ls->add_flag("-r,--recursive", ls_args.recursive, "List every key (no delimiter)")
      ->excludes(delimiter_opt);
  ls->add_option("--page-size", ls_args.page_size, "Keys per request")->check(CLI::PositiveNumber);

  std::vector<std::string> rm_targets;
  CLI::App* rm = app.add_subcommand("rm", "Delete objects (missing ones are not an error)");
  rm->add_option("objects", rm_targets, "URL/KEY...")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : kExitUsage;
  }

  ConfigMap config;
  if (Status parsed = ParseSetArguments(global.sets, &config); !parsed.ok()) {
    return FailUsage(parsed.message());
  }
  StoreCache stores(std::move(config));

  if (get->parsed()) return RunGet(get_args, global, stores);
  if (put->parsed()) return RunPut(put_args, global, stores);
  if (head->parsed()) return RunHead(head_target, global, stores);
  if (ls->parsed()) return RunLs(ls_args, global, stores);
  if (rm->parsed()) return RunRm(rm_targets, global, stores);
  return FailUsage("no command given");
}

}  // namespace
}  // namespace nimbus::store::tool

int main(int argc, char** argv) {
  // Errors are values inside nimbus; this only guards the edge (allocation failure, filesystem
  // errors from std::filesystem::absolute) so nothing escapes as an abort.
  try {
    return nimbus::store::tool::Main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "nimbus-store: %s\n", e.what());
    return 1;
  }
}
