#include "active/client.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <mutex>

#include <nlohmann/json.hpp>

#include "active/cbor_reader.h"
#include "core/strings.h"
#include "store/s3/s3_store.h"
#include "zarr/data_type.h"

namespace nimbus::active {
namespace {

using Clock = std::chrono::steady_clock;

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

size_t DTypeBytes(std::string_view dtype) {
  if (dtype == "int8" || dtype == "uint8") return 1;
  if (dtype == "int16" || dtype == "uint16" || dtype == "float16") return 2;
  if (dtype == "int32" || dtype == "uint32" || dtype == "float32") return 4;
  if (dtype == "int64" || dtype == "uint64" || dtype == "float64") return 8;
  return 0;
}

std::string TrimSlashes(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

// One process-wide HTTP client per (server, connection limit, TLS verification): files and arrays
// talking to the same server share its connections and its loop thread.
std::shared_ptr<http::Client> SharedClient(const ClientConfig& c) {
  static std::mutex mu;
  static std::map<std::string, std::weak_ptr<http::Client>> clients;
  const std::string key =
      c.server_url + "|" + std::to_string(c.max_in_flight) + "|" + (c.verify_tls ? "v" : "n");
  std::lock_guard lock(mu);
  if (auto existing = clients[key].lock()) return existing;
  http::ClientOptions options;
  options.max_connections = std::max(1, c.max_in_flight);
  options.connect_timeout = std::chrono::milliseconds(5'000);
  options.verify_tls = c.verify_tls;
  auto fresh = std::make_shared<http::Client>(options);
  clients[key] = fresh;
  return fresh;
}

}  // namespace

// --- Wire format ---------------------------------------------------------------------------------

std::string RequestUrl(const ClientConfig& config, zarr::RemoteOp op) {
  return TrimSlashes(config.server_url) + "/v2/" + zarr::RemoteOpName(op) + "/";
}

std::string ObjectUrl(const ClientConfig& config, std::string_view key) {
  std::string path = config.prefix.empty() ? std::string(key) : config.prefix + "/" + std::string(key);
  return TrimSlashes(config.s3_endpoint) + "/" + http::UriEncode(config.bucket, false) + "/" +
         http::UriEncode(path, /*keep_slash=*/true);
}

std::string AuthorizationHeader(const ClientConfig& config) {
  if (config.access_key_id.empty() && config.secret_access_key.empty()) return "";
  return "Basic " + zarr::Base64Encode(config.access_key_id + ":" + config.secret_access_key);
}

std::string BuildRequestBody(const ClientConfig& config, const zarr::RemoteRequest& r) {
  nlohmann::json body = nlohmann::json::object();
  body["interface_type"] = "s3";
  body["url"] = ObjectUrl(config, r.key);
  body["offset"] = r.offset;
  if (r.size) body["size"] = *r.size;
  body["dtype"] = r.dtype;
  body["byte_order"] = r.big_endian ? "big" : "little";
  if (!r.shape.empty()) {
    body["shape"] = r.shape;
    body["order"] = "C";  // a transposed chunk is described by its stored (encoded) shape
  }
  if (!r.selection.empty()) {
    nlohmann::json sel = nlohmann::json::array();
    for (const auto& s : r.selection) sel.push_back({s.start, s.end, s.stride});
    body["selection"] = std::move(sel);
  }
  if (!r.compression.empty()) body["compression"] = {{"id", r.compression}};
  if (!r.shuffle.empty()) {
    nlohmann::json filters = nlohmann::json::array();
    for (uint64_t size : r.shuffle) filters.push_back({{"id", "shuffle"}, {"element_size", size}});
    body["filters"] = std::move(filters);
  }
  if (r.axis) body["axis"] = *r.axis;
  return body.dump();
}

Result<zarr::RemoteResult> ParseResponse(std::string_view body) {
  auto decoded = DecodeCbor(body);
  if (!decoded.ok()) return decoded.status().WithContext("active storage response");
  const CborValue& map = *decoded;
  if (map.type != CborValue::Type::kMap) {
    return PermanentError("active storage response is not a CBOR map");
  }
  auto need = [&](std::string_view key, CborValue::Type type) -> Result<const CborValue*> {
    const CborValue* v = map.Find(key);
    if (v == nullptr || v->type != type) {
      return PermanentError("active storage response has no " + std::string(key) +
                            " of the expected type (is the server Reductionist >= 0.12?)");
    }
    return v;
  };
  zarr::RemoteResult out;
  NIMBUS_ASSIGN_OR_RETURN(const CborValue* bytes, need("bytes", CborValue::Type::kBytes));
  NIMBUS_ASSIGN_OR_RETURN(const CborValue* dtype, need("dtype", CborValue::Type::kText));
  NIMBUS_ASSIGN_OR_RETURN(const CborValue* shape, need("shape", CborValue::Type::kArray));
  NIMBUS_ASSIGN_OR_RETURN(const CborValue* count, need("count", CborValue::Type::kArray));
  NIMBUS_ASSIGN_OR_RETURN(const CborValue* order, need("byte_order", CborValue::Type::kText));
  out.dtype = dtype->string;
  const size_t item = DTypeBytes(out.dtype);
  if (item == 0) return PermanentError("active storage answered unknown dtype '" + out.dtype + "'");
  if (bytes->string.size() % item != 0) {
    return PermanentError("active storage answered " + std::to_string(bytes->string.size()) +
                          " bytes, not a whole number of " + out.dtype + " elements");
  }
  for (const CborValue& d : shape->items) {
    if (d.type != CborValue::Type::kUnsigned) return PermanentError("active storage shape is not unsigned");
    out.shape.push_back(d.uint);
  }
  for (const CborValue& c : count->items) {
    NIMBUS_ASSIGN_OR_RETURN(int64_t n, c.AsInt64());
    out.count.push_back(n);
  }
  // option_*_as_bytes (0.13+): packed little-endian when the lists are empty.
  if (const CborValue* sb = map.Find("shape_as_bytes");
      sb != nullptr && sb->type == CborValue::Type::kBytes && !sb->string.empty() && out.shape.empty()) {
    for (size_t i = 0; i + 8 <= sb->string.size(); i += 8) {
      uint64_t v;
      std::memcpy(&v, sb->string.data() + i, 8);
      out.shape.push_back(v);
    }
  }
  if (const CborValue* cb = map.Find("count_as_bytes");
      cb != nullptr && cb->type == CborValue::Type::kBytes && !cb->string.empty() && out.count.empty()) {
    for (size_t i = 0; i + 8 <= cb->string.size(); i += 8) {
      int64_t v;
      std::memcpy(&v, cb->string.data() + i, 8);
      out.count.push_back(v);
    }
  }
  out.bytes = Buffer::CopyOf(bytes->string);
  const bool big = order->string == "big";
  if (!big && order->string != "little") {
    return PermanentError("active storage answered byte_order '" + order->string + "'");
  }
  // Results are used as native (little-endian hosts only: the array layer checks); a big-endian
  // server's answer is swapped here.
  if (big && item > 1) {
    char* p = out.bytes.data();
    for (size_t i = 0; i < out.bytes.size(); i += item) std::reverse(p + i, p + i + item);
  }
  out.wire_bytes = body.size();
  return out;
}

Status ErrorFromResponse(int status, std::string_view body, std::string_view server,
                         std::string_view object_url) {
  // Reductionist's error body: {"error": {"message": ..., "caused_by": [...]}}.
  std::string message;
  std::vector<std::string> causes;
  auto parsed = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_object() && parsed.contains("error") && parsed["error"].is_object()) {
    const auto& e = parsed["error"];
    if (e.contains("message") && e["message"].is_string()) message = e["message"];
    if (e.contains("caused_by") && e["caused_by"].is_array()) {
      for (const auto& c : e["caused_by"]) {
        if (c.is_string()) causes.push_back(c.get<std::string>());
      }
    }
  } else {
    message = std::string(body.substr(0, 200));
  }
  std::string detail = message;
  for (const auto& c : causes) detail += (detail.empty() ? "" : ": ") + c;
  const std::string where = std::string(server) + " (HTTP " + std::to_string(status) + ") for " +
                            std::string(object_url) + ": " + detail;
  bool no_such_key = false;
  for (const auto& c : causes) no_such_key = no_such_key || c.find("NoSuchKey") != std::string::npos;
  if (no_such_key || message.find("NoSuchKey") != std::string::npos) {
    return Status(ErrorKind::kNotFound, "no such object: " + where, status);
  }
  if (status == 401 || status == 403) {
    return Status(ErrorKind::kAccessDenied,
                  "access denied by " + where +
                      " (the server reads the object with the store's access key, sent as HTTP "
                      "Basic credentials; check them, and the server's --s3-region)",
                  status);
  }
  if (status == 404) {
    return Status(ErrorKind::kUnimplemented,
                  where + " (is active_storage the URL of a nimbus-active or Reductionist >= "
                          "0.12 server?)",
                  status);
  }
  if (status == 429 || status == 503) return Status(ErrorKind::kThrottled, "overloaded: " + where, status);
  if (status >= 500) return Status(ErrorKind::kTransient, where, status);
  return Status(ErrorKind::kInvalidArgument, "request refused by " + where, status);
}

// --- The client ----------------------------------------------------------------------------------

ActiveClient::ActiveClient(ClientConfig config)
    : config_(std::move(config)), authorization_(AuthorizationHeader(config_)),
      http_(SharedClient(config_)) {}

ActiveClient::~ActiveClient() = default;

Result<std::shared_ptr<ActiveClient>> ActiveClient::Create(ClientConfig config) {
  config.server_url = TrimSlashes(config.server_url);
  const std::string lower = AsciiLower(config.server_url);
  if (!lower.starts_with("http://") && !lower.starts_with("https://")) {
    return InvalidArgumentError("active_storage='" + config.server_url +
                                "': expected http://host:port or https://host:port");
  }
  if (config.s3_endpoint.empty() || config.bucket.empty()) {
    return InvalidArgumentError("active storage needs the store's S3 endpoint and bucket");
  }
  return std::shared_ptr<ActiveClient>(new ActiveClient(std::move(config)));
}

std::string ActiveClient::Describe() const { return "nimbus-active at " + config_.server_url; }

ActiveClient::Stats ActiveClient::stats() const {
  return Stats{requests_.load(), failures_.load(), bytes_received_.load()};
}

Future<Result<zarr::RemoteResult>> ActiveClient::Submit(zarr::RemoteRequest request) {
  const int64_t down_until = down_until_ns_.load();
  if (down_until > NowNs()) {
    failures_++;
    return ReadyFuture<Result<zarr::RemoteResult>>(Status(
        ErrorKind::kTransient, Describe() + " failed recently; not asked again for a few seconds"));
  }
  requests_++;
  auto body = std::make_shared<const Buffer>(Buffer::CopyOf(BuildRequestBody(config_, request)));
  const std::string url = RequestUrl(config_, request.op);
  const std::string object_url = ObjectUrl(config_, request.key);
  http::Client::BuildFn build = [body, url, auth = authorization_,
                                 timeout = config_.timeout]() -> Result<http::Request> {
    http::Request r;
    r.method = "POST";
    r.url = url;
    r.headers = {{"Content-Type", "application/json"}, {"Accept", "application/cbor"}};
    if (!auth.empty()) r.headers.emplace_back("Authorization", auth);
    r.body = body;
    r.timeout = timeout;
    return r;
  };
  // Overload (503, 429) and server errors are retried once; everything else is the answer.
  http::Client::ClassifyFn classify = [](const http::Response& resp) -> Status {
    if (resp.status == 429 || resp.status == 503) return Status(ErrorKind::kThrottled, "busy", resp.status);
    if (resp.status >= 500) return Status(ErrorKind::kTransient, "server error", resp.status);
    return Status::Ok();
  };
  http::RetryPolicy policy;
  policy.max_attempts = 2;
  policy.initial_backoff = std::chrono::milliseconds(50);
  policy.max_backoff = std::chrono::milliseconds(500);
  policy.deadline = config_.timeout;
  Promise<Result<zarr::RemoteResult>> promise;
  auto out = promise.future();
  http_->SendWithRetry(build, classify, policy, /*idempotent=*/true)
      .Then([this, self = shared_from_this(), promise, object_url](Result<http::Response>& r) {
        if (!r.ok()) {
          failures_++;
          // No response at all (refused, reset, timed out): the server is down or unreachable.
          if (r.status().http_status() == 0) {
            down_until_ns_ = NowNs() + std::chrono::duration_cast<std::chrono::nanoseconds>(
                                           config_.down_retry).count();
            promise.Set(Status(r.status().kind(),
                               "cannot reach " + Describe() + " (is it running, and is "
                               "active_storage= its address?): " + r.status().message()));
          } else {
            promise.Set(r.status().WithContext(Describe()));
          }
          return;
        }
        bytes_received_ += r->body.size();
        if (r->status != 200) {
          failures_++;
          promise.Set(ErrorFromResponse(r->status, r->body.view(), Describe(), object_url));
          return;
        }
        auto parsed = ParseResponse(r->body.view());
        if (!parsed.ok()) {
          failures_++;
          promise.Set(parsed.status().WithContext(Describe()));
          return;
        }
        promise.Set(std::move(parsed));
      });
  return out;
}

Result<std::shared_ptr<ActiveClient>> ClientForStore(const std::string& server_url,
                                                     const store::ObjectStore& store,
                                                     ClientConfig defaults) {
  const auto* s3 = dynamic_cast<const s3::S3Store*>(&store);
  if (s3 == nullptr) {
    return UnimplementedError("active storage reads S3 objects; " + store.Describe() +
                              " is not an S3 store");
  }
  const s3::S3Settings& settings = s3->settings();
  if (!settings.credentials.session_token.empty()) {
    return UnimplementedError(
        "active storage cannot use temporary S3 credentials (the API has no session token); "
        "use a long-term access key for " + store.Describe());
  }
  NIMBUS_ASSIGN_OR_RETURN(store::StoreUrl url, store::StoreUrl::Parse(store.Describe()));
  ClientConfig config = std::move(defaults);
  config.server_url = server_url;
  if (config.s3_endpoint.empty()) {
    config.s3_endpoint = !settings.endpoint.empty()
                             ? settings.endpoint
                             : std::string(settings.use_tls ? "https" : "http") + "://s3." +
                                   settings.region + ".amazonaws.com";
  }
  config.bucket = url.bucket;
  config.prefix = url.prefix;
  config.access_key_id = settings.credentials.access_key_id;
  config.secret_access_key = settings.credentials.secret_access_key;
  return ActiveClient::Create(std::move(config));
}

}  // namespace nimbus::active
