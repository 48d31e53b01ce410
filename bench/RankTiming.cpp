//===- RankTiming.cpp - timing bodies on every rank at once ---------------===//
#include "bench/RankTiming.h"

#include <algorithm>
#include <chrono>

namespace kiln::bench {

bool barrier(Communicator &comm) {
  float token = 0;
  return comm.allreduce(&token, 1, {DType::F32}).ok();
}

std::vector<std::optional<double>>
timed(Communicator &comm, unsigned repeat,
      const std::vector<std::function<bool()>> &bodies) {
  std::vector<std::vector<double>> t(bodies.size());
  std::vector<bool> ok(bodies.size(), true);
  for (unsigned i = 0; i <= repeat; ++i)
    for (size_t step = 0; step < bodies.size(); ++step) {
      size_t b = (step + i) % bodies.size(); // rotate who runs after whom
      if (!ok[b] || !barrier(comm))
        continue;
      auto t0 = std::chrono::steady_clock::now();
      bool good = bodies[b]();
      float s =
          std::chrono::duration<float>(std::chrono::steady_clock::now() - t0)
              .count();
      float failed = good ? 0 : 1;
      if (!comm.allreduce(&s, 1, {DType::F32, ReduceOp::Max}).ok() ||
          !comm.allreduce(&failed, 1, {DType::F32, ReduceOp::Max}).ok() ||
          failed != 0)
        ok[b] = false;
      else if (i > 0)
        t[b].push_back(s);
    }
  std::vector<std::optional<double>> out;
  for (size_t b = 0; b < bodies.size(); ++b) {
    std::sort(t[b].begin(), t[b].end());
    out.push_back(ok[b] && !t[b].empty()
                      ? std::optional<double>(t[b][t[b].size() / 2])
                      : std::nullopt);
  }
  return out;
}

} // namespace kiln::bench
