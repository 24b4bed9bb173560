// ThreadPool: a fixed number of workers for CPU work (chunk decode/encode), so I/O completions
// never run codecs on the network loop and decoding uses every core. Workers start on the first
// Submit, never at library load.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace nimbus {

class ThreadPool {
 public:
  explicit ThreadPool(size_t workers) : size_(workers == 0 ? 1 : workers) {}
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  void Submit(std::function<void()> task);
  size_t size() const { return size_; }

  // The process-wide pool for codec work, one worker per core. Created on first use and never
  // destroyed: joining threads from static destructors at exit is how plugins crash their hosts.
  static ThreadPool& Shared();

 private:
  void Work();
  void AdoptAfterFork();
  const size_t size_;
  // Pointers so a forked child can replace them (see AdoptAfterFork).
  std::unique_ptr<std::mutex> mu_ = std::make_unique<std::mutex>();
  std::unique_ptr<std::condition_variable> cv_ = std::make_unique<std::condition_variable>();
  std::deque<std::function<void()>> tasks_;
  std::vector<std::thread> threads_;
  int owner_pid_ = 0;  // process that started the workers
  bool stopping_ = false;
};

}  // namespace nimbus
