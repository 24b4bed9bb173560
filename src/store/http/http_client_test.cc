// HttpClient against a scripted loopback server: retries, backoff within the deadline, stalls,
// non-idempotent requests, bounded concurrency and shutdown. Real sockets, no mocks of curl.
#include "store/http/http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace nimbus::http {
namespace {

using namespace std::chrono_literals;

// A loopback HTTP/1.1 server whose reply to the n-th request (0-based) comes from a script.
// Each connection is served on its own thread (test-only; the script decides the response).
class ScriptedServer {
 public:
  // Returns the raw response to write; an empty string closes the connection without answering.
  using Script = std::function<std::string(int n, const std::string& request)>;

  explicit ScriptedServer(Script script) : script_(std::move(script)) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    listen(fd_, 64);
    socklen_t len = sizeof(addr);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { Accept(); });
  }

  ~ScriptedServer() {
    stopping_ = true;
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    acceptor_.join();
    std::lock_guard lock(mu_);
    for (int c : open_) shutdown(c, SHUT_RDWR);
    for (auto& t : workers_) t.join();
  }

  std::string url(const std::string& path = "/x") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  int requests() const { return count_.load(); }
  int max_concurrent() const { return max_concurrent_.load(); }

 private:
  void Accept() {
    while (!stopping_) {
      int c = accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      std::lock_guard lock(mu_);
      open_.push_back(c);
      workers_.emplace_back([this, c] { Serve(c); });
    }
  }

  void Serve(int c) {
    std::string buffer;
    char chunk[65536];
    while (true) {
      // Read one request: headers, then Content-Length bytes of body.
      size_t header_end;
      while ((header_end = buffer.find("\r\n\r\n")) == std::string::npos) {
        ssize_t n = read(c, chunk, sizeof(chunk));
        if (n <= 0) return Close(c);
        buffer.append(chunk, static_cast<size_t>(n));
      }
      size_t body_len = 0;
      auto cl = buffer.find("Content-Length: ");
      if (cl != std::string::npos && cl < header_end) body_len = std::stoul(buffer.substr(cl + 16));
      while (buffer.size() < header_end + 4 + body_len) {
        ssize_t n = read(c, chunk, sizeof(chunk));
        if (n <= 0) return Close(c);
        buffer.append(chunk, static_cast<size_t>(n));
      }
      std::string request = buffer.substr(0, header_end + 4 + body_len);
      buffer.erase(0, request.size());
      int now = ++in_flight_;
      int prev = max_concurrent_.load();
      while (now > prev && !max_concurrent_.compare_exchange_weak(prev, now)) {
      }
      std::string reply = script_(count_++, request);
      --in_flight_;
      if (reply.empty()) return Close(c);
      if (send(c, reply.data(), reply.size(), MSG_NOSIGNAL) < 0) return Close(c);
    }
  }

  void Close(int c) { shutdown(c, SHUT_RDWR); }

  Script script_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> count_{0}, in_flight_{0}, max_concurrent_{0};
  std::mutex mu_;
  std::vector<int> open_;
  std::vector<std::thread> workers_;
  std::thread acceptor_;
};

std::string Reply(int status, const std::string& body, const std::string& extra = "") {
  return "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n" + extra + "\r\n" + body;
}

// Accepts 2xx; 503 is throttled, 5xx transient, other statuses permanent.
Status Classify(const Response& r) {
  if (r.status >= 200 && r.status < 300) return Status::Ok();
  if (r.status == 503) return Status(ErrorKind::kThrottled, "slow down", r.status);
  if (r.status >= 500) return Status(ErrorKind::kTransient, "server error", r.status);
  return Status(ErrorKind::kPermanent, "refused: " + r.body.ToString(), r.status);
}

RetryPolicy FastPolicy() {
  RetryPolicy p;
  p.max_attempts = 5;
  p.initial_backoff = 10ms;
  p.max_backoff = 50ms;
  p.deadline = 10s;
  return p;
}

Client::BuildFn Get(const std::string& url) {
  return [url]() -> Result<Request> {
    Request r;
    r.url = url;
    return r;
  };
}

TEST(HttpClient, GetReturnsBodyAndLowerCaseHeaders) {
  ScriptedServer server([](int, const std::string&) {
    return Reply(200, "hello", "ETag: \"abc\"\r\n");
  });
  Client client;
  Request r;
  r.url = server.url();
  auto res = client.Send(r).Get();
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body.ToString(), "hello");
  EXPECT_EQ(res->Header("etag"), "\"abc\"");
}

TEST(HttpClient, PutSendsBodySliceAndHeaders) {
  std::string seen;
  std::mutex mu;
  ScriptedServer server([&](int, const std::string& req) {
    std::lock_guard lock(mu);
    seen = req;
    return Reply(200, "");
  });
  Client client;
  Request r;
  r.method = "PUT";
  r.url = server.url("/k");
  r.headers = {{"x-test", "1"}};
  r.body = std::make_shared<const Buffer>(Buffer::CopyOf("0123456789"));
  r.body_offset = 2;
  r.body_length = 5;
  ASSERT_TRUE(client.Send(r).Get().ok());
  std::lock_guard lock(mu);
  EXPECT_NE(seen.find("PUT /k HTTP/1.1"), std::string::npos) << seen;
  EXPECT_NE(seen.find("x-test: 1"), std::string::npos) << seen;
  EXPECT_NE(seen.find("Content-Length: 5"), std::string::npos) << seen;
  EXPECT_EQ(seen.substr(seen.size() - 5), "23456");
  EXPECT_EQ(seen.find("Expect:"), std::string::npos) << "no 100-continue round trip";
  EXPECT_EQ(seen.find("application/x-www-form-urlencoded"), std::string::npos) << seen;
}

TEST(HttpClient, RetriesThrottledAndTransientThenSucceeds) {
  ScriptedServer server([](int n, const std::string&) {
    if (n == 0) return Reply(503, "SlowDown");
    if (n == 1) return Reply(500, "oops");
    if (n == 2) return std::string();  // connection dropped
    return Reply(200, "ok");
  });
  Client client;
  auto res = client.SendWithRetry(Get(server.url()), Classify, FastPolicy()).Get();
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  EXPECT_EQ(res->body.ToString(), "ok");
  EXPECT_EQ(server.requests(), 4);
  // curl itself re-sends once when a reused connection turns out dead (the dropped one), so our
  // retries are 2 or 3 depending on which connection the third request used.
  EXPECT_GE(client.stats().retries, 2u);
  EXPECT_LE(client.stats().retries, 3u);
}

TEST(HttpClient, PermanentErrorIsNotRetried) {
  ScriptedServer server([](int, const std::string&) { return Reply(403, "no"); });
  Client client;
  auto res = client.SendWithRetry(Get(server.url()), Classify, FastPolicy()).Get();
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.status().kind(), ErrorKind::kPermanent);
  EXPECT_EQ(res.status().http_status(), 403);
  EXPECT_EQ(res.status().message(), "refused: no");
  EXPECT_EQ(server.requests(), 1);
}

TEST(HttpClient, GivesUpAfterMaxAttemptsWithCount) {
  ScriptedServer server([](int, const std::string&) { return Reply(500, "down"); });
  Client client;
  RetryPolicy p = FastPolicy();
  p.max_attempts = 3;
  auto res = client.SendWithRetry(Get(server.url()), Classify, p).Get();
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.status().kind(), ErrorKind::kTransient);
  EXPECT_NE(res.status().message().find("gave up after 3 attempts"), std::string::npos)
      << res.status().message();
  EXPECT_EQ(server.requests(), 3);
}

TEST(HttpClient, StalledServerEndsWithinDeadline) {
  // The server reads the request and never answers: the deadline (not the 30 s stall timeout)
  // must end the operation.
  ScriptedServer server([](int, const std::string&) {
    std::this_thread::sleep_for(3s);
    return Reply(200, "late");
  });
  Client client;
  RetryPolicy p = FastPolicy();
  p.deadline = 800ms;
  auto start = std::chrono::steady_clock::now();
  auto res = client.SendWithRetry(Get(server.url()), Classify, p).Get();
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(res.ok());
  EXPECT_TRUE(res.status().kind() == ErrorKind::kDeadlineExceeded ||
              res.status().kind() == ErrorKind::kTransient)
      << res.status().ToString();
  EXPECT_LT(took, 2500ms) << "the deadline bounds the whole operation";
}

TEST(HttpClient, StallMidBodyIsDetectedWithinTheStallTimeout) {
  // Promises 100000 bytes, sends 1000, then goes quiet (the connection stays open).
  ScriptedServer server([](int, const std::string&) {
    return "HTTP/1.1 200 X\r\nContent-Length: 100000\r\n\r\n" + std::string(1000, 'x');
  });
  ClientOptions options;
  options.stall_timeout = 500ms;
  Client client(options);
  RetryPolicy p = FastPolicy();
  p.max_attempts = 1;
  auto start = std::chrono::steady_clock::now();
  auto res = client.SendWithRetry(Get(server.url()), Classify, p).Get();
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.status().kind(), ErrorKind::kTransient);
  EXPECT_NE(res.status().message().find("stalled"), std::string::npos) << res.status().message();
  EXPECT_LT(took, 2500ms);
}

TEST(HttpClient, NonIdempotentIsNotResentAfterFailure) {
  ScriptedServer server([](int, const std::string&) { return Reply(500, "maybe applied"); });
  Client client;
  auto res = client.SendWithRetry(Get(server.url()), Classify, FastPolicy(), false).Get();
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(server.requests(), 1);
}

TEST(HttpClient, ConnectionRefusedIsTransientAndClear) {
  int port;
  {
    ScriptedServer gone([](int, const std::string&) { return Reply(200, ""); });
    port = std::stoi(gone.url().substr(17));
  }
  Client client;
  RetryPolicy p = FastPolicy();
  p.max_attempts = 2;
  auto res = client
                 .SendWithRetry(Get("http://127.0.0.1:" + std::to_string(port) + "/x"), Classify,
                                p)
                 .Get();
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.status().kind(), ErrorKind::kTransient);
  EXPECT_NE(res.status().message().find("127.0.0.1"), std::string::npos)
      << res.status().message();
}

TEST(HttpClient, NonIdempotentIsRetriedWhenItNeverReachedTheServer) {
  int port;
  {
    ScriptedServer gone([](int, const std::string&) { return Reply(200, ""); });
    port = std::stoi(gone.url().substr(17));
  }
  Client client;
  RetryPolicy p = FastPolicy();
  p.max_attempts = 3;
  auto res = client
                 .SendWithRetry(Get("http://127.0.0.1:" + std::to_string(port) + "/x"), Classify,
                                p, /*idempotent=*/false)
                 .Get();
  ASSERT_FALSE(res.ok());
  EXPECT_NE(res.status().message().find("gave up after 3 attempts"), std::string::npos)
      << "a refused connection is safe to retry: " << res.status().message();
}

TEST(HttpClient, InFlightBoundedByMaxConnections) {
  ScriptedServer server([](int, const std::string&) {
    std::this_thread::sleep_for(20ms);
    return Reply(200, "x");
  });
  ClientOptions options;
  options.max_connections = 3;
  Client client(options);
  std::vector<Future<Result<Response>>> futures;
  for (int i = 0; i < 24; ++i) {
    Request r;
    r.url = server.url();
    futures.push_back(client.Send(r));
  }
  for (auto& f : futures) EXPECT_TRUE(f.Get().ok());
  EXPECT_EQ(server.requests(), 24);
  EXPECT_LE(server.max_concurrent(), 3);
  EXPECT_GE(server.max_concurrent(), 2) << "requests should overlap";
}

TEST(HttpClient, DestroyingClientCompletesPendingWork) {
  ScriptedServer server([](int, const std::string&) {
    std::this_thread::sleep_for(200ms);
    return Reply(500, "x");
  });
  std::vector<Future<Result<Response>>> futures;
  {
    ClientOptions options;
    options.max_connections = 1;
    Client client(options);
    RetryPolicy p = FastPolicy();
    p.initial_backoff = 5s;  // the retry timer is pending when the client goes away
    for (int i = 0; i < 3; ++i) futures.push_back(client.SendWithRetry(Get(server.url()), Classify, p));
    std::this_thread::sleep_for(300ms);
  }
  for (auto& f : futures) {
    auto r = f.Get();  // must not hang
    EXPECT_FALSE(r.ok());
  }
}

TEST(HttpClient, DestroyedFromItsOwnCallbackDoesNotHangOrCrash) {
  ScriptedServer server([](int, const std::string&) { return Reply(500, "x"); });
  auto client = std::make_shared<Client>();
  Promise<bool> done;
  Future<Result<Response>> retried;
  {
    Request r;
    r.url = server.url();
    RetryPolicy p = FastPolicy();
    p.initial_backoff = 2s;  // its timer is still pending when the client dies
    retried = client->SendWithRetry(Get(server.url()), Classify, p);
    std::this_thread::sleep_for(100ms);
    // The last reference is dropped inside a callback, i.e. on the client's own loop thread.
    std::shared_ptr<Client> holder = client;
    client.reset();
    holder->Send(r).Then([holder = std::move(holder), done](Result<Response>&) mutable {
      holder.reset();
      done.Set(true);
    });
  }
  EXPECT_TRUE(done.future().Get());
  EXPECT_FALSE(retried.Get().ok()) << "the pending retry completes with an error";
}

// ArrayMorph hung in forked workers (PyTorch DataLoader): the child inherits a client whose loop
// thread does not exist. Ours must notice and start afresh.
TEST(HttpClient, WorksInAForkedChildAfterUseInTheParent) {
  ScriptedServer server([](int, const std::string&) { return Reply(200, "hello"); });
  Client client;
  Request r;
  r.url = server.url();
  ASSERT_TRUE(client.Send(r).Get().ok());  // the loop thread now runs in the parent
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto res = client.Send(r).Get();
    bool ok = res.ok() && res->body.ToString() == "hello";
    _exit(ok ? 0 : 1);  // no gtest teardown in the child
  }
  int status = -1;
  for (int i = 0; i < 200; ++i) {  // at most 10 s: a hang fails the test instead of blocking it
    if (waitpid(child, &status, WNOHANG) == child) break;
    std::this_thread::sleep_for(50ms);
  }
  if (!WIFEXITED(status)) {
    kill(child, SIGKILL);
    waitpid(child, &status, 0);
    FAIL() << "the forked child did not finish its request";
  }
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_TRUE(client.Send(r).Get().ok()) << "the parent's client still works";
}

TEST(UriEncode, EncodesReservedKeepsUnreserved) {
  EXPECT_EQ(UriEncode("a b/ñ+%=~._-", false), "a%20b%2F%C3%B1%2B%25%3D~._-");
  EXPECT_EQ(UriEncode("a b/c", true), "a%20b/c");
}

}  // namespace
}  // namespace nimbus::http
