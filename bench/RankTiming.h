//===- RankTiming.h - timing bodies on every rank at once -------*- C++ -*-===//
#pragma once

#include "runtime/Communicator.h"

#include <functional>
#include <optional>
#include <vector>

namespace kiln::bench {

/// A barrier: a one-element all-reduce. On one host it goes through the
/// peer window, so ranks leave it within microseconds of each other (an
/// agreement through MPI's progress thread lets them drift ~100 us apart,
/// which the first rank would then count as its own time).
bool barrier(Communicator &comm);

/// The slowest rank's seconds for each of `bodies`, every rank starting
/// after a barrier; the bodies run interleaved (one of each per round, so
/// the machine's drifting load hits them alike, in an order rotated every
/// round so none always inherits the same cache), one warm-up round, then
/// the median of `repeat` rounds. nullopt for a body that failed.
std::vector<std::optional<double>>
timed(Communicator &comm, unsigned repeat,
      const std::vector<std::function<bool()>> &bodies);

} // namespace kiln::bench
