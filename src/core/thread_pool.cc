#include "core/thread_pool.h"

namespace nimbus {

// After fork() the child inherits the pool without its workers (and perhaps with the mutex held
// by one of them): it leaves all of that untouched and starts its own workers on the next Submit.
void ThreadPool::AdoptAfterFork() {
  if (owner_pid_ == 0 || owner_pid_ == getpid()) return;
  (void)mu_.release();
  (void)cv_.release();
  mu_ = std::make_unique<std::mutex>();
  cv_ = std::make_unique<std::condition_variable>();
  (void)new std::vector<std::thread>(std::move(threads_));  // not joinable here; never destroyed
  threads_.clear();
  tasks_.clear();
  owner_pid_ = 0;
}

ThreadPool::~ThreadPool() {
  AdoptAfterFork();
  {
    std::lock_guard lock(*mu_);
    stopping_ = true;
  }
  cv_->notify_all();
  for (auto& t : threads_) t.join();
}

void ThreadPool::Submit(std::function<void()> task) {
  AdoptAfterFork();
  {
    std::lock_guard lock(*mu_);
    if (threads_.empty()) {
      owner_pid_ = getpid();
      for (size_t i = 0; i < size_; ++i) threads_.emplace_back([this] { Work(); });
    }
    tasks_.push_back(std::move(task));
  }
  cv_->notify_one();
}

void ThreadPool::Work() {
  while (true) {
    std::function<void()> task;
    {
      std::unique_lock lock(*mu_);
      cv_->wait(lock, [&] { return stopping_ || !tasks_.empty(); });
      if (tasks_.empty()) return;  // stopping and drained
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    task();
  }
}

ThreadPool& ThreadPool::Shared() {
  static ThreadPool* pool = new ThreadPool(std::max(1u, std::thread::hardware_concurrency()));
  return *pool;
}

}  // namespace nimbus
