//===- InProcess.cpp - N ranks as threads of one process ------------------===//
#include "runtime/comm/InProcessComm.h"

#include <cstring>

namespace kiln::comm {

bool InProcessComm::awaitRanks(std::unique_lock<std::mutex> &lock,
                               const Pending &p) {
  if (!s_->failure.empty())
    return false;
  Collective &c = s_->collectives.at(p.seq);
  for (;;) {
    if (!s_->failure.empty())
      return false;
    bool someLeft = false;
    std::string missing = s_->missing(c.arrived, someLeft);
    const ReduceSpec &mine = c.spec[rank_];
    if (missing.empty())
      break;
    if (someLeft) {
      s_->fail(fmt::format("{}: rank(s) {} exited before starting it",
                           describe(p.seq, c.count[rank_], mine), missing));
      return false;
    }
    if (s_->cv.wait_until(lock, p.deadline) == std::cv_status::timeout &&
        std::chrono::steady_clock::now() >= p.deadline) {
      s_->fail(fmt::format("{}: timed out after {} ms waiting for rank(s) {}",
                           describe(p.seq, c.count[rank_], mine),
                           timeout().count(), missing));
      return false;
    }
  }
  for (int r = 0; r < s_->size; ++r)
    if (!sameCollective(c.count[r], c.spec[r], c.count[0], c.spec[0])) {
      s_->fail(fmt::format("ranks disagree on allreduce #{}: rank 0 has {}, "
                           "rank {} has {}",
                           p.seq, describe(p.seq, c.count[0], c.spec[0]), r,
                           describe(p.seq, c.count[r], c.spec[r])));
      return false;
    }
  return true;
}

void InProcessComm::progressLoop() {
  std::unique_lock<std::mutex> lock(s_->mutex);
  for (;;) {
    s_->cv.wait(lock, [&] { return stop_ || !queue_.empty(); });
    if (queue_.empty())
      return; // stopped
    Pending p = queue_.front();
    queue_.pop_front();
    if (!awaitRanks(lock, p))
      continue; // the failure wakes every waiter
    Collective &c = s_->collectives[p.seq];
    int64_t n = c.count[rank_], bytes = elementBytes(c.spec[rank_].dtype);
    int64_t lo = n * rank_ / s_->size, hi = n * (rank_ + 1) / s_->size;
    std::vector<const void *> srcs;
    for (void *d : c.data)
      srcs.push_back(static_cast<char *>(d) + lo * bytes);
    ReduceSpec spec = c.spec[rank_];
    std::vector<void *> dsts(c.data.begin(), c.data.end());
    ++c.reducing;
    lock.unlock();
    // This rank's slice, into its own buffer, then copied to the others'.
    void *mine = static_cast<char *>(dsts[rank_]) + lo * bytes;
    reduceInRankOrder(srcs, mine, hi - lo, spec);
    for (int r = 0; r < s_->size; ++r)
      if (r != rank_)
        std::memcpy(static_cast<char *>(dsts[r]) + lo * bytes, mine,
                    (hi - lo) * bytes);
    lock.lock();
    --c.reducing;
    ++c.slicesDone;
    s_->cv.notify_all();
  }
}

CommStatus InProcessComm::agree(const std::string &what) {
  std::unique_lock<std::mutex> lock(s_->mutex);
  int64_t seq = nextAgreement_++;
  auto &slots = s_->agreements[seq];
  slots.resize(s_->size);
  slots[rank_] = what;
  s_->cv.notify_all();
  auto deadline = std::chrono::steady_clock::now() + timeout();
  for (;;) {
    if (!s_->failure.empty())
      return CommStatus::error(s_->failure);
    std::vector<bool> arrived;
    for (auto &v : slots)
      arrived.push_back(v.has_value());
    bool someLeft = false;
    std::string missing = s_->missing(arrived, someLeft);
    if (missing.empty())
      break;
    if (someLeft || (s_->cv.wait_until(lock, deadline) ==
                         std::cv_status::timeout &&
                     std::chrono::steady_clock::now() >= deadline))
      s_->fail(fmt::format("rank(s) {} {} while rank {} waited to agree on: {}",
                           missing,
                           someLeft ? "exited"
                                    : fmt::format("did not arrive within {} ms",
                                                  timeout().count()),
                           rank_, what));
  }
  for (int r = 0; r < s_->size; ++r)
    if (*slots[r] != *slots[0])
      s_->fail(fmt::format("ranks disagree: rank 0 has {}; rank {} has {}",
                           *slots[0], r, *slots[r]));
  return s_->failure.empty() ? CommStatus::success()
                             : CommStatus::error(s_->failure);
}

InProcessGroup::InProcessGroup(int size)
    : state_(std::make_shared<GroupState>(size)) {
  for (int r = 0; r < size; ++r)
    ranks_.push_back(std::make_unique<InProcessComm>(state_, r));
}

InProcessGroup::~InProcessGroup() = default;

int InProcessGroup::size() const { return state_->size; }

Communicator &InProcessGroup::rank(int r) { return *ranks_.at(r); }

void InProcessGroup::leave(int r) {
  std::lock_guard<std::mutex> lock(state_->mutex);
  state_->left[r] = true;
  state_->cv.notify_all();
}

std::vector<int> InProcessGroup::run(
    const std::function<int(Communicator &)> &fn) {
  std::vector<int> status(size(), 0);
  std::vector<std::thread> threads;
  for (int r = 0; r < size(); ++r)
    threads.emplace_back([&, r] {
      try {
        status[r] = fn(rank(r));
      } catch (const std::exception &e) {
        rank(r).abort(std::string("exception: ") + e.what());
        status[r] = 1;
      }
      if (status[r] != 0)
        rank(r).abort(fmt::format("exited with status {}", status[r]));
      leave(r);
    });
  for (std::thread &t : threads)
    t.join();
  return status;
}

} // namespace kiln::comm
