//===- InProcess.h - N ranks as threads of one process ----------*- C++ -*-===//
//
//   InProcessGroup group(4);
//   std::vector<int> status = group.run([&](Communicator &comm) {
//     ... comm.allreduce(buf, n, {DType::F32}) ...; return 0;
//   });
//
// Every rank is a thread with its own Communicator; the ranks' buffers are
// shared memory. An all-reduce is a reduce-scatter: once every rank has
// started collective #s, each rank's progress thread reduces its slice of
// the buffers (runtime/comm/Reduce.h, rank order) and writes the result
// into every rank's buffer, so the reduction runs while the rank's own
// thread computes (the overlap mm_all_reduce_base needs). Failures (a
// mismatched collective, abort(), a rank leaving early, a timeout) set one
// group-wide error that every rank's waits report.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/Communicator.h"

#include <functional>
#include <memory>
#include <vector>

namespace kiln::comm {

struct GroupState;
class InProcessComm;

class InProcessGroup {
public:
  explicit InProcessGroup(int size);
  ~InProcessGroup();
  InProcessGroup(const InProcessGroup &) = delete;
  InProcessGroup &operator=(const InProcessGroup &) = delete;

  int size() const;
  /// Rank r's communicator (use it from one thread at a time).
  Communicator &rank(int r);
  /// Rank r is gone: collectives it never started fail at once on the
  /// others ("rank r exited before ..."). run() calls this as ranks return.
  void leave(int r);

  /// Runs fn on `size()` threads, one per rank, and returns each rank's
  /// status. A rank that returns non-zero or throws aborts the group (the
  /// others' collectives fail with its reason); one that returns leaves it.
  std::vector<int> run(const std::function<int(Communicator &)> &fn);

private:
  std::shared_ptr<GroupState> state_;
  std::vector<std::unique_ptr<InProcessComm>> ranks_;
};

} // namespace kiln::comm
