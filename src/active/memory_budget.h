// The memory budget: every request reserves the bytes it will hold at its peak (downloaded,
// decompressed, widened and result bytes) before it downloads anything, and keeps the reservation
// until its response is built. A request that can never fit is refused at once; one that does not
// fit now waits in FIFO order until others release enough, or until its wait deadline passes.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>

#include "core/status.h"

namespace nimbus::active {

class MemoryBudget;

// RAII: releases its bytes to the budget when destroyed.
class MemoryReservation {
 public:
  MemoryReservation() = default;
  MemoryReservation(std::shared_ptr<MemoryBudget> budget, uint64_t bytes)
      : budget_(std::move(budget)), bytes_(bytes) {}
  MemoryReservation(MemoryReservation&& other) noexcept { *this = std::move(other); }
  MemoryReservation& operator=(MemoryReservation&& other) noexcept;
  MemoryReservation(const MemoryReservation&) = delete;
  MemoryReservation& operator=(const MemoryReservation&) = delete;
  ~MemoryReservation() { Reset(); }

  uint64_t bytes() const { return bytes_; }
  // Adds `more` bytes if they fit now (no waiting: the request already holds memory, so waiting
  // could deadlock). False when they do not.
  bool TryGrow(uint64_t more);
  void Reset();

 private:
  std::shared_ptr<MemoryBudget> budget_;
  uint64_t bytes_ = 0;
};

class MemoryBudget : public std::enable_shared_from_this<MemoryBudget> {
 public:
  using Clock = std::chrono::steady_clock;
  using Granted = std::function<void(Result<MemoryReservation>)>;

  explicit MemoryBudget(uint64_t limit) : limit_(limit) {}

  uint64_t limit() const { return limit_; }
  uint64_t reserved() const;
  size_t waiting() const;

  // Calls `granted` with a reservation (now, or from another thread's Release), or with a
  // MakeProblem error: 400 when `bytes` exceeds the whole limit, 503 when the wait deadline passes.
  void Acquire(uint64_t bytes, Clock::time_point deadline, Granted granted);

  // Fails waiters whose deadline has passed (the server calls this periodically).
  void ExpireWaiters(Clock::time_point now);

 private:
  friend class MemoryReservation;
  bool TryTake(uint64_t bytes);
  void Release(uint64_t bytes);

  struct Waiter {
    uint64_t bytes;
    Clock::time_point deadline;
    Granted granted;
  };
  const uint64_t limit_;
  mutable std::mutex mu_;
  uint64_t reserved_ = 0;
  std::deque<Waiter> waiters_;
};

}  // namespace nimbus::active
