//===- Communicator.h - collectives across the ranks of one run -*- C++ -*-===//
//
// kiln::Communicator is the one interface the reference executor, JIT-ed
// kernels (through codegen/RuntimeCalls) and the tools use to reduce across
// ranks. Two backends implement it:
//   runtime/comm/InProcess.h  N ranks as threads sharing memory (tests,
//                             kiln-run --ranks N, single-machine use);
//   runtime/mpi/MpiComm.h     one rank per process under mpirun (OpenMPI),
//                             in the separate library kiln_comm_mpi.
// A null Communicator* everywhere means a single rank: every reduction is
// the identity.
//
// Numerics (OPS.md §0, §5.2) are the backends' shared contract, implemented
// once in runtime/comm/Reduce.h: golden sums the ranks' values in f32, in
// rank order 0, 1, ..., N-1, and rounds once to the buffer's dtype;
// npu-compat sums in rank order rounding to `compatType` after every
// addition (HCCL's f16/bf16 reduction). Every rank gets bit-identical
// results, whatever the backend.
//
// Failures never hang: a rank that disagrees on a collective's element
// count or dtype, reports an error (abort), exits, or does not arrive
// within timeout() makes the collective fail with one clear message on
// every rank. A failed communicator stays failed: later calls return the
// same error at once.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Attributes.h"
#include "ir/Types.h"
#include "runtime/Eval.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace kiln {

namespace comm {
class PeerWindow;
}

/// What one all-reduce computes over a buffer of `dtype` (f32, f16, bf16).
struct ReduceSpec {
  ReduceSpec(DType dtype = DType::F32, ReduceOp op = ReduceOp::Sum,
             Numerics numerics = Numerics::Golden,
             std::optional<DType> compatType = std::nullopt)
      : dtype(dtype), op(op), numerics(numerics), compatType(compatType) {}
  DType dtype = DType::F32;
  ReduceOp op = ReduceOp::Sum;
  Numerics numerics = Numerics::Golden;
  /// npu-compat rounds each addition to this type; unset means `dtype`.
  /// (An f32 buffer may carry f16/bf16 values, as mm_all_reduce_base's
  /// partials do.)
  std::optional<DType> compatType;
};

/// The outcome of a communicator call: ok, or the message to report.
class CommStatus {
public:
  static CommStatus success() { return CommStatus(); }
  static CommStatus error(std::string message) {
    CommStatus s;
    s.message_ = std::move(message);
    s.ok_ = false;
    return s;
  }
  bool ok() const { return ok_; }
  const std::string &message() const { return message_; }

private:
  bool ok_ = true;
  std::string message_;
};

class Communicator {
public:
  /// Identifies a started collective on this rank until wait().
  using Ticket = int64_t;

  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  /// "in-process" or "mpi".
  virtual const char *backend() const = 0;
  /// Ranks sharing this machine's cores (this one included).
  virtual int localSize() const { return size(); }

  /// Starts reducing `count` elements of `data` in place across all ranks
  /// and returns at once; `data` must stay untouched until wait(). Every
  /// rank starts its collectives in the same order. Errors (including an
  /// already failed communicator) surface in wait(). Messages and progress
  /// threads never block here; through a peer window (ranks on one host,
  /// see peerWindows()) the reduction is done before start() returns.
  virtual Ticket start(void *data, int64_t count, const ReduceSpec &spec) = 0;
  /// Waits for a started collective (tickets may be waited in any order).
  virtual CommStatus wait(Ticket ticket) = 0;
  /// start() + wait().
  CommStatus allreduce(void *data, int64_t count, const ReduceSpec &spec) {
    return wait(start(data, count, spec));
  }

  /// Every rank passes a description of what it is about to do (e.g. its
  /// input shapes); fails on every rank, naming both, if any two differ.
  virtual CommStatus agree(const std::string &what) = 0;

  /// Memory every rank reads, for one-shot reductions between ranks on one
  /// host (runtime/comm/PeerWindow.h), with at least `capacity` bytes per
  /// invocation; reused while big enough. Collective when it has to grow
  /// (every rank asks for the same capacity at the same point). Null when
  /// the ranks do not all share this host (then use start/wait) or on
  /// failure (failure() says which). `purpose()` names what the window is
  /// for in the agreement and its errors (ranks asking for different
  /// windows disagree); it is called only when the window grows, so the
  /// per-run path formats nothing.
  virtual comm::PeerWindow *
  peerWindow(int64_t capacity, const std::function<std::string()> &purpose) {
    (void)capacity, (void)purpose;
    return nullptr;
  }

  /// Whether all-reduces between ranks on one host (in-process, or MPI on
  /// one node) go through the peer window (runtime/comm/WindowAllReduce.h)
  /// rather than messages (MPI) or progress threads (in-process): on
  /// unless KILN_ALLREDUCE_WINDOW=0. Set it alike on every rank, between
  /// collectives.
  bool peerWindows() const { return peerWindows_; }
  void setPeerWindows(bool on) { peerWindows_ = on; }

  /// Whether `rank` has left the group (returned or exited): waits on
  /// shared memory, which no collective tracks, fail instead of timing out.
  virtual bool departed(int rank) const {
    (void)rank;
    return false;
  }

  /// This rank failed with `reason`: every other rank's pending and future
  /// collectives fail with "rank R failed: reason". Idempotent.
  virtual void abort(const std::string &reason) = 0;
  /// The error this communicator failed with, or empty.
  virtual std::string failure() const = 0;

  /// How long a collective waits for the other ranks before failing.
  std::chrono::milliseconds timeout() const { return timeout_; }
  void setTimeout(std::chrono::milliseconds t) { timeout_ = t; }

protected:
  std::chrono::milliseconds timeout_{defaultTimeout()};
  bool peerWindows_ = defaultPeerWindows();

public:
  /// KILN_COMM_TIMEOUT_MS from the environment, else 60 s.
  static std::chrono::milliseconds defaultTimeout();
  /// Unless KILN_ALLREDUCE_WINDOW=0.
  static bool defaultPeerWindows();
};

/// f32, f16 or bf16: the dtypes collectives reduce.
bool isReducibleType(DType t);

} // namespace kiln
