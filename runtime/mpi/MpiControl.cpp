//===- MpiControl.cpp - the MPI backend's control messages and shutdown ---===//
//
// Control messages (tag 0) tell every rank what happened elsewhere:
// "A<reason>" from a rank that failed, "E" from a rank that finished. The
// progress thread reads them while it waits (pollControl); at shutdown a
// rank says "E" and waits for every peer's "A" or "E" before MPI_Finalize,
// and aborts the job if a peer stays silent past the timeout.
//
//===----------------------------------------------------------------------===//
#include "runtime/mpi/MpiComm.h"

namespace kiln::comm::mpi {

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

} // namespace kiln::comm::mpi
