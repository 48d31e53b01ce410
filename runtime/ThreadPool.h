//===- ThreadPool.h - the workers JIT-ed code splits loops across -*- C++ -*-=//
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace kiln {

/// A fixed set of workers that run the chunks of one parallel loop at a
/// time; the calling thread works too. Workers sleep between loops.
class ThreadPool {
public:
  /// `threads` counts the caller: 1 means no workers (everything inline).
  explicit ThreadPool(unsigned threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool &) = delete;
  ThreadPool &operator=(const ThreadPool &) = delete;

  unsigned threads() const { return workers_.size() + 1; }

  /// Runs body(chunk) for chunk in [0, chunks) across the threads and
  /// returns when all are done. Calls from several threads take turns; a
  /// body must not call run() itself.
  void run(int64_t chunks, const std::function<void(int64_t)> &body);

  /// All cores of this machine (at least 1).
  static unsigned hardwareThreads();

private:
  void workerLoop();
  void drain(std::unique_lock<std::mutex> &lock);

  std::vector<std::thread> workers_;
  std::mutex turn_; ///< one loop at a time
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  const std::function<void(int64_t)> *body_ = nullptr;
  int64_t chunks_ = 0, next_ = 0, finished_ = 0;
  uint64_t generation_ = 0;
  bool stop_ = false;
};

} // namespace kiln
