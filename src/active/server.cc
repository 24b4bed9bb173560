#include "active/server.h"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <atomic>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <thread>

#include "active/api_docs.h"
#include "active/memory_budget.h"
#include "active/metrics.h"
#include "active/pipeline.h"
#include "active/problem.h"
#include "core/thread_pool.h"

namespace nimbus::active {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

Result<LogLevel> ParseLogLevel(std::string_view name) {
  if (name == "error") return LogLevel::kError;
  if (name == "warn" || name == "warning") return LogLevel::kWarn;
  if (name == "info") return LogLevel::kInfo;
  if (name == "debug") return LogLevel::kDebug;
  return InvalidArgumentError("log level: expected error, warn, info or debug, got '" +
                              std::string(name) + "'");
}

namespace {

std::atomic<LogLevel> g_log_level{LogLevel::kInfo};
std::mutex g_log_mu;

void Log(LogLevel level, const std::string& message) {
  if (level > g_log_level.load()) return;
  static constexpr const char* kNames[] = {"error", "warn", "info", "debug"};
  std::lock_guard lock(g_log_mu);
  std::fprintf(stderr, "nimbus-active [%s] %s\n", kNames[static_cast<int>(level)],
               message.c_str());
}

}  // namespace

struct Server::Impl {
  ServerOptions options;
  asio::io_context io;
  tcp::acceptor acceptor{io};
  std::optional<asio::ssl::context> tls;
  asio::signal_set signals{io};
  asio::steady_timer housekeeping{io};
  std::shared_ptr<Metrics> metrics = std::make_shared<Metrics>();
  std::shared_ptr<MemoryBudget> budget;
  std::shared_ptr<ThreadPool> workers;
  std::shared_ptr<Fetcher> fetcher;
  std::unique_ptr<Pipeline> pipeline;
  std::atomic<bool> stopping{false};
  std::atomic<int64_t> requests_in_progress{0};  // any route, read until written
  std::chrono::steady_clock::time_point stop_deadline;
  bool abandoned = false;  // the shutdown timeout passed with requests still running

  void Accept();
  void BeginShutdown();
  void Housekeeping();
};

namespace {

// Trims one trailing slash ("/v2/sum/" -> "/v2/sum"); "/" stays.
std::string_view TrimTrailingSlash(std::string_view path) {
  if (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  return path;
}

template <class Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
 public:
  Session(Server::Impl& server, Stream stream) : server_(server), stream_(std::move(stream)) {}

  void Start() {
    if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
      Read();
    } else {
      beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(30));
      stream_.async_handshake(asio::ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code ec) {
                                if (ec) {
                                  Log(LogLevel::kDebug, "TLS handshake failed: " + ec.message());
                                  return;
                                }
                                self->Read();
                              });
    }
  }

 private:
  void Read() {
    parser_.emplace();
    parser_->body_limit(server_.options.max_body_bytes);
    beast::get_lowest_layer(stream_).expires_after(server_.options.idle_timeout);
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = this->shared_from_this()](beast::error_code ec, size_t) {
                        self->OnRead(ec);
                      });
  }

  void OnRead(beast::error_code ec) {
    if (ec == bhttp::error::end_of_stream || ec == asio::error::operation_aborted ||
        ec == beast::error::timeout) {
      return Close();
    }
    if (ec == bhttp::error::body_limit) {
      ++server_.requests_in_progress;
      keep_alive_ = false;
      HttpAnswer answer = ProblemAnswer(MakeProblem(
          413, "request body too large",
          {"request bodies are limited to " + std::to_string(server_.options.max_body_bytes) +
           " bytes"}));
      return Write(std::move(answer));
    }
    if (ec) {
      Log(LogLevel::kDebug, "read failed: " + ec.message());
      return Close();
    }
    ++server_.requests_in_progress;
    request_ = parser_->release();
    keep_alive_ = request_.keep_alive();
    beast::get_lowest_layer(stream_).expires_never();  // the pipeline has its own deadlines
    Dispatch();
  }

  void Dispatch() {
    std::string_view target(request_.target().data(), request_.target().size());
    std::string_view path = TrimTrailingSlash(target.substr(0, target.find('?')));
    const bool get = request_.method() == bhttp::verb::get || request_.method() == bhttp::verb::head;
    auto text = [](int status, std::string type, std::string body) {
      HttpAnswer a;
      a.status = status;
      a.content_type = std::move(type);
      a.body = std::move(body);
      return a;
    };

    if (path.rfind("/v1/", 0) == 0 || path.rfind("/v2/", 0) == 0) {
      std::string_view operation = path.substr(4);
      if (operation.empty() || operation.find('/') != std::string_view::npos) {
        return Write(text(404, "", ""));
      }
      if (request_.method() != bhttp::verb::post) {
        HttpAnswer a = text(405, "", "");
        a.headers.emplace_back("allow", "POST");
        return Write(std::move(a));
      }
      ApiVersion version = path[2] == '1' ? ApiVersion::kV1 : ApiVersion::kV2;
      auto self = this->shared_from_this();
      std::string content_type(request_[bhttp::field::content_type]);
      std::string authorization(request_[bhttp::field::authorization]);
      server_.pipeline->Run(
          version, operation, content_type, authorization, std::move(request_.body()),
          [self](HttpAnswer answer) {
            // Back onto this connection's strand to write.
            auto shared = std::make_shared<HttpAnswer>(std::move(answer));
            asio::post(self->stream_.get_executor(),
                       [self, shared]() { self->Write(std::move(*shared)); });
          });
      return;
    }
    if (!get) return Write(text(path == "/metrics" || path == "/healthz" ? 405 : 404, "", ""));
    if (path == "/healthz") {
      return Write(text(server_.stopping ? 503 : 200, "text/plain",
                        server_.stopping ? "shutting down\n" : "ok\n"));
    }
    if (path == "/.well-known/reductionist-schema") {
      return Write(text(200, "text/plain", "Hello, world!"));
    }
    if (path == "/metrics") {
      return Write(text(200, "text/plain; version=0.0.4",
                        server_.metrics->Render(server_.budget->reserved(),
                                                server_.budget->limit())));
    }
    if (path == "/openapi.json") return Write(text(200, "application/json", OpenApiJson()));
    if (path == "/redoc") return Write(text(200, "text/html; charset=utf-8", ApiReferenceHtml()));
    return Write(text(404, "", ""));
  }

  void Write(HttpAnswer answer) {
    server_.metrics->Response(answer.status);
    auto response = std::make_shared<bhttp::response<bhttp::string_body>>(
        static_cast<bhttp::status>(answer.status), request_.version() ? request_.version() : 11);
    response->set(bhttp::field::server, "nimbus-active");
    if (!answer.content_type.empty()) response->set(bhttp::field::content_type, answer.content_type);
    for (auto& [name, value] : answer.headers) response->set(name, value);
    const bool keep_alive = keep_alive_ && !server_.stopping;
    response->keep_alive(keep_alive);
    if (request_.method() == bhttp::verb::head) {
      response->content_length(answer.body.size());
    } else {
      response->body() = std::move(answer.body);
      response->prepare_payload();
    }
    hold_ = std::move(answer.hold);
    Log(LogLevel::kDebug, std::string(request_.method_string()) + " " +
                              std::string(request_.target()) + " -> " +
                              std::to_string(answer.status));
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(60));
    bhttp::async_write(stream_, *response,
                       [self = this->shared_from_this(), response, keep_alive](
                           beast::error_code ec, size_t) {
                         self->hold_.reset();
                         --self->server_.requests_in_progress;
                         if (ec || !keep_alive) return self->Close();
                         self->Read();
                       });
  }

  void Close() {
    beast::error_code ec;
    if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
      stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    } else {
      beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(5));
      stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) {
        beast::error_code ignored;
        beast::get_lowest_layer(self->stream_).socket().close(ignored);
      });
    }
  }

  Server::Impl& server_;
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  bhttp::request<bhttp::string_body> request_;
  bool keep_alive_ = true;
  std::shared_ptr<void> hold_;
};

}  // namespace

void Server::Impl::Accept() {
  acceptor.async_accept(asio::make_strand(io), [this](beast::error_code ec, tcp::socket socket) {
    if (ec) {
      if (ec != asio::error::operation_aborted) {
        Log(LogLevel::kWarn, "accept failed: " + ec.message());
      }
      if (!stopping) Accept();
      return;
    }
    socket.set_option(tcp::no_delay(true), ec);
    if (tls) {
      auto session = std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(
          *this, beast::ssl_stream<beast::tcp_stream>(beast::tcp_stream(std::move(socket)), *tls));
      session->Start();
    } else {
      auto session =
          std::make_shared<Session<beast::tcp_stream>>(*this, beast::tcp_stream(std::move(socket)));
      session->Start();
    }
    if (!stopping) Accept();
  });
}

void Server::Impl::BeginShutdown() {
  if (stopping.exchange(true)) return;
  Log(LogLevel::kInfo, "shutting down: finishing " +
                           std::to_string(requests_in_progress.load()) + " request(s) in flight");
  stop_deadline = std::chrono::steady_clock::now() + options.shutdown_timeout;
  beast::error_code ec;
  acceptor.close(ec);
  signals.cancel(ec);
}

void Server::Impl::Housekeeping() {
  budget->ExpireWaiters(std::chrono::steady_clock::now());
  if (stopping) {
    bool drained = requests_in_progress.load() <= 0;
    if (drained || std::chrono::steady_clock::now() >= stop_deadline) {
      if (!drained) {
        Log(LogLevel::kWarn, "shutdown timeout: abandoning " +
                                 std::to_string(requests_in_progress.load()) + " request(s)");
      }
      abandoned = !drained;
      io.stop();  // closes idle keep-alive connections with the context
      return;
    }
  }
  housekeeping.expires_after(std::chrono::milliseconds(stopping ? 20 : 100));
  housekeeping.async_wait([this](beast::error_code ec) {
    if (!ec) Housekeeping();
  });
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() {
  if (!impl_) return;
  impl_->io.stop();
  // Downloads first (cancelled ones complete onto the workers), then the workers (they drain).
  impl_->pipeline.reset();
  impl_->fetcher.reset();
  impl_->workers.reset();
}

Result<std::unique_ptr<Server>> Server::Create(ServerOptions options) {
  g_log_level = options.log_level;
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  if (!options.tls_cert.empty() || !options.tls_key.empty()) {
    if (options.tls_cert.empty() || options.tls_key.empty()) {
      return InvalidArgumentError("TLS needs both --tls-cert and --tls-key");
    }
    impl->tls.emplace(asio::ssl::context::tls_server);
    beast::error_code ec;
    impl->tls->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                               asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                               asio::ssl::context::no_tlsv1_1,
                           ec);
    impl->tls->use_certificate_chain_file(options.tls_cert, ec);
    if (ec) return InvalidArgumentError("--tls-cert " + options.tls_cert + ": " + ec.message());
    impl->tls->use_private_key_file(options.tls_key, asio::ssl::context::pem, ec);
    if (ec) return InvalidArgumentError("--tls-key " + options.tls_key + ": " + ec.message());
  }

  beast::error_code ec;
  auto address = asio::ip::make_address(options.host, ec);
  if (ec) {
    // A host name (e.g. localhost): resolve it.
    tcp::resolver resolver(impl->io);
    auto results = resolver.resolve(options.host, std::to_string(options.port), ec);
    if (ec || results.empty()) {
      return InvalidArgumentError("--listen: cannot resolve '" + options.host + "'");
    }
    address = results.begin()->endpoint().address();
  }
  tcp::endpoint endpoint(address, options.port);
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status(ErrorKind::kInvalidArgument, "cannot listen on " + options.host + ":" +
                                                   std::to_string(options.port) + ": " +
                                                   ec.message());
  }

  size_t workers = options.workers;
  if (workers == 0) workers = std::max<unsigned>(1, std::thread::hardware_concurrency());
  impl->budget = std::make_shared<MemoryBudget>(options.memory_limit);
  impl->workers = std::make_shared<ThreadPool>(workers);
  impl->fetcher = std::make_shared<Fetcher>(options.fetch);
  PipelineOptions pipeline_options;
  pipeline_options.memory_wait = options.memory_wait;
  pipeline_options.v1_count_header = options.v1_count_header;
  impl->pipeline = std::make_unique<Pipeline>(pipeline_options, impl->fetcher, impl->budget,
                                              impl->workers, impl->metrics);
  impl->options.workers = workers;
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

uint16_t Server::port() const {
  beast::error_code ec;
  return impl_->acceptor.local_endpoint(ec).port();
}

void Server::Shutdown() {
  asio::post(impl_->io, [impl = impl_.get()]() { impl->BeginShutdown(); });
}

Status Server::Run() {
  Impl& s = *impl_;
  s.signals.add(SIGTERM);
  s.signals.add(SIGINT);
  s.signals.async_wait([&s](beast::error_code ec, int signal) {
    if (ec) return;
    Log(LogLevel::kInfo, std::string("received ") + (signal == SIGTERM ? "SIGTERM" : "SIGINT"));
    s.BeginShutdown();
  });
  s.Accept();
  s.Housekeeping();
  Log(LogLevel::kInfo, std::string("listening on ") + (s.tls ? "https" : "http") + "://" +
                           s.options.host + ":" + std::to_string(port()) + " (" +
                           std::to_string(s.options.workers) + " workers, memory limit " +
                           std::to_string(s.options.memory_limit) + " bytes, " +
                           std::to_string(s.options.fetch.max_downloads) + " downloads)");
  std::vector<std::thread> threads;
  for (size_t i = 1; i < std::max<size_t>(1, s.options.io_threads); ++i) {
    threads.emplace_back([&s]() { s.io.run(); });
  }
  s.io.run();
  for (auto& t : threads) t.join();
  if (s.abandoned) {
    return Status(ErrorKind::kDeadlineExceeded, "requests still running at the shutdown timeout");
  }
  Log(LogLevel::kInfo, "stopped");
  return Status::Ok();
}

}  // namespace nimbus::active
