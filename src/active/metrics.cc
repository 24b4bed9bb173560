#include "active/metrics.h"

#include <sstream>

namespace nimbus::active {

void Metrics::RequestStarted(std::string_view api, std::string_view operation) {
  ++in_flight_;
  std::lock_guard lock(mu_);
  ++requests_[{std::string(api), std::string(operation)}];
}

void Metrics::RequestFinished(std::string_view api, double seconds) {
  --in_flight_;
  std::lock_guard lock(mu_);
  Histogram& h = latency_[std::string(api)];
  for (size_t i = 0; i < kLatencyBuckets.size(); ++i) {
    if (seconds <= kLatencyBuckets[i]) ++h.buckets[i];
  }
  ++h.count;
  h.sum += seconds;
}

void Metrics::Response(int status) {
  std::lock_guard lock(mu_);
  ++responses_[status];
}

std::string Metrics::Render(uint64_t memory_reserved, uint64_t memory_limit) const {
  std::ostringstream out;
  std::lock_guard lock(mu_);
  out << "# HELP nimbus_active_requests_total Operation requests received.\n"
      << "# TYPE nimbus_active_requests_total counter\n";
  for (const auto& [key, n] : requests_) {
    out << "nimbus_active_requests_total{api=\"" << key.first << "\",operation=\"" << key.second
        << "\"} " << n << "\n";
  }
  out << "# HELP nimbus_active_responses_total Responses sent, by HTTP status.\n"
      << "# TYPE nimbus_active_responses_total counter\n";
  for (const auto& [code, n] : responses_) {
    out << "nimbus_active_responses_total{code=\"" << code << "\"} " << n << "\n";
  }
  out << "# HELP nimbus_active_request_duration_seconds Operation request latency.\n"
      << "# TYPE nimbus_active_request_duration_seconds histogram\n";
  for (const auto& [api, h] : latency_) {
    for (size_t i = 0; i < kLatencyBuckets.size(); ++i) {
      out << "nimbus_active_request_duration_seconds_bucket{api=\"" << api << "\",le=\""
          << kLatencyBuckets[i] << "\"} " << h.buckets[i] << "\n";
    }
    out << "nimbus_active_request_duration_seconds_bucket{api=\"" << api << "\",le=\"+Inf\"} "
        << h.count << "\n";
    out << "nimbus_active_request_duration_seconds_sum{api=\"" << api << "\"} " << h.sum << "\n";
    out << "nimbus_active_request_duration_seconds_count{api=\"" << api << "\"} " << h.count
        << "\n";
  }
  auto counter = [&](const char* name, const char* help, uint64_t value) {
    out << "# HELP " << name << " " << help << "\n# TYPE " << name << " counter\n"
        << name << " " << value << "\n";
  };
  auto gauge = [&](const char* name, const char* help, int64_t value) {
    out << "# HELP " << name << " " << help << "\n# TYPE " << name << " gauge\n"
        << name << " " << value << "\n";
  };
  counter("nimbus_active_bytes_fetched_total", "Bytes downloaded from upstream stores.",
          bytes_fetched_.load());
  counter("nimbus_active_bytes_decoded_total", "Bytes after decompression and filters.",
          bytes_decoded_.load());
  counter("nimbus_active_bytes_returned_total", "Result bytes returned to clients.",
          bytes_returned_.load());
  gauge("nimbus_active_requests_in_flight", "Operation requests being processed.",
        in_flight_.load());
  gauge("nimbus_active_memory_reserved_bytes", "Bytes reserved in the memory budget.",
        static_cast<int64_t>(memory_reserved));
  gauge("nimbus_active_memory_limit_bytes", "The memory budget.",
        static_cast<int64_t>(memory_limit));
  return out.str();
}

}  // namespace nimbus::active
