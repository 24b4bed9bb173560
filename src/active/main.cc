// nimbus-active: the active storage server. Every option is also an environment variable
// (NIMBUS_ACTIVE_<OPTION>, e.g. NIMBUS_ACTIVE_LISTEN); the command line wins.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "active/server.h"
#include "core/config.h"

namespace {

using nimbus::Result;

// "1G", "512M", "4096", "2GiB": binary suffixes.
Result<uint64_t> ParseBytes(std::string_view key, std::string text) {
  uint64_t multiplier = 1;
  auto strip = [&](std::string_view suffix, uint64_t m) {
    if (text.size() > suffix.size() &&
        text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0) {
      text.resize(text.size() - suffix.size());
      multiplier = m;
      return true;
    }
    return false;
  };
  strip("GiB", 1ull << 30) || strip("MiB", 1ull << 20) || strip("KiB", 1ull << 10) ||
      strip("G", 1ull << 30) || strip("M", 1ull << 20) || strip("K", 1ull << 10) ||
      strip("B", 1);
  auto n = nimbus::ParseInt(key, text);
  if (!n.ok()) return n.status();
  if (*n <= 0) return nimbus::InvalidArgumentError(std::string(key) + ": must be positive");
  return static_cast<uint64_t>(*n) * multiplier;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"nimbus-active: S3 active storage server (Reductionist v1 and v2 APIs)"};
  std::string listen = "127.0.0.1:8080";
  std::string tls_cert, tls_key, memory_limit = "1G", log_level = "info", s3_region = "us-east-1";
  std::string ca_bundle;
  size_t workers = 0, io_threads = 1;
  int max_downloads = 32, memory_wait_ms = 30'000, shutdown_timeout_s = 60;
  int retry_attempts = 3, upstream_deadline_ms = 60'000;
  bool upstream_verify_tls = true;
  app.add_option("--listen", listen, "HOST:PORT to listen on (PORT 0: any free port)")
      ->envname("NIMBUS_ACTIVE_LISTEN")->capture_default_str();
  app.add_option("--tls-cert", tls_cert, "PEM certificate chain: serve HTTPS")
      ->envname("NIMBUS_ACTIVE_TLS_CERT");
  app.add_option("--tls-key", tls_key, "PEM private key for --tls-cert")
      ->envname("NIMBUS_ACTIVE_TLS_KEY");
  app.add_option("--workers", workers, "CPU worker threads (0: one per core)")
      ->envname("NIMBUS_ACTIVE_WORKERS")->capture_default_str();
  app.add_option("--io-threads", io_threads, "network threads")
      ->envname("NIMBUS_ACTIVE_IO_THREADS")->capture_default_str();
  app.add_option("--memory-limit", memory_limit,
                 "memory budget for request data (decompressed bytes counted), e.g. 512M, 2G")
      ->envname("NIMBUS_ACTIVE_MEMORY_LIMIT")->capture_default_str();
  app.add_option("--memory-wait-ms", memory_wait_ms,
                 "how long a request waits for memory before 503")
      ->envname("NIMBUS_ACTIVE_MEMORY_WAIT_MS")->capture_default_str();
  app.add_option("--max-downloads", max_downloads, "concurrent upstream downloads")
      ->envname("NIMBUS_ACTIVE_MAX_DOWNLOADS")->capture_default_str();
  app.add_option("--log-level", log_level, "error, warn, info or debug")
      ->envname("NIMBUS_ACTIVE_LOG_LEVEL")->capture_default_str();
  app.add_option("--s3-region", s3_region, "region in the SigV4 scope of upstream S3 requests")
      ->envname("NIMBUS_ACTIVE_S3_REGION")->capture_default_str();
  app.add_option("--shutdown-timeout", shutdown_timeout_s,
                 "seconds to let in-flight requests finish after SIGTERM")
      ->envname("NIMBUS_ACTIVE_SHUTDOWN_TIMEOUT")->capture_default_str();
  app.add_option("--upstream-retries", retry_attempts, "attempts per upstream request")
      ->envname("NIMBUS_ACTIVE_UPSTREAM_RETRIES")->capture_default_str();
  app.add_option("--upstream-deadline-ms", upstream_deadline_ms,
                 "total time for one upstream download, retries included")
      ->envname("NIMBUS_ACTIVE_UPSTREAM_DEADLINE_MS")->capture_default_str();
  app.add_option("--upstream-ca-bundle", ca_bundle, "CA bundle for HTTPS upstreams")
      ->envname("NIMBUS_ACTIVE_UPSTREAM_CA_BUNDLE");
  app.add_option("--upstream-verify-tls", upstream_verify_tls,
                 "verify upstream TLS certificates")
      ->envname("NIMBUS_ACTIVE_UPSTREAM_VERIFY_TLS")->capture_default_str();
  std::string v1_count_header = "list";
  app.add_option("--v1-count-header", v1_count_header,
                 "form of v1's x-activestorage-count: list (Reductionist 0.11, \"[42]\") or "
                 "scalar (0.2-0.10 clients, \"42\")")
      ->envname("NIMBUS_ACTIVE_V1_COUNT_HEADER")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  nimbus::active::ServerOptions options;
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos) {
    std::fprintf(stderr, "nimbus-active: --listen: expected HOST:PORT, got '%s'\n", listen.c_str());
    return 2;
  }
  options.host = listen.substr(0, colon);
  if (options.host.size() > 2 && options.host.front() == '[') {  // [::1]:8080
    options.host = options.host.substr(1, options.host.size() - 2);
  }
  auto port = nimbus::ParseInt("--listen port", listen.substr(colon + 1));
  auto memory = ParseBytes("--memory-limit", memory_limit);
  auto level = nimbus::active::ParseLogLevel(log_level);
  for (const nimbus::Status& s : {port.status(), memory.status(), level.status()}) {
    if (!s.ok()) {
      std::fprintf(stderr, "nimbus-active: %s\n", s.message().c_str());
      return 2;
    }
  }
  if (*port < 0 || *port > 65535 || max_downloads < 1 || memory_wait_ms < 0 ||
      shutdown_timeout_s < 0 || retry_attempts < 1 || upstream_deadline_ms < 1) {
    std::fprintf(stderr, "nimbus-active: an option is out of range (see --help)\n");
    return 2;
  }
  auto count_form = nimbus::active::ParseV1CountHeader(v1_count_header);
  if (!count_form) {
    std::fprintf(stderr, "nimbus-active: --v1-count-header: expected list or scalar, got '%s'\n",
                 v1_count_header.c_str());
    return 2;
  }
  options.v1_count_header = *count_form;
  options.port = static_cast<uint16_t>(*port);
  options.tls_cert = tls_cert;
  options.tls_key = tls_key;
  options.workers = workers;
  options.io_threads = std::max<size_t>(1, io_threads);
  options.memory_limit = *memory;
  options.memory_wait = std::chrono::milliseconds(memory_wait_ms);
  options.shutdown_timeout = std::chrono::seconds(shutdown_timeout_s);
  options.log_level = *level;
  options.fetch.max_downloads = max_downloads;
  options.fetch.s3_region = s3_region;
  options.fetch.retry_max_attempts = retry_attempts;
  options.fetch.deadline_ms = upstream_deadline_ms;
  options.fetch.ca_bundle = ca_bundle;
  options.fetch.verify_tls = upstream_verify_tls;

  auto server = nimbus::active::Server::Create(options);
  if (!server.ok()) {
    std::fprintf(stderr, "nimbus-active: %s\n", server.status().message().c_str());
    return 1;
  }
  // Machine-readable first line for scripts and tests that start the server on port 0.
  std::printf("nimbus-active listening on %s://%s:%u\n", tls_cert.empty() ? "http" : "https",
              options.host.c_str(), static_cast<unsigned>((*server)->port()));
  std::fflush(stdout);
  nimbus::Status status = (*server)->Run();
  if (!status.ok()) {
    std::fprintf(stderr, "nimbus-active: %s\n", status.message().c_str());
    std::fflush(stderr);
    std::_Exit(1);  // abandoned requests still reference the server: no destructors
  }
  return 0;
}
