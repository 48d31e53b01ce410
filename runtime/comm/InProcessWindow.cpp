//===- InProcessWindow.cpp - PeerWindow of an in-process group ------------===//
//
// Each rank allocates its own block and publishes its address in the
// group's state; two agreements order the allocation against every rank's
// last use of the old blocks and its first use of the new ones.
//
//===----------------------------------------------------------------------===//
#include "runtime/comm/InProcessComm.h"

namespace kiln::comm {

PeerWindow *
InProcessComm::peerWindow(int64_t capacity,
                          const std::function<std::string()> &purpose) {
  if (window_ && window_->capacity() >= capacity)
    return window_.get();
  if (window_)
    window_->announceGrowth(capacity);
  // Past this agreement no rank runs a kernel that reads the old blocks.
  if (!agree(windowAgreement(purpose(), capacity)).ok())
    return nullptr;
  window_.reset();
  int64_t bytes = peerBlockBytes(capacity);
  windowBlock_.reset(static_cast<char *>(std::aligned_alloc(64, bytes)));
  new (windowBlock_.get()) PeerHeader();
  {
    std::lock_guard<std::mutex> lock(s_->mutex);
    s_->windowBlocks[rank_] = windowBlock_.get();
  }
  if (!agree("peer windows allocated").ok())
    return nullptr;
  std::vector<char *> blocks;
  {
    std::lock_guard<std::mutex> lock(s_->mutex);
    blocks = s_->windowBlocks;
  }
  window_ = std::make_unique<PeerWindow>(*this, std::move(blocks), capacity);
  return window_.get();
}

} // namespace kiln::comm
