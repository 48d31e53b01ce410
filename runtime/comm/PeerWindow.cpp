//===- PeerWindow.cpp - memory every rank on one host can read ------------===//
#include "runtime/comm/PeerWindow.h"

#include "runtime/comm/Reduce.h"

#include <fmt/core.h>

#include <chrono>
#include <immintrin.h>
#include <thread>

namespace kiln::comm {

namespace {

constexpr int64_t kHeaderBytes = sizeof(PeerHeader);
static_assert(kHeaderBytes % 64 == 0);
static_assert(std::atomic<uint64_t>::is_always_lock_free,
              "the window's counters must work across processes");

int64_t roundUp64(int64_t bytes) { return (bytes + 63) / 64 * 64; }

std::string tagText(const WindowTag &t) {
  const auto &v = t.values;
  if (t.kind == WindowTag::AllReduce)
    return describe(v[0], v[1], specOfCode(v[2]));
  ReduceSpec s = specOfCode(v[4]);
  return fmt::format("m={} n={} in {} chunk(s), k={}, {} partials, {}", v[0],
                     v[1], v[2], v[3], toString(s.dtype),
                     s.numerics == Numerics::Golden ? "golden" : "npu-compat");
}

} // namespace

int64_t peerBlockBytes(int64_t capacity) {
  return kHeaderBytes + 2 * roundUp64(capacity);
}

std::string windowAgreement(const std::string &purpose, int64_t capacity) {
  return fmt::format("{} (a peer window of {} bytes)", purpose, capacity);
}

PeerWindow::PeerWindow(Communicator &comm, std::vector<char *> blocks,
                       int64_t capacity)
    : comm_(comm), blocks_(std::move(blocks)), capacity_(roundUp64(capacity)) {
  base_ = header(comm_.rank()).published.load(std::memory_order_relaxed);
}

char *PeerWindow::half(int r) const {
  return blocks_[r] + kHeaderBytes + (invocation_ - 1) % 2 * capacity_;
}

void PeerWindow::begin(const WindowTag &tag) {
  PeerHeader &h = header(comm_.rank());
  int parity = invocation_ % 2;
  ++invocation_;
  tag_ = tag;
  h.tag[parity][0].store(tag.kind, std::memory_order_relaxed);
  for (int i = 0; i < WindowTag::kValues; ++i)
    h.tag[parity][i + 1].store(tag.values[i], std::memory_order_relaxed);
  h.begun[parity].store(invocation_, std::memory_order_release);
  base_ = h.published.load(std::memory_order_relaxed);
}

void PeerWindow::publish() {
  header(comm_.rank()).published.fetch_add(1, std::memory_order_release);
}

void PeerWindow::announceGrowth(int64_t bytes) {
  header(comm_.rank()).growing.store(bytes, std::memory_order_release);
}

std::string PeerWindow::disagreement(int r, bool waiting) const {
  const PeerHeader &h = header(r);
  int64_t grow = waiting ? h.growing.load(std::memory_order_acquire) : 0;
  if (grow != 0)
    return fmt::format("ranks disagree: rank {} needs {} bytes of "
                       "partials, rank {} has {} for {}",
                       r, grow, comm_.rank(), capacity_, tagText(tag_));
  int parity = (invocation_ - 1) % 2;
  if (h.begun[parity].load(std::memory_order_acquire) != invocation_)
    return {};
  WindowTag theirs;
  theirs.kind = static_cast<WindowTag::Kind>(
      h.tag[parity][0].load(std::memory_order_relaxed));
  for (int i = 0; i < WindowTag::kValues; ++i)
    theirs.values[i] = h.tag[parity][i + 1].load(std::memory_order_relaxed);
  if (theirs == tag_)
    return {};
  return fmt::format("ranks disagree: rank {} has {}; rank {} has {}",
                     comm_.rank(), tagText(tag_), r, tagText(theirs));
}

CommStatus PeerWindow::await(int64_t chunk) {
  using Clock = std::chrono::steady_clock;
  const uint64_t target = base_ + chunk + 1;
  const Clock::time_point start = Clock::now();
  // Errors are worded only when they happen: this is the per-chunk path.
  auto fail = [&](const std::string &why) {
    std::string msg =
        tag_.kind == WindowTag::AllReduce
            ? fmt::format("{}: {}", tagText(tag_), why)
            : fmt::format("npu.mm_all_reduce_base chunk {}: {}", chunk, why);
    comm_.abort(msg);
    return CommStatus::error(msg);
  };
  for (int r = 0; r < comm_.size(); ++r) {
    if (r == comm_.rank())
      continue;
    const PeerHeader &h = header(r);
    // Spin briefly (the peer is usually a chunk ahead or just behind),
    // then yield, then sleep: a waiting rank must not starve the one it
    // waits for when ranks outnumber cores.
    for (int64_t spins = 0;; ++spins) {
      if (h.published.load(std::memory_order_acquire) >= target) {
        if (std::string bad = disagreement(r, false); !bad.empty())
          return fail(bad);
        break;
      }
      if (spins < 2000) {
        _mm_pause();
        continue;
      }
      if (spins % 64 == 0) {
        if (std::string bad = disagreement(r, true); !bad.empty())
          return fail(bad);
        if (std::string f = comm_.failure(); !f.empty())
          return CommStatus::error(f);
        if (comm_.departed(r) &&
            h.published.load(std::memory_order_acquire) < target)
          return fail(fmt::format("rank {} exited before finishing it", r));
        if (Clock::now() - start >= comm_.timeout())
          return fail(fmt::format("timed out after {} ms waiting for rank {}",
                                  comm_.timeout().count(), r));
      }
      if (spins < 20000)
        std::this_thread::yield();
      else
        std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
  }
  return CommStatus::success();
}

} // namespace kiln::comm
