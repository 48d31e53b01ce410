//===- WindowAllReduce.h - all-reduce through a peer window -----*- C++ -*-===//
//
// The all-reduce for ranks that share a host and a peer window
// (runtime/comm/PeerWindow.h): each rank copies its buffer into its block
// and publishes it, then reduces every rank's block, in rank order, into
// its own buffer -- a one-shot all-reduce, as NCCL and oneCCL do inside a
// node. One copy and one pass instead of messages through a progress
// thread; the numerics are every backend's (runtime/comm/Reduce.h).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/Communicator.h"

#include <optional>

namespace kiln::comm {

/// Whether an all-reduce of `count` elements should take the window: up
/// to 64 MiB, so the window (two halves per rank) stays small next to the
/// buffers. Decided alike on ranks that agree on the collective.
bool suitsWindowAllReduce(int64_t count, const ReduceSpec &spec);

/// Reduces `count` elements of `data` in place across `comm`'s ranks
/// through its peer window; `seq` numbers the collective (equal on every
/// rank). nullopt when `comm` has no window (ranks on several hosts): use
/// messages. Errors (ranks disagreeing, a rank gone, the timeout) abort
/// `comm`, so every rank fails.
std::optional<CommStatus> windowAllReduce(Communicator &comm, int64_t seq,
                                          void *data, int64_t count,
                                          const ReduceSpec &spec);

} // namespace kiln::comm
