//===- MpiCollectives.cpp - the MPI backend's all-reduce and agreement ----===//
//
// reduce(): 0. headers (count, dtype, op, numerics) to and from every rank,
// so a mismatch fails everywhere with one message before data moves;
// 1. reduce-scatter: rank s receives slice s of every buffer and reduces it
// in rank order (runtime/comm/Reduce.h, as the in-process backend does);
// 2. all-gather of the reduced slices. agreeOnText(): every rank's string
// to every rank, compared with rank 0's.
//
//===----------------------------------------------------------------------===//
#include "runtime/mpi/MpiComm.h"

#include <climits>

namespace kiln::comm::mpi {

CommStatus MpiComm::reduce(Task &t) {
  if (size_ == 1)
    return CommStatus::success();
  std::string what = describe(t.seq, t.count, t.spec);
  Clock::time_point deadline = Clock::now() + timeout();
  int64_t bytes = elementBytes(t.spec.dtype);
  if (t.count * bytes > INT_MAX)
    return CommStatus::error(what + ": more than 2 GiB in one collective");
  // 0. Headers.
  std::vector<Header> hdr(size_);
  hdr[rank_] = headerOf(t.count, t.spec);
  std::vector<MPI_Request> reqs;
  std::vector<int> peer;
  for (int p = 0; p < size_; ++p) {
    if (p == rank_)
      continue;
    reqs.resize(reqs.size() + 2);
    peer.insert(peer.end(), {p, p});
    MPI_Irecv(&hdr[p], sizeof(Header), MPI_BYTE, p, dataTag(t.seq, 0),
              MPI_COMM_WORLD, &reqs[reqs.size() - 2]);
    MPI_Isend(&hdr[rank_], sizeof(Header), MPI_BYTE, p, dataTag(t.seq, 0),
              MPI_COMM_WORLD, &reqs.back());
  }
  if (CommStatus s = await(reqs, peer, what, deadline); !s.ok())
    return s;
  for (int r = 1; r < size_; ++r)
    if (!sameCollective(hdr[r].count, specOf(hdr[r]), hdr[0].count,
                        specOf(hdr[0]))) {
      fail(fmt::format("ranks disagree on allreduce #{}: rank 0 has {}, rank "
                       "{} has {}",
                       t.seq, describe(t.seq, hdr[0].count, specOf(hdr[0])), r,
                       describe(t.seq, hdr[r].count, specOf(hdr[r]))));
      return failed();
    }
  // 1. Reduce-scatter in rank order; 2. all-gather.
  auto lo = [&](int s) { return t.count * s / size_; };
  auto len = [&](int s) { return static_cast<int>((lo(s + 1) - lo(s)) * bytes); };
  char *data = static_cast<char *>(t.data);
  std::vector<std::vector<char>> tmp(size_);
  reqs.clear();
  for (int p = 0; p < size_; ++p) {
    if (p == rank_)
      continue;
    tmp[p].resize(len(rank_));
    reqs.resize(reqs.size() + 2);
    MPI_Irecv(tmp[p].data(), len(rank_), MPI_BYTE, p, dataTag(t.seq, 1),
              MPI_COMM_WORLD, &reqs[reqs.size() - 2]);
    MPI_Isend(data + lo(p) * bytes, len(p), MPI_BYTE, p, dataTag(t.seq, 1),
              MPI_COMM_WORLD, &reqs.back());
  }
  if (CommStatus s = await(reqs, peer, what, deadline); !s.ok())
    return s;
  std::vector<const void *> srcs;
  for (int r = 0; r < size_; ++r)
    srcs.push_back(r == rank_ ? data + lo(rank_) * bytes : tmp[r].data());
  reduceInRankOrder(srcs, data + lo(rank_) * bytes, lo(rank_ + 1) - lo(rank_),
                    t.spec);
  reqs.clear();
  for (int p = 0; p < size_; ++p) {
    if (p == rank_)
      continue;
    reqs.resize(reqs.size() + 2);
    MPI_Irecv(data + lo(p) * bytes, len(p), MPI_BYTE, p, dataTag(t.seq, 2),
              MPI_COMM_WORLD, &reqs[reqs.size() - 2]);
    MPI_Isend(data + lo(rank_) * bytes, len(rank_), MPI_BYTE, p,
              dataTag(t.seq, 2), MPI_COMM_WORLD, &reqs.back());
  }
  return await(reqs, peer, what, deadline);
}

CommStatus MpiComm::agreeOnText(Task &t) {
  std::vector<std::string> text(size_, std::string(kMaxAgree, '\0'));
  text[rank_] = t.text;
  std::vector<MPI_Request> reqs;
  std::vector<int> peer;
  for (int p = 0; p < size_; ++p) {
    if (p == rank_)
      continue;
    reqs.resize(reqs.size() + 2);
    peer.insert(peer.end(), {p, p});
    MPI_Irecv(text[p].data(), kMaxAgree, MPI_CHAR, p, kAgreeTag,
              MPI_COMM_WORLD, &reqs[reqs.size() - 2]);
    MPI_Isend(text[rank_].data(), static_cast<int>(text[rank_].size()) + 1,
              MPI_CHAR, p, kAgreeTag, MPI_COMM_WORLD, &reqs.back());
  }
  std::string what = fmt::format("agreeing on '{}'", t.text);
  if (CommStatus s = await(reqs, peer, what, Clock::now() + timeout());
      !s.ok())
    return s;
  for (std::string &s : text)
    s = s.c_str(); // up to the terminator
  for (int r = 1; r < size_; ++r)
    if (text[r] != text[0]) {
      fail(fmt::format("ranks disagree: rank 0 has {}; rank {} has {}",
                       text[0], r, text[r]));
      return failed();
    }
  return CommStatus::success();
}

} // namespace kiln::comm::mpi
