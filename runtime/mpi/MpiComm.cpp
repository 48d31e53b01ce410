//===- MpiComm.cpp - one rank per process through MPI ---------------------===//
//
// All MPI calls happen on one progress thread per process (it calls
// MPI_Init_thread, so MPI_THREAD_SERIALIZED suffices): start() queues a
// collective and returns; the thread runs the queue in order, so reductions
// progress while the rank's own threads compute. (When every rank is on
// this host, start() instead reduces at once through the shared-memory peer
// window: MpiWindow.cpp.) Each all-reduce through messages is
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
// "E" from a rank that finished (MpiControl.cpp). At shutdown a rank says
// "E" and waits for every peer's "A" or "E" before MPI_Finalize; MPI_Abort
// ends the job if a peer stays silent past the timeout.
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

} // namespace mpi

std::unique_ptr<Communicator> openMpi(std::string &error) {
  auto comm = std::make_unique<mpi::MpiComm>();
  if (!comm->init(error))
    return nullptr;
  return comm;
}

} // namespace kiln::comm
