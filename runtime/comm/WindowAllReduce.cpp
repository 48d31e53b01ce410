//===- WindowAllReduce.cpp - all-reduce through a peer window -------------===//
#include "runtime/comm/WindowAllReduce.h"

#include "runtime/comm/PeerWindow.h"
#include "runtime/comm/Reduce.h"

#include <algorithm>
#include <cstring>
#include <vector>

namespace kiln::comm {

bool suitsWindowAllReduce(int64_t count, const ReduceSpec &spec) {
  return count * elementBytes(spec.dtype) <= (int64_t(64) << 20);
}

std::optional<CommStatus> windowAllReduce(Communicator &comm, int64_t seq,
                                          void *data, int64_t count,
                                          const ReduceSpec &spec) {
  if (std::string f = comm.failure(); !f.empty())
    return CommStatus::error(f);
  int64_t bytes = count * elementBytes(spec.dtype);
  PeerWindow *w = comm.peerWindow(std::max<int64_t>(bytes, 64),
                                  [&] { return describe(seq, count, spec); });
  if (!w) {
    if (std::string f = comm.failure(); !f.empty())
      return CommStatus::error(f);
    return std::nullopt;
  }
  // The tag carries count and spec: ranks that disagree fail at once.
  w->begin({WindowTag::AllReduce, {seq, count, specCode(spec), 0, 0}});
  std::memcpy(w->mine(), data, bytes);
  w->publish();
  if (CommStatus s = w->await(0); !s.ok())
    return s;
  std::vector<const void *> srcs(comm.size());
  for (int r = 0; r < comm.size(); ++r)
    srcs[r] = w->of(r);
  reduceInRankOrder(srcs, data, count, spec);
  return CommStatus::success();
}

} // namespace kiln::comm
