// store_throughput: parallel PUT, then parallel GET, of N objects of S bytes through any
// ObjectStore opened from a URL (+ --set settings), printing MB/s (10^6 bytes/s) as JSON.
// bench/store_throughput.py runs it beside boto3 on the same objects and prints the comparison.
//
// Concurrency C is the HTTP client's max_connections (set unless given with --set). Up to
// `window` (default 2C) operations are outstanding so the next payload is prepared while C
// requests are on the wire; the driver's connection limit keeps the wire concurrency at C.
#include <CLI/CLI.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/buffer.h"
#include "core/config.h"
#include "core/future.h"
#include "core/status.h"
#include "store/object_store.h"
#include "store/store_factory.h"

namespace nimbus::bench {
namespace {

using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string url;
  std::vector<std::string> sets;
  size_t objects = 64;
  std::string size_text = "16M";
  int concurrency = 8;
  int window = 0;  // 0: 2 * concurrency
  std::string key_prefix = "bench/throughput/";
  std::vector<std::string> phases = {"put", "get"};
  bool keep = false;
  bool verify = true;
};

// "16M", "512K", "1G", "1048576"; binary multiples ("MiB" also accepted).
std::optional<uint64_t> ParseSize(std::string text) {
  if (text.size() > 2 && text.compare(text.size() - 2, 2, "iB") == 0) text.resize(text.size() - 2);
  uint64_t multiplier = 1;
  if (!text.empty()) {
    switch (text.back()) {
      case 'K':
      case 'k':
        multiplier = uint64_t{1} << 10;
        break;
      case 'M':
      case 'm':
        multiplier = uint64_t{1} << 20;
        break;
      case 'G':
      case 'g':
        multiplier = uint64_t{1} << 30;
        break;
      default:
        break;
    }
    if (multiplier != 1) text.pop_back();
  }
  if (text.empty()) return std::nullopt;
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9' || value > UINT64_MAX / 10) return std::nullopt;
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  if (value > UINT64_MAX / multiplier) return std::nullopt;
  return value * multiplier;
}

// Deterministic bytes (splitmix64), so a GET-only run can verify objects a previous run wrote.
Buffer MakeTemplate(uint64_t size) {
  Buffer out = Buffer::Allocate(size);
  uint64_t state = 0x6e696d627573ULL;
  for (uint64_t offset = 0; offset < size; offset += 8) {
    state += 0x9e3779b97f4a7c15ULL;
    uint64_t z = state;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    std::memcpy(out.data() + offset, &z, std::min<uint64_t>(8, size - offset));
  }
  return out;
}

// Object i is the template with its first 8 bytes replaced by i, so every object differs and a
// GET that returned the wrong object is caught.
constexpr size_t kStampSize = sizeof(uint64_t);

Buffer MakePayload(const Buffer& pattern, uint64_t index) {
  Buffer out = Buffer::Allocate(pattern.size());
  std::memcpy(out.data(), pattern.data(), pattern.size());
  std::memcpy(out.data(), &index, std::min(kStampSize, pattern.size()));
  return out;
}

Status VerifyPayload(const Buffer& pattern, uint64_t index, std::string_view got,
                     const std::string& key) {
  if (got.size() != pattern.size()) {
    return PermanentError(key + ": read " + std::to_string(got.size()) + " bytes, expected " +
                          std::to_string(pattern.size()));
  }
  size_t stamp = std::min(kStampSize, pattern.size());
  bool same = std::memcmp(got.data(), &index, stamp) == 0 &&
              std::memcmp(got.data() + stamp, pattern.data() + stamp, got.size() - stamp) == 0;
  if (!same) return PermanentError(key + ": content differs from what was written");
  return Status::Ok();
}

std::string KeyOf(const Options& options, size_t index) {
  char name[32];
  std::snprintf(name, sizeof(name), "obj-%06zu", index);
  return options.key_prefix + name;
}

// Completions travel from the store's threads to the benchmark thread, which does the heavier
// work (verification, preparing the next payload) so continuations stay short.
template <typename T>
class CompletionQueue {
 public:
  void Push(size_t index, T value) {
    {
      std::lock_guard lock(mu_);
      items_.emplace_back(index, std::move(value));
    }
    cv_.notify_one();
  }
  std::pair<size_t, T> Pop() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !items_.empty(); });
    std::pair<size_t, T> item = std::move(items_.front());
    items_.pop_front();
    return item;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::pair<size_t, T>> items_;
};

// Runs `count` operations, at most `window` outstanding: start(i) -> Future<T>, finish(i, T&) ->
// Status. After the first error no new operation starts; the outstanding ones are drained.
template <typename T, typename StartFn, typename FinishFn>
Status RunWindowed(size_t count, size_t window, StartFn start, FinishFn finish) {
  auto queue = std::make_shared<CompletionQueue<T>>();
  size_t issued = 0;
  size_t done = 0;
  Status first_error;
  while (done < issued || (issued < count && first_error.ok())) {
    while (issued < count && issued - done < window && first_error.ok()) {
      Future<T> future = start(issued);
      future.Then([queue, index = issued](T& value) { queue->Push(index, std::move(value)); });
      ++issued;
    }
    auto [index, value] = queue->Pop();
    ++done;
    Status status = finish(index, value);
    if (!status.ok() && first_error.ok()) first_error = std::move(status);
  }
  return first_error;
}

Json PhaseJson(double seconds, uint64_t bytes, size_t objects) {
  return Json{{"seconds", seconds},
              {"bytes", bytes},
              {"mb_per_s", seconds > 0 ? static_cast<double>(bytes) / seconds / 1e6 : 0.0},
              {"objects_per_s", seconds > 0 ? static_cast<double>(objects) / seconds : 0.0}};
}

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

int Fail(const Status& status) {
  std::fprintf(stderr, "store_throughput: %s\n", status.ToString().c_str());
  return 1;
}

int Run(const Options& options) {
  auto object_size = ParseSize(options.size_text);
  if (!object_size) {
    std::fprintf(stderr, "store_throughput: bad --size '%s'\n", options.size_text.c_str());
    return 2;
  }
  ConfigMap config;
  if (Status parsed = ParseSetArguments(options.sets, &config); !parsed.ok()) return Fail(parsed);
  if (config.find("max_connections") == config.end()) {
    config["max_connections"] = std::to_string(options.concurrency);
  }
  auto opened = store::OpenStore(options.url, config);
  if (!opened.ok()) return Fail(opened.status());
  std::shared_ptr<store::ObjectStore> store = *opened;

  const size_t window = options.window > 0 ? static_cast<size_t>(options.window)
                                           : 2 * static_cast<size_t>(options.concurrency);
  const uint64_t total_bytes = *object_size * options.objects;
  const Buffer pattern = MakeTemplate(*object_size);

  Json report{{"store", store->Describe()},
              {"url", options.url},
              {"objects", options.objects},
              {"object_size", *object_size},
              {"concurrency", options.concurrency},
              {"max_connections", config["max_connections"]},
              {"window", window},
              {"verified", options.verify}};

  for (const std::string& phase : options.phases) {
    Clock::time_point start = Clock::now();
    Status status;
    if (phase == "put") {
      status = RunWindowed<Result<store::PutResult>>(
          options.objects, window,
          [&](size_t i) { return store->Put(KeyOf(options, i), MakePayload(pattern, i)); },
          [&](size_t i, Result<store::PutResult>& put) {
            return put.status().WithContext("put " + KeyOf(options, i));
          });
    } else if (phase == "get") {
      status = RunWindowed<Result<store::GetResult>>(
          options.objects, window, [&](size_t i) { return store->Get(KeyOf(options, i)); },
          [&](size_t i, Result<store::GetResult>& got) {
            if (!got.ok()) return got.status().WithContext("get " + KeyOf(options, i));
            if (!options.verify) return Status::Ok();
            return VerifyPayload(pattern, i, got->data.view(), KeyOf(options, i));
          });
    } else {
      std::fprintf(stderr, "store_throughput: unknown phase '%s' (put, get)\n", phase.c_str());
      return 2;
    }
    double seconds = SecondsSince(start);
    if (!status.ok()) return Fail(status);
    report[phase] = PhaseJson(seconds, total_bytes, options.objects);
  }

  if (!options.keep) {
    std::vector<std::string> keys;
    for (size_t i = 0; i < options.objects; ++i) keys.push_back(KeyOf(options, i));
    if (Status deleted = store->DeleteMany(std::move(keys)).Get(); !deleted.ok()) {
      return Fail(deleted.WithContext("cleaning up"));
    }
  }
  std::printf("%s\n", report.dump(2).c_str());
  return 0;
}

int Main(int argc, char** argv) {
  Options options;
  CLI::App app{"Parallel PUT/GET throughput of an ObjectStore; prints MB/s as JSON",
               "store_throughput"};
  app.add_option("--url", options.url, "Store URL (s3://bucket/prefix, file:///dir, ...)")
      ->required();
  app.add_option("--set", options.sets, "Store setting key=value (repeatable; commas separate)");
  app.add_option("-n,--objects", options.objects, "Number of objects")->check(CLI::PositiveNumber);
  app.add_option("-s,--size", options.size_text, "Object size (bytes; K/M/G suffix)");
  app.add_option("-c,--concurrency", options.concurrency,
                 "Requests in flight = the HTTP client's max_connections")
      ->check(CLI::PositiveNumber);
  app.add_option("--window", options.window, "Operations outstanding (default 2 x concurrency)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--key-prefix", options.key_prefix, "Keys are <prefix>obj-NNNNNN");
  app.add_option("--phases", options.phases, "Phases to run, in order (put, get)")->delimiter(',');
  app.add_flag("--keep", options.keep, "Leave the objects in the store");
  app.add_flag("!--no-verify", options.verify, "Skip checking the bytes read back");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  return Run(options);
}

}  // namespace
}  // namespace nimbus::bench

int main(int argc, char** argv) {
  try {
    return nimbus::bench::Main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "store_throughput: %s\n", e.what());
    return 1;
  }
}
