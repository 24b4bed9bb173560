#include "active/memory_budget.h"

#include <vector>

#include "active/problem.h"

namespace nimbus::active {

MemoryReservation& MemoryReservation::operator=(MemoryReservation&& other) noexcept {
  if (this != &other) {
    Reset();
    budget_ = std::move(other.budget_);
    bytes_ = other.bytes_;
    other.bytes_ = 0;
  }
  return *this;
}

bool MemoryReservation::TryGrow(uint64_t more) {
  if (more == 0) return true;
  if (!budget_ || !budget_->TryTake(more)) return false;
  bytes_ += more;
  return true;
}

void MemoryReservation::Reset() {
  if (budget_ && bytes_ > 0) budget_->Release(bytes_);
  bytes_ = 0;
  budget_.reset();
}

uint64_t MemoryBudget::reserved() const {
  std::lock_guard lock(mu_);
  return reserved_;
}

size_t MemoryBudget::waiting() const {
  std::lock_guard lock(mu_);
  return waiters_.size();
}

bool MemoryBudget::TryTake(uint64_t bytes) {
  std::lock_guard lock(mu_);
  if (reserved_ + bytes > limit_) return false;
  reserved_ += bytes;
  return true;
}

void MemoryBudget::Acquire(uint64_t bytes, Clock::time_point deadline, Granted granted) {
  if (bytes > limit_) {
    granted(MakeProblem(400, "Insufficient memory to process request (" + std::to_string(bytes) +
                                 " > " + std::to_string(limit_) + ")",
                        {"the request needs " + std::to_string(bytes) +
                         " bytes at its peak; the server's memory limit is " +
                         std::to_string(limit_) + " bytes"}));
    return;
  }
  {
    std::lock_guard lock(mu_);
    // FIFO: a request never overtakes earlier waiters, so large ones are not starved.
    if (waiters_.empty() && reserved_ + bytes <= limit_) {
      reserved_ += bytes;
    } else {
      waiters_.push_back({bytes, deadline, std::move(granted)});
      return;
    }
  }
  granted(MemoryReservation(shared_from_this(), bytes));
}

void MemoryBudget::Release(uint64_t bytes) {
  std::vector<Waiter> ready;
  {
    std::lock_guard lock(mu_);
    reserved_ -= std::min(bytes, reserved_);
    while (!waiters_.empty() && reserved_ + waiters_.front().bytes <= limit_) {
      reserved_ += waiters_.front().bytes;
      ready.push_back(std::move(waiters_.front()));
      waiters_.pop_front();
    }
  }
  for (auto& w : ready) w.granted(MemoryReservation(shared_from_this(), w.bytes));
}

void MemoryBudget::ExpireWaiters(Clock::time_point now) {
  std::vector<Waiter> expired;
  {
    std::lock_guard lock(mu_);
    for (auto it = waiters_.begin(); it != waiters_.end();) {
      if (it->deadline <= now) {
        expired.push_back(std::move(*it));
        it = waiters_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& w : expired) {
    w.granted(MakeProblem(503, "server busy: memory budget exhausted",
                          {"waited for " + std::to_string(w.bytes) +
                           " bytes of the memory limit until the deadline; retry later"}));
  }
  if (!expired.empty()) Release(0);  // the waiters behind an expired one may fit now
}

}  // namespace nimbus::active
