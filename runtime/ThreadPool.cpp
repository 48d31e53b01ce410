//===- ThreadPool.cpp - the workers JIT-ed code splits loops across -------===//
#include "runtime/ThreadPool.h"

#include <algorithm>

namespace kiln {

ThreadPool::ThreadPool(unsigned threads) {
  for (unsigned i = 1; i < threads; ++i)
    workers_.emplace_back([this] { workerLoop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  for (std::thread &t : workers_)
    t.join();
}

unsigned ThreadPool::hardwareThreads() {
  // glibc reads /sys for this (~6 us); kernels ask on every run.
  static const unsigned n = std::max(std::thread::hardware_concurrency(), 1u);
  return n;
}

/// Takes chunks until none are left; `lock` holds mutex_ on entry and exit.
void ThreadPool::drain(std::unique_lock<std::mutex> &lock) {
  while (next_ < chunks_) {
    int64_t chunk = next_++;
    const auto *body = body_;
    lock.unlock();
    (*body)(chunk);
    lock.lock();
    if (++finished_ == chunks_)
      done_.notify_all();
  }
}

void ThreadPool::workerLoop() {
  uint64_t seen = 0;
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
    if (stop_)
      return;
    seen = generation_;
    drain(lock);
  }
}

void ThreadPool::run(int64_t chunks, const std::function<void(int64_t)> &body) {
  if (workers_.empty() || chunks <= 1) {
    for (int64_t c = 0; c < chunks; ++c)
      body(c);
    return;
  }
  std::lock_guard<std::mutex> turn(turn_);
  std::unique_lock<std::mutex> lock(mutex_);
  body_ = &body;
  chunks_ = chunks;
  next_ = finished_ = 0;
  ++generation_;
  wake_.notify_all();
  drain(lock);
  done_.wait(lock, [&] { return finished_ == chunks_; });
  body_ = nullptr;
}

} // namespace kiln
