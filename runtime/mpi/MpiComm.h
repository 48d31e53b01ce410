//===- MpiComm.h - the MPI backend's class (internal) ------------*- C++
//-*-===//
//
// Shared by MpiComm.cpp (life cycle, progress thread, polling),
// MpiControl.cpp (control messages, shutdown), MpiCollectives.cpp (the
// all-reduce and agreement protocols) and MpiWindow.cpp (the shared-memory
// peer window and the all-reduces through it); see MpiComm.cpp for the
// design. Only runtime/mpi/ includes this.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/Communicator.h"
#include "runtime/comm/PeerWindow.h"
#include "runtime/comm/Reduce.h"

#include <fmt/core.h>
#include <mpi.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

namespace kiln::comm::mpi {


using Clock = std::chrono::steady_clock;
constexpr int kControlTag = 0, kAgreeTag = 30100, kMaxAgree = 4096;
inline int dataTag(int64_t seq, int phase) {
  return 1 + static_cast<int>(seq % 10000) * 3 + phase;
}

struct Header {
  int64_t count;
  int32_t dtype, op, numerics, compat; // compat: -1 when unset
};

inline Header headerOf(int64_t count, const ReduceSpec &s) {
  return {count, static_cast<int32_t>(s.dtype), static_cast<int32_t>(s.op),
          static_cast<int32_t>(s.numerics),
          s.compatType ? static_cast<int32_t>(*s.compatType) : -1};
}

inline ReduceSpec specOf(const Header &h) {
  ReduceSpec s{static_cast<DType>(h.dtype), static_cast<ReduceOp>(h.op),
               static_cast<Numerics>(h.numerics), std::nullopt};
  if (h.compat >= 0)
    s.compatType = static_cast<DType>(h.compat);
  return s;
}

struct Task {
  enum Kind { Reduce, Agree, Window } kind = Reduce;
  int64_t seq = 0;
  void *data = nullptr;
  int64_t count = 0;
  ReduceSpec spec;
  std::string text;
  std::vector<char *> blocks; ///< Window: every rank's block
  bool done = false;
  CommStatus status;
};

class MpiComm final : public Communicator {
public:
  bool init(std::string &error);
  ~MpiComm() override;
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  int localSize() const override { return localSize_; }
  const char *backend() const override { return "mpi"; }

  Ticket start(void *data, int64_t count, const ReduceSpec &spec) override;
  CommStatus wait(Ticket seq) override {
    std::unique_lock<std::mutex> lock(mutex_);
    auto it = tasks_.find(seq);
    if (it == tasks_.end())
      return CommStatus::error(fmt::format("allreduce #{}: not started", seq));
    std::shared_ptr<Task> t = it->second;
    cv_.wait(lock, [&] { return t->done; });
    tasks_.erase(seq);
    return t->status;
  }
  CommStatus agree(const std::string &what) override {
    auto t = std::make_shared<Task>();
    t->kind = Task::Agree;
    t->text = what.substr(0, kMaxAgree - 1);
    std::unique_lock<std::mutex> lock(mutex_);
    t->seq = nextAgree_++;
    queue_.push_back(t);
    cv_.notify_all();
    cv_.wait(lock, [&] { return t->done; });
    return t->status;
  }
  void abort(const std::string &reason) override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (abortReason_.empty())
      abortReason_ = reason.empty() ? "error" : reason;
    if (failure_.empty())
      failure_ = fmt::format("rank {} failed: {}", rank_, abortReason_);
    cv_.notify_all();
  }
  PeerWindow *peerWindow(int64_t capacity,
                         const std::function<std::string()> &purpose) override;
  std::string failure() const override {
    std::lock_guard<std::mutex> lock(mutex_);
    return failure_;
  }
  bool departed(int rank) const override {
    std::lock_guard<std::mutex> lock(mutex_);
    return rank < static_cast<int>(departed_.size()) && departed_[rank];
  }

private:
  void loop();
  void fail(const std::string &message) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (failure_.empty())
      failure_ = message;
  }
  CommStatus failed() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return failure_.empty() ? CommStatus::success()
                            : CommStatus::error(failure_);
  }
  void pollControl();
  void sendControl(const std::string &message);
  /// Polls `reqs` (peer[i] is request i's rank) to completion; on failure
  /// or after the deadline cancels them and returns the error.
  /// A byte range one rank sends or receives.
  struct Bytes {
    void *data;
    int size;
  };
  /// With every other rank p at once: receives recv(p) from p and sends
  /// send(p) to p under `tag`, then awaits all of it by `deadline`.
  CommStatus exchange(int tag, const std::function<Bytes(int)> &recv,
                      const std::function<Bytes(int)> &send,
                      const std::string &what, Clock::time_point deadline);
  CommStatus await(std::vector<MPI_Request> &reqs, const std::vector<int> &peer,
                   const std::string &what, Clock::time_point deadline);
  CommStatus reduce(Task &t);
  CommStatus agreeOnText(Task &t);
  CommStatus agreeOn(const std::string &text);
  /// (Re)allocates the shared window of Task::count bytes per half.
  CommStatus allocateWindow(Task &t);
  void shutdown();

  int rank_ = 0, size_ = 1, localSize_ = 1;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<Task>> queue_;
  std::map<Ticket, std::shared_ptr<Task>> tasks_;
  Ticket next_ = 0;
  int64_t nextAgree_ = 0;
  std::string failure_, abortReason_;
  std::vector<bool> departed_; ///< gone_, for other threads
  bool stop_ = false, initDone_ = false;
  std::string initError_;
  std::thread thread_;
  // Progress-thread state.
  bool abortSent_ = false;
  std::vector<bool> gone_; ///< peers that sent "A" or "E"
  std::deque<std::pair<std::string, MPI_Request>> controlSends_;
  MPI_Comm node_ = MPI_COMM_NULL; ///< the ranks on this host
  MPI_Win win_ = MPI_WIN_NULL;
  // Caller-thread state.
  std::unique_ptr<PeerWindow> window_;
  bool windowMissing_ = false; ///< peerWindow() gave none: use messages
};

} // namespace kiln::comm::mpi
