#include "zarr/planner.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace nimbus::zarr {

void TransferModel::Observe(uint64_t bytes, double seconds) {
  if (seconds <= 0) return;
  std::lock_guard lock(mu_);
  // Small requests measure latency, large ones bandwidth (after subtracting latency). Exponential
  // averages adapt to the store's current state without keeping history.
  constexpr double kAlpha = 0.2;
  if (bytes <= 64 * 1024) {
    latency_s_ = latency_samples_++ == 0 ? seconds : (1 - kAlpha) * latency_s_ + kAlpha * seconds;
  } else if (bytes >= 1024 * 1024) {
    double transfer = std::max(seconds - latency_s_, seconds * 0.5);
    double bw = static_cast<double>(bytes) / transfer;
    bandwidth_ = bandwidth_samples_++ == 0 ? bw : (1 - kAlpha) * bandwidth_ + kAlpha * bw;
  }
}

double TransferModel::latency_s() const {
  std::lock_guard lock(mu_);
  return latency_s_;
}

double TransferModel::bandwidth_bps() const {
  std::lock_guard lock(mu_);
  return bandwidth_;
}

uint64_t TransferModel::BreakEvenGap() const {
  std::lock_guard lock(mu_);
  return static_cast<uint64_t>(latency_s_ * bandwidth_);
}

std::vector<MergedRange> CoalesceRanges(const std::vector<ByteSpan>& ranges,
                                        const CoalesceOptions& options) {
  std::vector<size_t> order(ranges.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return ranges[a].offset < ranges[b].offset; });
  std::vector<MergedRange> out;
  for (size_t i : order) {
    const ByteSpan& r = ranges[i];
    if (!out.empty()) {
      MergedRange& m = out.back();
      uint64_t end = std::max(m.span.end(), r.end());
      bool close = r.offset <= m.span.end() + options.max_gap;
      bool small = end - m.span.offset <= options.max_merged || r.offset < m.span.end();
      if (close && small) {
        m.span.length = end - m.span.offset;
        m.members.push_back(i);
        continue;
      }
    }
    out.push_back(MergedRange{r, {i}});
  }
  return out;
}

uint64_t PlannedGap(const TransferModel& model, uint64_t useful_bytes, size_t ranges) {
  if (ranges < 2) return 0;
  uint64_t budget = useful_bytes / 10 / (ranges - 1);  // per gap, so all gaps fit in 10%
  return std::min(model.BreakEvenGap(), budget);
}

bool ChooseWholeObject(const TransferModel& model, uint64_t object_size, uint64_t ranged_bytes,
                       size_t ranged_requests, size_t parallelism) {
  double latency = model.latency_s();
  double bandwidth = model.bandwidth_bps();
  double rounds = std::ceil(static_cast<double>(ranged_requests) /
                            static_cast<double>(std::max<size_t>(parallelism, 1)));
  double whole = latency + static_cast<double>(object_size) / bandwidth;
  double ranged = rounds * latency + static_cast<double>(ranged_bytes) / bandwidth;
  return whole <= ranged;
}

bool ChoosePushdown(uint64_t selected_bytes, uint64_t stored_bytes, double min_saving) {
  if (min_saving >= 1.0 || stored_bytes == 0) return false;
  const double keep = 1.0 - std::max(0.0, min_saving);
  return static_cast<double>(selected_bytes + kPushdownResponseOverhead) <=
         keep * static_cast<double>(stored_bytes);
}

void CompressionEstimate::Observe(uint64_t stored_bytes, uint64_t decoded_bytes) {
  std::lock_guard lock(mu_);
  stored_ += stored_bytes;
  decoded_ += decoded_bytes;
}

bool CompressionEstimate::observed() const {
  std::lock_guard lock(mu_);
  return decoded_ > 0;
}

uint64_t CompressionEstimate::Estimate(uint64_t decoded_bytes, double prior_ratio) const {
  std::lock_guard lock(mu_);
  const double ratio = decoded_ > 0 ? static_cast<double>(stored_) / static_cast<double>(decoded_)
                                    : prior_ratio;
  return static_cast<uint64_t>(ratio * static_cast<double>(decoded_bytes));
}

}  // namespace nimbus::zarr
