// HttpClient: an event-driven HTTP/1.1 client on libcurl's multi interface. One loop thread owns
// the multi handle and all easy handles; it is started on the first request (nothing at load).
// Connections are kept alive and reused; at most `max_connections` requests run at once and the
// rest wait in a queue, so any number of callers costs a fixed number of sockets and one thread.
//
// Retries live here too, as data (RetryPolicy): the caller passes a `build` function that makes
// (and signs) the request for each attempt and a `classify` function that turns a response into
// success or an error kind; throttled/transient errors are retried on the loop's timer with
// exponential backoff and full jitter, within a total deadline. Nothing ever sleeps in a callback.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/buffer.h"
#include "core/future.h"
#include "core/status.h"

namespace nimbus::http {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method = "GET";
  std::string url;  // fully encoded
  Headers headers;
  // Body to send; shared so retries resend it without copying. [body_offset, +body_length) of it
  // is sent (a multipart part is a slice of one buffer); body_length npos = to the end.
  std::shared_ptr<const Buffer> body;
  size_t body_offset = 0;
  size_t body_length = std::string::npos;
  std::string_view BodyView() const {
    if (!body) return {};
    std::string_view all = body->view();
    return all.substr(std::min(body_offset, all.size()), body_length);
  }
  // Expected response size when known (pre-sizes the receive buffer, avoiding regrowth).
  size_t expected_response_size = 0;
  // HEAD-like: do not read a body.
  bool no_body = false;
  // Whole-attempt timeout; 0 = none (stalls are still caught by ClientOptions::stall_timeout).
  std::chrono::milliseconds timeout{0};
};

struct Response {
  int status = 0;
  Headers headers;  // names lower-cased
  Buffer body;
  // Returns the first header with this (lower-case) name, or "".
  std::string_view Header(std::string_view lower_name) const;
};

struct ClientOptions {
  int max_connections = 32;  // requests in flight at once (and pooled connections)
  std::chrono::milliseconds connect_timeout{10'000};
  // A request making no progress (< 1 byte/s) for this long is abandoned as transient.
  std::chrono::milliseconds stall_timeout{30'000};
  bool verify_tls = true;
  std::string ca_bundle;  // path; empty = system default
};

struct RetryPolicy {
  int max_attempts = 5;
  std::chrono::milliseconds initial_backoff{100};
  std::chrono::milliseconds max_backoff{5'000};
  // Whole operation, all attempts included.
  std::chrono::milliseconds deadline{120'000};
};

class Client {
 public:
  explicit Client(ClientOptions options = {});
  ~Client();  // cancels queued work (completing it with an error) and joins the loop thread
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  const ClientOptions& options() const { return options_; }

  // One attempt; transport failures (connect, reset, timeout) come back as kTransient.
  Future<Result<Response>> Send(Request request);

  // Attempts `build()` until `classify` accepts it, a non-retryable error occurs, attempts run out
  // or the deadline passes. `idempotent` = false disables retries after the request was sent.
  // `build` may fail (e.g. signing), which ends the operation. `classify` returns ok to accept a
  // response (including statuses the driver handles itself, e.g. 404 on DELETE) or an error whose
  // kind decides whether to retry; the error (with the driver's message) is the operation's result.
  using BuildFn = std::function<Result<Request>()>;
  using ClassifyFn = std::function<Status(const Response&)>;
  Future<Result<Response>> SendWithRetry(BuildFn build, ClassifyFn classify,
                                         const RetryPolicy& policy, bool idempotent = true);

  // Counters for tests and benchmarks.
  struct Stats {
    uint64_t requests = 0;  // attempts sent
    uint64_t retries = 0;
    uint64_t bytes_received = 0;
    uint64_t bytes_sent = 0;
  };
  Stats stats() const;

 private:
  class Loop;
  struct RetryOperation;
  ClientOptions options_;
  std::unique_ptr<Loop> loop_;
};

// Percent-encodes per RFC 3986 (unreserved kept). With keep_slash, '/' is not encoded (S3 keys).
std::string UriEncode(std::string_view s, bool keep_slash);

}  // namespace nimbus::http
