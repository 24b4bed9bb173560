// The client side of nimbus-active (and of any Reductionist >= 0.12 server): turns the array
// layer's RemoteRequest (zarr/remote.h) into a v2 request — POST {server}/v2/{op}/ with a JSON
// body naming the S3 object path-style, HTTP Basic credentials = the store's S3 access key and
// secret — and the CBOR answer back into a RemoteResult.
//
// Requests go through the store layer's event-driven HTTP client (one loop thread, at most
// `max_in_flight` requests on the wire, the rest queued), so any number of chunks costs a fixed
// number of connections and no thread per request. Errors are values with what to do about them;
// after a transport failure (server down, refused, timed out) the client fails fast for
// `down_retry` so a read falls back chunk by chunk without waiting on a dead server each time.
//
// Dependencies point one way: this library knows the Zarr engine's interface and the store layer;
// neither knows it.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "core/config.h"
#include "core/status.h"
#include "store/http/http_client.h"
#include "store/object_store.h"
#include "zarr/remote.h"

namespace nimbus::active {

struct ClientConfig {
  std::string server_url;          // "http://host:port" (https too); no trailing '/'
  std::string s3_endpoint;         // "scheme://host[:port]" of the store, as the server reaches it
  std::string bucket;
  std::string prefix;              // the store's key prefix inside the bucket ("" or "a/b")
  std::string access_key_id;       // empty: anonymous (no Authorization header)
  std::string secret_access_key;
  int max_in_flight = 16;          // requests on the wire at once
  std::chrono::milliseconds timeout{60'000};      // per request, all attempts
  std::chrono::milliseconds down_retry{10'000};   // fail fast this long after a transport failure
  bool verify_tls = true;
};

// --- The wire format (pure functions, unit-tested) ---

// "{server}/v2/{op}/".
std::string RequestUrl(const ClientConfig& config, zarr::RemoteOp op);
// "{endpoint}/{bucket}/{prefix/}{key}", the key percent-encoded ('/' kept): the server decodes it.
std::string ObjectUrl(const ClientConfig& config, std::string_view key);
// The JSON body (every field the request sets; nothing null).
std::string BuildRequestBody(const ClientConfig& config, const zarr::RemoteRequest& request);
// "Basic base64(key:secret)", or "" when anonymous.
std::string AuthorizationHeader(const ClientConfig& config);
// A 200 response's CBOR body, checked: the keys a v2 server always sends, `bytes` a multiple of
// the dtype's size, little-endian (or converted), *_as_bytes honoured.
Result<zarr::RemoteResult> ParseResponse(std::string_view body);
// A non-200 response as a Status whose kind tells the caller what to do (kNotFound: the object
// does not exist; kAccessDenied; kInvalidArgument: the server refused the request; kThrottled /
// kTransient: overloaded or failing) and whose message carries the server's error and causes.
Status ErrorFromResponse(int status, std::string_view body, std::string_view server,
                         std::string_view object_url);

class ActiveClient final : public zarr::RemoteSelector,
                           public std::enable_shared_from_this<ActiveClient> {
 public:
  static Result<std::shared_ptr<ActiveClient>> Create(ClientConfig config);
  ~ActiveClient() override;

  Future<Result<zarr::RemoteResult>> Submit(zarr::RemoteRequest request) override;
  std::string Describe() const override;
  const ClientConfig& config() const { return config_; }

  struct Stats {
    uint64_t requests = 0, failures = 0, bytes_received = 0;
  };
  Stats stats() const;

 private:
  explicit ActiveClient(ClientConfig config);
  ClientConfig config_;
  std::string authorization_;
  std::shared_ptr<http::Client> http_;
  std::atomic<int64_t> down_until_ns_{0};
  std::atomic<uint64_t> requests_{0}, failures_{0}, bytes_received_{0};
};

// A client for an open store: S3 stores only (the active storage API reads S3), with the store's
// endpoint, bucket, prefix and access key. Other stores, or S3 with temporary credentials (the API
// has no session tokens), are kUnimplemented with the reason.
Result<std::shared_ptr<ActiveClient>> ClientForStore(const std::string& server_url,
                                                     const store::ObjectStore& store,
                                                     ClientConfig defaults = {});

}  // namespace nimbus::active
