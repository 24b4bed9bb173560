// One operation request, top to bottom, as reductionist-rs does it:
//   parse -> validate -> reserve memory -> fetch -> decompress -> unfilter -> check size ->
//   byte-swap -> select (strided view) -> reduce -> encode (v1 raw bytes + headers, v2 CBOR).
// Parsing and validation run on the caller's (network) thread and are cheap; the download runs on
// the HTTP client's event loop; everything CPU-heavy runs on the worker pool.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "active/fetch.h"
#include "active/kernels.h"
#include "active/memory_budget.h"
#include "active/metrics.h"
#include "active/request.h"
#include "core/thread_pool.h"

namespace nimbus::active {

// What the HTTP layer sends back.
struct HttpAnswer {
  int status = 200;
  std::string content_type;
  std::vector<std::pair<std::string, std::string>> headers;  // besides content type and length
  std::string body;
  // Keeps resources (the memory reservation) until the answer has been written.
  std::shared_ptr<void> hold;
};

// Reductionist's JSON error answer for a Status (see problem.h).
HttpAnswer ProblemAnswer(const Status& status);

// Bytes a request holds at its peak, as far as known before the download (decoded size from the
// shape; downloaded bytes from `size`). Unknown parts are reserved when they become known.
uint64_t PeakBytesEstimate(const ActiveRequest& request);

// The CPU stages on downloaded bytes: decompress, unfilter, size check, byte swap, view, reduce.
// `reservation` grows by what the estimate could not know (503 when the budget cannot hold it).
Result<ReductionResult> Compute(const ActiveRequest& request, Buffer fetched,
                                MemoryReservation& reservation, uint64_t memory_limit,
                                Metrics* metrics);

// The form of v1's x-activestorage-count header.
enum class V1CountHeader {
  kList,    // Reductionist 0.11: a compact JSON list, "[42]", "[10,10]" (the default)
  kScalar,  // Reductionist 0.2-0.10: a JSON integer, "42", whenever the result has one count
};
std::optional<V1CountHeader> ParseV1CountHeader(std::string_view name);  // "list" or "scalar"

// The success answer of `request`'s API version for `result`.
HttpAnswer EncodeResult(const ActiveRequest& request, const ReductionResult& result,
                        V1CountHeader v1_count_header = V1CountHeader::kList);

struct PipelineOptions {
  // How long a request may wait for memory before a 503.
  std::chrono::milliseconds memory_wait{30'000};
  V1CountHeader v1_count_header = V1CountHeader::kList;
};

class Pipeline {
 public:
  Pipeline(PipelineOptions options, std::shared_ptr<Fetcher> fetcher,
           std::shared_ptr<MemoryBudget> budget, std::shared_ptr<ThreadPool> workers,
           std::shared_ptr<Metrics> metrics);

  // Runs POST /v{1,2}/{operation}; `done` is called exactly once, from any thread.
  void Run(ApiVersion version, std::string_view operation, std::string_view content_type,
           std::string_view authorization, std::string body,
           std::function<void(HttpAnswer)> done);

 private:
  PipelineOptions options_;
  std::shared_ptr<Fetcher> fetcher_;
  std::shared_ptr<MemoryBudget> budget_;
  std::shared_ptr<ThreadPool> workers_;
  std::shared_ptr<Metrics> metrics_;
};

}  // namespace nimbus::active
