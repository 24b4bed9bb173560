#include "store/http/http_client.h"

#include <curl/curl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <atomic>
#include <cctype>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <queue>
#include <random>
#include <thread>
#include <unordered_set>
#include "core/strings.h"

namespace nimbus::http {
namespace {

using Clock = std::chrono::steady_clock;

// libcurl's global init is not thread-safe before 7.84 and must happen once; do it lazily on the
// first client (never at library load).
void EnsureCurlGlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// Transport failures that mean the request never reached the server: safe to retry even when the
// operation is not idempotent.
bool NeverSent(CURLcode code) {
  return code == CURLE_COULDNT_CONNECT || code == CURLE_COULDNT_RESOLVE_HOST ||
         code == CURLE_COULDNT_RESOLVE_PROXY;
}

Status TransportError(CURLcode code, const char* detail, const std::string& method,
                      const std::string& url) {
  std::string msg = method + " " + url + ": " + curl_easy_strerror(code);
  if (detail != nullptr && *detail != '\0') msg += std::string(" (") + detail + ")";
  switch (code) {
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
      return Status(ErrorKind::kPermanent, std::move(msg));
    default:
      // Connection refused/reset, timeouts, stalls, truncated bodies, DNS hiccups.
      return Status(ErrorKind::kTransient, std::move(msg));
  }
}

}  // namespace

std::string_view Response::Header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return value;
  }
  return {};
}

std::string UriEncode(std::string_view s, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size() * 3 / 2);
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' ||
        (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

// The event loop: one thread, one curl multi handle, a queue of requests waiting for a slot and a
// timer heap for retry backoff.
class Client::Loop {
 public:
  explicit Loop(const ClientOptions& options) : options_(options) {}

  ~Loop() {
    if (self_delete_) {
      DrainAfterStop();
    } else {
      Shutdown();
    }
  }

  bool OnLoopThread() const {
    return thread_ && std::this_thread::get_id() == thread_->get_id();
  }

  // After fork() the child has this object but not the loop thread; its curl handles and sockets
  // are the parent's, and a parent thread may have held the mutex at the moment of the fork. The
  // child drops all of it unused (never cleaned up: closing would disturb the parent's
  // connections) and starts afresh on its next request. Called, single-threaded in the child,
  // before any lock is taken.
  void AdoptAfterFork() {
    pid_t owner = owner_pid_.load();
    if (owner == 0 || owner == getpid()) return;
    (void)mu_.release();
    mu_ = std::make_unique<std::mutex>();
    (void)thread_.release();
    multi_ = nullptr;
    idle_.clear();
    for (auto& t : pending_) (void)t.release();
    pending_.clear();
    attached_.clear();
    timers_ = {};
    active_ = 0;
    stopping_ = false;
    self_delete_ = false;
    owner_pid_ = 0;
  }

  // The client is being destroyed by a callback running on this loop's own thread (its last
  // owner let go there), so the thread cannot be joined: it finishes its iteration, fails what is
  // left, and deletes the loop itself.
  void StopFromLoopThread() {
    std::lock_guard lock(*mu_);
    stopping_ = true;
    self_delete_ = true;
  }

  // Stops the loop thread, then completes everything still waiting with an error: timers run
  // (their Send fails fast, which ends their operation), queued requests fail. No waiter hangs.
  void Shutdown() {
    AdoptAfterFork();
    {
      std::lock_guard lock(*mu_);
      if (stopping_) return;
      stopping_ = true;
    }
    if (multi_ != nullptr) curl_multi_wakeup(multi_);
    if (thread_ && thread_->joinable()) thread_->join();
    DrainAfterStop();
  }

  void DrainAfterStop() {
    while (true) {
      std::function<void()> fn;
      {
        std::lock_guard lock(*mu_);
        if (timers_.empty()) break;
        fn = timers_.top().fn;
        timers_.pop();
      }
      fn();
    }
    std::deque<std::unique_ptr<Transfer>> pending;
    {
      std::lock_guard lock(*mu_);
      pending.swap(pending_);
    }
    for (auto& t : pending) Fail(*t, Status(ErrorKind::kPermanent, "HTTP client shut down"));
    for (CURL* easy : idle_) curl_easy_cleanup(easy);
    idle_.clear();
    if (multi_ != nullptr) curl_multi_cleanup(multi_);
    multi_ = nullptr;
  }

  // `never_sent`, when given, is set to true if the request failed before reaching the server
  // (connection refused, DNS): the retry logic may then resend even non-idempotent requests.
  Future<Result<Response>> Send(Request request, std::shared_ptr<bool> never_sent = nullptr) {
    AdoptAfterFork();
    auto transfer = std::make_unique<Transfer>();
    transfer->request = std::move(request);
    transfer->never_sent = std::move(never_sent);
    auto future = transfer->promise.future();
    bool stopped = false;
    {
      std::lock_guard lock(*mu_);
      stopped = stopping_;
      if (!stopped) {
        StartLocked();
        pending_.push_back(std::move(transfer));
      }
    }
    // Completed outside the lock: the continuation may call back into the loop.
    if (stopped) {
      Fail(*transfer, Status(ErrorKind::kPermanent, "HTTP client shut down"));
    } else {
      curl_multi_wakeup(multi_);
    }
    return future;
  }

  void Schedule(Clock::time_point when, std::function<void()> fn) {
    AdoptAfterFork();
    {
      std::lock_guard lock(*mu_);
      // While stopping, Shutdown() drains timers itself; the operation's Send then fails fast.
      if (!stopping_) StartLocked();
      timers_.push(Timer{when, timer_seq_++, std::move(fn)});
      if (stopping_) return;
    }
    curl_multi_wakeup(multi_);
  }

  Stats stats() const {
    Stats s;
    s.requests = requests_.load();
    s.retries = retries_.load();
    s.bytes_received = bytes_received_.load();
    s.bytes_sent = bytes_sent_.load();
    return s;
  }
  void CountRetry() { retries_.fetch_add(1, std::memory_order_relaxed); }
  // One attempt of a retried operation; its callbacks reference only the loop, which outlives
  // them (even when the client is destroyed from a callback).
  void RunAttempt(std::shared_ptr<RetryOperation> op);

 private:
  struct Transfer {
    Request request;
    Response response;
    Promise<Result<Response>> promise;
    CURL* easy = nullptr;
    curl_slist* header_list = nullptr;
    char error[CURL_ERROR_SIZE] = {};
    std::shared_ptr<bool> never_sent;  // see Send
    // Stall detection (see OnProgress).
    Clock::time_point last_progress;
    curl_off_t last_bytes = -1;
    std::chrono::milliseconds stall_limit{0};
    bool stalled = false;
  };
  struct Timer {
    Clock::time_point when;
    uint64_t seq;
    std::function<void()> fn;
    bool operator>(const Timer& o) const { return when != o.when ? when > o.when : seq > o.seq; }
  };

  // Called with mu_ held: creates the multi handle and the thread on first use.
  void StartLocked() {
    if (multi_ != nullptr) return;
    EnsureCurlGlobalInit();
    multi_ = curl_multi_init();
    curl_multi_setopt(multi_, CURLMOPT_MAX_TOTAL_CONNECTIONS,
                      static_cast<long>(options_.max_connections));
    curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, static_cast<long>(options_.max_connections));
    owner_pid_ = getpid();
    thread_ = std::make_unique<std::thread>([this] { Run(); });
  }

  static size_t OnBody(char* data, size_t size, size_t n, void* user) {
    auto* t = static_cast<Transfer*>(user);
    t->response.body.Append(data, size * n);
    return size * n;
  }

  static size_t OnHeader(char* data, size_t size, size_t n, void* user) {
    auto* t = static_cast<Transfer*>(user);
    std::string_view line(data, size * n);
    if (line.starts_with("HTTP/")) {
      t->response.headers.clear();  // a new response (after 100-continue or a redirect)
      return size * n;
    }
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) return size * n;
    std::string name = AsciiLower(TrimWhitespace(line.substr(0, colon)));
    std::string_view value = TrimWhitespace(line.substr(colon + 1));
    if (name == "content-length" && !t->request.no_body) {
      size_t len = std::strtoull(std::string(value).c_str(), nullptr, 10);
      // Pre-size the body buffer once, bounded so a lying header cannot make us allocate wildly.
      if (len > 0 && len < (size_t{8} << 30)) t->response.body.Reserve(len);
    }
    t->response.headers.emplace_back(std::move(name), std::string(value));
    return size * n;
  }

  // Called by curl at least once a second per transfer, even when no data moves. A transfer whose
  // byte counts have not changed for stall_timeout is aborted (and retried by the caller's
  // policy). curl's own LOW_SPEED_TIME averages over seconds and reacts late; this does not.
  static int OnProgress(void* user, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                        curl_off_t ulnow) {
    (void)dltotal;
    (void)ultotal;
    auto* t = static_cast<Transfer*>(user);
    auto now = Clock::now();
    curl_off_t bytes = dlnow + ulnow;
    if (bytes != t->last_bytes) {
      t->last_bytes = bytes;
      t->last_progress = now;
      return 0;
    }
    if (now - t->last_progress > t->stall_limit) {
      t->stalled = true;
      return 1;  // CURLE_ABORTED_BY_CALLBACK
    }
    return 0;
  }

  CURL* TakeEasy() {
    if (!idle_.empty()) {
      CURL* easy = idle_.back();
      idle_.pop_back();
      curl_easy_reset(easy);
      return easy;
    }
    return curl_easy_init();
  }

  void Configure(Transfer& t) {
    CURL* e = t.easy;
    const Request& r = t.request;
    curl_easy_setopt(e, CURLOPT_PRIVATE, &t);
    curl_easy_setopt(e, CURLOPT_URL, r.url.c_str());
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    // Keys are opaque: "a/../b" is a key, not a path to normalise (SigV4 signed it as is).
    curl_easy_setopt(e, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
    curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_BUFFERSIZE, 512L * 1024);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(options_.connect_timeout.count()));
    // Stall detection: no byte moved for stall_timeout aborts the attempt (OnProgress).
    t.last_progress = Clock::now();
    t.stall_limit = options_.stall_timeout;
    curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, &Loop::OnProgress);
    curl_easy_setopt(e, CURLOPT_XFERINFODATA, &t);
    if (r.timeout.count() > 0) {
      curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(r.timeout.count()));
    }
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, options_.verify_tls ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, options_.verify_tls ? 2L : 0L);
    if (!options_.ca_bundle.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, options_.ca_bundle.c_str());
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t.error);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &Loop::OnBody);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &Loop::OnHeader);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, &t);

    bool has_content_type = false;
    for (const auto& [name, value] : r.headers) {
      std::string line = name + ": " + value;
      if (value.empty()) line = name + ";";  // curl's syntax for a header with an empty value
      if (AsciiLower(name) == "content-type") has_content_type = true;
      t.header_list = curl_slist_append(t.header_list, line.c_str());
    }
    // No 100-continue round trip, and no form content type that curl would otherwise invent.
    t.header_list = curl_slist_append(t.header_list, "Expect:");
    if (!has_content_type) t.header_list = curl_slist_append(t.header_list, "Content-Type:");
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, t.header_list);

    if (r.method == "HEAD") {
      curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else if (r.method != "GET" || r.body) {
      curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r.method.c_str());
    }
    if (r.body) {
      // Sent straight from the caller's buffer (no copy); the shared_ptr keeps it alive.
      std::string_view body = r.BodyView();
      curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
      curl_easy_setopt(e, CURLOPT_POSTFIELDS, body.empty() ? "" : body.data());
      bytes_sent_.fetch_add(body.size(), std::memory_order_relaxed);
    } else if (r.method == "PUT" || r.method == "POST") {
      curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(0));
      curl_easy_setopt(e, CURLOPT_POSTFIELDS, "");
    }
    if (r.expected_response_size > 0) t.response.body.Reserve(r.expected_response_size);
  }

  void Fail(Transfer& t, Status status) { t.promise.Set(Result<Response>(std::move(status))); }

  void Finish(Transfer* t, CURLcode code) {
    std::unique_ptr<Transfer> owned(t);
    attached_.erase(t);
    curl_multi_remove_handle(multi_, t->easy);
    curl_slist_free_all(t->header_list);
    t->header_list = nullptr;
    if (code == CURLE_OK) {
      long status = 0;
      curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
      t->response.status = static_cast<int>(status);
      bytes_received_.fetch_add(t->response.body.size(), std::memory_order_relaxed);
    }
    idle_.push_back(t->easy);
    t->easy = nullptr;
    --active_;
    if (code == CURLE_OK) {
      t->promise.Set(Result<Response>(std::move(t->response)));
    } else {
      Status s = t->stalled
                     ? Status(ErrorKind::kTransient,
                              t->request.method + " " + t->request.url + ": stalled, no data for " +
                                  std::to_string(options_.stall_timeout.count()) + " ms")
                     : TransportError(code, t->error, t->request.method, t->request.url);
      if (NeverSent(code) && t->never_sent) *t->never_sent = true;
      Fail(*t, std::move(s));
    }
  }

  void Run() {
    while (true) {
      std::vector<std::function<void()>> due;
      {
        std::lock_guard lock(*mu_);
        if (stopping_) break;
        auto now = Clock::now();
        while (!timers_.empty() && timers_.top().when <= now) {
          due.push_back(timers_.top().fn);
          timers_.pop();
        }
      }
      for (auto& fn : due) fn();  // may call Send (re-locks mu_)
      {
        std::lock_guard lock(*mu_);
        while (active_ < options_.max_connections && !pending_.empty()) {
          Transfer* t = pending_.front().release();
          pending_.pop_front();
          t->easy = TakeEasy();
          Configure(*t);
          curl_multi_add_handle(multi_, t->easy);
          attached_.insert(t);
          ++active_;
          requests_.fetch_add(1, std::memory_order_relaxed);
        }
      }
      int running = 0;
      curl_multi_perform(multi_, &running);
      int left = 0;
      while (CURLMsg* msg = curl_multi_info_read(multi_, &left)) {
        if (msg->msg != CURLMSG_DONE) continue;
        Transfer* t = nullptr;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &t);
        Finish(t, msg->data.result);  // runs continuations, which may queue more work
      }
      int wait_ms = 1000;
      {
        std::lock_guard lock(*mu_);
        if (!timers_.empty()) {
          auto until = std::chrono::duration_cast<std::chrono::milliseconds>(
              timers_.top().when - Clock::now());
          wait_ms = static_cast<int>(std::clamp<long long>(until.count(), 0, 1000));
        }
        if (!pending_.empty() && active_ < options_.max_connections) wait_ms = 0;
      }
      curl_multi_poll(multi_, nullptr, 0, wait_ms, nullptr);
    }
    // Shutdown: abort in-flight transfers so their waiters see an error, never a hang.
    for (Transfer* t : attached_) {
      curl_multi_remove_handle(multi_, t->easy);
      curl_slist_free_all(t->header_list);
      curl_easy_cleanup(t->easy);
      Fail(*t, Status(ErrorKind::kPermanent,
                      "HTTP client shut down during " + t->request.method + " " + t->request.url));
      delete t;
    }
    attached_.clear();
    if (self_delete_) {
      thread_->detach();
      delete this;  // ~Loop -> Shutdown() drains timers and the queue; the thread is gone
    }
  }

  const ClientOptions options_;
  std::unique_ptr<std::mutex> mu_ = std::make_unique<std::mutex>();
  std::atomic<pid_t> owner_pid_{0};  // the process whose thread runs the loop; 0 = not started
  bool stopping_ = false;
  bool self_delete_ = false;
  CURLM* multi_ = nullptr;
  std::unique_ptr<std::thread> thread_;
  std::deque<std::unique_ptr<Transfer>> pending_;
  std::priority_queue<Timer, std::vector<Timer>, std::greater<>> timers_;
  uint64_t timer_seq_ = 0;
  int active_ = 0;  // loop thread only
  std::vector<CURL*> idle_;
  std::unordered_set<Transfer*> attached_;  // added to multi_, loop thread only
  std::atomic<uint64_t> requests_{0}, retries_{0}, bytes_received_{0}, bytes_sent_{0};
};

Client::Client(ClientOptions options)
    : options_(std::move(options)), loop_(std::make_unique<Loop>(options_)) {}

Client::~Client() {
  if (loop_->OnLoopThread()) {
    loop_->StopFromLoopThread();
    loop_.release();  // the loop thread deletes it when the current callback returns
  } else {
    loop_->Shutdown();
  }
}

Future<Result<Response>> Client::Send(Request request) { return loop_->Send(std::move(request)); }

Client::Stats Client::stats() const { return loop_->stats(); }

// The state of one retried operation, shared by its attempts' continuations (no cycles: it lives
// as long as a pending callback holds it).
struct Client::RetryOperation {
  BuildFn build;
  ClassifyFn classify;
  RetryPolicy policy;
  bool idempotent = true;
  Promise<Result<Response>> promise;
  Clock::time_point start;
  int attempt = 0;
};

namespace {
std::chrono::milliseconds Backoff(const RetryPolicy& policy, int attempt) {
  // Exponential growth with "equal jitter": half fixed, half random, so retries spread out but
  // never collapse to zero wait.
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  double base = static_cast<double>(policy.initial_backoff.count()) * std::pow(2.0, attempt - 1);
  double capped = std::min(base, static_cast<double>(policy.max_backoff.count()));
  std::uniform_real_distribution<double> jitter(0.0, capped / 2);
  return std::chrono::milliseconds(static_cast<long long>(capped / 2 + jitter(rng)));
}
}  // namespace

void Client::Loop::RunAttempt(std::shared_ptr<RetryOperation> op) {
  ++op->attempt;
  auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - op->start);
  Result<Request> request = op->build();
  if (!request.ok()) {
    op->promise.Set(Result<Response>(request.status()));
    return;
  }
  // Each attempt is bounded by what is left of the deadline, so none can outlive the operation.
  request->timeout = std::max(op->policy.deadline - elapsed, std::chrono::milliseconds(1));
  auto never_sent = std::make_shared<bool>(false);
  Send(std::move(request).value(), never_sent).Then([this, op, never_sent](Result<Response>& r) {
    Status status = r.ok() ? op->classify(*r) : r.status();
    if (status.ok()) {
      op->promise.Set(std::move(r));
      return;
    }
    bool retryable =
        status.kind() == ErrorKind::kThrottled || status.kind() == ErrorKind::kTransient;
    if (!op->idempotent && !*never_sent) retryable = false;
    auto now = Clock::now();
    auto spent = std::chrono::duration_cast<std::chrono::milliseconds>(now - op->start);
    auto delay = Backoff(op->policy, op->attempt);
    bool attempts_left = op->attempt < op->policy.max_attempts;
    bool time_left = spent + delay < op->policy.deadline;
    if (retryable && attempts_left && time_left) {
      CountRetry();
      Schedule(now + delay, [this, op] { RunAttempt(op); });
      return;
    }
    if (retryable) {
      ErrorKind kind = time_left ? status.kind() : ErrorKind::kDeadlineExceeded;
      status = Status(kind,
                      status.message() + " [gave up after " + std::to_string(op->attempt) +
                          (op->attempt == 1 ? " attempt" : " attempts") + " in " +
                          std::to_string(spent.count()) + " ms]",
                      status.http_status());
    }
    op->promise.Set(Result<Response>(std::move(status)));
  });
}

Future<Result<Response>> Client::SendWithRetry(BuildFn build, ClassifyFn classify,
                                               const RetryPolicy& policy, bool idempotent) {
  auto op = std::make_shared<RetryOperation>();
  op->build = std::move(build);
  op->classify = std::move(classify);
  op->policy = policy;
  op->idempotent = idempotent;
  op->start = Clock::now();
  auto future = op->promise.future();
  loop_->RunAttempt(std::move(op));
  return future;
}

}  // namespace nimbus::http
