// Prometheus metrics of the server (text exposition format 0.0.4 at /metrics):
//   nimbus_active_requests_total{api,operation}         requests received for an operation
//   nimbus_active_responses_total{code}                 responses sent, by HTTP status
//   nimbus_active_request_duration_seconds{api}         latency histogram (operation requests)
//   nimbus_active_bytes_fetched_total                   bytes downloaded from S3/HTTP upstreams
//   nimbus_active_bytes_decoded_total                   bytes after decompression and filters
//   nimbus_active_bytes_returned_total                  result bytes sent (before CBOR framing)
//   nimbus_active_requests_in_flight                    operation requests being processed
//   nimbus_active_memory_reserved_bytes / _limit_bytes  the memory budget
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>

namespace nimbus::active {

class Metrics {
 public:
  static constexpr std::array<double, 12> kLatencyBuckets = {
      0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10};

  void RequestStarted(std::string_view api, std::string_view operation);
  void RequestFinished(std::string_view api, double seconds);
  void Response(int status);
  void BytesFetched(uint64_t n) { bytes_fetched_ += n; }
  void BytesDecoded(uint64_t n) { bytes_decoded_ += n; }
  void BytesReturned(uint64_t n) { bytes_returned_ += n; }
  int64_t in_flight() const { return in_flight_.load(); }

  // The exposition text; `memory_reserved` and `memory_limit` are read at scrape time.
  std::string Render(uint64_t memory_reserved, uint64_t memory_limit) const;

 private:
  struct Histogram {
    std::array<uint64_t, kLatencyBuckets.size()> buckets{};
    uint64_t count = 0;
    double sum = 0;
  };
  mutable std::mutex mu_;
  std::map<std::pair<std::string, std::string>, uint64_t> requests_;
  std::map<int, uint64_t> responses_;
  std::map<std::string, Histogram> latency_;
  std::atomic<uint64_t> bytes_fetched_{0};
  std::atomic<uint64_t> bytes_decoded_{0};
  std::atomic<uint64_t> bytes_returned_{0};
  std::atomic<int64_t> in_flight_{0};
};

}  // namespace nimbus::active
