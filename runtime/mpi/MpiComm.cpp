//===- MpiComm.cpp - one rank per process through MPI ---------------------===//
//
// All MPI calls happen on one progress thread per process (it calls
// MPI_Init_thread, so MPI_THREAD_SERIALIZED suffices): start() queues a
// collective and returns; the thread runs the queue in order, so reductions
// progress while the rank's own threads compute. Each all-reduce is
//   0. a header exchange (count, dtype, op, numerics) with every rank, so a
//      mismatch fails on every rank with the same message before any data
//      moves;
//   1. a reduce-scatter: rank s receives slice s of every rank's buffer and
//      reduces it in rank order (runtime/comm/Reduce.h, the same code as
//      the in-process backend, hence bit-identical results);
//   2. an all-gather of the reduced slices.
// MPI_SUM on floats would not fix the order of additions; this does.
// Nothing waits forever: every wait polls MPI_Test with a deadline and
// reads control messages (tag 0): "A<reason>" from a rank that failed,
// "E" from a rank that finished. At shutdown a rank says "E" and waits for
// every peer's "A" or "E" before MPI_Finalize; MPI_Abort ends the job if a
// peer stays silent past the timeout.
//
//===----------------------------------------------------------------------===//
#include "runtime/mpi/MpiComm.h"

namespace kiln::comm {

namespace mpi {

bool MpiComm::init(std::string &error) {
  thread_ = std::thread([this] { loop(); });
  std::unique_lock<std::mutex> lock(mutex_);
  cv_.wait(lock, [&] { return initDone_; });
  error = initError_;
  return error.empty();
}

MpiComm::~MpiComm() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
    cv_.notify_all();
  }
  if (thread_.joinable())
    thread_.join();
}

void MpiComm::loop() {
  int provided = 0;
  int rc = MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (rc != MPI_SUCCESS)
      initError_ = "MPI_Init_thread failed";
    else {
      MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
      MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
      MPI_Comm_size(MPI_COMM_WORLD, &size_);
      gone_.assign(size_, false);
      // The ranks on this node share its cores, and maybe a PeerWindow
      // (ordered by world rank: key = rank).
      if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_,
                              MPI_INFO_NULL, &node_) == MPI_SUCCESS) {
        MPI_Comm_set_errhandler(node_, MPI_ERRORS_RETURN);
        MPI_Comm_size(node_, &localSize_);
      }
    }
    initDone_ = true;
    cv_.notify_all();
    if (rc != MPI_SUCCESS)
      return;
  }
  for (;;) {
    std::shared_ptr<Task> t;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      auto ready = [&] { return stop_ || !queue_.empty(); };
      // With a window in use, ranks wait on each other's memory, not on
      // this thread: keep reading control messages so they see a peer's
      // abort (PeerWindow::await checks failure()).
      if (win_ == MPI_WIN_NULL)
        cv_.wait(lock, ready);
      else if (!cv_.wait_for(lock, std::chrono::milliseconds(2), ready)) {
        lock.unlock();
        pollControl();
        continue;
      }
      if (queue_.empty())
        break;
      t = queue_.front();
      queue_.pop_front();
    }
    CommStatus s = failed();
    if (s.ok())
      s = t->kind == Task::Reduce  ? reduce(*t)
          : t->kind == Task::Agree ? agreeOnText(*t)
                                   : allocateWindow(*t);
    std::lock_guard<std::mutex> lock(mutex_);
    t->status = s;
    t->done = true;
    cv_.notify_all();
  }
  shutdown();
}

void MpiComm::sendControl(const std::string &message) {
  for (int p = 0; p < size_; ++p) {
    if (p == rank_)
      continue;
    controlSends_.push_back({message, MPI_REQUEST_NULL});
    auto &[buf, req] = controlSends_.back();
    MPI_Isend(buf.data(), static_cast<int>(buf.size()), MPI_CHAR, p,
              kControlTag, MPI_COMM_WORLD, &req);
  }
}

void MpiComm::pollControl() {
  std::string reason;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    reason = abortReason_;
  }
  if (!reason.empty() && !abortSent_) {
    sendControl("A" + reason);
    abortSent_ = true;
  }
  for (;;) {
    int flag = 0;
    MPI_Status st;
    MPI_Iprobe(MPI_ANY_SOURCE, kControlTag, MPI_COMM_WORLD, &flag, &st);
    if (!flag)
      break;
    int n = 0;
    MPI_Get_count(&st, MPI_CHAR, &n);
    std::string msg(std::max(n, 1), 'E');
    MPI_Recv(msg.data(), n, MPI_CHAR, st.MPI_SOURCE, kControlTag,
             MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    gone_[st.MPI_SOURCE] = true;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      departed_ = gone_;
    }
    if (msg[0] == 'A')
      fail(fmt::format("rank {} failed: {}", st.MPI_SOURCE, msg.substr(1)));
  }
  while (!controlSends_.empty()) {
    int flag = 0;
    MPI_Test(&controlSends_.front().second, &flag, MPI_STATUS_IGNORE);
    if (!flag)
      break;
    controlSends_.pop_front();
  }
}

CommStatus MpiComm::await(std::vector<MPI_Request> &reqs,
                          const std::vector<int> &peer, const std::string &what,
                          Clock::time_point deadline) {
  auto pause = std::chrono::microseconds(0);
  CommStatus status;
  for (;;) {
    bool all = true;
    for (MPI_Request &r : reqs) {
      int flag = 1;
      if (r != MPI_REQUEST_NULL &&
          MPI_Test(&r, &flag, MPI_STATUS_IGNORE) != MPI_SUCCESS) {
        fail(fmt::format("{}: MPI error", what));
        flag = 0;
      }
      all &= flag != 0;
    }
    if (all)
      return CommStatus::success();
    pollControl();
    status = failed();
    if (!status.ok())
      break;
    std::string missing;
    bool left = false;
    for (size_t i = 0; i < reqs.size(); ++i) {
      int flag = 1;
      if (reqs[i] != MPI_REQUEST_NULL && gone_[peer[i]]) // retest once
        MPI_Test(&reqs[i], &flag, MPI_STATUS_IGNORE);
      if (reqs[i] != MPI_REQUEST_NULL) {
        missing += fmt::format("{}{}", missing.empty() ? "" : ", ", peer[i]);
        left |= gone_[peer[i]];
      }
    }
    if (left) {
      fail(fmt::format("{}: rank(s) {} exited before taking part", what,
                       missing));
      break;
    }
    if (Clock::now() >= deadline) {
      fail(fmt::format("{}: timed out after {} ms waiting for rank(s) {}",
                       what, timeout().count(), missing));
      break;
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(std::chrono::microseconds(200),
                     pause * 2 + std::chrono::microseconds(5));
  }
  for (MPI_Request &r : reqs)
    if (r != MPI_REQUEST_NULL) {
      MPI_Cancel(&r);
      MPI_Request_free(&r);
    }
  return failed();
}

void MpiComm::shutdown() {
  pollControl(); // sends a pending abort notice first
  sendControl("E");
  auto deadline = Clock::now() + timeout();
  for (;;) {
    pollControl();
    std::string missing;
    for (int p = 0; p < size_; ++p)
      if (p != rank_ && !gone_[p])
        missing += fmt::format("{}{}", missing.empty() ? "" : ", ", p);
    if (missing.empty() && controlSends_.empty())
      break;
    if (Clock::now() >= deadline) {
      fmt::print(stderr,
                 "kiln: rank {}: rank(s) {} did not finish within {} ms; "
                 "aborting the MPI job\n",
                 rank_, missing, timeout().count());
      std::fflush(stderr);
      MPI_Abort(MPI_COMM_WORLD, 1);
    }
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  if (win_ != MPI_WIN_NULL && failed().ok()) // collective: not after a failure
    MPI_Win_free(&win_);
  if (node_ != MPI_COMM_NULL)
    MPI_Comm_free(&node_);
  MPI_Finalize();
}

} // namespace mpi

std::unique_ptr<Communicator> openMpi(std::string &error) {
  auto comm = std::make_unique<mpi::MpiComm>();
  if (!comm->init(error))
    return nullptr;
  return comm;
}

} // namespace kiln::comm
