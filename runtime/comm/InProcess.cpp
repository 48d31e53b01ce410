//===- InProcess.cpp - N ranks as threads of one process ------------------===//
#include "runtime/comm/InProcess.h"

#include "runtime/comm/PeerWindow.h"
#include "runtime/comm/Reduce.h"

#include <fmt/core.h>

#include <condition_variable>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

namespace kiln::comm {

/// One collective as the ranks reach it.
struct Collective {
  std::vector<void *> data;
  std::vector<int64_t> count;
  std::vector<ReduceSpec> spec;
  std::vector<bool> arrived;
  int numArrived = 0, slicesDone = 0, waited = 0;
  int reducing = 0; ///< progress threads writing into the buffers now
};

/// What the ranks share; every field is guarded by `mutex`.
struct GroupState {
  explicit GroupState(int n) : size(n), left(n, false), windowBlocks(n) {}
  const int size;
  std::mutex mutex;
  std::condition_variable cv;
  std::string failure; ///< the group's first error; empty while healthy
  std::vector<bool> left;
  std::map<int64_t, Collective> collectives;
  std::map<int64_t, std::vector<std::optional<std::string>>> agreements;
  std::vector<char *> windowBlocks; ///< each rank's PeerWindow block

  void fail(std::string message) { // with `mutex` held
    if (failure.empty())
      failure = std::move(message);
    cv.notify_all();
  }
  /// Ranks not in `arrived`, and whether one of them has left the group.
  std::string missing(const std::vector<bool> &arrived, bool &someLeft) const {
    std::string out;
    someLeft = false;
    for (int r = 0; r < size; ++r)
      if (!arrived[r]) {
        out += (out.empty() ? "" : ", ") + std::to_string(r);
        someLeft |= left[r];
      }
    return out;
  }
};

class InProcessComm final : public Communicator {
public:
  InProcessComm(std::shared_ptr<GroupState> s, int rank)
      : s_(std::move(s)), rank_(rank) {}
  ~InProcessComm() override {
    {
      std::lock_guard<std::mutex> lock(s_->mutex);
      stop_ = true;
      s_->cv.notify_all();
    }
    if (progress_.joinable())
      progress_.join();
  }
  int rank() const override { return rank_; }
  int size() const override { return s_->size; }
  const char *backend() const override { return "in-process"; }

  Ticket start(void *data, int64_t count, const ReduceSpec &spec) override {
    std::lock_guard<std::mutex> lock(s_->mutex);
    Ticket seq = next_++;
    Collective &c = s_->collectives[seq];
    if (c.arrived.empty()) {
      c.data.resize(s_->size);
      c.count.resize(s_->size);
      c.spec.resize(s_->size);
      c.arrived.assign(s_->size, false);
    }
    c.data[rank_] = data;
    c.count[rank_] = count;
    c.spec[rank_] = spec;
    c.arrived[rank_] = true;
    ++c.numArrived;
    queue_.push_back({seq, std::chrono::steady_clock::now() + timeout()});
    if (!progress_.joinable())
      progress_ = std::thread([this] { progressLoop(); });
    s_->cv.notify_all();
    return seq;
  }

  CommStatus wait(Ticket seq) override {
    std::unique_lock<std::mutex> lock(s_->mutex);
    auto it = s_->collectives.find(seq);
    if (it == s_->collectives.end())
      return CommStatus::error(fmt::format("allreduce #{}: not started", seq));
    Collective &c = it->second;
    // After a failure, still wait until no progress thread writes into
    // this rank's buffer: the caller may free it once we return.
    s_->cv.wait(lock, [&] {
      return c.slicesDone == s_->size ||
             (!s_->failure.empty() && c.reducing == 0);
    });
    CommStatus status = c.slicesDone == s_->size
                            ? CommStatus::success()
                            : CommStatus::error(s_->failure);
    if (++c.waited == s_->size)
      s_->collectives.erase(it);
    return status;
  }

  CommStatus agree(const std::string &what) override;
  PeerWindow *peerWindow(int64_t capacity, const std::string &purpose) override;
  void abort(const std::string &reason) override {
    std::lock_guard<std::mutex> lock(s_->mutex);
    s_->fail(fmt::format("rank {} failed: {}", rank_, reason));
  }
  std::string failure() const override {
    std::lock_guard<std::mutex> lock(s_->mutex);
    return s_->failure;
  }
  bool departed(int rank) const override {
    std::lock_guard<std::mutex> lock(s_->mutex);
    return s_->left[rank];
  }

private:
  struct Pending {
    Ticket seq;
    std::chrono::steady_clock::time_point deadline;
  };
  void progressLoop();
  /// Waits (lock held) until every rank has started `seq`; false after
  /// setting the group's failure.
  bool awaitRanks(std::unique_lock<std::mutex> &lock, const Pending &p);

  std::shared_ptr<GroupState> s_;
  const int rank_;
  Ticket next_ = 0;
  int64_t nextAgreement_ = 0;
  std::deque<Pending> queue_; ///< guarded by s_->mutex
  bool stop_ = false;         ///< guarded by s_->mutex
  std::thread progress_;
  struct FreeBlock {
    void operator()(char *p) const { std::free(p); }
  };
  std::unique_ptr<char, FreeBlock> windowBlock_;
  std::unique_ptr<PeerWindow> window_;
};

PeerWindow *InProcessComm::peerWindow(int64_t capacity,
                                      const std::string &purpose) {
  if (window_ && window_->capacity() >= capacity)
    return window_.get();
  if (window_)
    window_->announceGrowth(capacity);
  // Past this agreement no rank runs a kernel that reads the old blocks.
  if (!agree(fmt::format("a peer window for {} ({} bytes)", purpose, capacity))
           .ok())
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
                           missing, someLeft ? "exited" : "did not arrive",
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
