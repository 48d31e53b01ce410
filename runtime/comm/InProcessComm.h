//===- InProcessComm.h - one rank of an in-process group -------*- C++ -*-===//
//
// Private to runtime/comm: the state the ranks of an InProcessGroup share
// and the Communicator each rank uses. InProcess.cpp holds the
// collectives, InProcessWindow.cpp the PeerWindow.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/comm/InProcess.h"
#include "runtime/comm/PeerWindow.h"
#include "runtime/comm/Reduce.h"
#include "runtime/comm/WindowAllReduce.h"

#include <fmt/core.h>

#include <condition_variable>
#include <cstdlib>
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
    // Through the peer window at once (WindowAllReduce.h): one copy and one
    // pass, microseconds instead of a progress thread's hand-offs.
    if (peerWindows() && s_->size > 1 && suitsWindowAllReduce(count, spec)) {
      Ticket seq = next_++; // the caller's thread alone starts collectives
      std::optional<CommStatus> s =
          windowAllReduce(*this, seq, data, count, spec);
      finished_.emplace(seq, s ? *s : CommStatus::error(failure()));
      return seq;
    }
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
    if (auto done = finished_.find(seq); done != finished_.end()) {
      CommStatus s = std::move(done->second);
      finished_.erase(done);
      return s;
    }
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
  PeerWindow *peerWindow(int64_t capacity,
                         const std::function<std::string()> &purpose) override;
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
  std::map<Ticket, CommStatus> finished_; ///< window all-reduces to wait()
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

} // namespace kiln::comm
