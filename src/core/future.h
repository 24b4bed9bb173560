// A minimal one-shot Future/Promise pair. Drivers complete promises from their event loop; callers
// either block (Wait/Get) or attach one continuation (Then), which runs on the completing thread and
// must therefore be short (set another promise, submit another request).
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

namespace nimbus {

namespace internal {
template <typename T>
struct FutureState {
  std::mutex mu;
  std::condition_variable cv;
  std::optional<T> value;
  std::function<void(T&)> continuation;
  // Set only after the continuation has run: a waiter must never take the value while the
  // continuation still reads it.
  bool ready = false;
};
}  // namespace internal

template <typename T>
class Future {
 public:
  Future() = default;
  explicit Future(std::shared_ptr<internal::FutureState<T>> s) : state_(std::move(s)) {}

  bool valid() const { return state_ != nullptr; }
  bool ready() const {
    std::lock_guard lock(state_->mu);
    return state_->ready;
  }
  void Wait() const {
    std::unique_lock lock(state_->mu);
    state_->cv.wait(lock, [&] { return state_->ready; });
  }
  // Blocks until ready and moves the value out; call once.
  T Get() {
    Wait();
    std::lock_guard lock(state_->mu);
    return std::move(*state_->value);
  }
  // Runs `fn(value&)` once the value is set: now if it already is, else on the completing thread.
  // At most one continuation per future.
  void Then(std::function<void(T&)> fn) {
    std::unique_lock lock(state_->mu);
    if (state_->value) {
      lock.unlock();
      fn(*state_->value);
      return;
    }
    state_->continuation = std::move(fn);
  }

 private:
  std::shared_ptr<internal::FutureState<T>> state_;
};

template <typename T>
class Promise {
 public:
  Promise() : state_(std::make_shared<internal::FutureState<T>>()) {}
  Future<T> future() const { return Future<T>(state_); }
  // Runs the continuation (if any) first, then wakes waiters: Get() returns only after the
  // continuation is done with the value.
  void Set(T value) const {
    std::function<void(T&)> cont;
    {
      std::lock_guard lock(state_->mu);
      state_->value.emplace(std::move(value));
      cont = std::move(state_->continuation);
      if (!cont) state_->ready = true;
    }
    if (cont) {
      cont(*state_->value);
      std::lock_guard lock(state_->mu);
      state_->ready = true;
    }
    state_->cv.notify_all();
  }

 private:
  std::shared_ptr<internal::FutureState<T>> state_;
};

template <typename T>
Future<T> ReadyFuture(T value) {
  Promise<T> p;
  p.Set(std::move(value));
  return p.future();
}

// Waits for all futures and returns their values in order.
template <typename T>
std::vector<T> WaitAll(std::vector<Future<T>>& futures) {
  std::vector<T> out;
  out.reserve(futures.size());
  for (auto& f : futures) out.push_back(f.Get());
  return out;
}

}  // namespace nimbus
