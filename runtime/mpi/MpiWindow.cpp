//===- MpiWindow.cpp - PeerWindow over an MPI-3 shared-memory window ------===//
//
// When every rank runs on this host (the node communicator spans the
// world), PeerWindow's blocks live in one MPI_Win_allocate_shared window:
// each rank's block is plain shared memory the others map, so the window's
// atomics and plain loads and stores work across processes. That needs the
// unified memory model, which is checked; anything else (ranks on several
// hosts, a separate model) returns no window and mm_all_reduce_base and
// start() use messages instead. start() takes the window for all-reduces
// that suit it (runtime/comm/WindowAllReduce.h), at once.
//
//===----------------------------------------------------------------------===//
#include "runtime/mpi/MpiComm.h"

#include "runtime/comm/WindowAllReduce.h"

namespace kiln::comm::mpi {

PeerWindow *MpiComm::peerWindow(int64_t capacity,
                                const std::function<std::string()> &purpose) {
  if (localSize_ != size_ || size_ == 1)
    return nullptr;
  if (window_ && window_->capacity() >= capacity)
    return window_.get();
  if (window_)
    window_->announceGrowth(capacity);
  auto t = std::make_shared<Task>();
  t->kind = Task::Window;
  t->count = capacity;
  t->text = windowAgreement(purpose(), capacity);
  {
    std::unique_lock<std::mutex> lock(mutex_);
    queue_.push_back(t);
    cv_.notify_all();
    cv_.wait(lock, [&] { return t->done; });
  }
  window_.reset();
  if (!t->status.ok() || t->blocks.empty())
    return nullptr;
  window_ = std::make_unique<PeerWindow>(*this, t->blocks, capacity);
  return window_.get();
}

Communicator::Ticket MpiComm::start(void *data, int64_t count,
                                    const ReduceSpec &spec) {
  auto t = std::make_shared<Task>();
  t->data = data;
  t->count = count;
  t->spec = spec;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    t->seq = next_++;
    tasks_[t->seq] = t;
  }
  // Ranks on one host: at once, through shared memory. Whether there is a
  // window is decided alike on every rank, so all take the same path.
  if (peerWindows() && !windowMissing_ && size_ > 1 &&
      suitsWindowAllReduce(count, spec)) {
    if (std::optional<CommStatus> s =
            windowAllReduce(*this, t->seq, data, count, spec)) {
      std::lock_guard<std::mutex> lock(mutex_);
      t->status = *s;
      t->done = true;
      return t->seq;
    }
    windowMissing_ = true;
  }
  std::lock_guard<std::mutex> lock(mutex_);
  queue_.push_back(t);
  cv_.notify_all();
  return t->seq;
}

CommStatus MpiComm::agreeOn(const std::string &text) {
  Task t;
  t.kind = Task::Agree;
  t.text = text;
  return agreeOnText(t);
}

CommStatus MpiComm::allocateWindow(Task &t) {
  // Past this agreement no rank runs a kernel that reads the old blocks.
  if (CommStatus s = agreeOn(t.text); !s.ok())
    return s;
  if (win_ != MPI_WIN_NULL)
    MPI_Win_free(&win_);
  MPI_Info info;
  MPI_Info_create(&info);
  MPI_Info_set(info, "alloc_shared_noncontig", "true");
  char *base = nullptr;
  int rc = MPI_Win_allocate_shared(peerBlockBytes(t.count) + 64, 1, info, node_,
                                   &base, &win_);
  MPI_Info_free(&info);
  if (rc != MPI_SUCCESS) {
    win_ = MPI_WIN_NULL;
    return CommStatus::success(); // no window: messages instead
  }
  MPI_Win_set_errhandler(win_, MPI_ERRORS_RETURN);
  int *model = nullptr, flag = 0;
  MPI_Win_get_attr(win_, MPI_WIN_MODEL, &model, &flag);
  bool unified = flag && *model == MPI_WIN_UNIFIED;
  std::vector<char *> blocks(size_);
  for (int r = 0; r < size_ && unified; ++r) {
    MPI_Aint bytes = 0;
    int unit = 0;
    void *p = nullptr;
    MPI_Win_shared_query(win_, r, &bytes, &unit, &p);
    auto at = reinterpret_cast<uintptr_t>(p);
    blocks[r] = reinterpret_cast<char *>((at + 63) / 64 * 64);
  }
  if (unified)
    new (blocks[rank_]) PeerHeader();
  // Every header is zeroed before any rank uses the window; every rank
  // decides alike whether to use it (the model is the same everywhere).
  if (CommStatus s = agreeOn("peer windows allocated"); !s.ok())
    return s;
  if (unified)
    t.blocks = std::move(blocks);
  return CommStatus::success();
}

} // namespace kiln::comm::mpi
