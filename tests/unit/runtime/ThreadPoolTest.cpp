//===- ThreadPoolTest.cpp - every chunk runs exactly once -----------------===//
#include "runtime/ThreadPool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>

namespace kiln {
namespace {

TEST(ThreadPool, RunsEveryChunkOnceAcrossManyLoops) {
  for (unsigned threads : {1u, 2u, 4u}) {
    ThreadPool pool(threads);
    EXPECT_EQ(pool.threads(), threads);
    for (int64_t chunks : {0, 1, 2, 3, 17, 1000}) {
      std::vector<std::atomic<int>> hits(chunks);
      pool.run(chunks, [&](int64_t c) { hits[c]++; });
      for (int64_t c = 0; c < chunks; ++c)
        ASSERT_EQ(hits[c].load(), 1) << threads << " threads, chunk " << c;
    }
  }
}

TEST(ThreadPool, UsesTheWorkers) {
  ThreadPool pool(2);
  std::mutex m;
  std::set<std::thread::id> ids;
  for (int rep = 0; rep < 50 && ids.size() < 2; ++rep)
    pool.run(64, [&](int64_t) {
      std::this_thread::sleep_for(std::chrono::microseconds(50));
      std::lock_guard<std::mutex> lock(m);
      ids.insert(std::this_thread::get_id());
    });
  EXPECT_EQ(ids.size(), 2u);
}

} // namespace
} // namespace kiln
