// The HTTP(S) front of nimbus-active, on Boost.Beast/Asio: a few I/O threads run every connection
// asynchronously (no thread per connection or request); operation requests go through the
// Pipeline, whose CPU stages run on a fixed worker pool and whose downloads share one bounded
// connection pool. Routes:
//   POST /v1/{op}[/], POST /v2/{op}[/]   operations (404 for an unknown op)
//   GET  /healthz                        "ok"
//   GET  /.well-known/reductionist-schema  Reductionist's readiness probe
//   GET  /metrics                        Prometheus text
//   GET  /openapi.json, /redoc/          API description and HTML reference
// Shutdown (SIGTERM/SIGINT or Shutdown()): stop accepting, let requests in flight finish (up to
// the shutdown timeout), then close every connection.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "active/fetch.h"
#include "active/pipeline.h"
#include "core/status.h"

namespace nimbus::active {

enum class LogLevel { kError, kWarn, kInfo, kDebug };
Result<LogLevel> ParseLogLevel(std::string_view name);

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;  // 0: any free port (printed at startup)
  std::string tls_cert;  // PEM chain; with tls_key enables HTTPS
  std::string tls_key;
  size_t workers = 0;     // 0: one per core
  size_t io_threads = 1;
  uint64_t memory_limit = uint64_t{1} << 30;
  std::chrono::milliseconds memory_wait{30'000};
  std::chrono::seconds shutdown_timeout{60};
  uint64_t max_body_bytes = 1 << 20;  // request JSON
  std::chrono::seconds idle_timeout{60};
  LogLevel log_level = LogLevel::kInfo;
  FetchOptions fetch;
  V1CountHeader v1_count_header = V1CountHeader::kList;
};

class Server {
 public:
  // Binds the socket (errors: address in use, bad TLS files...), starts nothing yet.
  static Result<std::unique_ptr<Server>> Create(ServerOptions options);
  ~Server();

  uint16_t port() const;
  // Serves until Shutdown() or SIGTERM/SIGINT; returns after in-flight requests finished, or
  // kDeadlineExceeded when the shutdown timeout passed first (then exit without destructors:
  // abandoned requests still reference the server).
  Status Run();
  // Thread-safe; may be called before or during Run.
  void Shutdown();

  struct Impl;  // opaque; public so the connection sessions in server.cc can name it

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace nimbus::active
