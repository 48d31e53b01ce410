//===- PeerWindow.h - memory every rank on one host can read ---*- C++ -*-===//
//
// The intra-host transport of npu.mm_all_reduce_base. Ranks that share a
// host (an in-process group; MPI ranks on one node, through an MPI-3
// shared-memory window) skip messages altogether: each rank computes its
// f32 partial into its own block of a window every rank maps, publishes
// each finished row chunk with one release store, and every rank reduces
// the chunk straight from all the blocks into its own output while the
// others compute their next chunk: a one-shot all-reduce, as NCCL and
// oneCCL do inside a node. No progress thread, no copies: the reduction is
// the pass that rounds the partial into the output anyway.
//
// Protocol. Every rank runs the same sequence of invocations (as with all
// collectives), each a fixed number of chunks:
//   begin(tag)   this rank starts its next invocation; `tag` says what it
//                computes (rows, n, chunks...) so ranks that disagree fail
//                at once, naming both;
//   mine()       where this rank writes this invocation's partial;
//   publish()    this rank's next chunk is complete;
//   await(c)     every rank has published chunk c of this invocation;
//   of(r)        rank r's partial of this invocation, to read after await.
// Invocations alternate between two halves of each block, so a rank may
// start invocation e+1 while a peer still reads its invocation e: it cannot
// finish e+1, and so cannot overwrite e's half in e+2, before every peer
// has published all of e+1, which each does only after its reads of e.
//
// Nothing waits forever: await() spins, then yields, then sleeps, checking
// the communicator's failure and its timeout; a rank that times out or
// sees a disagreement aborts the communicator, so every rank fails.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/Communicator.h"

#include <array>
#include <atomic>
#include <cstdint>
#include <vector>

namespace kiln::comm {

/// What a rank's invocation computes; equal on every rank. `kind` says how
/// errors word the values.
struct WindowTag {
  enum Kind : int64_t {
    MmAllReduce, ///< m, n, chunks, k, the partials' spec (specCode)
    AllReduce,   ///< seq, count, spec (specCode), 0, 0
  } kind = MmAllReduce;
  static constexpr int kValues = 5;
  std::array<int64_t, kValues> values{};
  bool operator==(const WindowTag &) const = default;
};

/// The shared part of one rank's block, in front of its data.
struct alignas(64) PeerHeader {
  std::atomic<uint64_t> published{0}; ///< chunks published, all invocations
  /// 1 + the invocation that last began in each half.
  std::atomic<uint64_t> begun[2] = {0, 0};
  std::atomic<int64_t> tag[2][1 + WindowTag::kValues] = {}; ///< kind, values
  /// Bytes this rank is growing the window to (0: not growing): a peer
  /// waiting on it fails at once instead of timing out.
  std::atomic<int64_t> growing{0};
};

/// Bytes one rank's block needs for `capacity` bytes per half.
int64_t peerBlockBytes(int64_t capacity);

/// What ranks agree on before (re)allocating a window of `capacity` bytes
/// per half for `purpose` (the collective that needs it).
std::string windowAgreement(const std::string &purpose, int64_t capacity);

class PeerWindow {
public:
  /// blocks[r]: rank r's block of peerBlockBytes(capacity) bytes, 64-byte
  /// aligned; this rank's header must be zeroed before any rank uses it.
  PeerWindow(Communicator &comm, std::vector<char *> blocks, int64_t capacity);

  /// Bytes each invocation may write.
  int64_t capacity() const { return capacity_; }
  void begin(const WindowTag &tag);
  char *mine() const { return half(comm_.rank()); }
  const char *of(int r) const { return half(r); }
  void publish();
  /// Waits until every rank has published chunk `chunk` of this invocation;
  /// errors name it from the tag ("npu.mm_all_reduce_base chunk 2: ...",
  /// "allreduce #3 (64 x f32, sum, golden): ...").
  CommStatus await(int64_t chunk);
  /// Marks this rank as growing the window to `bytes` (see PeerHeader).
  void announceGrowth(int64_t bytes);

private:
  PeerHeader &header(int r) const {
    return *reinterpret_cast<PeerHeader *>(blocks_[r]);
  }
  char *half(int r) const;
  /// Why rank r cannot take part in this invocation, or empty; a peer
  /// growing the window only counts while we wait for it (`waiting`).
  std::string disagreement(int r, bool waiting) const;

  Communicator &comm_;
  std::vector<char *> blocks_;
  int64_t capacity_;
  uint64_t invocation_ = 0; ///< invocations begun here
  uint64_t base_ = 0;       ///< this rank's published count at begin()
  WindowTag tag_{};
};

} // namespace kiln::comm
